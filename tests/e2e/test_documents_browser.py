"""Documents, search and the free-flow route table in headless Chromium."""
from __future__ import annotations

import re

import pytest

from definitions import service as definitions
from definitions.bundle import read_path
from documents import extraction
from instances.models import ProcessInstance, WorkItem
from tests.conftest import ROOT
from tests.e2e import require_browser

require_browser()

from playwright.sync_api import expect  # noqa: E402

from tests.e2e.test_leave_flow import sign_in  # noqa: E402

pytestmark = pytest.mark.e2e
RULES = "客户投诉处理规定：收到投诉后四十八小时内答复客户。".encode()


def test_upload_with_progress_then_find_it_from_the_navigation_and_preview_it(live_server, new_context, tmp_path,
                                                                              artifacts):
    base = live_server.url
    page = new_context().new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    progress = []
    page.expose_function("flowdeskSawProgress", lambda value: progress.append(value))
    sign_in(page, base, "wang.fang")
    page.get_by_test_id("nav-documents").click()
    page.get_by_role("link", name="My drive").click()
    page.get_by_test_id("upload").click()
    (tmp_path / "投诉规定.txt").write_bytes(RULES)
    (tmp_path / "brochure.bin").write_bytes(bytes(range(256)) * 8000)  # 2 MB: the bar has something to show
    page.set_input_files("#fd-files", [str(tmp_path / "投诉规定.txt"), str(tmp_path / "brochure.bin")])
    # Report every value the progress bar shows, across the page change that follows the upload.
    page.evaluate("""() => {
        const box = document.querySelector('[data-fd-upload-progress]');
        new MutationObserver(() => {
            if (!box.classList.contains('d-none')) { window.flowdeskSawProgress(box.getAttribute('aria-valuenow')); }
        }).observe(box, {attributes: true});
    }""")
    page.get_by_test_id("upload-submit").click()
    expect(page.get_by_text("投诉规定.txt")).to_be_visible()
    expect(page.get_by_text("brochure.bin")).to_be_visible()
    assert progress and progress[-1] == "100", progress
    # The worker extracts the text; here the job runs once by hand.
    with live_server.database.command() as session:
        extraction.extract_pending(session=session, store_dir=live_server.app.extensions["flowdesk.settings"].var_dir
                                   / "files", limit=10)
    box = page.get_by_test_id("nav-search").locator("input")
    box.fill("四十八小时 投诉")
    box.press("Enter")
    hit = page.get_by_test_id("hit").first
    expect(hit).to_contain_text("投诉规定.txt")
    expect(hit.locator("mark").first).to_be_visible()
    page.screenshot(path=str(artifacts / "search-hits.png"), full_page=True)
    hit.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/documents/files/\d+"))
    page.get_by_role("link", name=re.compile("Preview")).first.click()
    frame = page.frame_locator("iframe").first
    expect(frame.locator("body")).to_contain_text("四十八小时内答复客户")
    assert not errors, errors


def test_the_requester_lays_out_a_route_in_the_table(live_server, new_context):
    with live_server.database.command() as session:
        definitions.deploy(session=session, files=read_path(ROOT / "bpmn" / "general_approval"), actor="admin")
    base = live_server.url
    page = new_context().new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, base, "wang.fang")
    page.goto(f"{base}/processes/general_approval/start")
    editor = page.get_by_test_id("route-editor")
    rows = editor.locator("[data-route-row]")
    expect(rows).to_have_count(1)  # the offered step; the script drops the empty rows
    editor.locator("[data-route-add]").click()
    rows.nth(1).locator("[name$='-name']").fill("Finance / 财务")
    rows.nth(1).locator("[data-route-kind]").select_option("department")
    rows.nth(1).locator("[name$='-who']").fill("finance")
    editor.locator("[data-route-add]").click()
    rows.nth(2).locator("[name$='-name']").fill("Sales head / 销售负责人")
    rows.nth(2).locator("[name$='-who']").fill("li.na")
    rows.nth(2).locator("[data-route-up]").click()  # the sales head first ...
    rows.nth(1).locator("[data-route-up]").click()  # ... even before the department head
    rows.nth(1).locator("[data-route-remove]").click()  # and the department head is not needed
    expect(rows).to_have_count(2)
    page.fill("#f-subject", "Booth at the trade fair")
    page.fill("#f-amount", "18000")
    page.get_by_test_id("submit").click()
    page.wait_for_url(re.compile(r"/instances/\d+"))
    instance_id = int(page.url.rstrip("/").split("/")[-1])
    with live_server.database.query() as session:
        assert session.get(ProcessInstance, instance_id).definition_key == "general_approval"
        [item] = session.query(WorkItem).filter_by(instance_id=instance_id, status="open").all()
        assert (item.element_id, item.assignee) == ("step_1", "li.na")
    expect(page.locator("svg").filter(has_text="Finance")).to_have_count(1)
    assert not errors, errors

"""A leave request driven through the real web app in headless Chromium: start, manager, HR group task, done."""
from __future__ import annotations

import re

import pytest
from lxml import etree
from sqlalchemy import func, select

from instances.models import ProcessInstance
from org.demo import DEMO_PASSWORD
from tests.e2e import require_browser

require_browser()

from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.e2e

SVG = "{http://www.w3.org/2000/svg}"
MANAGER_COMMENT = "Approved, enjoy the break"


def sign_in(page: Page, base: str, username: str, *, lang: str | None = "en") -> None:
    """Sign in through the login form, then switch the language with the navbar button when asked."""
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.locator("form:has(#password) button[type=submit]").click()
    expect(page.get_by_test_id("user-menu")).to_be_visible()
    if lang:
        switch_language(page, lang)


def switch_language(page: Page, lang: str) -> None:
    """Press the language button (a POST to /language with its CSRF token) unless it is already active."""
    button = page.locator(f"form[action='/language'] button[name=lang][value={lang}]")
    if "btn-light" not in (button.get_attribute("class") or "").split():
        with page.expect_navigation():
            button.click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN" if lang == "zh_CN" else "en")


def instance_count(live_server) -> int:
    with live_server.database.query() as session:
        return session.scalar(select(func.count()).select_from(ProcessInstance))


def open_task(page: Page, instance_id: int) -> int:
    """Click the inbox entry of this instance's task and return the task id."""
    link = page.locator("a[data-testid^='task-']", has_text=f"#{instance_id}")
    expect(link).to_have_count(1)
    task_id = int(link.get_attribute("data-testid").removeprefix("task-"))
    link.click()
    page.wait_for_url(re.compile(rf"/tasks/{task_id}$"))
    return task_id


def svg_elements(svg_text: str) -> dict[str, set[str]]:
    """Map each data-element-id of a rendered diagram to its CSS classes."""
    root = etree.fromstring(svg_text.encode())
    return {g.get("data-element-id"): set(g.get("class", "").split())
            for g in root.iter(f"{SVG}g") if g.get("data-element-id")}


def test_leave_request_from_start_to_hr_approval(live_server, new_context, artifacts):
    base = live_server.url

    # 1. The employee starts a leave request from the catalogue.
    employee = new_context().new_page()
    sign_in(employee, base, "wang.fang")
    expect(employee.get_by_test_id("view-mine")).to_contain_text("My tasks")
    employee.locator("nav.fd-navbar").get_by_role("link", name="Start a process").click()
    employee.get_by_test_id("start-leave_request").click()
    expect(employee.locator("h1")).to_have_text("Leave request")
    expect(employee.locator("#f-manager")).to_have_value("li.na")
    employee.select_option("#f-leave_type", "annual")
    employee.fill("#f-start_date", "2026-07-06")
    employee.fill("#f-end_date", "2026-07-08")
    employee.fill("#f-days", "3")
    employee.fill("#f-reason", "Family trip to Hangzhou")
    employee.get_by_test_id("submit").click()
    employee.wait_for_url(re.compile(r"/instances/\d+$"))
    instance_id = int(employee.url.rsplit("/", 1)[1])
    expect(employee.get_by_test_id("status")).to_have_text("Running")
    expect(employee.locator(".alert-success")).to_contain_text("Your request was submitted.")
    expect(employee.get_by_test_id("summary")).to_contain_text("Family trip to Hangzhou")
    expect(employee.get_by_test_id("timeline")).to_contain_text("Task assigned")
    waiting = employee.get_by_role("heading", name="Waiting for").locator("xpath=..")
    expect(waiting).to_contain_text(re.compile(r"Manager approval.* — li\.na"))

    # 2. The manager, in a browser context of her own, finds the task in her inbox and approves it.
    manager = new_context().new_page()
    sign_in(manager, base, "li.na")
    expect(manager.get_by_test_id("count-mine")).to_have_text("1")
    expect(manager.get_by_test_id("view-mine").locator(".badge")).to_have_text("1")
    open_task(manager, instance_id)
    expect(manager.locator("h1")).to_contain_text("Manager approval")
    expect(manager.get_by_test_id("summary")).to_contain_text("Family trip to Hangzhou")
    expect(manager.get_by_test_id("approve")).to_be_visible()
    manager.screenshot(path=str(artifacts / "e2e_task_page.png"), full_page=True)
    manager.fill("#comment", MANAGER_COMMENT)
    manager.get_by_test_id("approve").click()
    expect(manager.locator(".alert-success")).to_contain_text("Done: Manager approval")
    expect(manager.get_by_test_id("empty-inbox")).to_be_visible()
    expect(manager.get_by_test_id("count-mine")).to_have_count(0)

    # 3. HR: the task is offered to the group; claim it, then approve.
    hr = new_context().new_page()
    sign_in(hr, base, "wu.qiang")
    expect(hr.get_by_test_id("view-group").locator(".badge")).to_have_text("1")
    hr.get_by_test_id("view-group").click()
    expect(hr.locator("h1")).to_have_text("Group tasks")
    hr_task = open_task(hr, instance_id)
    expect(hr.get_by_test_id("claim")).to_be_visible()
    hr.get_by_test_id("claim").click()
    expect(hr.locator(".alert-success")).to_contain_text("The task is yours now.")
    expect(hr.get_by_test_id("claim")).to_have_count(0)
    hr.get_by_test_id("approve").click()
    expect(hr.locator(".alert-success")).to_contain_text("Done: HR approval")
    assert hr.locator(f"[data-testid=task-{hr_task}]").count() == 0

    # 4. Back to the employee: the request is completed and the diagram shows the path taken.
    employee.goto(f"{base}/instances/{instance_id}")
    expect(employee.get_by_test_id("status")).to_have_text("Completed")
    timeline = employee.get_by_test_id("timeline")
    expect(timeline).to_contain_text(MANAGER_COMMENT)
    expect(timeline).to_contain_text("Finished")
    expect(timeline.locator(".badge", has_text="Approved")).to_have_count(2)

    diagram = employee.get_by_test_id("diagram")
    expect(diagram.locator("svg")).to_have_count(1)
    # The same SVG as the page shows inline, fetched with the page's cookies and via the browser's request API.
    fetched = employee.evaluate(
        "async url => { const r = await fetch(url); return [r.status, r.headers.get('content-type'), await r.text()]; }",
        f"/instances/{instance_id}/diagram.svg")
    assert fetched[0] == 200 and fetched[1].startswith("image/svg+xml")
    response = employee.context.request.get(f"{base}/instances/{instance_id}/diagram.svg")
    assert response.ok and response.headers["content-type"].startswith("image/svg+xml")
    for svg_text in (fetched[2], response.text()):
        elements = svg_elements(svg_text)
        assert "fd-mode-progress" in etree.fromstring(svg_text.encode()).get("class").split()
        for node in ("manager_approval", "hr_approval"):
            assert "fd-state-completed" in elements[node], (node, elements[node])
        for flow in ("to_assess", "to_manager", "to_manager_decision", "manager_approved", "to_hr_decision", "hr_approved",
                     "to_approved"):
            assert "fd-taken" in elements[flow], (flow, elements[flow])
        for flow in ("manager_rejected", "hr_rejected"):
            assert "fd-muted" in elements[flow], (flow, elements[flow])
    employee.screenshot(path=str(artifacts / "e2e_instance_completed.png"), full_page=True)
    # The diagram on its own, inline in a blank page (what the <object> should show).
    svg_page = employee.context.new_page()
    svg_page.set_content(f"<!doctype html><body style='margin:8px;background:#fff'>{response.text()}</body>")
    expect(svg_page.locator("[data-element-id=hr_approval]")).to_have_class(re.compile(r"\bfd-state-completed\b"))
    svg_page.locator("svg").first.screenshot(path=str(artifacts / "e2e_instance_diagram.png"))


def test_progress_diagram_is_drawn_on_the_page(live_server, new_context):
    """The instance page shows the progress SVG inline, with the active task highlighted."""
    page = new_context().new_page()
    console = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    sign_in(page, live_server.url, "wang.fang")
    page.goto(f"{live_server.url}/processes/leave_request/start")
    page.select_option("#f-leave_type", "sick")
    page.fill("#f-start_date", "2026-08-03")
    page.fill("#f-end_date", "2026-08-03")
    page.fill("#f-days", "1")
    page.get_by_test_id("submit").click()
    page.wait_for_url(re.compile(r"/instances/\d+$"))
    page.wait_for_load_state("load")
    box = page.get_by_test_id("diagram").bounding_box()
    rendered = page.evaluate(
        "() => !!document.querySelector('[data-testid=diagram] svg .fd-state-active')")
    assert rendered and box and box["height"] > 50, (
        f"the progress diagram shows no SVG (box {box}); console: {console}")
    assert not [line for line in console if "Content Security Policy" in line or "violates" in line], console


def test_wrong_password_shows_an_error(live_server, new_context):
    page = new_context().new_page()
    page.goto(f"{live_server.url}/login")
    page.locator("form[action='/language'] button[value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.fill("#username", "wang.fang")
    page.fill("#password", "not-the-password")
    page.locator("form:has(#password) button[type=submit]").click()
    expect(page.get_by_test_id("login-error")).to_have_text("Wrong user name or password.")
    expect(page.locator("#username")).to_have_value("wang.fang")
    expect(page.locator("#password")).to_have_value("")
    expect(page.get_by_test_id("user-menu")).to_have_count(0)


def test_start_form_refuses_a_fraction_of_a_half_day(live_server, new_context):
    page = new_context().new_page()
    sign_in(page, live_server.url, "wang.fang")
    before = instance_count(live_server)
    page.goto(f"{live_server.url}/processes/leave_request/start")
    page.select_option("#f-leave_type", "personal")
    page.fill("#f-start_date", "2026-09-01")
    page.fill("#f-end_date", "2026-09-01")
    page.fill("#f-days", "0.1")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("form-errors")).to_be_visible()
    error = page.get_by_test_id("error-days")
    expect(error).to_have_text("Must be at least 0.5.")
    # next to "days": in the same field block as the days input, which is marked invalid
    field = page.locator(".mb-3", has=page.locator("#f-days"))
    expect(field.get_by_test_id("error-days")).to_have_count(1)
    expect(page.locator("#f-days")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#f-days")).to_have_value("0.1")
    expect(page.locator("#f-leave_type")).to_have_value("personal")
    assert re.search(r"/processes/leave_request/start$", page.url)
    assert instance_count(live_server) == before


def test_chinese_interface(live_server, new_context, artifacts):
    page = new_context().new_page()
    sign_in(page, live_server.url, "wang.fang", lang="en")
    expect(page.get_by_test_id("view-mine")).to_contain_text("My tasks")
    switch_language(page, "zh_CN")
    expect(page.get_by_test_id("view-mine")).to_contain_text("我的待办")
    expect(page.locator("nav.fd-navbar")).to_contain_text("发起流程")
    page.screenshot(path=str(artifacts / "e2e_inbox_zh.png"), full_page=True)
    page.locator("form[action='/language'] button[value=en]").click()
    expect(page.get_by_test_id("view-mine")).to_contain_text("My tasks")

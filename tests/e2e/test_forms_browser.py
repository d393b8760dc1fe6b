"""forms.js in a real browser: detail table rows added and removed, conditional fields, the rich text editor."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from definitions import service as definitions
from definitions.bundle import read_path
from instances.models import ProcessInstance
from tests.conftest import DATA
from tests.e2e import require_browser

require_browser()

from playwright.sync_api import expect  # noqa: E402

from .test_leave_flow import sign_in  # noqa: E402

pytestmark = pytest.mark.e2e


def test_a_claim_with_rows_added_and_removed_in_the_browser(live_server, new_context, artifacts):
    with live_server.database.command() as session:
        definitions.deploy(session=session, files=read_path(DATA / "forms" / "expense_claim"), actor="admin")
    page = new_context().new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    base = live_server.url
    sign_in(page, base, "wang.fang")
    page.goto(f"{base}/processes/expense_claim/start")

    # Conditional fields follow the kind: travel shows the trip, "other" asks what kind.
    reason = page.locator("[data-fd-field=other_reason]")
    trip = page.locator("[data-fd-field=trip]")
    expect(reason).to_be_hidden()
    page.get_by_label("Travel").check()
    expect(trip).to_be_visible()
    page.get_by_label("Other", exact=True).check()
    expect(reason).to_be_visible()
    expect(trip).to_be_hidden()
    page.fill("#f-other_reason", "Conference fee")

    page.fill("#f-title", "Conference")
    page.fill("#f-manager", "li.na")
    # One blank row is drawn; the script adds two more and one is removed again.
    add = page.locator("[data-fd-add-row]")
    expect(add).to_be_visible()
    add.click()
    add.click()
    rows = page.locator("[data-fd-table=lines] tbody [data-fd-row]")
    expect(rows).to_have_count(3)
    rows.nth(1).locator("[data-fd-remove-row]").click()
    expect(rows).to_have_count(2)
    expect(rows.nth(1).locator("[data-fd-row-number]")).to_have_text("2")
    for index, (item, quantity, price) in enumerate((("Ticket", "1", "880"), ("Lunch", "3", "45.5"))):
        row = rows.nth(index)
        row.locator("input[name$='-item']").fill(item)
        row.locator("input[name$='-quantity']").fill(quantity)
        row.locator("input[name$='-unit_price']").fill(price)
    # The rich text editor writes cleaned-on-the-server HTML into the posted field.
    editor = page.locator("#f-notes-editor")
    expect(editor).to_be_visible()
    editor.click()
    page.keyboard.type("Keynote day")
    page.screenshot(path=str(artifacts / "form-expense-claim.png"), full_page=True)
    with page.expect_navigation():
        page.get_by_test_id("submit").click()
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))
    with live_server.database.query() as session:
        data = session.scalars(select(ProcessInstance).where(ProcessInstance.definition_key == "expense_claim")
                               ).one().data
    assert [row["item"] for row in data["lines"]] == ["Ticket", "Lunch"]
    assert data["total"] == "1016.50" and data["other_reason"] == "Conference fee" and "trip" not in data
    assert "Keynote day" in data["notes"]

    # The manager sees the claim read-only, may change the advance, and never sees the notes.
    manager = new_context().new_page()
    manager.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(manager, base, "li.na")
    manager.goto(f"{base}/")
    manager.locator("a[data-testid^='task-']").first.click()
    summary = manager.get_by_test_id("summary")
    expect(summary).to_contain_text("Conference fee")
    expect(summary).to_contain_text("1,016.50 CNY")
    expect(summary).not_to_contain_text("Keynote")
    expect(manager.locator("#f-advance")).to_be_editable()
    manager.fill("#f-advance", "300")
    manager.fill("#f-opinion", "Fine")
    manager.screenshot(path=str(artifacts / "form-expense-approval.png"), full_page=True)
    with manager.expect_navigation():
        manager.get_by_test_id("approve").click()
    with live_server.database.query() as session:
        data = session.scalars(select(ProcessInstance).where(ProcessInstance.definition_key == "expense_claim")
                               ).one().data
    assert data["advance"] == "300.00" and data["opinion"] == "Fine" and data["decision"] == "approve"
    assert errors == []

"""The shipped processes in headless Chromium: an expense claim (office approvals) and a complaint (customer
processes) started from their forms, and their next steps taken from the inbox."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from definitions import service as definitions
from definitions.bundle import read_path
from instances.actors import Actor
from instances.models import ProcessInstance, WorkItem
from org.grants import install_default_grants
from records import service as records
from tests.conftest import ROOT
from tests.e2e import require_browser

require_browser()

from playwright.sync_api import Page, expect  # noqa: E402

from tests.e2e.test_leave_flow import sign_in  # noqa: E402

pytestmark = pytest.mark.e2e


def choose(page: Page, name: str, value: str) -> None:
    """Pick a value of a choice field, drawn as a select or as radio buttons."""
    field = page.locator(f"select[name='{name}']")
    if field.count():
        field.select_option(value)
    else:
        page.locator(f"input[name='{name}'][value='{value}']").check()


def open_items(live_server, key: str) -> list[tuple[str, str | None, list[str]]]:
    with live_server.database.query() as session:
        instance = session.scalars(select(ProcessInstance).where(ProcessInstance.definition_key == key)).one()
        return sorted((i.element_id, i.assignee, list(i.candidate_groups or [])) for i in session.scalars(
            select(WorkItem).where(WorkItem.instance_id == instance.id, WorkItem.status == "open")))


def take_first_task(page: Page, base: str, who: str) -> None:
    sign_in(page, base, who)
    page.goto(f"{base}/")
    page.locator("a[data-testid^='task-']").first.click()
    page.wait_for_url(re.compile(r"/tasks/\d+"))


def test_an_expense_claim_from_its_form_to_finance(live_server, new_context, artifacts):
    with live_server.database.command() as session:
        definitions.deploy(session=session, files=read_path(ROOT / "bpmn" / "expense_reimbursement"), actor="admin")
    base = live_server.url
    errors: list[str] = []
    page = new_context().new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, base, "wang.fang")
    page.goto(f"{base}/processes/")
    expect(page.get_by_text(re.compile("Expense reimbursement")).first).to_be_visible()  # in the catalogue
    page.goto(f"{base}/processes/expense_reimbursement/start")
    page.fill("#f-subject", "Client visit in Suzhou / 苏州客户拜访")
    choose(page, "cost_department", "sales")
    row = page.locator("[data-fd-table=lines] tbody [data-fd-row]").first
    row.locator("input[name$='-expense_date']").fill("2026-11-20")
    row.locator("select[name$='-category']").select_option("meals")
    row.locator("input[name$='-amount']").fill("380")
    page.fill("#f-payee_name", "王芳")
    page.screenshot(path=str(artifacts / "library-expense-form.png"), full_page=True)
    with page.expect_navigation():
        page.get_by_test_id("submit").click()
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))
    expect(page.locator("svg").first).to_be_visible()
    assert [(e, a) for e, a, _g in open_items(live_server, "expense_reimbursement")] == [("superior_approval", "li.na")]

    manager = new_context().new_page()
    manager.on("pageerror", lambda exc: errors.append(str(exc)))
    take_first_task(manager, base, "li.na")
    expect(manager.get_by_test_id("summary")).to_contain_text("380")
    comment = manager.locator("#f-comment")
    if comment.count():
        comment.fill("同意")
    with manager.expect_navigation():
        manager.get_by_test_id("approve").click()
    assert [e for e, _a, _g in open_items(live_server, "expense_reimbursement")] == ["finance_review"]
    assert errors == []


def test_a_complaint_registered_and_dispatched_from_the_inbox(live_server, new_context, artifacts):
    with live_server.database.command() as session:
        records.install_core_types(session=session)
        install_default_grants(session=session)
        customer = records.create_record(session=session, type_key="customer", actor=Actor("admin", is_admin=True),
                                         data={"name": "华东精密机械有限公司"}).id
        definitions.deploy(session=session, files=read_path(ROOT / "bpmn" / "complaint_handling"), actor="admin")
    base = live_server.url
    errors: list[str] = []
    page = new_context().new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, base, "hu.yan")
    page.goto(f"{base}/processes/complaint_handling/start")
    choose(page, "customer", str(customer))
    choose(page, "channel", "phone")
    page.fill("#f-subject", "数控机床主轴异响")
    choose(page, "category", "product")
    choose(page, "severity", "major")
    choose(page, "responsible_department", "service")
    page.fill("#f-description", "客户反映主轴运转时有异响，影响加工精度。")
    with page.expect_navigation():
        page.get_by_test_id("submit").click()
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))
    assert [(e, a) for e, a, _g in open_items(live_server, "complaint_handling")] == [("dispatch", "xu.hui")]

    leader = new_context().new_page()
    leader.on("pageerror", lambda exc: errors.append(str(exc)))
    take_first_task(leader, base, "xu.hui")
    expect(leader.get_by_test_id("summary")).to_contain_text("数控机床主轴异响")
    leader.fill("#f-handler", "ma.chao")
    leader.screenshot(path=str(artifacts / "library-complaint-dispatch.png"), full_page=True)
    with leader.expect_navigation():
        leader.get_by_test_id("approve").click()
    assert [(e, a) for e, a, _g in open_items(live_server, "complaint_handling")] == [("handle", "ma.chao")]
    with live_server.database.query() as session:
        _view, found = records.list_records(session=session, type_key="complaint", actor=Actor("admin", is_admin=True))
        [complaint] = found.items
        assert complaint.data["status"] == "assigned" and complaint.data["responsible"] == "ma.chao"
    assert errors == []

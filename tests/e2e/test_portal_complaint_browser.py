"""A customer registers a complaint on the portal in headless Chromium and follows it under My complaints."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from definitions import service as definitions
from definitions.bundle import read_path
from instances.actors import Actor
from instances.models import ProcessInstance, WorkItem
from org import demo
from org import service as org
from org.grants import install_default_grants
from records import service as records
from tests.conftest import ROOT
from tests.e2e import require_browser

require_browser()

from playwright.sync_api import expect  # noqa: E402

from tests.e2e.test_leave_flow import sign_in  # noqa: E402

pytestmark = pytest.mark.e2e


def test_a_customer_registers_a_complaint_on_the_portal(live_server, new_context, artifacts):
    with live_server.database.command() as session:
        records.install_core_types(session=session)
        install_default_grants(session=session)
        definitions.deploy(session=session, files=read_path(ROOT / "bpmn" / "complaint_handling"), actor="admin")
        company = records.create_record(session=session, type_key="customer", actor=Actor("wang.fang"),
                                        data={"name": "远航物流", "account_manager": "wang.fang"})
        contact = records.create_record(session=session, type_key="contact", actor=Actor("wang.fang"),
                                        data={"name": "王经理", "customer": company.id})
        org.save_user(session=session, username="yuanhang", display_name="远航物流 王经理",
                      password=demo.DEMO_PASSWORD, kind="customer", portal_record_id=company.id,
                      portal_modules=["customer", "contact", "complaint"])
    base = live_server.url
    errors: list[str] = []
    page = new_context().new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, base, "yuanhang")
    page.get_by_test_id("nav-complaints").click()
    expect(page.get_by_test_id("no-complaints")).to_be_visible()
    page.get_by_test_id("new-complaint").click()
    expect(page.get_by_test_id("complaint-form")).to_be_visible()
    with page.expect_navigation():  # nothing filled in: the errors come back next to the fields
        page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("error-subject")).to_be_visible()
    expect(page.get_by_test_id("error-severity")).to_be_visible()
    page.screenshot(path=str(artifacts / "portal-complaint-errors.png"), full_page=True)
    page.fill("#f-subject", "Forklift hydraulics leaking")
    page.select_option("#f-category", "product")
    page.locator("input[name='severity'][value='critical']").check()
    page.select_option("#f-contact", str(contact.id))
    page.fill("#f-description", "The three forklifts delivered last week leak oil; the warehouse has stopped.")
    page.fill("#f-expectation", "An engineer on site within three days.")
    page.set_input_files("#f-files", files=[{"name": "leak.pdf", "mimeType": "application/pdf",
                                             "buffer": b"%PDF-1.4\n% evidence\n"}])
    page.screenshot(path=str(artifacts / "portal-complaint-form.png"), full_page=True)
    with page.expect_navigation():
        page.get_by_test_id("submit").click()
    expect(page).to_have_url(re.compile(r"/portal/complaints/\d+$"))
    expect(page.get_by_test_id("complaint-subject")).to_have_text("Forklift hydraulics leaking")
    expect(page.get_by_test_id("status")).to_have_text("Received")
    expect(page.get_by_test_id("complaint-files")).to_contain_text("leak.pdf")
    page.screenshot(path=str(artifacts / "portal-complaint-page.png"), full_page=True)
    with live_server.database.query() as session:
        instance = session.scalars(select(ProcessInstance)).one()
        open_items = [(i.element_id, i.assignee) for i in session.scalars(
            select(WorkItem).where(WorkItem.instance_id == instance.id, WorkItem.status == "open"))]
    assert (instance.initiator, instance.data["channel"], instance.data["registrar"]) == (
        "yuanhang", "portal", "wang.fang")
    assert open_items == [("dispatch", "xu.hui")]
    page.get_by_test_id("nav-complaints").click()
    expect(page.get_by_test_id("complaint-list")).to_contain_text("Forklift hydraulics leaking")
    page.screenshot(path=str(artifacts / "portal-complaints.png"), full_page=True)
    assert errors == []

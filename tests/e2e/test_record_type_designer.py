"""The form designer in headless Chromium: build a record type with a reference and a detail table, use it, find it."""
from __future__ import annotations

import json
import re

import pytest

from org import service as org
from records import service as records
from tests.e2e import require_browser

require_browser()

from playwright.sync_api import Locator, Page, expect  # noqa: E402

from tests.e2e.test_leave_flow import sign_in  # noqa: E402

pytestmark = pytest.mark.e2e


def add_field(page: Page, index: int, *, en: str, zh: str, kind: str, required: bool = False) -> Locator:
    """Press "Add field", fill the new card (its name follows the English label) and return the card."""
    page.get_by_test_id("add-field").click()
    card = page.get_by_test_id(f"designer-field-{index}")
    expect(card.locator("[data-prop=name]").first).to_be_focused()
    card.locator("[data-prop=en]").first.fill(en)
    card.locator("[data-prop=zh]").first.fill(zh)
    card.locator("[data-prop=kind]").first.select_option(kind)
    if required:
        card.locator("[data-prop=required]").first.check()
    return card


def add_column(card: Locator, index: int, *, en: str, zh: str, kind: str, required: bool = False) -> None:
    """Add a column to the detail table in `card` and fill it."""
    card.get_by_test_id("add-column").click()
    column = card.get_by_test_id(f"designer-column-{index}")
    column.locator("[data-prop=en]").fill(en)
    column.locator("[data-prop=zh]").fill(zh)
    column.locator("[data-prop=kind]").select_option(kind)
    if required:
        column.locator("[data-prop=required]").check()


def schema_of(page: Page) -> dict:
    return json.loads(page.locator("textarea[name=schema]").input_value())


def test_build_a_record_type_use_it_and_find_it_on_the_customer(live_server, new_context, artifacts):
    base = live_server.url
    with live_server.database.command() as session:
        records.install_core_types(session=session)
        admin = org.actor_for(org.get_user_by_name(session=session, username="admin"))
        customer_id = records.create_record(session=session, type_key="customer", actor=admin,
                                            data={"name": "华东机械有限公司", "level": "a"}).id
    page = new_context().new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    sign_in(page, base, "admin")

    # 1. The designer: names, then fields built with the buttons; the JSON and the preview follow.
    page.goto(f"{base}/admin/record-types/new")
    page.fill("#rt-key", "site_visit")
    page.fill("#rt-name", "现场拜访")
    page.fill("#rt-name_en", "Site visit")
    add_field(page, 0, en="Subject", zh="主题", kind="string", required=True)
    customer = add_field(page, 1, en="Customer", zh="客户", kind="reference", required=True)
    customer.locator("[data-prop=reference]").select_option("customer")
    notes = add_field(page, 2, en="Notes", zh="备注", kind="textarea")
    table = add_field(page, 3, en="Work done", zh="工作明细", kind="table")
    add_column(table, 0, en="Task", zh="工作内容", kind="string", required=True)
    add_column(table, 1, en="Hours", zh="工时", kind="number")

    # Reorder by keyboard: move "Notes" below the table.
    notes.locator("[data-act=down]").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("designer-field-3").locator(".fd-title").first).to_have_text("Notes")
    moved = page.get_by_test_id("designer-field-3")
    expect(moved.locator("[data-act=up]").first).to_be_focused()  # down is disabled at the end: focus stays near

    schema = schema_of(page)
    assert list(schema["properties"]) == ["subject", "customer", "work_done", "notes"]
    assert schema["required"] == ["subject", "customer"]
    assert schema["properties"]["customer"] == {"type": "integer", "minimum": 1, "title": "Customer / 客户",
                                                "x-reference": "customer"}
    lines = schema["properties"]["work_done"]["items"]
    assert list(lines["properties"]) == ["task", "hours"] and lines["required"] == ["task"]
    assert lines["properties"]["hours"]["type"] == "number"

    preview = page.get_by_test_id("preview")
    expect(preview.locator("[data-fd-field=customer] [data-fd-reference=customer]")).to_be_visible()
    expect(preview.locator("[data-fd-table=work_done] th", has_text="Hours")).to_be_visible()
    expect(preview.locator("[name=work_done-0-task]")).to_be_visible()

    # The JSON tab shows what will be saved; the list settings follow the fields.
    page.get_by_test_id("tab-json").click()
    expect(page.locator("textarea[name=schema]")).to_be_visible()
    expect(page.locator("textarea[name=schema]")).to_have_value(re.compile(r'"x-reference": "customer"'))
    page.get_by_test_id("tab-builder").click()
    page.get_by_test_id("title-field").select_option("subject")
    page.get_by_test_id("list_columns").get_by_label("Customer").check()
    page.screenshot(path=str(artifacts / "e2e_form_designer.png"), full_page=True)

    page.get_by_test_id("save").click()
    page.wait_for_url(re.compile(r"/admin/record-types/\?created=site_visit$"))
    expect(page.get_by_test_id("type-site_visit")).to_contain_text("Site visit")

    # 2. A record of the new type through the record pages (one detail row is drawn without script).
    page.goto(f"{base}/records/site_visit/new")
    page.fill("#f-subject", "年度设备巡检")
    page.select_option("#f-customer", str(customer_id))  # a few customers: picked by title from a list
    page.fill("[name=work_done-0-task]", "检查主轴")
    page.fill("[name=work_done-0-hours]", "2.5")
    page.get_by_test_id("submit").click()
    page.wait_for_url(re.compile(r"/records/site_visit/\d+$"))
    expect(page.locator("body")).to_contain_text("检查主轴")

    # 3. The customer's page lists it in the related list of the new type.
    page.goto(f"{base}/records/customer/{customer_id}")
    related = page.get_by_test_id("related-site_visit-customer")
    expect(related).to_contain_text("年度设备巡检")
    page.screenshot(path=str(artifacts / "e2e_customer_related_site_visit.png"), full_page=True)
    assert problems == [], problems  # no script error, no CSP refusal, no failed request


def _without_order(schema: dict) -> dict:
    """Drop the layout order the builder always writes (PostgreSQL's JSONB does not keep key order)."""
    out = json.loads(json.dumps(schema))
    for holder in [out, *[p.get("items") for p in out.get("properties", {}).values() if isinstance(p.get("items"), dict)]]:
        ui = holder.get("x-ui")
        if isinstance(ui, dict):
            ui.pop("order", None)
            if not ui:
                del holder["x-ui"]
    out.pop("$schema", None)
    return out


def test_the_builder_keeps_every_core_type_as_it_is(live_server, new_context):
    base = live_server.url
    with live_server.database.command() as session:
        records.install_core_types(session=session)
        schemas = {v.key: v.schema for v in records.list_types(session=session)}
    page = new_context().new_page()
    sign_in(page, base, "admin")
    page.goto(f"{base}/admin/record-types/customer/edit")
    expect(page.get_by_test_id("designer-field-0")).to_be_visible()
    for key, schema in schemas.items():
        rebuilt = page.evaluate("s => FdSchema.buildSchema(FdSchema.parseSchema(s))", schema)
        assert _without_order(rebuilt) == _without_order(schema), key

    # Saving the page untouched makes no version; editing one label in the JSON tab shows in the builder.
    page.get_by_test_id("save").click()
    expect(page.locator(".alert-info")).to_contain_text("Nothing changed")
    page.goto(f"{base}/admin/record-types/customer/edit")
    page.get_by_test_id("tab-json").click()
    text = page.locator("textarea[name=schema]").input_value().replace("Name / 客户名称", "Company name / 公司名称")
    page.locator("textarea[name=schema]").fill(text)
    page.get_by_test_id("tab-builder").click()
    expect(page.get_by_test_id("designer-field-0").locator(".fd-title")).to_have_text("Company name")
    expect(page.get_by_test_id("preview").locator("label[for=f-name]")).to_contain_text("Company name")

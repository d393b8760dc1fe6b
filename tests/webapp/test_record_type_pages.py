"""The record type designer pages: list, create, copy, new versions with migrations, dictionaries, preview."""
from __future__ import annotations

import html
import json

import pytest

from org import service as org
from records import service as records
from webapp.views.record_type_starters import STARTERS

SITE_VISIT = {
    "type": "object",
    "required": ["subject", "customer"],
    "properties": {
        "subject": {"type": "string", "title": "Subject / 主题", "maxLength": 200},
        "customer": {"type": "integer", "title": "Customer / 客户", "x-reference": "customer", "minimum": 1},
        "kind": {"type": "string", "title": "Kind / 方式", "enum": ["onsite", "online"],
                 "enumNames": ["On site / 上门", "Online / 线上"]},
        "lines": {"type": "array", "title": "Work done / 工作明细", "items": {
            "type": "object", "required": ["task"],
            "properties": {"task": {"type": "string", "title": "Task / 工作"},
                           "hours": {"type": "number", "title": "Hours / 工时", "minimum": 0}}}},
    },
    "x-ui": {"order": ["subject", "customer", "kind", "lines"]},
}


@pytest.fixture
def crm(app, db):
    """Core types and one customer of wang.fang's; returns the customer's id."""
    with db.command() as session:
        records.install_core_types(session=session)
        customer = records.create_record(session=session, type_key="customer", actor=_wang(session),
                                         data={"name": "华东机械有限公司", "level": "a"})
    return customer.id


def _wang(session):
    return org.actor_for(org.get_user_by_name(session=session, username="wang.fang"))


def _definition(**more) -> dict:
    return {"key": "site_visit", "name": "现场拜访", "name_en": "Site visit",
            "schema": json.dumps(SITE_VISIT, ensure_ascii=False), "title_field": "subject",
            "list_columns": ["subject", "customer", "owner"], "search_fields": ["subject"],
            "default_sort": "updated_at", "sort_desc": "on", **more}


def test_only_admins_reach_the_pages(app, login, crm):
    anonymous = app.test_client()
    assert anonymous.get("/admin/record-types/").status_code == 302
    client = login("wang.fang")
    for path in ("/admin/record-types/", "/admin/record-types/new", "/admin/record-types/customer/edit",
                 "/admin/record-types/dictionaries", "/admin/record-types/dictionaries/new"):
        assert client.get(path).status_code == 403, path
    for path in ("/admin/record-types/new", "/admin/record-types/preview", "/admin/record-types/customer/active",
                 "/admin/record-types/customer/edit",
                 "/admin/record-types/dictionaries/new"):
        assert client.post(path, data={"schema": "{}"}).status_code == 403, path


def test_the_list_shows_core_and_custom_types_with_versions_counts_and_actions(login, crm):
    page = login("admin").get("/admin/record-types/").get_data(as_text=True)
    row = page[page.index('data-testid="type-customer"'):]
    row = row[:row.index("</tr>")]
    assert "Customer" in row and "v1" in row and 'data-testid="count">1<' in row and "Core" in row
    assert "/admin/record-types/new?copy=customer" in row and "Switch off" in row
    assert 'href="/admin/record-types/"' in login("admin").get("/admin/").get_data(as_text=True)


def test_create_a_type_with_a_reference_and_a_detail_table_by_form_post(login, crm, db):
    client = login("admin")
    page = client.get("/admin/record-types/new").get_data(as_text=True)
    assert 'name="schema"' in page and 'data-testid="starter-request"' in page and "fd-designer-data" in page
    response = client.post("/admin/record-types/new", data=_definition())
    assert response.status_code == 302, response.get_data(as_text=True)
    with db.query() as session:
        view = records.get_type_or_raise(session=session, key="site_visit")
        assert view.type.name_en == "Site visit" and view.schema["properties"]["lines"]["items"]["required"] == ["task"]
        assert view.meta["list_columns"] == ["subject", "customer", "owner"] and view.meta["default_sort"] == "-updated_at"
    made = client.post("/records/site_visit/new", data={"subject": "年度巡检", "customer": str(crm), "kind": "onsite",
                                                         "lines-0-task": "检查主轴", "lines-0-hours": "2.5"})
    assert made.status_code == 302, made.get_data(as_text=True)
    customer = client.get(f"/records/customer/{crm}").get_data(as_text=True)
    related = customer[customer.index('data-testid="related-site_visit-customer"'):]
    assert "年度巡检" in related


def test_a_bad_schema_comes_back_with_the_field_error_and_the_input_kept(login, crm):
    client = login("admin")
    broken = json.loads(json.dumps(SITE_VISIT))
    broken["properties"]["total"] = {"type": "number", "title": "Total", "x-computed": "hours +"}
    response = client.post("/admin/record-types/new", data=_definition(schema=json.dumps(broken), name="拜访记录甲"))
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and 'data-testid="error-schema"' in body and "field &#39;total&#39;" in body
    assert '"errorField": "total"' in body and "拜访记录甲" in body and "&#34;hours +&#34;" in body
    not_json = client.post("/admin/record-types/new", data=_definition(schema='{"properties": {'))
    assert not_json.status_code == 422 and "not valid JSON" in not_json.get_data(as_text=True)
    assert '{&#34;properties&#34;: {' in not_json.get_data(as_text=True)
    taken = client.post("/admin/record-types/new", data=_definition(key="customer"))
    assert taken.status_code == 422 and 'data-testid="error-key"' in taken.get_data(as_text=True)
    unknown = client.post("/admin/record-types/new", data=_definition(title_field="nope"))
    assert unknown.status_code == 422 and 'data-testid="error-title_field"' in unknown.get_data(as_text=True)


def test_a_new_required_field_shows_the_report_then_a_default_migrates_old_records(login, crm, db):
    client = login("admin")
    assert client.post("/admin/record-types/new", data=_definition()).status_code == 302
    with db.command() as session:
        ids = [records.create_record(session=session, type_key="site_visit", actor=_wang(session),
                                     data={"subject": s, "customer": crm, "kind": "online"}).id for s in ("甲", "乙")]
    changed = json.loads(json.dumps(SITE_VISIT))
    changed["properties"]["region"] = {"type": "string", "title": "Region / 区域", "enum": ["east", "west"]}
    changed["required"].append("region")
    del changed["properties"]["kind"]
    post = _definition(schema=json.dumps(changed), note="区域必填")
    refused = client.post("/admin/record-types/site_visit/edit", data=post)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 409 and 'data-testid="migration"' in body
    assert "2 of 2 stored records" in body and f"#{ids[0]}" in body and 'name="default__region"' in body
    assert 'data-testid="drop-removed"' in body and "(kind)" in body
    wrong = client.post("/admin/record-types/site_visit/edit", data={**post, "confirm": "1", "default__region": "north"})
    assert wrong.status_code == 422 and 'data-testid="error-default__region"' in wrong.get_data(as_text=True)
    done = client.post("/admin/record-types/site_visit/edit", data={**post, "confirm": "1", "default__region": "east",
                                                                     "drop_removed": "on", "failing": "region"})
    assert done.status_code == 302, done.get_data(as_text=True)
    with db.query() as session:
        view = records.get_type_or_raise(session=session, key="site_visit")
        assert view.type.current_version == 2 and view.version.note == "区域必填"
        for record_id in ids:
            data = records.get_record_or_raise(session=session, record_id=record_id, actor=_wang(session))[0].data
            assert data["region"] == "east" and "kind" not in data
    page = client.get("/admin/record-types/site_visit/edit").get_data(as_text=True)
    assert 'data-testid="versions"' in page and "区域必填" in page


def test_saving_without_a_change_makes_no_version(login, crm, db):
    client = login("admin")
    page = client.get("/admin/record-types/contact/edit").get_data(as_text=True)
    with db.query() as session:
        view = records.get_type_or_raise(session=session, key="contact")
    assert "Name (Chinese)" in page and html.escape(view.type.name) in page
    meta = {"title_field": view.meta["title_field"], "list_columns": view.meta["list_columns"],
            "search_fields": view.meta["search_fields"]}
    response = client.post("/admin/record-types/contact/edit", data={
        "name": view.type.name, "name_en": view.type.name_en, "schema": json.dumps(view.schema), **meta,
        "default_sort": view.meta["default_sort"].lstrip("-"), "sort_desc": "on"})
    assert response.status_code == 302
    with db.query() as session:
        assert records.get_type_or_raise(session=session, key="contact").type.current_version == 1


def test_a_core_type_gets_a_custom_field_and_keeps_what_the_designer_does_not_edit(login, crm, db):
    client = login("admin")
    access = {"credit_limit": {"view": ["manager"]}}
    with db.command() as session:
        view = records.get_type_or_raise(session=session, key="customer")
        records.change_type(session=session, key="customer", schema=view.schema,
                            meta={**view.meta, "field_access": access}, actor="admin")
    page = client.get("/admin/record-types/customer/edit").get_data(as_text=True)
    assert "name=\"meta_extra\" value='{\"field_access\"" in page
    schema = json.loads(json.dumps(view.schema))
    schema["properties"]["wechat"] = {"type": "string", "title": "WeChat / 微信", "maxLength": 64}
    for extra in ({}, {"meta_extra": json.dumps({"field_access": access})}):
        schema["properties"]["wechat"]["maxLength"] += 1
        response = client.post("/admin/record-types/customer/edit", data={
            "name": view.type.name, "name_en": view.type.name_en, "schema": json.dumps(schema),
            "title_field": "name", **extra})
        assert response.status_code == 302, response.get_data(as_text=True)
        with db.query() as session:
            assert records.get_type_or_raise(session=session, key="customer").meta["field_access"] == access
    assert "wechat" in client.get(f"/records/customer/{crm}/edit").get_data(as_text=True)


def test_copy_starts_from_an_existing_schema_and_metadata(login, crm, db):
    client = login("admin")
    page = client.get("/admin/record-types/new?copy=contact").get_data(as_text=True)
    assert 'data-testid="copied-from"' in page and 'value="contact_copy"' in page and "mobile" in page
    with db.query() as session:
        source = records.get_type_or_raise(session=session, key="contact")
    response = client.post("/admin/record-types/new", data={
        "key": "contact_copy", "name": "联系人副本", "schema": json.dumps(source.schema),
        "title_field": source.meta["title_field"], "list_columns": source.meta["list_columns"]})
    assert response.status_code == 302
    with db.query() as session:
        copy = records.get_type_or_raise(session=session, key="contact_copy")
        assert copy.schema == source.schema and copy.meta["list_columns"] == source.meta["list_columns"]
    assert client.get("/admin/record-types/new?copy=nope").status_code == 404


def test_every_starter_template_opens_and_saves(login, crm, db):
    client = login("admin")
    for name, starter in STARTERS.items():
        page = client.get(f"/admin/record-types/new?starter={name}")
        assert page.status_code == 200
        if name == "blank":
            continue
        response = client.post("/admin/record-types/new", data={
            "key": f"starter_{name}", "name": starter["name"], "name_en": starter["name_en"],
            "schema": json.dumps(starter["schema"]), **starter["meta"]})
        assert response.status_code == 302, (name, response.get_data(as_text=True))
    blank = client.post("/admin/record-types/new", data={"key": "empty_one", "name": "空",
                                                         "schema": json.dumps(STARTERS["blank"]["schema"])})
    assert blank.status_code == 422 and "at least one field" in blank.get_data(as_text=True)


def test_switch_a_type_off_and_on(login, crm, db):
    client = login("admin")
    assert client.post("/admin/record-types/contact/active", data={"active": "0"}).status_code == 302
    assert 'data-testid="type-contact"' not in client.get("/records/").get_data(as_text=True)
    assert 'data-testid="inactive"' in client.get("/admin/record-types/").get_data(as_text=True)
    assert client.post("/admin/record-types/contact/active", data={"active": "1"}).status_code == 302
    with db.query() as session:
        assert records.get_type_or_raise(session=session, key="contact").type.active


def test_dictionaries_create_list_edit_and_errors(login, crm, db):
    client = login("admin")
    assert 'data-testid="no-dictionaries"' in client.get("/admin/record-types/dictionaries").get_data(as_text=True)
    form = client.get("/admin/record-types/dictionaries/new").get_data(as_text=True)
    assert 'name="items-2-value"' in form and "data-fd-item-template" in form
    created = client.post("/admin/record-types/dictionaries/new", data={
        "name": "region", "label": "区域", "label_en": "Region",
        "items-0-value": "east", "items-0-label": "华东", "items-0-label_en": "East", "items-0-active": "on",
        "items-1-value": "west", "items-1-label": "华西", "items-1-active": "on", "items-2-active": "on"})
    assert created.status_code == 302, created.get_data(as_text=True)
    listing = client.get("/admin/record-types/dictionaries").get_data(as_text=True)
    assert 'data-testid="dictionary-region"' in listing and "2 of 2 offered" in listing
    edited = client.post("/admin/record-types/dictionaries/region/edit", data={
        "label": "区域", "items-0-value": "east", "items-0-label": "华东", "items-0-active": "on",
        "items-1-value": "west", "items-1-label": "华西",
        "items-5-value": "north", "items-5-label": "华北", "items-5-active": "on"})
    assert edited.status_code == 302
    with db.query() as session:
        items = records.get_dictionary_or_raise(session=session, name="region").items
    assert [(i["value"], i["active"]) for i in items] == [("east", True), ("west", False), ("north", True)]
    twice = client.post("/admin/record-types/dictionaries/region/edit", data={
        "label": "区域", "items-0-value": "east", "items-1-value": "east"})
    assert twice.status_code == 422 and 'data-testid="error-items[1].value"' in twice.get_data(as_text=True)
    again = client.post("/admin/record-types/dictionaries/new", data={"name": "region", "label": "x",
                                                                      "items-0-value": "a"})
    assert again.status_code == 422 and 'data-testid="error-name"' in again.get_data(as_text=True)
    bad = client.post("/admin/record-types/dictionaries/new", data={"name": "Bad Name", "label": "x",
                                                                    "items-0-value": "a"})
    assert bad.status_code == 422 and 'data-testid="error-name"' in bad.get_data(as_text=True)
    assert client.get("/admin/record-types/dictionaries/nope/edit").status_code == 404


def test_the_preview_renders_the_fields_with_the_form_macros(login, crm, db):
    client = login("admin")
    with db.command() as session:
        records.save_dictionary(session=session, name="region", label="区域",
                                items=[{"value": "east", "label": "华东", "label_en": "East"}], actor="admin")
    schema = json.loads(json.dumps(SITE_VISIT))
    schema["properties"]["region"] = {"type": "string", "title": "Region / 区域", "x-dictionary": "region"}
    response = client.post("/admin/record-types/preview", data={"schema": json.dumps(schema)})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-fd-field="subject"' in body and 'data-fd-table="lines"' in body
    assert 'name="lines-0-task"' in body and 'value="east"' in body and 'data-fd-reference="customer"' in body
    assert "<html" not in body
    for half_written in ('{"properties": {"a": {"type": "nope"}}}', '{"properties": {"a": {"enum": 5}}}', '{"pro'):
        broken = client.post("/admin/record-types/preview", data={"schema": half_written})
        assert broken.status_code == 200 and 'data-testid="preview-problem"' in broken.get_data(as_text=True)
    no_js = client.post("/admin/record-types/new", data=_definition(action="preview"))
    assert no_js.status_code == 200 and 'data-fd-table="lines"' in no_js.get_data(as_text=True)
    with db.query() as session:
        assert "site_visit" not in [v.key for v in records.list_types(session=session)]


def test_the_designer_speaks_chinese(login, crm):
    page = login("admin", lang="zh_CN").get("/admin/record-types/new").get_data(as_text=True)
    assert "新建记录类型" in page and "添加字段" in page


def test_a_record_type_downloads_as_a_process_form(login, app, db):
    import json

    from forms.schema import load_schema
    from records import service as record_service
    with db.command() as session:
        record_service.install_core_types(session=session)
    response = login("admin").get("/admin/record-types/order/form.json")
    assert response.status_code == 200 and "attachment; filename=order.json" in response.headers["Content-Disposition"]
    schema = load_schema(response.data)
    assert schema["title"] == "Order / 订单" and "lines" in schema["properties"]
    assert json.loads(response.data)["properties"]["total"]["x-computed"] == "sum_column(lines, 'amount')"
    assert login("admin").get("/admin/record-types/nope/form.json").status_code == 404
    assert login("wang.fang").get("/admin/record-types/order/form.json").status_code == 403

"""The API's record types, records and dictionaries: lists, lock versions, history, related lists, type changes."""
from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from records import service as records

from .test_api import assert_error, sign_in, start_leave
from .test_api_contract import BODIES, PREFIX, _routes

# The contract test leaves these routes to this file, which runs them on a database with the core types.
RECORD_PATHS = ("/record-types", "/records/", "/dictionaries")
PROJECT = {"type": "object", "required": ["name"],
           "properties": {"name": {"type": "string", "maxLength": 100},
                          "budget": {"type": "string", "format": "money", "pattern": r"^[0-9]{1,10}(\.[0-9]{1,2})?$"},
                          "customer": {"type": "integer", "x-reference": "customer"}}}


@pytest.fixture
def core(app, db):
    """The app with the core record types installed (the app factory does not install them)."""
    with db.command() as session:
        records.install_core_types(session=session)
    return app


@pytest.fixture
def admin(client, core):
    return sign_in(client, "admin")


@pytest.fixture
def anna(client, core):
    """An employee (wang.fang)."""
    return sign_in(client, "wang.fang")


@pytest.fixture
def ben(client, core):
    """Another employee, who neither owns nor created anna's records (liu.yang)."""
    return sign_in(client, "liu.yang")


def send(api, method: str, path: str, headers: dict | None = None, **kwargs):
    """Send any method with the token (and more headers)."""
    return api.client.open(f"{PREFIX}{path}", method=method, headers={**api.headers, **(headers or {})}, **kwargs)


def create(api, type_key: str, data: dict, **more) -> dict:
    """Create a record and return it."""
    response = api.post(f"/records/{type_key}", json={"data": data, **more})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def names(page: dict) -> list[str]:
    return [item["title"] for item in page["items"]]


def test_record_types_list_and_describe(anna):
    listed = anna.get("/record-types").get_json()
    keys = [t["key"] for t in listed["items"]]
    assert {"customer", "contact", "order", "payment", "complaint", "activity"} <= set(keys)
    assert listed["total"] == len(keys) and all(t["core"] for t in listed["items"])
    customer = next(t for t in listed["items"] if t["key"] == "customer")
    assert customer["name"] == "客户" and customer["name_en"] == "Customer" and customer["version"] == 1
    assert customer["meta"]["title_field"] == "name" and "schema" not in customer
    detail = anna.get("/record-types/customer").get_json()
    assert "name" in detail["schema"]["properties"] and detail["versions"][0]["version"] == 1
    assert detail["current_version"] == 1 and detail["meta"]["search_fields"][0] == "name"
    assert_error(anna.get("/record-types/nothing"), 404, "not_found")
    assert_error(anna.get("/record-types/customer?version=9"), 404, "not_found")
    assert assert_error(anna.get("/record-types/customer?version=x"), 400)["details"]["field"] == "version"


def test_only_admins_change_record_types_and_dictionaries(anna, admin):
    body = {"key": "project", "name": "项目", "schema": PROJECT}
    assert_error(anna.post("/record-types", json=body), 403, "forbidden")
    assert_error(send(anna, "PUT", "/record-types/customer", json={"schema": PROJECT}), 403, "forbidden")
    assert_error(anna.post("/record-types/customer/active", json={"active": False}), 403, "forbidden")
    assert_error(send(anna, "PUT", "/dictionaries/regions", json={"label": "地区", "items": [{"value": "east"}]}),
                 403, "forbidden")
    assert "project" not in [t["key"] for t in admin.get("/record-types").get_json()["items"]]
    assert admin.get("/record-types/customer").get_json()["current_version"] == 1
    assert_error(admin.get("/dictionaries/regions"), 404)


def test_create_a_record_type_and_switch_it_off(anna, admin):
    response = admin.post("/record-types", json={"key": "project", "name": "项目", "name_en": "Project",
                                                  "schema": PROJECT, "meta": {"title_field": "name",
                                                                              "default_sort": "name"}})
    assert response.status_code == 201 and response.headers["Location"].endswith("/api/v1/record-types/project")
    created = response.get_json()
    assert created["version"] == 1 and created["core"] is False and created["meta"]["title_field"] == "name"
    assert created["meta"]["default_sort"] == "name" and created["schema"] == PROJECT
    assert_error(admin.post("/record-types", json={"key": "project", "name": "x", "schema": PROJECT}), 409,
                 "duplicate")
    cases = [({"key": "Bad Key", "name": "x", "schema": PROJECT}, "key"),
             ({"key": "p2", "name": "x", "schema": "{}"}, "schema"),
             ({"key": "p2", "name": "x", "schema": {"type": "object", "properties": {}}}, "schema"),
             ({"key": "p2", "name": "", "schema": PROJECT}, "name"),
             ({"key": "p2", "name": 5, "schema": PROJECT}, "name"),
             ({"key": "p2", "name": "x", "schema": PROJECT, "meta": {"title_field": "nope"}}, "meta.title_field"),
             ({"key": "p2", "name": "x", "schema": PROJECT, "meta": []}, "meta"),
             ({"key": "p2", "name": "x", "schema": {"type": "object", "properties": {
                 "c": {"type": "integer", "x-reference": "nowhere"}}}}, "schema.c"),
             ({"key": "p2", "name": "x", "schema": PROJECT, "extra": 1}, "extra")]
    for body, field in cases:
        assert assert_error(admin.post("/record-types", json=body), 400)["details"]["field"] == field, body
    project = create(anna, "project", {"name": "ERP 上线"})
    off = admin.post("/record-types/project/active", json={"active": False}).get_json()
    assert off["active"] is False
    assert "project" not in [t["key"] for t in anna.get("/record-types").get_json()["items"]]
    assert "project" in [t["key"] for t in anna.get("/record-types?inactive=1").get_json()["items"]]
    error = assert_error(anna.post("/records/project", json={"data": {"name": "again"}}), 400)
    assert error["details"]["field"] == "type"
    # Its records stay readable.
    assert anna.get(f"/records/project/{project['id']}").get_json()["data"] == {"name": "ERP 上线"}
    assert admin.post("/record-types/project/active", json={"active": True}).get_json()["active"] is True
    assert assert_error(admin.post("/record-types/project/active", json={"active": "no"}), 400)["details"] == \
        {"field": "active"}
    assert_error(admin.post("/record-types/nothing/active", json={"active": True}), 404)


def test_an_incompatible_type_change_answers_409_with_the_report_then_migrates(anna, admin):
    admin.post("/record-types", json={"key": "project", "name": "项目", "schema": PROJECT,
                                      "meta": {"title_field": "name"}})
    first = create(anna, "project", {"name": "一号", "budget": "100"})
    create(anna, "project", {"name": "二号"})
    stricter = {**PROJECT, "required": ["name", "stage"],
                "properties": {**PROJECT["properties"], "stage": {"type": "string", "enum": ["new", "done"]}}}
    error = assert_error(send(admin, "PUT", "/record-types/project", json={"schema": stricter}), 409,
                         "incompatible_change")
    details = error["details"]
    assert details["checked"] == 2 and details["failing"] == 2 and details["field"] == "schema"
    assert details["examples"][0]["field"] == "stage" and {"filled", "dropped"} <= set(details)
    assert "2 of 2" in error["message"]
    # Defaults make the records valid, but rewriting them needs the admin's confirmation.
    error = assert_error(send(admin, "PUT", "/record-types/project", json={"schema": stricter,
                                                                            "defaults": {"stage": "new"}}), 409)
    assert error["details"]["failing"] == 0 and error["details"]["filled"] == 2 and "confirm" in error["message"]
    assert admin.get("/record-types/project").get_json()["current_version"] == 1
    assert anna.get(f"/records/project/{first['id']}").get_json()["data"] == {"name": "一号", "budget": "100.00"}  # money is kept canonical
    bad = [({"schema": stricter, "defaults": {"nope": 1}}, "defaults"), ({"schema": stricter, "defaults": []},
                                                                         "defaults"),
           ({"schema": stricter, "confirm": "yes"}, "confirm"), ({"schema": stricter, "drop_removed": 1},
                                                                 "drop_removed"),
           ({"defaults": {"stage": "new"}}, "schema"), ({"schema": None}, "schema"), ({"schema": [1]}, "schema"),
           ({"schema": stricter, "key": "other"}, "key")]
    for body, field in bad:
        assert assert_error(send(admin, "PUT", "/record-types/project", json=body), 400)["details"]["field"] == \
            field, body
    changed = send(admin, "PUT", "/record-types/project", json={"schema": stricter, "defaults": {"stage": "new"},
                                                                 "confirm": True, "name_en": "Project",
                                                                 "note": "stages"})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    body = changed.get_json()
    assert body["report"] == {"checked": 2, "failing": 0, "examples": [], "filled": 2, "dropped": 0}
    assert body["version"] == 2 and body["name_en"] == "Project" and body["name"] == "项目"
    assert [v["version"] for v in body["versions"]] == [2, 1] and body["versions"][0]["note"] == "stages"
    assert anna.get(f"/records/project/{first['id']}").get_json()["data"]["stage"] == "new"
    assert admin.get("/record-types/project?version=1").get_json()["schema"] == PROJECT
    # A field removed with drop_removed and confirm leaves the stored values.
    lean = {**stricter, "properties": {k: v for k, v in stricter["properties"].items() if k != "budget"}}
    report = send(admin, "PUT", "/record-types/project", json={"schema": lean, "drop_removed": True,
                                                                "confirm": True}).get_json()["report"]
    assert report["dropped"] == 1
    assert "budget" not in anna.get(f"/records/project/{first['id']}").get_json()["data"]
    assert_error(send(admin, "PUT", "/record-types/nothing", json={"schema": PROJECT}), 404)


def test_create_get_patch_and_put_with_lock_versions(anna, ben, admin):
    response = anna.post("/records/customer", json={"data": {"name": "华东机械有限公司", "level": "b"}})
    assert response.status_code == 201
    record = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/records/customer/{record['id']}")
    assert response.headers["ETag"] == '"1"'
    assert record["type"] == "customer" and record["title"] == "华东机械有限公司" and record["lock_version"] == 1
    assert record["owner"] == record["created_by"] == record["updated_by"] == "wang.fang"
    assert record["department_id"] is not None and record["deleted_at"] is None and record["type_version"] == 1
    path = f"/records/customer/{record['id']}"
    got = anna.get(path)
    assert got.get_json() == record and got.headers["ETag"] == '"1"'
    # No lock version: 428, nothing changed.
    error = assert_error(send(anna, "PATCH", path, json={"data": {"phone": "1"}}), 428, "precondition_required")
    assert error["details"]["field"] == "lock_version" and "lock_version" in error["message"]
    assert_error(send(anna, "PUT", path, json={"data": {"name": "x"}}), 428)
    changed = send(anna, "PATCH", path, json={"data": {"phone": "021-1234"}, "lock_version": 1})
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'
    assert changed.get_json()["data"] == {"name": "华东机械有限公司", "level": "b", "phone": "021-1234"}
    # A stale edit is a conflict and overwrites nothing.
    error = assert_error(send(admin, "PATCH", path, json={"data": {"phone": "010"}, "lock_version": 1}), 409,
                         "stale_edit")
    assert error["details"]["lock_version"] == 2 and error["details"]["updated_by"] == "wang.fang"
    assert_error(send(admin, "PATCH", path, headers={"If-Match": '"1"'}, json={"data": {"phone": "010"}}), 409)
    assert anna.get(path).get_json()["data"]["phone"] == "021-1234"
    # If-Match carries the lock version too, strong or weak.
    changed = send(admin, "PATCH", path, headers={"If-Match": '"2"'}, json={"data": {"level": "a"}})
    assert changed.status_code == 200 and changed.get_json()["lock_version"] == 3
    changed = send(anna, "PATCH", path, headers={"If-Match": 'W/"3"'}, json={"data": {"phone": None}})
    assert changed.get_json()["data"] == {"name": "华东机械有限公司", "level": "a"}
    # The same values again change nothing, not even the lock version.
    same = send(anna, "PATCH", path, json={"data": {"level": "a"}, "lock_version": 4}).get_json()
    assert same["lock_version"] == 4
    for headers, body, field in [({"If-Match": "*"}, {"data": {}}, "If-Match"),
                                 ({"If-Match": "abc"}, {"data": {}}, "If-Match"),
                                 ({"If-Match": "\u00ff"}, {"data": {}}, "If-Match"),
                                 ({"If-Match": "9" * 40}, {"data": {}}, "If-Match"),
                                 ({"If-Match": '"4", "5"'}, {"data": {}}, "If-Match"),
                                 ({"If-Match": '"3"'}, {"data": {}, "lock_version": 4}, "lock_version"),
                                 ({}, {"data": {}, "lock_version": "4"}, "lock_version"),
                                 ({}, {"data": {}, "lock_version": True}, "lock_version"),
                                 ({}, {"data": {}, "lock_version": -1}, "lock_version"),
                                 ({}, {"data": {}, "lock_version": 2**40}, "lock_version"),
                                 ({}, {"data": {}, "lock_version": 4.5}, "lock_version"),
                                 ({}, {"data": [], "lock_version": 4}, "data"),
                                 ({}, {"lock_version": 4}, "data"),
                                 ({}, {"data": {}, "lock_version": 4, "owner": "x"}, "owner")]:
        error = assert_error(send(anna, "PATCH", path, headers=headers, json=body), 400)
        assert error["details"]["field"] == field, (headers, body)
    # Invalid data names each field (422) and leaves the record alone.
    error = assert_error(send(anna, "PATCH", path, json={"data": {"level": "z", "colour": "red"}, "lock_version": 4}),
                         422)
    assert set(error["details"]) == {"level", "colour"}
    # PUT replaces the data whole; fields left out are gone.
    replaced = send(anna, "PUT", path, json={"data": {"name": "华东机械", "industry": "manufacturing"},
                                             "lock_version": 4})
    assert replaced.status_code == 200
    assert replaced.get_json()["data"] == {"name": "华东机械", "industry": "manufacturing"}
    assert replaced.get_json()["title"] == "华东机械" and replaced.get_json()["lock_version"] == 5
    assert "name" in assert_error(send(anna, "PUT", path, json={"data": {"industry": "retail"},
                                                                 "lock_version": 5}), 422)["details"]
    # Someone who neither owns nor created the record may read it but not change it.
    assert ben.get(path).status_code == 200
    assert_error(send(ben, "PATCH", path, json={"data": {"phone": "9"}, "lock_version": 5}), 403, "forbidden")


def test_create_validates_data_and_owner(anna, ben):
    cases = [({"data": {"level": "a"}}, 422, "name"), ({"data": {"name": "x", "nope": 1}}, 422, "nope"),
             ({"data": {"name": 5}}, 422, "name"), ({"data": {"name": "x" * 300}}, 422, "name"),
             ({"data": {"name": "x", "credit_limit": 12.5}}, 422, "credit_limit"),
             ({"data": "x"}, 400, "data"), ({}, 400, "data"), ({"data": {"name": "x"}, "owner": 5}, 400, "owner"),
             ({"data": {"name": "x"}, "owner": "nobody"}, 404, "owner"),
             ({"data": {"name": "x"}, "lock_version": 1}, 400, "lock_version")]
    for body, status, field in cases:
        error = assert_error(anna.post("/records/customer", json=body), status)
        assert field in (error["details"] if status == 422 else [error["details"]["field"]]), (body, error)
    assert_error(anna.post("/records/nothing", json={"data": {"name": "x"}}), 404, "not_found")
    assert anna.get("/records/customer").get_json()["total"] == 0
    # An owner may be named; the record belongs to their department.
    given = create(anna, "customer", {"name": "给别人的客户"}, owner="liu.yang")
    assert given["owner"] == "liu.yang" and given["created_by"] == "wang.fang"
    assert send(ben, "DELETE", f"/records/customer/{given['id']}").status_code == 200


def test_list_filters_sort_search_columns_and_pages(anna, ben):
    rows = [("华东零售集团", "retail", "a", "5000", "021-1"), ("北方零售有限公司", "retail", "b", "800", None),
            ("星辰制造", "manufacturing", "a", "12000.50", "010-2"), ("Acme Finance", "finance", "c", None, None),
            ("蓝海教育", "education", "d", "300", "020-3")]
    for name, industry, level, limit, phone in rows:
        data = {"name": name, "industry": industry, "level": level}
        data.update({"credit_limit": limit} if limit else {})
        data.update({"phone": phone} if phone else {})
        create(anna if level != "d" else ben, "customer", data)

    def listed(query: str) -> dict:
        response = anna.get(f"/records/customer?{query}")
        assert response.status_code == 200, (query, response.get_data(as_text=True))
        return response.get_json()

    assert sorted(names(listed("f.industry=retail"))) == ["北方零售有限公司", "华东零售集团"]
    assert sorted(names(listed("q=零售&sort=name"))) == ["北方零售有限公司", "华东零售集团"]
    assert names(listed("q=acme")) == ["Acme Finance"]
    assert listed("q=零售 华东")["total"] == 1
    assert sorted(names(listed("f.level__in=a,b"))) == sorted(["华东零售集团", "北方零售有限公司", "星辰制造"])
    assert names(listed("f.credit_limit__gte=1000&sort=-credit_limit")) == ["星辰制造", "华东零售集团"]
    assert names(listed("f.credit_limit__lte=800&sort=credit_limit")) == ["蓝海教育", "北方零售有限公司"]
    assert names(listed("f.credit_limit__empty=1")) == ["Acme Finance"]
    assert listed("f.phone__set=1")["total"] == 3
    assert listed("f.level__ne=a")["total"] == 3
    assert names(listed("f.name__contains=制造")) == ["星辰制造"]
    assert names(listed("f.name__contains=acme")) == ["Acme Finance"]
    assert names(listed("f.owner=liu.yang")) == ["蓝海教育"]
    assert listed("f.industry=retail&f.level=b")["total"] == 1
    assert listed("f.name__contains=%25")["total"] == 0
    # Sort, pages and columns.
    ordered = names(listed("sort=credit_limit&page_size=10"))
    assert ordered[:4] == ["蓝海教育", "北方零售有限公司", "华东零售集团", "星辰制造"] and ordered[4] == "Acme Finance"
    first, second = listed("sort=name&page_size=2"), listed("sort=name&page_size=2&page=2")
    assert first["total"] == 5 and first["pages"] == 3 and first["page_size"] == 2 and len(first["items"]) == 2
    assert not set(names(first)) & set(names(second))
    assert listed("sort=name&page_size=2&page=9")["items"] == []
    narrow = listed("columns=name,level&f.industry=finance")
    assert narrow["items"][0]["data"] == {"name": "Acme Finance", "level": "c"}
    assert narrow["columns"] == ["name", "level"] and narrow["type"] == "customer"
    assert listed("")["columns"] == ["name", "industry", "level", "status", "account_manager", "updated_at"]
    # Bad filters, sorts and columns answer 400 naming the field.
    for query, field in [("f.nope=1", "nope"), ("f.level__bogus=a", "level"), ("f.credit_limit__gte=abc",
                                                                               "credit_limit"),
                         ("f.credit_limit__gte=nan", "credit_limit"), ("f.credit_limit__in=1,x", "credit_limit"),
                         ("f.credit_limit__contains=1", "credit_limit"), ("f.created_at__gte=2026-01-01",
                                                                          "created_at"),
                         ("sort=nope", "sort"), ("sort=--name", "sort"), ("columns=name,nope", "columns"),
                         ("q=" + "x" * 201, "q"), ("f.=1", "f."), ("page=0", "page"), ("page_size=500", "page_size"),
                         ("deleted=maybe", "deleted"), ("f.name=" + "x" * 1001, "name")]:
        error = assert_error(anna.get(f"/records/customer?{query}"), 400)
        assert error["details"]["field"] == field, (query, error)
    assert_error(anna.get("/records/nothing"), 404, "not_found")


def test_filters_on_numbers_booleans_references_and_lists(anna):
    customer = create(anna, "customer", {"name": "华东机械"})
    other = create(anna, "customer", {"name": "西部电子"})
    create(anna, "contact", {"name": "张三", "customer": customer["id"], "primary": True})
    create(anna, "contact", {"name": "李四", "customer": customer["id"], "primary": False})
    wang = create(anna, "contact", {"name": "王五", "customer": other["id"]})
    create(anna, "order", {"number": "SO-1", "customer": customer["id"],
                           "lines": [{"item": "泵", "quantity": 2, "unit_price": "10.00"}]})

    def titles(query: str) -> list[str]:
        response = anna.get(query)
        assert response.status_code == 200, (query, response.get_data(as_text=True))
        return sorted(names(response.get_json()))

    assert titles(f"/records/contact?f.customer={customer['id']}") == ["张三", "李四"]
    assert titles(f"/records/contact?f.customer__in={customer['id']},{other['id']}") == ["张三", "李四", "王五"]
    assert titles("/records/contact?f.primary=true") == ["张三"]
    assert titles("/records/contact?f.primary=false") == ["李四"]
    assert titles("/records/contact?f.primary=TRUE") == ["张三"]
    assert titles("/records/contact?f.primary__in=true,no") == ["张三", "李四"]
    assert titles("/records/contact?f.primary__empty=1") == ["王五"]
    assert titles(f"/records/contact?f.id={wang['id']}") == ["王五"]
    assert titles("/records/order?f.lines__set=1") == ["SO-1"]
    for query, field in [("f.primary=perhaps", "primary"), ("f.primary__gte=1", "primary"), ("f.primary__ne=true", "primary"),
                         ("f.customer=abc", "customer"), ("f.customer__contains=1", "customer"),
                         ("f.id=x", "id")]:
        assert assert_error(anna.get(f"/records/contact?{query}"), 400)["details"]["field"] == field, query
    assert assert_error(anna.get("/records/order?f.lines=1"), 400)["details"]["field"] == "lines"


def test_delete_restore_and_the_recycle_bin(anna, ben, admin):
    record = create(anna, "customer", {"name": "待删除客户"})
    path = f"/records/customer/{record['id']}"
    assert_error(send(ben, "DELETE", path), 403, "forbidden")
    assert_error(send(anna, "DELETE", path, headers={"If-Match": '"7"'}), 409, "stale_edit")
    deleted = send(anna, "DELETE", path, headers={"If-Match": '"1"'})
    assert deleted.status_code == 200 and deleted.get_json()["deleted_at"] and deleted.get_json()["deleted_by"] == \
        "wang.fang"
    assert_error(anna.get(path), 404, "not_found")
    assert_error(send(anna, "PATCH", path, json={"data": {"phone": "1"}, "lock_version": 2}), 404)
    assert_error(send(anna, "DELETE", path), 404)
    assert anna.get("/records/customer").get_json()["total"] == 0
    binned = anna.get("/records/customer?deleted=1").get_json()
    assert [i["id"] for i in binned["items"]] == [record["id"]]
    assert anna.get(f"{path}/history").status_code == 200
    assert_error(ben.post(f"{path}/restore"), 403, "forbidden")
    assert assert_error(anna.post(f"{path}/restore", json={"x": 1}), 400)["details"]["field"] == "x"
    restored = anna.post(f"{path}/restore")
    assert restored.status_code == 200 and restored.get_json()["deleted_at"] is None
    assert anna.get(path).status_code == 200 and anna.get("/records/customer?deleted=1").get_json()["total"] == 0
    # Restoring a live record changes nothing; admins may delete anyone's records.
    assert anna.post(f"{path}/restore").status_code == 200
    assert send(admin, "DELETE", path).status_code == 200
    assert [e["action"] for e in anna.get(f"{path}/history").get_json()["items"]] == \
        ["deleted", "restored", "deleted", "created"]


def test_history_is_field_level(anna, admin):
    record = create(anna, "customer", {"name": "华东机械", "level": "c"})
    path = f"/records/customer/{record['id']}"
    send(admin, "PATCH", path, json={"data": {"level": "a", "phone": "1"}, "lock_version": 1})
    entries = anna.get(f"{path}/history").get_json()["items"]
    assert [e["action"] for e in entries] == ["updated", "created"]
    assert entries[0]["actor"] == "admin" and entries[0]["instance_id"] is None
    assert entries[0]["changes"] == [{"field": "level", "before": "c", "after": "a"},
                                     {"field": "phone", "before": None, "after": "1"}]
    assert {"field": "name", "before": None, "after": "华东机械"} in entries[1]["changes"]
    assert len(anna.get(f"{path}/history?limit=1").get_json()["items"]) == 1
    assert assert_error(anna.get(f"{path}/history?limit=0"), 400)["details"]["field"] == "limit"


def test_related_lists_from_contact_to_customer(anna, ben):
    customer = create(anna, "customer", {"name": "华东机械"})
    other = create(anna, "customer", {"name": "西部电子"})
    zhang = create(anna, "contact", {"name": "张三", "customer": customer["id"]})
    create(ben, "contact", {"name": "李四", "customer": customer["id"]})
    create(anna, "contact", {"name": "王五", "customer": other["id"]})
    create(anna, "order", {"number": "SO-1", "customer": customer["id"]})
    path = f"/records/customer/{customer['id']}/related"
    lists = {(r["type"], r["field"]): r for r in anna.get(path).get_json()["items"]}
    contacts = lists[("contact", "customer")]
    assert contacts["count"] == 2 and sorted(i["title"] for i in contacts["items"]) == ["张三", "李四"]
    assert contacts["type_name"] == "联系人" and contacts["type_name_en"] == "Contact"
    assert lists[("order", "customer")]["count"] == 1
    # Types that could refer to the customer but do not yet give empty lists.
    assert lists[("contract", "customer")] == {**lists[("contract", "customer")], "count": 0, "items": []}
    assert lists[("payment", "customer")]["count"] == 0
    # The link to the whole list is a filtered list.
    url = contacts["list_url"]
    assert url.startswith("/api/v1/records/contact?")
    full = anna.client.get(url, headers=anna.headers).get_json()
    assert full["total"] == 2
    assert all(len(r["items"]) <= 1 for r in anna.get(f"{path}?per_list=1").get_json()["items"])
    # A deleted contact leaves the list; a contact cannot point at a missing or wrong-type record.
    send(anna, "DELETE", f"/records/contact/{zhang['id']}")
    lists = {(r["type"], r["field"]): r for r in anna.get(path).get_json()["items"]}
    assert lists[("contact", "customer")]["count"] == 1
    for target in (999999, zhang["id"], other["id"] + 1000):
        error = assert_error(anna.post("/records/contact", json={"data": {"name": "x", "customer": target}}), 422)
        assert "customer" in error["details"]
    assert_error(anna.get(f"/records/customer/{zhang['id']}/related"), 404)
    assert_error(anna.get(f"{path}?per_list=99"), 400)


def test_processes_that_touched_a_record(client, anna, ben, db):
    customer = create(anna, "customer", {"name": "华东机械"})
    started = start_leave(anna)
    with db.command() as session:
        records.link_process(session=session, record_id=customer["id"], instance_id=started["id"], relation="linked")
    path = f"/records/customer/{customer['id']}/processes"
    items = anna.get(path).get_json()["items"]
    assert [(i["id"], i["relation"], i["process"]) for i in items] == [(started["id"], "linked", "leave_request")]
    # Someone who may not see the instance sees the record but not the process.
    assert ben.get(path).get_json()["items"] == []
    assert sign_in(client, "li.na").get(path).get_json()["items"][0]["id"] == started["id"]
    assert_error(anna.get(f"/records/contact/{customer['id']}/processes"), 404)


def test_guessed_ids_other_types_and_deleted_records_are_404(anna):
    customer = create(anna, "customer", {"name": "华东机械"})
    gone = create(anna, "customer", {"name": "已删除"})
    send(anna, "DELETE", f"/records/customer/{gone['id']}")
    # A missing id, an id of another type and a deleted record answer alike.
    answers = []
    for type_key, record_id in (("contact", 999999), ("contact", customer["id"]), ("customer", gone["id"]),
                                ("customer", 999999)):
        error = assert_error(anna.get(f"/records/{type_key}/{record_id}"), 404, "not_found")
        assert error["details"] == {"id": record_id}
        answers.append(error["message"].replace(str(record_id), "ID").replace(type_key, "TYPE"))
    assert len(set(answers)) == 1, answers
    assert_error(anna.get("/records/customer/99999999999999999999"), 404, "not_found")
    assert "nothing" in assert_error(anna.get(f"/records/nothing/{customer['id']}"), 404)["message"]
    for method in ("PATCH", "PUT"):
        assert_error(send(anna, method, f"/records/contact/{customer['id']}",
                          json={"data": {"name": "x"}, "lock_version": 1}), 404)
    assert_error(send(anna, "DELETE", f"/records/contact/{customer['id']}"), 404)
    assert_error(anna.post(f"/records/contact/{customer['id']}/restore"), 404)
    assert_error(anna.get(f"/records/contact/{customer['id']}/history"), 404)
    assert anna.get(f"/records/customer/{customer['id']}").get_json()["data"] == {"name": "华东机械"}


def test_dictionaries(anna, admin):
    assert anna.get("/dictionaries").get_json() == {"items": [], "total": 0}
    body = {"label": "地区", "label_en": "Regions", "items": [{"value": "east", "label": "华东", "label_en": "East"},
                                                            {"value": "west", "label": "华西"}]}
    created = send(admin, "PUT", "/dictionaries/regions", json=body)
    assert created.status_code == 201
    assert created.get_json()["items"][1] == {"value": "west", "label": "华西", "label_en": "", "active": True}
    body["items"][1]["active"] = False
    changed = send(admin, "PUT", "/dictionaries/regions", json={**body, "note": "west closed"})
    assert changed.status_code == 200 and changed.get_json()["items"][1]["active"] is False
    assert anna.get("/dictionaries/regions").get_json()["note"] == "west closed"
    assert [d["name"] for d in anna.get("/dictionaries").get_json()["items"]] == ["regions"]
    cases = [("/dictionaries/Bad-Name", body, "name"), ("/dictionaries/regions", {**body, "items": []}, "items"),
             ("/dictionaries/regions", {**body, "items": "east"}, "items"),
             ("/dictionaries/regions", {**body, "items": [{"value": "a"}, {"value": "a"}]}, "items[1].value"),
             ("/dictionaries/regions", {**body, "items": [5]}, "items[0]"),
             ("/dictionaries/regions", {"items": body["items"]}, "label"),
             ("/dictionaries/regions", {**body, "label": ["x"]}, "label"),
             ("/dictionaries/regions", {**body, "colour": 1}, "colour")]
    for path, data, field in cases:
        assert assert_error(send(admin, "PUT", path, json=data), 400)["details"]["field"] == field, data
    assert_error(anna.get("/dictionaries/nothing"), 404, "not_found")


RECORD_QUERIES = ["", "page=-1", "page_size=100000", "q=%25", "q=%00", "sort=-", "sort=", "sort=lines",
                  "columns=,,,", "columns=" + "a," * 500, "f.name__in=" + ",".join(["x"] * 500), "f.name__empty=",
                  "f.credit_limit__gte=1e400", "f.credit_limit__gte=-1e300", "f.credit_limit__lte=99999999999999999",
                  "f.id__gte=1e30", "f.id__in=1,2.5,-3", "f.title__contains=_", "f.updated_at=x", "f.a__b__c=1",
                  "f.name__=1", "f.__eq=1", "deleted=1&f.level=a", "version=0", "version=abc", "inactive=x",
                  "per_list=0", "limit=x", "f.name=%F0%9F%98%80"]
RECORD_BODIES = [*BODIES, b'{"data": {"name": "x"}, "lock_version": "1"}', b'{"data": {"name": "x"}, "lock_version": 1e3}',
                 b'{"data": {"name": "' + b"x" * 2_000_000 + b'"}}', b'{"data": {"name": ["x"]}, "lock_version": 1}',
                 b'{"schema": "not a schema", "key": "k1", "name": "n"}', b'{"schema": {"type": "array"}}',
                 b'{"schema": {"properties": {"a": 1}}, "key": "k2", "name": "n"}',
                 b'{"key": "k3", "name": "n", "schema": {"type": "object", "properties": {"a": {"type": "nope"}}}}',
                 b'{"label": "x", "items": [{"value": 1}]}', b'{"label": "x", "items": [{"value": "v", "label": 3}]}',
                 b'{"active": null}', b'{"data": {"name": "x"}, "owner": "\\u0000"}',
                 b'{"data": {"customer": 99999999999999999999999, "name": "x"}, "lock_version": 1}']


@pytest.mark.parametrize("username", ["admin", "wang.fang"])
def test_garbage_never_gives_a_server_error(client, core, username):
    api = sign_in(client, username)
    owner = sign_in(client, "wang.fang")
    customer = create(owner, "customer", {"name": "华东机械", "credit_limit": "100"})
    failures, checked = [], []
    good = {"key": "customer", "type_key": "customer", "record_id": str(customer["id"]), "name": "regions"}
    bad_values = {"key": ["%00", "x" * 300, "..%2F..", "Customer"], "type_key": ["%00", "x" * 300, "..%2F.."],
                  "record_id": ["abc", "-1", "0", "99999999999999999999999"], "name": ["%00", "x" * 300, "Bad"]}

    def check(method: str, path: str, response) -> None:
        checked.append(response.status_code)
        if response.status_code >= 500:
            failures.append((method, path[:100], response.status_code, response.get_data(as_text=True)[:200]))
        elif response.status_code >= 400:
            assert set(response.get_json()["error"]) == {"code", "message", "details"}, (method, path[:100])

    for template, method, arguments in _routes(core):
        if not template.startswith(RECORD_PATHS):
            continue
        path = template
        for name in arguments:
            path = path.replace("{" + name + "}", good[name])
        for name in arguments:
            for bad in bad_values[name]:
                wrong = path.replace(good[name], bad, 1)
                check(method, wrong, send(api, method, wrong, json={}))
        if method == "GET":
            for query in RECORD_QUERIES:
                check(method, f"{path}?{query}", api.get(f"{path}?{query}"))
            continue
        for body in RECORD_BODIES:
            for headers in ({}, {"If-Match": '"1"'}):
                check(method, path, send(api, method, path, headers=headers, data=body,
                                         content_type="application/json"))
    assert failures == [] and len(checked) > 1000
    assert owner.get(f"/records/customer/{customer['id']}").status_code in (200, 404)


def test_responses_match_the_document(client, core, db):
    document = client.get(f"{PREFIX}/openapi.json").get_json()
    seen = set()

    def call(api, method: str, template: str, status: int, path: str | None = None, **kwargs) -> dict:
        response = send(api, method, path or template, **kwargs)
        assert response.status_code == status, (path or template, response.get_data(as_text=True))
        answer = document["paths"][template][method.lower()]["responses"][str(status)]
        if "$ref" in answer:
            answer = document["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
        schema = {"components": document["components"], **answer["content"]["application/json"]["schema"]}
        errors = [e.message for e in Draft202012Validator(schema).iter_errors(response.get_json())]
        assert errors == [], (path or template, errors[:3])
        seen.add((template, method))
        return response.get_json()

    admin, employee = sign_in(client, "admin"), sign_in(client, "wang.fang")
    call(employee, "GET", "/record-types", 200)
    call(employee, "GET", "/record-types/{key}", 200, "/record-types/customer")
    call(employee, "GET", "/record-types/{key}", 404, "/record-types/nothing")
    call(employee, "POST", "/record-types", 403, json={})
    call(admin, "POST", "/record-types", 201, json={"key": "project", "name": "项目", "schema": PROJECT})
    call(admin, "POST", "/record-types", 409, json={"key": "project", "name": "项目", "schema": PROJECT})
    call(admin, "POST", "/record-types", 400, json={"key": "project2", "name": "项目"})
    call(admin, "PUT", "/record-types/{key}", 200, "/record-types/project", json={"schema": PROJECT})
    call(admin, "POST", "/record-types/{key}/active", 200, "/record-types/project/active", json={"active": True})
    call(employee, "GET", "/dictionaries", 200)
    call(admin, "PUT", "/dictionaries/{name}", 201, "/dictionaries/regions",
         json={"label": "地区", "items": [{"value": "east"}]})
    call(admin, "PUT", "/dictionaries/{name}", 200, "/dictionaries/regions",
         json={"label": "地区", "items": [{"value": "east", "active": False}]})
    call(employee, "GET", "/dictionaries/{name}", 200, "/dictionaries/regions")
    customer = call(employee, "POST", "/records/{type_key}", 201, "/records/customer", json={"data": {"name": "零售"}})
    call(employee, "POST", "/records/{type_key}", 422, "/records/customer", json={"data": {"name": 1}})
    call(employee, "GET", "/records/{type_key}", 200, "/records/customer?q=零售")
    call(employee, "GET", "/records/{type_key}", 400, "/records/customer?f.nope=1")
    call(employee, "GET", "/records/{type_key}/export", 400, "/records/customer/export?format=pdf")
    one = f"/records/customer/{customer['id']}"
    template = "/records/{type_key}/{record_id}"
    call(employee, "GET", template, 200, one)
    call(employee, "PATCH", template, 428, one, json={"data": {}})
    call(employee, "PATCH", template, 200, one, json={"data": {"phone": "1"}, "lock_version": 1})
    call(employee, "PATCH", template, 409, one, json={"data": {"phone": "2"}, "lock_version": 1})
    call(employee, "PUT", template, 200, one, json={"data": {"name": "零售二"}}, headers={"If-Match": '"2"'})
    call(employee, "DELETE", template, 200, one)
    call(employee, "GET", template, 404, one)
    call(employee, "POST", f"{template}/restore", 200, f"{one}/restore")
    call(employee, "GET", f"{template}/history", 200, f"{one}/history")
    contact = call(employee, "POST", "/records/{type_key}", 201, "/records/contact",
                   json={"data": {"name": "张三", "customer": customer["id"]}})
    assert contact["data"]["customer"] == customer["id"]
    call(employee, "GET", f"{template}/related", 200, f"{one}/related")
    started = start_leave(employee)
    with db.command() as session:
        records.link_process(session=session, record_id=customer["id"], instance_id=started["id"], relation="linked")
    listed = call(employee, "GET", f"{template}/processes", 200, f"{one}/processes")
    assert listed["items"][0]["relation"] == "linked"
    call(admin, "PUT", "/record-types/{key}", 409, "/record-types/customer",
         json={"schema": {"type": "object", "required": ["name", "tier"],
                          "properties": {"name": {"type": "string"}, "tier": {"type": "string"}}}})
    expected = {(path, method) for path, method, _ in _routes(core) if path.startswith(RECORD_PATHS)}
    assert seen == expected


def test_fields_hidden_by_field_rights_stay_hidden(client, anna, admin):
    meta = admin.get("/record-types/customer").get_json()["meta"]
    schema = admin.get("/record-types/customer").get_json()["schema"]
    rights = {"credit_limit": {"view": ["finance", "manager"], "edit": ["finance"]}}
    changed = send(admin, "PUT", "/record-types/customer", json={"schema": schema,
                                                                  "meta": {**meta, "field_access": rights}})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    record = create(admin, "customer", {"name": "华东机械", "credit_limit": "1000.00"}, owner="wang.fang")
    path = f"/records/customer/{record['id']}"
    assert "credit_limit" not in anna.get(path).get_json()["data"]
    assert "credit_limit" not in anna.get("/records/customer").get_json()["items"][0]["data"]
    manager = sign_in(client, "li.na")
    assert manager.get(path).get_json()["data"]["credit_limit"] == "1000.00"
    for query in ("columns=name,credit_limit", "f.credit_limit__gte=1", "sort=-credit_limit"):
        assert_error(anna.get(f"/records/customer?{query}"), 400)
    # Sending a hidden field is refused as unknown, even with the right value, which would confirm a guess.
    for value in ("1000.00", "5.00"):
        error = assert_error(send(anna, "PATCH", path, json={"data": {"credit_limit": value}, "lock_version": 1}),
                             422)
        assert error["details"] == {"credit_limit": "unknown field"}
    error = assert_error(anna.post("/records/customer", json={"data": {"name": "x", "credit_limit": "1.00"}}), 422)
    assert error["details"] == {"credit_limit": "unknown field"}
    # A whole replacement keeps what the caller cannot see; the history does not show it either.
    replaced = send(anna, "PUT", path, json={"data": {"name": "华东机械集团"}, "lock_version": 1})
    assert replaced.status_code == 200, replaced.get_data(as_text=True)
    assert replaced.get_json()["data"] == {"name": "华东机械集团"}
    assert admin.get(path).get_json()["data"] == {"name": "华东机械集团", "credit_limit": "1000.00"}
    changes = [c["field"] for e in anna.get(f"{path}/history").get_json()["items"] for c in e["changes"]]
    assert "credit_limit" not in changes and "name" in changes
    assert "credit_limit" in [c["field"] for e in admin.get(f"{path}/history").get_json()["items"]
                              for c in e["changes"]]


def test_export_through_the_api_follows_filters_and_the_export_right(anna, ben, db):
    import csv
    import io

    from openpyxl import load_workbook

    from audit import service as audit
    create(anna, "customer", {"name": "导出甲", "level": "a"})
    create(anna, "customer", {"name": "导出乙", "level": "b"})
    response = anna.get("/records/customer/export?f.level=a")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert [row[1] for row in rows[1:]] == ["导出甲"]
    book = load_workbook(io.BytesIO(anna.get("/records/customer/export?format=xlsx").data))
    assert sorted(row[1] for row in book.active.iter_rows(min_row=2, values_only=True)) == ["导出乙", "导出甲"]
    # liu.yang reads the shared customers but may export only his own: none.
    mine = list(csv.reader(io.StringIO(ben.get("/records/customer/export").get_data(as_text=True).lstrip("\ufeff"))))
    assert len(mine) == 1
    assert ben.get("/records/customer/export?format=pdf").status_code == 400
    assert ben.get("/records/customer/export?f.nope=1").status_code == 400
    assert ben.get("/records/nope/export").status_code == 404
    with db.query() as session:
        entries, _ = audit.search(session, action="export", object_type="records:customer")
    assert {e.actor for e in entries} == {"wang.fang", "liu.yang"} and len(entries) == 3

"""The authorization matrix: people of different departments, levels, groups and a portal try every action on
records, instances and tasks through the pages and the API, guessed ids included. Each allowed action works;
each other one answers 403 (may read, may not act) or 404 (may not read: the same answer as for an id that
does not exist, so nothing leaks)."""
from __future__ import annotations

import csv
import io

import pytest

from instances import service as instances
from instances.actors import Actor
from org import demo, grants
from org import service as org
from records import service as records

# The demo organisation: sales (li.na leads; wang.fang, liu.yang, emma.chen), service (xu.hui leads; ma.chao,
# hu.yan), finance (zhao.lei leads; sun.li); zhang.wei is the general manager over every department leader.
# Group crm_rollout: li.na, wang.fang, luo.bin (tech), xu.hui.
PEOPLE = ("wang.fang", "liu.yang", "li.na", "ma.chao", "xu.hui", "sun.li", "zhang.wei", "luo.bin", "admin",
          "portal")
GUESSED = 987_654


@pytest.fixture
def world(app, db):
    """Leads of sales and service, a customer with a contact, rules, a portal account and a leave request."""
    with db.command() as session:
        records.install_core_types(session=session)
        ids = {
            "sales_lead": records.create_record(session=session, type_key="lead", actor=Actor("wang.fang"),
                                                data={"company": "甲 销售线索", "status": "new"}).id,
            "service_lead": records.create_record(session=session, type_key="lead", actor=Actor("ma.chao"),
                                                  data={"company": "乙 服务线索", "status": "new"}).id,
            "customer": records.create_record(session=session, type_key="customer", actor=Actor("wang.fang"),
                                              data={"name": "丙 客户"}).id,
        }
        ids["contact"] = records.create_record(session=session, type_key="contact", actor=Actor("wang.fang"),
                                               data={"name": "丁 联系人", "customer": ids["customer"]}).id
        # The project group reads the service department's leads; finance may not see leads at all.
        grants.add_rule(session=session, effect="grant", resource="records:lead", actions=["view"],
                        who_kind="group", who="crm_rollout", which_kind="department", which="service", actor="t")
        grants.add_rule(session=session, effect="deny", resource="records:lead", actions=["view"],
                        who_kind="department", who="finance", which_kind="all", actor="t")
        org.save_user(session=session, username="portal", display_name="丙 客户门户", password=demo.DEMO_PASSWORD,
                      kind="customer", portal_record_id=ids["customer"], portal_modules=["customer", "contact"])
        leave = instances.start_instance(session=session, key="leave_request", actor=Actor("wang.fang"), data={
            "leave_type": "annual", "start_date": "2026-12-01", "end_date": "2026-12-02", "days": 2,
            "manager": "li.na"})
        ids["instance"] = leave.id
        ids["task"] = instances.list_open_work_items(session=session, instance_id=leave.id)[0].id
        tokens = {}
        for name in PEOPLE:
            user = org.get_user_or_raise(session=session, username=name)
            tokens[name] = org.create_token(session=session, user=user, name="matrix")[1]
    return ids, tokens


# Who may read each record (from grants: employees see their department, managers their tree, the group rule,
# the finance deny, customers and contacts shared by all staff, the portal its own company).
READ = {
    "sales_lead": {"wang.fang", "liu.yang", "li.na", "zhang.wei", "admin"},
    "service_lead": {"ma.chao", "xu.hui", "zhang.wei", "admin", "li.na", "wang.fang", "luo.bin"},
    "customer": set(PEOPLE),
    "contact": set(PEOPLE),
}
# Who may change or delete: the owner (employees edit and delete their own), managers edit their tree.
EDIT = {"sales_lead": {"wang.fang", "li.na", "zhang.wei", "admin"},
        "service_lead": {"ma.chao", "xu.hui", "zhang.wei", "admin"},
        "customer": {"wang.fang", "li.na", "zhang.wei", "admin"}, "contact": {"wang.fang", "li.na", "zhang.wei", "admin"}}
DELETE = {key: {"wang.fang" if key != "service_lead" else "ma.chao", "admin"} for key in READ}
EXPORT = {"sales_lead": {"wang.fang", "li.na", "zhang.wei", "admin"},
          "service_lead": {"ma.chao", "xu.hui", "zhang.wei", "admin"},
          "customer": {"wang.fang", "li.na", "zhang.wei", "admin"}, "contact": {"wang.fang", "li.na", "zhang.wei", "admin"}}
TYPES = {"sales_lead": "lead", "service_lead": "lead", "customer": "customer", "contact": "contact"}
TITLES = {"sales_lead": "甲 销售线索", "service_lead": "乙 服务线索", "customer": "丙 客户", "contact": "丁 联系人"}


def _api(app, token):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


@pytest.mark.parametrize("name", PEOPLE)
def test_records_through_pages_and_api(app, login, world, name):
    ids, tokens = world
    page, api = login(name), _api(app, tokens[name])
    for key, record_id in ids.items():
        if key not in TYPES:
            continue
        type_key, title, readable = TYPES[key], TITLES[key], name in READ[key]
        # Read, list, search: a record one may not read is a 404 exactly like an id that does not exist.
        shown = page.get(f"/records/{type_key}/{record_id}")
        assert shown.status_code == (200 if readable else 404), (name, key)
        listed = page.get(f"/records/{type_key}/").get_data(as_text=True) if readable or name != "portal" else ""
        assert (title in listed) == readable or name == "portal" and type_key == "lead", (name, key)
        searched = api.get(f"/api/v1/records/{type_key}", query_string={"q": title.split()[1]})
        if searched.status_code == 200:
            assert (record_id in [i["id"] for i in searched.get_json()["items"]]) == readable, (name, key)
        else:  # a portal account has no lead module at all
            assert name == "portal" and type_key == "lead" and searched.status_code in (403, 404)
        got = api.get(f"/api/v1/records/{type_key}/{record_id}")
        guessed = api.get(f"/api/v1/records/{type_key}/{GUESSED}")
        assert got.status_code == (200 if readable else 404), (name, key)
        if not readable:
            assert got.get_json()["error"]["code"] == guessed.get_json()["error"]["code"]
        # Edit: 403 when readable but not editable, 404 when not readable; nothing changes either way.
        lock = got.get_json()["lock_version"] if readable else 1
        patch = api.patch(f"/api/v1/records/{type_key}/{record_id}", json={"data": {}, "lock_version": lock})
        assert patch.status_code == (200 if name in EDIT[key] else 403 if readable else 404), (name, key)
        edit_page = page.get(f"/records/{type_key}/{record_id}/edit")
        assert edit_page.status_code == (200 if name in EDIT[key] else 403 if readable else 404), (name, key)
        # Export: only what one may both read and export.
        exported = page.get(f"/records/{type_key}/export.csv")
        if exported.status_code == 200:
            rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
            assert any(row and row[0] == str(record_id) for row in rows[1:]) == (name in EXPORT[key]), (name, key)
        else:
            assert name == "portal"
        # Delete last: 403 / 404 for the others, and the record stays.
        if name not in DELETE[key]:
            assert api.delete(f"/api/v1/records/{type_key}/{record_id}").status_code == (403 if readable else 404)
            assert page.post(f"/records/{type_key}/{record_id}/delete").status_code == (403 if readable else 404)
    # A guessed id answers the same on every path.
    for path in (f"/records/lead/{GUESSED}", f"/records/lead/{GUESSED}/edit"):
        assert page.get(path).status_code == 404


@pytest.mark.parametrize("name, sees_instance, may_task", [
    ("wang.fang", True, False),    # started it
    ("li.na", True, True),         # the approver
    ("zhang.wei", True, False),    # manager of the company tree watches it
    ("zhao.lei", False, False),    # another department's manager
    ("liu.yang", False, False),    # a colleague who takes no part
    ("admin", True, True),
    ("portal", False, False),
])
def test_instances_and_tasks(app, login, world, name, sees_instance, may_task):
    ids, tokens = world
    token = tokens.get(name)
    if token is None:
        with app.extensions["flowdesk.database"].command() as session:
            user = org.get_user_or_raise(session=session, username=name)
            token = org.create_token(session=session, user=user, name="matrix")[1]
    page, api = login(name), _api(app, token)
    expected = 200 if sees_instance else (403 if name == "portal" else 404)
    assert page.get(f"/instances/{ids['instance']}").status_code == expected
    assert api.get(f"/api/v1/instances/{ids['instance']}").status_code == expected
    missing = 403 if name == "portal" else 404
    assert page.get(f"/instances/{GUESSED}").status_code == missing
    listed = api.get("/api/v1/instances")
    if name == "portal":
        assert listed.status_code == 403
    else:
        assert (ids["instance"] in [i["id"] for i in listed.get_json()["items"]]) == sees_instance
    task_page = page.get(f"/tasks/{ids['task']}")
    assert task_page.status_code == (200 if may_task else missing)
    assert page.get(f"/tasks/{GUESSED}").status_code == missing


# Every core record type, one record owned by wang.fang of sales, checked through the API for people of
# the same department, its manager, the general manager, other departments and the portal.
SAMPLES = {
    "customer": {"name": "戊 客户"}, "campaign": {"name": "秋季展会"}, "partner": {"name": "渠道商", "kind": "reseller"},
    "knowledge_article": {"title": "排查步骤", "body": "<p>先看油位</p>"},
    "lead": {"company": "线索公司", "status": "new"}, "activity": {"subject": "上门拜访", "kind": "visit"},
    "payment": {"direction": "receivable", "amount": "100.00", "due_on": "2026-12-31"},
}
NEEDS_CUSTOMER = {
    "contact": {"name": "联系人甲"}, "contract": {"number": "HT-9", "name": "合同", "amount": "1.00"},
    "order": {"number": "SO-9"}, "complaint": {"subject": "投诉", "severity": "minor"},
    "service_request": {"subject": "请求"}, "satisfaction_survey": {"score": 5},
}
SHARED = {"customer", "contact", "partner", "campaign", "knowledge_article"}
SALES = {"wang.fang", "liu.yang", "li.na", "zhang.wei", "admin"}
STAFF = {"wang.fang", "liu.yang", "li.na", "zhang.wei", "admin", "ma.chao", "sun.li"}
CHANGERS = {"wang.fang", "li.na", "zhang.wei", "admin"}


@pytest.fixture
def every_type(app, db):
    wang = Actor("wang.fang")
    with db.command() as session:
        records.install_core_types(session=session)
        company = records.create_record(session=session, type_key="customer", actor=wang, data={"name": "己 公司"})
        ids = {"customer": company.id}
        for key, data in {**SAMPLES, **{k: {**v, "customer": company.id} for k, v in NEEDS_CUSTOMER.items()}}.items():
            if key != "customer":
                ids[key] = records.create_record(session=session, type_key=key, actor=wang, data=data).id
        org.save_user(session=session, username="portal", display_name="己 公司门户", password=demo.DEMO_PASSWORD,
                      kind="customer", portal_record_id=company.id, portal_modules=["customer", "contact", "order"])
        tokens = {}
        for name in ("wang.fang", "liu.yang", "li.na", "zhang.wei", "admin", "ma.chao", "sun.li", "portal"):
            tokens[name] = org.create_token(session=session, user=org.get_user_or_raise(session=session,
                                                                                       username=name), name="m")[1]
    return ids, tokens


@pytest.mark.parametrize("key", sorted({*SAMPLES, *NEEDS_CUSTOMER}))
def test_every_record_type_through_the_api(app, every_type, key):
    ids, tokens = every_type
    record_id = ids[key]
    for name, token in tokens.items():
        api = _api(app, token)
        if name == "portal":
            readable = key in ("customer", "contact", "order")  # its company, what refers to it, enabled modules
        else:
            readable = name in (STAFF if key in SHARED else SALES)
        got = api.get(f"/api/v1/records/{key}/{record_id}")
        assert got.status_code == (200 if readable else 404), (name, key)
        listed = api.get(f"/api/v1/records/{key}")
        if listed.status_code == 200:
            assert (record_id in [i["id"] for i in listed.get_json()["items"]]) == readable, (name, key)
        else:
            assert name == "portal" and listed.status_code in (403, 404), (name, key)
        changer = name in CHANGERS
        patch = api.patch(f"/api/v1/records/{key}/{record_id}", json={"data": {}, "lock_version": 1})
        assert patch.status_code == (200 if changer else 403 if readable else 404), (name, key)
        if name not in ("wang.fang", "admin"):
            assert api.delete(f"/api/v1/records/{key}/{record_id}").status_code == (403 if readable else 404), \
                (name, key)

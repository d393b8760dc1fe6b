"""The permission admin pages: grants, rules, the explanation of a decision and the audit log with its export."""
from __future__ import annotations

import pytest

from audit import service as audit
from instances.actors import Actor
from org import grants
from records import service as records


@pytest.fixture
def customer(app, db):
    with db.command() as session:
        records.install_core_types(session=session)
        return records.create_record(session=session, type_key="customer", actor=Actor("wang.fang"),
                                     data={"name": "远航物流"}).id


@pytest.mark.parametrize("path", ["/admin/access/", "/admin/access/rules", "/admin/access/explain",
                                  "/admin/access/audit", "/admin/access/audit.csv"])
def test_only_admins_reach_the_permission_pages(login, path):
    assert login("li.na").get(path).status_code == 403


def test_grants_by_role_add_and_withdraw(login, db):
    admin = login("admin")
    page = admin.get("/admin/access/").get_data(as_text=True)
    assert 'data-testid="role-employee"' in page and "records:*" in page
    response = admin.post("/admin/access/grants", data={"role": "employee", "resource": "records:contract",
                                                        "action": "export", "scope": "department"})
    assert response.status_code == 302
    with db.query() as session:
        added = [g for g in grants.list_grants(session=session) if g.resource == "records:contract"]
    assert [(g.role_code, g.action, g.scope) for g in added] == [("employee", "export", "department")]
    refused = admin.post("/admin/access/grants", data={"role": "employee", "resource": "records:*",
                                                       "action": "fly", "scope": "all"}, follow_redirects=True)
    assert "Not added" in refused.get_data(as_text=True)
    admin.post(f"/admin/access/grants/{added[0].id}/delete")
    with db.query() as session:
        assert not [g for g in grants.list_grants(session=session) if g.resource == "records:contract"]
        entries, _ = audit.search(session, object_type="role", action="grant.")
    assert [e.action for e in entries] == ["grant.removed", "grant.added"] and entries[0].actor == "admin"


def test_rules_add_refuse_and_delete(login, db):
    admin = login("admin")
    bad = admin.post("/admin/access/rules", data={"effect": "deny", "resource": "records:customer",
                                                  "actions": ["view"], "who_kind": "department", "who": "nowhere",
                                                  "which_kind": "all"}, follow_redirects=True)
    assert "Not added" in bad.get_data(as_text=True) and "nowhere" in bad.get_data(as_text=True)
    admin.post("/admin/access/rules", data={"effect": "deny", "resource": "records:customer", "actions": ["view"],
                                            "who_kind": "department", "who": "finance", "which_kind": "department",
                                            "which": "sales", "note": "财务不看销售客户"})
    page = admin.get("/admin/access/rules").get_data(as_text=True)
    assert "财务不看销售客户" in page and "Deny" in page
    with db.query() as session:
        [rule] = grants.list_rules(session=session)
    admin.post(f"/admin/access/rules/{rule.id}/delete")
    with db.query() as session:
        assert grants.list_rules(session=session) == []


def test_explain_names_the_deciding_grants_and_rules(login, db, customer):
    admin = login("admin")
    page = admin.get(f"/admin/access/explain?user=liu.yang&record={customer}").get_data(as_text=True)
    view_row = page[page.index('data-testid="decision-view"'):page.index('data-testid="decision-edit"')]
    assert "Allowed" in view_row and "role employee" in view_row
    edit_row = page[page.index('data-testid="decision-edit"'):page.index('data-testid="decision-delete"')]
    assert "Not allowed" in edit_row
    with db.command() as session:
        grants.add_rule(session=session, effect="deny", resource="records:*", actions=["view"], who_kind="user",
                        who="liu.yang", which_kind="all", actor="admin")
    page = admin.get(f"/admin/access/explain?user=liu.yang&record={customer}").get_data(as_text=True)
    view_row = page[page.index('data-testid="decision-view"'):page.index('data-testid="decision-edit"')]
    assert "Not allowed" in view_row and "deny" in view_row
    assert "No user" in admin.get("/admin/access/explain?user=ghost&record=1").get_data(as_text=True)
    assert "No record" in admin.get("/admin/access/explain?user=li.na&record=99999").get_data(as_text=True)


def test_audit_log_filters_and_exports_with_the_export_logged(login, db, customer):
    client = login("wang.fang")
    form = client.get(f"/records/customer/{customer}/edit").get_data(as_text=True)
    assert form
    admin = login("admin")
    page = admin.get(f"/admin/access/audit?object_type=record&object_id={customer}").get_data(as_text=True)
    assert "record.created" in page and "远航物流" in page
    signins = admin.get("/admin/access/audit?kind=access").get_data(as_text=True)
    assert "sign_in" in signins and "127.0.0.1" in signins
    export = admin.get("/admin/access/audit.csv?action=record.")
    text = export.get_data(as_text=True)
    assert export.status_code == 200 and text.startswith("\ufeffid,at,kind") and "远航物流" in text
    with db.query() as session:
        exports, _ = audit.search(session, action="export")
    assert exports and exports[0].actor == "admin" and exports[0].kind == "access"
    with db.command() as session:  # values of every shape, as entries hold them
        audit.log(session, actor="admin", action="settings.changed", object_type="settings", object_id="x",
                  before={"filters": None, "owner": "li.na"},
                  after={"filters": [], "owner": "zhao.lei", "tags": ["a", "b"], "on": True, "range": {"from": 1}})
    shown = admin.get("/admin/access/audit?action=settings.changed").get_data(as_text=True)
    row = shown[shown.index("settings.changed"):]
    assert "None" not in row and "[]" not in row and "{'" not in row and "True" not in row
    assert "a, b" in row and "from: 1" in row and "Yes" in row and "zhao.lei" in row


def test_field_rights_are_set_on_the_page_and_hide_the_field(login, db, customer):
    admin = login("admin")
    page = admin.get("/admin/access/fields?type=customer").get_data(as_text=True)
    assert 'data-testid="field-credit_limit"' in page
    response = admin.post("/admin/access/fields", data={"type": "customer", "view-credit_limit": ["manager"],
                                                        "edit-credit_limit": ["manager"], "view-nope": ["x"]})
    assert response.status_code == 302
    with db.query() as session:
        view = records.get_type_or_raise(session=session, key="customer")
    assert view.meta["field_access"] == {"credit_limit": {"view": ["manager"], "edit": ["manager"]}}
    assert "Credit limit" not in login("wang.fang").get(f"/records/customer/{customer}").get_data(as_text=True)
    assert "Credit limit" in login("li.na").get(f"/records/customer/{customer}").get_data(as_text=True)
    checked = admin.get("/admin/access/fields?type=customer").get_data(as_text=True)
    assert 'id="view-credit_limit-manager" checked' in checked


def test_field_rights_of_an_unknown_type_are_refused_and_nothing_changes(login, db, customer):
    admin = login("admin")
    assert admin.get("/admin/access/fields?type=nope").status_code == 404
    assert admin.post("/admin/access/fields", data={"type": "nope", "view-name": ["manager"]}).status_code == 404
    assert admin.post("/admin/access/fields", data={"view-name": ["manager"]}).status_code == 404
    with db.query() as session:
        assert all(not v.meta.get("field_access") for v in records.list_types(session=session))

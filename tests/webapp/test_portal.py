"""Portal accounts: customers and partners sign in to see their company's records in the enabled modules only."""
from __future__ import annotations

import pytest

from instances.actors import Actor
from org import demo
from org import service as org
from records import service as records


@pytest.fixture
def portal(app, db):
    """A customer company with a contact and a complaint, another company, and a portal account for the first."""
    wang = Actor("wang.fang")
    with db.command() as session:
        records.install_core_types(session=session)
        mine = records.create_record(session=session, type_key="customer", actor=wang, data={"name": "远航物流"})
        other = records.create_record(session=session, type_key="customer", actor=wang, data={"name": "别家公司"})
        records.create_record(session=session, type_key="contact", actor=wang,
                              data={"name": "王经理", "customer": mine.id})
        records.create_record(session=session, type_key="contact", actor=wang,
                              data={"name": "陌生人", "customer": other.id})
        records.create_record(session=session, type_key="contract", actor=wang,
                              data={"number": "HT-1", "name": "运输合同", "customer": mine.id, "amount": "10.00"})
        org.save_user(session=session, username="yuanhang", display_name="远航物流 王经理",
                      password=demo.DEMO_PASSWORD, kind="customer", portal_record_id=mine.id,
                      portal_modules=["customer", "contact"])
    return {"mine": mine.id, "other": other.id}


def test_the_admin_makes_a_portal_account_and_checks_the_company(login, portal, db):
    admin = login("admin")
    bad = admin.post("/admin/users/new", data={"username": "acme.portal", "display_name": "Acme", "status": "active",
                                               "password": "a-long-password", "kind": "customer",
                                               "portal_record_id": "999999", "portal_modules": ["contact"]})
    assert bad.status_code == 422 and "No customer or partner record" in bad.get_data(as_text=True)
    ok = admin.post("/admin/users/new", data={"username": "acme.portal", "display_name": "Acme", "status": "active",
                                              "password": "a-long-password", "kind": "partner",
                                              "portal_record_id": str(portal["other"]),
                                              "portal_modules": ["contact", "customer"]})
    assert ok.status_code == 302
    with db.query() as session:
        user = org.get_user_or_raise(session=session, username="acme.portal")
    assert (user.kind, user.portal_record_id, user.portal_modules) == ("partner", portal["other"],
                                                                       ["contact", "customer"])


def test_a_portal_account_sees_only_its_company_in_enabled_modules(login, portal):
    client = login("yuanhang")
    assert client.get("/").headers.get("Location", "").endswith("/records/")  # the inbox sends portals on
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert 'data-testid="type-customer"' in home and 'data-testid="type-contract"' not in home
    assert "Inbox" not in home and "Start a process" not in home
    customers = client.get("/records/customer/").get_data(as_text=True)
    assert "远航物流" in customers and "别家公司" not in customers
    contacts = client.get("/records/contact/").get_data(as_text=True)
    assert "王经理" in contacts and "陌生人" not in contacts
    assert client.get(f"/records/customer/{portal['other']}").status_code == 404
    assert "运输合同" not in client.get(f"/records/customer/{portal['mine']}").get_data(as_text=True)
    assert client.get("/records/contract/").get_data(as_text=True).count("运输合同") == 0


def test_a_portal_account_adds_contacts_of_its_company_but_never_other_companies(login, portal, db):
    client = login("yuanhang")
    customers = client.get("/records/customer/").get_data(as_text=True)
    assert 'data-testid="new-record"' not in customers and 'data-testid="export-csv"' not in customers
    assert client.get("/records/customer/new").status_code == 403
    assert client.post("/records/customer/new", data={"name": "冒名公司"}).status_code == 403
    contacts = client.get("/records/contact/").get_data(as_text=True)
    assert 'data-testid="new-record"' in contacts  # its own company's contacts it may add
    assert client.get("/records/contact/new").status_code == 200
    with db.query() as session:
        names = [r.title for r in records.list_records(session=session, type_key="customer",
                                                       actor=Actor("admin", is_admin=True))[1].items]
    assert "冒名公司" not in names
    staff = login("wang.fang").get("/records/customer/").get_data(as_text=True)
    assert 'data-testid="new-record"' in staff


@pytest.mark.parametrize("path", ["/inbox?view=group", "/processes/", "/instances/", "/admin/", "/designer/",
                                  "/proxies/", "/admin/access/"])
def test_a_portal_account_cannot_reach_staff_pages(login, portal, path):
    assert login("yuanhang").get(path).status_code in (403, 404)


def test_a_portal_token_reaches_only_records(login, portal, db):
    with db.command() as session:
        user = org.get_user_or_raise(session=session, username="yuanhang")
        _token, secret = org.create_token(session=session, user=user, name="integration")
    client = login("admin").application.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    listed = client.get("/api/v1/records/customer", headers=headers).get_json()
    assert [item["title"] for item in listed["items"]] == ["远航物流"]
    assert client.get(f"/api/v1/records/customer/{portal['other']}", headers=headers).status_code == 404
    for path in ("/api/v1/tasks", "/api/v1/instances", "/api/v1/users", "/api/v1/definitions"):
        assert client.get(path, headers=headers).status_code == 403, path


def test_a_portal_account_is_offered_only_what_it_may_do(login, portal):
    client = login("yuanhang")
    company = client.get(f"/records/customer/{portal['mine']}").get_data(as_text=True)
    assert "/records/activity/new" not in company and "/records/complaint/new" not in company
    assert "/records/contact/new" in company  # contacts of its company it may add
    for key in ("order", "activity", "contract", "payment"):  # modules its admin did not enable
        assert client.get(f"/records/{key}/").status_code == 403, key
    assert client.get("/records/contact/").status_code == 200

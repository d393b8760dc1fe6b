"""Library settings: administrators set drive quotas, leaders and administrators name department library admins."""
from __future__ import annotations

import re

from sqlalchemy import select

from documents.models import DocLibrary, DocLibraryAdmin
from org.models import Department


def library_of(db, **where) -> DocLibrary:
    with db.query() as s:
        return s.scalar(select(DocLibrary).filter_by(**where))


def test_an_administrator_sets_quotas_and_the_numbers_are_checked(app, db, login):
    admin = login("admin")
    page = admin.get("/documents/settings/")
    assert page.status_code == 200
    with db.query() as s:  # every department got its library, ready to be set up
        departments = s.scalar(select(Department.id).order_by(Department.id.desc()).limit(1))
    assert library_of(db, department_id=departments) is not None
    saved = admin.post("/documents/settings/drives", data={"username": "wang.fang", "quota_mb": "1.5"},
                       follow_redirects=True)
    assert "Quota of wang.fang" in saved.get_data(as_text=True)
    drive = library_of(db, key="personal:wang.fang")
    assert drive.quota_bytes == int(1.5 * 2**20)
    assert 'value="1.5"' in admin.get("/documents/settings/").get_data(as_text=True)
    for bad in ("-3", "lots", "99999999999"):
        refused = admin.post(f"/documents/settings/{drive.id}/quota", data={"quota_mb": bad}, follow_redirects=True)
        assert "Give the quota in MB" in refused.get_data(as_text=True)
    assert library_of(db, key="personal:wang.fang").quota_bytes == int(1.5 * 2**20)  # unchanged
    admin.post(f"/documents/settings/{drive.id}/quota", data={"quota_mb": ""})
    assert library_of(db, key="personal:wang.fang").quota_bytes is None
    unknown = admin.post("/documents/settings/drives", data={"username": "nobody", "quota_mb": "5"},
                         follow_redirects=True)
    assert "No user “nobody”" in unknown.get_data(as_text=True)
    # The drive's owner sees the quota on the libraries page.
    admin.post("/documents/settings/drives", data={"username": "wang.fang", "quota_mb": "2"})
    assert "of 2 MB used" in login("wang.fang").get("/documents/").get_data(as_text=True)


def test_a_leader_names_the_admins_of_their_department_library_only(app, db, login):
    leader = login("li.na")  # leads sales
    assert "library-settings-link" in leader.get("/documents/").get_data(as_text=True)
    page = leader.get("/documents/settings/").get_data(as_text=True)
    sales = library_of(db, key=f"department:{_dept(db, 'sales')}")
    assert f'settings-{sales.id}"' in page and "quota_mb" not in page  # leaders do not set quotas
    assert len(re.findall(r'data-testid="settings-\d+"', page)) == 1
    saved = leader.post(f"/documents/settings/{sales.id}/admins", data={"usernames": "wang.fang，liu.yang"},
                        follow_redirects=True)
    assert "liu.yang, wang.fang" in saved.get_data(as_text=True)
    with db.query() as s:
        assert sorted(s.scalars(select(DocLibraryAdmin.username).where(DocLibraryAdmin.library_id == sales.id))) \
            == ["liu.yang", "wang.fang"]
    refused = leader.post(f"/documents/settings/{sales.id}/admins", data={"usernames": "ghost"}, follow_redirects=True)
    assert "No such user" in refused.get_data(as_text=True)
    finance = login("admin").get("/documents/settings/") and library_of(db, key=f"department:{_dept(db, 'finance')}")
    assert leader.post(f"/documents/settings/{finance.id}/admins", data={"usernames": "li.na"}).status_code == 403
    assert leader.post(f"/documents/settings/{sales.id}/quota", data={"quota_mb": "1"}).status_code == 403


def test_employees_have_no_settings(app, login):
    employee = login("wang.fang")
    assert employee.get("/documents/settings/").status_code == 403
    assert "library-settings-link" not in employee.get("/documents/").get_data(as_text=True)
    assert employee.post("/documents/settings/drives", data={"username": "wang.fang", "quota_mb": ""}).status_code == 403


def _dept(db, code: str) -> int:
    with db.query() as s:
        return s.scalar(select(Department.id).where(Department.code == code))

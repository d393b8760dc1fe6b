"""The test suite's prepared databases: built once per key, restored as they were, with a fresh revision."""
from __future__ import annotations

from sqlalchemy import select

from org import service as org
from org.models import Department, OrgRevision, User
from tests.conftest import _empty
from tests.snapshots import prepared


def _rows(db) -> tuple:
    with db.query() as session:
        users = session.execute(select(User.id, User.username, User.department_id, User.superior_id)
                                .order_by(User.id)).all()
        departments = session.execute(select(Department.id, Department.code, Department.leader_id)
                                      .order_by(Department.id)).all()
        return users, departments, session.scalar(select(OrgRevision.value).where(OrgRevision.id == 1))


def test_a_prepared_database_is_built_once_and_restored_row_for_row(db):
    key = "snapshots-self-test"  # a key of its own: no other test's copy is reused
    builds = []

    def build(database):
        builds.append(1)
        with database.command() as session:
            sales = org.save_unit(session=session, kind="department", code="sales", name="销售部")
            boss = org.save_user(session=session, username="boss", display_name="老板", department="sales",
                                 password="a-long-password")
            org.save_user(session=session, username="clerk", display_name="职员", department="sales",
                          superior="boss", password="a-long-password")
            sales.leader = boss

    prepared(db, key, build)
    first_users, first_departments, first_revision = _rows(db)
    assert [u.username for u in first_users] == ["boss", "clerk"] and first_departments[0].leader_id

    _empty(db)
    prepared(db, key, build)
    users, departments, revision = _rows(db)
    assert builds == [1]  # restored, not built again
    # Rows that point at each other (a leader in the department they lead) come back whole, ids and all.
    assert (users, departments) == (first_users, first_departments)
    assert revision != first_revision  # caches keyed by the revision never take one test's data for another's
    with db.command() as session:  # the id sequences carry on after the restored rows
        org.save_user(session=session, username="new.hire", display_name="新人", department="sales",
                      password="a-long-password")
    assert max(u.id for u in _rows(db)[0]) > max(u.id for u in users)

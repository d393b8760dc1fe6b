"""The organisation index is cached across sessions only while the organisation revision is unchanged."""
from __future__ import annotations

from instances.actors import Actor
from org import grants, permissions
from org import service as org
from org.revision import current_revision


def _access(db, username):
    with db.query() as session:
        return permissions.access_for(session=session, actor=Actor(username), resource="records:lead", action="view")


def test_changes_bump_the_revision_and_refresh_the_cache(db):
    with db.command() as session:
        org.save_unit(session=session, kind="role", code="employee", name="Employee")
        org.save_unit(session=session, kind="department", code="sales", name="Sales")
        org.save_user(session=session, username="anna", display_name="Anna", roles=["employee"])
        grants.install_default_grants(session=session)
    with db.query() as session:
        first = current_revision(session)
    assert _access(db, "anna").grant.departments == frozenset()
    with db.command() as session:  # anna joins sales: the next check must see it
        user = org.get_user_or_raise(session=session, username="anna")
        org.save_user(session=session, user=user, username="anna", display_name="Anna", department="sales",
                      roles=["employee"])
    with db.query() as session:
        assert current_revision(session) > first
        sales = org.get_unit_or_raise(session=session, kind="department", code="sales").id
    assert _access(db, "anna").grant.departments == frozenset({sales})


def test_signing_in_does_not_bump_the_revision(db):
    with db.command() as session:
        user = org.save_user(session=session, username="anna", display_name="Anna")
        org.set_password(user=user, password="correct horse battery")
    with db.query() as session:
        before = current_revision(session)
    with db.command() as session:
        org.authenticate(session=session, username="anna", password="correct horse battery")
    with db.query() as session:
        assert current_revision(session) == before


def test_a_cached_index_is_reused_while_nothing_changes(db):
    with db.command() as session:
        org.save_user(session=session, username="anna", display_name="Anna")
    with db.query() as session:
        first = permissions.org_index(session)
    with db.query() as session:
        assert permissions.org_index(session) is first


def test_a_revision_read_with_an_organisation_change_pending_sees_its_bump(db):
    with db.command() as session:
        user = org.save_user(session=session, username="anna", display_name="Anna")
    with db.command() as session:
        before = current_revision(session)
        user = org.get_user_or_raise(session=session, username="anna")
        user.display_name = "Anna Li"  # pending, not flushed yet
        assert current_revision(session) > before

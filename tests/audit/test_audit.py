"""The audit log: changes with before and after, sign-ins, origins, filters, and no editing of entries."""
from __future__ import annotations

import pytest

from audit import service as audit
from audit.models import AuditEntry, AuditTampering
from org import service as org
from org.errors import SignInRefused
from records import service as records
from tests.records.conftest import ANNA, load_org


def test_record_changes_are_logged_with_before_and_after_and_origin(db):
    with db.command() as session:
        load_org(session)
        records.install_core_types(session=session)
    with audit.origin("203.0.113.7", "anna"), db.command() as session:
        record = records.create_record(session=session, type_key="customer", actor=ANNA, data={"name": "甲公司"})
    with db.command() as session:
        records.update_record(session=session, record_id=record.id, data={"name": "乙公司"}, actor=ANNA,
                              lock_version=1)
    with db.query() as session:
        entries, total = audit.search(session, object_type="record", object_id=record.id)
    assert total == 2
    assert (entries[0].action, entries[0].before, entries[0].after) == ("record.updated", {"name": "甲公司"},
                                                                        {"name": "乙公司"})
    assert entries[1].action == "record.created" and entries[1].ip == "203.0.113.7"


def test_people_settings_and_sign_ins_are_logged(db):
    with db.command() as session:
        load_org(session)
        user = org.get_user_or_raise(session=session, username="anna")
        org.set_password(user=user, password="correct horse battery")
    with db.command() as session:  # callers catch the refusal inside the transaction to keep the attempt
        with pytest.raises(SignInRefused):
            org.authenticate(session=session, username="anna", password="wrong", ip="198.51.100.1")
    with db.command() as session:
        org.authenticate(session=session, username="anna", password="correct horse battery")
    with db.query() as session:
        access, _ = audit.search(session, kind="access")
        changes, _ = audit.search(session, kind="change", action="user.")
        grants, _ = audit.search(session, object_type="role")
    assert [e.action for e in access] == ["sign_in", "sign_in_refused"]
    assert {e.object_id for e in changes} >= {"anna", "ben", "maya"}
    created = next(e for e in changes if e.object_id == "eve")
    assert created.after["department"] == "sales_east" and created.before is None and "password" not in str(created.after)
    # Roles created are logged; the default grants are shipped data, not an admin's change.
    assert {e.action for e in grants} == {"role.saved"}


def test_entries_cannot_be_changed_or_deleted_through_the_application(db):
    with db.command() as session:
        entry = audit.log(session, actor="admin", action="settings.changed")
    with pytest.raises(AuditTampering), db.command() as session:
        session.get(AuditEntry, entry.id).summary = "nothing happened"
        session.flush()
    with pytest.raises(AuditTampering), db.command() as session:
        session.delete(session.get(AuditEntry, entry.id))
        session.flush()
    with db.query() as session:
        assert session.get(AuditEntry, entry.id).summary == ""


def test_filters_pages_and_iteration(db):
    with db.command() as session:
        for i in range(7):
            audit.log(session, actor="admin" if i % 2 else "li.na", action=f"thing.{i}", object_type="x",
                      object_id=i)
    with db.query() as session:
        rows, total = audit.search(session, actor="admin", page_size=2)
        assert total == 3 and [r.object_id for r in rows] == ["5", "3"]
        assert [r.object_id for r in audit.iterate(session, object_type="x")] == [str(i) for i in range(6, -1, -1)]
    with pytest.raises(ValueError):
        audit.log(None, actor="x", action="y", kind="gossip")


def test_deploying_and_publishing_models_are_logged(db):
    from definitions import service as definitions
    from definitions.bundle import read_path
    from tests.conftest import ROOT
    with audit.origin("192.0.2.5", "luo.bin"), db.command() as session:
        version, _ = definitions.deploy(session=session, files=read_path(ROOT / "bpmn" / "leave_request"),
                                        actor="luo.bin", publish=False)
        definitions.set_status(session=session, definition_id=version.id, status="published")
    with db.query() as session:
        entries, _ = audit.search(session, object_type="definition")
    assert [e.action for e in entries] == ["definition.status", "definition.deployed"]
    assert entries[0].after == {"status": "published"} and entries[0].actor == "luo.bin" and entries[1].ip == "192.0.2.5"

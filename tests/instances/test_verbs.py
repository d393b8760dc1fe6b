"""Approval verbs: transfer, delegate and hand back, carbon copy, urge, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, true

from database.base import utcnow
from instances import inbox, service, verbs
from instances.actors import Actor
from instances.errors import Conflict, InstanceNotFound, InvalidInput, NotAllowed, WorkItemNotFound
from instances.inbox import InboxFilter
from instances.models import (
    HistoryEvent,
    InstanceCopy,
    OutboxMessage,
    ProcessInstance,
    WorkItem,
    WorkItemCandidate,
)

from .test_service import ALICE, BOB, HR_CAROL, complete, deploy, open_items, start

DAVE, ERIN, ADMIN = Actor("dave"), Actor("erin"), Actor("root", is_admin=True)


def run(db, verb, **kw):
    with db.command() as session:
        result = verb(session=session, **kw)
        return result if not isinstance(result, WorkItem) else (result.assignee, result.owner)


def item_of(db, item_id) -> WorkItem:
    with db.query() as session:
        return session.get(WorkItem, item_id)


def events(db, iid, kind):
    with db.query() as session:
        return list(session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == iid,
                                                               HistoryEvent.type == kind).order_by(HistoryEvent.id)))


def notifications(db):
    with db.query() as session:
        # The engine also queues "task_assigned" notices for new items; these tests are about the verbs'.
        return [m.payload for m in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "notification")
                                                   .order_by(OutboxMessage.id))
                if m.payload.get("kind") != "task_assigned"]


def mine(db, actor):
    with db.query() as session:
        return [item.id for item, _ in inbox.list_inbox(session=session, actor=actor, flt=InboxFilter()).rows]


def test_transfer_gives_the_task_to_another_person(db):
    deploy(db)
    iid = start(db)
    [task] = open_items(db, iid)
    assert run(db, verbs.transfer_task, work_item_id=task.id, actor=BOB, to_user="dave", comment="on leave") == (
        "dave", None)
    assert mine(db, DAVE) == [task.id] and mine(db, BOB) == []
    [event] = events(db, iid, "task_transferred")
    assert (event.actor, event.work_item_id, event.details) == ("bob", task.id,
                                                                {"from": "bob", "to": "dave", "comment": "on leave"})
    assert event.at is not None
    assert notifications(db)[-1]["to"] == "dave"
    with pytest.raises(NotAllowed):
        complete(db, task.id, BOB, decision="approve")
    assert complete(db, task.id, DAVE, decision="approve") == "running"


def test_transfer_permissions_and_input(db):
    deploy(db)
    iid = start(db)
    [task] = open_items(db, iid)
    with pytest.raises(NotAllowed):
        run(db, verbs.transfer_task, work_item_id=task.id, actor=ALICE, to_user="dave", comment=None)
    for bad in ("", "   ", None, "bob", "x" * 151):
        with pytest.raises(InvalidInput) as info:
            run(db, verbs.transfer_task, work_item_id=task.id, actor=BOB, to_user=bad, comment=None)
        assert info.value.details == {"field": "to_user"}
    with pytest.raises(WorkItemNotFound):
        run(db, verbs.transfer_task, work_item_id=999999, actor=BOB, to_user="dave", comment=None)
    assert run(db, verbs.transfer_task, work_item_id=task.id, actor=ADMIN, to_user="erin", comment=None) == (
        "erin", None)
    complete(db, task.id, ERIN, decision="approve")
    with pytest.raises(Conflict):
        run(db, verbs.transfer_task, work_item_id=task.id, actor=ERIN, to_user="dave", comment=None)


def test_a_candidate_transfers_a_group_task_and_it_leaves_the_group(db):
    deploy(db)
    iid = start(db)
    [task] = open_items(db, iid)
    complete(db, task.id, BOB, decision="approve")
    [hr_task] = open_items(db, iid)
    with pytest.raises(WorkItemNotFound):  # not a candidate: cannot see it at all
        run(db, verbs.transfer_task, work_item_id=hr_task.id, actor=DAVE, to_user="erin", comment=None)
    run(db, verbs.transfer_task, work_item_id=hr_task.id, actor=HR_CAROL, to_user="erin", comment=None)
    with db.query() as session:
        assert session.scalars(select(WorkItemCandidate).where(
            WorkItemCandidate.work_item_id == hr_task.id)).all() == []
    with db.query() as session:
        assert service.list_my_tasks(session=session, actor=HR_CAROL) == []
    assert events(db, iid, "task_transferred")[0].details["from"] == "carol"
    assert complete(db, hr_task.id, ERIN, decision="approve") == "completed"


def test_delegation_round_trip_refuses_completion_while_delegated(db):
    deploy(db)
    iid = start(db)
    [task] = open_items(db, iid)
    assert run(db, verbs.delegate_task, work_item_id=task.id, actor=BOB, to_user="dave", comment="your view?") == (
        "dave", "bob")
    assert mine(db, DAVE) == [task.id]
    with pytest.raises(Conflict) as info:
        complete(db, task.id, DAVE, decision="approve")
    assert "delegated to you by bob" in info.value.message and info.value.details["owner"] == "bob"
    with pytest.raises(NotAllowed):
        complete(db, task.id, BOB, decision="approve")
    with pytest.raises(Conflict):  # the delegate may only hand it back
        run(db, verbs.transfer_task, work_item_id=task.id, actor=DAVE, to_user="erin", comment=None)
    with pytest.raises(Conflict):
        run(db, verbs.delegate_task, work_item_id=task.id, actor=DAVE, to_user="erin", comment=None)
    with pytest.raises(NotAllowed):
        run(db, verbs.resolve_delegation, work_item_id=task.id, actor=BOB, comment=None)
    assert run(db, verbs.resolve_delegation, work_item_id=task.id, actor=DAVE, comment="fine by me") == ("bob", None)
    with pytest.raises(Conflict):
        run(db, verbs.resolve_delegation, work_item_id=task.id, actor=BOB, comment=None)
    [delegated] = events(db, iid, "task_delegated")
    assert (delegated.actor, delegated.details) == ("bob", {"owner": "bob", "to": "dave", "comment": "your view?"})
    [resolved] = events(db, iid, "delegation_resolved")
    assert (resolved.actor, resolved.details) == ("dave", {"from": "dave", "to": "bob", "comment": "fine by me"})
    assert [n["to"] for n in notifications(db)] == ["dave", "bob"]
    assert complete(db, task.id, BOB, decision="approve") == "running"


def test_delegation_input(db):
    deploy(db)
    iid = start(db)
    [task] = open_items(db, iid)
    for bad in ("bob", "", None):
        with pytest.raises(InvalidInput) as info:
            run(db, verbs.delegate_task, work_item_id=task.id, actor=BOB, to_user=bad, comment=None)
        assert info.value.details == {"field": "to_user"}
    with pytest.raises(NotAllowed):
        run(db, verbs.delegate_task, work_item_id=task.id, actor=ALICE, to_user="dave", comment=None)
    with pytest.raises(InvalidInput) as info:
        run(db, verbs.delegate_task, work_item_id=task.id, actor=BOB, to_user="dave", comment="x" * 2001)
    assert info.value.details == {"field": "comment"}


def test_copy_dedupes_unread_copies_and_records_reads(db):
    deploy(db)
    iid = start(db)
    copies = run(db, verbs.copy_instance, instance_id=iid, actor=ALICE, to_users=["dave", "erin", "dave"],
                 note="fyi")
    assert len(copies) == 2
    assert [n["to"] for n in notifications(db)] == ["dave", "erin"]
    assert notifications(db)[0]["instance_id"] == iid
    assert run(db, verbs.copy_instance, instance_id=iid, actor=ALICE, to_users=["dave"], note=None) == []
    with db.command() as session:
        inbox.mark_copy_read(session=session, actor=DAVE, instance_id=iid)
    with db.query() as session:
        listed = verbs.list_copies(session=session, instance_id=iid)
        assert [(c.username, c.sent_by, c.read_at is not None) for c in listed] == [
            ("dave", "alice", True), ("erin", "alice", False)]
    # dave read his copy, so a new one is sent; erin's unread copy is not repeated.
    assert len(run(db, verbs.copy_instance, instance_id=iid, actor=DAVE, to_users=["dave", "erin"], note=None)) == 1
    history = events(db, iid, "copied")
    assert [(h.actor, h.details["to"]) for h in history] == [("alice", ["dave", "erin"]), ("alice", []),
                                                              ("dave", ["dave"])]
    assert history[0].details["note"] == "fyi" and history[2].details["skipped"] == ["erin"]
    with db.query() as session:
        assert inbox.counts(session=session, actor=ERIN)["cc"] == 1


def test_copy_permissions_and_input(db):
    deploy(db)
    iid = start(db)
    with pytest.raises(InstanceNotFound):  # dave takes no part yet
        run(db, verbs.copy_instance, instance_id=iid, actor=DAVE, to_users=["erin"], note=None)
    run(db, verbs.copy_instance, instance_id=iid, actor=BOB, to_users=["erin"], note=None)  # the approver may
    run(db, verbs.copy_instance, instance_id=iid, actor=DAVE, to_users=["frank"], note=None, watch=true())  # a watcher by grant
    for bad in ([], "dave", [""], [3], ["x"] * 51):
        with pytest.raises(InvalidInput) as info:
            run(db, verbs.copy_instance, instance_id=iid, actor=ALICE, to_users=bad, note=None)
        assert info.value.details == {"field": "to_users"}
    with pytest.raises(InstanceNotFound):
        run(db, verbs.copy_instance, instance_id=999999, actor=ALICE, to_users=["dave"], note=None)
    with db.query() as session:
        assert session.query(InstanceCopy).count() == 2


def test_urge_is_for_the_initiator_once_an_interval(db):
    deploy(db)
    iid = start(db)
    [task] = open_items(db, iid)
    now = utcnow()
    run(db, verbs.urge_task, work_item_id=task.id, actor=ALICE, comment="please", now=now)
    assert item_of(db, task.id).last_urged_at == now
    assert notifications(db)[-1]["to"] == "bob" and notifications(db)[-1]["work_item_id"] == task.id
    with pytest.raises(Conflict) as info:
        run(db, verbs.urge_task, work_item_id=task.id, actor=ALICE, comment=None, now=now + timedelta(minutes=59))
    assert info.value.details["next_urge_at"] == (now + timedelta(hours=1)).isoformat()
    run(db, verbs.urge_task, work_item_id=task.id, actor=ALICE, comment=None, now=now + timedelta(hours=1))
    run(db, verbs.urge_task, work_item_id=task.id, actor=ADMIN, comment=None, now=now + timedelta(hours=3))
    with pytest.raises(NotAllowed):  # the approver sees the instance but did not start it
        run(db, verbs.urge_task, work_item_id=task.id, actor=BOB, comment=None)
    with pytest.raises(WorkItemNotFound):
        run(db, verbs.urge_task, work_item_id=task.id, actor=DAVE, comment=None)
    urged = events(db, iid, "task_urged")
    assert [(h.actor, h.details["to"]) for h in urged] == [("alice", ["bob"]), ("alice", ["bob"]), ("root", ["bob"])]
    assert urged[0].details["comment"] == "please"
    complete(db, task.id, BOB, decision="approve")
    with pytest.raises(Conflict):
        run(db, verbs.urge_task, work_item_id=task.id, actor=ALICE, comment=None, now=now + timedelta(days=1))
    [hr_task] = open_items(db, iid)
    run(db, verbs.urge_task, work_item_id=hr_task.id, actor=ALICE, comment=None)
    assert notifications(db)[-1]["to"] == "group:hr"


def countersign(db):
    deploy(db, "countersign.bpmn")
    iid = start(db, key="countersign", data={"approvers": ["bob", "carol", "dave"]})
    return iid, {i.assignee: i for i in open_items(db, iid)}


def test_transferring_a_countersign_signature_keeps_the_majority(db):
    iid, items = countersign(db)
    run(db, verbs.transfer_task, work_item_id=items["bob"].id, actor=BOB, to_user="erin", comment=None)
    assert complete(db, items["bob"].id, ERIN, decision="approve") == "running"
    assert complete(db, items["carol"].id, Actor("carol"), decision="reject") == "running"
    assert complete(db, items["dave"].id, DAVE, decision="approve") == "completed"
    with db.query() as session:
        done = session.scalars(select(WorkItem).where(WorkItem.instance_id == iid).order_by(WorkItem.id)).all()
    assert [(i.completed_by, i.decision) for i in done] == [("erin", "approved"), ("carol", "rejected"),
                                                            ("dave", "approved")]


def test_verbs_work_inside_a_countersign(db):
    iid, items = countersign(db)
    run(db, verbs.delegate_task, work_item_id=items["bob"].id, actor=BOB, to_user="erin", comment=None)
    run(db, verbs.urge_task, work_item_id=items["carol"].id, actor=ALICE, comment=None)
    run(db, verbs.copy_instance, instance_id=iid, actor=DAVE, to_users=["frank"], note=None)
    run(db, verbs.resolve_delegation, work_item_id=items["bob"].id, actor=ERIN, comment="ok")
    assert complete(db, items["bob"].id, BOB, decision="reject") == "running"
    assert complete(db, items["carol"].id, Actor("carol"), decision="reject") == "completed"
    with db.query() as session:
        assert session.get(WorkItem, items["dave"].id).status == "cancelled"
        assert [h.type for h in service.list_history(session=session, instance_id=iid)].count("task_completed") == 2


def test_verbs_refuse_a_process_that_is_not_running(db):
    deploy(db)
    iid = start(db)
    [task] = open_items(db, iid)
    with db.command() as session:
        session.get(ProcessInstance, iid).status = "suspended"
    for verb, kw in ((verbs.transfer_task, {"actor": BOB, "to_user": "dave"}),
                     (verbs.delegate_task, {"actor": BOB, "to_user": "dave"}),
                     (verbs.urge_task, {"actor": ALICE})):
        with pytest.raises(Conflict) as info:
            run(db, verb, work_item_id=task.id, comment=None, **kw)
        assert info.value.details["status"] == "suspended"
    assert item_of(db, task.id).assignee == "bob"


def test_tasks_stay_workable_during_an_incident_but_not_when_suspended(db):
    deploy(db)
    iid = start(db)
    [task] = open_items(db, iid)
    for status, allowed in (("incident", True), ("suspended", False)):
        with db.command() as session:
            session.get(ProcessInstance, iid).status = status
        if allowed:
            assert run(db, verbs.transfer_task, work_item_id=task.id, actor=BOB, to_user="dave")[0] == "dave"
            assert complete(db, task.id, DAVE, decision="approve") in ("running", "incident")
        else:
            [next_task] = open_items(db, iid)
            with pytest.raises(Conflict):
                run(db, verbs.transfer_task, work_item_id=next_task.id, actor=HR_CAROL, to_user="dave")

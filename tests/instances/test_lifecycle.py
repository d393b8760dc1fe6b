"""Terminate, suspend, resume and withdraw instances; standing proxies; on SQLite and PostgreSQL."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from database.base import utcnow
from instances import jobs, lifecycle, messages, service
from instances.actors import Actor
from instances.errors import Conflict, InvalidInput, NotAllowed
from instances.models import HistoryEvent, MessageSubscription, ProcessInstance, WorkItem, WorkItemCandidate

from .test_service import ALICE, BOB, HR_CAROL, complete, deploy, open_items, start

ADMIN = Actor("root", is_admin=True)


def _run(db, verb, iid, actor, **kw):
    with db.command() as session:
        return getattr(lifecycle, verb)(session=session, instance_id=iid, actor=actor, **kw).status


def _instance(db, iid) -> ProcessInstance:
    with db.query() as session:
        return session.get(ProcessInstance, iid)


def _events(db, iid, kind: str) -> list[HistoryEvent]:
    with db.query() as session:
        return [h for h in service.list_history(session=session, instance_id=iid) if h.type == kind]


def test_admin_terminates_with_a_reason_and_every_open_task_is_cancelled(db):
    deploy(db)
    iid = start(db)
    [task] = open_items(db, iid)
    with pytest.raises(NotAllowed):
        _run(db, "terminate_instance", iid, ALICE, reason="mine")
    with pytest.raises(NotAllowed):
        _run(db, "terminate_instance", iid, BOB, reason="no")
    with pytest.raises(InvalidInput):
        _run(db, "terminate_instance", iid, ADMIN, reason="  ")
    assert _run(db, "terminate_instance", iid, ADMIN, reason="duplicate request") == "terminated"
    instance = _instance(db, iid)
    assert instance.ended_at is not None and instance.next_wake_at is None and instance.state != "{}"
    assert open_items(db, iid) == []
    [event] = _events(db, iid, "instance_terminated")
    assert (event.actor, event.details) == ("root", {"reason": "duplicate request", "cancelled_tasks": [task.id]})
    with pytest.raises(Conflict, match="terminated"):
        complete(db, task.id, BOB, decision="approve")
    with pytest.raises(Conflict):
        _run(db, "terminate_instance", iid, ADMIN, reason="again")


def test_terminating_a_countersign_cancels_all_pending_signers(db):
    deploy(db, "countersign.bpmn")
    iid = start(db, key="countersign", data={"approvers": ["bob", "carol", "dave", "erin"]})
    by_user = {i.assignee: i for i in open_items(db, iid)}
    assert complete(db, by_user["bob"].id, BOB, decision="approve") == "running"
    assert _run(db, "terminate_instance", iid, ADMIN, reason="contract cancelled") == "terminated"
    with db.query() as session:
        rows = {i.assignee: i.status for i in session.query(WorkItem).filter_by(instance_id=iid)}
        assert rows == {"bob": "completed", "carol": "cancelled", "dave": "cancelled", "erin": "cancelled"}
        assert session.query(WorkItemCandidate).count() == 0
    assert len(_events(db, iid, "task_cancelled")) == 3


def _start_order(db) -> int:
    deploy(db, "messages/order_flow.bpmn")
    with db.command() as session:
        instance = service.start_instance(session=session, key="order_flow", actor=ALICE,
                                          data={"order_id": "A-1", "amount": 5})
        assert instance.waiting_messages == ["payment_received"]
        return instance.id


def test_terminate_removes_message_subscriptions(db):
    iid = _start_order(db)
    _run(db, "terminate_instance", iid, ADMIN, reason="stop")
    with db.query() as session:
        assert session.query(MessageSubscription).filter_by(instance_id=iid).count() == 0
        assert session.get(ProcessInstance, iid).waiting_messages == []


def test_suspended_instance_refuses_work_and_resumes(db):
    deploy(db)
    iid = start(db)
    [task] = open_items(db, iid)
    with pytest.raises(NotAllowed):
        _run(db, "suspend_instance", iid, BOB)
    assert _run(db, "suspend_instance", iid, ADMIN, reason="audit") == "suspended"
    with pytest.raises(Conflict, match="suspended"):
        _run(db, "suspend_instance", iid, ADMIN)
    with pytest.raises(Conflict, match="suspended") as info:
        complete(db, task.id, BOB, decision="approve")
    assert info.value.details["status"] == "suspended"
    with pytest.raises(NotAllowed):
        _run(db, "resume_instance", iid, ALICE)
    assert _run(db, "resume_instance", iid, ADMIN) == "running"
    with pytest.raises(Conflict):
        _run(db, "resume_instance", iid, ADMIN)
    assert complete(db, task.id, BOB, decision="approve") == "running"
    [hr_task] = open_items(db, iid)
    _run(db, "suspend_instance", iid, ADMIN)
    with pytest.raises(Conflict, match="suspended"):
        with db.command() as session:
            service.claim_task(session=session, work_item_id=hr_task.id, actor=HR_CAROL)
    assert [e.details["reason"] for e in _events(db, iid, "instance_suspended")] == ["audit", None]
    assert [e.actor for e in _events(db, iid, "instance_resumed")] == ["root"]


def test_worker_skips_suspended_instances_and_fires_after_resume(db):
    deploy(db, "timer_wait.bpmn")
    iid = start(db, key="timer_wait", data={})
    wake = _instance(db, iid).next_wake_at
    _run(db, "suspend_instance", iid, ADMIN)
    delay = (wake - utcnow()).total_seconds()
    if delay > 0:
        time.sleep(delay + 0.05)
    assert jobs.run_due_timers(db, now=wake + timedelta(seconds=1)) == 0
    assert _instance(db, iid).status == "suspended"
    assert _run(db, "resume_instance", iid, ADMIN) == "running"
    assert _instance(db, iid).next_wake_at == wake
    assert jobs.run_due_timers(db, now=wake + timedelta(seconds=2)) == 1
    assert _instance(db, iid).status == "completed"


def test_messages_are_not_delivered_to_suspended_instances(db):
    iid = _start_order(db)
    _run(db, "suspend_instance", iid, ADMIN)
    with db.command() as session, pytest.raises(messages.NoReceiver):
        messages.send_message(session=session, name="payment_received", payload={"order_id": "A-1"},
                              actor=ADMIN)
    _run(db, "resume_instance", iid, ADMIN)
    with db.command() as session:
        assert messages.send_message(session=session, name="payment_received", payload={"order_id": "A-1"},
                                     actor=ADMIN).id == iid


def test_initiator_withdraws_before_anyone_acted(db):
    deploy(db)
    iid = start(db)
    with pytest.raises(NotAllowed):
        _run(db, "withdraw_instance", iid, BOB, reason="not mine")
    with pytest.raises(NotAllowed):
        _run(db, "withdraw_instance", iid, ADMIN, reason="admins terminate instead")
    with pytest.raises(InvalidInput):
        _run(db, "withdraw_instance", iid, ALICE, reason="")
    assert _run(db, "withdraw_instance", iid, ALICE, reason="dates changed") == "withdrawn"
    assert open_items(db, iid) == []
    [event] = _events(db, iid, "instance_withdrawn")
    assert (event.actor, event.details["reason"]) == ("alice", "dates changed")
    with pytest.raises(Conflict):
        _run(db, "withdraw_instance", iid, ALICE, reason="twice")


def test_withdraw_is_refused_after_the_manager_approved(db):
    deploy(db)
    iid = start(db)
    [task] = open_items(db, iid)
    complete(db, task.id, BOB, decision="approve")
    with db.query() as session:
        assert lifecycle.others_who_acted(session=session, instance=session.get(ProcessInstance, iid)) == ["bob"]
    with pytest.raises(Conflict, match="bob already acted") as info:
        _run(db, "withdraw_instance", iid, ALICE, reason="too late")
    assert info.value.details["acted"] == ["bob"]
    assert _instance(db, iid).status == "running" and len(open_items(db, iid)) == 1


def _proxy(db, actor, to, start=-1, end=5, keys=None):
    now = utcnow()
    with db.command() as session:
        return lifecycle.set_proxy(session=session, actor=actor, proxy_user=to, starts_at=now + timedelta(days=start),
                                   ends_at=now + timedelta(days=end), definition_keys=keys).id


def test_new_direct_tasks_go_to_an_active_proxy(db):
    deploy(db)
    _proxy(db, BOB, "dave")
    iid = start(db)
    [task] = open_items(db, iid)
    assert task.assignee == "dave"
    [event] = _events(db, iid, "task_proxied")
    assert event.details == {"for": "bob", "to": "dave"} and event.work_item_id == task.id
    assert complete(db, task.id, Actor("dave"), decision="approve") == "running"
    [hr_task] = open_items(db, iid)
    assert hr_task.assignee is None  # group items are not proxied


def test_proxy_honours_dates_keys_and_revocation(db):
    deploy(db)
    future = _proxy(db, BOB, "dave", start=2, end=5)
    other_process = _proxy(db, BOB, "erin", keys=["purchase"])
    iid = start(db)
    assert open_items(db, iid)[0].assignee == "bob"
    matching = _proxy(db, BOB, "frank", keys=["leave_request", "purchase"])
    assert open_items(db, start(db))[0].assignee == "frank"
    with db.command() as session:
        lifecycle.revoke_proxy(session=session, actor=BOB, proxy_id=matching)
        with pytest.raises(Conflict):
            lifecycle.revoke_proxy(session=session, actor=BOB, proxy_id=matching)
        with pytest.raises(lifecycle.ProxyNotFound):
            lifecycle.revoke_proxy(session=session, actor=ALICE, proxy_id=future)
    assert open_items(db, start(db))[0].assignee == "bob"
    now = utcnow()
    with db.query() as session:
        assert lifecycle.proxy_for(session=session, username="bob", definition_key="leave_request",
                                   at=now + timedelta(days=3)) == "dave"
        assert lifecycle.proxy_for(session=session, username="bob", definition_key="purchase", at=now) == "erin"
        assert lifecycle.proxy_for(session=session, username="bob", definition_key="purchase",
                                   at=now + timedelta(days=6)) is None
        states = {p.id: lifecycle.proxy_state(p) for p in lifecycle.list_proxies(session=session, actor=BOB)}
        assert states == {future: "scheduled", other_process: "active", matching: "revoked"}
        assert [p.username for p in lifecycle.list_proxies(session=session, actor=Actor("dave"),
                                                           acting_for=True)] == ["bob"]


def test_proxies_are_one_hop_only(db):
    deploy(db)
    _proxy(db, BOB, "dave")
    _proxy(db, Actor("dave"), "bob")
    assert open_items(db, start(db))[0].assignee == "dave"


@pytest.mark.parametrize("to, start, end, keys, field", [
    ("bob", -1, 5, None, "proxy"), ("BOB", -1, 5, None, "proxy"), ("", -1, 5, None, "proxy"),
    ("dave", 5, 1, None, "ends_at"), ("dave", -5, -1, None, "ends_at"), ("dave", 0, 400, None, "ends_at"),
    ("dave", -1, 5, "leave_request", "definition_keys"), ("dave", -1, 5, [""], "definition_keys")])
def test_proxy_input_is_checked(db, to, start, end, keys, field):
    with pytest.raises(InvalidInput) as info:
        _proxy(db, BOB, to, start, end, keys)
    assert info.value.details["field"] == field

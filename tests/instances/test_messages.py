"""Messages between instances: thrown messages start processes, correlated messages find their instance."""
from __future__ import annotations

import pytest

from definitions import service as definitions
from instances import messages, service
from instances.actors import Actor
from instances.models import MessageSubscription, OutboxMessage, ProcessInstance
from tests.conftest import read_bundle

ALICE = Actor("alice")


def _deploy(db):
    with db.command() as session:
        for name in ("order_flow.bpmn", "fulfilment.bpmn"):
            definitions.deploy(session=session, files={name: read_bundle(f"messages/{name}")[name]})


def _start_order(db, order_id: str) -> int:
    with db.command() as session:
        return service.start_instance(session=session, key="order_flow", actor=ALICE,
                                      data={"order_id": order_id, "amount": 120}).id


def test_thrown_message_starts_the_process_that_waits_for_it(db):
    _deploy(db)
    order = _start_order(db, "PO-1")
    with db.query() as session:
        [queued] = session.query(OutboxMessage).filter_by(kind="bpmn_message").all()
        assert queued.payload["name"] == "order_placed" and queued.payload["payload"]["order_id"] == "PO-1"
        assert [s.name for s in session.query(MessageSubscription).filter_by(instance_id=order)] == [
            "payment_received"]
    assert messages.deliver_outbox(db) == 1
    with db.query() as session:
        assert session.query(OutboxMessage).filter_by(kind="bpmn_message").one().status == "sent"
        started = session.query(ProcessInstance).filter_by(definition_key="fulfilment").one()
        [pack] = service.list_open_work_items(session=session, instance_id=started.id)
    assert started.data["order_id"] == "PO-1" and pack.candidate_groups == ["warehouse"]


def test_correlated_message_reaches_only_its_own_instance(db):
    _deploy(db)
    first, second = _start_order(db, "PO-1"), _start_order(db, "PO-2")
    with db.command() as session:
        receiver = messages.send_message(session=session, name="payment_received",
                                         payload={"order_id": "PO-2", "paid": 120}, actor=Actor("bank"))
    assert receiver.id == second
    with db.query() as session:
        assert session.get(ProcessInstance, second).status == "completed"
        assert session.get(ProcessInstance, second).data["payment"] == {"order_id": "PO-2", "paid": 120}
        assert session.get(ProcessInstance, first).status == "running"
        assert session.query(MessageSubscription).filter_by(instance_id=second).count() == 0
    with db.command() as session, pytest.raises(messages.NoReceiver):
        messages.send_message(session=session, name="payment_received", payload={"order_id": "PO-9"},
                              actor=Actor("bank"))
    with db.query() as session:
        assert session.get(ProcessInstance, first).status == "running"


def test_undeliverable_outbox_message_is_retried_then_failed(db):
    _deploy(db)
    with db.command() as session:
        messages.queue_message(session=session, name="nobody_listens", payload={"x": 1})
    from datetime import timedelta

    from database.base import utcnow
    now = utcnow()
    for attempt in range(1, 4):
        assert messages.deliver_outbox(db, now=now, max_attempts=3) == 0
        with db.query() as session:
            message = session.query(OutboxMessage).filter_by(kind="bpmn_message").one()
        assert message.attempts == attempt and "no instance waits for message 'nobody_listens'" in message.last_error
        now = now + timedelta(hours=1)
    assert message.status == "failed"


def test_bad_message_input_is_refused(db):
    with db.command() as session, pytest.raises(service.InvalidInput):
        messages.send_message(session=session, name="", payload={}, actor=ALICE)
    with db.command() as session, pytest.raises(service.InvalidInput):
        messages.send_message(session=session, name="x", payload=["not", "a", "dict"], actor=ALICE)

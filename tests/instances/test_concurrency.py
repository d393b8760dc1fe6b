"""Sixteen people countersigning one instance at the same moment: every decision is kept."""
from __future__ import annotations

import threading

from definitions import service as definitions
from instances import service
from instances.actors import Actor
from instances.errors import Conflict
from instances.models import HistoryEvent, ProcessInstance, WorkItem
from tests.conftest import read_bundle

SIGNERS = [f"user{i:02d}" for i in range(16)]
ALL_MUST_SIGN = read_bundle("countersign.bpmn")["countersign.bpmn"].replace(
    b"<bpmn:completionCondition>${nrOfApproved * 2 &gt; nrOfInstances || nrOfRejected * 2 &gt; nrOfInstances}"
    b"</bpmn:completionCondition>", b"")


def test_sixteen_parallel_completions_all_recorded(pg_db):
    with pg_db.command() as session:
        definitions.deploy(session=session, files={"countersign.bpmn": ALL_MUST_SIGN})
    with pg_db.command() as session:
        iid = service.start_instance(session=session, key="countersign", actor=Actor("alice"),
                                     data={"approvers": SIGNERS}).id
    with pg_db.query() as session:
        items = {i.assignee: i.id for i in service.list_open_work_items(session=session, instance_id=iid)}
    assert sorted(items) == SIGNERS
    barrier = threading.Barrier(len(SIGNERS))
    errors: list[Exception] = []

    def sign(user: str, index: int) -> None:
        barrier.wait()
        decision = "approve" if index % 4 else "reject"
        for _ in range(20):
            try:
                with pg_db.command() as session:
                    service.complete_task(session=session, work_item_id=items[user], actor=Actor(user),
                                          decision=decision)
                return
            except Conflict as exc:  # a clear conflict may be retried; a lost update may not happen
                errors.append(exc)
        raise AssertionError(f"{user} never got through")

    threads = [threading.Thread(target=sign, args=(user, i)) for i, user in enumerate(SIGNERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with pg_db.query() as session:
        instance = session.get(ProcessInstance, iid)
        done = session.query(WorkItem).filter_by(instance_id=iid, status="completed").all()
        decisions = session.query(HistoryEvent).filter_by(instance_id=iid, type="task_completed").count()
    assert instance.status == "completed"
    assert len(done) == 16 and decisions == 16
    assert sorted(i.decision for i in done) == ["approved"] * 12 + ["rejected"] * 4
    assert not errors

"""flowdesk.onOverdue: the worker approves, rejects, escalates or only notifies an overdue task, exactly once."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from database import Database
from database.base import utcnow
from definitions import service as definitions
from instances import directory, service, verbs
from instances.models import HistoryEvent, OutboxMessage, ProcessInstance, WorkItem
from instances.overdue import run_overdue_actions
from instances.worker import Worker
from org import service as org
from org.demo import load_demo
from org.directory import install
from tests.conftest import DATA

MODEL = DATA / "overdue" / "overdue_approval.bpmn"
PROPERTY = '<camunda:property name="flowdesk.onOverdue" value="approve"/>'


def later():
    """A moment long after any task created now is due (PT1H of working time, even over a long holiday)."""
    return utcnow() + timedelta(days=60)


def deploy(db, policy: str | None = "approve", *, candidates: bool = False) -> str:
    text = MODEL.read_text(encoding="utf-8")
    text = text.replace(PROPERTY, "" if policy is None else PROPERTY.replace('"approve"', f'"{policy}"'))
    if candidates:
        text = text.replace('camunda:assignee="${approver}"', 'camunda:candidateUsers="${approver}, sun.li"')
    with db.command() as session:
        version, _ = definitions.deploy(session=session, files={"overdue_approval.bpmn": text.encode()},
                                        actor="designer")
        assert version.report.get("issues") == []
        return version.key


def actor(db, username: str):
    with db.query() as session:
        return org.actor_for(org.get_user_or_raise(session=session, username=username))


def start(db, key: str, approver: str, initiator: str = "wang.fang") -> int:
    with db.command() as session:
        return service.start_instance(session=session, key=key, actor=actor(db, initiator),
                                      data={"approver": approver}).id


def item_of(db, iid: int, element_id: str = "approve") -> WorkItem:
    with db.query() as session:
        return session.scalars(select(WorkItem).where(WorkItem.instance_id == iid,
                                                      WorkItem.element_id == element_id)).one()


def events(db, iid: int, kind: str) -> list[HistoryEvent]:
    with db.query() as session:
        return [h for h in service.list_history(session=session, instance_id=iid) if h.type == kind]


def history_count(db) -> int:
    with db.query() as session:
        return session.scalar(select(func.count()).select_from(HistoryEvent))


def notified(db) -> list[tuple[str, str]]:
    with db.query() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "notification")
                               .order_by(OutboxMessage.id))
        return [(m.payload["to"], m.payload["kind"]) for m in rows]


def test_approve_completes_the_overdue_task_as_the_system_once(org_db):
    iid = start(org_db, deploy(org_db, "approve"), "li.na")
    assert item_of(org_db, iid).due_at is not None
    assert run_overdue_actions(org_db, now=utcnow()) == 0  # not due yet
    assert item_of(org_db, iid).overdue_handled_at is None

    assert run_overdue_actions(org_db, now=later()) == 1
    item = item_of(org_db, iid)
    assert (item.status, item.completed_by, item.decision) == ("completed", "system", "approved")
    assert "automatically" in item.comment and "overdue" in item.comment
    assert item.overdue_handled_at is not None and item.overdue_outcome["outcome"] == "approved"
    assert item_of(org_db, iid, "pay").assignee == "sun.li"  # the gateway saw decision == 'approve'
    [overdue] = events(org_db, iid, "task_overdue")
    assert (overdue.actor, overdue.element_id, overdue.work_item_id) == ("system", "approve", item.id)
    assert overdue.details["policy"] == "approve" and overdue.details["reason"] == "overdue"
    [done] = events(org_db, iid, "task_completed")
    assert (done.actor, done.details["decision"], done.details["comment"]) == ("system", "approved", item.comment)

    before = history_count(org_db)
    assert run_overdue_actions(org_db, now=later()) == 0  # the second scan does nothing
    assert history_count(org_db) == before


def test_reject_ends_the_request_and_tells_the_initiator(org_db):
    iid = start(org_db, deploy(org_db, "reject"), "li.na")
    assert run_overdue_actions(org_db, now=later()) == 1
    item = item_of(org_db, iid)
    assert (item.status, item.completed_by, item.decision) == ("completed", "system", "rejected")
    with org_db.query() as session:
        assert session.get(ProcessInstance, iid).status == "completed"
    assert ("wang.fang", "rejected") in notified(org_db)
    assert events(org_db, iid, "task_overdue")[0].details["outcome"] == "rejected"
    assert run_overdue_actions(org_db, now=later()) == 0


def test_escalate_transfers_the_task_to_the_holders_superior(org_db):
    iid = start(org_db, deploy(org_db, "escalate"), "sun.li")
    assert run_overdue_actions(org_db, now=later()) == 1
    item = item_of(org_db, iid)
    assert (item.status, item.assignee) == ("open", "zhao.lei")
    assert item.overdue_outcome["outcome"] == "escalated"
    [moved] = events(org_db, iid, "task_transferred")
    assert (moved.actor, moved.details["from"], moved.details["to"]) == ("system", "sun.li", "zhao.lei")
    assert "overdue" in moved.details["comment"]
    assert events(org_db, iid, "task_overdue")[0].details["to"] == "zhao.lei"
    assert ("zhao.lei", "transferred") in notified(org_db)
    assert run_overdue_actions(org_db, now=later()) == 0  # once: the superior is not escalated from in turn
    assert item_of(org_db, iid).assignee == "zhao.lei"


def test_escalate_passes_over_a_superior_who_left(org_db):
    iid = start(org_db, deploy(org_db, "escalate"), "sun.li")
    with org_db.command() as session:  # sun.li's superior zhao.lei has left; zhao.lei reported to zhang.wei
        org.set_status(session=session, user=org.get_user_or_raise(session=session, username="zhao.lei"),
                       status="left")
    assert run_overdue_actions(org_db, now=later()) == 1
    item = item_of(org_db, iid)
    assert (item.status, item.assignee) == ("open", "zhang.wei")
    assert events(org_db, iid, "task_overdue")[0].details["to"] == "zhang.wei"


def test_escalate_without_a_superior_leaves_the_task_and_says_why(org_db):
    iid = start(org_db, deploy(org_db, "escalate"), "zhang.wei")  # the general manager reports to nobody
    assert run_overdue_actions(org_db, now=later()) == 0
    item = item_of(org_db, iid)
    assert (item.status, item.assignee) == ("open", "zhang.wei")
    [left] = events(org_db, iid, "task_overdue")
    assert left.details["outcome"] == "left" and left.details["reason"] == "zhang.wei has no superior"
    assert item.overdue_outcome["outcome"] == "left"
    assert run_overdue_actions(org_db, now=later()) == 0
    assert len(events(org_db, iid, "task_overdue")) == 1


@pytest.mark.parametrize("policy", ["notify", None])
def test_notify_and_no_property_keep_todays_behaviour(org_db, policy):
    iid = start(org_db, deploy(org_db, policy), "li.na")
    assert run_overdue_actions(org_db, now=later()) == 0
    item = item_of(org_db, iid)
    assert (item.status, item.assignee) == ("open", "li.na")
    assert item.overdue_outcome["outcome"] == "notified"  # marked, so it is not looked at again
    assert events(org_db, iid, "task_overdue") == [] and events(org_db, iid, "task_transferred") == []


def test_completed_and_claimed_then_completed_items_are_untouched(org_db):
    key = deploy(org_db, "reject", candidates=True)
    done, claimed = start(org_db, key, "li.na"), start(org_db, key, "li.na")
    with org_db.command() as session:
        service.complete_task(session=session, work_item_id=item_of(org_db, done).id, actor=actor(org_db, "li.na"),
                              decision="approve")
    item_id = item_of(org_db, claimed).id
    with org_db.command() as session:
        service.claim_task(session=session, work_item_id=item_id, actor=actor(org_db, "sun.li"))
    with org_db.command() as session:
        service.complete_task(session=session, work_item_id=item_id, actor=actor(org_db, "sun.li"),
                              decision="approve")
    assert run_overdue_actions(org_db, now=later()) == 0
    for iid, by in ((done, "li.na"), (claimed, "sun.li")):
        item = item_of(org_db, iid)
        assert (item.status, item.completed_by, item.decision, item.overdue_handled_at) == (
            "completed", by, "approved", None)
        assert events(org_db, iid, "task_overdue") == []
        assert item_of(org_db, iid, "pay").status == "open"  # "pay" has no due date


def test_a_failed_action_is_marked_once_and_does_not_block_the_others(org_db):
    key = deploy(org_db, "approve")
    stuck, fine = start(org_db, key, "li.na"), start(org_db, key, "li.na")
    with org_db.command() as session:  # delegated: only its owner may decide it, so the system's approval fails
        verbs.delegate_task(session=session, work_item_id=item_of(org_db, stuck).id, actor=actor(org_db, "li.na"),
                            to_user="sun.li")
    with org_db.command() as session:  # make the stuck one come first
        session.get(WorkItem, item_of(org_db, stuck).id).due_at = utcnow() - timedelta(days=1)
    assert run_overdue_actions(org_db, now=later()) == 1
    failed = item_of(org_db, stuck)
    assert (failed.status, failed.assignee) == ("open", "sun.li")
    assert failed.overdue_outcome["outcome"] == "failed" and "delegated" in failed.overdue_outcome["error"]
    [event] = events(org_db, stuck, "task_overdue_failed")
    assert event.actor == "system" and event.details["error"] == failed.overdue_outcome["error"]
    assert item_of(org_db, fine).status == "completed"
    assert run_overdue_actions(org_db, now=later()) == 0  # not retried
    assert len(events(org_db, stuck, "task_overdue_failed")) == 1


def test_a_bad_value_is_refused_at_deployment_and_named_at_run_time(org_db):
    from definitions.errors import InvalidDefinition
    from engine.errors import EngineError
    from instances import assignment

    with pytest.raises(InvalidDefinition) as refused:
        deploy(org_db, "shout")
    assert "flowdesk.onOverdue" in str(refused.value) and "'shout'" in str(refused.value)
    assert refused.value.details["element_id"] == "approve" and refused.value.details["line"] == 7
    # A model stored before deployments checked the value still names the element when its task is created.
    with pytest.raises(EngineError) as caught:
        assignment.element_policy({"properties": {assignment.ON_OVERDUE: "shout"}}, "approve",
                                  assignment.ON_OVERDUE, assignment.OVERDUE_POLICIES)
    assert caught.value.element_id == "approve"


def test_the_worker_runs_the_overdue_actions(org_db):
    assert run_overdue_actions in Worker(org_db).core_jobs


def test_two_workers_act_exactly_once(pg_db):
    with pg_db.command() as session:
        load_demo(session=session)
    install(pg_db)
    try:
        key = deploy(pg_db, "approve")
        ids = [start(pg_db, key, "li.na") for _ in range(8)]
        moment, barrier, counts, errors = later(), threading.Barrier(2), [], []

        def work():
            database = Database(pg_db.url)
            try:
                barrier.wait()
                counts.append(run_overdue_actions(database, now=moment))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                database.dispose()

        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == [] and len(counts) == 2
        assert sum(counts) == len(ids)
        for iid in ids:
            assert item_of(pg_db, iid).completed_by == "system"
            assert len(events(pg_db, iid, "task_overdue")) == 1
            assert len(events(pg_db, iid, "task_completed")) == 1
    finally:
        directory.set_directory(None)


def test_the_modelling_guide_shows_the_task_the_tests_deploy():
    guide = (DATA.parent.parent / "docs" / "modelling.md").read_text(encoding="utf-8")
    section = guide.split("### When a task is overdue: flowdesk.onOverdue", 1)[1].split("\n## ", 1)[0]
    snippet = section.split("```xml", 1)[1].split("```", 1)[0]
    model = " ".join(MODEL.read_text(encoding="utf-8").split())
    for line in filter(None, (line.strip() for line in snippet.splitlines())):
        if not line.startswith("</bpmn:userTask"):
            assert line in model
    for value in ("`notify`", "`approve`", "`reject`", "`escalate`", "`jump:<node id>`"):
        assert value in section


def test_jump_moves_an_overdue_request_to_the_named_node_once(org_db):
    key = deploy(org_db, "jump:pay")
    iid = start(org_db, key, "li.na")
    assert run_overdue_actions(org_db, now=later()) == 1
    assert run_overdue_actions(org_db, now=later()) == 0
    with org_db.query() as session:
        items = list(session.scalars(select(WorkItem).where(WorkItem.instance_id == iid).order_by(WorkItem.id)))
        assert [(i.element_id, i.status) for i in items] == [("approve", "cancelled"), ("pay", "open")]
        assert items[0].overdue_outcome["outcome"] == "jumped" and items[0].overdue_outcome["to"] == "pay"
        kinds = [e.type for e in session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == iid))]
        assert "instance_jumped" in kinds


def test_an_unknown_policy_or_jump_target_is_refused_at_deployment(org_db):
    from definitions.errors import InvalidDefinition

    for value, words in (("sometimes", "must be one of notify, approve, reject, escalate"),
                         ("jump:nowhere", "no task, sub-process or event 'nowhere'"),
                         ("jump:approved", "no task, sub-process or event 'approved'")):
        with pytest.raises(InvalidDefinition) as refused:
            deploy(org_db, value)
        assert words in str(refused.value) and refused.value.details.get("element_id") == "approve"

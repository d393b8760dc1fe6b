"""Durable instances: start, complete, permissions, history and atomicity, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from definitions import service as definitions
from definitions.bundle import read_path, split_metadata
from instances import service
from instances.actors import Actor
from instances.errors import Conflict, InvalidInput, NotAllowed, ProcessFailure, WorkItemNotFound
from instances.models import HistoryEvent, ProcessInstance, WorkItem, WorkItemCandidate
from tests.conftest import ROOT, read_bundle

ALICE, BOB, HR_CAROL = Actor("alice"), Actor("bob"), Actor("carol", frozenset({"hr"}))
LEAVE = {"leave_type": "annual", "start_date": "2026-12-01", "end_date": "2026-12-03", "days": 3, "manager": "bob"}


def deploy(db, name: str | None = None, files=None):
    files = files or (read_path(ROOT / "bpmn" / "leave_request") if name is None else read_bundle(name))
    with db.command() as session:
        version, _ = definitions.deploy(session=session, files=files, actor="designer")
        return version.key


def start(db, key="leave_request", actor=ALICE, data=None):
    with db.command() as session:
        return service.start_instance(session=session, key=key, actor=actor, data=data or dict(LEAVE)).id


def open_items(db, instance_id):
    with db.query() as session:
        return service.list_open_work_items(session=session, instance_id=instance_id)


def complete(db, item_id, actor, **kw):
    with db.command() as session:
        return service.complete_task(session=session, work_item_id=item_id, actor=actor, **kw).status


def test_leave_request_runs_to_approval_with_history(db):
    deploy(db)
    iid = start(db)
    [manager_task] = open_items(db, iid)
    assert (manager_task.element_id, manager_task.assignee, manager_task.priority) == ("manager_approval", "bob", 60)
    assert manager_task.due_at is not None and manager_task.form_key == "approval_form.json"
    with db.query() as session:
        assert [i.id for i in service.list_my_tasks(session=session, actor=BOB)] == [manager_task.id]
        assert service.list_my_tasks(session=session, actor=ALICE) == []
    assert complete(db, manager_task.id, BOB, decision="approve", comment="ok") == "running"
    [hr_task] = open_items(db, iid)
    assert hr_task.assignee is None and hr_task.candidate_groups == ["hr"]
    with db.query() as session:
        assert [i.id for i in service.list_my_tasks(session=session, actor=HR_CAROL)] == [hr_task.id]
    assert complete(db, hr_task.id, HR_CAROL, decision="approve") == "completed"
    with db.query() as session:
        # Candidate rows are kept only while an item is open, so the group inbox stays proportional to them.
        assert session.query(WorkItemCandidate).count() == 0
        instance = session.get(ProcessInstance, iid)
        assert instance.ended_at is not None and instance.data["decision"] == "approve"
        history = service.list_history(session=session, instance_id=iid)
    types = [h.type for h in history]
    assert types[0] == "instance_started" and types[-1] == "instance_completed"
    flows = [h.details.get("flow") for h in history if h.type == "element_completed" and h.details.get("flow")]
    assert flows == ["to_assess", "to_manager", "to_manager_decision", "manager_approved", "to_hr_decision", "hr_approved",
                     "to_approved"]
    done = [h for h in history if h.type == "task_completed"]
    assert [(h.actor, h.details["decision"], h.details["comment"]) for h in done] == [
        ("bob", "approved", "ok"), ("carol", "approved", None)]


def test_rejection_takes_the_default_flow(db):
    deploy(db)
    iid = start(db)
    [task] = open_items(db, iid)
    assert complete(db, task.id, BOB, decision="reject") == "completed"
    with db.query() as session:
        history = service.list_history(session=session, instance_id=iid)
    assert "manager_rejected" in [h.details.get("flow") for h in history]
    assert "hr_approval" not in [h.element_id for h in history]


def test_other_users_cannot_see_or_complete_a_task(db):
    deploy(db)
    iid = start(db)
    [task] = open_items(db, iid)
    with pytest.raises(NotAllowed):
        complete(db, task.id, Actor("mallory"), decision="approve")
    with db.query() as session, pytest.raises(WorkItemNotFound):
        service.get_work_item_or_raise(session=session, work_item_id=task.id, actor=Actor("mallory"))
    with pytest.raises(WorkItemNotFound):
        complete(db, 999_999, BOB)
    [still] = open_items(db, iid)
    assert still.id == task.id and still.status == "open"


def test_completing_twice_is_a_conflict(db):
    deploy(db)
    iid = start(db)
    [task] = open_items(db, iid)
    complete(db, task.id, BOB, decision="approve")
    with pytest.raises(Conflict):
        complete(db, task.id, BOB, decision="approve")


def test_claim_race_and_unclaim(db):
    deploy(db)
    iid = start(db)
    [task] = open_items(db, iid)
    complete(db, task.id, BOB, decision="approve")
    [hr_task] = open_items(db, iid)
    dave = Actor("dave", frozenset({"hr"}))
    with db.command() as session:
        service.claim_task(session=session, work_item_id=hr_task.id, actor=HR_CAROL)
    with db.command() as session, pytest.raises((Conflict, WorkItemNotFound)):
        service.claim_task(session=session, work_item_id=hr_task.id, actor=dave)
    with db.query() as session:
        assert service.list_my_tasks(session=session, actor=dave) == []
    with db.command() as session:
        service.unclaim_task(session=session, work_item_id=hr_task.id, actor=HR_CAROL)
    with db.command() as session:
        assert service.claim_task(session=session, work_item_id=hr_task.id, actor=dave).assignee == "dave"


def test_bad_input_is_refused_and_nothing_is_written(db):
    deploy(db)
    for bad in ({"1x": 1}, {"_private": 1}, ["not", "an", "object"]):
        with pytest.raises(InvalidInput):
            start(db, data=bad)
    with db.query() as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 0
        assert session.scalar(select(func.count()).select_from(HistoryEvent)) == 0


def test_engine_failure_rolls_back_the_whole_command(db):
    deploy(db)
    # The manager task's assignee is ${manager}: without it the assignment fails, naming the element.
    with pytest.raises(ProcessFailure) as info:
        start(db, data={k: v for k, v in LEAVE.items() if k != "manager"})
    assert info.value.details["element_id"] == "manager_approval"
    assert "manager" in info.value.message
    with db.query() as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 0
        assert session.scalar(select(func.count()).select_from(WorkItem)) == 0


@pytest.mark.parametrize("priority", ["3000000000", "${10 ** 12}", "-3000000000"])
def test_a_priority_the_work_item_cannot_hold_is_a_clear_failure_naming_the_task(db, priority):
    files = read_path(ROOT / "bpmn" / "leave_request")
    files["leave_request.bpmn"] = files["leave_request.bpmn"].replace(
        b'camunda:priority="60"', f'camunda:priority="{priority}"'.encode())
    deploy(db, files=files)
    with pytest.raises(ProcessFailure) as info:
        start(db)
    assert info.value.details["element_id"] == "manager_approval" and "priority" in info.value.message
    with db.query() as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 0


def test_majority_countersign_ends_at_the_majority(db):
    deploy(db, "countersign.bpmn")
    iid = start(db, key="countersign", data={"approvers": ["bob", "carol", "dave"]})
    items = open_items(db, iid)
    assert sorted(i.assignee for i in items) == ["bob", "carol", "dave"]
    by_user = {i.assignee: i for i in items}
    assert complete(db, by_user["bob"].id, BOB, decision="approve") == "running"
    assert complete(db, by_user["carol"].id, Actor("carol"), decision="approve") == "completed"
    with db.query() as session:
        dave_item = session.get(WorkItem, by_user["dave"].id)
        assert dave_item.status == "cancelled"


def test_unknown_key_and_unstartable_models_are_clear_errors(db):
    from definitions.errors import DefinitionNotFound, DefinitionNotStartable
    with pytest.raises(DefinitionNotFound):
        start(db, key="nope")
    files = read_bundle("unknown_service.bpmn")
    with db.command() as session:
        version, created = definitions.deploy(session=session, files=files)
        assert created and not version.startable
    with pytest.raises(DefinitionNotStartable) as info:
        start(db, key="erp_sync")
    assert "call_erp" in info.value.message and "com.acme.Erp" in info.value.message


def test_redeploying_identical_files_keeps_the_version_and_changes_make_a_new_one(db):
    files = read_path(ROOT / "bpmn" / "leave_request")
    with db.command() as session:
        first, created = definitions.deploy(session=session, files=files)
        assert created and first.version == 1
    iid = start(db)
    with db.command() as session:
        again, created = definitions.deploy(session=session, files=files)
        assert not created and again.id == first.id
    changed = dict(files)
    changed["leave_request.bpmn"] = changed["leave_request.bpmn"].replace(b'camunda:priority="60"',
                                                                          b'camunda:priority="70"')
    with db.command() as session:
        second, created = definitions.deploy(session=session, files=changed)
        assert created and second.version == 2
    with db.query() as session:
        assert session.get(ProcessInstance, iid).definition_id == first.id
    new_iid = start(db)
    assert open_items(db, new_iid)[0].priority == 70
    assert open_items(db, iid)[0].priority == 60
    files_only, _ = split_metadata(files)
    assert "process.json" not in files_only


def test_a_changed_process_json_makes_a_new_version_and_a_reformatted_one_does_not(db):
    import json
    files = read_path(ROOT / "bpmn" / "leave_request")
    metadata = json.loads(files["process.json"])
    with db.command() as session:
        first, _ = definitions.deploy(session=session, files=files)
    iid = start(db)
    # The same metadata indented differently and with its keys in another order is the same version.
    reordered = json.dumps(dict(reversed(list(metadata.items()))), indent=4, ensure_ascii=True).encode()
    with db.command() as session:
        again, created = definitions.deploy(session=session, files={**files, "process.json": reordered})
        assert not created and again.id == first.id
    # A new Chinese description alone (the models and forms are byte for byte the same) is a new version,
    # so an install that upgrades gets it; the running instance stays on its version.
    described = {**metadata, "description_zh": "新的说明：员工申请休假。"}
    with db.command() as session:
        second, created = definitions.deploy(session=session,
                                             files={**files, "process.json": json.dumps(described).encode()})
        assert created and second.version == 2 and second.description_in("zh") == "新的说明：员工申请休假。"
    with db.query() as session:
        assert session.get(ProcessInstance, iid).definition_id == first.id
    # A bundle without process.json hashes as it always did, so versions stored earlier still match.
    plain = read_bundle("timer_wait.bpmn")
    with db.command() as session:
        version, _ = definitions.deploy(session=session, files=plain)
        assert version.sha256 == definitions.bundle_sha256(plain)


def test_overlong_process_ids_are_refused_clearly(db):
    from definitions.errors import InvalidDefinition
    long_id = "p" * 250
    files = {"long.bpmn": read_bundle("timer_wait.bpmn")["timer_wait.bpmn"].replace(b'"timer_wait"', f'"{long_id}"'.encode())}
    with db.command() as session, pytest.raises(InvalidDefinition) as info:
        definitions.deploy(session=session, files=files)
    assert "longer than 200 characters" in info.value.message


def test_countersign_leaves_its_tally_for_the_gateways_after_it(db):
    deploy(db, "countersign.bpmn")
    iid = start(db, key="countersign", data={"approvers": ["bob", "carol", "dave"]})
    by_user = {i.assignee: i for i in open_items(db, iid)}
    complete(db, by_user["bob"].id, BOB, decision="reject", comment="no budget")
    complete(db, by_user["carol"].id, Actor("carol"), decision="reject", comment="no")
    with db.query() as session:
        result = session.get(ProcessInstance, iid).data["sign_result"]
    assert result == {"approved": 0, "rejected": 2, "instances": 3, "completed": 2, "outcome": "rejected"}

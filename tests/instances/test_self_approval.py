"""flowdesk.onSelfApproval: when the approver is the initiator, allow it, skip the task, or go to the superior."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from database.base import utcnow
from definitions import service as definitions
from instances import assignment, directory, lifecycle, service
from instances.errors import ProcessFailure
from instances.models import HistoryEvent, OutboxMessage, ProcessInstance, WorkItem
from org import service as org
from org.demo import load_demo
from tests.conftest import DATA

APPROVALS = DATA / "approvals"


def deploy(db, name: str, policy: str | None = "skip", *, sequential: bool = False) -> str:
    """Deploy a model of tests/data/approvals, with its onSelfApproval value replaced (None: no property)."""
    text = (APPROVALS / name).read_text(encoding="utf-8")
    if policy is None:
        text = text.replace('<camunda:property name="flowdesk.onSelfApproval" value="skip"/>', "")
    else:
        text = text.replace('name="flowdesk.onSelfApproval" value="skip"', f'name="flowdesk.onSelfApproval" value="{policy}"')
    if sequential:
        text = text.replace("<bpmn:multiInstanceLoopCharacteristics ", '<bpmn:multiInstanceLoopCharacteristics isSequential="true" ')
    with db.command() as session:
        version, _ = definitions.deploy(session=session, files={name: text.encode()}, actor="designer")
        assert version.report.get("issues") == []
        return version.key


def actor(db, username: str):
    with db.query() as session:
        return org.actor_for(org.get_user_or_raise(session=session, username=username))


def start(db, key: str, username: str, data: dict) -> int:
    with db.command() as session:
        return service.start_instance(session=session, key=key, actor=actor(db, username), data=data).id


def complete(db, item_id: int, username: str, decision: str = "approve") -> None:
    with db.command() as session:
        service.complete_task(session=session, work_item_id=item_id, actor=actor(db, username), decision=decision)


def open_items(db, iid: int) -> list[WorkItem]:
    with db.query() as session:
        return service.list_open_work_items(session=session, instance_id=iid)


def events(db, iid: int, kind: str) -> list[HistoryEvent]:
    with db.query() as session:
        return [h for h in service.list_history(session=session, instance_id=iid) if h.type == kind]


def instance(db, iid: int) -> ProcessInstance:
    with db.query() as session:
        return session.get(ProcessInstance, iid)


def notified(db) -> list[tuple[str, str]]:
    with db.query() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "notification").order_by(OutboxMessage.id))
        return [(m.payload["to"], m.payload["kind"]) for m in rows]


# ------------------------------------------------------------------------------------------------ skip
def test_skip_completes_the_initiators_approval_as_approved_without_a_notice(org_db):
    iid = start(org_db, deploy(org_db, "self_approval.bpmn"), "wang.fang", {"approver": "wang.fang"})
    [pay] = open_items(org_db, iid)
    assert (pay.element_id, pay.assignee) == ("pay", "sun.li")  # the gateway saw decision == 'approve'
    [skipped] = events(org_db, iid, "task_skipped")
    assert (skipped.element_id, skipped.actor, skipped.work_item_id) == ("approve", "system", None)
    assert skipped.details == {"reason": "approver_is_initiator", "policy": "skip", "approver": "wang.fang",
                               "decision": "approved", "data": {"decision": "approve"}}
    assert "approve" in [h.element_id for h in events(org_db, iid, "element_completed")]
    assert instance(org_db, iid).data["decision"] == "approve"
    with org_db.query() as session:  # no work item for the skipped task, and nobody else acted: still withdrawable
        assert session.scalar(select(func.count()).select_from(WorkItem).where(WorkItem.element_id == "approve")) == 0
        assert lifecycle.others_who_acted(session=session, instance=session.get(ProcessInstance, iid)) == []
    assert notified(org_db) == [("sun.li", "task_assigned")]


def test_skip_leaves_other_approvers_alone(org_db):
    iid = start(org_db, deploy(org_db, "self_approval.bpmn"), "wang.fang", {"approver": "li.na"})
    [item] = open_items(org_db, iid)
    assert (item.element_id, item.assignee) == ("approve", "li.na")
    assert events(org_db, iid, "task_skipped") == [] and events(org_db, iid, "task_redirected") == []


@pytest.mark.parametrize("policy", ["allow", None, ""])
def test_allow_and_no_property_keep_the_initiator_as_approver(org_db, policy):
    iid = start(org_db, deploy(org_db, "self_approval.bpmn", policy), "wang.fang", {"approver": "wang.fang"})
    [item] = open_items(org_db, iid)
    assert (item.element_id, item.assignee) == ("approve", "wang.fang")
    assert events(org_db, iid, "task_skipped") == [] and events(org_db, iid, "task_redirected") == []


def test_a_model_that_keeps_skipping_fails_naming_the_element(org_db, monkeypatch):
    monkeypatch.setattr(assignment, "MAX_SKIPPED_TASKS", 5)
    key = deploy(org_db, "self_approval_loop.bpmn")
    with pytest.raises(ProcessFailure) as caught:
        start(org_db, key, "wang.fang", {})
    assert "more than 5 tasks skipped" in str(caught.value) and caught.value.details["element_id"] == "approve"
    with org_db.query() as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 0


# -------------------------------------------------------------------------------------------- superior
def test_superior_sends_the_task_to_the_initiators_superior_and_says_so(org_db):
    iid = start(org_db, deploy(org_db, "self_approval.bpmn", "superior"), "wang.fang", {"approver": "wang.fang"})
    [item] = open_items(org_db, iid)
    assert (item.element_id, item.assignee, item.candidate_groups) == ("approve", "li.na", [])
    [created] = events(org_db, iid, "task_created")
    assert created.details["assignee"] == "li.na"
    [redirected] = events(org_db, iid, "task_redirected")
    assert (redirected.actor, redirected.element_id, redirected.work_item_id) == ("system", "approve", item.id)
    assert redirected.details == {"reason": "approver_is_initiator", "policy": "superior", "for": "wang.fang",
                                  "to": "li.na", "via": "superior"}
    assert notified(org_db) == [("li.na", "task_assigned")]
    complete(org_db, item.id, "li.na")
    assert [(i.element_id, i.assignee) for i in open_items(org_db, iid)] == [("pay", "sun.li")]


@pytest.mark.parametrize(("initiator", "assignee", "groups", "via"), [
    ("admin", "zhang.wei", [], "leader"),  # no superior: the department's leader
    ("zhang.wei", None, ["role:admin"], "admin"),  # the top of the organisation: the administrators
])
def test_superior_falls_back_to_the_leader_then_the_administrators(org_db, initiator, assignee, groups, via):
    iid = start(org_db, deploy(org_db, "self_approval.bpmn", "superior"), initiator, {"approver": initiator})
    [item] = open_items(org_db, iid)
    assert (item.assignee, item.candidate_groups) == (assignee, groups)
    [redirected] = events(org_db, iid, "task_redirected")
    assert (redirected.details["to"], redirected.details["via"]) == (assignee, via)


def test_without_a_directory_superior_goes_to_the_administrators(db):
    with db.command() as session:
        load_demo(session=session)
    directory.set_directory(None)
    iid = start(db, deploy(db, "self_approval.bpmn", "superior"), "wang.fang", {"approver": "wang.fang"})
    [item] = open_items(db, iid)
    assert (item.assignee, item.candidate_groups) == (None, ["role:admin"])


# ------------------------------------------------------------------------------------------ countersign
def test_countersign_approves_the_initiators_seat_and_keeps_the_counts(org_db):
    key = deploy(org_db, "self_approval_countersign.bpmn")
    iid = start(org_db, key, "wang.fang", {"signers": ["wang.fang", "li.na", "zhao.lei"],
                                           "reviewers": ["wang.fang", "liu.yang"]})
    members = {i.assignee: i for i in open_items(org_db, iid)}
    assert sorted(members) == ["li.na", "zhao.lei"]
    [skipped] = events(org_db, iid, "task_skipped")
    assert (skipped.element_id, skipped.details["item"]) == ("sign", "wang.fang")
    complete(org_db, members["li.na"].id, "li.na")  # two of three approve: the majority rule holds
    [review] = open_items(org_db, iid)
    assert review.element_id == "review"
    # the initiator leaves the candidates; the others keep the offer
    assert (review.assignee, review.candidate_users) == (None, ["liu.yang"])
    assert events(org_db, iid, "task_created")[-1].details["excluded"] == ["wang.fang"]
    result = instance(org_db, iid).data["sign_result"]
    assert (result["approved"], result["instances"]) == (2, 3)
    with org_db.query() as session:
        assert session.get(WorkItem, members["zhao.lei"].id).status == "cancelled"


def test_an_initiator_alone_in_the_countersign_and_the_candidates_passes_both(org_db):
    iid = start(org_db, deploy(org_db, "self_approval_countersign.bpmn"), "wang.fang",
                {"signers": ["wang.fang"], "reviewers": ["wang.fang"]})
    assert open_items(org_db, iid) == []
    assert instance(org_db, iid).status == "completed"
    assert [h.element_id for h in events(org_db, iid, "task_skipped")] == ["sign", "review"]
    assert notified(org_db) == []


def test_a_sequential_countersign_skips_the_initiator_when_their_turn_comes(org_db):
    key = deploy(org_db, "self_approval_countersign.bpmn", sequential=True)
    iid = start(org_db, key, "wang.fang", {"signers": ["li.na", "wang.fang", "zhao.lei"], "reviewers": ["liu.yang"]})
    [first] = open_items(org_db, iid)
    assert first.assignee == "li.na" and events(org_db, iid, "task_skipped") == []
    complete(org_db, first.id, "li.na")  # wang.fang's turn is skipped in the same command: 2 of 3 approve
    assert [(i.element_id, i.candidate_users) for i in open_items(org_db, iid)] == [("review", ["liu.yang"])]
    [skipped] = events(org_db, iid, "task_skipped")
    assert skipped.details["item"] == "wang.fang"


def test_countersign_with_superior_gives_the_seat_to_the_superior(org_db):
    key = deploy(org_db, "self_approval_countersign.bpmn", "superior")
    iid = start(org_db, key, "wang.fang", {"signers": ["wang.fang", "zhao.lei"], "reviewers": ["liu.yang"]})
    assert sorted(i.assignee for i in open_items(org_db, iid)) == ["li.na", "zhao.lei"]
    [redirected] = events(org_db, iid, "task_redirected")
    assert (redirected.details["for"], redirected.details["to"]) == ("wang.fang", "li.na")


# ------------------------------------------------------------------------------------------- proxies
def test_a_standing_proxy_never_receives_a_request_they_started(org_db):
    now = utcnow()
    with org_db.command() as session:
        lifecycle.set_proxy(session=session, actor=actor(org_db, "li.na"), proxy_user="wang.fang",
                            starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=5))
    iid = start(org_db, deploy(org_db, "self_approval.bpmn"), "wang.fang", {"approver": "li.na"})
    [item] = open_items(org_db, iid)
    assert item.assignee == "li.na" and events(org_db, iid, "task_proxied") == []
    assert events(org_db, iid, "task_created")[0].details["proxy_refused"] == "wang.fang"
    # with the policy "allow" the proxy receives it, as before
    iid = start(org_db, deploy(org_db, "self_approval.bpmn", "allow"), "wang.fang", {"approver": "li.na"})
    [item] = open_items(org_db, iid)
    assert item.assignee == "wang.fang" and len(events(org_db, iid, "task_proxied")) == 1


# ------------------------------------------------------------------------------------------ bad value
def test_a_bad_value_is_refused_at_deployment_naming_the_element(org_db):
    from definitions.errors import InvalidDefinition

    with pytest.raises(InvalidDefinition) as refused:
        deploy(org_db, "self_approval.bpmn", "sometimes")
    message = str(refused.value)
    assert "element 'approve'" in message and "flowdesk.onSelfApproval must be one of allow, skip, superior" in message
    assert refused.value.details["element_id"] == "approve"
    with org_db.query() as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 0
        assert session.scalar(select(func.count()).select_from(WorkItem)) == 0


def _snippet(heading: str) -> list[str]:
    """Return the lines of the first XML block under a heading of docs/modelling.md."""
    text = (DATA.parent.parent / "docs" / "modelling.md").read_text(encoding="utf-8")
    section = text.split(heading, 1)[1]
    block = section.split("```xml", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.strip().splitlines()]


def test_the_modelling_guide_shows_the_model_the_tests_deploy():
    model = [line.strip() for line in (APPROVALS / "self_approval.bpmn").read_text(encoding="utf-8").splitlines()]
    lines = _snippet("### When the approver is the initiator")
    assert len(lines) > 4 and all(any(line in row for row in model) for line in lines), lines


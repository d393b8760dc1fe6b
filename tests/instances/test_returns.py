"""Return (退回), resubmission, take back (撤回), reject policies and jump (跳转) through the service layer.

Each scenario runs on SQLite and PostgreSQL and checks the work items, the history and where the request ends.
The models are tests/data/returns/*.bpmn.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from definitions import service as definitions
from instances import returns, service
from instances.actors import Actor
from instances.errors import Conflict, InvalidInput, NotAllowed
from instances.models import ProcessInstance, WorkItem
from tests.conftest import DATA

FOLDER = DATA / "returns"
ALICE, ADMIN = Actor("alice"), Actor("root", is_admin=True)


def start(db, name: str, **data) -> int:
    with db.command() as session:
        version, _ = definitions.deploy(session=session, files={f"{name}.bpmn": (FOLDER / f"{name}.bpmn").read_bytes()},
                                        actor="designer")
        return service.start_instance(session=session, key=version.key, actor=ALICE, data=data).id


def items(db, iid: int) -> list[WorkItem]:
    with db.query() as session:
        return list(session.scalars(select(WorkItem).where(WorkItem.instance_id == iid).order_by(WorkItem.id)))


def waiting(db, iid: int) -> list[tuple[str, str]]:
    return sorted((i.element_id, i.assignee) for i in items(db, iid) if i.status == "open")


def open_item(db, iid: int, element: str, who: str | None = None) -> WorkItem:
    return next(i for i in items(db, iid) if i.status == "open" and i.element_id == element
                and who in (None, i.assignee))


def act(db, iid: int, element: str, who: str, decision: str | None = "approve", **kw) -> str:
    item = open_item(db, iid, element, who)
    with db.command() as session:
        return service.complete_task(session=session, work_item_id=item.id, actor=Actor(who), decision=decision,
                                     **kw).status


def send_back(db, iid: int, element: str, who: str, to: str, comment: str = "please fix the amounts", **kw):
    item = open_item(db, iid, element, who)
    with db.command() as session:
        return returns.return_task(session=session, work_item_id=item.id, actor=Actor(who), to=to,
                                   comment=comment, **kw).status


def history(db, iid: int, kind: str) -> list[dict]:
    with db.query() as session:
        return [dict(e.details, element=e.element_id, actor=e.actor)
                for e in service.list_history(session=session, instance_id=iid) if e.type == kind]


def status(db, iid: int) -> str:
    with db.query() as session:
        return session.get(ProcessInstance, iid).status


def choices(db, iid: int, element: str, who: str) -> dict:
    item = open_item(db, iid, element, who)
    with db.command() as session:
        return returns.return_choices(session=session, work_item_id=item.id, actor=Actor(who))


# -- return on a single node -----------------------------------------------------------------------------

def test_return_to_previous_reruns_the_route_and_keeps_the_latest_data(db):
    iid = start(db, "sequence", amount=100)
    act(db, iid, "draft", "alice", data={"amount": 120})
    act(db, iid, "manager", "bob")
    act(db, iid, "finance", "carol")
    assert [s["id"] for s in choices(db, iid, "director", "dave")["stops"]] == ["finance", "manager", "draft",
                                                                               "start"]
    assert send_back(db, iid, "director", "dave", "manager") == "running"
    assert waiting(db, iid) == [("manager", "bob")]
    returned = [i for i in items(db, iid) if i.status == "returned"]
    assert [(i.element_id, i.completed_by, i.decision, i.comment) for i in returned] == [
        ("director", "dave", "returned", "please fix the amounts")]
    [event] = history(db, iid, "task_returned")
    assert (event["to"], event["actor"], event["resume"]) == ("manager", "dave", False)
    act(db, iid, "manager", "bob")
    assert waiting(db, iid) == [("finance", "carol")]  # rerun: the route runs again from the manager
    send_back(db, iid, "finance", "carol", "previous")
    assert waiting(db, iid) == [("manager", "bob")]
    with db.query() as session:
        assert session.get(ProcessInstance, iid).data["amount"] == 120


def test_return_with_back_to_returner_goes_straight_back(db):
    """finance has flowdesk.onResubmit=backToReturner: after the draft is redone, manager is skipped."""
    iid = start(db, "sequence")
    act(db, iid, "draft", "alice")
    act(db, iid, "manager", "bob")
    send_back(db, iid, "finance", "carol", "draft")
    assert waiting(db, iid) == [("draft", "alice")]
    assert history(db, iid, "task_returned")[0]["resume"] is True
    act(db, iid, "draft", "alice", data={"amount": 90})
    assert waiting(db, iid) == [("finance", "carol")]
    act(db, iid, "finance", "carol")
    assert waiting(db, iid) == [("director", "dave")]


def test_return_to_the_initiator_waits_for_resubmission(db):
    iid = start(db, "sequence", amount=10)
    act(db, iid, "draft", "alice")
    send_back(db, iid, "manager", "bob", "initiator", comment="wrong cost centre")
    [item] = [i for i in items(db, iid) if i.status == "open"]
    assert (item.kind, item.assignee) == ("resubmit", "alice")
    assert status(db, iid) == "running"
    with db.command() as session:  # nobody else can resubmit it
        with pytest.raises(NotAllowed):
            service.complete_task(session=session, work_item_id=item.id, actor=Actor("bob"))
    with db.command() as session:
        service.complete_task(session=session, work_item_id=item.id, actor=ALICE, data={"amount": 11},
                              comment="cost centre fixed")
    assert waiting(db, iid) == [("draft", "alice")]
    assert [e["comment"] for e in history(db, iid, "instance_resubmitted")] == ["cost centre fixed"]
    with db.query() as session:
        assert session.get(ProcessInstance, iid).data["amount"] == 11
        assert session.get(WorkItem, item.id).status == "completed"


def test_return_refuses_unknown_targets_and_needs_a_comment(db):
    iid = start(db, "sequence")
    act(db, iid, "draft", "alice")
    with pytest.raises(InvalidInput) as err:
        send_back(db, iid, "manager", "bob", "finance")
    assert err.value.details["field"] == "to" and "draft" in str(err.value)
    with pytest.raises(InvalidInput) as err:
        send_back(db, iid, "manager", "bob", "draft", comment="  ")
    assert err.value.details["field"] == "comment"
    with db.command() as session, pytest.raises(NotAllowed):  # not carol's task
        returns.return_task(session=session, work_item_id=open_item(db, iid, "manager").id, actor=Actor("carol"),
                            to="draft", comment="no")
    assert waiting(db, iid) == [("manager", "bob")]
    assert history(db, iid, "task_returned") == []


# -- return in parallel branches, countersigns and sub-processes ---------------------------------------------

def test_return_inside_a_branch_leaves_the_other_branch_alone(db):
    iid = start(db, "parallel")
    act(db, iid, "prepare", "alice")
    act(db, iid, "legal", "bob")
    finance = open_item(db, iid, "finance")
    send_back(db, iid, "legal_head", "erin", "legal")
    assert waiting(db, iid) == [("finance", "carol"), ("legal", "bob")]
    assert open_item(db, iid, "finance").id == finance.id  # untouched, same item
    act(db, iid, "legal", "bob")
    act(db, iid, "legal_head", "erin")
    act(db, iid, "finance", "carol")
    assert waiting(db, iid) == [("director", "dave")]


def test_return_before_the_split_withdraws_every_branch(db):
    iid = start(db, "parallel")
    act(db, iid, "prepare", "alice")
    act(db, iid, "legal", "bob")
    send_back(db, iid, "finance", "carol", "prepare")
    assert waiting(db, iid) == [("prepare", "alice")]
    cancelled = [i for i in items(db, iid) if i.status == "cancelled"]
    assert [i.element_id for i in cancelled] == ["legal_head"]
    events = [e for e in history(db, iid, "task_cancelled") if e["element"] == "legal_head"]
    assert events[0]["by"] == "return" and events[0]["to"] == "prepare"
    act(db, iid, "prepare", "alice")
    assert waiting(db, iid) == [("finance", "carol"), ("legal", "bob")]


def test_return_inside_a_countersign_cancels_the_other_members(db):
    iid = start(db, "countersign", approvers=["bob", "carol", "erin"])
    act(db, iid, "prepare", "alice")
    act(db, iid, "sign", "bob")
    send_back(db, iid, "sign", "carol", "prepare", comment="clause 4 is unclear")
    assert waiting(db, iid) == [("prepare", "alice")]
    states = sorted((i.assignee, i.status) for i in items(db, iid) if i.element_id == "sign")
    assert states == [("bob", "completed"), ("carol", "returned"), ("erin", "cancelled")]
    act(db, iid, "prepare", "alice")
    assert waiting(db, iid) == [("sign", "bob"), ("sign", "carol"), ("sign", "erin")]  # everyone signs again
    for who in ("bob", "carol", "erin"):
        act(db, iid, "sign", who)
    assert waiting(db, iid) == [("publish", "dave")]


def test_return_to_a_countersign_node_asks_every_member_again(db):
    iid = start(db, "countersign", approvers=["bob", "carol"])
    act(db, iid, "prepare", "alice")
    act(db, iid, "sign", "bob")
    act(db, iid, "sign", "carol")
    assert [s["kind"] for s in choices(db, iid, "publish", "dave")["stops"]][:1] == ["countersign"]
    send_back(db, iid, "publish", "dave", "sign")
    assert waiting(db, iid) == [("sign", "bob"), ("sign", "carol")]


def test_return_inside_and_out_of_a_sub_process(db):
    iid = start(db, "subprocess")
    act(db, iid, "apply", "alice")
    act(db, iid, "pmo", "bob")
    assert [s["id"] for s in choices(db, iid, "cto", "carol")["stops"]] == ["pmo", "apply", "start"]
    send_back(db, iid, "cto", "carol", "pmo")
    assert waiting(db, iid) == [("pmo", "bob")]
    act(db, iid, "pmo", "bob")
    send_back(db, iid, "cto", "carol", "apply")
    assert waiting(db, iid) == [("apply", "alice")]
    act(db, iid, "apply", "alice")
    act(db, iid, "pmo", "bob")
    act(db, iid, "cto", "carol")
    assert [s["id"] for s in choices(db, iid, "kickoff", "dave")["stops"]] == ["review", "apply", "start"]
    send_back(db, iid, "kickoff", "dave", "review")  # a finished stage runs again whole
    assert waiting(db, iid) == [("pmo", "bob")]


# -- take back (撤回) ----------------------------------------------------------------------------------------

def take_back(db, item_id: int, who: str):
    with db.command() as session:
        return returns.take_back(session=session, work_item_id=item_id, actor=Actor(who), reason="wrong task")


def test_an_approver_takes_back_until_the_next_step_acts(db):
    iid = start(db, "sequence")
    act(db, iid, "draft", "alice")
    manager = open_item(db, iid, "manager")
    act(db, iid, "manager", "bob")
    take_back(db, manager.id, "bob")
    assert waiting(db, iid) == [("manager", "bob")]
    assert [i.status for i in items(db, iid) if i.element_id == "finance"] == ["cancelled"]
    assert history(db, iid, "task_taken_back")[0]["actor"] == "bob"
    with db.query() as session:
        assert session.get(WorkItem, manager.id).status == "taken_back"
    again = open_item(db, iid, "manager")
    act(db, iid, "manager", "bob")
    act(db, iid, "finance", "carol")
    with pytest.raises(Conflict) as err:
        take_back(db, again.id, "bob")
    assert "finance" in str(err.value)
    with pytest.raises(NotAllowed):
        take_back(db, again.id, "carol")
    assert waiting(db, iid) == [("director", "dave")]


def test_the_initiator_takes_back_after_a_parallel_split(db):
    iid = start(db, "parallel")
    prepare = open_item(db, iid, "prepare")
    act(db, iid, "prepare", "alice")
    assert waiting(db, iid) == [("finance", "carol"), ("legal", "bob")]
    take_back(db, prepare.id, "alice")
    assert waiting(db, iid) == [("prepare", "alice")]
    act(db, iid, "prepare", "alice")
    act(db, iid, "legal", "bob")
    prepare = [i for i in items(db, iid) if i.element_id == "prepare" and i.status == "completed"][-1]
    with pytest.raises(Conflict):
        take_back(db, prepare.id, "alice")


def test_a_countersign_member_takes_back_a_vote_while_the_node_is_open(db):
    iid = start(db, "countersign", approvers=["bob", "carol"])
    act(db, iid, "prepare", "alice")
    vote = open_item(db, iid, "sign", "bob")
    act(db, iid, "sign", "bob")
    take_back(db, vote.id, "bob")
    assert waiting(db, iid) == [("sign", "bob"), ("sign", "carol")]
    act(db, iid, "sign", "carol")
    act(db, iid, "sign", "bob")
    assert waiting(db, iid) == [("publish", "dave")]
    last_vote = [i for i in items(db, iid) if i.element_id == "sign" and i.assignee == "bob"][-1]
    assert last_vote.status == "completed"
    with pytest.raises(Conflict):  # decided: one vote can no longer be taken back
        take_back(db, last_vote.id, "bob")


# -- reject policies -----------------------------------------------------------------------------------------

def test_reject_with_on_reject_initiator_returns_to_the_initiator(db):
    iid = start(db, "sequence")
    for element, who in (("draft", "alice"), ("manager", "bob"), ("finance", "carol")):
        act(db, iid, element, who)
    act(db, iid, "director", "dave", decision="reject", comment="budget frozen")
    [item] = [i for i in items(db, iid) if i.status == "open"]
    assert (item.kind, item.assignee) == ("resubmit", "alice")
    director = [i for i in items(db, iid) if i.element_id == "director"][0]
    assert (director.status, director.decision) == ("returned", "rejected")
    assert history(db, iid, "task_rejected")[0]["to"] == "start"


def test_reject_with_on_reject_end_ends_the_request(db, tmp_path):
    text = (FOLDER / "sequence.bpmn").read_text().replace('value="initiator"', 'value="end"')
    with db.command() as session:
        version, _ = definitions.deploy(session=session, files={"sequence.bpmn": text.encode()}, actor="designer")
        iid = service.start_instance(session=session, key=version.key, actor=ALICE).id
    for element, who in (("draft", "alice"), ("manager", "bob"), ("finance", "carol")):
        act(db, iid, element, who)
    act(db, iid, "director", "dave", decision="reject", comment="not this year")
    assert status(db, iid) == "rejected"
    assert waiting(db, iid) == []
    assert history(db, iid, "instance_rejected")[0]["actor"] == "dave"


# -- jump (跳转) ---------------------------------------------------------------------------------------------

def jump(db, iid: int, to: str, reason: str | None = "customer called", actor: Actor = ADMIN, **kw):
    with db.command() as session:
        return returns.jump(session=session, instance_id=iid, actor=actor, to=to, reason=reason, **kw).status


def test_an_administrator_jumps_forward_and_back_with_a_reason(db):
    iid = start(db, "sequence")
    act(db, iid, "draft", "alice")
    jump(db, iid, "director")
    assert waiting(db, iid) == [("director", "dave")]
    [event] = history(db, iid, "instance_jumped")
    assert (event["from"], event["to"], event["reason"], event["actor"]) == ("manager", "director",
                                                                             "customer called", "root")
    jump(db, iid, "draft")
    assert waiting(db, iid) == [("draft", "alice")]
    with pytest.raises(InvalidInput):
        jump(db, iid, "finance", reason=" ")
    with pytest.raises(NotAllowed):
        jump(db, iid, "finance", actor=Actor("bob"))
    with pytest.raises(InvalidInput) as err:
        jump(db, iid, "nowhere")
    assert "nowhere" in str(err.value)
    assert waiting(db, iid) == [("draft", "alice")]


def test_jump_needs_the_task_when_branches_wait_and_crosses_out_of_a_sub_process(db):
    iid = start(db, "parallel")
    act(db, iid, "prepare", "alice")
    with pytest.raises(InvalidInput) as err:
        jump(db, iid, "director")
    assert err.value.details["field"] == "from_task"
    jump(db, iid, "legal_head", from_task=open_item(db, iid, "legal").id)
    assert waiting(db, iid) == [("finance", "carol"), ("legal_head", "erin")]
    sub = start(db, "subprocess")
    act(db, sub, "apply", "alice")
    jump(db, sub, "kickoff")
    assert waiting(db, sub) == [("kickoff", "dave")]
    act(db, sub, "kickoff", "dave")
    assert status(db, sub) == "completed"


def test_a_request_returned_to_its_initiator_can_be_withdrawn(db):
    from instances import lifecycle

    iid = start(db, "sequence")
    act(db, iid, "draft", "alice")
    act(db, iid, "manager", "bob")
    send_back(db, iid, "finance", "carol", "initiator")
    with db.command() as session:
        lifecycle.withdraw_instance(session=session, instance_id=iid, actor=ALICE, reason="no longer needed")
    assert status(db, iid) == "withdrawn"
    assert waiting(db, iid) == []


def test_the_modelling_guide_shows_the_model_the_tests_deploy():
    guide = (FOLDER.parent.parent.parent / "docs" / "modelling.md").read_text(encoding="utf-8")
    section = guide.split("## Sending a request back", 1)[1]
    block = [line.strip() for line in section.split("```xml", 1)[1].split("```", 1)[0].strip().splitlines()]
    model = (FOLDER / "sequence.bpmn").read_text(encoding="utf-8")
    assert len(block) > 3 and all(line in model for line in block), block
    for name in (returns.RETURN_TO, returns.ON_RESUBMIT, returns.ON_REJECT):
        assert f"`{name}`" in section
    for policy in returns.RETURN_POLICIES + returns.RESUBMIT_POLICIES + returns.REJECT_POLICIES:
        assert f"`{policy}`" in section, policy


def test_a_bad_policy_value_is_refused_at_deployment_and_named_at_run_time(db):
    from definitions.errors import InvalidDefinition
    from instances.errors import ProcessFailure

    text = (FOLDER / "sequence.bpmn").read_text().replace('value="backToReturner"', 'value="sometimes"')
    with db.command() as session, pytest.raises(InvalidDefinition) as refused:
        definitions.deploy(session=session, files={"sequence.bpmn": text.encode()}, actor="designer")
    assert refused.value.details["element_id"] == "finance" and "flowdesk.onResubmit" in str(refused.value)
    typo = (FOLDER / "sequence.bpmn").read_text().replace('"flowdesk.onResubmit"', '"flowdesk.onResubmitt"')
    with db.command() as session, pytest.raises(InvalidDefinition) as refused:
        definitions.deploy(session=session, files={"sequence.bpmn": typo.encode()}, actor="designer")
    assert "flowdesk.onResubmitt is not a Flowdesk property" in str(refused.value)
    # A model stored before deployments checked the value: the action that reads it names the element.
    with pytest.raises(ProcessFailure) as err:
        returns.node_policy({"finance": {"properties": {returns.ON_RESUBMIT: "sometimes"}}}, "finance",
                            returns.ON_RESUBMIT, returns.RESUBMIT_POLICIES)
    assert err.value.details == {"element_id": "finance", "property": "flowdesk.onResubmit"}


def test_remind_before_sets_the_follow_up_moment_and_is_checked_at_deployment(db):
    from datetime import timedelta

    from definitions.errors import InvalidDefinition

    text = (FOLDER / "sequence.bpmn").read_text().replace(
        '<bpmn:userTask id="manager" name="Manager approves" camunda:assignee="bob">',
        '<bpmn:userTask id="manager" name="Manager approves" camunda:assignee="bob" camunda:dueDate="P3D">'
        '<bpmn:extensionElements><camunda:properties><camunda:property name="flowdesk.remindBefore" '
        'value="PT4H"/></camunda:properties></bpmn:extensionElements>')
    with db.command() as session:
        version, _ = definitions.deploy(session=session, files={"sequence.bpmn": text.encode()}, actor="designer")
        iid = service.start_instance(session=session, key=version.key, actor=ALICE).id
    act(db, iid, "draft", "alice")
    item = open_item(db, iid, "manager")
    assert item.due_at - item.follow_up_at == timedelta(hours=4)
    bad = text.replace('value="PT4H"', 'value="4 hours"')
    with db.command() as session, pytest.raises(InvalidDefinition) as refused:
        definitions.deploy(session=session, files={"sequence.bpmn": bad.encode()}, actor="designer")
    assert "flowdesk.remindBefore must be an ISO 8601 duration" in str(refused.value)

"""Countersign rules through the service layer: work items, history and the branch taken, on SQLite and PostgreSQL.

The models are tests/data/countersign/*.bpmn; docs/modelling.md shows the same task elements (checked below).
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from definitions import service as definitions
from definitions.errors import InvalidDefinition
from engine import specs
from instances import service
from instances.actors import Actor
from instances.errors import ProcessFailure
from instances.models import ProcessInstance, WorkItem
from tests.conftest import DATA, ROOT

FOLDER = DATA / "countersign"
ALICE = Actor("alice")
ELEMENTS = {"any": "sign_any", "all": "sign_all", "majority": "vote_majority", "ratio": "vote_ratio",
            "sequential": "sign_in_turn", "random": "sign_random", "notify": "read_notice"}


def deploy(db, name: str) -> str:
    with db.command() as session:
        version, _ = definitions.deploy(session=session, files={f"{name}.bpmn": (FOLDER / f"{name}.bpmn").read_bytes()},
                                        actor="designer")
        return version.key


def start(db, name: str, members: list[str]) -> int:
    key = deploy(db, name)
    with db.command() as session:
        data = {"readers" if name == "notify" else "approvers": members}
        return service.start_instance(session=session, key=key, actor=ALICE, data=data).id


def items(db, iid: int) -> list[WorkItem]:
    with db.query() as session:
        return list(session.scalars(select(WorkItem).where(WorkItem.instance_id == iid).order_by(WorkItem.id)))


def member_items(db, iid: int, element: str) -> dict[str, WorkItem]:
    return {i.assignee: i for i in items(db, iid) if i.element_id == element}


def open_elements(db, iid: int) -> list[tuple[str, str]]:
    return [(i.element_id, i.assignee) for i in items(db, iid) if i.status == "open"]


def decide(db, iid: int, element: str, who: str, decision: str | None = "approve", **kw):
    item = member_items(db, iid, element)[who]
    with db.command() as session:
        return service.complete_task(session=session, work_item_id=item.id, actor=Actor(who), decision=decision,
                                     **kw).status


def history(db, iid: int, kind: str | None = None) -> list:
    with db.query() as session:
        events = service.list_history(session=session, instance_id=iid)
        return [(e.type, e.element_id, e.work_item_id, e.details) for e in events if kind in (None, e.type)]


def instance_data(db, iid: int) -> dict:
    with db.query() as session:
        return session.get(ProcessInstance, iid).data


def finish_follow_up(db, iid: int) -> str:
    """Complete the task the gateway led to; return the sequence flow that reached it."""
    [(element, assignee)] = open_elements(db, iid)
    assert assignee == "alice"
    [item] = [i for i in items(db, iid) if i.status == "open"]
    with db.command() as session:
        assert service.complete_task(session=session, work_item_id=item.id, actor=ALICE).status == "completed"
    [flow] = [d["flow"] for kind, e, _, d in history(db, iid, "element_completed") if e == element]
    return flow


DECIDED = {"approve": "approved", "reject": "rejected"}
# (rule file, members, decisions in order (the last one decides), outcome, branch taken)
CASES = [
    ("all", ["bob", "carol", "dave"], [("bob", "approve"), ("carol", "reject")], "rejected", "rejected_flow"),
    ("all", ["bob", "carol"], [("bob", "approve"), ("carol", "approve")], "approved", "approved_flow"),
    ("any", ["bob", "carol", "dave"], [("bob", "reject"), ("carol", "approve")], "approved", "approved_flow"),
    ("any", ["bob", "carol"], [("bob", "reject"), ("carol", "reject")], "rejected", "rejected_flow"),
    ("majority", ["bob", "carol", "dave", "erin"], [("bob", "approve"), ("carol", "approve"), ("dave", "approve")],
     "approved", "approved_flow"),
    ("majority", ["bob", "carol", "dave", "erin"], [("bob", "reject"), ("carol", "reject")], "rejected",
     "rejected_flow"),
    ("ratio", ["bob", "carol", "dave"], [("bob", "approve"), ("carol", "approve")], "approved", "approved_flow"),
]


@pytest.mark.parametrize(("name", "members", "decisions", "outcome", "flow"), CASES,
                         ids=[f"{c[0]}-{len(c[1])}-{'-'.join(d for _, d in c[2])}" for c in CASES])
def test_the_rule_decides_cancels_the_rest_and_the_gateway_follows(db, name, members, decisions, outcome, flow):
    element = ELEMENTS[name]
    iid = start(db, name, members)
    assert sorted(open_elements(db, iid)) == sorted((element, m) for m in members)
    for count, (who, decision) in enumerate(decisions, start=1):
        decide(db, iid, element, who, decision, comment=f"{who} says {decision}")
        if count < len(decisions):
            assert len(open_elements(db, iid)) == len(members) - count
    decided = {who: decision for who, decision in decisions}
    signed = member_items(db, iid, element)
    for member in members:
        item = signed[member]
        if member in decided:
            assert (item.status, item.decision, item.completed_by) == ("completed", DECIDED[decided[member]], member)
        else:
            assert item.status == "cancelled" and item.completed_by is None and item.completed_at is not None
    cancelled = [m for m in members if m not in decided]
    events = history(db, iid, "task_cancelled")
    assert sorted(signed_id for _, _, signed_id, _ in events) == sorted(signed[m].id for m in cancelled)
    assert [details for _, _, _, details in events] == [
        {"by": "countersign", "rule": "ratio:2/3" if name == "ratio" else name, "outcome": outcome}] * len(cancelled)
    result = instance_data(db, iid)[f"{element}_result"]
    assert (result["outcome"], result["approved"], result["completed"]) == (
        outcome, sum(d == "approve" for _, d in decisions), len(decisions))
    assert sorted(result["cancelled"]) == sorted(cancelled)
    assert open_elements(db, iid) == [("archive" if outcome == "approved" else "revise", "alice")]
    assert finish_follow_up(db, iid) == flow


def test_sequential_asks_one_member_at_a_time_and_stops_at_a_rejection(db):
    iid = start(db, "sequential", ["carol", "bob", "dave"])
    assert open_elements(db, iid) == [("sign_in_turn", "carol")]
    decide(db, iid, "sign_in_turn", "carol", "approve")
    assert open_elements(db, iid) == [("sign_in_turn", "bob")]
    decide(db, iid, "sign_in_turn", "bob", "reject")
    assert sorted(member_items(db, iid, "sign_in_turn")) == ["bob", "carol"]  # dave was never asked
    assert history(db, iid, "task_cancelled") == []
    result = instance_data(db, iid)["sign_in_turn_result"]
    assert (result["outcome"], result["skipped"]) == ("rejected", ["dave"])
    assert finish_follow_up(db, iid) == "rejected_flow"


def test_random_gives_one_member_the_task_and_records_who(db, monkeypatch):
    monkeypatch.setattr(specs._chooser, "randrange", lambda n: 1)
    iid = start(db, "random", ["bob", "carol", "dave"])
    assert open_elements(db, iid) == [("sign_random", "carol")]
    assert [d["assignee"] for _, e, _, d in history(db, iid, "task_created")] == ["carol"]
    decide(db, iid, "sign_random", "carol", "approve")
    changed = [d["sign_random_result"]["to"] for _, _, _, d in history(db, iid, "data_changed")
               if "sign_random_result" in d]
    assert [(r["picked"], r["members"], r["outcome"]) for r in changed] == [("carol", 3, "approved")]
    assert finish_follow_up(db, iid) == "approved_flow"


def test_notify_waits_until_every_reader_acknowledged(db):
    iid = start(db, "notify", ["bob", "carol"])
    assert sorted(open_elements(db, iid)) == [("read_notice", "bob"), ("read_notice", "carol")]
    decide(db, iid, "read_notice", "bob", None, comment="read")
    assert open_elements(db, iid) == [("read_notice", "carol")]
    decide(db, iid, "read_notice", "carol", None)
    assert [i.status for i in member_items(db, iid, "read_notice").values()] == ["completed", "completed"]
    result = instance_data(db, iid)["read_notice_result"]
    assert (result["outcome"], result["acknowledged"]) == ("acknowledged", 2)
    assert open_elements(db, iid) == [("file_notice", "alice")]


def test_a_member_without_a_decision_is_refused_and_nothing_changes(db):
    iid = start(db, "all", ["bob", "carol"])
    with pytest.raises(ProcessFailure) as caught:
        decide(db, iid, "sign_all", "bob", None, data={"note": "looked at it"})
    assert "sign_all" in caught.value.message and "decision" in caught.value.message
    assert sorted(open_elements(db, iid)) == [("sign_all", "bob"), ("sign_all", "carol")]
    assert history(db, iid, "task_completed") == []


def test_a_bad_rule_is_refused_at_deployment_naming_the_element(db):
    text = (FOLDER / "ratio.bpmn").read_bytes().replace(b"ratio:2/3", b"ratio:3/2")
    with db.command() as session, pytest.raises(InvalidDefinition) as caught:
        definitions.deploy(session=session, files={"ratio.bpmn": text})
    assert "vote_ratio" in caught.value.message and "at most 1" in caught.value.message


def test_the_guide_shows_the_task_elements_the_tests_deploy():
    guide = (ROOT / "docs" / "modelling.md").read_text(encoding="utf-8")
    for name, element in ELEMENTS.items():
        text = (FOLDER / f"{name}.bpmn").read_text(encoding="utf-8")
        [task] = re.findall(rf'( *<bpmn:userTask id="{element}".*?</bpmn:userTask>)', text, re.S)
        assert _dedent(task) in guide, f"docs/modelling.md no longer shows {name}.bpmn's {element}"


def _dedent(block: str) -> str:
    """Return a task element as the guide shows it: unindented, without its incoming and outgoing flows."""
    lines = [line for line in block.splitlines() if "<bpmn:incoming>" not in line]
    indent = len(lines[0]) - len(lines[0].lstrip())
    return "\n".join(line[indent:] for line in lines)

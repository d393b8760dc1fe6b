"""Named countersign rules (flowdesk.countersign): decisions in, outcome out, remaining members cancelled.

Every command restores the workflow from its saved text and saves it again, as production does.
The models are tests/data/countersign/*.bpmn, the same ones docs/modelling.md shows.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from SpiffWorkflow.util.task import TaskState

from engine import specs
from engine.errors import EngineError, ModelError
from engine.model import compile_model
from engine.runtime import ProcessRuntime
from engine.specs import CountersignRule

DATA = Path(__file__).resolve().parents[1] / "data" / "countersign"
# rule file -> (process id, the countersign element)
MODELS = {
    "any": "sign_any", "all": "sign_all", "majority": "vote_majority", "ratio": "vote_ratio",
    "sequential": "sign_in_turn", "random": "sign_random", "notify": "read_notice",
}


def model_bytes(name: str) -> bytes:
    return (DATA / f"{name}.bpmn").read_bytes()


def runtime_for(name: str, text: bytes | None = None) -> ProcessRuntime:
    model = compile_model({f"{name}.bpmn": text or model_bytes(name)})
    assert model.blocking_issues == []
    return ProcessRuntime(model)


class Instance:
    """One instance whose state lives only as saved text between commands."""

    def __init__(self, name: str, members: list, text: bytes | None = None):
        self.runtime = runtime_for(name, text)
        self.element = MODELS[name]
        key = "readers" if name == "notify" else "approvers"
        workflow, self.report = self.runtime.start({key: members, "initiator": "alice"})
        self.state = self.runtime.dump(workflow)

    @property
    def workflow(self):
        return self.runtime.load(self.state)

    def members_waiting(self) -> list:
        return [t.item for t in self.runtime.human_tasks(self.workflow) if t.element_id == self.element]

    def ready(self) -> list[str]:
        return sorted(t.element_id for t in self.runtime.human_tasks(self.workflow))

    def decide(self, member, decision: str | None, **data):
        [task] = [t for t in self.runtime.human_tasks(self.workflow) if t.item == member]
        workflow = self.workflow
        if decision is not None:
            data["decision"] = decision
        try:
            self.report = self.runtime.complete(workflow, task.id, data)
        finally:
            self.state = self.runtime.dump(workflow)
        return task.id

    def result(self) -> dict | None:
        workflow = self.workflow
        key = f"{self.element}_result"
        for task in workflow.get_tasks():
            if key in task.data:
                return task.data[key]
        return None

    def member_states(self) -> dict:
        return {t.data[self.input_name()]: TaskState.get_name(t.state) for t in self.workflow.get_tasks()
                if t.task_spec.name == f"{self.element} [child]"}

    def input_name(self) -> str:
        return "reader" if self.element == "read_notice" else "approver"


RULES = {"ratio": "ratio:2/3"}  # the property value where it differs from the file name
BCD = ["bob", "carol", "dave"]
BCDE = ["bob", "carol", "dave", "erin"]
BCDEF = ["bob", "carol", "dave", "erin", "fay"]

# (rule file, members, decisions in order (the last one decides), outcome, member states at the end)
DECISIONS = [
    ("all", BCD, [("bob", "approve"), ("carol", "reject")], "rejected",
     {"bob": "COMPLETED", "carol": "COMPLETED", "dave": "CANCELLED"}),
    ("all", BCD, [("bob", "approve"), ("carol", "approve"), ("dave", "approve")], "approved",
     {"bob": "COMPLETED", "carol": "COMPLETED", "dave": "COMPLETED"}),
    ("all", BCD, [("carol", "reject")], "rejected",
     {"bob": "CANCELLED", "carol": "COMPLETED", "dave": "CANCELLED"}),
    ("any", BCD, [("bob", "reject"), ("carol", "approve")], "approved",
     {"bob": "COMPLETED", "carol": "COMPLETED", "dave": "CANCELLED"}),
    ("any", BCD, [("dave", "approve")], "approved",
     {"bob": "CANCELLED", "carol": "CANCELLED", "dave": "COMPLETED"}),
    ("any", BCD, [("bob", "reject"), ("carol", "reject"), ("dave", "reject")], "rejected",
     {"bob": "COMPLETED", "carol": "COMPLETED", "dave": "COMPLETED"}),
    ("majority", BCDE, [("bob", "approve"), ("carol", "approve"), ("dave", "approve")], "approved",
     {"bob": "COMPLETED", "carol": "COMPLETED", "dave": "COMPLETED", "erin": "CANCELLED"}),
    # Of 4, two rejections leave at most 2 approvals: "more than half" (3) is out of reach.
    ("majority", BCDE, [("bob", "reject"), ("carol", "reject")], "rejected",
     {"bob": "COMPLETED", "carol": "COMPLETED", "dave": "CANCELLED", "erin": "CANCELLED"}),
    ("majority", BCDE, [("bob", "approve"), ("carol", "approve"), ("dave", "reject"), ("erin", "reject")],
     "rejected", {"bob": "COMPLETED", "carol": "COMPLETED", "dave": "COMPLETED", "erin": "COMPLETED"}),
    ("majority", BCDEF, [("bob", "reject"), ("carol", "reject"), ("dave", "reject")], "rejected",
     {"bob": "COMPLETED", "carol": "COMPLETED", "dave": "COMPLETED", "erin": "CANCELLED",
      "fay": "CANCELLED"}),
    ("majority", BCD, [("bob", "approve"), ("carol", "reject"), ("dave", "approve")], "approved",
     {"bob": "COMPLETED", "carol": "COMPLETED", "dave": "COMPLETED"}),
    ("ratio", BCD, [("bob", "approve"), ("carol", "approve")], "approved",
     {"bob": "COMPLETED", "carol": "COMPLETED", "dave": "CANCELLED"}),
    ("ratio", BCD, [("bob", "reject"), ("carol", "approve"), ("dave", "reject")], "rejected",
     {"bob": "COMPLETED", "carol": "COMPLETED", "dave": "COMPLETED"}),
    ("ratio", BCD, [("bob", "reject"), ("carol", "reject")], "rejected",
     {"bob": "COMPLETED", "carol": "COMPLETED", "dave": "CANCELLED"}),
]


@pytest.mark.parametrize(("name", "members", "decisions", "outcome", "final"), DECISIONS,
                         ids=[f"{d[0]}-{len(d[1])}-{'-'.join(v for _, v in d[2])}" for d in DECISIONS])
def test_a_rule_decides_after_the_deciding_decision(name, members, decisions, outcome, final):
    inst = Instance(name, members)
    assert sorted(inst.members_waiting()) == sorted(members)
    for count, (member, decision) in enumerate(decisions, start=1):
        assert inst.result() is None, f"{name} decided before decision {count}"
        inst.decide(member, decision)
        if count < len(decisions):
            decided = {who for who, _ in decisions[:count]}
            assert sorted(inst.members_waiting()) == sorted(set(members) - decided)
    assert inst.members_waiting() == []
    assert inst.member_states() == final
    result = inst.result()
    cancelled = [m for m in members if final[m] == "CANCELLED"]
    approved = sum(1 for _, d in decisions if d == "approve")
    assert result == {"approved": approved, "rejected": len(decisions) - approved, "instances": len(members),
                      "completed": len(decisions), "outcome": outcome, "rule": RULES.get(name, name),
                      "cancelled": cancelled}
    # The gateway after the node branches on <id>_result.outcome.
    assert inst.ready() == (["archive"] if outcome == "approved" else ["revise"])
    # The command that decided reports the members' tasks the rule cancelled.
    assert sorted(entry["outcome"] for entry in inst.report.cancelled.values()) == [outcome] * len(cancelled)
    assert {entry["by"] for entry in inst.report.cancelled.values()} <= {"countersign"}


def test_the_cancelled_tasks_are_reported_by_id():
    inst = Instance("all", BCD)
    waiting = {t.item: t.id for t in inst.runtime.human_tasks(inst.workflow)}
    inst.decide("bob", "reject")
    by_rule = {"by": "countersign", "rule": "all", "outcome": "rejected"}
    assert inst.report.cancelled == {waiting["carol"]: by_rule, waiting["dave"]: by_rule}


def test_sequential_asks_members_one_after_another_in_the_collection_order():
    order = ["dave", "bob", "carol"]
    inst = Instance("sequential", order)
    asked = []
    for member in order:
        assert inst.members_waiting() == [member]
        asked.append(member)
        inst.decide(member, "approve")
    assert asked == order
    assert inst.result()["outcome"] == "approved" and inst.result()["skipped"] == []
    assert inst.ready() == ["archive"]


def test_sequential_stops_at_the_first_rejection_and_never_asks_the_rest():
    inst = Instance("sequential", BCDE)
    inst.decide("bob", "approve")
    assert inst.members_waiting() == ["carol"]
    inst.decide("carol", "reject")
    assert inst.members_waiting() == []
    assert inst.member_states() == {"bob": "COMPLETED", "carol": "COMPLETED"}  # dave and erin got no task
    result = inst.result()
    assert (result["outcome"], result["skipped"], result["cancelled"]) == ("rejected", ["dave", "erin"], [])
    assert inst.ready() == ["revise"]


def test_sequential_rule_runs_in_turn_even_when_the_diagram_says_parallel():
    text = model_bytes("sequential").replace(b'camunda:elementVariable="approver"/>',
                                             b'camunda:elementVariable="approver" isSequential="false"/>')
    inst = Instance("sequential", BCD, text)
    assert inst.members_waiting() == ["bob"]


def test_random_gives_exactly_one_member_a_task(monkeypatch):
    monkeypatch.setattr(specs._chooser, "randrange", lambda n: 2)
    inst = Instance("random", BCDE)
    assert inst.members_waiting() == ["dave"]
    inst.decide("dave", "approve")
    result = inst.result()
    assert result["picked"] == "dave" and result["members"] == 4
    assert (result["outcome"], result["instances"], result["cancelled"]) == ("approved", 1, [])
    assert inst.member_states() == {"dave": "COMPLETED"}
    assert inst.ready() == ["archive"]


def test_random_picked_member_decides_a_rejection_too():
    inst = Instance("random", BCD)
    [picked] = inst.members_waiting()
    assert picked in BCD
    inst.decide(picked, "reject")
    assert (inst.result()["outcome"], inst.result()["picked"]) == ("rejected", picked)
    assert inst.ready() == ["revise"]


def test_random_picks_every_member_over_many_starts():
    runtime = runtime_for("random")
    seen = set()
    for _ in range(60):
        workflow, _ = runtime.start({"approvers": BCD, "initiator": "alice"})
        tasks = runtime.human_tasks(workflow)
        assert len(tasks) == 1
        seen.add(tasks[0].item)
    assert seen == set(BCD)


def test_notify_ends_when_every_member_acknowledged_without_a_decision():
    inst = Instance("notify", ["bob", "carol"])
    assert sorted(inst.members_waiting()) == ["bob", "carol"]
    inst.decide("carol", None, read=True)
    assert inst.members_waiting() == ["bob"] and inst.result() is None
    inst.decide("bob", None)
    result = inst.result()
    assert (result["outcome"], result["acknowledged"], result["cancelled"]) == ("acknowledged", 2, [])
    assert inst.ready() == ["file_notice"]


def test_notify_to_nobody_is_acknowledged_at_once():
    inst = Instance("notify", [])
    assert inst.ready() == ["file_notice"]
    assert inst.result()["outcome"] == "acknowledged"


def test_a_decision_rule_without_members_is_an_error_naming_the_element():
    with pytest.raises(EngineError) as caught:
        Instance("all", [])
    assert caught.value.element_id == "sign_all"
    assert "nobody to decide" in caught.value.reason


def test_a_member_must_bring_a_decision_of_their_own():
    inst = Instance("all", BCD)
    workflow = inst.workflow
    [task] = [t for t in inst.runtime.human_tasks(workflow) if t.item == "bob"]
    task_id = task.id
    with pytest.raises(EngineError) as caught:
        inst.runtime.complete(workflow, task_id, {"comment": "fine"})
    assert caught.value.element_id == "sign_all" and "decision" in caught.value.reason
    # A decision the process already carries (from an earlier node) does not vote for the member.
    workflow = inst.workflow
    for task in inst.runtime.human_tasks(workflow):
        task.data["decision"] = "approve"
    [task] = [t for t in inst.runtime.human_tasks(workflow) if t.item == "bob"]
    with pytest.raises(EngineError):
        inst.runtime.complete(workflow, task.id, {})


def test_a_rule_works_in_the_flowable_dialect_too():
    text = (model_bytes("all").replace(b"http://camunda.org/schema/1.0/bpmn", b"http://flowable.org/bpmn")
            .replace(b"camunda:", b"flowable:").replace(b"xmlns:camunda", b"xmlns:flowable"))
    inst = Instance("all", BCD, text)
    inst.decide("bob", "reject")
    assert inst.result()["outcome"] == "rejected"
    assert inst.member_states() == {"bob": "COMPLETED", "carol": "CANCELLED", "dave": "CANCELLED"}


def test_the_element_metadata_names_the_rule():
    model = compile_model({"ratio.bpmn": model_bytes("ratio")})
    assert model.elements["vote_ratio"]["multi_instance"]["countersign"] == "ratio:2/3"


# ---------------------------------------------------------------- the rules themselves
@pytest.mark.parametrize(("text", "name", "ratio"), [
    ("any", "any", None), (" ALL ", "all", None), ("majority", "majority", None),
    ("ratio:2/3", "ratio", Fraction(2, 3)), ("ratio: 3 / 4", "ratio", Fraction(3, 4)),
    ("ratio:0.6", "ratio", Fraction(3, 5)), ("ratio:1/1", "ratio", Fraction(1)),
    ("sequential", "sequential", None), ("random", "random", None), ("notify", "notify", None),
])
def test_rule_names_parse(text, name, ratio):
    rule = CountersignRule.parse(text)
    assert (rule.name, rule.ratio) == (name, ratio)


@pytest.mark.parametrize(("rule", "members", "needed"), [
    ("any", 5, 1), ("all", 5, 5), ("sequential", 3, 3), ("majority", 4, 3), ("majority", 5, 3),
    ("majority", 1, 1), ("ratio:2/3", 3, 2), ("ratio:2/3", 4, 3), ("ratio:1/2", 4, 2), ("ratio:0.01", 3, 1),
    ("random", 7, 1),
])
def test_approvals_needed(rule, members, needed):
    assert CountersignRule.parse(rule).needed(members) == needed


# ---------------------------------------------------------------- refused at deployment
def _with_property(value: str, text: bytes | None = None) -> bytes:
    return (text or model_bytes("all")).replace(b'value="all"', f'value="{value}"'.encode())


@pytest.mark.parametrize(("value", "words"), [
    ("unanimous", "is not a countersign rule"),
    ("ratio:0/3", "more than 0 and at most 1"),
    ("ratio:4/3", "more than 0 and at most 1"),
    ("ratio:2/0", "divides by zero"),
    ("ratio:two thirds", "write the ratio as p/q"),
    ("ratio:", "write the ratio as p/q"),
    ("", "is not a countersign rule"),
])
def test_a_bad_rule_is_refused_naming_the_element(value, words):
    with pytest.raises(ModelError) as caught:
        compile_model({"all.bpmn": _with_property(value)})
    error = caught.value
    assert (error.element_id, error.file_name) == ("sign_all", "all.bpmn") and error.line
    assert words in error.reason and "flowdesk.countersign" in error.reason
    assert "sign_all" in str(error)


def test_a_rule_on_a_task_that_is_not_multi_instance_is_refused():
    loop = (b'<bpmn:multiInstanceLoopCharacteristics camunda:collection="${approvers}" '
            b'camunda:elementVariable="approver"/>')
    assert loop in model_bytes("all")
    text = model_bytes("all").replace(loop, b"")
    with pytest.raises(ModelError) as caught:
        compile_model({"all.bpmn": text})
    assert caught.value.element_id == "sign_all"
    assert "needs a multi-instance user task" in caught.value.reason


def test_a_rule_on_a_gateway_is_refused():
    text = model_bytes("all").replace(
        b'<bpmn:exclusiveGateway id="gate" default="rejected_flow">',
        b'<bpmn:exclusiveGateway id="gate" default="rejected_flow"><bpmn:extensionElements>'
        b'<camunda:properties><camunda:property name="flowdesk.countersign" value="any"/>'
        b"</camunda:properties></bpmn:extensionElements>")
    with pytest.raises(ModelError) as caught:
        compile_model({"all.bpmn": text})
    assert caught.value.element_id == "gate" and "multi-instance user task" in caught.value.reason


def test_a_rule_and_a_completion_condition_together_are_refused():
    text = model_bytes("majority").replace(
        b'camunda:elementVariable="approver"/>',
        b'camunda:elementVariable="approver"><bpmn:completionCondition>${nrOfApproved &gt;= 1}'
        b"</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics>")
    with pytest.raises(ModelError) as caught:
        compile_model({"majority.bpmn": text})
    assert caught.value.element_id == "vote_majority"
    assert "completionCondition" in caught.value.reason and "keep one" in caught.value.reason


def test_every_documented_model_deploys():
    for name, element in MODELS.items():
        model = compile_model({f"{name}.bpmn": model_bytes(name)})
        assert model.issues == [] and element in model.elements


def test_a_hand_written_condition_can_end_at_the_first_decision_either_way():
    """The guide's recipe for 或签 as some products define it: the first answer decides."""
    text = model_bytes("any").replace(
        b'<camunda:properties><camunda:property name="flowdesk.countersign" value="any"/></camunda:properties>', b"")
    text = text.replace(b'camunda:elementVariable="approver"/>',
                        b'camunda:elementVariable="approver"><bpmn:completionCondition>'
                        b"${nrOfApproved + nrOfRejected &gt;= 1}</bpmn:completionCondition>"
                        b"</bpmn:multiInstanceLoopCharacteristics>")
    inst = Instance("any", BCD, text)
    inst.decide("carol", "reject")
    assert inst.member_states() == {"bob": "CANCELLED", "carol": "COMPLETED", "dave": "CANCELLED"}
    assert inst.result()["outcome"] == "rejected"
    assert inst.ready() == ["revise"]


def test_random_gives_one_task_even_when_the_diagram_says_sequential():
    text = model_bytes("random").replace(b'camunda:elementVariable="approver"/>',
                                         b'camunda:elementVariable="approver" isSequential="true"/>')
    inst = Instance("random", BCD, text)
    assert len(inst.members_waiting()) == 1


def test_other_rules_follow_is_sequential_and_end_when_decided():
    text = model_bytes("majority").replace(b'camunda:elementVariable="approver"/>',
                                           b'camunda:elementVariable="approver" isSequential="true"/>')
    inst = Instance("majority", BCD, text)
    assert inst.members_waiting() == ["bob"]
    inst.decide("bob", "approve")
    assert inst.members_waiting() == ["carol"]
    inst.decide("carol", "approve")
    assert inst.members_waiting() == [] and inst.ready() == ["archive"]
    assert inst.member_states() == {"bob": "COMPLETED", "carol": "COMPLETED"}  # dave was never asked
    assert inst.result()["outcome"] == "approved"

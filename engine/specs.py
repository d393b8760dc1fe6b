"""Task specs Flowdesk adds to SpiffWorkflow: countersign tallies and rules, and named service operations."""
from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask as ServiceTaskMixin
from SpiffWorkflow.spiff.specs.defaults import (
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask
from SpiffWorkflow.util.task import TaskState

from . import dialect
from .dialect import COUNTERSIGN_PROPERTY

APPROVED_WORDS = {"approve", "approved", "agree", "agreed", "yes", "pass", "accept", "accepted"}
REJECTED_WORDS = {"reject", "rejected", "disagree", "no", "deny", "denied", "refuse", "refused"}
_MISSING = object()
RULE_NAMES = ("any", "all", "majority", "ratio:p/q", "sequential", "random", "notify")
_RATIO = re.compile(r"^(?:(\d+)\s*/\s*(\d+)|(\d*\.\d+|\d+))$")
# Who decides a `random` node: a system source, so a member cannot be predicted from earlier picks.
_chooser = random.SystemRandom()


def classify_decision(data: dict) -> str | None:
    """Return 'approved', 'rejected' or None for the decision recorded in a task's data."""
    for key in ("decision", "outcome", "vote", "approved"):
        if key not in data:
            continue
        value = data[key]
        if value is True:
            return "approved"
        if value is False:
            return "rejected"
        if isinstance(value, str):
            word = value.strip().lower()
            if word in APPROVED_WORDS:
                return "approved"
            if word in REJECTED_WORDS:
                return "rejected"
    return None


@dataclass(frozen=True)
class CountersignRule:
    """A named countersign rule (flowdesk.countersign) and how it turns decisions into an outcome.

    A decision rule needs `needed(members)` approvals: the node is approved as soon as that many members
    approved, and rejected as soon as so many members have decided otherwise that the approvals still
    possible can no longer reach it. `notify` has no decisions: it ends when every member acknowledged.
    """

    name: str
    ratio: Fraction | None = None

    @classmethod
    def parse(cls, text: str | None) -> CountersignRule:
        """Read a rule from its property value; raise ValueError saying what is wrong."""
        value = (text or "").strip().lower()
        if value in ("any", "all", "majority", "sequential", "random", "notify"):
            return cls(value)
        if value.startswith("ratio:"):
            match = _RATIO.match(value[len("ratio:"):].strip())
            if not match:
                raise ValueError(f"{COUNTERSIGN_PROPERTY} '{text}': write the ratio as p/q (e.g. ratio:2/3) "
                                 "or as a decimal (ratio:0.6)")
            if match.group(1) is not None:
                if int(match.group(2)) == 0:
                    raise ValueError(f"{COUNTERSIGN_PROPERTY} '{text}': the ratio divides by zero")
                ratio = Fraction(int(match.group(1)), int(match.group(2)))
            else:
                ratio = Fraction(match.group(3))
            if not 0 < ratio <= 1:
                raise ValueError(f"{COUNTERSIGN_PROPERTY} '{text}': the ratio must be more than 0 "
                                 "and at most 1")
            return cls("ratio", ratio)
        raise ValueError(f"{COUNTERSIGN_PROPERTY} '{text}' is not a countersign rule; use one of "
                         f"{', '.join(RULE_NAMES)}")

    def __str__(self) -> str:
        if self.ratio is None:
            return self.name
        return f"ratio:{self.ratio.numerator}/{self.ratio.denominator}"

    @property
    def needs_decision(self) -> bool:
        """Tell whether a member must approve or reject (every rule but notify)."""
        return self.name != "notify"

    @property
    def sequential(self) -> bool:
        """Tell whether members take their turns one after another."""
        return self.name == "sequential"

    def needed(self, members: int) -> int:
        """Return how many approvals decide the node 'approved' among this many members."""
        if self.name in ("any", "random"):
            return 1
        if self.name == "majority":
            return members // 2 + 1
        if self.name == "ratio":
            return max(1, math.ceil(self.ratio * members))
        return members  # all, sequential

    def outcome(self, *, members: int, approved: int, completed: int) -> str | None:
        """Return 'approved', 'rejected' or 'acknowledged' once the node is decided, else None."""
        if self.name == "notify":
            return "acknowledged" if completed >= members else None
        need = self.needed(members)
        if approved >= need:
            return "approved"
        # A completed member who did not approve can approve no more.
        if approved + (members - completed) < need:
            return "rejected"
        return None


def countersign_problem(node) -> str | None:
    """Say what is wrong with an element's countersign rule: unknown, malformed, misplaced or doubled."""
    value = dialect.countersign_property(node)
    if value is None:
        return None
    try:
        CountersignRule.parse(value)
    except ValueError as exc:
        return str(exc)
    loop = node.find(dialect.bpmn("multiInstanceLoopCharacteristics"))
    if dialect.local_name(node) not in dialect.HUMAN_TASK_TAGS or loop is None:
        return (f"{COUNTERSIGN_PROPERTY} '{value}' needs a multi-instance user task "
                "(multiInstanceLoopCharacteristics over the members)")
    condition = loop.find(dialect.bpmn("completionCondition"))
    if condition is not None and (condition.text or "").strip():
        return (f"{COUNTERSIGN_PROPERTY} '{value}' and a completionCondition both decide when this node "
                "ends: keep one of them")
    return None


def _member(task_spec, child):
    """Return the collection item a multi-instance child works on."""
    name = task_spec.input_item.bpmn_id if task_spec.input_item is not None else None
    if name is not None and name in child.data:
        return child.data[name]
    key = child.internal_data.get("key_or_index")
    return child.internal_data.get("item") if key is None else key


class _CountersignMixin:
    """Evaluate completion on the tally of all instances, not just the last child; apply a named rule.

    SpiffWorkflow evaluates the condition against the last finished child only, so a majority rule
    never ends early; here the condition also sees Camunda's counters plus decision counts. A node with
    a `flowdesk.countersign` rule (set by the parser) is decided by the rule instead of a condition.
    """

    countersign_rule: CountersignRule | None = None

    def _update_hook(self, my_task):
        done = super()._update_hook(my_task)
        rule = self.countersign_rule
        if done and rule is not None:  # finished at once: the collection has no members
            if rule.needs_decision:
                self.raise_data_exception(f"countersign rule '{rule}' has nobody to decide: "
                                          "the multi-instance collection is empty", my_task)
            self._leave_result(my_task, [])
        return done

    def _instances(self, my_task):
        # A member removed at runtime (减签) no longer counts: not as an instance, nor as one who must finish.
        return [c for c in super()._instances(my_task) if not c.internal_data.get("removed")]

    def reconsider(self, my_task) -> bool:
        """Decide the node again after its members changed at runtime; return whether it is now finished."""
        waiting = [c for c in self._instances(my_task) if not c.has_state(TaskState.FINISHED_MASK)]
        if self.check_completion_condition(my_task):
            for child in waiting:
                child.cancel()
        elif waiting or not self.children_complete(my_task):
            return False
        my_task._set_state(TaskState.READY)
        if self.bpmn_id:
            self._leave_result(my_task, waiting)
        return True

    def create_child(self, my_task, item, key_or_index=None):
        pick = my_task.internal_data.get("countersign", {}).get("pick")
        if pick is not None:  # rule random: only the picked member gets a task
            position = pick["seen"]
            pick["seen"] = position + 1
            if position != pick["index"]:
                return
            pick["member"] = item
        super().create_child(my_task, item, key_or_index)

    def merge_child(self, workflow, child):
        my_task = child.parent
        tally = my_task.internal_data.setdefault("tally", {"approved": 0, "rejected": 0})
        verdict = classify_decision(child.data)
        if verdict:
            tally[verdict] += 1
        waiting = [c for c in self._instances(my_task) if not c.has_state(TaskState.FINISHED_MASK)]
        # Without an output collection SpiffWorkflow merges all child data into the parent. The element
        # variable (camunda:elementVariable) is local to one instance: merged, it makes the next sequential
        # instance (or a later multi-instance over the same variable) fail with "input item already exists".
        name = self.input_item.bpmn_id if self.input_item is not None else None
        local = _MISSING
        if name is not None and (self.data_output is None or self.output_item is None):
            local = child.data.pop(name, _MISSING)
        try:
            super().merge_child(workflow, child)
        finally:
            if local is not _MISSING:
                child.data[name] = local
        if my_task.state == TaskState.READY and self.bpmn_id:
            self._leave_result(my_task, waiting)

    def forget_member(self, my_task, child) -> None:
        """Uncount a member's decision that is taken back: it leaves the tally and the merged turns."""
        verdict = classify_decision(child.data)
        tally = my_task.internal_data.get("tally") or {}
        if verdict and tally.get(verdict):
            tally[verdict] -= 1
        merged = my_task.internal_data.get("merged") or []
        if str(child.id) in merged:
            merged.remove(str(child.id))

    def _leave_result(self, my_task, waiting: list) -> None:
        """Leave the node's count of decisions, and with a rule its outcome, for the gateways after it."""
        counters = self._counters(my_task)
        approved, rejected = counters["nrOfApproved"], counters["nrOfRejected"]
        result = {"approved": approved, "rejected": rejected, "instances": counters["nrOfInstances"],
                  "completed": counters["nrOfCompletedInstances"]}
        rule = self.countersign_rule
        if rule is None:
            result["outcome"] = "rejected" if rejected > approved else ("approved" if approved else "none")
            my_task.data[f"{self.bpmn_id}_result"] = result
            return
        cancelled = [c for c in waiting if c.state == TaskState.CANCELLED]
        state = my_task.internal_data.setdefault("countersign", {})
        state.update(rule=str(rule), outcome=self._decide(my_task) or "none",
                     cancelled=[str(c.id) for c in cancelled])
        result.update(outcome=state["outcome"], rule=str(rule),
                      cancelled=[_member(self, c) for c in cancelled])
        if rule.name == "notify":
            result["acknowledged"] = counters["nrOfCompletedInstances"]
        if rule.sequential:
            result["skipped"] = self._remaining_members(my_task)
        if "pick" in state:
            result.update(members=state["pick"]["members"], picked=state["pick"].get("member"))
        my_task.data[f"{self.bpmn_id}_result"] = result

    def _decide(self, my_task) -> str | None:
        counters = self._counters(my_task)
        return self.countersign_rule.outcome(members=counters["nrOfInstances"],
                                             approved=counters["nrOfApproved"],
                                             completed=counters["nrOfCompletedInstances"])

    def _member_count(self, my_task) -> int:
        if self.data_input is not None:
            return len(self.data_input.get(my_task))
        return int(my_task.workflow.script_engine.evaluate(my_task, self.cardinality))

    def _remaining_members(self, my_task) -> list:
        remaining = my_task.internal_data.get("remaining")
        if remaining is None:  # loop cardinality: the members are the indexes still to come
            current = my_task.internal_data.get("current", 0)
            return list(range(current, my_task.internal_data.get("cardinality", current)))
        data = self.data_input.get(my_task)
        return [data[key] for key in remaining] if isinstance(data, (Mapping, Sequence)) else list(remaining)

    def _counters(self, my_task) -> dict:
        instances = list(self._instances(my_task))
        finished = [c for c in instances if c.has_state(TaskState.FINISHED_MASK)]
        total = len(instances)
        if my_task.internal_data.get("cardinality") is not None:
            total = my_task.internal_data["cardinality"]
        elif "remaining" in my_task.internal_data:
            total = len(instances) + len(my_task.internal_data["remaining"])
        tally = my_task.internal_data.get("tally", {})
        return {
            "nrOfInstances": total,
            "nrOfCompletedInstances": len(my_task.internal_data.get("merged", [])),
            "nrOfActiveInstances": len(instances) - len(finished),
            "nrOfApproved": tally.get("approved", 0),
            "nrOfRejected": tally.get("rejected", 0),
        }

    def check_completion_condition(self, my_task):
        if self.countersign_rule is not None:
            return self._decide(my_task) is not None
        merged = my_task.internal_data.get("merged", [])
        if not merged or self.condition is None:
            return False
        last = next((c for c in my_task.children if str(c.id) == merged[-1]), None)
        context = dict(last.data) if last is not None else {}
        context.update(self._counters(my_task))
        return bool(my_task.workflow.script_engine.evaluate(my_task, self.condition, external_context=context))

    def init_data_output_with_cardinality(self, my_task):
        # The stock method misspells a variable (NameError) when the output already exists.
        if not self.data_output.exists(my_task):
            self.data_output.set(my_task, [])
            return
        output = self.data_output.get(my_task)
        if not isinstance(output, dict) and len(output) > 0:
            self.raise_data_exception(
                "With a loop cardinality the output must be a map (dict) or an empty list", my_task)


class CountersignParallelTask(_CountersignMixin, ParallelMultiInstanceTask):
    """Parallel multi-instance whose completion sees the whole tally; rule random gives one member a task."""

    def create_children(self, my_task):
        rule = self.countersign_rule
        if rule is not None and rule.name == "random":
            members = self._member_count(my_task)
            if members:
                my_task.internal_data.setdefault("countersign", {})["pick"] = {
                    "members": members, "index": _chooser.randrange(members), "seen": 0}
        super().create_children(my_task)


class CountersignSequentialTask(_CountersignMixin, SequentialMultiInstanceTask):
    """Sequential multi-instance whose completion condition sees the whole tally."""


class OperationServiceTask(ServiceTaskMixin, SpiffBpmnTask):
    """A service task that calls a named operation from Flowdesk's registry."""

    def __init__(self, wf_spec, bpmn_id, operation_name=None, operation_params=None,
                 result_variable=None, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.operation_name = operation_name
        self.operation_params = operation_params or {}
        self.result_variable = result_variable or None

    def _execute(self, task):
        engine = task.workflow.script_engine
        params = {name: engine.evaluate(task, expr) for name, expr in self.operation_params.items()}
        result = engine.call_service(task, operation_name=self.operation_name, operation_params=params)
        if self.result_variable:
            task.data[self.result_variable] = json.loads(json.dumps(result, default=str))
        elif isinstance(result, dict):
            task.data.update(result)
        return True

"""Task specs Flowdesk adds to SpiffWorkflow: countersign tallies and named service operations."""
from __future__ import annotations

import json

from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask as ServiceTaskMixin
from SpiffWorkflow.spiff.specs.defaults import (
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask
from SpiffWorkflow.util.task import TaskState

APPROVED_WORDS = {"approve", "approved", "agree", "agreed", "yes", "pass", "accept", "accepted"}
REJECTED_WORDS = {"reject", "rejected", "disagree", "no", "deny", "denied", "refuse", "refused"}
_MISSING = object()


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


class _CountersignMixin:
    """Evaluate completion conditions on the tally of all instances, not just the last child.

    SpiffWorkflow evaluates the condition against the last finished child only, so a majority rule
    never ends early; here the condition also sees Camunda's counters plus decision counts.
    """

    def merge_child(self, workflow, child):
        my_task = child.parent
        tally = my_task.internal_data.setdefault("tally", {"approved": 0, "rejected": 0})
        verdict = classify_decision(child.data)
        if verdict:
            tally[verdict] += 1
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
            # The node is decided: leave its count of decisions for the gateways after it.
            counters = self._counters(my_task)
            approved, rejected = counters["nrOfApproved"], counters["nrOfRejected"]
            outcome = "rejected" if rejected > approved else ("approved" if approved else "none")
            my_task.data[f"{self.bpmn_id}_result"] = {
                "approved": approved, "rejected": rejected, "instances": counters["nrOfInstances"],
                "completed": counters["nrOfCompletedInstances"], "outcome": outcome}

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
    """Parallel multi-instance whose completion condition sees the whole tally."""


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

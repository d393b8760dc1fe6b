"""Save and restore engine state without the spec, and keep the task tree from growing without end."""
from __future__ import annotations

import json
from collections import deque
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnSubWorkflowConverter, BpmnWorkflowConverter
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from .errors import WorkflowStateError

STATE_FORMAT = "flowdesk-1"
# Above this depth a loop's history is cut off; SpiffWorkflow's task iterator stops at depth 1,000.
COMPACT_TRIGGER_DEPTH = 60
COMPACT_KEEP_DEPTH = 8


def _parent_first(tasks: dict, root: str) -> dict:
    """Order serialized tasks so every parent comes before its children, whatever order they arrived in."""
    ordered, queue = {}, deque([root])
    while queue:
        task_id = queue.popleft()
        task = tasks.get(task_id)
        if task is None or task_id in ordered:
            continue
        ordered[task_id] = task
        queue.extend(task.get("children", []))
    if len(ordered) != len(tasks):
        missing = sorted(set(tasks) - set(ordered))[:3]
        raise WorkflowStateError(f"saved state has tasks unreachable from the root: {missing}")
    return ordered


def _make_workflow_converter(model):
    class SpecFreeWorkflowConverter(BpmnWorkflowConverter):
        """Store the process id instead of the spec; specs come from the cached model."""

        def to_dict(self, workflow):
            dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
            dct["spec"] = workflow.spec.name
            dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
            dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
            return dct

        def from_dict(self, dct):
            spec, subprocess_specs = model.spec_for(dct.pop("spec"))
            workflow = self.target_class(spec, subprocess_specs, deserializing=True)
            tasks = _parent_first(dct["tasks"], dct["root"])
            workflow.tasks = self.mapping_from_dict(tasks, UUID, workflow=workflow)
            workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
            self.set_default_attributes(workflow, dct)
            self.subprocesses_from_dict(dct["subprocesses"], workflow)
            workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
            return workflow

    return SpecFreeWorkflowConverter


class OrderedSubWorkflowConverter(BpmnSubWorkflowConverter):
    """Restore a sub-process's tasks parents first."""

    def from_dict(self, dct, task, top_workflow):
        dct["tasks"] = _parent_first(dct["tasks"], dct["root"])
        return super().from_dict(dct, task, top_workflow)


def _register_data_types(registry) -> None:
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]), "decimal")
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]), "date")
    registry.register(set, lambda v: {"items": sorted(v, key=repr)}, lambda v: set(v["items"]), "set")
    registry.register(frozenset, lambda v: {"items": sorted(v, key=repr)}, lambda v: frozenset(v["items"]),
                      "frozenset")
    # datetime subclasses date: keep its own converter, registered by the default registry.
    assert datetime in registry.typenames


class StateCodec:
    """Serialize and restore workflows of one compiled model."""

    def __init__(self, model):
        config = dict(SPIFF_CONFIG)
        config[BpmnWorkflow] = _make_workflow_converter(model)
        config[BpmnSubWorkflow] = OrderedSubWorkflowConverter
        registry = BpmnWorkflowSerializer.configure(config)
        _register_data_types(registry)
        self.serializer = BpmnWorkflowSerializer(registry)

    def dump(self, workflow) -> str:
        """Return the workflow's state as JSON text, without its spec."""
        try:
            text = self.serializer.serialize_json(workflow)
        except (TypeError, ValueError) as exc:
            raise WorkflowStateError(f"process data cannot be saved: {exc}") from None
        return text

    def load(self, text: str, script_engine):
        """Restore a workflow from JSON text written by dump."""
        try:
            dct = json.loads(text)
            if dct.get("format") not in (None, STATE_FORMAT):
                raise WorkflowStateError(f"unknown state format {dct.get('format')!r}")
            dct.pop("format", None)
            self.serializer.migrate(dct)
            workflow = self.serializer.from_dict(dct)
        except WorkflowStateError:
            raise
        except Exception as exc:
            raise WorkflowStateError(f"saved state cannot be restored: {type(exc).__name__}: {exc}") from None
        workflow.script_engine = script_engine
        return workflow


def _ancestors(task) -> list:
    chain = []
    while task is not None:
        chain.append(task)
        task = task.parent
    chain.reverse()
    return chain


def _compact_tree(workflow) -> int:
    live = [t for t in workflow.tasks.values() if not t.has_state(TaskState.FINISHED_MASK)]
    if not live:
        return 0
    common = _ancestors(live[0])
    for task in live[1:]:
        chain = _ancestors(task)
        size = 0
        for mine, theirs in zip(common, chain, strict=False):
            if mine is not theirs:
                break
            size += 1
        common = common[:size]
    if len(common) < COMPACT_TRIGGER_DEPTH:
        return 0
    root = workflow.task_tree
    cut = common[len(common) - COMPACT_KEEP_DEPTH]
    keep, queue = {root.id}, deque([cut])
    while queue:
        task = queue.popleft()
        keep.add(task.id)
        queue.extend(task.children)
    root._children = [cut.id]
    cut._parent = root.id
    removed = [task_id for task_id in workflow.tasks if task_id not in keep]
    for task_id in removed:
        del workflow.tasks[task_id]
    return len(removed)


def compact(workflow) -> int:
    """Drop finished history above the live part of the task tree; return how many tasks were dropped."""
    removed = _compact_tree(workflow)
    for sub in list(workflow.subprocesses.values()):
        removed += _compact_tree(sub)
    live_ids = set(workflow.tasks)
    for sub in workflow.subprocesses.values():
        live_ids.update(sub.tasks)
    for task_id in [tid for tid in workflow.subprocesses if tid not in live_ids]:
        del workflow.subprocesses[task_id]
    return removed


def tree_depth(workflow) -> int:
    """Return the depth of the deepest task in a workflow's own tree."""
    deepest, stack = 0, [(workflow.task_tree, 1)]
    while stack:
        task, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in task.children)
    return deepest

"""Move an instance's tokens by hand: return to an earlier node, take a decision back, jump to any node.

SpiffWorkflow keeps each instance as a tree of tasks; a node that already ran sits on the path from the root to
the tasks that wait now. Returning to it resets that branch of the tree (everything below it is dropped, so open
tasks in parallel branches or other countersign members below it are cancelled with it). A jump to a node that
has not run yet replaces the waiting task by a new task of the target node. Either way the task that becomes
ready gets a new id, so every incarnation of a node is its own work item.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from uuid import UUID, uuid4

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.util.task import TaskState

from .errors import EngineError

RESUME_KEY = "flowdesk_resume"  # task internal data: when this task completes, go straight to the node named
# Element types a token may be moved onto: not gateways (they count arrivals) and not boundary events.
JUMP_TYPES = ("userTask", "manualTask", "task", "scriptTask", "serviceTask", "sendTask", "receiveTask",
              "businessRuleTask", "subProcess", "callActivity", "intermediateThrowEvent",
              "intermediateCatchEvent", "endEvent")


@dataclass(frozen=True)
class Stop:
    """An earlier node on the path back from a waiting task: a place the token can be returned to."""

    element_id: str
    name: str
    kind: str  # "task", "countersign", "stage" (a finished sub-process, run again whole) or "start"
    task_id: str


def bpmn_id(task) -> str | None:
    """Return the BPMN element id of a task, or None for the engine's own bookkeeping tasks."""
    return getattr(task.task_spec, "bpmn_id", None)


def _is_member(task) -> bool:
    """Tell whether a task is one member's turn of a multi-instance (countersign) node."""
    parent = task.parent
    return parent is not None and getattr(parent.task_spec, "task_spec", None) == task.task_spec.name


def _member_spec(task):
    """Return the per-member spec of a multi-instance task, or None for other tasks."""
    name = getattr(task.task_spec, "task_spec", None)
    return task.workflow.spec.task_specs.get(name) if isinstance(name, str) else None


def node_task(task):
    """Return the task that stands for a task's node: the multi-instance task for a member's turn."""
    return task.parent if _is_member(task) else task


def _up(task):
    """Return a task's parent, crossing from a sub-process's first task to the task that called it."""
    if task.parent is not None:
        return task.parent
    workflow = task.workflow
    parent_id = getattr(workflow, "parent_task_id", None)
    if parent_id is None:
        return None
    return workflow.top_workflow.get_task_from_id(parent_id)


def _stop(task, elements: dict) -> Stop | None:
    element = bpmn_id(task)
    info = elements.get(element or "")
    if not info or not task.has_state(TaskState.COMPLETED):
        return None
    name = info.get("name") or element
    if info["type"] == "startEvent":
        # Only the process's own start hands the request back to its initiator; a sub-process's start is not a
        # place anyone waits.
        top = getattr(task.workflow, "top_workflow", None)
        return Stop(element, name, "start", str(task.id)) if top in (None, task.workflow) else None
    if info["type"] in ("subProcess", "callActivity", "transaction"):
        return Stop(element, name, "stage", str(task.id))
    if task.task_spec.manual and not _is_member(task):
        return Stop(element, name, "task", str(task.id))
    member = _member_spec(task)
    if member is not None and member.manual:
        return Stop(element, name, "countersign", str(task.id))
    return None


def path_back(workflow, task_id: str, elements: dict) -> list[Stop]:
    """List the completed human nodes and the start on the path back from a waiting task, nearest first.

    A node that ran more than once (a loop, an earlier return) is listed once, at its latest run.
    """
    task = node_task(_task(workflow, task_id))
    stops, seen = [], set()
    current = _up(task)
    while current is not None:
        stop = _stop(current, elements)
        if stop is not None and stop.element_id not in seen:
            seen.add(stop.element_id)
            stops.append(stop)
        current = _up(current)
    return stops


def _below(task):
    """Yield the tasks below a task, following the sub-processes that tasks below it called."""
    top = getattr(task.workflow, "top_workflow", None) or task.workflow
    for inner in task:
        if inner is not task:
            yield inner
        sub = top.subprocesses.get(inner.id)
        if sub is not None:
            yield from _below(sub.task_tree)


def acted_after(task) -> list:
    """Return the human tasks someone completed after `task`, on the route below it (countersign peers aside)."""
    node = node_task(task)
    return [t for t in _below(node) if t is not task and t.task_spec.manual and t.has_state(TaskState.COMPLETED)
            and node_task(t) is not node]


def _task(workflow, task_id: str):
    try:
        task = workflow.get_task_from_id(UUID(str(task_id)))
    except (ValueError, TypeError):
        task = None
    if task is None:
        raise EngineError(f"no task '{task_id}' in this instance")
    return task


def _renew_id(task) -> None:
    """Give a task a new id, so the reset node is a new incarnation with its own work item."""
    workflow, old, new = task.workflow, task.id, uuid4()
    workflow.tasks[new] = workflow.tasks.pop(old)
    task.id = new
    if task.parent is not None:
        task.parent._children = [new if child == old else child for child in task.parent._children]
    for child in task.children:
        child._parent = new
    top = getattr(workflow, "top_workflow", None) or workflow
    if old in top.subprocesses:
        sub = top.subprocesses.pop(old)
        sub.parent_task_id = new
        top.subprocesses[new] = sub


def _current_data(task) -> dict:
    return copy.deepcopy(dict(task.data))


def reset_to(workflow, stop_task_id: str, data: dict, *, resume: str | None = None):
    """Reset the instance to a completed node so it runs again with `data`; return the node's task.

    Everything below the node is dropped. `resume`, a node's element id, makes the node's next completion go
    straight to that node instead of along the route.
    """
    target = _task(workflow, stop_task_id)
    top = getattr(target.workflow, "top_workflow", None) or target.workflow
    top.reset_from_task_id(target.id)
    _renew_id(target)
    target.data = copy.deepcopy(data)
    if resume:
        target.internal_data[RESUME_KEY] = resume
    top.last_task = target
    return target


def entry_spec(workflow, element_id: str):
    """Return the spec a token enters a node by: its boundary-event split when it has boundary events."""
    specs = workflow.spec.task_specs
    spec = specs.get(element_id)
    if spec is None:
        return None
    for candidate in spec.inputs:
        if isinstance(candidate, BoundaryEventSplit):
            return candidate
    return spec


def _grow(parent, spec):
    """Add a definite child task of `spec` with its predicted route, as SpiffWorkflow does when resetting."""
    new = parent._add_child(spec, TaskState.FUTURE)
    spec._predict(new, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE)
    return new


def _replace(task, spec) -> object:
    """Cancel a waiting task (with its sub-process) and put a new task of `spec` in its place."""
    parent, data = task.parent, _current_data(task)
    top = getattr(task.workflow, "top_workflow", None) or task.workflow
    for inner in [t for t in task if t.id in top.subprocesses]:
        top.delete_subprocess(inner)
    task.cancel()
    new = _grow(parent, spec)
    new.data = data
    spec._update(new)
    if new.state == TaskState.READY:
        new.data = data  # _update inherited the parent's (older) data; the moved token keeps the latest
    top.last_task = new
    return new


def jump(workflow, from_task_id: str, element_id: str, elements: dict):
    """Move the token of a waiting task to any node of its process (or of a process that contains it)."""
    info = elements.get(element_id)
    if info is None:
        raise EngineError(f"there is no node '{element_id}' in this model", element_id=element_id)
    if info["type"] not in JUMP_TYPES:
        raise EngineError(f"'{element_id}' is a {info['type']}: a token can be moved onto tasks, sub-processes "
                          "and events, not gateways or boundary events", element_id=element_id)
    source = node_task(_task(workflow, from_task_id))
    if not source.has_state(TaskState.READY | TaskState.STARTED | TaskState.WAITING):
        raise EngineError(f"task '{bpmn_id(source)}' is not waiting: only a waiting token can be moved",
                          element_id=bpmn_id(source))
    stop = next((s for s in path_back(workflow, from_task_id, elements) if s.element_id == element_id), None)
    if stop is not None and stop.kind != "start":
        return reset_to(workflow, stop.task_id, _current_data(source))
    while source is not None:
        spec = entry_spec(source.workflow, element_id)
        if spec is not None:
            return _replace(source, spec)
        parent_id = getattr(source.workflow, "parent_task_id", None)
        source = source.workflow.top_workflow.get_task_from_id(parent_id) if parent_id is not None else None
    raise EngineError(f"'{element_id}' is inside a sub-process the waiting task is not in: jump to the "
                      "sub-process itself", element_id=element_id)


def redirect_on_completion(task) -> bool:
    """After a resubmitted node completes, send its token straight back to the node that returned it.

    Return whether the task carried such an instruction.
    """
    element_id = task.internal_data.pop(RESUME_KEY, None)
    if not element_id:
        return False
    spec = entry_spec(task.workflow, element_id)
    if spec is None:
        raise EngineError(f"the node '{element_id}' to resume at is not in this process", element_id=element_id)
    outputs = set(task.task_spec.outputs)
    for child in [c for c in task.children if c.task_spec in outputs]:
        task.workflow._remove_task(child.id)
    new = _grow(task, spec)
    spec._update(new)
    return True

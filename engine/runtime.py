"""Run process instances: start, complete human tasks, fire timers, pass messages, report what happened."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import SequentialMultiInstanceTask
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from . import moves, signers
from .errors import EngineError, WorkflowStateError
from .model import CompiledModel
from .script_engine import FlowdeskScriptEngine
from .services import OperationRegistry, default_registry
from .specs import classify_decision
from .state import StateCodec, compact, tree_depth

MAX_ENGINE_STEPS = 5000
MAX_TREE_DEPTH = 900


@dataclass
class HumanTask:
    """A ready human task as the inbox sees it."""

    id: str
    element_id: str
    name: str
    lane: str | None
    data: dict
    info: dict
    item: Any = None
    item_key: Any = None
    multi_instance: bool = False
    flow: str | None = None  # the sequence flow the route took into this task, for the progress view


@dataclass
class StepReport:
    """What one command did: finished elements, sequence flows taken, tasks a countersign rule cancelled."""

    completed: list[dict] = field(default_factory=list)
    flows: list[str] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    cancelled: dict[str, dict] = field(default_factory=dict)  # task id -> {"by", "rule", "outcome"}


def _bpmn_id(task) -> str | None:
    return getattr(task.task_spec, "bpmn_id", None)


def _countersign_rule(task):
    """Return the countersign rule of the multi-instance node a task is one member's turn of, if any."""
    parent = task.parent
    if parent is None or getattr(parent.task_spec, "task_spec", None) != task.task_spec.name:
        return None
    return getattr(parent.task_spec, "countersign_rule", None)


def _waiting(workflow):
    """Yield (task, event definition) for every event an instance waits for, subprocesses included."""
    for task in list(workflow.event_manager.tasks.values()):
        definition = task.task_spec.event_definition
        # An event-based gateway waits for its targets' events under one combined definition, which
        # workflow.waiting_events() reports as a single nameless "MultipleEventDefinition".
        for item in getattr(definition, "event_definitions", None) or [definition]:
            yield task, item


class ProcessRuntime:
    """Runs instances of one compiled model; holds no per-instance state."""

    def __init__(self, model: CompiledModel, operations: OperationRegistry | None = None, *,
                 script_time_limit: float = 2.0, script_memory_mb: int = 256):
        self.model = model
        self.codec = StateCodec(model)
        self.script_engine = FlowdeskScriptEngine(operations or default_registry(),
                                                  time_limit=script_time_limit,
                                                  memory_limit_mb=script_memory_mb)
        self._flows = {(info["source"], info["target"]): flow_id for flow_id, info in model.elements.items()
                       if info["type"] == "sequenceFlow"}

    # -- state ---------------------------------------------------------------------------------------
    def dump(self, workflow) -> str:
        """Return the instance state as JSON text."""
        return self.codec.dump(workflow)

    def load(self, text: str):
        """Restore an instance from its saved state."""
        return self.codec.load(text, self.script_engine)

    # -- commands ------------------------------------------------------------------------------------
    def start(self, data: dict | None = None, process_id: str | None = None):
        """Create an instance, run it to its first wait state and return (workflow, report)."""
        if self.model.blocking_issues:
            first = self.model.blocking_issues[0]
            raise EngineError(f"the model cannot be started: {first['reason']}",
                              element_id=first.get("element_id"), file_name=first.get("file"))
        spec, subprocess_specs = self.model.spec_for(process_id)
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=self.script_engine)
        start = workflow.get_next_task(state=TaskState.READY, spec_name="Start")
        if start is not None and data:
            start.set_data(**data)
        report = StepReport()
        self._advance(workflow, report)
        return workflow, report

    def complete(self, workflow, task_id: str, data: dict | None = None) -> StepReport:
        """Complete a ready human task with submitted data and run to the next wait state."""
        task = self._ready_human_task(workflow, task_id)
        rule = _countersign_rule(task)
        # Decisions are counted, so a member's turn must bring one of its own: data inherited from the process
        # (a decision taken at an earlier node) must not vote.
        if rule is not None and rule.needs_decision and classify_decision(data or {}) is None:
            raise EngineError(f"countersign rule '{rule}' counts decisions: complete this task with a "
                              "decision (approve or reject)", element_id=_bpmn_id(task))
        if data:
            task.data.update(data)
        report = StepReport()
        self._guard(task, task.run)
        self._guard(task, lambda: moves.redirect_on_completion(task))
        self._record(task, report)
        self._advance(workflow, report)
        return report

    # -- moving tokens by hand (return, take back, jump) ------------------------------------------------
    def return_stops(self, workflow, task_id: str) -> list[moves.Stop]:
        """List the completed nodes a waiting human task can be returned to, nearest first."""
        return self._guard(None, lambda: moves.path_back(workflow, task_id, self.model.elements))

    def return_to(self, workflow, task_id: str, element_id: str, *, resume: bool = False) -> StepReport:
        """Return a waiting human task's token to an earlier node (or the start, for the initiator to resubmit).

        With `resume` the node's next completion goes straight back to the returning node. Returned to the
        start, the instance waits for resubmit(); nothing runs until then.
        """
        task = self._ready_human_task(workflow, task_id)
        stop = next((s for s in self.return_stops(workflow, task_id) if s.element_id == element_id), None)
        if stop is None:
            raise EngineError(f"'{element_id}' is not an earlier step of this task's route: it did not run "
                              "before it, or ran in another branch", element_id=element_id)
        returner = _bpmn_id(task)
        # A countersign member's data holds its own item variable; the node's data is what the route carries.
        data = dict(moves.node_task(task).data)
        report = StepReport()
        self._guard(task, lambda: moves.reset_to(workflow, stop.task_id, data,
                                                 resume=returner if resume else None))
        if stop.kind != "start":
            self._advance(workflow, report)
        return report

    def resubmission(self, workflow) -> str | None:
        """Return the id of the start task waiting for the initiator to resubmit, if the instance was returned."""
        for task in workflow.get_tasks(state=TaskState.READY, manual=False):
            info = self.model.elements.get(_bpmn_id(task) or "")
            if info and info["type"] == "startEvent":
                return str(task.id)
        return None

    def resubmit(self, workflow, data: dict | None = None) -> StepReport:
        """Run a returned instance again from its start with the initiator's revised data."""
        task_id = self.resubmission(workflow)
        if task_id is None:
            raise EngineError("the process is not waiting for its initiator to resubmit")
        task = workflow.get_task_from_id(UUID(task_id))
        if data:
            task.data.update(data)
        report = StepReport()
        self._advance(workflow, report)
        return report

    def take_back(self, workflow, task_id: str) -> StepReport:
        """Undo a completed human task whose following steps nobody has acted on yet; it waits again."""
        try:
            task = workflow.get_task_from_id(UUID(str(task_id)))
        except (ValueError, TypeError):
            task = None
        if task is None or not task.task_spec.manual or not task.has_state(TaskState.COMPLETED):
            raise EngineError("this step can no longer be taken back: the route has moved past it")
        node = moves.node_task(task)
        if node is not task and node.has_state(TaskState.FINISHED_MASK):
            raise EngineError("the countersign has already been decided: one member's decision can no longer be "
                              "taken back", element_id=_bpmn_id(task))
        forget = getattr(node.task_spec, "forget_member", None)
        if node is not task and (forget is None or isinstance(node.task_spec, SequentialMultiInstanceTask)):
            raise EngineError("in a countersign taken in turn the next member already has the task: a decision "
                              "can no longer be taken back", element_id=_bpmn_id(task))
        acted = moves.acted_after(task)
        if acted:
            raise EngineError(f"'{_bpmn_id(acted[0])}' has already been acted on: the step can no longer be taken "
                              "back", element_id=_bpmn_id(acted[0]))
        data, kept = dict(task.parent.data), {}
        if node is not task:  # a member's turn keeps which member it is: its item variable and its key
            item_var = getattr(node.task_spec, "input_item", None)
            if item_var is not None and item_var.bpmn_id in task.data:
                data[item_var.bpmn_id] = task.data[item_var.bpmn_id]
            kept = {k: v for k, v in task.internal_data.items() if k in ("key_or_index", "item")}
        if node is not task:
            forget(node, task)
        report = StepReport()
        again = self._guard(task, lambda: moves.reset_to(workflow, str(task.id), data))
        again.internal_data.update(kept)
        self._advance(workflow, report)
        return report

    def forget_resume(self, workflow) -> None:
        """Drop a pending go-straight-back instruction: the resubmitted node will run its route again."""
        for task in workflow.get_tasks():
            task.internal_data.pop(moves.RESUME_KEY, None)

    def add_signers(self, workflow, task_id: str, users: list[str], position: str) -> StepReport:
        """Add people to the countersign of a waiting member's task (加签) and run on."""
        report = StepReport()
        self._guard(None, lambda: signers.add_members(workflow, task_id, users, position))
        self._advance(workflow, report)
        return report

    def remove_signers(self, workflow, task_id: str, users: list[str]) -> StepReport:
        """Take undecided people out of the countersign of a waiting member's task (减签) and run on."""
        report = StepReport()
        self._guard(None, lambda: signers.remove_members(workflow, task_id, users))
        self._advance(workflow, report)
        return report

    def countersign_members(self, workflow, task_id: str) -> list:
        """Return who still counts in the countersign of a waiting member's task, or [] for other tasks."""
        try:
            task = workflow.get_task_from_id(UUID(str(task_id)))
        except (ValueError, TypeError):
            return []
        node = moves.node_task(task) if task is not None else None
        if node is None or node is task or not hasattr(node.task_spec, "reconsider"):
            return []
        return [m for m in signers.members(node) if m is not None]

    def jump(self, workflow, task_id: str, element_id: str) -> StepReport:
        """Move a waiting task's token to any node (an administrator's 跳转) and run to the next wait state."""
        report = StepReport()
        self._guard(None, lambda: moves.jump(workflow, task_id, element_id, self.model.elements))
        self._advance(workflow, report)
        return report

    def fire_timers(self, workflow) -> StepReport:
        """Fire every timer that is due and run to the next wait state."""
        report = StepReport()
        self._guard(None, workflow.refresh_timers)
        self._advance(workflow, report)
        return report

    def deliver_message(self, workflow, name: str, payload: Any = None,
                        correlations: dict | None = None) -> StepReport:
        """Deliver a named message to an instance waiting for it."""
        targets = [(task, definition) for task, definition in _waiting(workflow)
                   if isinstance(definition, MessageEventDefinition) and definition.name == name]
        if not targets:
            raise EngineError(f"the instance is not waiting for message '{name}'")
        payload = payload if payload is not None else {}
        if correlations is None and getattr(targets[0][1], "correlation_properties", None):
            # A sender outside the model names no correlation keys: derive them from the payload with the
            # receiving model's retrieval expressions, as a throw event inside a model would.
            correlations = self._guard(targets[0][0], lambda: targets[0][1].get_correlations(targets[0][0], payload))
        # The event must carry the catching definition's own class: SpiffWorkflow matches events by exact
        # class, and the definitions its parser builds are a subclass of MessageEventDefinition.
        event = BpmnEvent(targets[0][1], payload, correlations or {})
        catching = [(task, definition) for task, definition in targets if definition.catches(task, event)]
        report = StepReport()
        self._guard(None, lambda: workflow.send_event(event))
        if isinstance(payload, dict):
            for task, definition in catching:
                # Without spiffworkflow:messageVariable SpiffWorkflow drops the payload; Camunda and Flowable
                # models expect message variables to become process variables.
                if hasattr(definition, "message_var") and definition.message_var is None:
                    task.data.update(payload)
        self._advance(workflow, report)
        return report

    # -- queries -------------------------------------------------------------------------------------
    def human_tasks(self, workflow) -> list[HumanTask]:
        """List the ready human tasks of an instance."""
        out = []
        for task in workflow.get_tasks(state=TaskState.READY, manual=True):
            element_id = _bpmn_id(task) or task.task_spec.name
            info = self.model.elements.get(element_id, {})
            parent = task.parent
            multi = parent is not None and getattr(parent.task_spec, "task_spec", None) == task.task_spec.name
            item = item_key = None
            if multi:
                item_key = task.internal_data.get("key_or_index")
                item = task.internal_data.get("item")
                input_item = getattr(parent.task_spec, "input_item", None)
                if input_item is not None and input_item.bpmn_id in task.data:
                    item = task.data[input_item.bpmn_id]
            out.append(HumanTask(id=str(task.id), element_id=element_id,
                                 name=task.task_spec.bpmn_name or info.get("name") or element_id,
                                 lane=task.task_spec.lane, data=task.data, info=info,
                                 item=item, item_key=item_key, multi_instance=multi,
                                 flow=self._flow_into(task, element_id)))
        return out

    def _flow_into(self, task, element_id: str) -> str | None:
        """Return the sequence flow from the nearest modelled element before a task to it, if the model has one."""
        source = task.parent
        while source is not None and (_bpmn_id(source) is None or _bpmn_id(source) not in self.model.elements
                                      or _bpmn_id(source) == element_id):
            source = source.parent
        return self._flows.get((_bpmn_id(source), element_id)) if source is not None else None

    def is_completed(self, workflow) -> bool:
        """Tell whether the instance has finished."""
        return workflow.is_completed()

    def next_wake(self, workflow) -> datetime | None:
        """Return when the earliest waiting timer of the instance falls due."""
        due = []
        for task, definition in _waiting(workflow):
            value = definition.details(task).value if isinstance(definition, TimerEventDefinition) else None
            if isinstance(value, str):
                try:
                    when = datetime.fromisoformat(value)
                except ValueError:
                    continue
                due.append(when if when.tzinfo else when.replace(tzinfo=timezone.utc))
        return min(due) if due else None

    def waiting_timer_elements(self, workflow) -> list[str]:
        """List the elements (timer events, boundary timers, event gateways) waiting on a timer."""
        out = []
        for task, definition in _waiting(workflow):
            element = _bpmn_id(task)
            if isinstance(definition, TimerEventDefinition) and element and element not in out:
                out.append(element)
        return out

    def waiting_messages(self, workflow) -> list[str]:
        """List the names of messages the instance waits for."""
        return sorted({definition.name for _, definition in _waiting(workflow)
                       if isinstance(definition, MessageEventDefinition)})

    def outgoing_messages(self, workflow) -> list[dict]:
        """Take the messages the instance threw that nobody inside it caught."""
        out = []
        for event in workflow.get_events():
            definition = event.event_definition
            out.append({"name": getattr(definition, "name", None), "payload": event.payload,
                        "correlations": dict(event.correlations or {})})
        return out

    # -- internals -----------------------------------------------------------------------------------
    def _ready_human_task(self, workflow, task_id: str):
        try:
            task = workflow.get_task_from_id(UUID(str(task_id)))
        except Exception:
            task = None
        if task is None or not task.task_spec.manual:
            raise EngineError(f"no human task '{task_id}' in this instance")
        if task.state != TaskState.READY:
            raise EngineError(f"task '{_bpmn_id(task)}' is {TaskState.get_name(task.state).lower()}, not ready",
                              element_id=_bpmn_id(task))
        return task

    def _guard(self, task, action):
        try:
            return action()
        except EngineError:
            raise
        except SpiffWorkflowException as exc:
            failed = getattr(exc, "task", None) or task
            raise EngineError(str(exc.args[0]) if exc.args else str(exc),
                              element_id=_bpmn_id(failed) if failed is not None else None) from None
        except RecursionError:
            raise WorkflowStateError("the process is nested too deeply to run") from None
        except Exception as exc:  # a fault inside SpiffWorkflow must never escape unnamed
            element = _bpmn_id(task) if task is not None else None
            raise EngineError(f"{type(exc).__name__}: {exc}", element_id=element) from None

    def _record(self, task, report: StepReport) -> None:
        element_id = _bpmn_id(task)
        decided = task.internal_data.get("countersign") or {}
        for cancelled in decided.get("cancelled", []):
            report.cancelled[cancelled] = {"by": "countersign", "rule": decided["rule"],
                                           "outcome": decided["outcome"]}
        if element_id is None or element_id not in self.model.elements:
            return
        info = self.model.elements[element_id]
        entry = {"element_id": element_id, "type": info["type"], "task_id": str(task.id),
                 "state": TaskState.get_name(task.state).lower()}
        report.completed.append(entry)
        flow = self._flow_into(task, element_id)
        if flow:
            entry["flow"] = flow
            report.flows.append(flow)

    def _advance(self, workflow, report: StepReport) -> None:
        steps = 0

        def did_complete(task):
            nonlocal steps
            steps += 1
            moves.redirect_on_completion(task)
            self._record(task, report)
            if steps > MAX_ENGINE_STEPS:
                raise EngineError(f"more than {MAX_ENGINE_STEPS} automatic steps in one command: the model "
                                  "loops without waiting for a person, a timer or a message",
                                  element_id=_bpmn_id(task))

        while True:
            progressed = self._guard(None, lambda: workflow._do_engine_steps(None, did_complete))
            compact(workflow)
            if progressed:
                continue
            self._guard(None, workflow.refresh_timers)
            if not any(True for _ in workflow.get_tasks(state=TaskState.READY, manual=False)):
                break
        if tree_depth(workflow) > MAX_TREE_DEPTH or any(
                tree_depth(sub) > MAX_TREE_DEPTH for sub in workflow.subprocesses.values()):
            raise WorkflowStateError("the process history is too deep to run safely")

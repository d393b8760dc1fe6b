"""Start instances, complete and claim work items, wake timers: one locked transaction per command."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from database.base import utcnow
from database.session import is_postgres
from definitions import service as definitions
from engine import policies
from engine import route as engine_route
from engine.errors import EngineError
from engine.jsonsafe import to_json_safe
from engine.runtime import ProcessRuntime, StepReport
from engine.specs import classify_decision

from . import assignment, batch, mentions, notices
from .actors import SYSTEM, Actor
from .context import engine_command, saving_in
from .directory import get_directory
from .errors import Conflict, InstanceNotFound, InvalidInput, NotAllowed, ProcessFailure, WorkItemNotFound
from .models import HistoryEvent, ProcessInstance, WorkItem, WorkItemCandidate
from .work_items import (
    LockedTask,
    _lock_work_item,
    _open_items,
    _record_skips,
    _resolve_new_tasks,
    _sync_work_items,
)

MAX_DATA_BYTES = 1_000_000


def _check_data(data, field: str = "data") -> dict:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput(f"{field} must be a JSON object", details={"field": field})
    bad = [key for key in data if not isinstance(key, str) or not key.isidentifier() or key.startswith("_")]
    if bad:
        raise InvalidInput(f"{field}: '{bad[0]}' is not a valid variable name (letters, digits and _, "
                           "not starting with a digit or _)", details={"field": f"{field}.{bad[0]}"})
    if len(repr(data)) > MAX_DATA_BYTES:
        raise InvalidInput(f"{field} is larger than {MAX_DATA_BYTES} bytes", details={"field": field})
    return data


def _picks(picks, nodes: list[dict], *, required: bool) -> dict[str, list[str]]:
    """Check picks for these nodes (see assignment.check_picks); raise InvalidInput naming picks.<node id>."""
    try:
        return assignment.check_picks(picks, nodes, required=required)
    except assignment.PickProblem as exc:
        node = exc.field.partition(".")[2] or None
        raise InvalidInput(str(exc), details={"field": exc.field, **({"node": node} if node else {})}) from None
    except EngineError as exc:
        raise _failure(exc) from None


def pick_nodes(*, elements: dict, element_id: str | None = None, model_type: str = "fixed") -> list[dict]:
    """Return the nodes whose people are picked: at start (initiatorPicks), or when completing `element_id`.

    Each is {"id", "name", "many"}; raise ProcessFailure naming a node with a bad flowdesk.assignment value.
    A predefined process adds, at start, its other single-person steps as optional ones ("optional": True).
    """
    try:
        if element_id is None:
            nodes = assignment.initiator_pick_nodes(elements)
            return nodes + assignment.predefined_nodes(elements) if model_type == "predefined" else nodes
        return assignment.approver_pick_nodes(elements, element_id)
    except EngineError as exc:
        raise _failure(exc) from None


def _failure(exc: EngineError) -> ProcessFailure:
    return ProcessFailure(str(exc), details=exc.to_dict())


def lock_instance(*, session: Session, instance_id: int) -> ProcessInstance:
    """Load an instance for change, holding its row lock until the transaction ends."""
    query = select(ProcessInstance).where(ProcessInstance.id == instance_id)
    if is_postgres(session):
        query = query.with_for_update()
    instance = session.scalars(query.execution_options(populate_existing=True)).first()
    if instance is None:
        raise InstanceNotFound(f"no process instance {instance_id}", details={"id": instance_id})
    batch.hold(session, instance.id)
    return instance


def _history(session: Session, instance: ProcessInstance, kind: str, *, actor: str | None = None,
             element_id: str | None = None, work_item: WorkItem | None = None, details: dict | None = None,
             at: datetime | None = None) -> None:
    row = dict(type=kind, actor=actor, element_id=element_id, details=to_json_safe(details or {}), at=at or utcnow())
    rows = batch.collecting(session)
    if rows is not None:  # inside a save: written together once the items they name have ids
        rows.history.append((instance, work_item, row))
        return
    session.add(HistoryEvent(instance_id=instance.id, work_item=work_item, **row))


MAX_CHANGE_VALUE_CHARS = 2000


def _data_changes(before: dict, after: dict) -> dict:
    """Describe which process variables a command changed, keeping large values out of the history."""
    changes = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        small = len(repr(old)) + len(repr(new)) <= MAX_CHANGE_VALUE_CHARS
        changes[key] = {"from": old, "to": new} if small else {"changed": True}
    return changes


def _record_report(session: Session, instance: ProcessInstance, report: StepReport, actor: str | None,
                   now: datetime) -> None:
    for entry in report.completed:
        details = {"type": entry["type"], "state": entry["state"]}
        if entry.get("flow"):
            details["flow"] = entry["flow"]
        _history(session, instance, "element_completed", actor=actor, element_id=entry["element_id"],
                 details=details, at=now)


def _rejected_end(runtime: ProcessRuntime, report: StepReport) -> str | None:
    """Return the end event marked flowdesk.outcome=rejected that this step reached, if any."""
    elements = runtime.model.elements
    for entry in report.completed:
        info = elements.get(entry.get("element_id")) or {}
        if info.get("type") == "endEvent" and (info.get("properties") or {}).get(policies.OUTCOME) == "rejected":
            return entry["element_id"]
    return None


def _save(session: Session, instance: ProcessInstance, runtime: ProcessRuntime, workflow, report: StepReport,
          *, actor: str | None, now: datetime, open_items: list[WorkItem]) -> None:
    """Write state, summary, history and work items of one command; the caller's transaction commits."""
    with batch.deferred_rows(session):
        _write(session, instance, runtime, workflow, report, actor=actor, now=now, open_items=open_items)


def _write(session: Session, instance: ProcessInstance, runtime: ProcessRuntime, workflow, report: StepReport,
           *, actor: str | None, now: datetime, open_items: list[WorkItem]) -> None:
    from . import operations  # operations imports this module: bind late

    with saving_in(session):  # assignment strategies and due dates read in this transaction
        resolved, skipped = _resolve_new_tasks(session, instance, runtime, workflow, report, actor=actor, now=now,
                                               open_items=open_items)
    try:
        instance.state = runtime.dump(workflow)
    except EngineError as exc:
        raise _failure(exc) from None
    instance.updated_at = now
    last = workflow.last_task
    before = instance.data or {}
    was_waiting = list(instance.waiting_messages or [])
    instance.data = to_json_safe(dict(workflow.data) if workflow.is_completed() or last is None
                                 else {**workflow.data, **last.data})
    _record_report(session, instance, report, actor, now)
    _record_skips(session, instance, skipped, now)
    operations.write_copies(session=session, instance=instance, runtime=runtime, report=report, now=now)
    changes = _data_changes(before, instance.data)
    if changes:
        _history(session, instance, "data_changed", actor=actor, details=changes, at=now)
    if runtime.is_completed(workflow):
        rejected = _rejected_end(runtime, report)
        instance.status = "rejected" if rejected else "completed"
        instance.ended_at = now
        instance.next_wake_at = None
        instance.waiting_messages = []
        if rejected:
            _history(session, instance, "instance_rejected", actor=actor, element_id=rejected, at=now,
                     details={"end": rejected})
        else:
            _history(session, instance, "instance_completed", actor=actor, at=now)
    else:
        instance.next_wake_at = runtime.next_wake(workflow)
        instance.waiting_messages = runtime.waiting_messages(workflow)
    _sync_work_items(session, instance, runtime, workflow, now, open_items, resolved,
                     cancelled=report.cancelled)
    from . import messages  # messages imports this module: bind late

    if instance.waiting_messages != was_waiting:
        messages.subscribe(session=session, instance=instance, names=instance.waiting_messages)
    for message in runtime.outgoing_messages(workflow):
        messages.queue_message(session=session, instance_id=instance.id, **message)
    # No flush here: the save's end (batch.write) flushes what is left and writes the rest with it.


def start_instance(*, session: Session, key: str, actor: Actor, data: dict | None = None,
                   business_key: str | None = None, title: str | None = None,
                   start_message: tuple[str, dict | None] | None = None,
                   picks: dict | None = None, route: list | None = None) -> ProcessInstance:
    """Start the newest startable version of a process and run it to its first wait state.

    `picks` ({node id: [user names]}) names the people of the model's initiatorPicks nodes; each such node
    needs them, unless `picks` is None (an old client), when those nodes fall back to their other assignment.
    `route` is a free-flow process's route (see engine.route); None takes the route the designer offers.
    """
    data = _check_data(data)
    base = definitions.get_startable_or_raise(session=session, key=key)
    version, steps = _route_version(session, base, route, data, actor)
    chosen = _picks(picks, pick_nodes(elements=version.elements, model_type=version.model_type),
                    required=picks is not None)
    runtime = definitions.runtime_for(session=session, version=version)
    now = utcnow()
    start_data = {**data, "initiator": actor.username, **({assignment.PICKS_KEY: chosen} if chosen else {}),
                  **assignment.pick_collections(version.elements, chosen),
                  **(engine_route.members(steps) if steps else {})}
    try:
        with engine_command(session, actor) as command:
            workflow, report = runtime.start(start_data)
            if start_message is not None:
                more = runtime.deliver_message(workflow, start_message[0], data, start_message[1])
                report.completed.extend(more.completed)
    except EngineError as exc:
        raise _failure(exc) from None
    instance = ProcessInstance(definition_id=version.id, definition_key=base.key,
                               process_id=version.primary_process_id or version.key, status="running",
                               business_key=business_key, title=(title or base.name)[:300],
                               initiator=actor.username, state="{}", started_at=now, updated_at=now)
    session.add(instance)
    session.flush()
    batch.hold(session, instance.id)  # nobody else sees the new row before this transaction commits
    _history(session, instance, "instance_started", actor=actor.username,
             details={"definition": base.key, "version": base.version, "data": data,
                      **({"picks": chosen} if chosen else {}), **({"route": steps} if steps else {})}, at=now)
    _save(session, instance, runtime, workflow, report, actor=actor.username, now=now, open_items=[])
    command.finish(instance)
    return instance


def _route_version(session: Session, base, route, data: dict, actor: Actor):
    """Return the version to run and the checked route: a free-flow process runs its route's own version."""
    spec = definitions.route_spec(base)
    if spec is None:
        if route is not None:
            raise InvalidInput(f"process '{base.key}' has a drawn route; it takes no route", details={"field": "route"})
        return base, None
    directory = get_directory()
    known: dict[tuple[str, str], set[str]] = {}

    def belongs(username: str, kind: str, code: str) -> bool:
        if (kind, code) not in known:
            known[kind, code] = set(directory.members(kind, code))
        return username in known[kind, code]

    try:
        steps = engine_route.check_route(spec["steps"] if route is None else route, spec, data,
                                         belongs=belongs, is_active=directory.active_users)
    except engine_route.RouteProblem as exc:
        raise InvalidInput(exc.reason, details={"field": exc.field}) from None
    return definitions.deploy_route(session=session, base=base, route=steps, actor=actor.username), steps


def _runtime(session: Session, instance: ProcessInstance) -> ProcessRuntime:
    return definitions.runtime_for_id(session=session, definition_id=instance.definition_id)


def _load(runtime: ProcessRuntime, instance: ProcessInstance):
    try:
        return runtime.load(instance.state)
    except EngineError as exc:
        raise _failure(exc) from None


def get_work_item_or_raise(*, session: Session, work_item_id: int, actor: Actor) -> WorkItem:
    """Return a work item the actor may see, or raise WorkItemNotFound."""
    item = session.get(WorkItem, work_item_id)
    _visible_or_raise(item, work_item_id, actor)
    return item


def _visible_or_raise(item: WorkItem | None, work_item_id: int, actor: Actor) -> None:
    if item is None or not (actor.may_work_on(assignee=item.assignee, candidate_users=item.candidate_users,
                                              candidate_groups=item.candidate_groups)
                            or item.completed_by == actor.username):
        raise WorkItemNotFound(f"no task {work_item_id} for {actor.username}", details={"id": work_item_id})


def lock_visible_task(*, session: Session, work_item_id: int, actor: Actor) -> LockedTask:
    """Lock a work item's instance for this transaction and return the item, instance and live items, if the
    actor may see the item (else WorkItemNotFound); pass it on to complete_task to read nothing twice."""
    try:
        locked = _lock_work_item(session, work_item_id)
    except WorkItemNotFound:
        locked = None
    _visible_or_raise(locked.item if locked else None, work_item_id, actor)
    return locked


def _check_running(instance: ProcessInstance) -> None:
    # Suspended, withdrawn or terminated processes keep their rows but take no work. An incident is a
    # failed timer or message step; people's tasks in other branches can still be done meanwhile.
    if instance.status not in ("running", "incident"):
        raise Conflict(f"the process is {instance.status}: its tasks cannot be worked on now",
                       details={"id": instance.id, "status": instance.status})


def complete_task(*, session: Session, work_item_id: int, actor: Actor, data: dict | None = None,
                  decision: str | None = None, comment: str | None = None,
                  picks: dict | None = None, locked: LockedTask | None = None) -> ProcessInstance:
    """Complete a work item with form data and an optional decision and comment.

    `picks` ({node id: [user names]}) names the people of the approverPicks nodes that follow this task; each
    needs them when approving, unless `picks` is None (an old client); a rejection needs none. `locked` is
    what lock_visible_task returned for this item earlier in the same transaction.
    """
    data = _check_data(data)
    if decision is not None:
        data = {**data, "decision": decision}
    if locked is not None and locked.item.id != work_item_id:
        raise ValueError(f"locked task {locked.item.id} is not task {work_item_id}")
    item, instance, open_items = locked or _lock_work_item(session, work_item_id)
    if not actor.may_work_on(assignee=item.assignee, candidate_users=item.candidate_users,
                             candidate_groups=item.candidate_groups):
        if item.status != "open" or item.assignee:
            raise NotAllowed(f"task {work_item_id} is not assigned to {actor.username}",
                             details={"id": work_item_id})
        raise WorkItemNotFound(f"no task {work_item_id} for {actor.username}", details={"id": work_item_id})
    _check_running(instance)
    if item.status != "open":
        raise Conflict(f"task {work_item_id} is already {item.status}", details={"id": work_item_id,
                                                                                   "status": item.status})
    if item.owner and item.owner != actor.username:  # delegated (委派): the delegate hands back, the owner decides
        raise Conflict(f"this task was delegated to you by {item.owner}; hand it back with your opinion",
                       details={"id": work_item_id, "owner": item.owner})
    from . import assists, returns, signers  # they import this module: bind late

    if item.kind == "resubmit":  # the initiator sends their returned request on again
        return returns.resubmit(session=session, work_item_id=work_item_id, actor=actor, data=data,
                                comment=comment)
    if item.kind == "cosign":  # someone added to sign this step (加签) decides
        return signers.decide(session=session, item=item, instance=instance, open_items=open_items, actor=actor,
                              data=data, comment=comment)
    if item.kind == "assist":  # a colleague asked for their input (协办) gives it
        return assists.give_help(session=session, item=item, instance=instance, actor=actor, data=data,
                                 comment=comment)
    hanging = signers.attached_among(open_items, item)  # co-signers and helpers added to this task
    if actor.username != SYSTEM.username:  # an overdue action decides even while help was asked for
        assists.refuse_while_waiting(item, hanging)
    elements = definitions.elements_for(session=session, definition_id=instance.definition_id)
    if classify_decision(data) == "rejected":
        policy = returns.reject_policy(elements, item)
        if policy != "route":  # flowdesk.onReject: the request ends, or goes back to its initiator
            return returns.reject(session=session, item=item, instance=instance, open_items=open_items,
                                  actor=actor, policy=policy, comment=comment, data=data)
    chosen = _picks(picks, pick_nodes(elements=elements, element_id=item.element_id),
                    required=picks is not None and decision != "reject")
    if chosen:
        data = {**data, assignment.PICKS_KEY: {**((instance.data or {}).get(assignment.PICKS_KEY) or {}), **chosen},
                **assignment.pick_collections(elements, chosen)}
    if item.item is None and classify_decision(data) != "rejected" and any(h.kind == "cosign" for h in hanging):
        # Approved, but people added to sign after or beside the holder still decide before the step ends.
        return signers.holder_approved(session=session, item=item, instance=instance, open_items=open_items,
                                       actor=actor, data=data, comment=comment)
    runtime = _runtime(session, instance)
    workflow = _load(runtime, instance)
    now = utcnow()
    try:
        with engine_command(session, actor, instance.id) as command:
            report = runtime.complete(workflow, item.task_guid, data)
    except EngineError as exc:
        raise _failure(exc) from None
    item.status = "completed"
    item.completed_at = now
    item.completed_by = actor.username
    item.decision = classify_decision(data) or (str(decision)[:50] if decision else None)
    item.comment = comment
    item.submitted = to_json_safe(data)
    with batch.deferred_rows(session):
        _history(session, instance, "task_completed", actor=actor.username, element_id=item.element_id,
                 work_item=item, details={"decision": item.decision, "comment": comment, "data": data}, at=now)
        _save(session, instance, runtime, workflow, report, actor=actor.username, now=now, open_items=open_items)
    notices.notify_outcome(session, instance, item, actor.username)
    mentions.notify_mentions(session, instance=instance, writer=actor.username, text=comment, item=item)
    command.finish(instance)
    return instance


def claim_task(*, session: Session, work_item_id: int, actor: Actor) -> WorkItem:
    """Take an unassigned work item for oneself; losing a race gives a clear conflict."""
    item = get_work_item_or_raise(session=session, work_item_id=work_item_id, actor=actor)
    instance = lock_instance(session=session, instance_id=item.instance_id)
    session.refresh(item)
    _check_running(instance)
    if item.status != "open":
        raise Conflict(f"task {work_item_id} is already {item.status}", details={"id": work_item_id})
    if item.assignee and item.assignee != actor.username:
        raise Conflict(f"task {work_item_id} was claimed by {item.assignee}", details={"id": work_item_id,
                                                                                         "assignee": item.assignee})
    if item.assignee is None:  # tell the other candidates it is gone from their group inbox
        notices.notify_item_people(session, instance, item, "task_claimed",
                                   f"{item.name} was taken by {actor.username}", exclude=actor.username,
                                   actor=actor.username)
    item.assignee = actor.username
    _history(session, instance, "task_claimed", actor=actor.username, element_id=item.element_id,
             work_item=item)
    session.flush()
    return item


def unclaim_task(*, session: Session, work_item_id: int, actor: Actor) -> WorkItem:
    """Give a claimed work item back to its candidates."""
    item = get_work_item_or_raise(session=session, work_item_id=work_item_id, actor=actor)
    instance = lock_instance(session=session, instance_id=item.instance_id)
    session.refresh(item)
    if item.status != "open" or item.assignee != actor.username:
        raise Conflict(f"task {work_item_id} is not claimed by {actor.username}", details={"id": work_item_id})
    if not (item.candidate_users or item.candidate_groups):
        raise Conflict(f"task {work_item_id} has no candidates to give it back to", details={"id": work_item_id})
    item.assignee = None
    _history(session, instance, "task_unclaimed", actor=actor.username, element_id=item.element_id,
             work_item=item)
    session.flush()
    return item


def wake_instance(*, session: Session, instance_id: int, now: datetime | None = None) -> bool:
    """Fire the due timers of an instance and run it on; return whether anything fired."""
    instance = lock_instance(session=session, instance_id=instance_id)
    now = now or utcnow()
    if instance.status != "running" or instance.next_wake_at is None or instance.next_wake_at > now:
        return False
    open_items = _open_items(session, instance.id)
    runtime = _runtime(session, instance)
    workflow = _load(runtime, instance)
    try:
        with engine_command(session, SYSTEM, instance.id) as command:
            report = runtime.fire_timers(workflow)
    except EngineError as exc:
        raise _failure(exc) from None
    if not report.completed:
        # The engine's clock does not see the timer as due yet: nothing changed, nothing to write.
        return False
    _history(session, instance, "timers_fired", actor="system", at=now)
    _save(session, instance, runtime, workflow, report, actor="system", now=now, open_items=open_items)
    command.finish(instance)
    instance.wake_attempts = 0
    return True


def receive_message(*, session: Session, instance_id: int, name: str, payload: dict | None,
                    correlations: dict | None, actor: Actor) -> ProcessInstance:
    """Deliver a message to one waiting instance; raise ProcessFailure when it does not accept it."""
    instance = lock_instance(session=session, instance_id=instance_id)
    open_items = _open_items(session, instance.id)
    runtime = _runtime(session, instance)
    workflow = _load(runtime, instance)
    now = utcnow()
    try:
        with engine_command(session, actor, instance.id) as command:
            report = runtime.deliver_message(workflow, name, payload, correlations)
    except EngineError as exc:
        raise _failure(exc) from None
    _history(session, instance, "message_received", actor=actor.username, at=now,
             details={"name": name, "payload": payload or {}})
    _save(session, instance, runtime, workflow, report, actor=actor.username, now=now, open_items=open_items)
    command.finish(instance)
    return instance


def last_picks(*, session: Session, key: str, username: str) -> dict[str, list[str]]:
    """Return the people the user chose at the start of their latest request of a process, to reuse."""
    rows = session.scalars(select(ProcessInstance.data).where(ProcessInstance.definition_key == key,
                                                              ProcessInstance.initiator == username)
                           .order_by(ProcessInstance.id.desc()).limit(1))
    data = next(iter(rows), None) or {}
    picks = data.get(assignment.PICKS_KEY) if isinstance(data, dict) else None
    return {str(k): [str(n) for n in v] for k, v in picks.items() if isinstance(v, list)} if isinstance(
        picks, dict) else {}


def get_instance_or_raise(*, session: Session, instance_id: int) -> ProcessInstance:
    """Return an instance by id or raise InstanceNotFound."""
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise InstanceNotFound(f"no process instance {instance_id}", details={"id": instance_id})
    return instance


def list_history(*, session: Session, instance_id: int) -> list[HistoryEvent]:
    """Return an instance's history, oldest first."""
    return list(session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == instance_id)
                                .order_by(HistoryEvent.id)))


def list_open_work_items(*, session: Session, instance_id: int) -> list[WorkItem]:
    """Return an instance's open work items."""
    return list(session.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id,
                                                       WorkItem.status == "open").order_by(WorkItem.id)))


def list_my_tasks(*, session: Session, actor: Actor, limit: int = 100) -> list[WorkItem]:
    """Return open work items assigned to the actor or claimable by them, by priority then due date."""
    mine = select(WorkItem.id).where(WorkItem.status == "open", WorkItem.assignee == actor.username)
    claimable = (select(WorkItemCandidate.work_item_id)
                 .join(WorkItem, WorkItem.id == WorkItemCandidate.work_item_id)
                 .where(WorkItem.status == "open", WorkItem.assignee.is_(None))
                 .where(((WorkItemCandidate.kind == "user") & (WorkItemCandidate.value == actor.username))
                        | ((WorkItemCandidate.kind == "group") & WorkItemCandidate.value.in_(list(actor.groups)))))
    query = (select(WorkItem).where(WorkItem.id.in_(mine.union(claimable)))
             .order_by(WorkItem.priority.desc(), WorkItem.due_at.is_(None), WorkItem.due_at, WorkItem.id)
             .limit(limit))
    return list(session.scalars(query))


"""Moving a request backwards or sideways: return (退回), resubmit, take back (撤回), reject policies, jump (跳转).

Every move is one locked transaction: the engine moves the token, the open work items that no longer wait are
cancelled with the reason, new ones are created for whoever the reached node names, and the history records
who did it, when, why and where the request went.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from database.base import utcnow
from definitions import service as definitions
from engine import policies
from engine.errors import EngineError
from engine.jsonsafe import to_json_safe

from . import mentions, notices
from .actors import Actor
from .context import engine_command
from .errors import Conflict, InvalidInput, NotAllowed, ProcessFailure, WorkItemNotFound
from .models import ProcessInstance, WorkItem
from .service import _check_data, _failure, _history, _load, _runtime, _save, lock_instance
from .verbs import _comment, _open_item_for
from .work_items import _lock_work_item

RETURN_TO = policies.RETURN_TO  # where a node's approver may send the request back to
RETURN_POLICIES = policies.CHOICES[RETURN_TO]
ON_RESUBMIT = policies.ON_RESUBMIT  # what happens when the returned-to node is done again
RESUBMIT_POLICIES = policies.CHOICES[ON_RESUBMIT]
ON_REJECT = policies.ON_REJECT  # what rejecting a node does beyond recording the decision
REJECT_POLICIES = policies.CHOICES[ON_REJECT]
PREVIOUS, INITIATOR = "previous", "initiator"
RUNNING = ("running", "incident")


def node_policy(elements: dict, element_id: str, name: str, allowed: tuple[str, ...]) -> str:
    """Return a node's policy property (the first allowed value when unset); a bad value names the node."""
    value = ((elements.get(element_id) or {}).get("properties") or {}).get(name)
    if value in (None, ""):
        return allowed[0]
    if value not in allowed:
        raise ProcessFailure(f"element '{element_id}': {name} is '{value}'; use one of {', '.join(allowed)}",
                             details={"element_id": element_id, "property": name})
    return value


def _stops(runtime, workflow, item: WorkItem, elements: dict) -> list:
    """The places this item's node may return the request to, nearest first, as its returnTo policy allows."""
    policy = node_policy(elements, item.element_id, RETURN_TO, RETURN_POLICIES)
    if policy == "none":
        return []
    try:
        stops = runtime.return_stops(workflow, item.task_guid)
    except EngineError as exc:
        raise _failure(exc) from None
    if policy == "initiator":
        return [s for s in stops if s.kind == "start"]
    if policy == "previous":
        earlier = [s for s in stops if s.kind != "start"]
        return earlier[:1] or [s for s in stops if s.kind == "start"]
    return stops


def _stop_json(stop) -> dict:
    return {"id": stop.element_id, "name": stop.name, "kind": stop.kind}


def return_choices(*, session: Session, work_item_id: int, actor: Actor) -> dict:
    """Tell where an open task may be returned to and whether the returner chooses the resubmission route."""
    item, instance = _open_item_for(session, work_item_id, actor)
    return choices_for(session=session, item=item, instance=instance)


def choices_for(*, session: Session, item: WorkItem, instance: ProcessInstance) -> dict:
    """Where an open item (already checked as the caller's) may go back to, and its resubmission policy."""
    if item.kind != "task" or item.status != "open" or instance.status not in RUNNING:
        return {"stops": [], "resubmit": "rerun"}
    elements = definitions.elements_for(session=session, definition_id=instance.definition_id)
    runtime = _runtime(session, instance)
    stops = _stops(runtime, _load(runtime, instance), item, elements)
    return {"stops": [_stop_json(s) for s in stops],
            "resubmit": node_policy(elements, item.element_id, ON_RESUBMIT, RESUBMIT_POLICIES)}


def _cancel_reason(open_items: list[WorkItem], keep: WorkItem | None, reason: dict) -> dict:
    """The reason each open item gets if the move leaves it no longer waiting (see _sync_work_items)."""
    return {i.task_guid: reason for i in open_items if i is not keep}


def _initiator_item(session: Session, instance: ProcessInstance, runtime, workflow, now) -> WorkItem:
    """Give the initiator a task to revise and resubmit their returned request."""
    item = WorkItem(instance_id=instance.id, task_guid=runtime.resubmission(workflow), kind="resubmit",
                    element_id=instance.process_id, name=(instance.title or instance.definition_key)[:300],
                    status="open", assignee=instance.initiator, candidate_users=[], candidate_groups=[],
                    created_at=now)
    session.add(item)
    session.flush()
    _history(session, instance, "task_created", element_id=item.element_id, work_item=item, at=now,
             details={"assignee": instance.initiator, "kind": "resubmit"})
    notices.notify_item_people(session, instance, item, "returned", item.name)
    return item


def _move_back(session: Session, actor: Actor, item: WorkItem, instance: ProcessInstance,
               open_items: list[WorkItem], stop, *, comment: str | None, decision: str, resume: bool,
               event: str) -> ProcessInstance:
    """Return `item`'s token to `stop`, close the item with `decision`, and write everything down."""
    runtime = _runtime(session, instance)
    workflow = _load(runtime, instance)
    now = utcnow()
    others = [i for i in open_items if i is not item and i.element_id != item.element_id]
    try:
        with engine_command(session, actor, instance.id) as command:
            report = runtime.return_to(workflow, item.task_guid, stop.element_id, resume=resume)
            ready = {task.id for task in runtime.human_tasks(workflow)}
            if resume and any(i.task_guid not in ready for i in others):
                # Other branches were reset too: going straight back would leave their join waiting for ever.
                runtime.forget_resume(workflow)
                resume = False
    except EngineError as exc:
        raise _failure(exc) from None
    item.status = "returned"
    item.completed_at = now
    item.completed_by = actor.username
    item.decision = decision
    item.comment = comment
    _history(session, instance, event, actor=actor.username, element_id=item.element_id, work_item=item, at=now,
             details={"to": stop.element_id, "to_name": stop.name, "kind": stop.kind, "resume": resume,
                      "comment": comment})
    report.cancelled.update(_cancel_reason(open_items, item, {"by": "return", "to": stop.element_id}))
    _save(session, instance, runtime, workflow, report, actor=actor.username, now=now, open_items=open_items)
    if stop.kind == "start":
        _initiator_item(session, instance, runtime, workflow, now)
    mentions.notify_mentions(session, instance=instance, writer=actor.username, text=comment, item=item)
    command.finish(instance)
    session.flush()
    return instance


def return_task(*, session: Session, work_item_id: int, actor: Actor, to: str, comment: str | None,
                resume: bool | None = None) -> ProcessInstance:
    """Send a request back from an open task (退回): to the previous step, an earlier step, or the initiator.

    `to` is "previous", "initiator" or an earlier node's id. Whether the returned-to step then goes straight
    back to this one follows the node's flowdesk.onResubmit; with "ask" the returner says so with `resume`.
    """
    comment = _comment(comment)
    if not comment:
        raise InvalidInput("say why the request goes back (a comment is required)", details={"field": "comment"})
    if not isinstance(to, str) or not to.strip():
        raise InvalidInput("to must name where the request goes back to", details={"field": "to"})
    item, instance = _open_item_for(session, work_item_id, actor)
    if item.owner and item.owner != actor.username:
        raise Conflict(f"this task was delegated to you by {item.owner}; hand it back with your opinion",
                       details={"id": work_item_id, "owner": item.owner})
    if item.kind != "task":
        raise Conflict("the request is already with its initiator", details={"id": work_item_id})
    elements = definitions.elements_for(session=session, definition_id=instance.definition_id)
    runtime = _runtime(session, instance)
    stops = _stops(runtime, _load(runtime, instance), item, elements)
    to = to.strip()
    if to == PREVIOUS:
        stop = stops[0] if stops else None
    elif to == INITIATOR:
        stop = next((s for s in stops if s.kind == "start"), None)
    else:
        stop = next((s for s in stops if s.element_id == to), None)
    if stop is None:
        allowed = ", ".join(s.element_id for s in stops) or "nowhere"
        raise InvalidInput(f"task {work_item_id} cannot be returned to '{to}': it may go back to {allowed}",
                           details={"field": "to"})
    policy = node_policy(elements, item.element_id, ON_RESUBMIT, RESUBMIT_POLICIES)
    go_back = policy == "backToReturner" or (policy == "ask" and bool(resume))
    _, _, open_items = _lock_work_item(session, work_item_id)
    return _move_back(session, actor, item, instance, open_items, stop, comment=comment, decision="returned",
                      resume=go_back, event="task_returned")


def reject_policy(elements: dict, item: WorkItem) -> str:
    """Return what rejecting this item does: follow the route (the model branches), end, or go to the initiator.

    A countersign member's rejection is a vote: the node's rule decides, so the policy is the route.
    """
    if item.item is not None or item.kind != "task":
        return "route"
    return node_policy(elements, item.element_id, ON_REJECT, REJECT_POLICIES)


def reject(*, session: Session, item: WorkItem, instance: ProcessInstance, open_items: list[WorkItem],
           actor: Actor, policy: str, comment: str | None, data: dict) -> ProcessInstance:
    """Reject under flowdesk.onReject: end the request as rejected, or return it to its initiator."""
    from .lifecycle import _close  # lifecycle imports service, as this module does: bind late

    if not comment:
        raise InvalidInput("say why the request is rejected (a comment is required)", details={"field": "comment"})
    if policy == "initiator":
        runtime = _runtime(session, instance)
        stop = next((s for s in runtime.return_stops(_load(runtime, instance), item.task_guid)
                     if s.kind == "start"), None)
        if stop is None:
            raise ProcessFailure(f"element '{item.element_id}': {ON_REJECT}=initiator, but the request has no "
                                 "start to return to", details={"element_id": item.element_id})
        return _move_back(session, actor, item, instance, open_items, stop, comment=comment, decision="rejected",
                          resume=False, event="task_rejected")
    now = utcnow()
    item.status = "completed"
    item.completed_at = now
    item.completed_by = actor.username
    item.decision = "rejected"
    item.comment = comment
    item.submitted = to_json_safe(data)
    _history(session, instance, "task_completed", actor=actor.username, element_id=item.element_id,
             work_item=item, details={"decision": "rejected", "comment": comment, "data": data}, at=now)
    cancelled = _close(session, instance, "rejected", now)
    _history(session, instance, "instance_rejected", actor=actor.username, element_id=item.element_id, at=now,
             details={"comment": comment, "cancelled_tasks": cancelled})
    notices.notify_outcome(session, instance, item, actor.username)
    mentions.notify_mentions(session, instance=instance, writer=actor.username, text=comment, item=item)
    session.flush()
    return instance


def resubmit(*, session: Session, work_item_id: int, actor: Actor, data: dict | None = None,
             comment: str | None = None) -> ProcessInstance:
    """Send a returned request on again with the initiator's revised data; it runs its route from the start."""
    data = _check_data(data)
    comment = _comment(comment)
    item, instance, open_items = _lock_work_item(session, work_item_id)
    if item.kind != "resubmit":
        raise Conflict(f"task {work_item_id} is not a returned request", details={"id": work_item_id})
    if item.assignee != actor.username and not actor.is_admin:
        raise WorkItemNotFound(f"no task {work_item_id} for {actor.username}", details={"id": work_item_id})
    if item.status != "open":
        raise Conflict(f"task {work_item_id} is already {item.status}", details={"id": work_item_id,
                                                                                  "status": item.status})
    if instance.status not in RUNNING:
        raise Conflict(f"the process is {instance.status}: it cannot be resubmitted",
                       details={"id": int(instance.id), "status": instance.status})
    runtime = _runtime(session, instance)
    workflow = _load(runtime, instance)
    now = utcnow()
    try:
        with engine_command(session, actor, instance.id) as command:
            report = runtime.resubmit(workflow, data)
    except EngineError as exc:
        raise _failure(exc) from None
    item.status = "completed"
    item.completed_at = now
    item.completed_by = actor.username
    item.decision = "resubmitted"
    item.comment = comment
    item.submitted = to_json_safe(data)
    _history(session, instance, "instance_resubmitted", actor=actor.username, work_item=item, at=now,
             details={"comment": comment, "data": data})
    _save(session, instance, runtime, workflow, report, actor=actor.username, now=now, open_items=open_items)
    mentions.notify_mentions(session, instance=instance, writer=actor.username, text=comment, item=item)
    command.finish(instance)
    return instance


def may_take_back(item: WorkItem, instance: ProcessInstance, actor: Actor) -> bool:
    """Tell whether the pages should offer taking back this completed decision (the engine has the last word)."""
    return (item.status == "completed" and item.kind == "task" and item.completed_by == actor.username
            and instance.status in RUNNING)


def take_back(*, session: Session, work_item_id: int, actor: Actor, reason: str | None = None) -> ProcessInstance:
    """Take back one's decision (撤回) while nobody after it has acted: the task waits for you again."""
    reason = _comment(reason, "reason")
    item, instance, open_items = _lock_work_item(session, work_item_id)
    if item.completed_by != actor.username or item.kind != "task":
        raise NotAllowed(f"only who completed task {work_item_id} may take it back", details={"id": work_item_id})
    if item.status != "completed":
        raise Conflict(f"task {work_item_id} is {item.status}: there is no decision to take back",
                       details={"id": work_item_id, "status": item.status})
    if instance.status not in RUNNING:
        raise Conflict(f"the process is {instance.status}: nothing in it can be taken back",
                       details={"id": int(instance.id), "status": instance.status})
    runtime = _runtime(session, instance)
    workflow = _load(runtime, instance)
    now = utcnow()
    try:
        with engine_command(session, actor, instance.id) as command:
            report = runtime.take_back(workflow, item.task_guid)
    except EngineError as exc:
        raise Conflict(str(exc), details={"id": work_item_id, **exc.to_dict()}) from None
    item.status = "taken_back"
    _history(session, instance, "task_taken_back", actor=actor.username, element_id=item.element_id,
             work_item=item, at=now, details={"reason": reason, "decision": item.decision})
    report.cancelled.update(_cancel_reason(open_items, None, {"by": "take_back", "actor": actor.username}))
    _save(session, instance, runtime, workflow, report, actor=actor.username, now=now, open_items=open_items)
    command.finish(instance)
    return instance


def jump(*, session: Session, instance_id: int, actor: Actor, to: str, reason: str | None,
         from_task: int | None = None) -> ProcessInstance:
    """Move a request to any node (跳转, administrators), with a mandatory reason.

    `from_task` is the open work item whose token moves; it may be left out when one node is waiting.
    """
    from .lifecycle import _reason  # lifecycle imports service, as this module does: bind late

    reason = _reason(reason, required=True)
    if not actor.is_admin:
        raise NotAllowed("only an administrator may move a process to another step", details={"id": instance_id})
    if not isinstance(to, str) or not to.strip():
        raise InvalidInput("to must name the step to move to", details={"field": "to"})
    instance = lock_instance(session=session, instance_id=instance_id)
    if instance.status not in RUNNING:
        raise Conflict(f"the process is {instance.status}: it cannot be moved",
                       details={"id": instance_id, "status": instance.status})
    from .work_items import _open_items

    open_items = _open_items(session, instance.id)
    waiting = [i for i in open_items if i.kind == "task"]
    if from_task is not None:
        source = next((i for i in waiting if i.id == from_task), None)
        if source is None:
            raise InvalidInput(f"task {from_task} is not waiting in process {instance_id}",
                               details={"field": "from_task"})
    elif len({i.element_id for i in waiting}) == 1:
        source = waiting[0]
    else:
        raise InvalidInput("several steps are waiting: say which task moves (from_task)" if waiting else
                           "no task is waiting in this process: there is no token a person can move",
                           details={"field": "from_task"})
    runtime = _runtime(session, instance)
    workflow = _load(runtime, instance)
    now = utcnow()
    try:
        with engine_command(session, actor, instance.id) as command:
            report = runtime.jump(workflow, source.task_guid, to.strip())
    except EngineError as exc:
        raise InvalidInput(str(exc), details={"field": "to", **exc.to_dict()}) from None
    _history(session, instance, "instance_jumped", actor=actor.username, element_id=to.strip(), at=now,
             details={"from": source.element_id, "from_task": int(source.id), "to": to.strip(), "reason": reason})
    report.cancelled.update(_cancel_reason(open_items, None, {"by": "jump", "to": to.strip()}))
    _save(session, instance, runtime, workflow, report, actor=actor.username, now=now, open_items=open_items)
    command.finish(instance)
    return instance

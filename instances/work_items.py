"""Work items: load the open ones and turn the engine's ready human tasks into WorkItem rows and history."""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, delete, or_, select
from sqlalchemy.orm import Session

from database.session import is_postgres
from engine.errors import EngineError
from engine.jsonsafe import to_json_safe
from engine.runtime import ProcessRuntime, StepReport

from . import assignment, batch, notices
from .actors import SYSTEM, Actor
from .context import engine_command
from .errors import WorkItemNotFound
from .models import ProcessInstance, WorkItem, WorkItemCandidate

# Items still alive: open (someone decides), waiting (its owner waits for signers they added) and pending (an
# added signer whose turn is still to come). Only open ones are in anybody's inbox.
LIVE = ("open", "waiting", "pending")


def _open_items(session: Session, instance_id: int) -> list[WorkItem]:
    return list(session.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id,
                                                       WorkItem.status.in_(LIVE))))


def _alive(item: WorkItem, ready: set) -> bool:
    """Tell whether a live item still has its engine task: an added signer's is the one of the item it signs."""
    if item.kind in ("cosign", "assist"):
        return (item.item or {}).get("of_guid") in ready
    return item.task_guid in ready


class LockedTask(NamedTuple):
    """A work item read with its instance row locked, and the instance's live items (the item among them)."""

    item: WorkItem
    instance: ProcessInstance
    open_items: list[WorkItem]


# Built once: every completion, claim and approval verb runs them, and building a statement costs more than
# running it. The instance is found through the item and locked; the items are read after the lock is held.
_INSTANCE_OF_ITEM = (select(ProcessInstance)
                     .where(ProcessInstance.id == select(WorkItem.instance_id)
                            .where(WorkItem.id == bindparam("item_id")).scalar_subquery())
                     .execution_options(populate_existing=True))
_INSTANCE_OF_ITEM_LOCKED = _INSTANCE_OF_ITEM.with_for_update()
_ITEM_AND_LIVE_ITEMS = (select(WorkItem)
                        .where(WorkItem.instance_id == bindparam("instance_id"),
                               # Comparisons, not IN: an IN list is spliced into the SQL on every run.
                               or_(*(WorkItem.status == status for status in LIVE),
                                   WorkItem.id == bindparam("item_id")))
                        .execution_options(populate_existing=True))


def _lock_work_item(session: Session, work_item_id: int) -> LockedTask:
    """Load a work item's instance with its row locked, then the item and the instance's live items."""
    query = _INSTANCE_OF_ITEM_LOCKED if is_postgres(session) else _INSTANCE_OF_ITEM
    instance = session.scalars(query, {"item_id": work_item_id}).first()
    if instance is None:
        raise WorkItemNotFound(f"no task {work_item_id}", details={"id": work_item_id})
    batch.hold(session, instance.id)
    # Under READ COMMITTED this later statement sees what others committed while we waited for the lock.
    items = list(session.scalars(_ITEM_AND_LIVE_ITEMS, {"instance_id": instance.id, "item_id": work_item_id}))
    item = next(i for i in items if i.id == work_item_id)
    return LockedTask(item, instance, [i for i in items if i.status in LIVE])


def _resolve_new_tasks(session: Session, instance: ProcessInstance, runtime: ProcessRuntime, workflow,
                       report: StepReport, *, actor: str | None, now: datetime, open_items: list[WorkItem]
                       ) -> tuple[dict, list]:
    """Resolve the new human tasks, first completing those flowdesk.onSelfApproval=skip passes as approved."""
    from .service import _failure  # service imports this module: bind late

    def skip(task) -> None:
        with engine_command(session, SYSTEM if actor in (None, SYSTEM.username) else Actor(actor),
                            instance.id) as command:
            more = runtime.complete(workflow, task.id, dict(assignment.SKIP_DATA))
        command.finish(instance)
        for name, value in vars(more).items():  # one report for the whole command: history, copies, cancellations
            merged = getattr(report, name)
            merged.update(value) if isinstance(merged, dict) else merged.extend(value)

    try:
        return assignment.resolve_new_tasks(lambda: runtime.human_tasks(workflow), initiator=instance.initiator,
                                            now=now, known={item.task_guid for item in open_items}, skip=skip)
    except EngineError as exc:
        raise _failure(exc) from None


def _record_skips(session: Session, instance: ProcessInstance, skipped: list, now: datetime) -> None:
    from .service import _history  # service imports this module: bind late

    for task in skipped:  # no work item and no notice: the history says who would have decided, and why
        reason = getattr(task, "skip_reason", assignment.SELF_APPROVAL_REASON)
        _history(session, instance, "task_skipped", actor="system", element_id=task.element_id, at=now,
                 details={"reason": reason, "policy": "skip",
                          "approver": instance.initiator if reason == assignment.SELF_APPROVAL_REASON else None,
                          "decision": "approved", "data": dict(assignment.SKIP_DATA),
                          **({"item": to_json_safe(task.item)} if task.multi_instance else {})})


def _sync_work_items(session: Session, instance: ProcessInstance, runtime: ProcessRuntime, workflow,
                     now: datetime, open_items: list[WorkItem], resolved: dict,
                     cancelled: dict | None = None) -> None:
    from . import lifecycle  # lifecycle imports this module: bind late
    from .service import _history  # service imports this module: bind late

    ready = {task.id for task in runtime.human_tasks(workflow)}
    if any(item.kind == "resubmit" for item in open_items):  # returned to the initiator: the start waits for them
        ready.add(runtime.resubmission(workflow))
    closed = [item for item in open_items if item.status not in LIVE]
    for item in open_items:
        if item.status in LIVE and not _alive(item, ready):
            item.status = "cancelled"
            item.completed_at = now
            closed.append(item)
            # A countersign rule that decided the node says so: {"by": "countersign", "rule", "outcome"}.
            _history(session, instance, "task_cancelled", element_id=item.element_id, work_item=item, at=now,
                     details=(cancelled or {}).get(item.task_guid))
    offered = [item.id for item in closed if item.candidate_users or item.candidate_groups]
    if offered:
        # Candidate rows exist only for open items, which keeps the group inbox query proportional to them;
        # an item offered to nobody (a personal task) never had any, so it costs no statement.
        # Nothing pending can touch these rows, so the statement need not flush first: the changes so far go
        # out with the new items in one flush, and their history rows in one statement.
        session.execute(delete(WorkItemCandidate).where(WorkItemCandidate.work_item_id.in_(offered)),
                        execution_options={"autoflush": False})
    # The new items wait for the save's end, where they go out in one statement; the reads in between (proxies,
    # people to notify) touch none of them, so they must not flush each one on its own.
    with session.no_autoflush:
        for guid, (task, fields) in resolved.items():
            outcome = fields.pop("self_approval", None)
            absent = fields["assignee"]
            proxy = absent and lifecycle.proxy_for(session=session, username=absent,
                                                   definition_key=instance.definition_key, at=now)
            refused = None
            if proxy and proxy == instance.initiator and assignment.self_approval_policy(task) != "allow":
                refused, proxy = proxy, None  # a proxy never decides the request they started themselves
            if proxy:  # a standing proxy (代理) receives the absent person's new direct tasks
                fields["assignee"] = proxy
            item = WorkItem(instance_id=instance.id, task_guid=guid, element_id=task.element_id, name=task.name[:300],
                            lane=task.lane, status="open", created_at=now,
                            item=to_json_safe({"key": task.item_key, "value": task.item}) if task.multi_instance
                            else None, **fields)
            offers = [("user", u) for u in item.candidate_users] + [("group", g) for g in item.candidate_groups]
            deferred = batch.collecting(session)
            if deferred is not None:  # written with the save's other appended rows, once the item has its id
                deferred.candidates.extend((item, kind, value) for kind, value in offers)
            else:
                item.candidates = [WorkItemCandidate(kind=kind, value=value) for kind, value in offers]
            session.add(item)
            details = {"assignee": item.assignee, "candidate_users": item.candidate_users,
                       "candidate_groups": item.candidate_groups, **({"flow": task.flow} if task.flow else {})}
            if outcome and outcome["action"] == "exclude":
                details["excluded"] = [outcome["excluded"]]
            if refused:
                details["proxy_refused"] = refused
            _history(session, instance, "task_created", element_id=item.element_id, work_item=item, details=details,
                     at=now)
            if outcome and outcome["action"] == "redirect":  # onSelfApproval=superior: the history says who instead
                _history(session, instance, "task_redirected", actor="system", element_id=item.element_id,
                         work_item=item, details={"reason": assignment.SELF_APPROVAL_REASON, "policy": outcome["policy"],
                                                  "for": outcome["for"], "to": outcome["to"], "via": outcome["via"]},
                         at=now)
            if proxy:
                _history(session, instance, "task_proxied", actor="system", element_id=item.element_id,
                         work_item=item, details={"for": absent, "to": proxy}, at=now)
            notices.notify_item_people(session, instance, item, "task_assigned", item.name)

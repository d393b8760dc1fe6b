"""flowdesk.onOverdue: what the worker does, exactly once, with an open work item past its due time.

"notify" (the default) leaves the item to collab's due notices; "approve" and "reject" complete it as the
system with that decision; "escalate" transfers it to the holder's superior; "jump:<node id>" moves the request
to that node. Each item is handled in its own
transaction and marked (work_item.overdue_handled_at / overdue_outcome) in that transaction, so a second scan
or a second worker never acts on it again. A failed action is marked with its error and not retried.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from database.base import utcnow
from database.session import Database, is_postgres
from definitions import service as definitions
from engine import policies
from engine.errors import EngineError

from . import assignment, service, verbs
from .actors import SYSTEM
from .directory import get_directory
from .models import ProcessInstance, WorkItem

log = logging.getLogger("flowdesk.worker")
REASON = "overdue"
MAX_ERROR_CHARS = 1000


def _comment(policy: str, item: WorkItem) -> str:
    due = item.due_at.isoformat() if item.due_at else "?"
    if policy == "escalate":
        return f"Escalated automatically: the task was overdue (due {due})."
    word = "approved" if policy == "approve" else "rejected"
    return f"Decided automatically ({word}): the task was overdue (due {due})."


def _next_due(session, now: datetime, seen: set[int]) -> tuple[int, int] | None:
    query = (select(WorkItem.id, WorkItem.instance_id)
             .join(ProcessInstance, ProcessInstance.id == WorkItem.instance_id)
             .where(WorkItem.status == "open", WorkItem.due_at.is_not(None), WorkItem.due_at <= now,
                    WorkItem.overdue_handled_at.is_(None), ProcessInstance.status == "running")
             .order_by(WorkItem.due_at, WorkItem.id).limit(1))
    if seen:  # an item busy elsewhere this run waits for the next run
        query = query.where(WorkItem.id.notin_(seen))
    row = session.execute(query).first()
    return (int(row[0]), int(row[1])) if row else None


def _lock(session, item_id: int, instance_id: int) -> WorkItem | None:
    """Hold the instance and item rows, as every command does (instance first); None when taken or done."""
    if is_postgres(session):
        # Rows another worker (or a person's command) holds are skipped: each item is acted on by one worker.
        if session.scalar(select(ProcessInstance.id).where(ProcessInstance.id == instance_id)
                          .with_for_update(skip_locked=True)) is None:
            return None
        if session.scalar(select(WorkItem.id).where(WorkItem.id == item_id)
                          .with_for_update(skip_locked=True)) is None:
            return None
    # Read after the locks are held: what another worker committed meanwhile is seen here.
    item = session.get(WorkItem, item_id, populate_existing=True)
    if item is None or item.status != "open" or item.overdue_handled_at is not None:
        return None
    return item


def _policy(session, instance: ProcessInstance, item: WorkItem) -> str:
    runtime = definitions.runtime_for_id(session=session, definition_id=instance.definition_id)
    info = runtime.model.elements.get(item.element_id, {})
    raw = str((info.get("properties") or {}).get(assignment.ON_OVERDUE) or "").strip()
    if raw.startswith(policies.JUMP_PREFIX):  # "jump:<node id>": move the request on to that node
        return raw
    return assignment.element_policy(info, item.element_id, assignment.ON_OVERDUE, assignment.OVERDUE_POLICIES)


def _escalate(session, instance: ProcessInstance, item: WorkItem, outcome: dict, now: datetime) -> dict:
    # The holder is who decides: the owner of a delegated item, the assignee, or the only candidate user.
    holder = item.owner or item.assignee
    if not holder and len(item.candidate_users or []) == 1 and not item.candidate_groups:
        holder = item.candidate_users[0]
    superior = get_directory().superior(holder) if holder else None
    if not superior or superior == holder:
        reason = (f"{holder} has no superior" if holder
                  else "the task is offered to several people or groups: there is no one holder to escalate from")
        outcome.update(outcome="left", holder=holder, reason=reason)
        service._history(session, instance, "task_overdue", actor=SYSTEM.username, element_id=item.element_id,
                         work_item=item, details=outcome, at=now)
        return outcome
    outcome.update(outcome="escalated", holder=holder, to=superior)
    service._history(session, instance, "task_overdue", actor=SYSTEM.username, element_id=item.element_id,
                     work_item=item, details=outcome, at=now)
    verbs.transfer_task(session=session, work_item_id=item.id, actor=SYSTEM, to_user=superior,
                        comment=_comment("escalate", item))
    return outcome


def _act(session, item: WorkItem, now: datetime) -> dict:
    """Run the item's flowdesk.onOverdue action in the caller's transaction; return the outcome to mark."""
    instance = service.lock_instance(session=session, instance_id=item.instance_id)
    policy = _policy(session, instance, item)
    outcome = {"policy": policy, "due_at": item.due_at.isoformat() if item.due_at else None}
    if policy == "notify":  # today's behaviour: collab's due-soon, overdue and escalated notices
        return {**outcome, "outcome": "notified"}
    if policy == "escalate":
        return _escalate(session, instance, item, outcome, now)
    if policy.startswith(policies.JUMP_PREFIX):
        from . import returns  # returns imports service, as this module does: bind late

        target = policy[len(policies.JUMP_PREFIX):].strip()
        outcome.update(outcome="jumped", to=target, reason=REASON)
        service._history(session, instance, "task_overdue", actor=SYSTEM.username, element_id=item.element_id,
                         work_item=item, details=outcome, at=now)
        due = item.due_at.isoformat() if item.due_at else "?"
        returns.jump(session=session, instance_id=instance.id, actor=SYSTEM, to=target, from_task=item.id,
                     reason=f"Moved automatically to {target}: the task was overdue (due {due}).")
        return outcome
    decision = "approved" if policy == "approve" else "rejected"
    outcome.update(outcome=decision, reason=REASON)
    service._history(session, instance, "task_overdue", actor=SYSTEM.username, element_id=item.element_id,
                     work_item=item, details=outcome, at=now)
    service.complete_task(session=session, work_item_id=item.id, actor=SYSTEM, decision=policy,
                          comment=_comment(policy, item))
    return outcome


def _mark_failed(session, item_id: int, error: Exception, now: datetime) -> None:
    item = session.get(WorkItem, item_id, populate_existing=True)
    instance = session.get(ProcessInstance, item.instance_id, populate_existing=True)
    details = getattr(error, "details", None) or {}
    message = (getattr(error, "reason", None) if isinstance(error, EngineError) else None) or str(error)
    outcome = {"outcome": "failed", "error": message[:MAX_ERROR_CHARS],
               "due_at": item.due_at.isoformat() if item.due_at else None}
    if isinstance(details, dict) and details.get("element_id"):
        outcome["element_id"] = details["element_id"]
    item.overdue_handled_at, item.overdue_outcome = now, outcome
    service._history(session, instance, "task_overdue_failed", actor=SYSTEM.username, element_id=item.element_id,
                     work_item=item, details=outcome, at=now)
    log.error("work item %s: the overdue action failed and is not retried: %s", item_id, message)


def run_overdue_actions(database: Database, *, now: datetime | None = None, limit: int = 500,
                        max_attempts: int = 5) -> int:
    """Handle overdue open work items once each, one per transaction; return how many were approved,
    rejected or escalated (notify-only items are marked but not counted)."""
    acted, seen = 0, set()
    for _ in range(limit):
        moment = now or utcnow()
        with database.command() as session:
            found = _next_due(session, moment, seen)
            if found is None:
                break
            item_id, instance_id = found
            seen.add(item_id)
            item = _lock(session, item_id, instance_id)
            if item is None:
                continue
            try:
                with session.begin_nested():
                    outcome = _act(session, item, moment)
                    item = session.get(WorkItem, item_id)
                    item.overdue_handled_at, item.overdue_outcome = moment, outcome
                    session.flush()
            except Exception as exc:  # marked with the error, never retried forever, never blocks the others
                _mark_failed(session, item_id, exc, moment)
                continue
            if outcome["outcome"] in ("approved", "rejected", "escalated", "jumped"):
                acted += 1
    return acted

"""What managers watch: all instances with filters, and per-node load of one definition."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from database.base import MAX_PAGE, utcnow

from .actors import Actor
from .errors import InvalidInput
from .models import INSTANCE_STATUSES, ProcessInstance, WorkItem
from .visibility import visible_clause

STATUSES = INSTANCE_STATUSES


def list_instances(*, session: Session, process: str | None = None, status: str | None = None,
                   initiators: list[str] | None = None, started_from: datetime | None = None,
                   started_to: datetime | None = None, overdue: bool = False, page: int = 1,
                   page_size: int = 25, visible_to: Actor | None = None,
                   watch=None) -> tuple[list[ProcessInstance], int]:
    """Return one page of instances matching the filters, newest first, with the total.

    With `visible_to`, only instances the actor takes part in, or (with `watch`, an SQL condition from the
    permission model) may watch, are listed.
    """
    if status and status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", details={"field": "status"})
    if not 1 <= page <= MAX_PAGE or not 1 <= page_size <= 200:
        raise InvalidInput(f"page must be 1 to {MAX_PAGE} and page_size 1 to 200", details={"field": "page"})
    query = select(ProcessInstance)
    if visible_to is not None:
        query = query.where(visible_clause(visible_to) if watch is None else or_(visible_clause(visible_to), watch))
    if process:
        query = query.where(ProcessInstance.definition_key == process)
    if status:
        query = query.where(ProcessInstance.status == status)
    if initiators is not None:
        query = query.where(ProcessInstance.initiator.in_(initiators or [""]))
    if started_from:
        query = query.where(ProcessInstance.started_at >= started_from)
    if started_to:
        query = query.where(ProcessInstance.started_at <= started_to)
    if overdue:
        query = query.where(exists().where(WorkItem.instance_id == ProcessInstance.id, WorkItem.status == "open",
                                           WorkItem.due_at < utcnow()))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(ProcessInstance.started_at.desc(), ProcessInstance.id.desc())
                           .limit(page_size).offset((page - 1) * page_size)).all()
    return list(rows), total


def node_load(*, session: Session, definition_ids: list[int]) -> dict[str, dict]:
    """Return, per task element, open tasks now and the average wait of completed ones (seconds)."""
    active = session.execute(
        select(WorkItem.element_id, func.count())
        .join(ProcessInstance, ProcessInstance.id == WorkItem.instance_id)
        .where(ProcessInstance.definition_id.in_(definition_ids), WorkItem.status == "open")
        .group_by(WorkItem.element_id)).all()
    done = session.execute(
        select(WorkItem.element_id, WorkItem.created_at, WorkItem.completed_at)
        .join(ProcessInstance, ProcessInstance.id == WorkItem.instance_id)
        .where(ProcessInstance.definition_id.in_(definition_ids), WorkItem.status == "completed")
        .order_by(WorkItem.id.desc()).limit(5000)).all()
    waits: dict[str, list[float]] = {}
    for element_id, created, completed in done:
        if created and completed:
            waits.setdefault(element_id, []).append((completed - created).total_seconds())
    out: dict[str, dict] = {}
    for element_id, count in active:
        out.setdefault(element_id, {"active": 0, "avg_wait_s": 0.0})["active"] = count
    for element_id, values in waits.items():
        out.setdefault(element_id, {"active": 0, "avg_wait_s": 0.0})["avg_wait_s"] = sum(values) / len(values)
    return out

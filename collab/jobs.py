"""The worker's collaboration jobs: raise due-soon and overdue notices, fan out notices, deliver."""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from database.base import utcnow
from database.session import Database, is_postgres
from instances import notices
from instances.models import ProcessInstance, WorkItem

from .config import DeliveryConfig
from .delivery import deliver
from .fanout import fan_out
from .models import NoticeOnce


def _once(kind: str):
    mark = aliased(NoticeOnce)
    return ~exists(select(mark.ref_id).where(mark.kind == kind, mark.ref_id == WorkItem.id))


def scan_due(database: Database, *, config: DeliveryConfig, now: datetime | None = None, limit: int = 500,
             max_attempts: int = 5) -> int:
    """Queue one "due soon" and one "overdue" notice per open work item; return how many were queued."""
    moment = now or utcnow()
    queued = 0
    for kind, condition in (("overdue", WorkItem.due_at <= moment),
                            ("due_soon", (WorkItem.due_at > moment)
                             & (WorkItem.due_at <= moment + timedelta(hours=config.due_soon_hours)))):
        with database.command() as session:
            query = (select(WorkItem, ProcessInstance).join(ProcessInstance, ProcessInstance.id == WorkItem.instance_id)
                     .where(WorkItem.status == "open", WorkItem.due_at.is_not(None), condition, _once(kind),
                            ProcessInstance.status == "running")
                     .order_by(WorkItem.due_at, WorkItem.id).limit(limit))
            if is_postgres(session):
                # Two workers never mark the same item; a busy item waits for the next run.
                query = query.with_for_update(skip_locked=True, of=WorkItem)
            for item, instance in session.execute(query).all():
                session.add(NoticeOnce(kind=kind, ref_id=item.id, created_at=moment))
                subject = f"{instance.title} · {item.name}" if instance.title else item.name
                notices.notify_item_people(session, instance, item, kind, subject)
                queued += 1
    return queued


def make_jobs(config: DeliveryConfig) -> list:
    """Return the jobs for instances.worker.Worker, bound to the delivery settings."""
    return [partial(scan_due, config=config), partial(fan_out, config=config), partial(deliver, config=config)]

"""The worker's collaboration jobs: raise due-soon, overdue and event reminder notices, fan out, deliver."""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from database.base import utcnow
from database.session import Database, is_postgres
from instances import notices
from instances.models import ProcessInstance, WorkItem
from org.models import User

from .calendar.reminders import scan_reminders
from .config import DeliveryConfig
from .delivery import deliver
from .fanout import fan_out
from .models import NoticeOnce

# An item this long past its due time goes up to the holder's superior (the "escalated" notice).
ESCALATE_AFTER = timedelta(hours=24)
Boss = aliased(User)


def _once(kind: str):
    mark = aliased(NoticeOnce)
    return ~exists(select(mark.ref_id).where(mark.kind == kind, mark.ref_id == WorkItem.id))


def _escalate(session, instance: ProcessInstance, item: WorkItem, subject: str) -> None:
    """Tell the superiors of whoever holds an item long overdue; an item nobody can be traced to waits."""
    holders = [item.assignee] if item.assignee else list(item.candidate_users or [])
    superiors = set(session.scalars(select(Boss.username).join(User, User.superior_id == Boss.id).where(
        User.username.in_([h for h in holders if h]), Boss.status == "active"))) if holders else set()
    for name in sorted(superiors - set(holders)):
        notices.notify(session, to=name, kind="escalated", subject=subject, instance_id=instance.id,
                       work_item_id=item.id, body=", ".join(h for h in holders if h))


def scan_due(database: Database, *, config: DeliveryConfig, now: datetime | None = None, limit: int = 500,
             max_attempts: int = 5, escalate_after: timedelta = ESCALATE_AFTER) -> int:
    """Queue one "due soon", one "overdue", one "escalated" and one follow-up notice per open work item.

    Return how many were queued.
    """
    moment = now or utcnow()
    queued = 0
    dated = WorkItem.due_at.is_not(None)
    for kind, condition in (("escalated", dated & (WorkItem.due_at <= moment - escalate_after)),
                            ("overdue", dated & (WorkItem.due_at <= moment)),
                            ("due_soon", dated & (WorkItem.due_at > moment)
                             & (WorkItem.due_at <= moment + timedelta(hours=config.due_soon_hours))),
                            # The follow-up moment: camunda:followUpDate, or flowdesk.remindBefore the due time.
                            ("follow_up", WorkItem.follow_up_at.is_not(None) & (WorkItem.follow_up_at <= moment)
                             & (WorkItem.due_at.is_(None) | (WorkItem.due_at > moment)))):
        with database.command() as session:
            query = (select(WorkItem, ProcessInstance).join(ProcessInstance, ProcessInstance.id == WorkItem.instance_id)
                     .where(WorkItem.status == "open", condition, _once(kind),
                            ProcessInstance.status == "running")
                     .order_by(WorkItem.due_at, WorkItem.id).limit(limit))
            if is_postgres(session):
                # Two workers never mark the same item; a busy item waits for the next run.
                query = query.with_for_update(skip_locked=True, of=WorkItem)
            for item, instance in session.execute(query).all():
                session.add(NoticeOnce(kind=kind, ref_id=item.id, created_at=moment))
                subject = f"{instance.title} · {item.name}" if instance.title else item.name
                if kind == "escalated":
                    _escalate(session, instance, item, subject)
                elif kind == "follow_up":
                    notices.notify_item_people(session, instance, item, "due_soon" if item.due_at else "reminder",
                                               subject, due_at=item.due_at.isoformat() if item.due_at else None)
                else:
                    notices.notify_item_people(session, instance, item, kind, subject)
                queued += 1
    return queued


def make_jobs(config: DeliveryConfig) -> list:
    """Return the jobs for instances.worker.Worker, bound to the delivery settings."""
    # Reminders first: a reminder queued now is fanned out and delivered in the same run.
    return [partial(scan_due, config=config), scan_reminders, partial(fan_out, config=config),
            partial(deliver, config=config)]

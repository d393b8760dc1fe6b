"""The worker's jobs: fire due timers exactly once, retry failures with backoff, raise incidents."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from database.base import utcnow
from database.session import Database, is_postgres

from . import service
from .models import HistoryEvent, ProcessInstance

log = logging.getLogger("flowdesk.worker")
BACKOFF_BASE_SECONDS = 2
BACKOFF_CAP_SECONDS = 600


def _claim_next_due(session, now: datetime, seen: set[int]) -> int | None:
    query = (select(ProcessInstance.id)
             .where(ProcessInstance.status == "running", ProcessInstance.next_wake_at <= now)
             .order_by(ProcessInstance.next_wake_at, ProcessInstance.id).limit(1))
    if seen:
        # An instance whose timer the engine's clock does not yet see as due is left for the next run.
        query = query.where(ProcessInstance.id.notin_(seen))
    if is_postgres(session):
        # Rows another worker holds are skipped, so each due instance is fired by exactly one worker.
        query = query.with_for_update(skip_locked=True)
    return session.scalar(query)


def backoff(attempt: int) -> timedelta:
    """Return how long to wait before retry number `attempt`."""
    return timedelta(seconds=min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS ** attempt))


def _record_failure(session, instance_id: int, error: Exception, max_attempts: int, now: datetime) -> None:
    instance = service.lock_instance(session=session, instance_id=instance_id)
    instance.wake_attempts += 1
    details = getattr(error, "details", {}) or {}
    incident = {"reason": str(error), "element_id": details.get("element_id"),
                "attempts": instance.wake_attempts, "at": now.isoformat()}
    if instance.wake_attempts >= max_attempts:
        instance.status = "incident"
        instance.incident = incident
        session.add(HistoryEvent(instance_id=instance.id, type="incident", actor="system", at=now,
                                 element_id=incident["element_id"], details=incident))
        log.error("instance %s: incident after %s attempts: %s", instance_id, instance.wake_attempts, error)
    else:
        instance.next_wake_at = now + backoff(instance.wake_attempts)
        session.add(HistoryEvent(instance_id=instance.id, type="job_failed", actor="system", at=now,
                                 element_id=incident["element_id"], details=incident))
        log.warning("instance %s: attempt %s failed, retrying at %s: %s", instance_id,
                    instance.wake_attempts, instance.next_wake_at.isoformat(), error)


def run_due_timers(database: Database, *, now: datetime | None = None, limit: int = 1000,
                   max_attempts: int = 5) -> int:
    """Fire due timers one instance per transaction; return how many instances were woken."""
    fired, seen = 0, set()
    for _ in range(limit):
        moment = now or utcnow()
        with database.command() as session:
            instance_id = _claim_next_due(session, moment, seen)
            if instance_id is None:
                break
            seen.add(instance_id)
            try:
                with session.begin_nested():
                    if service.wake_instance(session=session, instance_id=instance_id, now=moment):
                        fired += 1
            except Exception as exc:  # every failure is retried later or becomes an incident, never dropped
                # The savepoint undid the half-done wake; the row lock is still ours, so count the attempt now.
                _record_failure(session, instance_id, exc, max_attempts, moment)
    return fired


def retry_incident(*, session, instance_id: int, actor: str) -> ProcessInstance:
    """Put an instance in incident back to running so the worker tries again now."""
    instance = service.lock_instance(session=session, instance_id=instance_id)
    if instance.status != "incident":
        raise service.Conflict(f"instance {instance_id} is {instance.status}, not in incident",
                               details={"id": instance_id})
    instance.status = "running"
    instance.wake_attempts = 0
    instance.incident = None
    instance.next_wake_at = utcnow()
    session.add(HistoryEvent(instance_id=instance.id, type="incident_retried", actor=actor, at=utcnow()))
    session.flush()
    return instance


def list_incidents(*, session) -> list[ProcessInstance]:
    """Return the instances waiting for an administrator."""
    return list(session.scalars(select(ProcessInstance).where(ProcessInstance.status == "incident")
                                .order_by(ProcessInstance.updated_at)))

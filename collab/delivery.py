"""Send email and webhook rows of the outbox at most once: claim and commit, send, then mark.

A row is claimed ("sending", claimed_at) in a committed transaction before anything leaves the
system, and marked "sent" in another after. A worker killed in between leaves the row "sending";
the next worker to see it past the lease moves it to "uncertain" for an admin to resend or discard,
because only a person can tell whether it arrived.
"""
from __future__ import annotations

import logging
import os
import smtplib
import time
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from audit import service as audit
from database.base import utcnow
from database.session import Database, is_postgres
from instances.jobs import backoff
from instances.models import OutboxMessage

from . import mail, webhooks
from .config import DeliveryConfig
from .errors import Conflict, InvalidInput, NotFound
from .models import Webhook

log = logging.getLogger("flowdesk.outbox")
EXTERNAL = ("email", "webhook")
STATUSES = ("pending", "sending", "sent", "failed", "dead", "uncertain", "discarded", "cancelled")
RESENDABLE = ("failed", "dead", "uncertain", "discarded")
# Only the crash test sets this: a pause after the send and before the mark, to be killed in.
PAUSE_ENV = "FLOWDESK_TEST_PAUSE_AFTER_SEND"


class Permanent(Exception):
    """A send that can never succeed as it stands (the robot was deleted): no retries."""


def mark_uncertain(database: Database, *, config: DeliveryConfig, now: datetime | None = None) -> int:
    """Move rows left "sending" past the lease to "uncertain"; return how many."""
    moment = now or utcnow()
    with database.command() as session:
        result = session.execute(update(OutboxMessage).where(
            OutboxMessage.kind.in_(EXTERNAL), OutboxMessage.status == "sending",
            OutboxMessage.claimed_at <= moment - timedelta(seconds=config.lease_seconds))
            .values(status="uncertain", last_error="the worker stopped between sending and recording it; "
                                                   "it may or may not have arrived")
            .execution_options(synchronize_session=False))
        if result.rowcount:
            log.warning("%s outbox rows are uncertain after a worker stopped mid-send", result.rowcount)
        return result.rowcount or 0


def next_due(session, kinds, now: datetime, seen: set[int]) -> OutboxMessage | None:
    """Lock and return the oldest pending row of these kinds that is due and not yet seen in this run."""
    query = (select(OutboxMessage).where(OutboxMessage.kind.in_(tuple(kinds)), OutboxMessage.status == "pending")
             .where((OutboxMessage.next_attempt_at.is_(None)) | (OutboxMessage.next_attempt_at <= now))
             .order_by(OutboxMessage.id).limit(1))
    if seen:
        query = query.where(OutboxMessage.id.notin_(seen))
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)  # other workers skip it instead of waiting
    return session.scalars(query).first()


def _claim(database: Database, now: datetime, seen: set[int]) -> tuple[int, str, dict] | None:
    with database.command() as session:
        row = next_due(session, EXTERNAL, now, seen)
        if row is None:
            return None
        row.status, row.claimed_at, row.attempts = "sending", now, row.attempts + 1
        return row.id, row.kind, dict(row.payload or {})


def _send(session_factory: Database, row_id: int, kind: str, payload: dict, config: DeliveryConfig) -> None:
    if kind == "email":
        message = mail.build(config=config, to=payload["to"], subject=payload["subject"], text=payload["text"],
                             html=payload.get("html") or "", message_id=f"<outbox-{row_id}@flowdesk>")
        mail.send(config=config, message=message)
        return
    with session_factory.query() as session:
        hook = session.get(Webhook, payload.get("webhook_id"))
        if hook is None or not hook.enabled:
            raise Permanent(f"webhook {payload.get('webhook_id')} was deleted or disabled")
        kind_, url, secret = hook.kind, hook.url, hook.secret
    url, data, headers = webhooks.build_request(kind=kind_, url=url, secret=secret, title=payload["title"],
                                                text=payload["text"])
    webhooks.post(url=url, data=data, headers=headers, timeout=config.timeout)


def _finish(database: Database, row_id: int, error: Exception | None, max_attempts: int, now: datetime) -> None:
    with database.command() as session:
        row = session.get(OutboxMessage, row_id)
        if row is None:
            return
        if error is None:
            row.status, row.sent_at, row.last_error = "sent", now, None
            return
        row.last_error = f"{type(error).__name__}: {error}"[:2000]
        if isinstance(error, Permanent) or row.attempts >= max_attempts:
            row.status = "dead"
            log.error("outbox %s (%s) failed for good: %s", row_id, row.kind, error)
        else:
            row.status, row.next_attempt_at = "pending", now + backoff(row.attempts)


def deliver(database: Database, *, config: DeliveryConfig, now: datetime | None = None, limit: int = 200,
            max_attempts: int = 5) -> int:
    """Deliver due email and webhook rows one at a time; retry with backoff, then dead-letter them."""
    mark_uncertain(database, config=config, now=now)
    delivered, seen = 0, set()
    for _ in range(limit):
        moment = now or utcnow()
        claimed = _claim(database, moment, seen)
        if claimed is None:
            break
        row_id, kind, payload = claimed
        seen.add(row_id)
        error = None
        try:
            _send(database, row_id, kind, payload, config)
        except (OSError, smtplib.SMTPException, webhooks.WebhookRefused, Permanent, KeyError, ValueError) as exc:
            error = exc
        pause = float(os.environ.get(PAUSE_ENV) or 0)
        if pause:
            time.sleep(pause)
        _finish(database, row_id, error, max_attempts, now or utcnow())
        delivered += error is None
    return delivered


def list_outbox(*, session: Session, status: str | None = None, kind: str | None = None, page: int = 1,
                page_size: int = 50) -> tuple[list[OutboxMessage], int]:
    """Return one page of outbox rows, newest first, with the total; filters by status and kind."""
    where = []
    if status:
        where.append(OutboxMessage.status == status)
    if kind:
        where.append(OutboxMessage.kind == kind)
    page, page_size = max(1, page), min(200, max(1, page_size))
    total = session.scalar(select(func.count()).select_from(OutboxMessage).where(*where)) or 0
    rows = session.scalars(select(OutboxMessage).where(*where).order_by(OutboxMessage.id.desc())
                           .offset((page - 1) * page_size).limit(page_size))
    return list(rows), total


def _row_or_raise(session: Session, row_id) -> OutboxMessage:
    if not isinstance(row_id, int) or not 0 < row_id < 2**63:
        raise InvalidInput("an outbox id is a positive whole number", details={"field": "id"})
    query = select(OutboxMessage).where(OutboxMessage.id == row_id)
    if is_postgres(session):
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise NotFound(f"no outbox message {row_id}", details={"id": row_id})
    return row


def resend(*, session: Session, row_id: int, actor: str) -> OutboxMessage:
    """Put a dead, failed, uncertain or discarded row back in the queue; audited."""
    row = _row_or_raise(session, row_id)
    if row.status not in RESENDABLE:
        raise Conflict(f"outbox message {row_id} is {row.status}; only {', '.join(RESENDABLE)} can be resent",
                       details={"id": row_id, "status": row.status})
    before = row.status
    row.status, row.attempts, row.next_attempt_at, row.claimed_at = "pending", 0, None, None
    audit.log(session, action="outbox.resend", actor=actor, object_type="outbox", object_id=row.id,
              summary=f"resent {row.kind} message {row.id} ({before})", before={"status": before},
              after={"status": "pending"})
    session.flush()
    return row


def discard(*, session: Session, row_id: int, actor: str) -> OutboxMessage:
    """Give up on a dead, failed or uncertain row for good; audited."""
    row = _row_or_raise(session, row_id)
    if row.status not in ("failed", "dead", "uncertain"):
        raise Conflict(f"outbox message {row_id} is {row.status}; only dead or uncertain ones can be discarded",
                       details={"id": row_id, "status": row.status})
    before = row.status
    row.status = "discarded"
    audit.log(session, action="outbox.discard", actor=actor, object_type="outbox", object_id=row.id,
              summary=f"discarded {row.kind} message {row.id} ({before})", before={"status": before},
              after={"status": "discarded"})
    session.flush()
    return row

"""Turn queued notices into in-app notifications and email and chat rows, by each person's choices.

A "notification" row of the outbox (written by the change that caused it) becomes, in one worker
transaction, Notification rows plus "email" and "webhook" outbox rows; those leave the system later,
through collab.delivery.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from database.base import utcnow
from database.session import Database
from instances.jobs import backoff
from instances.models import OutboxMessage
from org.models import Department, User

from . import audience, notices, wording
from .config import DeliveryConfig
from .delivery import next_due
from .models import NoticeSettings, Notification, Webhook

log = logging.getLogger("flowdesk.outbox")


def link_for(payload: dict) -> str:
    """Return the app path a notice points at."""
    if payload.get("event_id"):
        return f"/calendar/events/{int(payload['event_id'])}"
    if payload.get("message_id"):
        return f"/messages/{int(payload['message_id'])}"
    if payload.get("work_item_id") and payload.get("kind") not in ("approved", "rejected", "task_claimed"):
        return f"/tasks/{int(payload['work_item_id'])}"
    if payload.get("record_id") and payload.get("record_type"):
        return f"/records/{payload['record_type']}/{int(payload['record_id'])}"
    if payload.get("instance_id"):
        return f"/instances/{int(payload['instance_id'])}"
    return ""


def _webhooks_for(session: Session, user: User, cache: dict) -> list[Webhook]:
    """Return the robots of the nearest department up the tree that has any, else the organisation's."""
    key = user.department_id
    if key in cache:
        return cache[key]
    hooks = list(session.scalars(select(Webhook).where(Webhook.enabled.is_(True))))
    by_department: dict[str | None, list[Webhook]] = {}
    for hook in hooks:
        by_department.setdefault(hook.department_code, []).append(hook)
    department, seen, found = user.department, set(), []
    while department is not None and department.id not in seen and not found:
        seen.add(department.id)
        found = by_department.get(department.code, [])
        department = session.get(Department, department.parent_id) if department.parent_id else None
    cache[key] = found or by_department.get(None, [])
    return cache[key]


def _expand(session: Session, row: OutboxMessage, config: DeliveryConfig, now: datetime) -> int:
    payload = dict(row.payload or {})
    kind = payload.get("kind") or "task_assigned"
    address = str(payload.get("to") or "")
    exclude = set(payload.get("exclude") or [])
    names = [n for n in audience.expand_address(session, address) if n not in exclude] if address else []
    people = audience.active_users(session, names)
    path = link_for(payload)
    subject = str(payload.get("subject") or "")[:250]
    body = str(payload.get("body") or payload.get("comment") or payload.get("note") or "")
    actor = payload.get("actor")
    chat: dict[tuple[int, datetime | None], list[str]] = {}
    hook_cache: dict = {}
    for name, user in people.items():
        channels = notices.preferences(session=session, username=name).get(kind, notices.default_channels(kind))
        settings = session.get(NoticeSettings, name)
        later = notices.quiet_until(settings, kind, now)
        # A new message already shows in the messages inbox; a second in-app notice would double-count it.
        if "app" in channels and kind != "message":
            session.add(Notification(username=name, kind=kind, title=wording.title(kind, subject, user.language)[:300],
                                     body=body[:2000], link=path, actor=actor, instance_id=payload.get("instance_id"),
                                     work_item_id=payload.get("work_item_id"), outbox_id=row.id, created_at=now))
        if "email" in channels and config.email_enabled and user.email:
            title, text, html = wording.email_parts(kind=kind, subject=subject, body=body, actor=actor,
                                                    link=config.link(path), language=user.language)
            session.add(OutboxMessage(instance_id=row.instance_id, kind="email", next_attempt_at=later,
                                      payload={"to": user.email, "username": name, "subject": title,
                                               "text": text, "html": html, "source": row.id}))
        if "chat" in channels:
            for hook in _webhooks_for(session, user, hook_cache):
                chat.setdefault((hook.id, later), []).append(name)
    for (hook_id, later), names_ in chat.items():
        title, text = wording.chat_text(kind=kind, subject=subject, body=body, people=names_,
                                        link=config.link(path))
        session.add(OutboxMessage(instance_id=row.instance_id, kind="webhook", next_attempt_at=later,
                                  payload={"webhook_id": hook_id, "title": title, "text": text, "source": row.id}))
    return len(people)


def fan_out(database: Database, *, config: DeliveryConfig, now: datetime | None = None, limit: int = 500,
            max_attempts: int = 5) -> int:
    """Expand due notice rows one per transaction; return how many were expanded."""
    done, seen = 0, set()
    for _ in range(limit):
        moment = now or utcnow()
        with database.command() as session:
            row = next_due(session, ("notification",), moment, seen)
            if row is None:
                break
            seen.add(row.id)
            try:
                with session.begin_nested():
                    _expand(session, row, config, moment)
                row.status, row.sent_at = "sent", moment
                done += 1
            except Exception as exc:  # a broken notice is retried, then dead-lettered, never blocks the queue
                row.attempts += 1
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                if row.attempts >= max_attempts:
                    row.status = "dead"
                    log.error("notice %s failed for good: %s", row.id, exc)
                else:
                    row.next_attempt_at = moment + backoff(row.attempts)
    return done

"""Route BPMN messages: to the instance waiting for them, or to a process a message starts."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from database.base import utcnow
from database.session import Database, is_postgres
from definitions import service as definitions
from definitions.models import DefinitionVersion
from engine.errors import EngineError
from engine.jsonsafe import to_json_safe

from . import service
from .actors import Actor
from .errors import InstanceError, InvalidInput
from .models import MessageSubscription, OutboxMessage, ProcessInstance

log = logging.getLogger("flowdesk.messages")
MAX_NAME = 200


class NoReceiver(InstanceError):
    """No instance waits for the message and no process starts on it."""

    code = "no_receiver"
    status = "not_found"


def subscribe(*, session: Session, instance: ProcessInstance, names: list[str]) -> None:
    """Replace the messages an instance is listed as waiting for."""
    session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == instance.id))
    session.add_all([MessageSubscription(instance_id=instance.id, name=name[:MAX_NAME]) for name in names])


def _starters(session: Session, name: str) -> list[DefinitionVersion]:
    return [v for v in definitions.list_startable(session=session)
            if name in (v.report or {}).get("start_messages", [])]


def send_message(*, session: Session, name: str, payload: dict | None = None,
                 correlations: dict | None = None, actor: Actor) -> ProcessInstance:
    """Deliver a message to the first instance that waits for it and matches, or start a process on it."""
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise InvalidInput("message name must be a non-empty text of at most 200 characters",
                           details={"field": "name"})
    if payload is not None and not isinstance(payload, dict):
        raise InvalidInput("message payload must be a JSON object", details={"field": "payload"})
    candidates = session.scalars(
        select(MessageSubscription.instance_id).join(ProcessInstance,
                                                     ProcessInstance.id == MessageSubscription.instance_id)
        .where(MessageSubscription.name == name, ProcessInstance.status == "running")
        .order_by(MessageSubscription.instance_id)).all()
    for instance_id in candidates:
        try:
            with session.begin_nested():
                return service.receive_message(session=session, instance_id=instance_id, name=name,
                                               payload=payload, correlations=correlations, actor=actor)
        except service.ProcessFailure as exc:
            # Waiting for this name but another correlation key: try the next receiver.
            log.debug("instance %s refused message %s: %s", instance_id, name, exc)
    for version in _starters(session, name):
        return service.start_instance(session=session, key=version.key, actor=actor, data=payload or {},
                                      start_message=(name, correlations))
    raise NoReceiver(f"no instance waits for message '{name}' and no process starts on it",
                     details={"name": name})


def _claim_next(session: Session, now: datetime, seen: set[int]) -> OutboxMessage | None:
    query = (select(OutboxMessage).where(OutboxMessage.status == "pending", OutboxMessage.kind == "bpmn_message")
             .where((OutboxMessage.next_attempt_at.is_(None)) | (OutboxMessage.next_attempt_at <= now))
             .order_by(OutboxMessage.id).limit(1))
    if seen:
        query = query.where(OutboxMessage.id.notin_(seen))
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query).first()


def deliver_outbox(database: Database, *, now: datetime | None = None, limit: int = 500,
                   max_attempts: int = 5) -> int:
    """Deliver pending messages one per transaction; retry with backoff, then mark them failed."""
    from .jobs import backoff

    delivered, seen = 0, set()
    for _ in range(limit):
        moment = now or utcnow()
        with database.command() as session:
            message = _claim_next(session, moment, seen)
            if message is None:
                break
            seen.add(message.id)
            body = message.payload or {}
            try:
                with session.begin_nested():
                    send_message(session=session, name=body.get("name") or "", payload=body.get("payload"),
                                 correlations=body.get("correlations") or None, actor=Actor("system"))
                message.status = "sent"
                delivered += 1
            except (InstanceError, EngineError) as exc:
                message.attempts += 1
                message.last_error = str(exc)[:2000]
                if message.attempts >= max_attempts:
                    message.status = "failed"
                    log.error("message %s (%s) failed for good: %s", message.id, body.get("name"), exc)
                else:
                    message.next_attempt_at = moment + backoff(message.attempts)
    return delivered


def queue_message(*, session: Session, name: str, payload: dict | None = None, correlations: dict | None = None,
                  instance_id: int | None = None) -> OutboxMessage:
    """Queue a message for delivery after this transaction commits."""
    message = OutboxMessage(instance_id=instance_id, kind="bpmn_message",
                            payload=to_json_safe({"name": name, "payload": payload or {},
                                                  "correlations": correlations or {}}))
    session.add(message)
    return message

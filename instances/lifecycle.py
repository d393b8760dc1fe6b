"""An instance's life beyond its model: terminate, suspend, resume, withdraw; standing proxies (代理)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from database.base import utcnow

from .actors import Actor
from .errors import Conflict, InstanceError, InvalidInput, NotAllowed
from .models import HistoryEvent, ProcessInstance, TaskProxy, WorkItemCandidate
from .service import _history, lock_instance
from .work_items import _open_items

MAX_REASON = 2000
MAX_PROXY_DAYS = 366
MAX_KEYS = 100
TERMINABLE = ("running", "suspended", "incident")
WITHDRAWABLE = ("running", "incident")


class ProxyNotFound(InstanceError):
    """No standing proxy has that id, or it belongs to someone else."""

    code = "proxy_not_found"
    status = "not_found"


def _reason(reason: str | None, *, required: bool) -> str | None:
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput("reason must be text", details={"field": "reason"})
    text = (reason or "").strip()
    if required and not text:
        raise InvalidInput("say why (a reason is required)", details={"field": "reason"})
    if len(text) > MAX_REASON:
        raise InvalidInput(f"reason must be at most {MAX_REASON} characters", details={"field": "reason"})
    return text or None


def _require_admin(actor: Actor, verb: str, instance_id: int) -> None:
    if not actor.is_admin:
        raise NotAllowed(f"only an administrator may {verb} a process", details={"id": instance_id})


def _require_status(instance: ProcessInstance, allowed: tuple[str, ...], verb: str) -> None:
    if instance.status not in allowed:
        raise Conflict(f"process {instance.id} is {instance.status}: it cannot be {verb}",
                       details={"id": instance.id, "status": instance.status})


def _close(session: Session, instance: ProcessInstance, status: str, now: datetime) -> list[int]:
    """End an instance by hand: cancel its open items, drop its subscriptions and stop its timers."""
    from . import messages  # messages imports service, which binds this module late too

    items = _open_items(session, instance.id)
    for item in items:
        item.status = "cancelled"
        item.completed_at = now
        _history(session, instance, "task_cancelled", element_id=item.element_id, work_item=item, at=now)
    if items:
        session.execute(delete(WorkItemCandidate).where(WorkItemCandidate.work_item_id.in_([i.id for i in items])))
    messages.subscribe(session=session, instance=instance, names=[])
    # The engine state stays as it was, for the record; only the summary columns change.
    instance.status = status
    instance.ended_at = now
    instance.updated_at = now
    instance.next_wake_at = None
    instance.waiting_messages = []
    return [int(i.id) for i in items]


def terminate_instance(*, session: Session, instance_id: int, actor: Actor, reason: str | None) -> ProcessInstance:
    """End an instance for good (admins only), cancelling every open task; a reason is required."""
    reason = _reason(reason, required=True)
    instance = lock_instance(session=session, instance_id=instance_id)
    _require_admin(actor, "terminate", instance_id)
    _require_status(instance, TERMINABLE, "terminated")
    now = utcnow()
    cancelled = _close(session, instance, "terminated", now)
    _history(session, instance, "instance_terminated", actor=actor.username, at=now,
             details={"reason": reason, "cancelled_tasks": cancelled})
    session.flush()
    return instance


def _switch(*, session: Session, instance_id: int, actor: Actor, reason: str | None, verb: str,
            allowed_from: tuple[str, ...], to_status: str, event: str) -> ProcessInstance:
    reason = _reason(reason, required=False)
    instance = lock_instance(session=session, instance_id=instance_id)
    _require_admin(actor, verb, instance_id)
    _require_status(instance, allowed_from, event.removeprefix("instance_"))
    now = utcnow()
    # next_wake_at is kept either way, so after a resume the worker picks up timers that fell due meanwhile.
    instance.status = to_status
    instance.updated_at = now
    _history(session, instance, event, actor=actor.username, at=now, details={"reason": reason})
    session.flush()
    return instance


def suspend_instance(*, session: Session, instance_id: int, actor: Actor, reason: str | None = None
                     ) -> ProcessInstance:
    """Pause a running instance (admins only): its tasks, timers and messages wait until it resumes."""
    return _switch(session=session, instance_id=instance_id, actor=actor, reason=reason, verb="suspend",
                   allowed_from=("running",), to_status="suspended", event="instance_suspended")


def resume_instance(*, session: Session, instance_id: int, actor: Actor, reason: str | None = None
                    ) -> ProcessInstance:
    """Let a suspended instance run again (admins only); timers that fell due meanwhile fire next."""
    return _switch(session=session, instance_id=instance_id, actor=actor, reason=reason, verb="resume",
                   allowed_from=("suspended",), to_status="running", event="instance_resumed")


def others_who_acted(*, session: Session, instance: ProcessInstance) -> list[str]:
    """Return who other than the initiator completed a task in the instance, in order."""
    rows = session.scalars(select(HistoryEvent.actor).where(HistoryEvent.instance_id == instance.id,
                                                            HistoryEvent.type == "task_completed")
                           .order_by(HistoryEvent.id))
    out: list[str] = []
    for name in rows:
        if name and name != instance.initiator and name not in out:
            out.append(name)
    return out


def withdraw_instance(*, session: Session, instance_id: int, actor: Actor, reason: str | None) -> ProcessInstance:
    """Take back one's own request while nobody else has acted on it, or once it was returned to them."""
    reason = _reason(reason, required=True)
    instance = lock_instance(session=session, instance_id=instance_id)
    if actor.username != instance.initiator:
        raise NotAllowed(f"only {instance.initiator} who started process {instance_id} may withdraw it",
                         details={"id": instance_id})
    _require_status(instance, WITHDRAWABLE, "withdrawn")
    acted = others_who_acted(session=session, instance=instance)
    items = _open_items(session, instance.id)
    if acted and not (items and all(i.kind == "resubmit" for i in items)):  # returned to them: theirs again
        raise Conflict(f"{', '.join(acted)} already acted on process {instance_id}: it cannot be withdrawn",
                       details={"id": instance_id, "acted": acted})
    now = utcnow()
    cancelled = _close(session, instance, "withdrawn", now)
    _history(session, instance, "instance_withdrawn", actor=actor.username, at=now,
             details={"reason": reason, "cancelled_tasks": cancelled})
    session.flush()
    return instance


def _aware(moment: datetime, field: str) -> datetime:
    if not isinstance(moment, datetime):
        raise InvalidInput(f"{field} must be a date and time", details={"field": field})
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _keys(definition_keys) -> list[str] | None:
    if definition_keys is None:
        return None
    if not isinstance(definition_keys, list | tuple) or len(definition_keys) > MAX_KEYS:
        raise InvalidInput(f"definition_keys must be a list of at most {MAX_KEYS} process keys",
                           details={"field": "definition_keys"})
    keys: list[str] = []
    for key in definition_keys:
        if not isinstance(key, str) or not key.strip() or len(key.strip()) > 200:
            raise InvalidInput("definition_keys must hold process keys", details={"field": "definition_keys"})
        if key.strip() not in keys:
            keys.append(key.strip())
    return keys or None


def set_proxy(*, session: Session, actor: Actor, proxy_user: str, starts_at: datetime, ends_at: datetime,
              definition_keys: list[str] | None = None) -> TaskProxy:
    """Have another person receive the actor's new tasks between two moments, for all or some processes."""
    proxy_user = (proxy_user or "").strip() if isinstance(proxy_user, str) else ""
    if not proxy_user or len(proxy_user) > 150:
        raise InvalidInput("name the person who acts for you", details={"field": "proxy"})
    if proxy_user.lower() == actor.username.lower():
        raise InvalidInput("you cannot be your own proxy", details={"field": "proxy"})
    starts_at, ends_at = _aware(starts_at, "starts_at"), _aware(ends_at, "ends_at")
    now = utcnow()
    if ends_at <= starts_at:
        raise InvalidInput("the end must come after the start", details={"field": "ends_at"})
    if ends_at <= now:
        raise InvalidInput("the end is already past", details={"field": "ends_at"})
    if ends_at > now + timedelta(days=MAX_PROXY_DAYS):
        raise InvalidInput("a proxy may run for at most a year from now", details={"field": "ends_at"})
    proxy = TaskProxy(username=actor.username, proxy=proxy_user, starts_at=starts_at, ends_at=ends_at,
                      definition_keys=_keys(definition_keys), created_at=now)
    session.add(proxy)
    session.flush()
    return proxy


def revoke_proxy(*, session: Session, actor: Actor, proxy_id: int) -> TaskProxy:
    """End one of the actor's standing proxies now; tasks already handed over stay where they are."""
    proxy = session.get(TaskProxy, proxy_id)
    if proxy is None or proxy.username != actor.username:
        raise ProxyNotFound(f"no proxy {proxy_id} for {actor.username}", details={"id": proxy_id})
    if proxy.revoked_at is not None:
        raise Conflict(f"proxy {proxy_id} is already revoked", details={"id": proxy_id})
    proxy.revoked_at = utcnow()
    session.flush()
    return proxy


def list_proxies(*, session: Session, actor: Actor, acting_for: bool = False) -> list[TaskProxy]:
    """Return the proxies the actor set up (or, with acting_for, those naming them), newest first."""
    column = TaskProxy.proxy if acting_for else TaskProxy.username
    return list(session.scalars(select(TaskProxy).where(column == actor.username)
                                .order_by(TaskProxy.created_at.desc(), TaskProxy.id.desc())))


def proxy_for(*, session: Session, username: str, definition_key: str, at: datetime) -> str | None:
    """Return who receives `username`'s new tasks of this process at `at`, or None; one hop only."""
    rows = session.scalars(select(TaskProxy).where(TaskProxy.username == username, TaskProxy.revoked_at.is_(None),
                                                   TaskProxy.starts_at <= at, TaskProxy.ends_at > at)
                           .order_by(TaskProxy.created_at.desc(), TaskProxy.id.desc()))
    for row in rows:
        if row.definition_keys is None or definition_key in row.definition_keys:
            # The proxy's own proxies are not followed: a chain could loop back or wander off.
            return row.proxy if row.proxy.lower() != username.lower() else None
    return None


def proxy_state(proxy: TaskProxy, now: datetime | None = None) -> str:
    """Name a proxy's state: revoked, ended, scheduled or active."""
    now = now or utcnow()
    if proxy.revoked_at is not None:
        return "revoked"
    if proxy.ends_at <= now:
        return "ended"
    return "scheduled" if proxy.starts_at > now else "active"

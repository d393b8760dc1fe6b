"""Write and read the audit log; the web layer names the origin of each request once, here."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from database.base import page_number, utcnow

from .models import KINDS, AuditEntry

_origin: ContextVar[str] = ContextVar("flowdesk_audit_origin", default="")
_who: ContextVar[str] = ContextVar("flowdesk_audit_who", default="")
MAX_PAGE = 200


@contextmanager
def origin(ip: str, username: str = "") -> Iterator[None]:
    """Name where the current request comes from and who sends it, for every entry written meanwhile."""
    tokens = set_origin(ip, username)
    try:
        yield
    finally:
        reset_origin(tokens)


def set_origin(ip: str, username: str = ""):
    """Set the request's address and signed-in user for the rest of this context; return tokens to reset."""
    return _origin.set((ip or "")[:64]), _who.set((username or "")[:150])


def reset_origin(tokens) -> None:
    """Forget what set_origin set."""
    _origin.reset(tokens[0])
    _who.reset(tokens[1])


def log(session: Session, *, action: str, actor: str | None = None, object_type: str = "", object_id=None, summary: str = "",
        before: dict | None = None, after: dict | None = None, kind: str = "change") -> AuditEntry:
    """Append one entry in the caller's transaction, so it exists exactly when the change does."""
    if kind not in KINDS:
        raise ValueError(f"audit kind must be one of {KINDS}")
    who = actor or _who.get() or "system"
    entry = AuditEntry(at=utcnow(), kind=kind, action=action[:60], actor=who[:150], ip=_origin.get(),
                       object_type=object_type[:60], object_id="" if object_id is None else str(object_id)[:100],
                       summary=(summary or "")[:500], before=before, after=after)
    session.add(entry)
    return entry


def _conditions(kind, actor, action, object_type, object_id, since, until):
    conditions = []
    if kind:
        conditions.append(AuditEntry.kind == kind)
    if actor:
        conditions.append(AuditEntry.actor == actor)
    if action:
        conditions.append(AuditEntry.action.like(f"{action}%"))
    if object_type:
        conditions.append(AuditEntry.object_type == object_type)
    if object_id:
        conditions.append(AuditEntry.object_id == str(object_id))
    if since:
        conditions.append(AuditEntry.at >= since)
    if until:
        conditions.append(AuditEntry.at <= until)
    return and_(*conditions) if conditions else and_(True)


def search(session: Session, *, kind: str | None = None, actor: str | None = None, action: str | None = None,
           object_type: str | None = None, object_id=None, since: datetime | None = None,
           until: datetime | None = None, page: int = 1, page_size: int = 50) -> tuple[list[AuditEntry], int]:
    """Return one page of entries, newest first, with the total matching the filters."""
    where = _conditions(kind, actor, action, object_type, object_id, since, until)
    page, page_size = page_number(page), min(MAX_PAGE, max(1, page_size))
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(where)) or 0
    rows = list(session.scalars(select(AuditEntry).where(where).order_by(AuditEntry.id.desc())
                                .offset((page - 1) * page_size).limit(page_size)))
    return rows, total


def iterate(session: Session, **filters) -> Iterator[AuditEntry]:
    """Yield every matching entry, newest first, in batches (for exports)."""
    where = _conditions(filters.get("kind"), filters.get("actor"), filters.get("action"), filters.get("object_type"),
                        filters.get("object_id"), filters.get("since"), filters.get("until"))
    last = None
    while True:
        query = select(AuditEntry).where(where)
        if last is not None:
            query = query.where(AuditEntry.id < last)
        batch = list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(1000)))
        if not batch:
            return
        yield from batch
        last = batch[-1].id

"""In-app notifications: list and mark read, and each person's channels per kind and quiet period."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from database.base import page_number, utcnow

from .errors import InvalidInput
from .models import CHANNELS, NOTICE_KINDS, URGENT_KINDS, NoticePreference, NoticeSettings, Notification

DEFAULT_TIMEZONE = "Asia/Shanghai"
# In-app for everything; email only where waiting for the next visit costs something.
EMAIL_BY_DEFAULT = {"task_assigned", "urged", "overdue", "escalated", "approved", "rejected", "returned",
                    "reminder", "invited", "event_cancelled", "event_reminder"}
MAX_PAGE_SIZE = 200
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def default_channels(kind: str) -> list[str]:
    """Return the channels a kind uses for someone who never chose."""
    return ["app", "email"] if kind in EMAIL_BY_DEFAULT else ["app"]


def preferences(*, session: Session, username: str) -> dict[str, list[str]]:
    """Return the channels of every kind for a person, defaults filled in."""
    chosen = {p.kind: list(p.channels or []) for p in session.scalars(
        select(NoticePreference).where(NoticePreference.username == username))}
    return {kind: chosen.get(kind, default_channels(kind)) for kind in NOTICE_KINDS}


def get_settings(*, session: Session, username: str) -> NoticeSettings:
    """Return a person's quiet period and time zone (unsaved defaults when they never chose)."""
    return session.get(NoticeSettings, username) or NoticeSettings(username=username, timezone=DEFAULT_TIMEZONE)


def _clock(value, field: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not _CLOCK.match(value.strip()):
        raise InvalidInput(f"{field} must be a time like 22:00", details={"field": field})
    return value.strip()


def _zone(value) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise InvalidInput("timezone must be a time zone name like Asia/Shanghai", details={"field": "timezone"})
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of the zone database ('Asia')
        raise InvalidInput(f"unknown time zone {value}", details={"field": "timezone"}) from None
    return value.strip()


def save_preferences(*, session: Session, username: str, channels: dict | None = None, quiet_start=None,
                     quiet_end=None, timezone: str | None = None) -> dict[str, list[str]]:
    """Store a person's channels per kind and quiet period; kinds left out keep their channels."""
    channels = channels or {}
    if not isinstance(channels, dict):
        raise InvalidInput("channels must map kinds to lists of channels", details={"field": "channels"})
    for kind, chosen in channels.items():
        if kind not in NOTICE_KINDS:
            raise InvalidInput(f"unknown kind of notice {kind}", details={"field": "channels"})
        if not isinstance(chosen, list) or any(c not in CHANNELS for c in chosen):
            raise InvalidInput(f"channels of {kind} must be a list of {', '.join(CHANNELS)}",
                               details={"field": "channels"})
    start, end = _clock(quiet_start, "quiet_start"), _clock(quiet_end, "quiet_end")
    if (start is None) != (end is None):
        raise InvalidInput("a quiet period needs both a start and an end", details={"field": "quiet_end"})
    zone = _zone(timezone) if timezone is not None else None
    settings = session.get(NoticeSettings, username)
    if settings is None:
        settings = NoticeSettings(username=username, timezone=DEFAULT_TIMEZONE)
        session.add(settings)
    settings.quiet_start, settings.quiet_end = start, end
    if zone is not None:
        settings.timezone = zone
    existing = {p.kind: p for p in session.scalars(select(NoticePreference)
                                                   .where(NoticePreference.username == username))}
    for kind, chosen in channels.items():
        row = existing.get(kind) or NoticePreference(username=username, kind=kind)
        row.channels = [c for c in CHANNELS if c in chosen]
        session.add(row)
    session.flush()
    return preferences(session=session, username=username)


def quiet_until(settings: NoticeSettings | None, kind: str, now: datetime) -> datetime | None:
    """Return when a quiet period that holds now ends (UTC), or None when a delivery may go now."""
    if settings is None or not settings.quiet_start or not settings.quiet_end or kind in URGENT_KINDS:
        return None
    try:
        zone = ZoneInfo(settings.timezone or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(DEFAULT_TIMEZONE)
    local = now.astimezone(zone)
    start = time.fromisoformat(settings.quiet_start)
    end = time.fromisoformat(settings.quiet_end)
    clock = local.time().replace(tzinfo=None)
    if start == end:
        return None
    # A period like 22:00-08:00 wraps past midnight; 12:00-13:00 does not.
    inside = (start <= clock < end) if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    ends = datetime.combine(local.date(), end, tzinfo=zone)
    if ends <= local:
        ends = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=zone)
    return ends.astimezone(now.tzinfo or ZoneInfo("UTC"))


def list_notifications(*, session: Session, username: str, unread_only: bool = False, page: int = 1,
                       page_size: int = 25) -> tuple[list[Notification], int]:
    """Return one page of a person's notifications, newest first, with the total."""
    where = [Notification.username == username]
    if unread_only:
        where.append(Notification.read_at.is_(None))
    page, page_size = page_number(page), min(MAX_PAGE_SIZE, max(1, page_size))
    total = session.scalar(select(func.count()).select_from(Notification).where(*where)) or 0
    rows = session.scalars(select(Notification).where(*where).order_by(Notification.id.desc())
                           .offset((page - 1) * page_size).limit(page_size))
    return list(rows), total


def unread_count(*, session: Session, username: str) -> int:
    """Count a person's unread notifications."""
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.username == username, Notification.read_at.is_(None))) or 0


def mark_read(*, session: Session, username: str, ids: list[int] | None = None) -> int:
    """Mark some (or, with ids=None, all) of a person's notifications read; return how many changed."""
    query = update(Notification).where(Notification.username == username, Notification.read_at.is_(None))
    if ids is not None:
        if not isinstance(ids, list) or any(not isinstance(i, int) or isinstance(i, bool) for i in ids):
            raise InvalidInput("ids must be a list of notification ids", details={"field": "ids"})
        if not ids:
            return 0
        query = query.where(Notification.id.in_(ids))
    result = session.execute(query.values(read_at=utcnow()).execution_options(synchronize_session=False))
    return result.rowcount or 0

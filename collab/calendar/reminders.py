"""The worker's calendar job: raise each event reminder once, when its time comes, to everyone still coming."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from database.base import utcnow
from database.session import Database
from instances import notices

from .events import MAX_REMINDER_MINUTES
from .models import CalendarEvent, ReminderMark
from .recurrence import occurrences, zone_of

# A reminder whose moment passed while no worker ran is still raised if the event has not started yet.
LOOKAHEAD = timedelta(minutes=MAX_REMINDER_MINUTES)
EVERY = timedelta(seconds=20)
_LAST_SCAN: dict[str, datetime] = {}


def scan_reminders(database: Database, *, now: datetime | None = None, limit: int = 2000,
                   max_attempts: int = 5, every: timedelta = EVERY) -> int:
    """Queue the reminders that are due now; return how many notices were queued."""
    moment = now or utcnow()
    key = database.url
    if now is None and moment - _LAST_SCAN.get(key, datetime.min.replace(tzinfo=moment.tzinfo)) < every:
        return 0  # the worker ticks every second; minutes are precise enough for a reminder
    _LAST_SCAN[key] = moment
    queued = 0
    with database.command() as session:
        events = list(session.scalars(select(CalendarEvent).where(
            CalendarEvent.status == "confirmed", CalendarEvent.starts_at < moment + LOOKAHEAD,
            or_(CalendarEvent.last_ends_at.is_(None), CalendarEvent.last_ends_at > moment))
            .order_by(CalendarEvent.starts_at).limit(limit)))
        for event in events:
            if not event.reminders:
                continue
            lead = timedelta(minutes=max(event.reminders))
            for occ in occurrences(event, moment, moment + lead + timedelta(seconds=1)):
                if occ.starts_at <= moment:
                    continue  # already begun: a reminder now would only be noise
                for minutes in event.reminders:
                    if occ.starts_at - timedelta(minutes=minutes) > moment:
                        continue
                    if not _mark(session, event.id, occ.starts_at, minutes, moment):
                        continue
                    # One notice per occurrence even when several lead times fell due together.
                    if any(occ.starts_at - timedelta(minutes=m) <= moment for m in event.reminders if m < minutes):
                        continue
                    queued += _remind(session, event, occ.starts_at)
    return queued


def _mark(session, event_id: int, occurs_at: datetime, minutes: int, moment: datetime) -> bool:
    """Record that a reminder was raised; False when another worker or an earlier run already did."""
    if session.get(ReminderMark, (event_id, occurs_at, minutes)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(ReminderMark(event_id=event_id, occurs_at=occurs_at, minutes=minutes, created_at=moment))
            session.flush()
    except IntegrityError:
        return False
    return True


def _remind(session, event: CalendarEvent, starts_at: datetime) -> int:
    zone = zone_of(event.timezone)
    local = starts_at.astimezone(zone)
    body = f"{local:%Y-%m-%d %H:%M} ({event.timezone})" if not event.all_day else f"{local:%Y-%m-%d}"
    if event.location:
        body += f" · {event.location}"
    coming = [a.username for a in event.attendees if a.response != "declined"]
    for name in coming:
        notices.notify(session, to=name, kind="event_reminder", subject=event.title, event_id=event.id,
                       body=body, occurs_at=starts_at.isoformat())
    return len(coming)


"""Create, change, cancel and answer calendar events; invitations and changes reach attendees as notices."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from database.base import utcnow
from instances import notices
from instances.actors import Actor
from org.models import User, WorkGroup
from records import records as record_service
from records.errors import RecordError

from ..checks import checked_text
from ..errors import Conflict, InvalidInput, NotFound
from . import access, recurrence
from .models import EVENT_KINDS, RESPONSES, CalendarEvent, EventAttendee

MAX_TITLE = 300
MAX_TEXT = 10_000
MAX_ATTENDEES = 200
MAX_REMINDERS = 5
MAX_REMINDER_MINUTES = 4 * 7 * 24 * 60
MAX_LENGTH = timedelta(days=31)
FIRST_YEAR, LAST_YEAR = recurrence.FIRST_YEAR, recurrence.LAST_YEAR
FIELDS = {"title", "kind", "starts_at", "ends_at", "all_day", "timezone", "location", "description", "attendees",
          "repeat", "reminders", "project", "record_id"}


@dataclass
class Series:
    """An event's timing, saved or not: what recurrence and the conflict check need."""

    starts_at: datetime
    ends_at: datetime
    timezone: str
    all_day: bool = False
    rrule: str | None = None
    exdates: list = field(default_factory=list)


def _moment(value, name: str, zone) -> datetime:
    """Read a time: an aware datetime, or ISO text (a time without an offset is in the event's zone)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(f"{name} must be a time like 2026-12-01T09:00", details={"field": name}) from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if not isinstance(value, datetime):
        raise InvalidInput(f"{name} must be a time like 2026-12-01T09:00", details={"field": name})
    _sane_year(value.year, name)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(recurrence.UTC)


def _sane_year(year: int, name: str) -> None:
    # Far-off years overflow when a zone's offset is applied; no meeting is planned there anyway.
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput(f"{name} must be between the years {FIRST_YEAR} and {LAST_YEAR}", details={"field": name})


def _day(value, name: str) -> date:
    if isinstance(value, datetime):
        value = value.date()
    elif not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value).strip()[:10])
        except ValueError:
            raise InvalidInput(f"{name} must be a date like 2026-12-01", details={"field": name}) from None
    _sane_year(value.year, name)
    return value


def _reminders(value) -> list[int]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or len(value) > MAX_REMINDERS:
        raise InvalidInput(f"reminders must be a list of at most {MAX_REMINDERS} numbers of minutes",
                           details={"field": "reminders"})
    out = []
    for minutes in value:
        if isinstance(minutes, str) and minutes.strip().isdigit() and len(minutes.strip()) <= 9:
            minutes = int(minutes)
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 <= minutes <= MAX_REMINDER_MINUTES:
            raise InvalidInput("each reminder is a number of minutes before the start, at most four weeks",
                               details={"field": "reminders"})
        out.append(minutes)
    return sorted(set(out), reverse=True)


def _attendees(session: Session, value, organizer: str) -> list[str]:
    if value in (None, ""):
        value = []
    if not isinstance(value, list) or len(value) > MAX_ATTENDEES:
        raise InvalidInput(f"attendees must be a list of at most {MAX_ATTENDEES} user names",
                           details={"field": "attendees"})
    if any(not isinstance(v, str) or len(v) > 150 for v in value):
        raise InvalidInput("attendees must hold user names", details={"field": "attendees"})
    names = list(dict.fromkeys(v.strip() for v in value if v.strip()))
    found = set(session.scalars(select(User.username).where(User.username.in_(names), User.status == "active",
                                                            User.kind == "staff"))) if names else set()
    missing = [n for n in names if n not in found]
    if missing:
        raise NotFound(f"no active colleague {missing[0]}", details={"field": "attendees", "value": missing[0]})
    return [n for n in names if n != organizer]


def _project(session: Session, value) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or session.scalar(select(WorkGroup.id).where(WorkGroup.code == value)) is None:
        raise NotFound(f"no project group {value}", details={"field": "project", "value": value})
    return value


def _record(session: Session, actor: Actor, value, current: int | None = None) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 19:
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
        raise InvalidInput("record_id must be the id of a record", details={"field": "record_id"})
    if value == current:
        return value  # unchanged: who linked it could read it then
    try:
        record_service.get_record_or_raise(session=session, record_id=value, actor=actor)
    except RecordError:
        # Unknown and unreadable look the same: an event must not reveal that a record exists.
        raise NotFound(f"no record {value} you may read", details={"field": "record_id", "value": value}) from None
    return value


def timing(fields: dict, *, default_zone: str) -> tuple[Series, dict | None]:
    """Check the time fields of an event (start, end, all-day, zone, repeat) and return its series."""
    zone_name = fields.get("timezone") or default_zone
    if not isinstance(zone_name, str):
        raise InvalidInput("timezone must be a time zone name like Asia/Shanghai", details={"field": "timezone"})
    zone = recurrence.zone_of(zone_name)
    all_day = fields.get("all_day") in (True, "true", "on", "1", 1)
    if fields.get("starts_at") in (None, ""):
        raise InvalidInput("starts_at is required", details={"field": "starts_at"})
    if all_day:
        first = _day(fields["starts_at"], "starts_at")
        last = _day(fields.get("ends_at") or first, "ends_at")
        if last < first:
            raise InvalidInput("the last day is before the first", details={"field": "ends_at"})
        # Stored as local midnights: the last day is included, so the end is the midnight after it.
        starts_at = datetime.combine(first, time(), tzinfo=zone).astimezone(recurrence.UTC)
        ends_at = datetime.combine(last + timedelta(days=1), time(), tzinfo=zone).astimezone(recurrence.UTC)
    else:
        starts_at = _moment(fields["starts_at"], "starts_at", zone)
        if fields.get("ends_at") in (None, ""):
            raise InvalidInput("ends_at is required", details={"field": "ends_at"})
        ends_at = _moment(fields["ends_at"], "ends_at", zone)
        if ends_at <= starts_at:
            raise InvalidInput("the event must end after it starts", details={"field": "ends_at"})
    if ends_at - starts_at > MAX_LENGTH:
        raise InvalidInput("an event may last at most 31 days", details={"field": "ends_at"})
    repeat = fields.get("repeat")
    rule = recurrence.build_rule(repeat, starts_at=starts_at, zone=zone)
    return Series(starts_at, ends_at, zone_name, all_day, rule), (repeat if rule else None)


def _occurrence_text(series: Series) -> str:
    zone = recurrence.zone_of(series.timezone)
    start, end = series.starts_at.astimezone(zone), series.ends_at.astimezone(zone)
    if series.all_day:
        last = (end - timedelta(days=1)).date()
        span = f"{start:%Y-%m-%d}" + (f" – {last:%Y-%m-%d}" if last != start.date() else "")
    else:
        span = f"{start:%Y-%m-%d %H:%M} – " + (f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}")
    return f"{span} ({series.timezone})" + (" · repeats" if series.rrule else "")


def when_text(event: CalendarEvent) -> str:
    """Return the event's first occurrence as text in its own zone, for notices and emails."""
    return _occurrence_text(Series(event.starts_at, event.ends_at, event.timezone, event.all_day, event.rrule))


def _tell(session: Session, event: CalendarEvent, people, kind: str, actor: str, extra: str = "") -> None:
    body = when_text(event) + (f" · {event.location}" if event.location else "") + (f"\n{extra}" if extra else "")
    for name in people:
        if name != actor:
            notices.notify(session, to=name, kind=kind, subject=event.title, actor=actor, event_id=event.id,
                           body=body)


def _moved_end(event: CalendarEvent, new_start, zone_name) -> date | datetime:
    """Keep the length of an event whose start alone moved."""
    zone = recurrence.zone_of(zone_name)
    if event.all_day:
        days = (event.ends_at.astimezone(zone).date() - event.starts_at.astimezone(zone).date()).days
        return _day(new_start, "starts_at") + timedelta(days=days - 1)
    return _moment(new_start, "starts_at", zone) + event.duration


def _apply(session: Session, event: CalendarEvent, fields: dict, actor: Actor, default_zone: str) -> None:
    unknown = set(fields) - FIELDS
    if unknown:
        raise InvalidInput(f"unknown field {sorted(unknown)[0]}", details={"field": sorted(unknown)[0]})
    current = {"starts_at": event.starts_at, "ends_at": event.ends_at, "all_day": event.all_day,
               "timezone": event.timezone, "repeat": recurrence.describe(event.rrule)} if event.id else {}
    if event.id and event.all_day:
        zone = recurrence.zone_of(event.timezone)
        current["starts_at"] = event.starts_at.astimezone(zone).date()
        current["ends_at"] = (event.ends_at.astimezone(zone) - timedelta(days=1)).date()
    merged = {**current, **{k: v for k, v in fields.items() if k in current or k in FIELDS}}
    if event.id and "starts_at" in fields and "ends_at" not in fields and "all_day" not in fields:
        merged["ends_at"] = _moved_end(event, fields["starts_at"], fields.get("timezone") or event.timezone)
    if event.id and "all_day" in fields and fields.get("all_day") != current.get("all_day") and \
            ("starts_at" not in fields or "ends_at" not in fields):
        raise InvalidInput("switching all-day on or off needs starts_at and ends_at too", details={"field": "all_day"})
    if "title" in fields or not event.id:
        event.title = checked_text(fields.get("title"), "title", MAX_TITLE, True)
    if "kind" in fields or not event.id:
        kind = fields.get("kind") or "meeting"
        if kind not in EVENT_KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(EVENT_KINDS)}", details={"field": "kind"})
        event.kind = kind
    if "location" in fields or not event.id:
        event.location = checked_text(fields.get("location"), "location", MAX_TITLE, False)
    if "description" in fields or not event.id:
        event.description = checked_text(fields.get("description"), "description", MAX_TEXT, False)
    if "reminders" in fields or not event.id:
        event.reminders = _reminders(fields.get("reminders"))
    if "project" in fields or not event.id:
        event.project = _project(session, fields.get("project"))
    if "record_id" in fields or not event.id:
        event.record_id = _record(session, actor, fields.get("record_id"), event.record_id)
    if not event.id or {"starts_at", "ends_at", "all_day", "timezone", "repeat"} & set(fields):
        series, _repeat = timing(merged, default_zone=default_zone)
        if event.id and (series.rrule != event.rrule or series.timezone != event.timezone
                         or series.starts_at != event.starts_at):
            event.exdates = []  # skipped dates belong to the old rhythm
        event.starts_at, event.ends_at, event.all_day = series.starts_at, series.ends_at, series.all_day
        event.timezone, event.rrule = series.timezone, series.rrule
        event.exdates = list(event.exdates or [])
        event.last_ends_at = recurrence.last_end(event)


def create_event(*, session: Session, actor: Actor, fields: dict, default_zone: str = "Asia/Shanghai",
                 now: datetime | None = None) -> CalendarEvent:
    """Create an event organised by the actor and invite its attendees; returns the saved event."""
    if not isinstance(fields, dict):
        raise InvalidInput("the event must be an object", details={"field": "event"})
    now = now or utcnow()
    event = CalendarEvent(organizer=actor.username, created_at=now, updated_at=now, exdates=[], status="confirmed")
    _apply(session, event, fields, actor, default_zone)
    people = _attendees(session, fields.get("attendees"), actor.username)
    event.attendees = [EventAttendee(username=actor.username, response="accepted", responded_at=now)] + \
        [EventAttendee(username=name, response="pending") for name in people]
    session.add(event)
    session.flush()
    _tell(session, event, people, "invited", actor.username)
    return event


def get_event(*, session: Session, actor: Actor, event_id) -> CalendarEvent:
    """Return an event its organiser, an attendee, or a reader of one of their calendars asks for."""
    event = session.get(CalendarEvent, event_id) if isinstance(event_id, int) and 0 < event_id < 2**63 else None
    if event is None or not may_see(session, actor, event):
        raise NotFound(f"no event {event_id}", details={"id": event_id})
    return event


def may_see(session: Session, actor: Actor, event: CalendarEvent) -> bool:
    """Tell whether the actor may read an event in full."""
    people = {event.organizer} | {a.username for a in event.attendees}
    return actor.username in people or any(access.may_read(session, actor, p) for p in people)


def _editable(session: Session, actor: Actor, event_id, lock_version) -> CalendarEvent:
    event = get_event(session=session, actor=actor, event_id=event_id)
    if event.organizer != actor.username and not actor.is_admin:
        raise Conflict("only the organiser changes an event; attendees accept or decline",
                       details={"id": event.id, "reason": "not_organiser"})
    if event.status == "cancelled":
        raise Conflict("the event was cancelled", details={"id": event.id, "reason": "cancelled"})
    if lock_version is not None and lock_version != event.lock_version:
        raise Conflict("someone changed the event meanwhile: reload it and try again",
                       details={"id": event.id, "lock_version": event.lock_version, "reason": "stale"})
    return event


def update_event(*, session: Session, actor: Actor, event_id, fields: dict, lock_version: int | None = None,
                 default_zone: str = "Asia/Shanghai", now: datetime | None = None) -> CalendarEvent:
    """Change or move an event; new attendees are invited, removed ones and the rest are told."""
    if not isinstance(fields, dict):
        raise InvalidInput("the changes must be an object", details={"field": "event"})
    now = now or utcnow()
    event = _editable(session, actor, event_id, lock_version)
    before = (event.starts_at, event.ends_at, event.rrule, event.location, event.title)
    _apply(session, event, {k: v for k, v in fields.items() if k != "attendees"}, actor, default_zone)
    added, removed = [], []
    if "attendees" in fields:
        wanted = _attendees(session, fields.get("attendees"), event.organizer)
        have = {a.username: a for a in event.attendees if a.username != event.organizer}
        added = [n for n in wanted if n not in have]
        removed = [n for n in have if n not in wanted]
        for name in removed:
            event.attendees.remove(have[name])
        event.attendees.extend(EventAttendee(username=name, response="pending") for name in added)
    event.updated_at = now
    try:
        session.flush()
    except StaleDataError:
        raise Conflict("someone changed the event meanwhile: reload it and try again",
                       details={"id": event.id, "reason": "stale"}) from None
    staying = [a.username for a in event.attendees if a.username not in added]
    if (event.starts_at, event.ends_at, event.rrule, event.location, event.title) != before:
        _tell(session, event, staying, "event_changed", actor.username)
    _tell(session, event, added, "invited", actor.username)
    _tell(session, event, removed, "event_cancelled", actor.username)
    return event


def cancel_event(*, session: Session, actor: Actor, event_id, occurrence: str | None = None,
                 lock_version: int | None = None, now: datetime | None = None) -> CalendarEvent:
    """Cancel an event, or with occurrence (its local start) only that occurrence of a series."""
    now = now or utcnow()
    event = _editable(session, actor, event_id, lock_version)
    people = [a.username for a in event.attendees]
    if occurrence is not None:
        if not event.rrule:
            raise InvalidInput("only a repeating event has occurrences to skip", details={"field": "occurrence"})
        begins = recurrence.occurrence_key(event, occurrence)
        key = begins.astimezone(recurrence.zone_of(event.timezone)).replace(tzinfo=None).isoformat()
        event.exdates = sorted({*(event.exdates or []), key})
        event.updated_at = now
        session.flush()
        zone = recurrence.zone_of(event.timezone)
        _tell(session, event, people, "event_cancelled", actor.username,
              extra=f"{begins.astimezone(zone):%Y-%m-%d %H:%M} ({event.timezone})")
        return event
    event.status, event.updated_at = "cancelled", now
    session.flush()
    _tell(session, event, people, "event_cancelled", actor.username)
    return event


def respond(*, session: Session, actor: Actor, event_id, response: str, now: datetime | None = None) -> EventAttendee:
    """Accept, decline or tentatively accept an invitation; the organiser is told."""
    if response not in RESPONSES or response == "pending":
        raise InvalidInput("response must be accepted, tentative or declined", details={"field": "response"})
    event = get_event(session=session, actor=actor, event_id=event_id)
    mine = event.attendee(actor.username)
    if mine is None:
        raise NotFound(f"you are not invited to event {event.id}", details={"id": event.id})
    if event.status == "cancelled":
        raise Conflict("the event was cancelled", details={"id": event.id, "reason": "cancelled"})
    if mine.response != response:
        mine.response, mine.responded_at = response, now or utcnow()
        session.flush()
        if event.organizer != actor.username:
            notices.notify(session, to=event.organizer, kind="invitation_reply", subject=event.title,
                           actor=actor.username, event_id=event.id, body=f"{actor.username}: {response}")
    return mine

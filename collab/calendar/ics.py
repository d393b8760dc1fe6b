"""iCalendar (RFC 5545) export of one person's calendar, written with the icalendar library.

Series stay series (RRULE, EXDATE) so a calendar app expands them itself; borrowed entries (leave,
trips, customer activities) become events and open tasks become to-dos with their due time.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Alarm, Calendar, Event, Todo, vCalAddress, vRecur
from sqlalchemy import select
from sqlalchemy.orm import Session

from database.base import utcnow
from instances.actors import Actor
from org.models import User

from .. import notices as settings
from . import overlays, recurrence
from .models import CalendarEvent, EventAttendee

PARTSTAT = {"pending": "NEEDS-ACTION", "accepted": "ACCEPTED", "tentative": "TENTATIVE", "declined": "DECLINED"}
PAST = timedelta(days=90)
AHEAD = timedelta(days=365)


def _address(user: User | None, name: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{user.email}" if user and user.email else f"urn:flowdesk:user:{name}")
    address.params["CN"] = user.display_name if user else name
    return address


def _rule(event: CalendarEvent, zone) -> vRecur:
    parts = []
    for part in event.rrule.split(";"):
        if part.startswith("UNTIL="):
            # Stored as a local end of day; with a TZID start, RFC 5545 wants UNTIL in UTC.
            local = datetime.strptime(part[6:], "%Y%m%dT%H%M%S").replace(tzinfo=zone)
            part = "UNTIL=" + local.astimezone(recurrence.UTC).strftime("%Y%m%dT%H%M%SZ")
        parts.append(part)
    return vRecur.from_ical(";".join(parts))


def _vevent(event: CalendarEvent, users: dict[str, User], host: str) -> Event:
    zone = recurrence.zone_of(event.timezone)
    item = Event()
    item.add("uid", f"event-{event.id}@{host}")
    item.add("dtstamp", event.updated_at or utcnow())
    item.add("summary", event.title)
    if event.all_day:
        item.add("dtstart", event.starts_at.astimezone(zone).date())
        item.add("dtend", event.ends_at.astimezone(zone).date())
    else:
        item.add("dtstart", event.starts_at.astimezone(zone))
        item.add("dtend", event.ends_at.astimezone(zone))
    if event.rrule:
        item.add("rrule", _rule(event, zone))
        for key in event.exdates or []:
            moment = datetime.fromisoformat(key).replace(tzinfo=zone)
            item.add("exdate", moment.date() if event.all_day else moment)
    if event.location:
        item.add("location", event.location)
    if event.description:
        item.add("description", event.description)
    item.add("categories", [event.kind.upper()])
    item.add("sequence", event.lock_version or 0)
    item.add("organizer", _address(users.get(event.organizer), event.organizer))
    for person in event.attendees:
        address = _address(users.get(person.username), person.username)
        address.params["PARTSTAT"] = PARTSTAT.get(person.response, "NEEDS-ACTION")
        address.params["ROLE"] = "CHAIR" if person.username == event.organizer else "REQ-PARTICIPANT"
        item.add("attendee", address, encode=0)
    for minutes in event.reminders or []:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", event.title)
        alarm.add("trigger", timedelta(minutes=-minutes))
        item.add_component(alarm)
    return item


def export(session: Session, *, username: str, host: str = "flowdesk", now: datetime | None = None) -> bytes:
    """Return a person's calendar as an .ics document: their events, time away, activities and open tasks."""
    now = now or utcnow()
    me = session.scalar(select(User).where(User.username == username))
    cal = Calendar()
    cal.add("prodid", "-//Flowdesk//Calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Flowdesk · {me.display_name if me else username}")
    events = list(session.scalars(select(CalendarEvent).where(
        CalendarEvent.status == "confirmed",
        CalendarEvent.id.in_(select(EventAttendee.event_id).where(EventAttendee.username == username,
                                                                  EventAttendee.response != "declined")))
        .order_by(CalendarEvent.starts_at)))
    names = {username} | {a.username for e in events for a in e.attendees} | {e.organizer for e in events}
    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(names)))}
    for event in events:
        cal.add_component(_vevent(event, users, host))
    start, end = now - PAST, now + AHEAD
    zone = settings.get_settings(session=session, username=username).timezone or settings.DEFAULT_TIMEZONE
    actor = Actor(username)
    for entry in overlays.time_away(session, [username], start, end, zone) + \
            overlays.activities(session, actor, [username], start, end, zone):
        item = Event()
        item.add("uid", f"{entry.source}-{entry.ref_id}@{host}")
        item.add("dtstamp", now)
        item.add("summary", entry.title)
        if entry.all_day:
            local = recurrence.zone_of(zone)
            item.add("dtstart", entry.starts_at.astimezone(local).date())
            item.add("dtend", entry.ends_at.astimezone(local).date())
        else:
            item.add("dtstart", entry.starts_at)
            item.add("dtend", entry.ends_at)
        item.add("categories", [entry.source.upper()])
        cal.add_component(item)
    for entry in overlays.tasks_due(session, [username], start, end):
        todo = Todo()
        todo.add("uid", f"task-{entry.ref_id}@{host}")
        todo.add("dtstamp", now)
        todo.add("summary", entry.title)
        todo.add("due", entry.starts_at)
        todo.add("status", "NEEDS-ACTION")
        cal.add_component(todo)
    cal.add_missing_timezones()
    return cal.to_ical()

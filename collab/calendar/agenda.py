"""Read calendars: whose (members, department, group), which range, what each viewer may see; and clashes.

Filters combine: members, a department (with its sub-departments) and a group each narrow the set of
people, a project narrows the events to those of that project group. A viewer sees the full entry
of their own calendar and of people the permission model lets them read, and of any event they are
invited to; of everyone else only a "busy" block, so a meeting can still be planned around it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from instances.actors import Actor
from org.permissions import org_index

from ..errors import InvalidInput, NotFound
from . import access, overlays, recurrence
from .models import CalendarEvent, EventAttendee

MAX_RANGE = timedelta(days=370)
MAX_PEOPLE = 300
CONFLICT_HORIZON = timedelta(days=180)


@dataclass
class Entry:
    """One thing on a calendar page: an event occurrence or a borrowed entry, for one or more people."""

    source: str  # event, task, away, activity
    title: str
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    people: list[str]
    link: str = ""
    event_id: int | None = None
    occurrence: str | None = None
    kind: str = ""
    location: str = ""
    busy_only: bool = False
    response: str | None = None
    repeating: bool = False
    organizer: str = ""
    timezone: str = ""  # the zone an event was planned in (its days, for all-day events)
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Clash:
    """An attendee already busy during an occurrence of the event being planned."""

    person: str
    title: str | None  # None when the planner may not read that person's calendar
    starts_at: datetime
    ends_at: datetime
    source: str
    event_id: int | None
    all_day: bool = False
    timezone: str = ""  # the zone whose days an all-day clash covers


def people_for(session: Session, actor: Actor, *, members=None, department: str | None = None,
               group: str | None = None) -> list[str]:
    """Return the people a calendar query covers; with no filter, the actor alone."""
    index = org_index(session)
    staff = {name for name, u in index.users.items() if u.status == "active" and u.kind == "staff"}
    chosen: set[str] | None = None
    if members:
        names = [members] if isinstance(members, str) else list(members)
        if len(names) > MAX_PEOPLE or any(not isinstance(n, str) for n in names):
            raise InvalidInput(f"members must name at most {MAX_PEOPLE} people", details={"field": "members"})
        unknown = [n for n in names if n not in staff]
        if unknown:
            raise NotFound(f"no active colleague {unknown[0]}", details={"field": "members", "value": unknown[0]})
        chosen = set(names)
    if department:
        dept_id = index.departments.get(department)
        if dept_id is None:
            raise NotFound(f"no department {department}", details={"field": "department", "value": department})
        tree = index.subtree(dept_id)
        inside = {n for n in staff if index.users[n].department_id in tree}
        chosen = inside if chosen is None else chosen & inside
    if group:
        if group not in index.members and not _group_exists(session, group):
            raise NotFound(f"no group {group}", details={"field": "group", "value": group})
        team = index.members.get(group, set()) & staff
        chosen = team if chosen is None else chosen & team
    if chosen is None:
        chosen = {actor.username}
    if len(chosen) > MAX_PEOPLE:
        raise InvalidInput(f"a calendar page shows at most {MAX_PEOPLE} people: narrow the filter",
                           details={"field": "members"})
    return sorted(chosen)


def _group_exists(session: Session, code: str) -> bool:
    from org.models import WorkGroup

    return session.scalar(select(WorkGroup.id).where(WorkGroup.code == code)) is not None


def check_range(start: datetime, end: datetime) -> None:
    """Refuse a range that ends before it starts or spans more than about a year."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("start and end need a time zone", details={"field": "start"})
    if end <= start:
        raise InvalidInput("the range must end after it starts", details={"field": "end"})
    if not (1900 <= start.year and end.year <= 2200):
        raise InvalidInput("the range must lie between the years 1900 and 2200", details={"field": "start"})
    if end - start > MAX_RANGE:
        raise InvalidInput("a range may span at most a year", details={"field": "end"})


def events_of(session: Session, people: list[str], start: datetime, end: datetime,
              project: str | None = None, include_declined: bool = True) -> list[CalendarEvent]:
    """Return the live events (series included) where any of the people take part that may touch the range."""
    if not people:
        return []
    attending = select(EventAttendee.event_id).where(EventAttendee.username.in_(people))
    if not include_declined:
        attending = attending.where(EventAttendee.response != "declined")
    query = select(CalendarEvent).where(
        CalendarEvent.id.in_(attending), CalendarEvent.status == "confirmed", CalendarEvent.starts_at < end,
        or_(CalendarEvent.last_ends_at.is_(None), CalendarEvent.last_ends_at > start))
    if project:
        query = query.where(CalendarEvent.project == project)
    return list(session.scalars(query.order_by(CalendarEvent.starts_at).limit(5000)))


def entries(session: Session, actor: Actor, people: list[str], start: datetime, end: datetime, *,
            project: str | None = None, zone: str = "Asia/Shanghai", sources=None) -> list[Entry]:
    """Return the calendar entries of the people in [start, end), in time order, as the actor may see them."""
    check_range(start, end)
    sources = set(sources or ("event", "task", "away", "activity"))
    readable = access.readable(session, actor, people)
    wanted = set(people)
    out: list[Entry] = []
    if "event" in sources:
        for event in events_of(session, people, start, end, project):
            taking_part = [a for a in event.attendees if a.username in wanted]
            involved = actor.username in {a.username for a in event.attendees}
            full = involved or any(a.username in readable for a in event.attendees)
            mine = event.attendee(actor.username)
            for occ in recurrence.occurrences(event, start, end):
                out.append(Entry(
                    "event", event.title if full else "", occ.starts_at, occ.ends_at, event.all_day,
                    [a.username for a in taking_part], f"/calendar/events/{event.id}" if full else "", event.id,
                    occ.key, event.kind if full else "", event.location if full else "", not full,
                    mine.response if mine else None, bool(event.rrule), event.organizer if full else "",
                    event.timezone, {"declined": sorted(a.username for a in taking_part if a.response == "declined")}))
    if project:
        return sorted(out, key=lambda e: (e.starts_at, e.title))
    shown = sorted(readable)
    borrowed: list[overlays.Overlay] = []
    if "task" in sources:
        borrowed += overlays.tasks_due(session, shown, start, end)
    if "away" in sources:
        borrowed += overlays.time_away(session, shown, start, end, zone)
    if "activity" in sources:
        borrowed += overlays.activities(session, actor, shown, start, end, zone)
    for item in borrowed:
        out.append(Entry(item.source, item.title, item.starts_at, item.ends_at, item.all_day, [item.person],
                         item.link, kind=item.source))
    return sorted(out, key=lambda e: (e.starts_at, e.source != "event", e.title))


def conflicts(session: Session, actor: Actor, people: list[str], series, *, exclude_event: int | None = None,
              horizon: timedelta = CONFLICT_HORIZON) -> list[Clash]:
    """Return every clash of the planned event's occurrences (within the horizon) with the people's calendars.

    Declined invitations do not count; approved leave and trips do. What the planner may not read
    shows as busy without a title.
    """
    if not people:
        return []
    first = series.starts_at
    planned = recurrence.occurrences(series, first, first + horizon if series.rrule else series.ends_at)
    if not planned:
        return []
    low, high = planned[0].starts_at, planned[-1].ends_at
    readable = access.readable(session, actor, people)
    clashes: list[Clash] = []
    wanted = set(people)
    for event in events_of(session, people, low, high, include_declined=False):
        if event.id == exclude_event:
            continue
        busy = [a.username for a in event.attendees if a.username in wanted and a.response != "declined"]
        if not busy:
            continue
        involved = actor.username in {a.username for a in event.attendees}
        for occ in recurrence.occurrences(event, low, high):
            if any(occ.overlaps(p.starts_at, p.ends_at) for p in planned):
                for person in busy:
                    title = event.title if involved or person in readable else None
                    clashes.append(Clash(person, title, occ.starts_at, occ.ends_at, "event", event.id,
                                         event.all_day, event.timezone))
    for away in overlays.time_away(session, people, low, high, series.timezone):
        if any(p.starts_at < away.ends_at and p.ends_at > away.starts_at for p in planned):
            clashes.append(Clash(away.person, away.title if away.person in readable else None, away.starts_at,
                                 away.ends_at, "away", None, True, series.timezone))
    return sorted(clashes, key=lambda c: (c.person, c.starts_at))

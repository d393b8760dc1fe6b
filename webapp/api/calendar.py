"""Calendar API: events, invitations, conflict checks, calendar queries and subscription links."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from collab import notices
from collab.calendar import access, agenda, events, feeds, recurrence
from collab.errors import NotFound
from org.models import User, WorkGroup

from ..db import command, query
from . import bp
from .common import MAX_ID, MAX_VERSION, bad_input, int_arg, iso, json_body, me

SOURCES = ("event", "task", "away", "activity")
TIMING = ("starts_at", "ends_at", "all_day", "timezone", "repeat")
CONFLICT_FIELDS = {"attendees", *TIMING, "exclude_event"}
# Times outside these years name nothing a calendar plans; at datetime's edges they cannot even be converted.
FIRST_YEAR, LAST_YEAR = 1900, 2200
MAX_CODE = 64


def event_json(event) -> dict:
    """Describe an event with its attendees' answers."""
    return {"id": int(event.id), "title": event.title, "kind": event.kind, "starts_at": iso(event.starts_at),
            "ends_at": iso(event.ends_at), "all_day": bool(event.all_day), "timezone": event.timezone,
            "location": event.location, "description": event.description, "organizer": event.organizer,
            "attendees": [{"username": a.username, "response": a.response,
                           "responded_at": iso(a.responded_at)} for a in event.attendees],
            "repeat": recurrence.describe(event.rrule), "rrule": event.rrule,
            "exdates": list(event.exdates or []),
            "reminders": list(event.reminders or []), "project": event.project,
            "record_id": int(event.record_id) if event.record_id else None, "status": event.status,
            "lock_version": event.lock_version, "created_at": iso(event.created_at),
            "updated_at": iso(event.updated_at)}


def entry_json(entry) -> dict:
    """Describe a calendar entry; a busy-only one says when, not what."""
    hidden = entry.busy_only
    return {"source": entry.source, "title": None if hidden else entry.title,
            "starts_at": iso(entry.starts_at), "ends_at": iso(entry.ends_at), "all_day": bool(entry.all_day),
            "people": list(entry.people), "busy_only": bool(hidden),
            "link": None if hidden else (entry.link or None),
            "event_id": entry.event_id, "occurrence": entry.occurrence,
            "kind": None if hidden else (entry.kind or None), "location": None if hidden else entry.location,
            "organizer": None if hidden else (entry.organizer or None), "response": entry.response,
            "repeating": bool(entry.repeating), "declined": list(entry.extra.get("declined", []))}


def clash_json(clash) -> dict:
    """Describe one clash; the title is null when the caller may not read that person's calendar."""
    return {"person": clash.person, "title": clash.title, "starts_at": iso(clash.starts_at),
            "ends_at": iso(clash.ends_at), "source": clash.source, "event_id": clash.event_id}


def feed_json(feed, url: str | None = None) -> dict:
    """Describe a subscription link; the url only right after it was made."""
    out = {"id": feed.id, "created_at": iso(feed.created_at), "last_used_at": iso(feed.last_used_at),
           "revoked_at": iso(feed.revoked_at)}
    if url is not None:
        out["url"] = url
    return out


def _zone(session) -> str:
    """Return the caller's time zone: where dates without a time are read."""
    return notices.get_settings(session=session, username=me().username).timezone or notices.DEFAULT_TIMEZONE


def _year_ok(value, name: str) -> None:
    """Refuse a time whose year is out of range; what does not parse is left to the domain's check."""
    if not isinstance(value, str):
        return
    try:
        year = date.fromisoformat(value.strip()[:10]).year
    except ValueError:
        return
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise bad_input(name, _("%(field)s must be between the years %(low)s and %(high)s.", field=name,
                                low=FIRST_YEAR, high=LAST_YEAR))


def _check_years(body: dict) -> None:
    for name in ("starts_at", "ends_at"):
        _year_ok(body.get(name), name)
    if isinstance(body.get("repeat"), dict):
        _year_ok(body["repeat"].get("until"), "repeat.until")


def _names(value) -> list[str]:
    """Check an attendee list: names of active colleagues, at most the events' limit."""
    if value in (None, ""):
        return []
    if not isinstance(value, list) or len(value) > events.MAX_ATTENDEES or \
            any(not isinstance(v, str) or len(v) > 150 for v in value):
        raise bad_input("attendees", _("attendees must be a list of at most %(limit)s user names.",
                                       limit=events.MAX_ATTENDEES))
    return list(dict.fromkeys(v.strip() for v in value if v.strip()))


def _attendees(session, value, also: str | None = None) -> list[str]:
    names = _names(value)
    if also and also not in names:
        names.insert(0, also)
    if not names:
        return []
    try:
        return agenda.people_for(session, me().actor, members=names)
    except NotFound as exc:
        raise NotFound(exc.message, details={**exc.details, "field": "attendees"}) from None


def _lock_version(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_VERSION:
        raise bad_input("lock_version", _("lock_version must be the lock version of the event you loaded."))
    return value


def _time_arg(name: str, zone_name: str, end: bool = False) -> datetime:
    """Read a range bound: a date (the whole day, in the caller's zone) or an ISO time with an offset."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        raise bad_input(name, _("%(field)s is required.", field=name))
    message = _("%(field)s must be a date like 2026-12-01 or a time with an offset like "
                "2026-12-01T09:00+08:00.", field=name)
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            moment = datetime.combine(day, time(), tzinfo=recurrence.zone_of(zone_name))
        else:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise bad_input(name, message) from None
    if moment.tzinfo is None:
        raise bad_input(name, message)
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise bad_input(name, _("%(field)s must be between the years %(low)s and %(high)s.", field=name,
                                low=FIRST_YEAR, high=LAST_YEAR))
    return moment + timedelta(days=1) if end and len(raw) == 10 else moment


def _code_arg(name: str) -> str | None:
    raw = (request.args.get(name) or "").strip()
    if len(raw) > MAX_CODE:
        raise bad_input(name, _("%(field)s must be at most %(limit)s characters.", field=name,
                                limit=MAX_CODE))
    return raw or None


def _list_arg(name: str) -> list[str]:
    return [part.strip() for part in (request.args.get(name) or "").split(",") if part.strip()]


@bp.get("/calendar/entries")
def calendar_entries():
    """List the calendar entries of the chosen people in a range, as the caller may see them."""
    sources = _list_arg("sources")
    wrong = [s for s in sources if s not in SOURCES]
    if wrong:
        raise bad_input("sources", _("%(field)s must be one of %(choices)s.", field="sources",
                                     choices=", ".join(SOURCES)))
    members = _list_arg("members")
    department, group, project = _code_arg("department"), _code_arg("group"), _code_arg("project")
    actor = me().actor
    with query() as session:
        zone = _zone(session)
        start, end = _time_arg("start", zone), _time_arg("end", zone, end=True)
        agenda.check_range(start, end)
        if project and session.scalar(select(WorkGroup.id).where(WorkGroup.code == project)) is None:
            raise NotFound(_("No project group %(code)s.", code=project),
                           details={"field": "project", "value": project})
        people = agenda.people_for(session, actor, members=members or None, department=department,
                                   group=group)
        found = agenda.entries(session, actor, people, start, end, project=project, zone=zone,
                               sources=sources or None)
        readable = access.readable(session, actor, people)
        names = dict(session.execute(select(User.username, User.display_name)
                                     .where(User.username.in_(people))).all())
        body = {"start": iso(start), "end": iso(end), "timezone": zone,
                "people": [{"username": p, "display_name": names.get(p, p), "full": p in readable}
                           for p in people],
                "items": [entry_json(e) for e in found]}
    return jsonify(body)


@bp.post("/calendar/events")
def create_calendar_event():
    """Create an event; the answer lists its organiser's and attendees' clashes (a warning, not a refusal)."""
    body = json_body(events.FIELDS | {"check_only"})
    check_only = body.pop("check_only", False)
    if not isinstance(check_only, bool):
        raise bad_input("check_only", _("%(field)s must be true or false.", field="check_only"))
    _check_years(body)
    actor = me().actor
    with (query() if check_only else command()) as session:
        zone = _zone(session)
        series, _repeat = events.timing(body, default_zone=zone)
        people = _attendees(session, body.get("attendees"), also=actor.username)
        clashes = [clash_json(c) for c in agenda.conflicts(session, actor, people, series)]
        if check_only:
            return jsonify(conflicts=clashes, saved=False)
        event = events.create_event(session=session, actor=actor, fields=body, default_zone=zone)
        out = {**event_json(event), "conflicts": clashes}
    return jsonify(out), 201


@bp.post("/calendar/conflicts")
def check_calendar_conflicts():
    """Tell who among the attendees is already busy during the planned event's occurrences."""
    body = json_body(CONFLICT_FIELDS)
    exclude = body.pop("exclude_event", None)
    if exclude is not None and (not isinstance(exclude, int) or isinstance(exclude, bool)
                                or not 0 < exclude <= MAX_ID):
        raise bad_input("exclude_event", _("exclude_event must be an event id."))
    _check_years(body)
    actor = me().actor
    with query() as session:
        series, _repeat = events.timing(body, default_zone=_zone(session))
        people = _attendees(session, body.get("attendees"))
        found = agenda.conflicts(session, actor, people, series, exclude_event=exclude)
        clashes = [clash_json(c) for c in found]
    return jsonify(conflicts=clashes)


@bp.get("/calendar/events/<int:event_id>")
def get_calendar_event(event_id: int):
    """Describe an event the caller organises, attends, or may read through an attendee's calendar."""
    with query() as session:
        out = event_json(events.get_event(session=session, actor=me().actor, event_id=event_id))
    return jsonify(out)


@bp.patch("/calendar/events/<int:event_id>")
def update_calendar_event(event_id: int):
    """Change an event (its organiser or an admin) with the lock version loaded; a move reports its clashes."""
    body = json_body(events.FIELDS | {"lock_version"})
    lock_version = _lock_version(body.pop("lock_version", None))
    _check_years(body)
    actor = me().actor
    with command() as session:
        event = events.update_event(session=session, actor=actor, event_id=event_id, fields=body,
                                    lock_version=lock_version, default_zone=_zone(session))
        out = event_json(event)
        if {"starts_at", "ends_at", "all_day", "timezone", "repeat", "attendees"} & set(body):
            # A move or a new attendee is checked like a new event, leaving the event itself out.
            people = [a.username for a in event.attendees]
            out["conflicts"] = [clash_json(c) for c in agenda.conflicts(session, actor, people, event,
                                                                         exclude_event=event.id)]
    return jsonify(out)


@bp.delete("/calendar/events/<int:event_id>")
def cancel_calendar_event(event_id: int):
    """Cancel an event, or with ?occurrence= (its local start) only that occurrence of a series."""
    occurrence = (request.args.get("occurrence") or "").strip() or None
    if occurrence is not None:
        if len(occurrence) > 40:
            raise bad_input("occurrence",
                            _("occurrence must be a local start time like 2026-12-01T09:00:00."))
        _year_ok(occurrence, "occurrence")
    lock_version = int_arg("lock_version", None, 0, MAX_VERSION)
    with command() as session:
        event = events.cancel_event(session=session, actor=me().actor, event_id=event_id,
                                    occurrence=occurrence, lock_version=lock_version)
        out = event_json(event)
    return jsonify(out)


@bp.post("/calendar/events/<int:event_id>/response")
def answer_invitation(event_id: int):
    """Accept, tentatively accept or decline an invitation; the organiser is told."""
    body = json_body({"response"}, required=("response",))
    if not isinstance(body["response"], str):
        raise bad_input("response", _("response must be accepted, tentative or declined."))
    with command() as session:
        events.respond(session=session, actor=me().actor, event_id=event_id, response=body["response"])
        out = event_json(events.get_event(session=session, actor=me().actor, event_id=event_id))
    return jsonify(out)


@bp.get("/calendar/feeds")
def list_calendar_feeds():
    """List the caller's live subscription links (never their secret URLs)."""
    with query() as session:
        items = [feed_json(f) for f in feeds.list_feeds(session=session, username=me().username)]
    return jsonify(items=items)


@bp.post("/calendar/feeds")
def create_calendar_feed():
    """Make a subscription link to the caller's calendar; its URL is answered this once."""
    json_body(set())
    with command() as session:
        feed, token = feeds.create_feed(session=session, username=me().username)
        out = feed_json(feed, url_for("calendar_feed.feed", token=token, _external=True))
    return jsonify(out), 201


@bp.delete("/calendar/feeds/<int:feed_id>")
def revoke_calendar_feed(feed_id: int):
    """Revoke one of the caller's subscription links; calendar apps using it get nothing from then on."""
    with command() as session:
        out = feed_json(feeds.revoke_feed(session=session, username=me().username, feed_id=feed_id))
    return jsonify(out)

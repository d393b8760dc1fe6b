"""Calendar pages: day, week, month and agenda views, events with invitations and conflict warnings."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from collab import notices
from collab.calendar import access, agenda, events, recurrence
from collab.calendar.models import EVENT_KINDS, CalendarEvent
from collab.errors import Conflict, InvalidInput, NotFound
from collab.wording import in_language
from org import service as org
from records import service as records
from records.errors import RecordError

from ..db import command, query
from . import calendar_layout as layout

bp = Blueprint("calendar", __name__, url_prefix="/calendar")
VIEWS = ("day", "week", "month", "agenda")
REMINDERS = (0, 5, 15, 30, 60, 1440)
ZONES = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Singapore", "Asia/Tokyo", "Europe/London", "Europe/Berlin",
         "America/New_York", "America/Los_Angeles", "UTC")


def _zone_name(session) -> str:
    return notices.get_settings(session=session, username=current_user.username).timezone


def _day(raw, fallback: date) -> date:
    try:
        day = date.fromisoformat(raw or "")
    except ValueError:
        return fallback
    # The calendar's years: near date's own ends a week's or a month's arithmetic overflows.
    return day if events.FIRST_YEAR <= day.year <= events.LAST_YEAR else fallback


def _filter_choices(session) -> dict:
    zh = layout.locale().startswith("zh")
    staff = set(access.staff_names(session))
    names = org.display_names(session=session, usernames=staff)
    groups = [(g.code, g.name if zh or not g.name_en else g.name_en) for g in org.list_units(session=session,
                                                                                              kind="group")]
    return {"people": sorted(((u, names.get(u, u)) for u in staff), key=lambda p: p[0]), "groups": groups,
            "departments": [(d.code, d.name if zh or not d.name_en else d.name_en, depth)
                            for d, depth in org.department_tree(session=session)]}


@bp.get("")
@login_required
def index():
    """Show one or more calendars as a day, week, month or agenda, with filters that combine."""
    args = request.args
    view = args.get("view") if args.get("view") in VIEWS else "week"
    filters = {"members": [m for m in args.getlist("members") if m][:300],
               "department": args.get("department") or "", "group": args.get("group") or "",
               "project": args.get("project") or ""}
    problem = None
    with query() as session:
        zone_name = _zone_name(session)
        zone = ZoneInfo(zone_name)
        today = datetime.now(zone).date()
        day = _day(args.get("date"), today)
        start, end, previous, following = layout.span(view, day)
        try:
            people = agenda.people_for(session, current_user.actor, members=filters["members"] or None,
                                       department=filters["department"] or None, group=filters["group"] or None)
        except (InvalidInput, NotFound) as exc:
            problem = {"members": _("One of the chosen people is not an active colleague."),
                       "department": _("No such department."), "group": _("No such group.")}.get(
                exc.details.get("field"), exc.message)
            people = [current_user.username]
        window = (datetime.combine(start, time(), tzinfo=zone), datetime.combine(end, time(), tzinfo=zone))
        try:
            found = agenda.entries(session, current_user.actor, people, *window, project=filters["project"] or None,
                                   zone=zone_name)
        except (InvalidInput, NotFound) as exc:
            problem, found = exc.message, []
        names = org.display_names(session=session, usernames=set(people) | {p for e in found for p in e.people})
        choices = _filter_choices(session)
    items = layout.shown(found, zone, names, len(people) > 1)
    days = [start + timedelta(days=n) for n in range((end - start).days)]
    context = {"view": view, "day": day, "today": today, "start": start, "end": end, "previous": previous,
               "following": following, "filters": filters, "problem": problem, "people": people, "names": names,
               "choices": choices, "zone": zone_name, "title": layout.title(view, start, end, day), "items": items,
               "nav": {k: v for k, v in filters.items() if v},
               "weekdays": [name for _code, name in layout.weekday_names()],
               "day_label": lambda d: format_skeleton("MMMEd", d, locale=layout.locale()),
               "short_label": lambda d: format_skeleton("MMMd", d, locale=layout.locale())}
    if view == "month":
        context["weeks"] = layout.month(start, end, day.month, items)
    elif view == "agenda":
        context["agenda"] = [(d, layout.ordered(i for i in items if layout.on(i, d))) for d in days
                             if any(layout.on(i, d) for i in items)]
    else:
        context["grid"] = layout.time_grid(days, items, zone)
    return render_template("calendar/index.html", **context), 400 if problem else 200


# --- the event form ---------------------------------------------------------------------------------------


def _field_messages() -> dict[str, str]:
    return {"title": _("Enter a title of at most 300 characters."), "kind": _("Choose a kind of event."),
            "starts_at": _("Enter a start date and time."), "timezone": _("Enter a time zone like Asia/Shanghai."),
            "ends_at": _("The end must come after the start, at most 31 days later."),
            "attendees": _("Choose active colleagues only."), "repeat": _("Choose how the event repeats."),
            "repeat.freq": _("Choose how the event repeats."),
            "repeat.interval": _("Enter a whole number from 1 to 99."),
            "repeat.weekdays": _("Weekdays only go with a weekly repeat."),
            "repeat.monthday": _("The last day of the month only goes with a monthly repeat."),
            "repeat.count": _("Enter a number of times from 1 to 500."),
            "repeat.until": _("Enter an end date on or after the first day, within ten years."),
            "reminders": _("Choose at most five reminders."), "project": _("No such project group."),
            "record_id": _("Enter the number of a customer record you may see.")}


def _error(exc) -> dict[str, str]:
    field = exc.details.get("field") or "form"
    return {field: _field_messages().get(field, exc.message)}


def _clash_rows(session, clashes, zone_name: str) -> list[dict]:
    names = org.display_names(session=session, usernames={c.person for c in clashes})
    zone = ZoneInfo(zone_name)
    return [{"person": c.person, "name": names.get(c.person, c.person), "title": c.title,
             "label": in_language(c.title, layout.locale()) if c.title else _("Busy"), "busy": c.title is None,
             "when": layout.clash_when(c.starts_at, c.ends_at, zone, c.all_day, c.timezone), "source": c.source} for c in clashes]


def _people(organizer: str, attendees, staff) -> list[str]:
    return list(dict.fromkeys([organizer, *(a for a in attendees if a in staff)]))


class _Clashes(Exception):
    """Raised inside the command so an event with unconfirmed clashes is not kept."""

    def __init__(self, rows):
        super().__init__("clashes")
        self.rows = rows


def _plan(event: CalendarEvent) -> tuple:
    return (event.starts_at, event.ends_at, event.all_day, event.rrule, event.timezone,
            frozenset(a.username for a in event.attendees))


def _save(event_id: int | None, values: dict) -> tuple[int | None, dict, list, str | None]:
    """Save the form: return the event id, or the field errors, the clashes to confirm, or why it was refused.

    Refused is the reason of the service's Conflict: "stale", "cancelled" or "not_organiser".
    """
    confirmed = request.form.get("confirm") == "1"
    lock = request.form.get("lock_version", "")
    try:
        with command() as session:
            zone = _zone_name(session)
            fields = layout.service_fields(values)
            series, _repeat = events.timing(fields, default_zone=zone)
            before = None
            if event_id is not None:
                before = _plan(events.get_event(session=session, actor=current_user.actor, event_id=event_id))
            # The service checks that a linked record may be read; it refuses it as NotFound on record_id.
            if event_id is None:
                event = events.create_event(session=session, actor=current_user.actor, fields=fields,
                                            default_zone=zone)
            else:
                event = events.update_event(session=session, actor=current_user.actor, event_id=event_id,
                                            fields=fields, lock_version=int(lock) if lock.isdigit() and len(lock) <= 9 else -1,
                                            default_zone=zone)
            if not confirmed and _plan(event) != before:
                clashes = agenda.conflicts(session, current_user.actor, [a.username for a in event.attendees],
                                           series, exclude_event=event.id)
                if clashes:
                    raise _Clashes(_clash_rows(session, clashes, zone))
            return event.id, {}, [], None
    except _Clashes as refused:
        return None, {}, refused.rows, None
    except Conflict as exc:
        return None, {}, [], exc.details.get("reason") or "stale"
    except (InvalidInput, NotFound) as exc:
        return None, _error(exc), [], None


def _form_page(values: dict, errors: dict, clashes: list, event=None, stale: bool = False, status: int = 200,
               lock_version: int | None = None):
    with query() as session:
        choices = _filter_choices(session)
    choices["people"] = [p for p in choices["people"] if p[0] != (event.organizer if event else
                                                                   current_user.username)]
    return render_template("calendar/form.html", values=values, errors=errors, clashes=clashes, event=event,
                           stale=stale, choices=choices, kinds=EVENT_KINDS, reminders=REMINDERS, zones=ZONES,
                           lock_version=lock_version, weekdays=layout.weekday_names()), status


def _new_values(zone: ZoneInfo) -> dict:
    now = datetime.now(zone)
    day = _day(request.args.get("date"), now.date())
    try:
        clock = time.fromisoformat(request.args.get("start") or "")
    except ValueError:
        clock = (now + timedelta(hours=1)).replace(minute=0).time() if day == now.date() else time(9)
    begins = datetime.combine(day, clock)
    ends = begins + timedelta(hours=1)
    values = layout.form_values(request.args)
    values.update(start_date=day.isoformat(), start_time=f"{begins:%H:%M}", end_date=ends.date().isoformat(),
                  end_time=f"{ends:%H:%M}", timezone=zone.key, kind=values["kind"] or "meeting", repeat="none",
                  interval="1", monthday="same", ends="never", reminders=["15"])
    return values


@bp.route("/events/new", methods=["GET", "POST"])
@login_required
def new_event():
    """Plan an event: warn about attendees' clashes before it is saved, save it when confirmed."""
    if request.method == "GET":
        with query() as session:
            zone = ZoneInfo(_zone_name(session))
        return _form_page(_new_values(zone), {}, [])
    values = layout.form_values(request.form)
    event_id, errors, clashes, _refused = _save(None, values)
    if event_id:
        flash(_("Event saved. The attendees were invited."), "success")
        return redirect(url_for("calendar.event", event_id=event_id))
    return _form_page(values, errors, clashes, status=400 if errors else 200)


def _event_or_404(session, event_id: int) -> CalendarEvent:
    try:
        return events.get_event(session=session, actor=current_user.actor, event_id=event_id)
    except NotFound:
        abort(404)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit_event(event_id: int):
    """Change an event the signed-in user organises; a change made meanwhile by someone else is not overwritten."""
    with query() as session:
        event = _event_or_404(session, event_id)
        # The form needs this check; on saving it spares the work, and the service's reason covers a race.
        refused = "not_organiser" if event.organizer != current_user.username and not current_user.is_admin else \
            "cancelled" if event.status == "cancelled" else None
        session.expunge(event)
    values, saved, errors, clashes = layout.form_values(request.form), None, {}, []
    if refused is None and request.method == "POST":
        saved, errors, clashes, refused = _save(event_id, values)  # refused again if it changed meanwhile
    if saved:
        flash(_("Event saved."), "success")
        return redirect(url_for("calendar.event", event_id=event_id))
    if refused == "not_organiser":
        abort(403)
    if refused == "cancelled":
        flash(_("This event was cancelled, so it can no longer be changed."), "warning")
        return redirect(url_for("calendar.event", event_id=event_id))
    if request.method == "GET":
        return _form_page(layout.event_values(event), {}, [], event=event, lock_version=event.lock_version)
    stale = refused is not None  # "stale": someone else saved a change since the form was opened
    # The version the form was opened with stays: saving again must not overwrite what someone else changed.
    lock = request.form.get("lock_version", "")
    return _form_page(values, errors, clashes, event=event, stale=stale, lock_version=int(lock) if lock.isdigit() and len(lock) <= 9
                      else -1, status=409 if stale else 400 if errors else 200)


@bp.get("/conflicts")
@login_required
def conflicts():
    """Return, as JSON, who of the planned attendees is busy at the planned time (nothing is saved)."""
    values = layout.form_values(request.args)
    raw_id = request.args.get("event", "")
    with query() as session:
        zone = _zone_name(session)
        organizer = current_user.username
        if raw_id.isdigit():  # a number past any id names no event: 404, as in a path
            organizer = _event_or_404(session, int(raw_id) if len(raw_id) <= 18 else 0).organizer
        try:
            series, _repeat = events.timing(layout.service_fields(values), default_zone=zone)
        except InvalidInput as exc:
            field = exc.details.get("field", "")
            return jsonify(clashes=[], count=0, error={"field": field, "message": _error(exc)[field or "form"]}), 400
        people = _people(organizer, values["attendees"], set(access.staff_names(session)))
        rows = _clash_rows(session, agenda.conflicts(session, current_user.actor, people, series,
                                                     exclude_event=int(raw_id) if raw_id.isdigit() and len(raw_id) <= 18 else None), zone)
    response = jsonify(clashes=rows, count=len(rows))
    response.headers["Cache-Control"] = "no-store"
    return response


# --- one event --------------------------------------------------------------------------------------------


def _occurrence(event: CalendarEvent, key: str | None):
    if not key or not event.rrule:
        return None
    try:
        begins = recurrence.occurrence_key(event, key)
    except InvalidInput:
        return None
    return next((o for o in recurrence.occurrences(event, begins, begins + timedelta(seconds=1))
                 if o.starts_at == begins), None)


@bp.get("/events/<int:event_id>")
@login_required
def event(event_id: int):
    """Show an event: when, where, who answered what; invitees answer here, the organiser edits or cancels."""
    key = request.args.get("occurrence")
    with query() as session:
        item = _event_or_404(session, event_id)
        zone = _zone_name(session)
        occurrence = _occurrence(item, key)
        start, end = (occurrence.starts_at, occurrence.ends_at) if occurrence else (item.starts_at, item.ends_at)
        names = org.display_names(session=session, usernames={a.username for a in item.attendees} | {item.organizer})
        record = None
        if item.record_id:
            try:
                found, view = records.get_record_or_raise(session=session, record_id=item.record_id,
                                                          actor=current_user.actor)
                record = (url_for("records.show", key=view.key, record_id=found.id), found.title or f"#{found.id}")
            except RecordError:
                record = (None, f"#{item.record_id}")
        unit = org.get_unit(session=session, kind="group", code=item.project) if item.project else None
        project = (unit.name if layout.locale().startswith("zh") or not unit.name_en else unit.name_en) if unit else \
            item.project
        mine = item.attendee(current_user.username)
        context = {"event": item, "occurrence": occurrence, "when": layout.when_lines(start, end, item, zone),
                   "repeat": layout.repeat_text(item), "names": names, "record": record, "project": project,
                   "mine": mine.response if mine and item.organizer != current_user.username else None,
                   "organizes": item.organizer == current_user.username or current_user.is_admin,
                   "local_day": start.astimezone(ZoneInfo(zone)).date()}
        return render_template("calendar/event.html", **context)


@bp.post("/events/<int:event_id>/respond")
@login_required
def respond(event_id: int):
    """Accept, tentatively accept or decline an invitation."""
    answer = request.form.get("response", "")
    words = {"accepted": _("You accepted the invitation."), "tentative": _("You answered maybe."),
             "declined": _("You declined the invitation.")}
    try:
        with command() as session:
            events.respond(session=session, actor=current_user.actor, event_id=event_id, response=answer)
        flash(words[answer], "success")
    except NotFound:
        abort(404)
    except Conflict as exc:
        if exc.details.get("reason") != "cancelled":
            abort(409)
        flash(_("This event was cancelled, so it can no longer be answered."), "warning")
    except InvalidInput:
        abort(400)
    key = request.form.get("occurrence") or None
    return redirect(url_for("calendar.event", event_id=event_id, occurrence=key))


@bp.post("/events/<int:event_id>/cancel")
@login_required
def cancel(event_id: int):
    """Cancel an event, or with an occurrence only that one; everyone invited is told."""
    key = request.form.get("occurrence") or None
    with query() as session:
        item = _event_or_404(session, event_id)
        zone = ZoneInfo(_zone_name(session))
        occurrence = _occurrence(item, key)
        local_day = (occurrence.starts_at if occurrence else item.starts_at).astimezone(zone).date()
    # The service refuses whoever does not organise it, and an event already cancelled, and says which.
    try:
        with command() as session:
            events.cancel_event(session=session, actor=current_user.actor, event_id=event_id, occurrence=key)
    except InvalidInput:
        flash(_("There is no such occurrence to skip."), "warning")
        return redirect(url_for("calendar.event", event_id=event_id))
    except Conflict as exc:
        reason = exc.details.get("reason")
        if reason != "cancelled":
            abort(403 if reason == "not_organiser" else 409)
        flash(_("This event was already cancelled."), "warning")
        return redirect(url_for("calendar.event", event_id=event_id))
    flash(_("The occurrence was skipped; the rest of the series stays.") if key else
          _("The event was cancelled and everyone invited was told."), "success")
    return redirect(url_for("calendar.index", view="week", date=local_day.isoformat()))

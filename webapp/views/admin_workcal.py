"""Admin pages for business calendars: the organisation's and departments', exceptions, a year preview, CSV import."""
from __future__ import annotations

import calendar as _calendar
from datetime import date

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _

from org import service as org
from org import workcal, workcal_import, workcal_store
from org.errors import Invalid

from ..db import command, query
from .admin_common import require_admin

bp = Blueprint("admin_workcal", __name__, url_prefix="/admin/calendars")
bp.before_request(require_admin)
MONDAY = date(2024, 1, 1)  # any Monday: weekday names come from the dates after it


@bp.context_processor
def _navigation_needs():
    return {"current_app": current_app}


def message(code: str, params: dict | None = None) -> str:
    """Say what is wrong with a calendar setting, an exception or an import line, in the reader's language."""
    p = {"value": "", "limit": "", "other": "", **(params or {})}
    return {
        "unknown_zone": _("“%(value)s” is not a time zone. Use a name such as Asia/Shanghai.", value=p["value"]),
        "bad_weekday": _("Choose weekdays from Monday to Sunday."),
        "no_weekday": _("Choose at least one working weekday: a calendar without working days cannot count "
                        "due dates."),
        "bad_period": _("“%(value)s” is not a period such as 09:00-12:00.", value=p["value"]),
        "no_period": _("Enter at least one working period, such as 09:00-12:00."),
        "too_many": _("At most %(limit)s periods a day.", limit=p["limit"]),
        "overlap": _("Working periods must not overlap."),
        "bad_date": _("“%(value)s” is not a date such as 2026-10-01.", value=p["value"]),
        "before_first": _("The range ends before it starts."),
        "range_too_long": _("A range has at most %(limit)s days.", limit=p["limit"]),
        "bad_kind": _("“%(value)s” is neither holiday nor workday (假日 / 补班).", value=p["value"]),
        "name_required": _("A holiday needs a name, such as 国庆节."),
        "name_too_long": _("At most %(limit)s characters.", limit=p["limit"]),
        "already_working": _("%(value)s is a working weekday already: a make-up workday is a day off that is "
                             "worked.", value=p["value"]),
        "duplicate_in_file": _("%(value)s is already on line %(other)s.", value=p["value"], other=p["other"]),
        "bad_csv": _("This line cannot be read as CSV."),
        "empty": _("The file is empty."),
        "too_large": _("The file is larger than 1 MB."),
        "encoding": _("The CSV file is neither UTF-8 nor GBK/GB18030 text."),
        "too_many_lines": _("The file has more than %(limit)s lines.", limit=p["limit"]),
        "no_rows": _("The file has no lines with dates."),
    }.get(code, p.get("message") or code)


def _errors(exc: Invalid, renames: dict | None = None) -> dict[str, str]:
    field = exc.details.get("field") or "form"
    return {(renames or {}).get(field, field): message(exc.details.get("reason", ""), {**exc.details,
                                                                                       "message": exc.message})}


def _year() -> int:
    year = request.args.get("year", "")
    return int(year) if year.isdigit() and len(year) == 4 and 1970 <= int(year) <= 2200 else date.today().year


def _back(code: str | None, year: int | None = None):
    return redirect(url_for("admin_workcal.calendar_page", code=code, year=year or _year()))


def _weekday_names(width: str = "EEEE") -> list[tuple[int, str]]:
    return [(n, format_date(MONDAY.replace(day=n), width)) for n in range(1, 8)]


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _settings(calendar: workcal.WorkingCalendar, inherit: bool) -> dict:
    return {"zone": calendar.zone.key, "weekdays": {str(d) for d in calendar.weekdays}, "inherit": inherit,
            "periods": ", ".join(f"{_clock(a)}-{_clock(b)}" for a, b in calendar.periods)}


def year_grid(calendar: workcal.WorkingCalendar, year: int) -> list[dict]:
    """Lay out a year month by month, weeks from Monday, each day marked work, off, holiday or workday."""
    months = []
    for month in range(1, 13):
        weeks = []
        for week in _calendar.Calendar().monthdatescalendar(year, month):
            cells = []
            for day in week:
                if day.month != month:
                    cells.append(None)
                    continue
                kind, name, source = calendar.exceptions.get(day, ("", "", calendar.source))
                state = kind or ("work" if day.isoweekday() in calendar.weekdays else "off")
                cells.append({"day": day, "state": state, "name": name,
                              "inherited": bool(kind) and source != calendar.source})
            weeks.append(cells)
        months.append({"name": format_date(date(year, month, 1), "LLLL"), "weeks": weeks})
    return months


def _page(code: str | None, *, values: dict | None = None, errors: dict | None = None, added: dict | None = None,
          added_errors: dict | None = None, report=None, file_error: str | None = None, status: int = 200):
    year = _year()
    with query() as session:
        department = org.get_unit_or_raise(session=session, kind="department", code=code) if code else None
        effective = workcal_store.calendar_for(session=session, department=code)
        own = workcal_store.get_calendar(session=session, department=code)
        source = org.get_unit(session=session, kind="department", code=effective.source) if effective.source else None
        exceptions = [(day, kind, name) for day, (kind, name, source) in sorted(effective.exceptions.items())
                      if day.year == year and source == effective.source] if own is not None or not code else []
        html = render_template(
            "admin/workcal_calendar.html", code=code, department=department, own=own is not None or not code,
            year=year, values=values or _settings(effective, own.inherit_exceptions if own is not None else True),
            errors=errors or {}, added=added or {"kind": "holiday"}, added_errors=added_errors or {},
            exceptions=exceptions, grid=year_grid(effective, year), source=source,
            weekday_names=_weekday_names(), short_names=_weekday_names("EEEEE"), zones=sorted(workcal.zone_names()),
            report=report, report_rows=[{"line": e.line, "field": e.field, "message": message(e.code, e.params)}
                                        for e in (report.errors if report else [])],
            file_error=file_error)
    return html, status


@bp.get("/")
def calendars():
    """List the organisation's calendar and each department's, own or inherited."""
    with query() as session:
        rows = workcal_store.list_calendars(session=session)
        return render_template("admin/workcal_list.html", rows=rows, weekday_names=_weekday_names("EEE"))


@bp.get("/org", defaults={"code": None})
@bp.get("/dept/<code>")
def calendar_page(code: str | None):
    """Show a calendar: its settings, its exceptions in a year, and the year at a glance."""
    return _page(code)


@bp.post("/org/settings", defaults={"code": None})
@bp.post("/dept/<code>/settings")
def save_settings(code: str | None):
    """Save a calendar's zone, working weekdays and working periods."""
    form = request.form
    values = {"zone": form.get("zone", "").strip(), "weekdays": set(form.getlist("weekdays")),
              "periods": form.get("periods", "").strip(), "inherit": form.get("inherit") == "1"}
    try:
        with command() as session:
            workcal_store.save_calendar(session=session, department=code, zone=values["zone"],
                                  weekdays=values["weekdays"], periods=values["periods"],
                                  inherit_exceptions=values["inherit"])
    except Invalid as exc:
        if exc.details.get("field") not in ("zone", "weekdays", "periods"):
            raise
        return _page(code, values=values, errors=_errors(exc), status=422)
    flash(_("Saved the calendar."), "success")
    return _back(code)


@bp.post("/dept/<code>/own")
def own_calendar(code: str):
    """Give a department its own calendar, starting from the one it uses now."""
    with command() as session:
        workcal_store.own_calendar(session=session, department=code)
    flash(_("The department now has its own calendar. Change it below."), "success")
    return _back(code)


@bp.post("/dept/<code>/remove")
def remove_calendar(code: str):
    """Remove a department's own calendar: it goes back to the one it inherits."""
    with command() as session:
        workcal_store.remove_calendar(session=session, department=code)
    flash(_("Removed the department's own calendar; it uses the inherited one again."), "success")
    return redirect(url_for("admin_workcal.calendars"))


@bp.post("/org/exceptions", defaults={"code": None})
@bp.post("/dept/<code>/exceptions")
def add_exceptions(code: str | None):
    """Add a holiday or a make-up workday, for one day or a range of days."""
    form = request.form
    added = {key: form.get(key, "").strip() for key in ("first", "last", "kind", "name")}
    try:
        with command() as session:
            count = workcal_store.add_exceptions(session=session, department=code, first=added["first"],
                                           last=added["last"] or None, kind=added["kind"], name=added["name"])
    except Invalid as exc:
        if exc.details.get("field") not in ("first", "last", "kind", "name"):
            raise
        return _page(code, added=added, added_errors=_errors(exc), status=422)
    flash(_("Added %(n)s days.", n=count), "success")
    first = workcal.check_date(added["first"], "first")
    return _back(code, first.year)


@bp.post("/org/exceptions/remove", defaults={"code": None})
@bp.post("/dept/<code>/exceptions/remove")
def remove_exceptions(code: str | None):
    """Remove the exception of a day (or of a range of days)."""
    with command() as session:
        count = workcal_store.remove_exceptions(session=session, department=code, first=request.form.get("first", ""),
                                          last=request.form.get("last") or None)
    flash(_("Removed %(n)s days.", n=count), "success")
    return _back(code)


@bp.post("/org/import", defaults={"code": None})
@bp.post("/dept/<code>/import")
def import_exceptions(code: str | None):
    """Import exceptions from a CSV file (date,kind,name): all lines, or none with a report per line."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(code, file_error=_("Choose a CSV file."), status=422)
    data = upload.stream.read(workcal_import.MAX_IMPORT_BYTES + 1)
    try:
        with command() as session:
            report = workcal_import.import_exceptions(session=session, department=code, data=data)
    except Invalid as exc:
        if exc.details.get("field") != "file":
            raise
        return _page(code, file_error=message(exc.details.get("reason", ""), exc.details), status=422)
    if not report.ok:
        return _page(code, report=report, status=422)
    flash(_("Imported %(lines)s lines (%(days)s days).", lines=report.lines, days=report.days), "success")
    return _back(code)


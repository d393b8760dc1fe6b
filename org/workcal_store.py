"""Stored business calendars: the organisation's, departments' own, their exceptions, and the one each uses."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from audit import service as audit
from database.base import utcnow
from database.session import database_key

from . import revision
from . import service as org
from .errors import Invalid, NotFound
from .models import Department, User
from .workcal import (
    WorkingCalendar,
    _check_exception,
    _clock,
    check_date,
    check_periods,
    check_weekdays,
    check_zone,
)
from .workcal_models import WorkCalendar, WorkCalendarException

# The organisation has one calendar (created on first use: Asia/Shanghai, Monday to Friday, 09:00-12:00 and
# 13:00-18:00). A department may have its own; without one it uses the nearest ancestor department's, else the
# organisation's. A department calendar also uses the exceptions of the calendar it would otherwise use (public
# holidays are entered once), unless `inherit_exceptions` is off; its own exception for a date wins.
ORGANISATION = "organisation"
MAX_CACHED_CALENDARS = 1_000
_CALENDARS: OrderedDict = OrderedDict()  # (database, revision, username, since) -> WorkingCalendar, newest last
DEFAULT_ZONE = "Asia/Shanghai"
DEFAULT_WEEKDAYS = "12345"
DEFAULT_PERIODS = (("09:00", "12:00"), ("13:00", "18:00"))
MAX_DEPTH = 100


def _department(session: Session, code: str | None) -> Department | None:
    if code in (None, ""):
        return None
    found = session.scalar(select(Department).where(Department.code == str(code)))
    if found is None:
        raise NotFound(f"no department '{code}'", details={"field": "department"})
    return found


def _owner(department: Department | None) -> str:
    return ORGANISATION if department is None else f"department:{department.id}"


def _default() -> WorkCalendar:
    return WorkCalendar(owner=ORGANISATION, zone=DEFAULT_ZONE, weekdays=DEFAULT_WEEKDAYS,
                        periods=[list(p) for p in DEFAULT_PERIODS], inherit_exceptions=False)


def get_calendar(*, session: Session, department: str | None = None) -> WorkCalendar | None:
    """Return the organisation's stored calendar, or a department's own; None when it has none."""
    return session.scalar(select(WorkCalendar).where(WorkCalendar.owner == _owner(_department(session, department))))


def organisation_calendar(*, session: Session) -> WorkCalendar:
    """Return the organisation's calendar, creating it with the defaults on first use."""
    found = get_calendar(session=session)
    if found is None:
        found = _default()
        session.add(found)
        session.flush()
    return found


def _chain(session: Session, department: Department | None) -> list[WorkCalendar]:
    ids: list[int] = []
    while department is not None and department.id not in ids and len(ids) < MAX_DEPTH:
        ids.append(department.id)
        department = department.parent
    own = {c.department_id: c for c in session.scalars(select(WorkCalendar)
                                                       .where(WorkCalendar.department_id.in_(ids)))} if ids else {}
    return [own[i] for i in ids if i in own] + [get_calendar(session=session) or _default()]


def _source(row: WorkCalendar) -> str:
    return row.department.code if row.department is not None else ""


def calendar_for(*, session: Session, department: str | None = None, since: date | None = None) -> WorkingCalendar:
    """Return the calendar a department works by (its own, an ancestor's or the organisation's), ready to count."""
    chain = _chain(session, _department(session, department))
    layers = [chain[0]]
    for row in chain[1:]:
        if not layers[-1].inherit_exceptions:
            break
        layers.append(row)
    exceptions: dict[date, tuple[str, str, str]] = {}
    for row in reversed(layers):  # the nearest calendar's exception for a date wins
        if row.id is None:
            continue
        query = select(WorkCalendarException).where(WorkCalendarException.calendar_id == row.id)
        if since is not None:
            query = query.where(WorkCalendarException.day >= since)
        source = _source(row)
        exceptions.update({e.day: (e.kind, e.name, source) for e in session.scalars(query)})
    base = chain[0]
    return WorkingCalendar(zone=ZoneInfo(base.zone), weekdays=frozenset(int(d) for d in base.weekdays),
                           periods=tuple((_clock(a, end=False), _clock(b, end=True)) for a, b in base.periods),
                           exceptions=exceptions, source=_source(base))


def calendar_for_user(*, session: Session, username: str | None, since: date | None = None) -> WorkingCalendar:
    """Return the calendar of a user's department; the organisation's for nobody or someone without one.

    Every due date of a new task asks for one, so calendars are kept per organisation revision (a change to
    people, departments or calendars moves it on) instead of being read again from five tables.
    """
    current = revision.session_revision(session)
    key = (database_key(session), current, username, since)
    if current is not None and key in _CALENDARS:
        _CALENDARS.move_to_end(key)
        return _CALENDARS[key]
    code = session.scalar(select(Department.code).join(User, User.department_id == Department.id)
                          .where(User.username == username)) if username else None
    found = calendar_for(session=session, department=code, since=since)
    if current is not None:
        _CALENDARS[key] = found
        while len(_CALENDARS) > MAX_CACHED_CALENDARS:
            _CALENDARS.popitem(last=False)
    return found


def _snapshot(row: WorkCalendar) -> dict:
    return {"zone": row.zone, "weekdays": row.weekdays, "periods": row.periods,
            "inherit_exceptions": row.inherit_exceptions}


def save_calendar(*, session: Session, department: str | None, zone: str, weekdays: Iterable,
                  periods, inherit_exceptions: bool = True) -> WorkCalendar:
    """Create or update the organisation's calendar or a department's own; raise Invalid naming the field."""
    dept = _department(session, department)
    values = {"zone": check_zone(zone), "weekdays": check_weekdays(weekdays), "periods": check_periods(periods),
              "inherit_exceptions": bool(inherit_exceptions) and dept is not None}
    row = organisation_calendar(session=session) if dept is None else \
        get_calendar(session=session, department=dept.code)
    before = _snapshot(row) if row is not None else None
    if row is None:
        row = WorkCalendar(owner=_owner(dept), department=dept)
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    audit.log(session, action="work_calendar.saved", object_type="work_calendar", object_id=row.owner,
              summary=dept.name if dept else ORGANISATION, before=before, after=values)
    return row


def own_calendar(*, session: Session, department: str) -> WorkCalendar:
    """Give a department its own calendar, starting from the settings of the one it uses now."""
    dept = _department(session, department)
    if dept is None:
        raise Invalid("department: name the department", details={"field": "department"})
    base = _chain(session, dept)[0]
    return save_calendar(session=session, department=dept.code, zone=base.zone, weekdays=base.weekdays,
                         periods=base.periods, inherit_exceptions=True)


def remove_calendar(*, session: Session, department: str) -> None:
    """Remove a department's own calendar and its exceptions: it then uses the one it inherits."""
    row = _own_or_raise(session, department)
    if row.department_id is None:
        raise Invalid("the organisation's calendar cannot be removed", details={"field": "department"})
    audit.log(session, action="work_calendar.removed", object_type="work_calendar", object_id=row.owner,
              summary=row.department.name, before=_snapshot(row))
    session.delete(row)
    session.flush()


def _own_or_raise(session: Session, department: str | None) -> WorkCalendar:
    if department in (None, ""):
        return organisation_calendar(session=session)
    row = get_calendar(session=session, department=department)
    if row is None:
        raise NotFound(f"department '{department}' has no calendar of its own", details={"field": "department"})
    return row


def _put(session: Session, row: WorkCalendar, days: list[date], kind: str, name: str) -> None:
    existing = {e.day: e for e in session.scalars(select(WorkCalendarException).where(
        WorkCalendarException.calendar_id == row.id, WorkCalendarException.day.between(days[0], days[-1])))}
    for day in days:
        entry = existing.get(day) or WorkCalendarException(calendar_id=row.id, day=day)
        entry.kind, entry.name = kind, name
        session.add(entry)


def add_exceptions(*, session: Session, department: str | None, first, last=None, kind: str,
                   name: str = "") -> int:
    """Mark each day from first to last a holiday or a make-up workday, replacing what they had; return the count."""
    row = _own_or_raise(session, department)
    days, kind, name = _check_exception(first, last, kind, name, row.weekdays)
    _put(session, row, days, kind, name)
    session.flush()
    audit.log(session, action="work_calendar.exceptions_added", object_type="work_calendar", object_id=row.owner,
              summary=name, after={"first": days[0].isoformat(), "last": days[-1].isoformat(), "kind": kind})
    return len(days)


def remove_exceptions(*, session: Session, department: str | None, first, last=None) -> int:
    """Remove the exceptions from first to last (inclusive); return how many there were."""
    row = _own_or_raise(session, department)
    start = check_date(first, "first")
    end = check_date(last, "last") if last not in (None, "") else start
    removed = session.execute(delete(WorkCalendarException).where(
        WorkCalendarException.calendar_id == row.id, WorkCalendarException.day.between(start, end))).rowcount
    if removed:
        revision.bump(session)  # a bulk delete passes the flush by: cached calendars must still be dropped
        audit.log(session, action="work_calendar.exceptions_removed", object_type="work_calendar",
                  object_id=row.owner, before={"first": start.isoformat(), "last": end.isoformat()})
    return removed


def list_calendars(*, session: Session) -> list[dict]:
    """List the organisation and every department (tree order) with the calendar each works by."""
    rows = {c.department_id: c for c in session.scalars(select(WorkCalendar))}
    counts = dict(session.execute(select(WorkCalendarException.calendar_id, func.count())
                                  .group_by(WorkCalendarException.calendar_id)).all())
    org_row = rows.get(None) or _default()
    out = [{"department": None, "depth": 0, "own": org_row, "uses": org_row, "from": None,
            "exceptions": counts.get(org_row.id, 0)}]
    uses: dict[int, tuple[WorkCalendar, Department | None]] = {}
    for dept, depth in org.department_tree(session=session):
        own = rows.get(dept.id)
        inherited = uses.get(dept.parent_id, (org_row, None))
        uses[dept.id] = (own, dept) if own is not None else inherited
        out.append({"department": dept, "depth": depth + 1, "own": own, "uses": uses[dept.id][0],
                    "from": None if own is not None else inherited[1],
                    "exceptions": counts.get(own.id, 0) if own is not None else 0})
    return out


"""Leave, overtime and trips in working time: balances checked at the request, attendance records on approval.

Service operations the HR processes call (bpmn/leave_request, bpmn/overtime, bpmn/business_trip):
  * `leave.assess`: count a leave request's working days on the employee's business calendar (holidays and
    make-up workdays included, half days at either end), check them against the employee's leave balance
    for each calendar year the leave touches, and keep the count in the request;
  * `overtime.assess`: check an overtime request's day type against the calendar and its hours against the
    time outside working hours;
  * `attendance.record`: write the approved leave, overtime or trip as an attendance record, count leave
    against the balance and credit time off in lieu for overtime.

A balance is a `leave_balance` record (employee, year, leave type, entitled and used days) kept by HR. Days
asked for in requests still awaiting approval count as reserved: a request's count is kept in its data, so a
withdrawn, rejected or terminated request stops counting without any bookkeeping. A company that does not
keep balances or attendance in Flowdesk switches those record types off; the steps then count days only.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import ServiceError
from forms.schema import FormError
from instances.models import ProcessInstance
from org import workcal
from org.models import User
from org.workcal_store import calendar_for_user

from .errors import RecordError
from .models import Record, RecordType
from .operations import OPERATIONS, _command, _explain, _process_actor
from .query import Filter, list_records

BALANCE, ATTENDANCE = "leave_balance", "attendance"
RESERVATION = "leave_reservation"  # request data: {"employee", "leave_type", "years": {"2026": 3.0}}
LIVE = ("running", "suspended", "incident")
MAX_LEAVE_DAYS = 366
KINDS = ("leave", "overtime", "business_trip")
KIND_WORDS = {"leave": "请假 Leave", "overtime": "加班 Overtime", "business_trip": "出差 Trip"}


@dataclass(frozen=True)
class LeaveCount:
    """Working days (half days at the ends) and hours of a leave, with the days falling in each year."""

    days: float
    hours: float
    years: dict[int, float]


def _refuse(reason: str, field: str, problem: str | None = None, **facts) -> ServiceError:
    """A refusal naming the form field; with a problem code and its facts a page can say it in its own words."""
    return ServiceError(reason, details={"field": field, **({"problem": problem, **facts} if problem else {})})


def _day(value, field: str) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise _refuse(f"{field}: '{value}' is not a date like 2026-12-31", field) from None


def _moment(value, field: str, calendar: workcal.WorkingCalendar) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise _refuse(f"{field}: '{value}' is not a date and time like 2026-12-31T18:30", field) from None
    # A form's date-time has no zone: it is the wall-clock time where the employee works.
    return moment if moment.tzinfo else moment.replace(tzinfo=calendar.zone)


def _day_hours(calendar: workcal.WorkingCalendar) -> float:
    return sum(end - start for start, end in calendar.periods) / 60


def count_leave(calendar: workcal.WorkingCalendar, first: date, last: date, *, afternoon_start: bool = False,
                morning_end: bool = False) -> LeaveCount:
    """Count the working days from `first` to `last` on a calendar; a half day at either end counts 0.5."""
    if last < first:
        raise _refuse(f"end_date: the last day {last} is before the first day {first}", "end_date")
    if (last - first).days >= MAX_LEAVE_DAYS:
        raise _refuse(f"end_date: a request covers at most {MAX_LEAVE_DAYS} days", "end_date")
    if first == last and afternoon_start and morning_end:
        raise _refuse("end_part: a leave that starts in the afternoon cannot end in the morning of the same day",
                      "end_part")
    years: dict[int, float] = {}
    day_hours = _day_hours(calendar)
    day = first
    while day <= last:
        if workcal.is_working_day(calendar, day):
            share = 1.0
            if day == first and afternoon_start:
                share -= 0.5
            if day == last and morning_end:
                share -= 0.5
            years[day.year] = years.get(day.year, 0.0) + share
        day += timedelta(days=1)
    days = sum(years.values())
    return LeaveCount(days=days, hours=round(days * day_hours, 2), years={y: d for y, d in years.items() if d})


def day_type(calendar: workcal.WorkingCalendar, day: date) -> tuple[str, str]:
    """Say how the calendar treats a day for overtime: workday, rest_day or holiday, with the exception's name."""
    exception = calendar.exceptions.get(day)
    if exception is not None and exception[0] == "holiday":
        return "holiday", exception[1]
    if workcal.is_working_day(calendar, day):
        return "workday", exception[1] if exception else ""
    return "rest_day", ""


def hours_outside_work(calendar: workcal.WorkingCalendar, start: datetime, end: datetime) -> float:
    """Return the hours of [start, end) that fall outside the calendar's working periods."""
    total = (end - start).total_seconds()
    inside = 0.0
    day = start.astimezone(calendar.zone).date() - timedelta(days=1)
    while day <= end.astimezone(calendar.zone).date():
        if workcal.is_working_day(calendar, day):
            midnight = datetime.combine(day, datetime.min.time(), tzinfo=calendar.zone)
            for a, b in calendar.periods:
                lo, hi = max(start, midnight + timedelta(minutes=a)), min(end, midnight + timedelta(minutes=b))
                inside += max(0.0, (hi - lo).total_seconds())
        day += timedelta(days=1)
    return round((total - inside) / 3600, 2)


def _text(params: dict, name: str, *, required: bool = True) -> str | None:
    value = params.get(name)
    if value in (None, "") and not required:
        return None
    if not isinstance(value, str) or not value:
        raise ServiceError(f"the '{name}' parameter must be text, not {value!r}")
    return value


def _number(value) -> Decimal:
    return Decimal(str(value or 0))


def in_use(session: Session, type_key: str) -> bool:
    """Tell whether a record type is installed and switched on (a company may keep no balances here)."""
    key = ("flowdesk.type_in_use", type_key)
    if key not in session.info:
        session.info[key] = bool(session.scalar(select(RecordType.active).where(RecordType.key == type_key)))
    return session.info[key]


def balance_of(session: Session, employee: str, year: int, leave_type: str):
    """Return the employee's balance record for a year and leave type, or None; two of them is an error."""
    if not in_use(session, BALANCE):
        return None
    _, page = list_records(session=session, type_key=BALANCE, actor=_process_actor(_command().actor),
                           filters=[Filter("employee", "eq", employee), Filter("year", "eq", year),
                                    Filter("leave_type", "eq", leave_type)], page_size=2)
    if page.total > 1:
        raise _refuse(f"leave_type: {employee} has {page.total} {leave_type} balances for {year}; HR must keep one",
                      "leave_type")
    return page.items[0] if page.items else None


def reserved_days(session: Session, employee: str, leave_type: str, year: int, *, besides: int | None) -> float:
    """Return the days the employee asked for in requests still awaiting approval (not counting `besides`)."""
    # Only each request's reservation leaves the database, not the whole of its data.
    rows = session.execute(select(ProcessInstance.id, ProcessInstance.data[RESERVATION])
                           .where(ProcessInstance.initiator == employee, ProcessInstance.status.in_(LIVE)))
    total = 0.0
    for instance_id, reservation in rows:
        held = reservation if instance_id != besides else None
        if isinstance(held, dict) and held.get("employee") == employee and held.get("leave_type") == leave_type:
            total += float((held.get("years") or {}).get(str(year), 0) or 0)
    return total


def _display(session: Session, username: str) -> str:
    return session.scalar(select(User.display_name).where(User.username == username)) or username


@OPERATIONS.register("leave.assess")
def assess_leave(*, params: dict, data: dict) -> dict:
    """Count a leave's working days on the employee's calendar and check them against the leave balance."""
    command = _command()
    session = command.session
    employee, leave_type = _text(params, "employee"), _text(params, "leave_type")
    first, last = _day(params.get("start"), "start_date"), _day(params.get("end"), "end_date")
    limited = params.get("limited") or []
    if not isinstance(limited, list):
        raise ServiceError("the 'limited' parameter must list the leave types that need a balance")
    calendar = calendar_for_user(session=session, username=employee, since=first)
    count = count_leave(calendar, first, last, afternoon_start=data.get("start_part") == "pm",
                        morning_end=data.get("end_part") == "am")
    if count.days <= 0:
        raise _refuse(f"end_date: {first} to {last} holds no working day on the business calendar", "end_date",
                      "no_working_day", first=first.isoformat(), last=last.isoformat())
    for year, days in sorted(count.years.items()):
        balance = balance_of(session, employee, year, leave_type)
        if balance is None:
            if leave_type in limited and in_use(session, BALANCE):
                raise _refuse(f"leave_type: no {leave_type} leave balance for {year}; HR sets the entitlement "
                              "before this leave can be asked for", "leave_type", "no_balance",
                              leave_type=leave_type, year=year)
            continue
        entitled, used = float(balance.data.get("entitled_days") or 0), float(balance.data.get("used_days") or 0)
        reserved = reserved_days(session, employee, leave_type, year, besides=command.instance_id)
        left = entitled - used - reserved
        if days > left + 1e-9:
            raise _refuse(f"end_date: {days:g} working days of {leave_type} leave in {year}, but only {left:g} are "
                          f"left ({entitled:g} entitled, {used:g} used, {reserved:g} in requests awaiting approval)",
                          "end_date", "balance_short", leave_type=leave_type, year=year, days=days, left=left,
                          entitled=entitled, used=used, reserved=reserved)
    return {str(params.get("result") or "days"): count.days, "leave_hours": count.hours,
            RESERVATION: {"employee": employee, "leave_type": leave_type,
                          "years": {str(y): d for y, d in count.years.items()}}}


@OPERATIONS.register("overtime.assess")
def assess_overtime(*, params: dict, data: dict) -> dict:
    """Check an overtime request's day type against the calendar and its hours against time outside work."""
    command = _command()
    employee = _text(params, "employee")
    day = _day(params.get("date"), "overtime_date")
    calendar = calendar_for_user(session=command.session, username=employee, since=day)
    start, end = _moment(params.get("start"), "start_at", calendar), _moment(params.get("end"), "end_at", calendar)
    if end <= start:
        raise _refuse("end_at: the overtime must end after it starts", "end_at")
    if start.astimezone(calendar.zone).date() != day:
        raise _refuse(f"start_at: the overtime starts on {start.date()}, not on the overtime date {day}", "start_at")
    kind, name = day_type(calendar, day)
    asked = params.get("day_type")
    if asked != kind:
        named = f" ({name})" if name else ""
        raise _refuse(f"day_type: the business calendar has {day} as a {kind.replace('_', ' ')}{named}, not a "
                      f"{str(asked).replace('_', ' ')}", "day_type")
    outside = hours_outside_work(calendar, start, end)
    hours = float(params.get("hours") or 0)
    if hours > outside + 1e-9:
        raise _refuse(f"overtime_hours: {hours:g} hours asked, but only {outside:g} hours from {start:%H:%M} to "
                      f"{end:%H:%M} lie outside working hours", "overtime_hours")
    return {"overtime_hours_outside_work": outside}


def _add_used(session: Session, actor, balance, days: float, instance_id) -> None:
    from .records import update_record

    used = (_number(balance.data.get("used_days")) + Decimal(str(days))).quantize(Decimal("0.01"), ROUND_HALF_UP)
    update_record(session=session, record_id=balance.id, data={"used_days": float(used)}, actor=actor,
                  lock_version=None, instance_id=instance_id)


def _credit_time_off(session: Session, actor, employee: str, year: int, days: float, instance_id, owner: str):
    from .records import create_record, update_record

    balance = balance_of(session, employee, year, "comp_time")
    if balance is None:
        create_record(session=session, type_key=BALANCE, actor=actor, owner=owner, instance_id=instance_id, data={
            "title": f"{_display(session, employee)} · {year} · 调休 Time off in lieu", "employee": employee,
            "year": year, "leave_type": "comp_time", "entitled_days": days, "used_days": 0,
            "notes": "Credited from approved overtime / 由加班审批累计"})
        return
    entitled = (_number(balance.data.get("entitled_days")) + Decimal(str(days))).quantize(Decimal("0.01"))
    update_record(session=session, record_id=balance.id, data={"entitled_days": float(entitled)}, actor=actor,
                  lock_version=None, instance_id=instance_id)


@OPERATIONS.register("attendance.record")
def record_attendance(*, params: dict, data: dict) -> dict:
    """Write approved leave, overtime or a trip as an attendance record; count leave, credit time off in lieu."""
    from .records import create_record

    command = _command()
    session = command.session
    kind = params.get("kind")
    if kind not in KINDS:
        raise ServiceError(f"the 'kind' parameter must be one of {', '.join(KINDS)}, not {kind!r}")
    employee = _text(params, "employee")
    first, last = _day(params.get("start"), "start"), _day(params.get("end"), "end")
    leave_type = _text(params, "leave_type", required=kind == "leave")
    actor = _process_actor(command.actor)
    calendar = calendar_for_user(session=session, username=employee, since=first)
    days, hours = params.get("days"), params.get("hours")
    if days is None and kind != "overtime":
        days = count_leave(calendar, first, last).days
    fields = {"title": f"{_display(session, employee)} · {KIND_WORDS[kind]} · {first}"
                       + (f"—{last}" if last != first else ""),
              "employee": employee, "kind": kind, "start_date": first.isoformat(), "end_date": last.isoformat(),
              **({"days": float(days)} if days is not None else {}),
              **({"hours": float(hours)} if hours is not None else {}),
              **({"leave_type": leave_type} if leave_type else {}),
              **({"compensation": params["compensation"]} if params.get("compensation") else {}),
              **({"notes": str(params["notes"])[:2000]} if params.get("notes") else {})}
    if not in_use(session, ATTENDANCE):
        return {RESERVATION: None}
    try:
        record = create_record(session=session, type_key=ATTENDANCE, data=fields, actor=actor,
                               owner=command.actor.username, instance_id=command.instance_id)
        if kind == "leave":
            held = (data.get(RESERVATION) or {}).get("years") or {str(first.year): float(days or 0)}
            for year, share in sorted(held.items()):
                balance = balance_of(session, employee, int(year), leave_type)
                if balance is not None:
                    _add_used(session, actor, balance, float(share), command.instance_id)
        if kind == "overtime" and params.get("compensation") == "time_off" and hours and in_use(session, BALANCE):
            credit = round(float(hours) / (_day_hours(calendar) or 8), 2)
            _credit_time_off(session, actor, employee, first.year, credit, command.instance_id,
                             command.actor.username)
    except (RecordError, FormError) as exc:
        raise ServiceError(f"cannot write the attendance record: {_explain(exc)}") from None
    return {str(params.get("result") or "attendance_id"): int(record.id), RESERVATION: None}


def _own(session: Session, type_key: str, employee: str):
    return (select(Record).join(RecordType, RecordType.id == Record.type_id)
            .where(RecordType.key == type_key, Record.deleted_at.is_(None),
                   Record.data["employee"].as_string() == employee))


def my_balances(*, session: Session, employee: str, year: int) -> list[dict]:
    """Return an employee's balances of a year: entitled, used, awaiting approval and left days per leave type."""
    if not in_use(session, BALANCE):
        return []
    rows = session.scalars(_own(session, BALANCE, employee).where(Record.data["year"].as_integer() == year))
    out = []
    for record in rows:
        kind = record.data.get("leave_type")
        entitled, used = float(record.data.get("entitled_days") or 0), float(record.data.get("used_days") or 0)
        waiting = reserved_days(session, employee, kind, year, besides=None)
        out.append({"id": record.id, "leave_type": kind, "entitled": entitled, "used": used, "waiting": waiting,
                    "left": round(entitled - used - waiting, 2)})
    return sorted(out, key=lambda row: row["leave_type"] or "")


def my_attendance(*, session: Session, employee: str, since: date, limit: int = 200) -> list[Record]:
    """Return an employee's attendance records (leave, overtime, trips) from a day on, newest first."""
    if not in_use(session, ATTENDANCE):
        return []
    query = _own(session, ATTENDANCE, employee).where(Record.data["end_date"].as_string() >= since.isoformat())
    return list(session.scalars(query.order_by(Record.data["start_date"].as_string().desc()).limit(limit)))

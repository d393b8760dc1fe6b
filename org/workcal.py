"""Working time on business calendars: the rule that counts due dates in working days and working hours.

The working-time rule (docs/modelling.md, "Due dates in working time"):
  * a working day is a make-up workday (调休), or a day of a working weekday that is not a holiday;
  * working time is the half-open periods [start, end) of working days, wall-clock in the calendar's zone;
  * `Y`, `M` and `W` first move the calendar date (a week is seven days), keeping the wall-clock time;
  * then the start moves to the next working moment (12:30 -> 13:00, Saturday 10:00 -> Monday 09:00);
  * `nD` then moves to the same wall-clock time n working days later;
  * `TnH`, `TnM`, `TnS` then add that much time inside working periods; a duration that uses up a period
    exactly ends at the period's end (18:00), not at the next period's start.
Working hours are real elapsed time (an hour across a daylight-saving change is an hour); working days keep
the wall-clock time.

This module also checks calendar input (durations, zones, weekdays, periods, dates, exception kinds). Stored
calendars and the calendar a department works by are in org.workcal_store; the CSV import of exceptions is in
org.workcal_import.
"""
from __future__ import annotations

import calendar as _months
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from .errors import Invalid
from .workcal_models import EXCEPTION_KINDS

MAX_WORKING_DAYS = 750  # about three years of working days
MAX_WORKING_HOURS = 6_000  # about three years of eight-hour days
MAX_MONTHS = 36
MAX_WEEKS = 156
MAX_SCAN_DAYS = 366  # a calendar without a working day for a year cannot answer
MAX_SPAN_DAYS = 3_660  # no search walks more calendar days than this
MAX_RANGE_DAYS = 366
MAX_PERIODS = 6
MAX_NAME = 100
KIND_WORDS = {"holiday": "holiday", "假日": "holiday", "节假日": "holiday", "休": "holiday", "休息": "holiday",
              "放假": "holiday", "workday": "workday", "makeup": "workday", "make-up": "workday", "班": "workday",
              "上班": "workday", "补班": "workday", "调休": "workday", "调休上班": "workday", "工作日": "workday"}
_DURATION = re.compile(r"P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
                       r"(?:T(?=\d)(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_PERIOD_SPLIT = re.compile(r"[,;，；、\s]+")
_DASH = re.compile(r"\s*(?:-|–|—|~|～|至|到)\s*")


@dataclass(frozen=True)
class Duration:
    """An ISO-8601 duration split the way working time counts it."""

    months: int = 0
    weeks: int = 0
    days: int = 0
    time: timedelta = timedelta(0)


@dataclass(frozen=True, eq=False)
class WorkingCalendar:
    """A calendar ready to count with: zone, ISO working weekdays, periods in minutes, exceptions by date."""

    zone: ZoneInfo
    weekdays: frozenset[int]
    periods: tuple[tuple[int, int], ...]
    # day -> (kind, name, source): source is the department code whose calendar holds it, "" for the organisation.
    exceptions: Mapping[date, tuple[str, str, str]] = field(default_factory=dict)
    source: str = ""


# ------------------------------------------------------------------------------------------ checks
def _invalid(field_name: str, reason: str, message: str, **params) -> Invalid:
    return Invalid(message, details={"field": field_name, "reason": reason, **params})


def parse_duration(text) -> Duration:
    """Read an ISO-8601 duration (P2D, PT4H, P1DT2H30M, P1W) within the limits; raise Invalid naming it."""
    return _parse_duration(str(text or ""))


@lru_cache(maxsize=256)
def _parse_duration(text: str) -> Duration:
    # Every new task's due date reads its model's few durations again: remembered, as Durations cannot change.
    raw = text.strip().upper()
    match = _DURATION.fullmatch(raw) if len(raw) <= 40 else None
    if match is None:
        raise _invalid("duration", "not_iso", f"duration {str(text)[:40]!r} is not an ISO-8601 duration such as "
                       "P2D or PT4H", value=str(text)[:40])
    years, months, weeks, days = (int(g or 0) for g in match.groups()[:4])
    hours, minutes, seconds = (float((g or "0").replace(",", ".")) for g in match.groups()[4:])
    total_hours = hours + minutes / 60 + seconds / 3600
    if (12 * years + months > MAX_MONTHS or weeks > MAX_WEEKS or days > MAX_WORKING_DAYS
            or total_hours > MAX_WORKING_HOURS):
        raise _invalid("duration", "too_long", f"duration {raw} is too long: at most {MAX_WORKING_DAYS} working "
                       f"days, {MAX_WORKING_HOURS} working hours or {MAX_MONTHS} months", value=raw)
    return Duration(months=12 * years + months, weeks=weeks, days=days, time=timedelta(hours=total_hours))


def check_zone(name) -> str:
    """Return a time zone name zoneinfo knows (Asia/Shanghai); raise Invalid on the zone field."""
    value = str(name or "").strip()
    if value not in zone_names():
        raise _invalid("zone", "unknown_zone", f"zone: {value[:64]!r} is not a time zone such as Asia/Shanghai",
                       value=value[:64])
    return value


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """Return the names of the time zones zoneinfo knows (IANA names such as Asia/Shanghai)."""
    return frozenset(name for name in available_timezones() if len(name) <= 64)


def check_weekdays(values: Iterable) -> str:
    """Return ISO working weekdays as a string such as "12345"; at least one is required."""
    days: set[int] = set()
    for value in values or ():
        text = str(value).strip()
        if not text.isdigit() or not 1 <= int(text) <= 7:
            raise _invalid("weekdays", "bad_weekday", f"weekdays: {text[:10]!r} is not 1 (Monday) to 7 (Sunday)")
        days.add(int(text))
    if not days:
        raise _invalid("weekdays", "no_weekday", "weekdays: a calendar needs at least one working weekday")
    return "".join(str(d) for d in sorted(days))


def _clock(text: str, *, end: bool) -> int:
    match = _CLOCK.match(text)
    minutes = int(match.group(1)) * 60 + int(match.group(2)) if match else -1
    if not match or int(match.group(2)) > 59 or not 0 <= minutes <= (1440 if end else 1439):
        raise ValueError(text)
    return minutes


def check_periods(value) -> list[list[str]]:
    """Return working periods as [["09:00", "12:00"], ...] from text ("09:00-12:00, 13:00-18:00") or pairs."""
    parts = [p for p in _PERIOD_SPLIT.split(_DASH.sub("-", value.strip())) if p] if isinstance(value, str) \
        else ["-".join(str(x) for x in p) if isinstance(p, list | tuple) else str(p) for p in value or ()]
    spans: list[tuple[int, int]] = []
    for part in parts:
        try:
            start, end = part.split("-")
            span = (_clock(start.strip(), end=False), _clock(end.strip(), end=True))
        except ValueError:
            raise _invalid("periods", "bad_period", f"periods: {part[:20]!r} is not a period such as 09:00-12:00",
                           value=part[:20]) from None
        if span[0] >= span[1]:
            raise _invalid("periods", "bad_period", f"periods: {part[:20]!r} ends before it starts", value=part[:20])
        spans.append(span)
    if not spans:
        raise _invalid("periods", "no_period", "periods: a calendar needs at least one working period")
    if len(spans) > MAX_PERIODS:
        raise _invalid("periods", "too_many", f"periods: at most {MAX_PERIODS} periods a day", limit=MAX_PERIODS)
    spans.sort()
    for (_a, b), (c, _d) in zip(spans, spans[1:], strict=False):
        if c < b:
            raise _invalid("periods", "overlap", "periods: working periods must not overlap")
    return [[f"{a // 60:02d}:{a % 60:02d}", f"{b // 60:02d}:{b % 60:02d}"] for a, b in spans]


def check_date(value, field_name: str) -> date:
    """Return a date from a date or text such as 2026-10-01 (or 2026/10/1); raise Invalid naming the field."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = str(value or "").strip().replace("/", "-")
    try:
        year, month, day = (int(p) for p in text.split("-"))
        return date(year, month, day)
    except (ValueError, TypeError):
        raise _invalid(field_name, "bad_date", f"{field_name}: {text[:20]!r} is not a date such as 2026-10-01",
                       value=text[:20]) from None


def check_kind(value) -> str:
    """Return "holiday" or "workday" (make-up workday, 调休); Chinese words such as 补班 are understood."""
    kind = KIND_WORDS.get(str(value or "").strip().lower())
    if kind not in EXCEPTION_KINDS:
        raise _invalid("kind", "bad_kind", f"kind: {str(value)[:20]!r} is not holiday or workday",
                       value=str(value)[:20])
    return kind


def _check_exception(first, last, kind, name, weekdays: str) -> tuple[list[date], str, str]:
    start = check_date(first, "first")
    end = check_date(last, "last") if last not in (None, "") else start
    if end < start:
        raise _invalid("last", "before_first", "last: the range ends before it starts")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise _invalid("last", "range_too_long", f"last: a range has at most {MAX_RANGE_DAYS} days",
                       limit=MAX_RANGE_DAYS)
    kind = check_kind(kind)
    name = str(name or "").strip()
    if len(name) > MAX_NAME:
        raise _invalid("name", "name_too_long", f"name: at most {MAX_NAME} characters", limit=MAX_NAME)
    if kind == "holiday" and not name:
        raise _invalid("name", "name_required", "name: a holiday needs a name, such as 国庆节")
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    regular = next((d for d in days if str(d.isoweekday()) in weekdays), None)
    if kind == "workday" and regular is not None:
        raise _invalid("first", "already_working", f"{regular} is a working weekday already: a make-up workday "
                       "is a day off that is worked", value=regular.isoformat())
    return days, kind, name


# ------------------------------------------------------------------------------------- working time
def _utc(moment: datetime) -> datetime:
    if not isinstance(moment, datetime):
        raise _invalid("start", "bad_start", "start must be a date and time")
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def is_working_day(calendar: WorkingCalendar, day: date) -> bool:
    """Tell whether a day is worked: a make-up workday, or a working weekday that is not a holiday."""
    exception = calendar.exceptions.get(day)
    if exception is not None:
        return exception[0] == "workday"
    return day.isoweekday() in calendar.weekdays


@lru_cache(maxsize=512)
def _periods(calendar: WorkingCalendar, day: date) -> tuple[tuple[datetime, datetime], ...]:
    # Kept per calendar object and day (calendars are cached per organisation revision): due dates ask for the
    # same few days again and again, and turning local hours into instants is the costly part.
    # Wall-clock arithmetic on an aware datetime keeps the zone's local time; UTC gives the real instants.
    midnight = datetime.combine(day, time(0), tzinfo=calendar.zone)
    spans = [((midnight + timedelta(minutes=a)).astimezone(timezone.utc),
              (midnight + timedelta(minutes=b)).astimezone(timezone.utc)) for a, b in calendar.periods]
    return tuple((a, b) for a, b in spans if b > a)


def _no_time(day: date) -> Invalid:
    return _invalid("calendar", "no_working_time", f"the calendar has no working day within {MAX_SCAN_DAYS} "
                    f"days after {day}", after=day.isoformat())


def next_working_moment(calendar: WorkingCalendar, moment: datetime) -> datetime:
    """Return the moment itself when it is working time, else the start of the next working period."""
    moment = _utc(moment)
    first = moment.astimezone(calendar.zone).date() - timedelta(days=1)
    for offset in range(MAX_SCAN_DAYS + 2):
        day = first + timedelta(days=offset)
        if is_working_day(calendar, day):
            for start, end in _periods(calendar, day):
                if moment < end:
                    return max(start, moment).astimezone(calendar.zone)
    raise _no_time(first)


def next_working_day(calendar: WorkingCalendar, day: date) -> date:
    """Return the first working day after a day."""
    for offset in range(1, MAX_SCAN_DAYS + 1):
        if is_working_day(calendar, day + timedelta(days=offset)):
            return day + timedelta(days=offset)
    raise _no_time(day)


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month + 1, min(day.day, _months.monthrange(year, month + 1)[1]))


def _add_time(calendar: WorkingCalendar, moment: datetime, amount: timedelta) -> datetime:
    cursor = _utc(moment)
    day = cursor.astimezone(calendar.zone).date() - timedelta(days=1)
    for _ in range(MAX_SPAN_DAYS):
        if is_working_day(calendar, day):
            for start, end in _periods(calendar, day):
                if end <= cursor:
                    continue
                begin = max(start, cursor)
                if amount <= end - begin:
                    return begin + amount
                amount -= end - begin
                cursor = end
        day += timedelta(days=1)
    raise _invalid("duration", "too_long", f"the due date is more than {MAX_SPAN_DAYS} days away in this calendar")


def add_working_time(calendar: WorkingCalendar, start: datetime, duration: str | Duration) -> datetime:
    """Return start plus an ISO duration counted in working time (the module's rule), in the calendar's zone."""
    spec = duration if isinstance(duration, Duration) else parse_duration(duration)
    moment = _utc(start)
    if spec.months or spec.weeks:
        local = moment.astimezone(calendar.zone)
        day = _add_months(local.date(), spec.months) + timedelta(weeks=spec.weeks)
        moment = datetime.combine(day, local.time(), tzinfo=calendar.zone)
    moment = next_working_moment(calendar, moment)
    if spec.days:
        day = moment.date()
        for _ in range(spec.days):
            day = next_working_day(calendar, day)
        moment = next_working_moment(calendar, datetime.combine(day, moment.time(), tzinfo=calendar.zone))
    if spec.time > timedelta(0):
        moment = _add_time(calendar, moment, spec.time)
    return moment.astimezone(calendar.zone)


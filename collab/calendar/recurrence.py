"""Repeating events: a checked repeat choice becomes an RFC 5545 RRULE, expanded in the event's wall-clock zone.

Occurrences are computed with dateutil's rrule on local times and only then turned into UTC, so a
weekly 09:00 meeting stays at 09:00 when daylight-saving time begins or ends. Nothing is copied:
a series is one row, and each query expands the part of it that falls inside the range it asks for.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr

from ..errors import InvalidInput

FIRST_YEAR, LAST_YEAR = 1900, 2200  # the calendar's years; near date's own ends a day's arithmetic overflows

FREQUENCIES = ("daily", "weekly", "monthly", "yearly")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MAX_COUNT = 500
MAX_INTERVAL = 99
MAX_SPAN = timedelta(days=366 * 10)
# A query never expands more than this many occurrences of one series; ranges are at most a few months.
MAX_EXPANDED = 2000
UTC = timezone.utc


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of an event: when it starts and ends (UTC) and its key inside the series."""

    starts_at: datetime
    ends_at: datetime
    key: str

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Tell whether the occurrence shares any time with [start, end)."""
        return self.starts_at < end and self.ends_at > start


def zone_of(name: str) -> ZoneInfo:
    """Return a time zone by name or raise InvalidInput naming the timezone field."""
    try:
        if len(name) > 64:
            raise ValueError(name)
        return ZoneInfo(name)
    # OSError: a folder of the zone database ('America') or a name too long for a file name
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise InvalidInput(f"unknown time zone {str(name)[:64]}", details={"field": "timezone"}) from None


def build_rule(repeat, *, starts_at: datetime, zone: ZoneInfo) -> str | None:
    """Turn a repeat choice {freq, interval, weekdays, monthday, count, until} into an RRULE, or None."""
    if repeat in (None, "", {}):
        return None
    if not isinstance(repeat, dict):
        raise InvalidInput("repeat must be an object with freq", details={"field": "repeat"})
    unknown = set(repeat) - {"freq", "interval", "weekdays", "monthday", "count", "until"}
    if unknown:
        raise InvalidInput(f"repeat has an unknown part {sorted(unknown)[0]}", details={"field": "repeat"})
    freq = repeat.get("freq")
    if freq in (None, "", "none"):
        return None
    if freq not in FREQUENCIES:
        raise InvalidInput(f"repeat.freq must be one of {', '.join(FREQUENCIES)}", details={"field": "repeat.freq"})
    parts = [f"FREQ={freq.upper()}"]
    interval = repeat.get("interval", 1)
    if isinstance(interval, str) and interval.strip().isdigit() and len(interval.strip()) <= 9:
        interval = int(interval)
    if not isinstance(interval, int) or isinstance(interval, bool) or not 1 <= interval <= MAX_INTERVAL:
        raise InvalidInput(f"repeat.interval must be a whole number from 1 to {MAX_INTERVAL}",
                           details={"field": "repeat.interval"})
    if interval > 1:
        parts.append(f"INTERVAL={interval}")
    weekdays = repeat.get("weekdays") or []
    if weekdays:
        if freq != "weekly":
            raise InvalidInput("repeat.weekdays only goes with a weekly repeat", details={"field": "repeat.weekdays"})
        if not isinstance(weekdays, list) or any(d not in WEEKDAYS for d in weekdays):
            raise InvalidInput(f"repeat.weekdays must be a list of {', '.join(WEEKDAYS)}",
                               details={"field": "repeat.weekdays"})
        parts.append("BYDAY=" + ",".join(d for d in WEEKDAYS if d in weekdays))
    monthday = repeat.get("monthday") or "same"
    if monthday not in ("same", "last"):
        raise InvalidInput("repeat.monthday must be same or last", details={"field": "repeat.monthday"})
    if monthday == "last":
        if freq != "monthly":
            raise InvalidInput("the last day of the month only goes with a monthly repeat",
                               details={"field": "repeat.monthday"})
        parts.append("BYMONTHDAY=-1")
    count, until = repeat.get("count"), repeat.get("until")
    if isinstance(count, str) and count.strip():
        count = int(count) if count.strip().isdigit() and len(count.strip()) <= 9 else count
    if count in ("", None):
        count = None
    if until in ("", None):
        until = None
    if count is not None and until is not None:
        raise InvalidInput("a repeat ends after a number of times or on a date, not both",
                           details={"field": "repeat.until"})
    if count is not None:
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_COUNT:
            raise InvalidInput(f"repeat.count must be a whole number from 1 to {MAX_COUNT}",
                               details={"field": "repeat.count"})
        parts.append(f"COUNT={count}")
    if until is not None:
        try:
            last_day = until if isinstance(until, date) and not isinstance(until, datetime) \
                else date.fromisoformat(str(until))
        except ValueError:
            raise InvalidInput("repeat.until must be a date like 2026-12-31", details={"field": "repeat.until"}) \
                from None
        if last_day.year > LAST_YEAR:
            raise InvalidInput("repeat.until is too far ahead", details={"field": "repeat.until"})
        if last_day < starts_at.astimezone(zone).date():
            raise InvalidInput("repeat.until is before the first occurrence", details={"field": "repeat.until"})
        if last_day - starts_at.astimezone(zone).date() > MAX_SPAN:
            raise InvalidInput("a repeat may last at most ten years", details={"field": "repeat.until"})
        # Local and without a zone: the series ends at the end of that day where the event happens.
        parts.append(f"UNTIL={last_day:%Y%m%d}T235959")
    return ";".join(parts)


def describe(rule: str | None) -> dict:
    """Turn a stored RRULE back into the repeat choice the forms show."""
    if not rule:
        return {}
    parts = dict(p.split("=", 1) for p in rule.split(";") if "=" in p)
    out: dict = {"freq": parts.get("FREQ", "").lower(), "interval": int(parts.get("INTERVAL", "1"))}
    if "BYDAY" in parts:
        out["weekdays"] = parts["BYDAY"].split(",")
    out["monthday"] = "last" if parts.get("BYMONTHDAY") == "-1" else "same"
    if "COUNT" in parts:
        out["count"] = int(parts["COUNT"])
    if "UNTIL" in parts:
        out["until"] = datetime.strptime(parts["UNTIL"][:8], "%Y%m%d").date().isoformat()
    return out


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def _utc(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(UTC)


def _end_of(series, start_local: datetime, start_utc: datetime, zone: ZoneInfo) -> datetime:
    if series.all_day:
        # An all-day event covers whole local days, however long those days are.
        days = (_local(series.ends_at, zone).date() - _local(series.starts_at, zone).date()).days
        return _utc(datetime.combine(start_local.date() + timedelta(days=max(days, 1)), time()), zone)
    return start_utc + (series.ends_at - series.starts_at)


def occurrences(series, start: datetime, end: datetime, limit: int = MAX_EXPANDED) -> list[Occurrence]:
    """Return the occurrences of an event (or unsaved series) that overlap [start, end), in order."""
    zone = zone_of(series.timezone)
    first_local = _local(series.starts_at, zone)
    if not series.rrule:
        single = Occurrence(series.starts_at, series.ends_at, first_local.isoformat())
        return [single] if single.overlaps(start, end) else []
    rule = rrulestr(series.rrule, dtstart=first_local)
    skipped = set(series.exdates or ())
    # Widen by the event's length and a day either side: offsets change by at most a few hours.
    low = _local(start, zone) - (series.ends_at - series.starts_at) - timedelta(days=1)
    high = _local(end, zone) + timedelta(days=1)
    out: list[Occurrence] = []
    for local in rule.xafter(max(low, first_local), count=limit, inc=True):
        if local > high:
            break
        key = local.isoformat()
        if key in skipped:
            continue
        begins = _utc(local, zone)
        occurrence = Occurrence(begins, _end_of(series, local, begins, zone), key)
        if occurrence.overlaps(start, end):
            out.append(occurrence)
    return out


def last_end(series) -> datetime | None:
    """Return when the last occurrence of a series ends, or None when it repeats without end."""
    if not series.rrule:
        return series.ends_at
    if "COUNT=" not in series.rrule and "UNTIL=" not in series.rrule:
        return None
    zone = zone_of(series.timezone)
    rule = rrulestr(series.rrule, dtstart=_local(series.starts_at, zone))
    # Bounded: COUNT is at most MAX_COUNT and UNTIL at most ten years away.
    every = list(rule)
    last = every[-1] if every else None
    if last is None:
        return series.ends_at
    begins = _utc(last, zone)
    return _end_of(series, last, begins, zone)


def occurrence_key(series, key: str) -> datetime:
    """Return the UTC start of the occurrence with a key, or raise InvalidInput when there is none."""
    try:
        local = datetime.fromisoformat(key)
        if not FIRST_YEAR <= local.year <= LAST_YEAR:
            raise ValueError(key)
    except (TypeError, ValueError):
        raise InvalidInput("occurrence must be a local start time like 2026-12-01T09:00:00",
                           details={"field": "occurrence"}) from None
    zone = zone_of(series.timezone)
    begins = _utc(local, zone)
    found = occurrences(series, begins, begins + timedelta(seconds=1), limit=MAX_EXPANDED)
    if not any(o.key == local.isoformat() for o in found):
        raise InvalidInput(f"the event has no occurrence at {key}", details={"field": "occurrence"})
    return begins

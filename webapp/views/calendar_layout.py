"""How the calendar pages lay out and word what they show: grids, spans, titles and the event form's values.

Nothing here handles a request or opens a session: these helpers turn entries, events and typed values into
what the templates draw, so the views in calendar.py stay about reading, saving and answering.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_skeleton, get_day_names
from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from collab.calendar import agenda, recurrence
from collab.calendar.models import CalendarEvent
from collab.wording import in_language

FIRST_HOUR, LAST_HOUR = 7, 22  # the time grid always shows 07:00-22:00, and stretches for earlier or later entries
SHORTEST = 30  # minutes: a shorter block (or a due time) is drawn this tall so its title stays readable
MONTH_CELL = 3
AGENDA_DAYS = 28
TEXT = ("title", "kind", "start_date", "start_time", "end_date", "end_time", "timezone", "location", "description",
        "repeat", "interval", "monthday", "ends", "count", "until", "project", "record_id")


def locale() -> str:
    """Return the page's language code, English when none was chosen."""
    return str(get_locale() or "en")


def weekday_names() -> list[tuple[str, str]]:
    """Return the weekday codes of a repeat rule with their short names in the page's language."""
    names = get_day_names("abbreviated", locale=locale())
    return [(code, names[n]) for n, code in enumerate(recurrence.WEEKDAYS)]


@dataclass
class Shown:
    """One entry as a page draws it: local times in the viewer's zone, words, link and style."""

    entry: agenda.Entry
    title: str
    start: datetime
    end: datetime
    first: date
    last: date
    href: str
    css: str
    who: str
    declined: bool
    pending: bool


def shown(entries, zone: ZoneInfo, names: dict, several: bool) -> list[Shown]:
    """Turn agenda entries into what the pages draw, in the viewer's zone; several names who takes part."""
    out = []
    for e in entries:
        start, end = e.starts_at.astimezone(zone), e.ends_at.astimezone(zone)
        # Whole days belong to the zone they were planned in, so a day off stays one day wherever it is read.
        own = ZoneInfo(e.timezone) if e.all_day and e.timezone else zone
        first = e.starts_at.astimezone(own).date()
        last = (e.ends_at.astimezone(own) - timedelta(microseconds=1)).date() if e.ends_at > e.starts_at else first
        if e.busy_only:
            words, href, css = _("Busy"), "", "fd-cal-busy"
        elif e.source == "event":
            words, css = e.title, f"fd-cal-{e.kind or 'other'}"
            href = url_for("calendar.event", event_id=e.event_id, occurrence=e.occurrence if e.repeating else None)
        else:
            words, href, css = in_language(e.title, locale()), e.link, f"fd-cal-{e.source}"
        who = ""
        if several:
            who = ", ".join(names.get(p, p) for p in e.people[:3]) + (f" +{len(e.people) - 3}" if len(e.people) > 3
                                                                       else "")
        declined = e.response == "declined" or bool(e.people) and set(e.people) <= set(e.extra.get("declined", []))
        out.append(Shown(e, words, start, end, first, max(first, last), href, css, who, declined,
                         e.response == "pending"))
    return out


def span(view: str, day: date) -> tuple[date, date, date, date]:
    """Return the first and the day after the last day a view shows, and where previous and next go."""
    if view == "day":
        return day, day + timedelta(days=1), day - timedelta(days=1), day + timedelta(days=1)
    if view == "week":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=7), day - timedelta(days=7), day + timedelta(days=7)
    if view == "agenda":
        return day, day + timedelta(days=AGENDA_DAYS), day - timedelta(days=AGENDA_DAYS), \
            day + timedelta(days=AGENDA_DAYS)
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    start = first - timedelta(days=first.weekday())
    end = following + timedelta(days=(7 - following.weekday()) % 7)
    return start, end, (first - timedelta(days=1)).replace(day=1), following


def on(item: Shown, day: date) -> bool:
    """Tell whether an entry touches a day."""
    return item.first <= day <= item.last


def ordered(items) -> list[Shown]:
    """Sort entries as a day lists them: whole days first, then by start and title."""
    return sorted(items, key=lambda i: (not i.entry.all_day, i.first, i.start, i.title))


def lay_out(blocks: list[dict]) -> None:
    """Put blocks that overlap side by side: each cluster of overlapping blocks shares the column width."""
    blocks.sort(key=lambda b: (b["a"], -b["b"]))
    cluster, ends, reach = [], [], -1.0
    for block in blocks + [None]:
        if block is None or (cluster and block["a"] >= reach):
            for member in cluster:
                member["cols"] = len(ends)
            cluster, ends, reach = [], [], -1.0
            if block is None:
                break
        column = next((i for i, last in enumerate(ends) if last <= block["a"]), len(ends))
        ends[column:column + 1] = [block["b"]]
        block["col"] = column
        cluster.append(block)
        reach = max(reach, block["b"])


def time_grid(days: list[date], items: list[Shown], zone: ZoneInfo) -> dict:
    """Lay out the day and week views: per day its whole-day entries and its timed blocks, and the hours shown."""
    low, high = FIRST_HOUR * 60, LAST_HOUR * 60
    columns = []
    for day in days:
        midnight = datetime.combine(day, time(), tzinfo=zone)
        after = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
        blocks = []
        for item in items:
            if item.entry.all_day:
                continue
            begin, finish = max(item.start, midnight), min(item.end, after)
            if not (begin < finish or (item.start == item.end and midnight <= item.start < after)):
                continue
            a = (begin.replace(tzinfo=None) - midnight.replace(tzinfo=None)).total_seconds() / 60
            b = min(1440.0, max(a + SHORTEST, (finish.replace(tzinfo=None) - midnight.replace(tzinfo=None))
                                .total_seconds() / 60))
            blocks.append({"item": item, "a": a, "b": b, "starts_here": item.start >= midnight})
            low, high = min(low, int(a // 60) * 60), max(high, -int(-b // 60) * 60)
        lay_out(blocks)
        columns.append({"day": day, "all_day": ordered(i for i in items if i.entry.all_day and on(i, day)),
                        "blocks": blocks})
    length = high - low
    for column in columns:
        for block in column["blocks"]:
            share = 100 / block["cols"]
            # Side by side, each reaching a little over its right neighbour (which lies on top), as paper diaries
            # do: narrow columns would leave no room for a title.
            left = block["col"] * share
            width = 100 - left if block["col"] == block["cols"] - 1 else min(100 - left, share * 1.6)
            block.update(top=(block["a"] - low) * 100 / length, height=(block["b"] - block["a"]) * 100 / length,
                         left=left, width=width)
    return {"columns": columns, "hours": list(range(low // 60, high // 60))}


def month(start: date, end: date, number: int, items: list[Shown]) -> list[list[dict]]:
    """Lay out the month view: weeks of day cells, each with the entries it has room for and how many fold."""
    weeks, day = [], start
    while day < end:
        week = []
        for _i in range(7):
            found = ordered(i for i in items if on(i, day))
            # "+1 more" would take the room of the entry itself, so a cell shows one more before it folds.
            fits = found if len(found) <= MONTH_CELL + 1 else found[:MONTH_CELL]
            week.append({"day": day, "items": fits, "more": len(found) - len(fits), "outside": day.month != number,
                         "weekend": day.weekday() >= 5})
            day += timedelta(days=1)
        weeks.append(week)
    return weeks


def title(view: str, start: date, end: date, day: date) -> str:
    """Name the range a view shows: the day, the month, or the first and last day."""
    loc = locale()
    if view == "day":
        return format_date(day, "full", locale=loc)
    if view == "month":
        return format_skeleton("yMMMM", day, locale=loc)
    return f"{format_skeleton('MMMd', start, locale=loc)} – {format_skeleton('yMMMd', end - timedelta(days=1), locale=loc)}"


def clash_when(start: datetime, end: datetime, zone: ZoneInfo, all_day: bool, own_zone: str = "") -> str:
    """Say when a clash is: whole days as the days of the zone they were planned in, else times in the viewer's."""
    if all_day and own_zone:
        zone = ZoneInfo(own_zone)
    s, e = start.astimezone(zone), end.astimezone(zone)
    if all_day and s.time() == e.time() == time():
        last = (e - timedelta(days=1)).date()
        return f"{s:%Y-%m-%d}" + (f" – {last:%Y-%m-%d}" if last != s.date() else "")
    return f"{s:%Y-%m-%d %H:%M} – " + (f"{e:%H:%M}" if e.date() == s.date() else f"{e:%Y-%m-%d %H:%M}")


def when_lines(start: datetime, end: datetime, event: CalendarEvent, viewer: str) -> list[str]:
    """Say when in the viewer's zone, and in the event's own zone when that reads differently."""
    loc = locale()
    if event.all_day:
        own = ZoneInfo(event.timezone)
        first, last = start.astimezone(own).date(), (end.astimezone(own) - timedelta(days=1)).date()
        text = format_date(first, "full", locale=loc)
        return [text + (f" – {format_date(last, 'full', locale=loc)}" if last > first else "") + f" · {_('All day')}"]
    lines = []
    for name in dict.fromkeys([viewer, event.timezone]):
        s, e = start.astimezone(ZoneInfo(name)), end.astimezone(ZoneInfo(name))
        finish = f"{e:%H:%M}" if e.date() == s.date() else f"{format_date(e.date(), 'full', locale=loc)} {e:%H:%M}"
        line = f"{format_date(s.date(), 'full', locale=loc)} {s:%H:%M} – {finish} ({name})"
        if not lines or line.split(" (")[0] != lines[0].split(" (")[0]:
            lines.append(line)
    return lines


def repeat_text(event: CalendarEvent) -> str:
    """Say in words how an event repeats, or nothing when it does not."""
    choice = recurrence.describe(event.rrule)
    if not choice:
        return ""
    n, freq = choice.get("interval", 1), choice.get("freq")
    words = {"daily": (_("Every day"), _("Every %(n)s days", n=n)),
             "weekly": (_("Every week"), _("Every %(n)s weeks", n=n)),
             "monthly": (_("Every month"), _("Every %(n)s months", n=n)),
             "yearly": (_("Every year"), _("Every %(n)s years", n=n))}
    parts = [words.get(freq, (freq, freq))[0 if n == 1 else 1]]
    if choice.get("weekdays"):
        names = dict(weekday_names())
        comma = "、" if locale().startswith("zh") else ", "
        parts.append(_("on %(days)s", days=comma.join(names[d] for d in choice["weekdays"])))
    if freq == "monthly":
        parts.append(_("on the last day of the month") if choice.get("monthday") == "last" else
                     _("on day %(day)s", day=event.starts_at.astimezone(ZoneInfo(event.timezone)).day))
    if "count" in choice:
        parts.append(_("%(n)s times in all", n=choice["count"]))
    if "until" in choice:
        parts.append(_("until %(date)s", date=format_date(date.fromisoformat(choice["until"]), "medium",
                                                          locale=locale())))
    return ("，" if locale().startswith("zh") else ", ").join(parts)


# --- the event form's values ------------------------------------------------------------------------------


def form_values(data) -> dict:
    """Read what the form (or the live check's query) holds, as typed."""
    values = {name: (data.get(name) or "").strip() for name in TEXT if name != "description"}
    values["description"] = data.get("description") or ""
    values["all_day"] = data.get("all_day") in ("1", "on", "true")
    for name in ("attendees", "weekdays", "reminders"):
        values[name] = [v for v in data.getlist(name) if v]
    return values


def service_fields(values: dict) -> dict:
    """Turn the form's values into the fields the calendar service takes."""
    all_day = values["all_day"]

    def moment(day: str, clock: str) -> str:
        return day if all_day or not day else f"{day}T{clock or 'missing'}"

    repeat = None
    if values["repeat"] not in ("", "none"):
        repeat = {"freq": values["repeat"], "interval": values["interval"] or "1"}
        if values["repeat"] == "weekly" and values["weekdays"]:
            repeat["weekdays"] = values["weekdays"]
        if values["repeat"] == "monthly":
            repeat["monthday"] = values["monthday"] or "same"
        if values["ends"] == "count":
            repeat["count"] = values["count"] or "0"
        elif values["ends"] == "until":
            repeat["until"] = values["until"] or "missing"
    return {"title": values["title"], "kind": values["kind"] or "meeting", "all_day": all_day,
            "starts_at": moment(values["start_date"], values["start_time"]),
            "ends_at": moment(values["end_date"] or values["start_date"], values["end_time"]),
            "timezone": values["timezone"], "location": values["location"], "description": values["description"],
            "attendees": values["attendees"], "repeat": repeat, "reminders": values["reminders"],
            "project": values["project"] or None, "record_id": values["record_id"] or None}


def event_values(event: CalendarEvent) -> dict:
    """Fill the form with a saved event, its dates and times in the zone it was planned in."""
    zone = ZoneInfo(event.timezone)
    start, end = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    if event.all_day:
        end = end - timedelta(days=1)
    choice = recurrence.describe(event.rrule)
    return {"title": event.title, "kind": event.kind, "all_day": event.all_day,
            "start_date": start.date().isoformat(), "start_time": "09:00" if event.all_day else f"{start:%H:%M}",
            "end_date": end.date().isoformat(), "end_time": "10:00" if event.all_day else f"{end:%H:%M}",
            "timezone": event.timezone, "location": event.location, "description": event.description,
            "attendees": [a.username for a in event.attendees if a.username != event.organizer],
            "repeat": choice.get("freq", "none"), "interval": str(choice.get("interval", 1)),
            "weekdays": choice.get("weekdays", []), "monthday": choice.get("monthday", "same"),
            "ends": "count" if "count" in choice else "until" if "until" in choice else "never",
            "count": str(choice.get("count", "")), "until": choice.get("until", ""),
            "reminders": [str(m) for m in event.reminders or []], "project": event.project or "",
            "record_id": str(event.record_id or "")}

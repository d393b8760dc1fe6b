"""What the calendar shows without owning it: task due dates, approved leave and trips, customer activities.

Nothing is copied into the calendar: each range query reads the work items, process instances and
records where they live, so a moved due date or a withdrawn leave request shows at once.
A process opts in through its process.json: "calendar": {"label": ..., "start": field, "end": field,
"when": {field: value, ...}} marks its completed instances whose data match "when" (for example
{"decision": "approve"}) as time away for the initiator, between the two date fields.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from definitions.models import DefinitionVersion
from instances.actors import Actor
from instances.models import ProcessInstance, WorkItem
from records import access as record_access
from records.models import Record, RecordType

from . import recurrence


@dataclass(frozen=True)
class Overlay:
    """One entry the calendar borrows from elsewhere."""

    source: str  # task, away, activity
    person: str
    title: str
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    link: str
    ref_id: int


def _day(value) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except (TypeError, ValueError):
        return None


def tasks_due(session: Session, people: list[str], start: datetime, end: datetime) -> list[Overlay]:
    """Return open work items assigned to the people with a due date in the range."""
    if not people:
        return []
    rows = session.execute(select(WorkItem, ProcessInstance.title).join(
        ProcessInstance, ProcessInstance.id == WorkItem.instance_id).where(
        WorkItem.status == "open", WorkItem.assignee.in_(people), WorkItem.due_at >= start, WorkItem.due_at < end)
        .order_by(WorkItem.due_at).limit(2000))
    return [Overlay("task", item.assignee, f"{title} · {item.name}" if title else item.name, item.due_at,
                    item.due_at, False, f"/tasks/{item.id}", item.id) for item, title in rows]


def _away_definitions(session: Session) -> dict[int, dict]:
    out = {}
    for version_id, metadata in session.execute(select(DefinitionVersion.id, DefinitionVersion.metadata_)):
        spec = (metadata or {}).get("calendar") if isinstance(metadata, dict) else None
        if isinstance(spec, dict) and spec.get("start"):
            out[version_id] = spec
    return out


def time_away(session: Session, people: list[str], start: datetime, end: datetime, zone_name: str) -> list[Overlay]:
    """Return approved leave and business trips of the people that touch the range, as all-day spans."""
    specs = _away_definitions(session) if people else {}
    if not specs:
        return []
    zone = recurrence.zone_of(zone_name)
    out = []
    for instance in session.scalars(select(ProcessInstance).where(
            ProcessInstance.definition_id.in_(list(specs)), ProcessInstance.initiator.in_(people),
            ProcessInstance.status == "completed").limit(5000)):
        spec, data = specs[instance.definition_id], instance.data or {}
        if any(data.get(k) != v for k, v in (spec.get("when") or {}).items()):
            continue
        first = _day(data.get(spec["start"]))
        last = _day(data.get(spec.get("end") or spec["start"])) or first
        if first is None or last < first:
            continue
        begins = datetime.combine(first, time(), tzinfo=zone)
        ends = datetime.combine(last + timedelta(days=1), time(), tzinfo=zone)
        if begins < end and ends > start:
            label = str(spec.get("label") or "")
            detail = data.get(spec["kind_field"]) if spec.get("kind_field") else None
            title = " · ".join(str(p) for p in (label, detail) if p) or instance.title
            out.append(Overlay("away", instance.initiator, title, begins, ends, True,
                               f"/instances/{instance.id}", instance.id))
    return out


def _when(value, zone) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def activities(session: Session, actor: Actor, people: list[str], start: datetime, end: datetime,
               zone_name: str) -> list[Overlay]:
    """Return customer activities the people own in the range, only those the actor may read as records."""
    type_id = session.scalar(select(RecordType.id).where(RecordType.key == "activity"))
    if type_id is None or not people:
        return []
    zone = recurrence.zone_of(zone_name)
    at = Record.data["at"].as_string()
    # Times are ISO text: compare by the date with a day to spare, then exactly in Python.
    low, high = (start - timedelta(days=1)).date().isoformat(), (end + timedelta(days=2)).date().isoformat()
    rows = session.scalars(select(Record).where(
        Record.type_id == type_id, Record.deleted_at.is_(None), Record.owner.in_(people), at >= low, at < high,
        record_access.clause(session, actor, "activity", "view")).limit(2000))
    out = []
    for record in rows:
        begins = _when(record.data.get("at"), zone)
        if begins is None:
            continue
        minutes = record.data.get("duration_minutes")
        length = timedelta(minutes=minutes if isinstance(minutes, int) and minutes > 0 else 30)
        if begins < end and begins + length > start:
            out.append(Overlay("activity", record.owner, record.title or str(record.data.get("subject") or ""),
                               begins, begins + length, False, f"/records/activity/{record.id}", record.id))
    return out

"""Turn an instance's recorded history into the progress dict the renderer styles nodes with."""
from __future__ import annotations

from .text import parse_time

_END_STATES = {"completed": "completed", "cancelled": "cancelled", "error": "error"}


def _iso(moment) -> str | None:
    parsed = parse_time(moment)
    if parsed is not None:
        return parsed.isoformat()
    return str(moment) if moment else None


def _duration(started, ended) -> float | None:
    a, b = parse_time(started), parse_time(ended)
    if a is None or b is None:
        return None
    if (a.tzinfo is None) != (b.tzinfo is None):
        # One clock may have written naive UTC and aware UTC (SQLite drops the zone); compare as UTC.
        a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
    return max(0.0, (b - a).total_seconds())


def _entry(elements: dict, element_id: str) -> dict:
    return elements.setdefault(str(element_id), {"state": "completed", "assignees": [], "actor": None,
                                                  "started": None, "ended": None, "duration_s": None, "count": 0})


def _people(source: dict) -> list[str]:
    assignee = source.get("assignee")
    if assignee:
        return [str(assignee)]
    names = [str(u) for u in source.get("candidate_users") or []]
    names += [str(g) for g in source.get("candidate_groups") or []]
    return list(dict.fromkeys(names))


def progress_from_history(events: list[dict], open_items: list[dict], waiting: dict | None = None) -> dict:
    """Build the progress view of one instance from its history events, open work items and waits."""
    elements: dict[str, dict] = {}
    flows: list[str] = []
    created: dict[str, str | None] = {}
    # History is append-only, so its order is the order things happened; no re-sorting by clock.
    for event in events or []:
        kind = event.get("type")
        element_id = event.get("element_id")
        details = event.get("details") if isinstance(event.get("details"), dict) else {}
        at = _iso(event.get("at"))
        if kind == "task_created" and element_id:
            created[element_id] = at
            entry = _entry(elements, element_id)
            # A new round of a looped task has no finisher yet; its count still tells the earlier rounds.
            entry.update(state="active", started=at, ended=None, duration_s=None, actor=None)
            entry["assignees"] = _people(details) or entry["assignees"]
            # The way into a step that is still open is a flow taken too (a gateway's branch, say).
            flow = details.get("flow")
            if flow and str(flow) not in flows:
                flows.append(str(flow))
        elif kind == "task_completed" and element_id:
            _entry(elements, element_id)["actor"] = event.get("actor")
        elif kind == "task_cancelled" and element_id:
            entry = _entry(elements, element_id)
            started = created.get(element_id)
            entry.update(state="cancelled", started=started, ended=at, duration_s=_duration(started, at))
        elif kind == "element_completed" and element_id:
            entry = _entry(elements, element_id)
            state = _END_STATES.get(str(details.get("state") or "completed").lower(), "completed")
            # Only human tasks have a recorded start; automatic steps finish within the command that reached them.
            started = created.get(element_id)
            entry.update(state=state, started=started, ended=at, duration_s=_duration(started, at))
            if state == "completed":
                entry["count"] += 1
            flow = details.get("flow")
            if flow and str(flow) not in flows:
                flows.append(str(flow))
        elif kind == "incident":
            target = details.get("element_id") or element_id
            if target:
                _entry(elements, target).update(state="error", reason=details.get("reason"))
    _apply_open_items(elements, open_items or [], created)
    _apply_waiting(elements, waiting or {})
    return {"elements": elements, "flows": flows}


def _apply_open_items(elements: dict, open_items: list[dict], created: dict) -> None:
    # Several open items for one element are the parallel children of a multi-instance task.
    grouped: dict[str, list[dict]] = {}
    for item in open_items:
        if item.get("element_id"):
            grouped.setdefault(str(item["element_id"]), []).append(item)
    for element_id, items in grouped.items():
        entry = _entry(elements, element_id)
        starts = [s for s in (_iso(i.get("created_at")) for i in items) if s]
        people = list(dict.fromkeys(name for item in items for name in _people(item)))
        entry.update(state="active", started=min(starts) if starts else created.get(element_id) or entry["started"],
                     ended=None, duration_s=None, assignees=people or entry["assignees"])


def _apply_waiting(elements: dict, waiting: dict) -> None:
    for element_id in waiting.get("timers") or []:
        entry = _entry(elements, element_id)
        if entry["state"] != "error":
            entry.update(state="waiting", ended=None, duration_s=None)
    error = waiting.get("error")
    if error:
        _entry(elements, error)["state"] = "error"

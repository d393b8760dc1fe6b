"""Turn a ready human task's Camunda-style attributes into assignee, candidates, due date and priority."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine import expressions
from engine.errors import EngineError
from engine.runtime import HumanTask

DEFAULT_PRIORITY = 50


def _evaluate(text: str | None, context: dict) -> Any:
    if text is None or text == "":
        return None
    stripped = text.strip()
    if stripped.startswith(("${", "#{")):
        return expressions.evaluate(stripped, context)
    return stripped


def _names(values: list[str], context: dict) -> list[str]:
    out: list[str] = []
    for value in values:
        result = _evaluate(value, context)
        items = result if isinstance(result, list | tuple | set) else [result]
        for item in items:
            if item not in (None, "") and str(item) not in out:
                out.append(str(item))
    return out


def _due(value: Any, now: datetime) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59), tzinfo=timezone.utc)
    if isinstance(value, timedelta):
        return now + value
    text = str(value).strip()
    if text.startswith("P"):
        return now + TimerEventDefinition.get_timedelta_from_start(TimerEventDefinition.parse_iso_duration(text), now)
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def resolve(task: HumanTask, *, initiator: str | None, now: datetime) -> dict:
    """Return the work item fields for a ready human task; raise EngineError naming the element."""
    info = task.info
    context = dict(task.data)
    context.setdefault("initiator", initiator)
    try:
        assignee = _evaluate(info.get("assignee"), context)
        users = _names(info.get("candidate_users", []), context)
        groups = _names(info.get("candidate_groups", []), context)
        if assignee is None and task.multi_instance and not users and not groups:
            if isinstance(task.item, str):
                assignee = task.item
            elif isinstance(task.item_key, str):
                assignee = task.item_key
        if assignee is None and not users and not groups:
            if task.lane:
                groups = [task.lane]
            else:
                assignee = initiator
        due = _due(_evaluate(info.get("due_date"), context), now)
        follow_up = _due(_evaluate(info.get("follow_up_date"), context), now)
        priority = _evaluate(info.get("priority"), context)
        priority = DEFAULT_PRIORITY if priority in (None, "") else int(priority)
    except EngineError as exc:
        raise EngineError(f"assignment: {exc.reason}", element_id=task.element_id) from None
    except (ValueError, TypeError) as exc:
        raise EngineError(f"assignment: {exc}", element_id=task.element_id) from None
    return {
        "assignee": str(assignee) if assignee not in (None, "") else None,
        "candidate_users": users,
        "candidate_groups": groups,
        "due_at": due,
        "follow_up_at": follow_up,
        "priority": priority,
        "form_key": info.get("form_key"),
    }

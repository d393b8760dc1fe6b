"""Turn a ready human task's Camunda-style attributes into assignee, candidates, due date and priority."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine import expressions
from engine.errors import EngineError
from engine.runtime import HumanTask

from .directory import get_directory

DEFAULT_PRIORITY = 50
ON_NO_ASSIGNEE = "flowdesk.onNoAssignee"
POLICIES = ("initiator", "admin", "error")
ADMIN_GROUP = "role:admin"


def strategies() -> dict[str, Any]:
    """Return the functions assignment expressions may call, bound to the registered directory."""
    found = get_directory()

    def members(kind: str):
        return lambda code: found.members(kind, str(code)) if code not in (None, "") else []

    return {
        "superior": lambda user: found.superior(str(user)) if user not in (None, "") else None,
        "leader": lambda user: found.department_leader(str(user)) if user not in (None, "") else None,
        "superiors": lambda user, n=1: found.superiors(str(user), int(n)) if user not in (None, "") else [],
        "role": members("role"), "department": members("department"),
        "position": members("position"), "group": members("group"),
    }


def _evaluate(text: str | None, context: dict, functions: dict | None = None) -> Any:
    if text is None or text == "":
        return None
    stripped = text.strip()
    if stripped.startswith(("${", "#{")):
        return expressions.evaluate(stripped, context, functions=functions)
    return stripped


def _names(values: list[str], context: dict, functions: dict | None = None) -> list[str]:
    out: list[str] = []
    for value in values:
        result = _evaluate(value, context, functions)
        items = result if isinstance(result, list | tuple | set) else [result]
        for item in items:
            if item not in (None, "") and str(item) not in out:
                out.append(str(item))
    return out


# Pure helpers for due-date expressions: `${workdays(5 if amount > 10000 else 2)}` gives "P5D" or "P2D".
DUE_FUNCTIONS = {"workdays": lambda n: f"P{int(n)}D", "workhours": lambda n: f"PT{float(n):g}H"}


def _due(value: Any, now: datetime, person: str | None = None) -> datetime | None:
    """Turn a dueDate value into a moment: ISO durations count working time (the person's business calendar).

    Date-times, dates and timedeltas (`${now() + days(3)}`, `${days(3)}`) stay calendar time, and so do
    durations when no directory with calendars is registered (the engine alone).
    """
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59), tzinfo=timezone.utc)
    if isinstance(value, timedelta):
        return now + value
    text = str(value).strip()
    if text.upper().startswith("P"):
        counter = getattr(get_directory(), "working_due", None)  # a directory from before calendars has none
        working = counter(person, now, text) if counter is not None else None
        if working is not None:
            return working
        return now + TimerEventDefinition.get_timedelta_from_start(TimerEventDefinition.parse_iso_duration(text), now)
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _context(task: HumanTask, initiator: str | None) -> dict:
    context = dict(task.data)
    context.setdefault("initiator", initiator)
    texts = " ".join(str(v) for v in (task.info.get("assignee"), *task.info.get("candidate_users", []),
                                      *task.info.get("candidate_groups", [])) if v)
    found = get_directory()
    if "initiator_superior" in texts and "initiator_superior" not in context:
        context["initiator_superior"] = found.superior(initiator) if initiator else None
    if "initiator_leader" in texts and "initiator_leader" not in context:
        context["initiator_leader"] = found.department_leader(initiator) if initiator else None
    return context


def resolve(task: HumanTask, *, initiator: str | None, now: datetime) -> dict:
    """Return the work item fields for a ready human task; raise EngineError naming the element."""
    info = task.info
    policy = str((info.get("properties") or {}).get(ON_NO_ASSIGNEE) or "initiator").strip()
    if policy not in POLICIES:
        raise EngineError(f"assignment: {ON_NO_ASSIGNEE} must be one of {', '.join(POLICIES)}, not {policy!r}",
                          element_id=task.element_id)
    context = _context(task, initiator)
    functions = strategies()
    try:
        assignee = _evaluate(info.get("assignee"), context, functions)
        users = _names(info.get("candidate_users", []), context, functions)
        groups = _names(info.get("candidate_groups", []), context, functions)
        if assignee is None and task.multi_instance and not users and not groups:
            if isinstance(task.item, str):
                assignee = task.item
            elif isinstance(task.item_key, str):
                assignee = task.item_key
        if assignee in (None, "") and not users and not groups:
            assignee = None
            modelled = any(info.get(k) for k in ("assignee", "candidate_users", "candidate_groups"))
            if task.lane and (policy == "initiator" or not modelled):
                groups = [task.lane]
            elif policy == "initiator":
                assignee = initiator
            elif policy == "admin":
                groups = [ADMIN_GROUP]
            else:
                raise EngineError(f"nobody to assign task {task.name!r} ({ON_NO_ASSIGNEE}=error)",
                                  element_id=task.element_id)
        person = str(assignee) if assignee not in (None, "") else initiator  # whose calendar counts
        due = _due(_evaluate(info.get("due_date"), context, DUE_FUNCTIONS), now, person)
        follow_up = _due(_evaluate(info.get("follow_up_date"), context, DUE_FUNCTIONS), now, person)
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

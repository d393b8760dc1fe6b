"""Turn a ready human task's Camunda-style attributes into assignee, candidates, due date and priority."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine import expressions, policies
from engine.errors import EngineError
from engine.runtime import HumanTask

from .directory import get_directory
from .models import MAX_PRIORITY, MIN_PRIORITY

DEFAULT_PRIORITY = 50
ON_NO_ASSIGNEE = policies.ON_NO_ASSIGNEE
POLICIES = policies.CHOICES[ON_NO_ASSIGNEE]
ADMIN_GROUP = "role:admin"
ON_SELF_APPROVAL = policies.ON_SELF_APPROVAL
SELF_APPROVAL_POLICIES = policies.CHOICES[ON_SELF_APPROVAL]
SELF_APPROVAL_REASON = "approver_is_initiator"
NO_ASSIGNEE_REASON = "nobody_to_assign"
ON_OVERDUE = policies.ON_OVERDUE
OVERDUE_POLICIES = policies.CHOICES[ON_OVERDUE]  # the worker acts on them: instances/overdue.py
SKIP_DATA = {"decision": "approve"}  # what a skipped task is completed with, as if its approver had approved
MAX_SKIPPED_TASKS = 200  # per command: a loop of tasks skipped for the initiator must not spin forever
ASSIGNMENT = policies.ASSIGNMENT
PICK_STRATEGIES = policies.CHOICES[ASSIGNMENT]
PICK_COUNT = policies.PICK_COUNT
PICK_COUNTS = policies.CHOICES[PICK_COUNT]
PICKS_FOR = policies.PICKS_FOR
PICKS_KEY = "_picks"  # instance data: {node id: [user names]}; "_" keeps it out of forms, scripts and posted data
MAX_PICKS = 50  # people per node
HUMAN_TASK_TYPES = ("userTask", "manualTask", "task")


def strategies() -> dict[str, Any]:
    """Return the functions assignment expressions may call, bound to the registered directory."""
    found = get_directory()

    def members(kind: str):
        return lambda code: found.members(kind, str(code)) if code not in (None, "") else []

    return {
        "superior": lambda user: found.superior(str(user)) if user not in (None, "") else None,
        "leader": lambda user: found.department_leader(str(user)) if user not in (None, "") else None,
        "superiors": lambda user, n=1: found.superiors(str(user), int(n)) if user not in (None, "") else [],
        # A directory written before leader_of existed answers nobody rather than failing the step.
        "department_leader": lambda code: getattr(found, "leader_of", lambda _code: None)(str(code))
        if code not in (None, "") else None,
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
    return _variables(task.data, initiator, (task.info.get("assignee"), *task.info.get("candidate_users", []),
                                             *task.info.get("candidate_groups", [])))


def _variables(data: dict, initiator: str | None, used) -> dict:
    context = dict(data)
    context.setdefault("initiator", initiator)
    texts = " ".join(str(v) for v in used if v)
    found = get_directory()
    if "initiator_superior" in texts and "initiator_superior" not in context:
        context["initiator_superior"] = found.superior(initiator) if initiator else None
    if "initiator_leader" in texts and "initiator_leader" not in context:
        context["initiator_leader"] = found.department_leader(initiator) if initiator else None
    return context


def people(values: list[str], data: dict) -> list[str]:
    """Return the user names assignment texts give: names as written, `${...}` with the strategies and variables."""
    try:
        return _names(values, _variables(data, data.get("initiator"), values), strategies())
    except (ValueError, TypeError) as exc:
        raise EngineError(str(exc)) from None


def _policy(task: HumanTask, name: str, allowed: tuple[str, ...]) -> str:
    return element_policy(task.info, task.element_id, name, allowed)


def element_policy(info: dict, element_id: str, name: str, allowed: tuple[str, ...]) -> str:
    """Return an element's policy property (the first allowed value when absent); raise EngineError when bad."""
    policy = str((info.get("properties") or {}).get(name) or allowed[0]).strip()
    if policy not in allowed:
        raise EngineError(f"assignment: {name} must be one of {', '.join(allowed)}, not {policy!r}",
                          element_id=element_id)
    return policy


def _pick_strategy(info: dict) -> tuple[str | None, bool]:
    """Return a node's (flowdesk.assignment strategy or None, whether many people are picked); ValueError if bad."""
    props = info.get("properties") or {}
    strategy = str(props.get(ASSIGNMENT) or "").strip() or None
    if strategy is None:
        return None, False
    if strategy not in PICK_STRATEGIES:
        raise ValueError(f"{ASSIGNMENT} must be one of {', '.join(PICK_STRATEGIES)}, not {strategy!r}")
    count = str(props.get(PICK_COUNT) or "one").strip()
    if count not in PICK_COUNTS:
        raise ValueError(f"{PICK_COUNT} must be one of {', '.join(PICK_COUNTS)}, not {count!r}")
    return strategy, count == "many"


def _pick_node(element_id: str, info: dict, strategy: str) -> dict | None:
    try:
        found, many = _pick_strategy(info)
    except ValueError as exc:
        raise EngineError(f"assignment: {exc}", element_id=element_id) from None
    if found != strategy or info.get("type") not in HUMAN_TASK_TYPES:
        return None
    # On a countersign node the people picked are its members: always many.
    many = many or bool(info.get("multi_instance"))
    return {"id": element_id, "name": info.get("name") or element_id, "many": many}


def pick_collections(elements: dict, chosen: dict[str, list[str]]) -> dict[str, list[str]]:
    """Return the instance data that makes picked people the members of countersign nodes: {collection: names}."""
    out = {}
    for node_id, names in chosen.items():
        collection = ((elements.get(node_id) or {}).get("multi_instance") or {}).get("collection")
        if collection and names:
            out[collection] = list(names)
    return out


def _in_model_order(elements: dict | None) -> dict:
    # Stored elements may come back in another key order (PostgreSQL JSONB): sort by file and line.
    return dict(sorted((elements or {}).items(), key=lambda pair: (str(pair[1].get("file") or ""),
                                                                   int(pair[1].get("line") or 0), pair[0])))


def initiator_pick_nodes(elements: dict) -> list[dict]:
    """Return the nodes whose people the initiator picks at start: [{"id", "name", "many"}], in model order."""
    nodes = (_pick_node(node_id, info, "initiatorPicks") for node_id, info in _in_model_order(elements).items())
    return [node for node in nodes if node is not None]


def predefined_nodes(elements: dict) -> list[dict]:
    """Return every single-person step of a predefined process, whose people the initiator may change at start.

    Each is {"id", "name", "many", "optional": True, "default"}: left empty, the step keeps its modelled
    assignment (`default` says what it is). On a countersign step the people given become its members
    (one without a member list, counted by cardinality, keeps them). Steps already picked (initiatorPicks,
    approverPicks) are not repeated.
    """
    out = []
    for node_id, info in _in_model_order(elements).items():
        multi = info.get("multi_instance") or {}
        if info.get("type") not in HUMAN_TASK_TYPES or (info.get("multi_instance") and not multi.get("collection")):
            continue
        if (info.get("properties") or {}).get(ASSIGNMENT):
            continue
        default = (f"${{{multi['collection']}}}" if multi else None) or info.get("assignee") or ", ".join(
            [*(info.get("candidate_users") or []), *(info.get("candidate_groups") or [])]) or info.get("lane")
        out.append({"id": node_id, "name": info.get("name") or node_id, "many": True, "optional": True,
                    "default": default or ""})
    return out


def approver_pick_nodes(elements: dict, element_id: str) -> list[dict]:
    """Return the approverPicks nodes whose people the approver of `element_id` picks when completing it.

    The task's flowdesk.picksFor ("nodeA,nodeB") names them when present; otherwise they are the approverPicks
    user tasks reached from the task through its outgoing sequence flows and any gateways between.
    """
    if not any(ASSIGNMENT in (info.get("properties") or {}) for info in elements.values()):
        return []  # most models pick nobody: skip the walk on every completion
    elements = _in_model_order(elements)
    named = str(((elements.get(element_id) or {}).get("properties") or {}).get(PICKS_FOR) or "")
    if named.strip():
        targets = [name.strip() for name in named.split(",") if name.strip()]
    else:
        targets, seen, todo = [], {element_id}, [element_id]
        while todo:
            source = todo.pop(0)
            for info in elements.values():
                target = info.get("target")
                if info.get("type") != "sequenceFlow" or info.get("source") != source or target in seen:
                    continue
                seen.add(target)
                if str((elements.get(target) or {}).get("type", "")).endswith("Gateway"):
                    todo.append(target)
                else:
                    targets.append(target)
    nodes = (_pick_node(target, elements[target], "approverPicks") for target in targets if target in elements)
    return [node for node in nodes if node is not None]


class PickProblem(ValueError):
    """Picks that cannot be used; `field` is "picks" or "picks.<node id>"."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def check_picks(picks: Any, nodes: list[dict], *, required: bool = True) -> dict[str, list[str]]:
    """Return {node id: [user names]} for these pick nodes; raise PickProblem naming the node.

    A node may be given one name or a list; a "one" node takes exactly one name. Every name must belong to an
    active user of the directory. With `required`, each node needs its people.
    """
    if picks is None:
        picks = {}
    if not isinstance(picks, dict):
        raise PickProblem("picks must be an object of node id -> list of user names", "picks")
    known = {node["id"]: node for node in nodes}
    out: dict[str, list[str]] = {}
    for node_id, value in picks.items():
        if node_id not in known:
            raise PickProblem(f"picks: {node_id!r} is not a node whose people are picked here", f"picks.{node_id}")
        node = known[node_id]
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise PickProblem(f"picks.{node_id}: give a list of user names for {node['name']!r}", f"picks.{node_id}")
        names = list(dict.fromkeys(v.strip() for v in values if v.strip()))
        if len(names) > (MAX_PICKS if node["many"] else 1):
            raise PickProblem(f"picks.{node_id}: {node['name']!r} takes "
                              + (f"at most {MAX_PICKS} people" if node["many"] else "one person"), f"picks.{node_id}")
        if names:
            out[node_id] = names
    if required:
        missing = [node for node in nodes if node["id"] not in out and not node.get("optional")]
        if missing:
            raise PickProblem(f"picks.{missing[0]['id']}: choose who handles {missing[0]['name']!r}",
                              f"picks.{missing[0]['id']}")
    wanted = sorted({name for names in out.values() for name in names})
    active = get_directory().active_users(wanted) if wanted else set()
    for node_id, names in out.items():
        unknown = [name for name in names if name not in active]
        if unknown:
            raise PickProblem(f"picks.{node_id}: there is no active user {unknown[0]!r} to handle "
                              f"{known[node_id]['name']!r}", f"picks.{node_id}")
    return out


def _picked(task: HumanTask) -> tuple[list[str], bool] | None:
    """Return (picked people, many) for a pick node that has picks; None for other nodes or no picks."""
    try:
        strategy, many = _pick_strategy(task.info)
    except ValueError as exc:
        raise EngineError(f"assignment: {exc}", element_id=task.element_id) from None
    if task.multi_instance:
        return None  # a countersign member: the picks became the node's collection, one member per task
    names = ((task.data or {}).get(PICKS_KEY) or {}).get(task.element_id)
    if not isinstance(names, list):
        return None
    names = [str(name) for name in names if name not in (None, "")]
    if strategy is None:  # a predefined process's step the initiator gave other people: one decides, or a group
        return (names, len(names) > 1) if names else None
    return (names, many) if names else None


def self_approval_policy(task: HumanTask) -> str:
    """Return the task's flowdesk.onSelfApproval policy; raise EngineError naming the element for a bad value."""
    return _policy(task, ON_SELF_APPROVAL, SELF_APPROVAL_POLICIES)


def _stand_in(initiator: str) -> tuple[str | None, str]:
    """Return who decides instead of the initiator and how they were found: superior, leader, else admins."""
    found = get_directory()
    for via, person in (("superior", found.superior(initiator)), ("leader", found.department_leader(initiator))):
        if person not in (None, "") and str(person) != initiator:
            return str(person), via
    return None, "admin"


def _apply_self_approval(policy: str, initiator: str | None, assignee, users: list[str],
                         groups: list[str]) -> tuple[object, list[str], list[str], dict | None]:
    """Keep the initiator from deciding their own request: drop them from the candidates, skip or redirect.

    A group offer is left alone: who of the group claims it is not known when the item is created.
    """
    if policy == "allow" or not initiator:
        return assignee, users, groups, None
    if assignee in (None, "") and initiator in users:
        users = [u for u in users if u != initiator]
        if users or groups:
            return assignee, users, groups, {"action": "exclude", "policy": policy, "excluded": initiator}
    elif str(assignee or "") != initiator:
        return assignee, users, groups, None
    if policy == "skip":
        return None, [], [], {"action": "skip", "policy": "skip", "approver": initiator}
    person, via = _stand_in(initiator)
    outcome = {"action": "redirect", "policy": "superior", "for": initiator, "to": person, "via": via}
    return person, [], [] if person else [ADMIN_GROUP], outcome


def resolve(task: HumanTask, *, initiator: str | None, now: datetime) -> dict:
    """Return the work item fields for a ready human task; raise EngineError naming the element.

    `self_approval` tells what flowdesk.onSelfApproval did: None, or an `action`: "skip" (complete the task
    as approved), "exclude" (the initiator left the candidates) or "redirect" (`for`, `to`, `via`).
    """
    info = task.info
    policy = _policy(task, ON_NO_ASSIGNEE, POLICIES)
    self_policy = self_approval_policy(task)
    if not str((task.info.get("properties") or {}).get(ON_OVERDUE) or "").strip().startswith(policies.JUMP_PREFIX):
        _policy(task, ON_OVERDUE, OVERDUE_POLICIES)  # checked now: a bad value names the element at creation
    context = _context(task, initiator)
    functions = strategies()
    picked = _picked(task)
    nobody = None
    try:
        if picked is not None:  # initiatorPicks / approverPicks: the people picked replace the attributes
            names, many = picked
            assignee, users, groups = (None, names, []) if many else (names[0], [], [])
        else:
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
            elif policy == "leader":  # the leader of the initiator's department, else the administrators
                leader = get_directory().department_leader(initiator) if initiator else None
                assignee, groups = (str(leader), []) if leader not in (None, "") else (None, [ADMIN_GROUP])
            elif policy == "skip":  # nobody to decide: the step passes as approved, and the history says why
                nobody = {"action": "skip", "policy": "skip", "reason": NO_ASSIGNEE_REASON}
            else:
                raise EngineError(f"nobody to assign task {task.name!r} ({ON_NO_ASSIGNEE}=error)",
                                  element_id=task.element_id)
        if nobody is not None:
            self_approval = nobody
        else:
            assignee, users, groups, self_approval = _apply_self_approval(
                self_policy, initiator, assignee, users, groups)
        person = str(assignee) if assignee not in (None, "") else initiator  # whose calendar counts
        due = _due(_evaluate(info.get("due_date"), context, DUE_FUNCTIONS), now, person)
        follow_up = _due(_evaluate(info.get("follow_up_date"), context, DUE_FUNCTIONS), now, person)
        lead = (info.get("properties") or {}).get(policies.REMIND_BEFORE)
        if follow_up is None and due is not None and lead:  # remind this long before the due time
            before = due - TimerEventDefinition.get_timedelta_from_start(
                TimerEventDefinition.parse_iso_duration(str(lead).strip().upper()), due)
            follow_up = before if before > now else None
        priority = _evaluate(info.get("priority"), context)
        priority = DEFAULT_PRIORITY if priority in (None, "") else int(priority)
        if not MIN_PRIORITY <= priority <= MAX_PRIORITY:
            raise ValueError(f"priority {priority} is outside {MIN_PRIORITY} to {MAX_PRIORITY}")
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
        "self_approval": self_approval,
    }


def resolve_new_tasks(ready: Callable[[], list[HumanTask]], *, initiator: str | None, now: datetime, known: set[str],
                      skip: Callable[[HumanTask], None]) -> tuple[dict, list[HumanTask]]:
    """Resolve the ready tasks not in `known`, first passing those flowdesk.onSelfApproval=skip completes.

    `skip(task)` completes one task in the engine, which may make others ready (the next approver, the next
    countersign member), so the tasks are looked at again after each. Returns ({task id: (task, fields)},
    the skipped tasks); raises EngineError naming the element when a model keeps skipping.
    """
    skipped: list[HumanTask] = []
    while True:
        resolved, passing = {}, None
        for task in ready():
            if task.id in known:
                continue
            fields = resolve(task, initiator=initiator, now=now)
            if (fields["self_approval"] or {}).get("action") == "skip":
                passing = task
                break
            resolved[task.id] = (task, fields)
        if passing is None:
            return resolved, skipped
        if len(skipped) >= MAX_SKIPPED_TASKS:
            raise EngineError(f"more than {MAX_SKIPPED_TASKS} tasks skipped for the initiator in one command "
                              f"({ON_SELF_APPROVAL}=skip): the model loops", element_id=passing.element_id)
        skip(passing)
        passing.skip_reason = fields["self_approval"].get("reason", SELF_APPROVAL_REASON)
        skipped.append(passing)

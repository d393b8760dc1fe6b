"""Free flow (自由流程): the route an initiator draws as a table, checked against the designer's guard rules
and turned into a BPMN model of its own.

A custom-model process declares its route in process.json:

    "route": {"steps": [{"name": "Manager / 主管审批", "users": ["li.na"]}],
              "min_steps": 1, "max_steps": 8, "rules": ["single", "any", "all", "majority", "sequential"],
              "guards": [{"when": "amount > 10000", "department": "finance",
                          "message": "Finance must approve amounts over 10,000 / 金额超过一万需财务审批"}]}

`steps` is the route the start page offers. A step names people (`users`, one or more) or a role whose
members may claim it (`role` or `department`), and, with several people, a countersign `rule`. A guard says
that when its condition holds for the start form's data, some step must be handled by the role or department
(a step of it, or a person in it). Every step rejects by ending the request as rejected.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from xml.sax.saxutils import escape, quoteattr

from . import expressions
from .errors import EngineError

RULES = ("single", "any", "all", "majority", "sequential")
MAX_STEPS_LIMIT = 30
MAX_PEOPLE = 20
MAX_NAME = 100
MEMBERS_PREFIX = "route_"  # instance data route_step_<n>: the members of countersign step n
CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")
GROUP_KINDS = ("role", "department")
GROUP_PREFIX = {"role": "role", "department": "dept"}  # as work items name candidate groups


class RouteProblem(EngineError):
    """A route or a route definition is refused; `field` names the place, as route.2.users or route.max_steps."""

    def __init__(self, reason: str, field: str):
        super().__init__(reason, details={"field": field})
        self.field = field


def _text(value, field: str, *, limit: int = MAX_NAME) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > limit:
        raise RouteProblem(f"{field} must be a text of 1 to {limit} characters", field)
    return value.strip()


def _step(raw, at: str, allowed: tuple[str, ...]) -> dict:
    if not isinstance(raw, dict):
        raise RouteProblem(f"{at} must be an object with name and users or role", at)
    unknown = set(raw) - {"name", "users", "role", "department", "rule"}
    if unknown:
        raise RouteProblem(f"{at}: unknown field {sorted(unknown)[0]!r}", f"{at}.{sorted(unknown)[0]}")
    name = _text(raw.get("name"), f"{at}.name")
    users = raw.get("users") or []
    groups = [(kind, raw[kind]) for kind in GROUP_KINDS if raw.get(kind)]
    if isinstance(users, str):
        users = [u for u in re.split(r"[\s,，;；]+", users) if u]
    if not isinstance(users, list) or not all(isinstance(u, str) and u.strip() for u in users):
        raise RouteProblem(f"{at}.users must be a list of user names", f"{at}.users")
    users = list(dict.fromkeys(u.strip() for u in users))
    if len(groups) + bool(users) != 1:
        raise RouteProblem(f"{at} ({name}): name the people who handle it, or one role or department",
                           f"{at}.users")
    if len(users) > MAX_PEOPLE:
        raise RouteProblem(f"{at} ({name}): at most {MAX_PEOPLE} people", f"{at}.users")
    for kind, code in groups:
        if not isinstance(code, str) or not CODE.match(code):
            raise RouteProblem(f"{at}.{kind} must be a {kind} code", f"{at}.{kind}")
    rule = raw.get("rule") or ("single" if len(users) <= 1 else "all")
    if rule not in allowed:
        raise RouteProblem(f"{at} ({name}): the rule must be one of {', '.join(allowed)}", f"{at}.rule")
    if len(users) > 1 and rule == "single":
        rule = "all"  # several people deciding one step: every one of them, the safe reading
    if len(users) <= 1:
        rule = "single"
    # The checked step has the input's shape, so a stored route can be offered and checked again.
    return {"name": name, "users": users, **dict(groups), "rule": rule}


def group_of(step: dict) -> tuple[str, str] | None:
    """Return (kind, code) of a checked step handled by a role or department, or None."""
    return next(((kind, step[kind]) for kind in GROUP_KINDS if step.get(kind)), None)


def check_spec(spec) -> dict:
    """Return a process.json route block with defaults filled in, or raise RouteProblem naming the field."""
    if not isinstance(spec, dict):
        raise RouteProblem("route must be an object with steps, max_steps, rules and guards", "route")
    unknown = set(spec) - {"steps", "min_steps", "max_steps", "rules", "guards", "task_form"}
    if unknown:
        raise RouteProblem(f"route: unknown field {sorted(unknown)[0]!r}", f"route.{sorted(unknown)[0]}")
    rules = spec.get("rules", list(RULES))
    if not isinstance(rules, list) or not rules or any(r not in RULES for r in rules):
        raise RouteProblem(f"route.rules must list some of {', '.join(RULES)}", "route.rules")
    bounds = {}
    for name, default in (("min_steps", 1), ("max_steps", 8)):
        value = spec.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_STEPS_LIMIT:
            raise RouteProblem(f"route.{name} must be a whole number from 1 to {MAX_STEPS_LIMIT}", f"route.{name}")
        bounds[name] = value
    if bounds["min_steps"] > bounds["max_steps"]:
        raise RouteProblem("route.min_steps is larger than route.max_steps", "route.min_steps")
    guards = spec.get("guards", [])
    if not isinstance(guards, list):
        raise RouteProblem("route.guards must be a list", "route.guards")
    checked_guards = []
    for index, guard in enumerate(guards):
        at = f"route.guards.{index}"
        kinds = [kind for kind in GROUP_KINDS if isinstance(guard, dict) and guard.get(kind)]
        if len(kinds) != 1 or not isinstance(guard[kinds[0]], str) or not CODE.match(guard[kinds[0]]):
            raise RouteProblem(f"{at} needs the role or the department that must approve", f"{at}.role")
        when = guard.get("when")
        if when is not None:
            when = _text(when, f"{at}.when", limit=500)
            try:
                expressions.compile_expression(when)
            except EngineError as exc:
                raise RouteProblem(f"{at}.when: {exc.reason}", f"{at}.when") from None
        kind, code = kinds[0], guard[kinds[0]]
        message = guard.get("message") or f"the {kind} {code} must approve this request"
        checked_guards.append({"when": when, "group": [kind, code],
                               "message": _text(message, f"{at}.message", limit=300)})
    steps = spec.get("steps", [])
    if not isinstance(steps, list) or len(steps) > bounds["max_steps"]:
        raise RouteProblem(f"route.steps must be a list of at most {bounds['max_steps']} steps", "route.steps")
    task_form = spec.get("task_form")
    if task_form is not None:
        task_form = _text(task_form, "route.task_form", limit=200)
    return {**bounds, "rules": list(rules), "guards": checked_guards, "task_form": task_form,
            "steps": [_step(s, f"route.steps.{i}", tuple(rules)) for i, s in enumerate(steps)]}


def check_route(steps, spec: dict, data: dict, *, belongs: Callable[[str, str, str], bool],
                is_active: Callable[[list[str]], set[str]]) -> list[dict]:
    """Return the initiator's route, checked against the spec's bounds, rules and guards; raise RouteProblem.

    `belongs(username, kind, code)` (kind role or department) and `is_active(usernames)` answer from the
    organisation.
    """
    if not isinstance(steps, list):
        raise RouteProblem("route must be a list of steps", "route")
    if not spec["min_steps"] <= len(steps) <= spec["max_steps"]:
        raise RouteProblem(f"the route needs {spec['min_steps']} to {spec['max_steps']} steps, not {len(steps)}",
                           "route")
    route = [_step(raw, f"route.{i}", tuple(spec["rules"])) for i, raw in enumerate(steps)]
    everyone = sorted({u for step in route for u in step["users"]})
    active = is_active(everyone) if everyone else set()
    for i, step in enumerate(route):
        missing = [u for u in step["users"] if u not in active]
        if missing:
            raise RouteProblem(f"route.{i} ({step['name']}): {missing[0]!r} is not an active employee",
                               f"route.{i}.users")
    for guard in spec["guards"]:
        if guard["when"] is not None:
            # A field left empty is no value to compare: the guard does not apply. Any other failure (a
            # condition that cannot be judged) applies it, so a slip in a condition never opens a gap.
            present = {k: v for k, v in data.items() if v is not None}
            try:
                applies = bool(expressions.evaluate(guard["when"], present))
            except EngineError as exc:
                applies = "unknown variable" not in exc.reason
            if not applies:
                continue
        kind, code = guard["group"]
        if not any(group_of(step) == (kind, code) or any(belongs(u, kind, code) for u in step["users"])
                   for step in route):
            raise RouteProblem(guard["message"], "route")
    return route


def members(route: list[dict]) -> dict[str, list[str]]:
    """Return the instance data that names each countersign step's members (route_step_<n>)."""
    return {f"{MEMBERS_PREFIX}step_{i + 1}": step["users"] for i, step in enumerate(route)
            if step["rule"] != "single"}


def _property(name: str, value: str) -> str:
    return f'<camunda:property name={quoteattr(name)} value={quoteattr(value)}/>'


def route_bpmn(process_id: str, name: str, route: list[dict], *, start_form: str | None,
               task_form: str | None) -> bytes:
    """Return the BPMN of a route: the start, each step in turn, an approved end and a rejected end."""
    attr = lambda key, value: f" camunda:{key}={quoteattr(value)}" if value else ""  # noqa: E731
    parts = [f'<bpmn:startEvent id="start" name="Submitted / 提交"{attr("formKey", start_form)}/>']
    flows: list[tuple[str, str, str, str | None]] = []
    source, condition = "start", None  # where the way into the next step starts, and on what condition
    for index, step in enumerate(route, start=1):
        node = f"step_{index}"
        flows.append((f"to_{node}", source, node, condition))
        props, loop = [_property("flowdesk.onReject", "end")], ""
        if step["rule"] == "single" and step["users"]:
            who = attr("assignee", step["users"][0])
        elif group_of(step):
            kind, code = group_of(step)
            who = attr("candidateGroups", f"{GROUP_PREFIX[kind]}:{code}")
        else:
            who = attr("assignee", "${route_member}")
            # A member's rejection is one vote: the node's outcome decides, and the gateway ends a rejection.
            props = [_property("flowdesk.countersign", step["rule"])]
            loop = (f'<bpmn:multiInstanceLoopCharacteristics camunda:collection="${{{MEMBERS_PREFIX}{node}}}" '
                    f'camunda:elementVariable="route_member"/>')
        parts.append(f'<bpmn:userTask id="{node}" name={quoteattr(step["name"])}{who}{attr("formKey", task_form)}>'
                     f'<bpmn:extensionElements><camunda:properties>{"".join(props)}</camunda:properties>'
                     f'</bpmn:extensionElements>{loop}</bpmn:userTask>')
        source, condition = node, None
        if loop:
            gate = f"{node}_decided"
            parts.append(f'<bpmn:exclusiveGateway id="{gate}" name="Approved? / 通过？" default="{gate}_no"/>')
            flows.append((f"to_{gate}", node, gate, None))
            flows.append((f"{gate}_no", gate, "rejected", None))
            source, condition = gate, f"${{{node}_result.outcome == 'approved'}}"
    flows.append(("to_approved", source, "approved", condition))
    parts.append('<bpmn:endEvent id="approved" name="Approved / 已通过"/>')
    if any(flow[2] == "rejected" for flow in flows):  # only countersign steps reject through a flow
        parts.append('<bpmn:endEvent id="rejected" name="Rejected / 已驳回"><bpmn:extensionElements>'
                     '<camunda:properties>' + _property("flowdesk.outcome", "rejected")
                     + '</camunda:properties></bpmn:extensionElements></bpmn:endEvent>')
    for fid, src, tgt, cond in flows:
        condition = f"<bpmn:conditionExpression>{escape(cond)}</bpmn:conditionExpression>" if cond else ""
        parts.append(f'<bpmn:sequenceFlow id="{fid}" sourceRef="{src}" targetRef="{tgt}">{condition}'
                     '</bpmn:sequenceFlow>' if condition else f'<bpmn:sequenceFlow id="{fid}" sourceRef="{src}" '
                     f'targetRef="{tgt}"/>')
    body = "\n    ".join(parts)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="route_definitions" '
            'targetNamespace="https://flowdesk.example/route">\n'
            f'  <bpmn:process id={quoteattr(process_id)} name={quoteattr(name)} isExecutable="true">\n    {body}\n'
            '  </bpmn:process>\n</bpmn:definitions>\n').encode()

"""The process library's pages: docs/processes/<key>.md and <key>.svg, generated from each bundle in bpmn/.

`flowdesk docs processes` writes them; `--check` (and tests/processes/test_process_docs.py) tells when the
committed pages no longer match the bundles. Everything here is derived from the bundle's own files: the
compiled model's elements (as the designer's table view shows them), the service tasks' operations, the
JSON-schema forms and process.json, so a page cannot drift from the process it describes.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import instances  # noqa: F401  registers instance.copy, so its description is known
import records  # noqa: F401  registers record.*, leave.assess, overtime.assess and attendance.record
from definitions import categories
from definitions import service as definitions
from definitions.bundle import METADATA_FILE, read_path, split_metadata
from diagrams.render import render_definition
from engine.policies import DURATION
from engine.specs import OperationServiceTask
from forms.ui import Field, fields

from .views.designer import node_rows

ROOT = Path(__file__).resolve().parent.parent
BPMN_DIR = ROOT / "bpmn"
OUT_DIR = ROOT / "docs" / "processes"
COMMAND = "flowdesk docs processes"
CLAIMED = "claimed by one of: "

# Flow nodes a person acts on or the process runs; events and gateways are left to the diagram.
HUMAN_TYPES = ("userTask", "manualTask", "task")
STEP_TYPES = HUMAN_TYPES + ("serviceTask", "scriptTask", "sendTask", "receiveTask", "businessRuleTask",
                            "callActivity", "subProcess", "transaction", "adHocSubProcess")
MODEL_TYPES = {
    "fixed": "fixed (固定流程): steps and people as modelled",
    "predefined": "predefined (预定义流程): fixed steps; the initiator may change the people of each step",
    "custom": "custom (自定义流程)",
}
GROUP_KINDS = {"dept": "members of department", "department": "members of department",
               "role": "holders of role", "position": "holders of position", "group": "members of work group"}
STRATEGIES = {"role": "holders of role", "department": "members of department",
              "position": "holders of position", "group": "members of work group"}
COUNTERSIGN = {
    "any": "或签: the first approval decides; rejected only when every member rejects",
    "all": "会签: every member must approve; one rejection rejects the step",
    "majority": "票签: more than half must approve",
    "sequential": "依次: members in turn; the first rejection stops it",
    "random": "随机: one member picked at random decides",
    "notify": "传阅: every member reads it (no decision)",
}
POLICIES = {
    "onReject": {"end": "a rejection ends the request", "initiator": "a rejection goes back to the initiator",
                 "route": "a rejection follows the diagram"},
    "returnTo": {"any": "may return it to any earlier step", "previous": "may return it to the previous step",
                 "initiator": "may return it to the initiator", "none": "cannot return it"},
    "onResubmit": {"rerun": "after a return the route runs again from there",
                   "backToReturner": "after a return it comes straight back here",
                   "ask": "whoever returns it chooses how it comes back"},
    "onNoAssignee": {"initiator": "nobody found: the lane's group, else the initiator",
                     "admin": "nobody found: the administrators", "leader": "nobody found: the department leader",
                     "skip": "nobody found: skipped as approved", "error": "nobody found: the step fails"},
    "onSelfApproval": {"allow": "the initiator may decide it", "skip": "skipped when it would go to the initiator",
                       "superior": "goes to the initiator's superior instead of the initiator"},
    "onOverdue": {"notify": "overdue: notices only", "approve": "overdue: approved automatically",
                  "reject": "overdue: rejected automatically", "escalate": "overdue: goes to the holder's superior"},
}
POLICY_ORDER = ("onReject", "returnTo", "onResubmit", "onSelfApproval", "onNoAssignee", "onOverdue",
                "remindBefore", "urgeInterval")
KIND_WORDS = {
    "string": "text", "textarea": "long text", "email": "e-mail", "number": "number", "integer": "whole number",
    "money": "money", "percent": "percent", "date": "date", "date-time": "date and time", "daterange": "date range",
    "boolean": "yes/no", "choice": "choice", "multichoice": "several choices", "user": "user",
    "department": "department", "attachments": "attachments", "richtext": "rich text", "table": "table",
    "json": "data",
}
UNITS = (("Y", "year"), ("M", "month"), ("W", "week"), ("D", "day"), ("H", "hour"), ("TM", "minute"), ("S", "second"))


@dataclass
class Bundle:
    """One process folder: its key, metadata, files and compiled model."""

    key: str
    meta: dict
    files: dict[str, bytes]
    model: object

    @property
    def forms(self) -> dict[str, dict]:
        """Return the bundle's form schemas by file name."""
        return {name: json.loads(data) for name, data in sorted(self.files.items())
                if name.endswith(".json") and name != METADATA_FILE}


def load_bundle(folder: Path) -> Bundle:
    """Read and compile one process folder of bpmn/."""
    files = read_path(folder)
    model_files, meta = split_metadata(files)
    model = definitions.validate_bundle(model_files, primary=meta.get("process_id"))
    return Bundle(key=meta.get("key") or folder.name, meta=meta, files=model_files, model=model)


def shipped_folders(bpmn_dir: Path | None = None) -> list[Path]:
    """List the folders of bpmn/ that hold a process.json, by name."""
    return sorted(p for p in (bpmn_dir or BPMN_DIR).iterdir() if (p / METADATA_FILE).is_file())


def generate(bpmn_dir: Path | None = None) -> dict[str, str]:
    """Return every page and diagram of the library, by file name inside docs/processes/."""
    pages: dict[str, str] = {}
    for folder in shipped_folders(bpmn_dir):
        pages.update(bundle_pages(load_bundle(folder)))
    return pages


def display_path(path: Path) -> str:
    """Name a path relative to the project when it lies inside it."""
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def bundle_pages(bundle: Bundle) -> dict[str, str]:
    """Return the page and the diagram of one bundle."""
    return {f"{bundle.key}.md": page(bundle), f"{bundle.key}.svg": diagram(bundle)}


def diagram(bundle: Bundle) -> str:
    """Draw the bundle's primary process from its own layout, in English."""
    bpmn = {name: data for name, data in bundle.files.items() if name.endswith(".bpmn")}
    svg = render_definition(bpmn, bundle.model.primary_process_id, lang="en")
    return svg if svg.endswith("\n") else svg + "\n"


def differences(pages: dict[str, str], out_dir: Path | None = None) -> list[str]:
    """Describe every generated file that is missing or differs on disk, and files nothing generates."""
    out_dir = out_dir or OUT_DIR
    out = []
    for name, text in sorted(pages.items()):
        path = out_dir / name
        if not path.is_file():
            out.append(f"{name}: missing")
        elif path.read_bytes() != text.encode("utf-8"):
            out.append(f"{name}: out of date")
    if out_dir.is_dir():
        for path in sorted(out_dir.iterdir()):
            if path.suffix in (".md", ".svg") and path.name not in pages:
                out.append(f"{path.name}: no process generates it (remove it)")
    return out


def write(pages: dict[str, str], out_dir: Path | None = None) -> list[str]:
    """Write the files that are missing or differ; return their names."""
    out_dir = out_dir or OUT_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in sorted(pages.items()):
        path, data = out_dir / name, text.encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
            written.append(name)
    return written


# --- The page -------------------------------------------------------------------------------------------------


def page(bundle: Bundle) -> str:
    """Write the Markdown page of one bundle."""
    rows = steps(bundle)
    parts = [
        f"<!-- Generated by `{COMMAND}` from bpmn/{bundle.key}/: edit the bundle and run it again. -->",
        f"# {bundle.meta.get('name') or bundle.key}", "",
        f"[The process library](../processes.md) › `{bundle.key}`", "",
        *facts(bundle), "",
        _cell(bundle.meta.get("description", "")), "",
        f"**Roles at a glance:** {roles_at_a_glance(rows)}.", "",
        "## Diagram", "",
        f"![{_english(bundle.meta.get('name') or bundle.key)}: the process diagram]({bundle.key}.svg)", "",
        "## Steps and roles", "",
        "In the order of the model file. Gateways and events are in the diagram; due times in working time "
        "count on the business calendar of the person who holds the task.", "",
        "| Step | Type | Who acts | Form | Due | Rules and parameters |",
        "|---|---|---|---|---|---|",
        *(_row(row["cells"]) for row in rows), "",
        *route_section(bundle),
        "## Forms", "",
        *forms_section(bundle, rows),
    ]
    return "\n".join(parts).rstrip("\n") + "\n"


def facts(bundle: Bundle) -> list[str]:
    """Return the table of key, names, category, model type and files."""
    meta = bundle.meta
    english, _, chinese = str(meta.get("name") or bundle.key).partition(" / ")
    labels = {code: f"{en} / {zh}" for code, zh, en in categories.SHIPPED}
    category = meta.get("category") or categories.DEFAULT
    model_type = meta.get("model_type", "custom")
    if model_type == "custom" and meta.get("route"):
        model_type_text = MODEL_TYPES["custom"] + ": the requester lays out the route when starting (free flow)"
    else:
        model_type_text = MODEL_TYPES.get(model_type, model_type)
    files = ", ".join(f"`{name}`" for name in sorted(bundle.files, key=lambda n: (not n.endswith(".bpmn"), n)))
    return ["| | |", "|---|---|",
            _row(["Key", f"`{bundle.key}` (folder `bpmn/{bundle.key}/`)"]),
            _row(["Name", f"{english} (English) · {chinese} (中文)" if chinese else english]),
            _row(["Category", f"{labels.get(category, category)} (`{category}`)"]),
            _row(["Model type", model_type_text]),
            _row(["Files", f"{files}, `process.json`"])]


def route_section(bundle: Bundle) -> list[str]:
    """Describe a free-flow process's route block: default steps, bounds, rules and guards."""
    route = bundle.meta.get("route")
    if not isinstance(route, dict):
        return []
    lines = ["## Free-flow route", "",
             f"The requester lays out {route.get('min_steps', 1)} to {route.get('max_steps', '?')} steps when "
             f"starting; each step's people decide under one of the rules "
             f"{', '.join(f'`{r}`' for r in route.get('rules') or [])}. Every step uses the task form "
             f"`{route.get('task_form', '')}`.", "", "Steps offered at first:", ""]
    for step in route.get("steps") or []:
        who = ", ".join(f"{kind} `{step[kind]}`" for kind in ("role", "department", "users") if step.get(kind))
        lines.append(f"* {step.get('name', '')}: {who}")
    guards = route.get("guards") or []
    if guards:
        lines += ["", "Guards checked when starting:", ""]
        for guard in guards:
            lines.append(f"* when `{guard.get('when')}`, a step of department `{guard.get('department')}` is "
                         f"needed: “{guard.get('message', '')}”")
    return lines + [""]


# --- Steps and roles --------------------------------------------------------------------------------------------


def steps(bundle: Bundle) -> list[dict]:
    """Return the start events and steps of the model with the table cells of each."""
    operations = service_operations(bundle.model)
    field_names = {name for schema in bundle.forms.values() for name in (schema.get("properties") or {})}
    out = []
    for row in node_rows(bundle.model.elements):
        if row["type"] == "startEvent" and row["process_id"] == bundle.model.primary_process_id:
            people = ["the initiator (starts the request)"]
        elif row["type"] in STEP_TYPES:
            people = who(row, operations.get(row["id"]), field_names)
        else:
            continue
        notes = rules(row) + parameters(operations.get(row["id"]))
        out.append({"row": row, "people": people, "cells": [
            _name(row), _words(row["type"]), "; ".join(people), _form_cell(row["form_key"], bundle.forms),
            due(row["due_date"], field_names), "; ".join(notes)]})
    return out


def service_operations(model) -> dict[str, tuple[str | None, dict]]:
    """Map every service task id to its operation name and parameters, from the compiled specs."""
    found: dict[str, tuple[str | None, dict]] = {}
    for pid in model.process_ids:
        for spec in [model.specs[pid], *model.subprocess_specs[pid].values()]:
            for task_spec in spec.task_specs.values():
                if isinstance(task_spec, OperationServiceTask):
                    found[task_spec.bpmn_id] = (task_spec.operation_name, dict(task_spec.operation_params or {}))
    return found


def who(row: dict, operation: tuple | None, field_names: set[str]) -> list[str]:
    """Say in words who acts on a step, or what the process does there."""
    kind = row["type"]
    if kind == "serviceTask" and operation:
        name = operation[0]
        text = definitions.OPERATIONS.descriptions.get(name or "", "").rstrip(".")
        return [f"the process runs `{name}`" + (f": {text}" if text else "") + _loop(row)]
    if kind == "scriptTask":
        return ["the process runs a script" + _loop(row)]
    if kind not in HUMAN_TYPES:
        return [f"the process ({_words(kind)})" + _loop(row)]
    variable = (row["multi_instance"] or {}).get("element_variable")
    context = {"fields": field_names, "each": (variable, (row["multi_instance"] or {}).get("collection"))}
    people = _assignment(row, context)
    if not row["multi_instance"]:
        return people
    named = any(f"`{_bare(context['each'][1] or '')}`" in text for text in people)
    return [*people, _members(row, named)]


def _assignment(row: dict, context: dict) -> list[str]:
    """Describe the assignee, candidates, picks or default people of a human step."""
    policies = row["policies"]
    if policies.get("assignment") == "initiatorPicks":
        return [f"{_pick_count(policies)} picked by the initiator on the start page"]
    if policies.get("assignment") == "approverPicks":
        return [f"{_pick_count(policies)} picked by whoever completes the step before"]
    out = []
    if row["assignee"]:
        out.append(person(row["assignee"], context))
    candidates = [person(u, context) for u in row["candidate_users"]] + [group(g) for g in row["candidate_groups"]]
    if candidates:
        out.append(f"{CLAIMED}{'; '.join(candidates)}")
    if not out:
        out.append(f"the members of lane `{row['lane']}`" if row["lane"] else "the initiator (nobody is modelled)")
    return out


def _pick_count(policies: dict) -> str:
    """Say whether a picked step goes to one person or is offered to several."""
    return "people (any of them claims it)" if policies.get("pickCount") == "many" else "one person"


def _members(row: dict, named: bool = False) -> str:
    """Describe a multi-instance human step: its members (unless already named) and countersign rule."""
    loop = row["multi_instance"]
    rule = loop.get("countersign")
    text = "a task each" if named else f"one task per item of `{_bare(loop.get('collection') or '')}`"
    if rule:
        words = COUNTERSIGN.get(rule) or (f"票签: at least {rule.split(':', 1)[1]} must approve"
                                          if rule.startswith("ratio:") else rule)
        return f"{text}; countersign `{rule}` ({words})"
    return text + (", in turn" if loop.get("sequential") else ", all at once")


def _loop(row: dict) -> str:
    """Describe how a multi-instance automatic step repeats."""
    loop = row["multi_instance"]
    if not loop:
        return ""
    order = "in turn" if loop.get("sequential") else "all at once"
    return f" (once per item of `{_bare(loop.get('collection') or '')}`, {order})"


def person(text: str, context: dict) -> str:
    """Say who an assignee or candidate-user entry names: a user, a field, or an expression glossed."""
    raw = text.strip()
    if not raw.startswith(("${", "#{")):
        return f"user `{raw}`"
    expr = _bare(raw)
    words = gloss(expr, context)
    if re.fullmatch(r"\w+", expr):
        return words
    return f"{words} ({_code(raw)})" if words else _code(raw)


def gloss(expr: str, context: dict) -> str | None:
    """Put a simple assignment expression into words; None when it is more than a few known forms."""
    expr = expr.strip()
    conditional = re.fullmatch(r"(.+?) if (.+) else (.+)", expr)
    if conditional:
        return _conditional(*conditional.groups(), context)
    alternatives = expr.split(" or ")
    if len(alternatives) > 1:
        words = [gloss(part, context) for part in alternatives]
        return ", else ".join(words) if all(words) else None
    return _term(expr, context)


def _conditional(then: str, condition: str, otherwise: str, context: dict) -> str | None:
    """Put `a if condition else b` into words."""
    first, second = gloss(then, context), gloss(otherwise, context)
    if not first or not second:
        return None
    if then == f"{condition}[0]":  # `position('gm')[0] if position('gm') else ...`: the first one, if any
        return f"{first}, else {second}"
    if first == "nobody":
        return f"{second}, unless `{condition}`"
    if second == "nobody":
        return f"{first}, if `{condition}`"
    return f"{first} if `{condition}`, else {second}"


def _term(expr: str, context: dict) -> str | None:
    """Put one name, strategy call or literal into words."""
    variable, collection = context["each"]
    if expr in ("None", "[]"):
        return "nobody"
    if expr == "initiator":
        return "the initiator"
    if variable and expr == variable:
        return f"each person in `{_bare(collection or '')}`"
    if re.fullmatch(r"\w+", expr):
        where = "field" if expr in context["fields"] else "variable"
        return f"the person in {where} `{expr}`"
    call = re.fullmatch(r"(\w+)\((\w+|'[^']*')\)(\[0\])?", expr)
    if not call:
        return None
    name, arg, first = call.groups()
    return _strategy(name, arg, bool(first), variable, _bare(collection or ""))


def _strategy(name: str, arg: str, first: bool, variable: str | None, collection: str) -> str | None:
    """Put one assignment strategy call into words."""
    literal = arg.startswith("'")
    code = arg.strip("'")
    if name in ("superior", "leader") and arg == "initiator":
        return "the initiator's direct superior" if name == "superior" else "the initiator's department leader"
    if name == "department_leader":
        if literal:
            return f"the leader of department `{code}`"
        if arg == variable:
            return f"the leader of each department in `{collection}`"
        return f"the leader of the department in field `{code}`"
    if name in STRATEGIES and literal:
        words = f"{STRATEGIES[name]} `{code}`"
        return words.replace("holders of", "the first holder of").replace("members of", "the first member of") \
            if first else words
    return None


def group(text: str) -> str:
    """Say what a candidate group names: a department, role, position, work group or plain group."""
    raw = text.strip()
    built = re.fullmatch(r"'(\w+):' \+ (\w+)", _bare(raw))
    if built and built.group(1) in GROUP_KINDS:
        members, unit = GROUP_KINDS[built.group(1)].rsplit(" ", 1)
        return f"{members} the {unit} in variable `{built.group(2)}` ({_code(raw)})"
    if raw.startswith(("${", "#{")):
        return _code(raw)
    kind, _, code = raw.partition(":")
    if code and kind in GROUP_KINDS:
        return f"{GROUP_KINDS[kind]} `{code}` (`{raw}`)"
    return f"members of group `{raw}`"


def rules(row: dict) -> list[str]:
    """Put the step's flowdesk.* policies into words, in a fixed order."""
    out = []
    for name in POLICY_ORDER:
        value = row["policies"].get(name)
        if value is None:
            continue
        text = str(value).strip()
        if name == "remindBefore":
            out.append(f"reminder {duration(text)} before the due time")
        elif name == "urgeInterval":
            out.append(f"may be urged once every {duration(text)}")
        elif name == "onOverdue" and text.startswith("jump:"):
            out.append(f"overdue: moves to step `{text[5:]}`")
        else:
            out.append(POLICIES[name].get(text, f"`{name}` = `{text}`"))
    return out


def parameters(operation: tuple | None) -> list[str]:
    """List a service task's parameters, long expressions by name only."""
    if not operation or not operation[1]:
        return []
    shown = [f"{_code(f'{name}={value}')}" if len(str(value)) <= 40 else f"`{name}`"
             for name, value in operation[1].items()]
    return ["parameters " + ", ".join(shown)]


def due(value: str | None, field_names: set[str] = frozenset()) -> str:
    """Say when a step is due: a working-time duration in words, else the expression."""
    if not value:
        return ""
    text = value.strip()
    if DURATION.fullmatch(text.upper()):
        return duration(text, "working ")
    inner = _bare(text)
    if re.fullmatch(r"\w+", inner):
        return f"the date in {'field' if inner in field_names else 'variable'} `{inner}`"
    helper = re.fullmatch(r"work(days|hours)\((\w+)\)", inner)
    if helper:
        unit, amount = helper.groups()
        unit = "working day" if unit == "days" else "working hour"
        if amount.isdigit():
            return f"{amount} {unit}{'' if amount == '1' else 's'}"
        return f"the {unit}s in {'field' if amount in field_names else 'variable'} `{amount}`"
    return _code(text)


def duration(text: str, adjective: str = "") -> str:
    """Put an ISO 8601 duration such as P1DT4H into words."""
    match = DURATION.fullmatch(text.upper())
    if not match:
        return _code(text)
    date_part, _, time_part = text.upper().partition("T")
    found = re.findall(r"(\d+(?:\.\d+)?)([YMWD])", date_part) + \
        [(n, "TM" if u == "M" else u) for n, u in re.findall(r"(\d+(?:\.\d+)?)([HMS])", time_part)]
    names = dict(UNITS)
    return " ".join(f"{n} {adjective}{names[u]}{'' if n == '1' else 's'}" for n, u in found)


def roles_at_a_glance(rows: list[dict]) -> str:
    """List the distinct people a request meets, in the order they first act."""
    seen: list[str] = []
    for item in rows:
        if item["row"]["type"] in HUMAN_TYPES or item["row"]["type"] == "startEvent":
            for text in item["people"]:
                short = re.sub(r" \(`[^`]*`\)| \(starts the request\)|^(one task per item|a task each).*", "", text)
                short = short.removeprefix(CLAIMED)
                if short and short not in seen:
                    seen.append(short)
    automatic = [r for r in rows if r["row"]["type"] not in HUMAN_TYPES and r["row"]["type"] != "startEvent"]
    if automatic:
        seen.append(f"and the process itself ({len(automatic)} automatic step{'s' if len(automatic) > 1 else ''})")
    return "; ".join(seen)


# --- Forms --------------------------------------------------------------------------------------------------------


def forms_section(bundle: Bundle, rows: list[dict]) -> list[str]:
    """Describe every form of the bundle: the start form first, then task forms in step order, then others."""
    schemas = bundle.forms
    users: dict[str, list[str]] = {}
    for item in rows:
        name = _form_file(item["row"]["form_key"], schemas)
        if name:
            users.setdefault(name, []).append(item["row"]["name"] or item["row"]["id"])
    route_form = (bundle.meta.get("route") or {}).get("task_form")
    if route_form in schemas:
        users.setdefault(route_form, []).append("every step of the route")
    start = next((_form_file(i["row"]["form_key"], schemas) for i in rows if i["row"]["type"] == "startEvent"), None)
    order = [n for n in users if n != start]
    rest = [n for n in schemas if n not in users and n != start]
    out: list[str] = []
    for name in ([start] if start else []) + order + rest:
        heading = "Start form" if name == start else ("Task form" if name in users else "Form (not used by a step)")
        out += form_table(name, schemas[name], heading, users.get(name, []) if name != start else [])
    return out


def form_table(name: str, schema: dict, heading: str, used_by: list[str]) -> list[str]:
    """Describe one form: its title, where it is used and a table of its fields."""
    lines = [f"### {heading}: {_cell(schema.get('title') or name)} (`{name}`)", ""]
    if heading == "Start form":
        lines += ["Filled in by the initiator when starting the request.", ""]
    elif used_by:
        lines += ["Used by: " + ", ".join(_cell(u) for u in used_by) + ".", ""]
    listed = fields(schema)
    lines += ["| Field | Title | Kind | Required |", "|---|---|---|---|"]
    lines += [_row(_field_cells(f)) for f in listed]
    for table in (f for f in listed if f.kind == "table"):
        lines += ["", f"Columns of `{table.name}` ({_cell(table.title)}):", "",
                  "| Column | Title | Kind | Required |", "|---|---|---|---|"]
        lines += [_row(_field_cells(c)) for c in table.columns]
    return lines + [""]


def _field_cells(item: Field) -> list[str]:
    """Return the cells of one field: name, title, kind and whether it is required."""
    shown_if = item.schema.get("x-visible-if")
    required = ("required when shown" if shown_if is not None else "required") if item.required else ""
    return [f"`{item.name}`", item.title, field_kind(item), required]


def field_kind(item: Field) -> str:
    """Say what kind of field this is, with its options, columns, computation and condition."""
    prop = item.schema
    words = KIND_WORDS.get(item.kind, item.kind)
    if item.kind == "reference":
        words = f"record of type `{prop['x-reference']}`"
    elif item.kind == "dictionary":
        words = f"choice from dictionary `{prop['x-dictionary']}`"
    elif item.kind == "multichoice" and (prop.get("items") or {}).get("format") == "department":
        words = "departments"
    elif item.kind == "money" and prop.get("x-currency"):
        words = f"money ({prop['x-currency']})"
    elif item.kind == "attachments" and prop.get("maxItems"):
        words = f"attachments (up to {prop['maxItems']})"
    elif item.kind == "table":
        names = ", ".join(f"`{c.name}`" for c in item.columns)
        words = f"table of {_rows_bounds(prop)}, columns {names} (below)"
    parts = [words + _range(item), *_options(item)]
    if prop.get("x-computed"):
        parts.append(f"computed: {_code(str(prop['x-computed']))}")
    if prop.get("x-visible-if") is not None:
        parts.append(shown_if(prop["x-visible-if"]))
    return "; ".join(parts)


def _options(item: Field) -> list[str]:
    """List a choice field's options as value and label."""
    if item.kind not in ("choice", "multichoice") or not item.options:
        return []
    return ["options " + ", ".join(f"`{value}` {label}" for value, label in item.options)]


def _range(item: Field) -> str:
    """Give a number's bounds, when the schema sets them."""
    if item.kind not in ("number", "integer", "money", "percent"):
        return ""
    low = item.schema.get("minimum", item.schema.get("exclusiveMinimum"))
    high = item.schema.get("maximum")
    if "minimum" not in item.schema and low is not None:
        return f", more than {_num(low)}" + (f" and at most {_num(high)}" if high is not None else "")
    if low is not None:
        return f", {_num(low)} to {_num(high)}" if high is not None else f", at least {_num(low)}"
    return f", at most {_num(high)}" if high is not None else ""


def _rows_bounds(prop: dict) -> str:
    """Say how many rows a detail table takes."""
    low, high = prop.get("minItems"), prop.get("maxItems")
    if low and high:
        return f"{low} to {high} rows"
    if high:
        return f"up to {high} rows"
    return f"at least {low} rows" if low else "rows"


def shown_if(condition) -> str:
    """Put an x-visible-if condition into words."""
    if isinstance(condition, str):
        return f"shown if {_code(condition)}"
    field = f"`{condition.get('field')}`"
    if "equals" in condition:
        return f"shown if {field} is `{condition['equals']}`"
    if "in" in condition:
        return f"shown if {field} is one of " + ", ".join(f"`{v}`" for v in condition["in"])
    return f"shown if {field} is {'filled' if condition.get('filled') else 'empty'}"


# --- Small helpers ------------------------------------------------------------------------------------------------


def _form_file(form_key: str | None, schemas: dict) -> str | None:
    """Return the bundle file a form key names, or None."""
    if not form_key:
        return None
    name = form_key.split(":", 1)[-1].strip()
    return next((n for n in (name, f"{name}.json") if n in schemas), None)


def _form_cell(form_key: str | None, schemas: dict) -> str:
    """Name a step's form file and title."""
    name = _form_file(form_key, schemas)
    if not name:
        return f"`{form_key}` (not in the bundle)" if form_key else ""
    return f"`{name}` ({schemas[name].get('title') or name})"


def _name(row: dict) -> str:
    """Return a step's name and id."""
    return f"{row['name']} (`{row['id']}`)" if row["name"] else f"`{row['id']}`"


def _words(kind: str) -> str:
    """Turn a BPMN element type such as userTask into words."""
    return re.sub(r"(?<!^)([A-Z])", r" \1", kind).lower()


def _bare(text: str) -> str:
    """Strip the ${...} or #{...} around an expression."""
    text = text.strip()
    return text[2:-1].strip() if text.startswith(("${", "#{")) and text.endswith("}") else text


def _english(name: str) -> str:
    """Return the English half of a bilingual name."""
    return name.partition(" / ")[0]


def _code(text: str) -> str:
    """Quote text as inline code, whatever backticks it holds."""
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _num(value) -> str:
    """Write a number without a needless .0."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _cell(text) -> str:
    """Make text safe for one Markdown table cell or line."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _row(cells: list[str]) -> str:
    """Write one Markdown table row."""
    return "| " + " | ".join(_cell(c) for c in cells) + " |"

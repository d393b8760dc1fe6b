"""The route table of a free-flow process's start page (自由流程): reading it from the form, and its choices."""
from __future__ import annotations

import re

from flask import request
from flask_babel import gettext as _

from engine.route import MAX_STEPS_LIMIT
from org import service as org

KINDS = ("users", "role", "department")
BLANK_ROWS = 2  # empty rows offered without script, for steps to add


def rule_labels() -> dict[str, str]:
    """Return the countersign rules a step may use, in the reader's language."""
    return {"single": _("One person decides"), "any": _("Any one approves (或签)"),
            "all": _("Everyone approves (会签)"), "majority": _("Majority (票签)"),
            "sequential": _("One after another (依次)")}


def as_rows(steps: list[dict]) -> list[dict]:
    """Return route steps as the table's rows: name, kind (users, role, department), who and rule."""
    rows = []
    for step in steps:
        kind = next((k for k in ("role", "department") if step.get(k)), "users")
        who = ", ".join(step.get("users") or []) if kind == "users" else step[kind]
        rows.append({"name": step.get("name", ""), "kind": kind, "who": who, "rule": step.get("rule") or "single"})
    return rows


def posted_route() -> tuple[list[dict], list[dict]]:
    """Read the route table from the posted form: the steps for the service, and the rows to show again."""
    steps, rows = [], []
    for index in range(MAX_STEPS_LIMIT + BLANK_ROWS + 10):
        name = (request.form.get(f"route-{index}-name") or "").strip()
        who = (request.form.get(f"route-{index}-who") or "").strip()
        kind = request.form.get(f"route-{index}-kind") or "users"
        rule = request.form.get(f"route-{index}-rule") or "single"
        if not name and not who:
            continue  # an empty row: a step not added
        kind = kind if kind in KINDS else "users"
        rows.append({"name": name, "kind": kind, "who": who, "rule": rule})
        if kind == "users":
            users = [u for u in re.split(r"[\s,;，；]+", who) if u]
            steps.append({"name": name, "users": users, "rule": rule})
        else:
            steps.append({"name": name, kind: who, "rule": "single"})
    return steps, rows


def choices(session) -> dict:
    """Return the roles and departments a step may be given to, for the table's pickers."""
    return {"roles": [(r.code, r.name if not r.name_en else f"{r.name_en} / {r.name}")
                      for r in org.list_units(session=session, kind="role")],
            "departments": [(d.code, d.name if not d.name_en else f"{d.name_en} / {d.name}")
                            for d in org.list_units(session=session, kind="department")]}

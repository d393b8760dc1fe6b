"""Node-level field permissions: which instance fields a task's form lets its people edit, see or not see.

A task form says `x-field-permissions: {"amount": "editable", "salary": "hidden"}` (and, as before,
`x-hidden-fields: ["salary"]`). The instance's fields (the start form's and any data the instance holds)
are read-only unless said otherwise; the task form's own fields are editable unless said otherwise.
An editable instance field is checked with the start form's definition of it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import FieldError
from .kinds import properties

EMPTY = {"type": "object", "properties": {}}


def permissions(schema: dict | None) -> dict[str, str]:
    """Return each named field's state (editable, readonly, hidden) from x-field-permissions and x-hidden-fields."""
    schema = schema or {}
    raw = schema.get("x-field-permissions")
    out = {str(k): v for k, v in raw.items() if v in ("editable", "readonly", "hidden")} if isinstance(raw, dict) \
        else {}
    names = schema.get("x-hidden-fields") or []
    out.update({str(name): "hidden" for name in names} if isinstance(names, list) else {})
    return out


def hidden_fields(schema: dict | None) -> set[str]:
    """Name the instance fields a task's form hides from the people working on that task."""
    return {name for name, state in permissions(schema).items() if state == "hidden"}


@dataclass
class TaskForm:
    """A task's form with its permissions applied: what a post is checked against and what is locked."""

    schema: dict
    editable_instance: list[str] = field(default_factory=list)
    readonly: list[str] = field(default_factory=list)  # shown as text: locked fields and recomputed totals
    recomputed: list[str] = field(default_factory=list)
    hidden: set[str] = field(default_factory=set)
    locked: set[str] = field(default_factory=set)
    prefill: dict = field(default_factory=dict)

    def refused(self, names) -> dict[str, FieldError]:
        """Return a `readonly` error for each posted name that belongs to a locked field (incl. its cells)."""
        errors = {}
        for name in names:
            owner = next((n for n in self.locked if name == n or name.startswith((f"{n}-", f"{n}["))), None)
            if owner is not None:
                errors[owner] = FieldError("readonly")
        return errors

    def cleared(self, data: dict) -> dict:
        """Return data with None for editable instance fields the person emptied, so the old value goes."""
        gone = {n: None for n in self.editable_instance if n in self.prefill and n not in data}
        return {**data, **gone}


def task_form(task_schema: dict | None, start_schema: dict | None, instance_data: dict | None) -> TaskForm:
    """Combine a task's form with the start form's editable fields, under the task's field permissions."""
    task_schema, start_schema, instance_data = task_schema or EMPTY, start_schema or EMPTY, instance_data or {}
    perms = permissions(task_schema)
    task_props, start_props = properties(task_schema), properties(start_schema)
    task_required = set(task_schema.get("required") or [])
    start_required = set(start_schema.get("required") or [])
    props, required, editable_instance = {}, [], []
    for name, prop in start_props.items():
        if perms.get(name) == "editable" and name not in task_props:
            props[name] = prop
            editable_instance.append(name)
            if name in start_required:
                required.append(name)
    recomputed = []
    if editable_instance:
        # Totals and other computed start fields follow the values the task may change.
        recomputed = [n for n, p in start_props.items() if "x-computed" in p and n not in task_props
                      and perms.get(n) != "hidden"]
        props.update({n: start_props[n] for n in recomputed})
    for name, prop in task_props.items():
        if perms.get(name, "editable") == "editable":
            props[name] = prop
            if name in task_required:
                required.append(name)
    instance_names = set(start_props) | set(instance_data) | set(task_props)
    hidden = {n for n, state in perms.items() if state == "hidden"}
    readonly = [n for n in list(start_props) + list(task_props)
                if (n not in props or n in recomputed) and n not in hidden]
    schema = {k: v for k, v in task_schema.items() if k not in ("properties", "required")}
    schema.update({"type": "object", "properties": props, "required": required})
    return TaskForm(schema=schema, editable_instance=editable_instance, readonly=list(dict.fromkeys(readonly)),
                    recomputed=recomputed,
                    hidden=hidden, locked={n for n in instance_names if n not in props},
                    prefill={n: instance_data[n] for n in editable_instance if n in instance_data})

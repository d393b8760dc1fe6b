"""Tasks: the inbox views, one task with its form, claim, give back and complete."""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _

from definitions import service as definitions
from forms.schema import FieldError, hidden_fields
from instances import inbox, service

from ..db import command, query
from ..views.inbox import filter_from_args
from . import bp
from .common import (
    MAX_PAGE,
    MAX_PAGE_SIZE,
    bool_arg,
    check_form,
    choice_arg,
    instance_json,
    int_arg,
    iso,
    json_body,
    me,
    object_field,
    page_json,
    task_json,
    text_field,
)

DECISIONS = ("approve", "reject")
TASK_ID = "<int:task_id>"
PRIORITY_LIMIT = 1_000_000


def _copy_json(copy) -> dict | None:
    if copy is None:
        return None
    return {"sent_by": copy.sent_by, "element_id": copy.element_id, "note": copy.note,
            "created_at": iso(copy.created_at), "read_at": iso(copy.read_at)}


@bp.get("/tasks")
def list_tasks():
    """List one inbox view (mine, group, done, started, cc) with filters, one page at a time."""
    view = choice_arg("view", inbox.VIEWS, default="mine")
    # Bound the numbers first: the inbox filter checks only their lower limits.
    int_arg("page", 1, 1, MAX_PAGE)
    int_arg("page_size", 25, 1, MAX_PAGE_SIZE)
    int_arg("priority_min", None, -PRIORITY_LIMIT, PRIORITY_LIMIT)
    args = request.args.copy()
    for name in ("overdue", "desc"):
        args[name] = "1" if bool_arg(name) else ""
    flt = filter_from_args(args, view)
    current = me()
    with query() as session:
        page = inbox.list_inbox(session=session, actor=current.actor, flt=flt)
        if view in ("started", "cc"):
            items = [{**instance_json(instance), "copy": _copy_json(copy)} for instance, copy in page.rows]
        else:
            items = [task_json(item, instance) for item, instance in page.rows]
    return jsonify({"view": view, **page_json(items, page.total, page.page, page.page_size)})


def _context(session, task_id: int):
    item = service.get_work_item_or_raise(session=session, work_item_id=task_id, actor=me().actor)
    instance = service.get_instance_or_raise(session=session, instance_id=item.instance_id)
    schema = definitions.get_form(session=session, definition_id=instance.definition_id, form_key=item.form_key)
    return item, instance, schema


@bp.get(f"/tasks/{TASK_ID}")
def get_task(task_id: int):
    """Describe a task with its form schema and its instance's data."""
    with query() as session:
        item, instance, schema = _context(session, task_id)
        out = {**task_json(item, instance), "form": schema}
        hidden = hidden_fields(schema)
        out["instance"]["data"] = {k: v for k, v in (instance.data or {}).items() if k not in hidden}
    return jsonify(out)


@bp.post(f"/tasks/{TASK_ID}/claim")
def claim_task(task_id: int):
    """Take a group task for oneself."""
    with command() as session:
        item = service.claim_task(session=session, work_item_id=task_id, actor=me().actor)
        out = task_json(item, service.get_instance_or_raise(session=session, instance_id=item.instance_id))
    return jsonify(out)


@bp.post(f"/tasks/{TASK_ID}/unclaim")
def unclaim_task(task_id: int):
    """Give a claimed task back to its group."""
    with command() as session:
        item = service.unclaim_task(session=session, work_item_id=task_id, actor=me().actor)
        out = task_json(item, service.get_instance_or_raise(session=session, instance_id=item.instance_id))
    return jsonify(out)


def _task_data(schema: dict | None, data: dict, decision: str | None, comment: str | None) -> dict:
    """Validate completion input like the task page does; raise FormError by field."""
    errors = {name: FieldError("invalid", detail=f"send {name} at the top level, not inside data")
              for name in ("decision", "comment") if name in data}
    data = {name: value for name, value in data.items() if name not in ("decision", "comment")}
    if decision is not None and decision not in DECISIONS:
        errors["decision"] = FieldError("enum")
    if decision == "reject" and not comment:
        errors["comment"] = FieldError("invalid", detail=_("Say why you reject the request."))
    # The decision and comment travel beside the data, but the form's rules (required, length) apply to them.
    properties = (schema or {}).get("properties", {})
    values = {**data, **{name: value for name, value in (("decision", decision), ("comment", comment))
                         if value is not None and name in properties}}
    check_form(schema, values, extra=errors)
    return data


@bp.post(f"/tasks/{TASK_ID}/complete")
def complete_task(task_id: int):
    """Complete a task with form data, a decision (approve or reject) and a comment."""
    body = json_body({"data", "decision", "comment"})
    data = object_field(body, "data")
    decision = text_field(body, "decision", limit=50)
    comment = text_field(body, "comment")
    with command() as session:
        item, _instance, schema = _context(session, task_id)
        data = _task_data(schema, data, decision, comment)
        instance = service.complete_task(session=session, work_item_id=task_id, actor=me().actor, data=data,
                                         decision=decision, comment=comment)
        out = task_json(item, instance)
    return jsonify(out)

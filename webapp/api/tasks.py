"""Tasks: the inbox views, one task with its form, claim, give back and complete."""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _

from forms.schema import FieldError, hidden_fields
from instances import inbox, service, verbs
from instances.errors import InvalidInput
from org.instance_access import watch_clause

from ..db import command, query
from ..views.inbox import filter_from_args
from ..views.processes import refuse_picks
from ..views.tasks import next_pick_nodes, recipient, task_form, task_schema
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
from .instances import visible_or_404

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
    with query() as session:  # opened first: it confirms a remembered token in the same transaction
        current = me()
        page = inbox.list_inbox(session=session, actor=current.actor, flt=flt)
        if view in ("started", "cc"):
            items = [{**instance_json(instance), "copy": _copy_json(copy)} for instance, copy in page.rows]
        else:
            items = [task_json(item, instance) for item, instance in page.rows]
    return jsonify({"view": view, **page_json(items, page.total, page.page, page.page_size)})


def _context(session, task_id: int):
    item = service.get_work_item_or_raise(session=session, work_item_id=task_id, actor=me().actor)
    instance = service.get_instance_or_raise(session=session, instance_id=item.instance_id)
    return item, instance, task_schema(session, item, instance)


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


def _task_data(session, instance, schema: dict | None, data: dict, decision: str | None,
               comment: str | None) -> dict:
    """Check completion input like the task page does, under the task's field permissions; raise FormError."""
    errors = {name: FieldError("invalid", detail=f"send {name} at the top level, not inside data")
              for name in ("decision", "comment") if name in data}
    data = {name: value for name, value in data.items() if name not in ("decision", "comment")}
    if decision is not None and decision not in DECISIONS:
        errors["decision"] = FieldError("enum")
    if decision == "reject" and not comment:
        errors["comment"] = FieldError("invalid", detail=_("Say why you reject the request."))
    form = task_form(session, instance, schema)
    # The decision and comment travel beside the data, but the form's rules (required, length) apply to them.
    properties = form.schema.get("properties", {})
    values = {**data, **{name: value for name, value in (("decision", decision), ("comment", comment))
                         if value is not None and name in properties}}
    checked = check_form(form.schema, values, extra=errors, session=session, locked=form.locked,
                         context=instance.data or {})
    # Leaving an editable field out keeps its value; sending null clears it.
    cleared = {name: None for name in form.editable_instance if name in data and data[name] is None}
    return {**{k: v for k, v in checked.items() if k not in ("decision", "comment")}, **cleared}


@bp.post(f"/tasks/{TASK_ID}/complete")
def complete_task(task_id: int):
    """Complete a task with form data, a decision (approve or reject) and a comment."""
    body = json_body({"data", "decision", "comment", "picks"})
    return _complete(task_id, body, text_field(body, "decision", limit=50))


@bp.post(f"/tasks/{TASK_ID}/approve")
def approve_task(task_id: int):
    """Approve a task: complete it with the decision approve (form data, comment and picks as for complete)."""
    return _complete(task_id, json_body({"data", "comment", "picks"}), "approve")


@bp.post(f"/tasks/{TASK_ID}/reject")
def reject_task(task_id: int):
    """Reject a task with a comment: complete it with the decision reject."""
    return _complete(task_id, json_body({"data", "comment"}, required=("comment",)), "reject")


def _complete(task_id: int, body: dict, decision: str | None):
    data = object_field(body, "data")
    comment = text_field(body, "comment")
    picks = body.get("picks")
    with command() as session:
        # The instance is locked first, so the form is checked against the state the completion acts on.
        locked = service.lock_visible_task(session=session, work_item_id=task_id, actor=me().actor)
        item, instance = locked.item, locked.instance
        schema = task_schema(session, item, instance)
        if item.kind == "resubmit":  # revising a returned request: fields left out keep what was submitted
            kept = (schema or {}).get("properties", {})
            data = {**{k: v for k, v in (instance.data or {}).items() if k in kept}, **data}
        data = _task_data(session, instance, schema, data, decision, comment)
        refuse_picks(session, next_pick_nodes(session, item, instance), picks,
                     required=picks is not None and decision != "reject")
        instance = service.complete_task(session=session, work_item_id=task_id, actor=me().actor, data=data,
                                         decision=decision, comment=comment, picks=picks, locked=locked)
        out = task_json(item, instance)
    return jsonify(out)


# Approval verbs: transfer (转办), delegate (委派) and hand back, urge (催办), carbon copy (抄送).

def _verb_json(item, session) -> dict:
    out = task_json(item, service.get_instance_or_raise(session=session, instance_id=item.instance_id))
    return {**out, "owner": item.owner, "last_urged_at": iso(item.last_urged_at)}


def _to_user(session, body: dict) -> str:
    return recipient(session, text_field(body, "to_user", limit=verbs.MAX_USER_CHARS), "to_user")


def _verb_comment(body: dict) -> str | None:
    return text_field(body, "comment", limit=verbs.MAX_COMMENT_CHARS)


@bp.post(f"/tasks/{TASK_ID}/transfer")
def transfer_task(task_id: int):
    """Hand a task over to another person, who then decides it."""
    body = json_body({"to_user", "comment"}, required=("to_user",))
    with command() as session:
        item = verbs.transfer_task(session=session, work_item_id=task_id, actor=me().actor,
                                   to_user=_to_user(session, body), comment=_verb_comment(body))
        out = _verb_json(item, session)
    return jsonify(out)


@bp.post(f"/tasks/{TASK_ID}/delegate")
def delegate_task(task_id: int):
    """Ask another person for their opinion; the task comes back to the caller to decide."""
    body = json_body({"to_user", "comment"}, required=("to_user",))
    with command() as session:
        item = verbs.delegate_task(session=session, work_item_id=task_id, actor=me().actor,
                                   to_user=_to_user(session, body), comment=_verb_comment(body))
        out = _verb_json(item, session)
    return jsonify(out)


@bp.post(f"/tasks/{TASK_ID}/resolve")
def resolve_delegation(task_id: int):
    """Hand a delegated task back to its owner with an opinion."""
    body = json_body({"comment"})
    with command() as session:
        item = verbs.resolve_delegation(session=session, work_item_id=task_id, actor=me().actor,
                                        comment=_verb_comment(body))
        out = _verb_json(item, session)
    return jsonify(out)


@bp.post(f"/tasks/{TASK_ID}/urge")
def urge_task(task_id: int):
    """Remind whoever holds a task of an instance the caller started, at most once an hour."""
    body = json_body({"comment"})
    with command() as session:
        item = verbs.urge_task(session=session, work_item_id=task_id, actor=me().actor, comment=_verb_comment(body))
        out = _verb_json(item, session)
    return jsonify(out)


def copy_json(copy) -> dict:
    """Describe a carbon copy of an instance with when its recipient read it."""
    return {"username": copy.username, "sent_by": copy.sent_by, "note": copy.note,
            "created_at": iso(copy.created_at), "read_at": iso(copy.read_at)}


@bp.post("/instances/<int:instance_id>/cc")
def copy_instance(instance_id: int):
    """Send a copy of an instance to people; those with an unread copy are skipped."""
    body = json_body({"to_users", "note"}, required=("to_users",))
    names = body["to_users"]
    if not isinstance(names, list) or not names or len(names) > verbs.MAX_COPY_RECIPIENTS:
        raise InvalidInput(f"to_users must be a list of 1 to {verbs.MAX_COPY_RECIPIENTS} user names",
                           details={"field": "to_users"})
    note = text_field(body, "note", limit=verbs.MAX_COMMENT_CHARS)
    current = me()
    with command() as session:
        visible_or_404(session, instance_id)
        names = [recipient(session, name, "to_users") for name in names]
        copies = verbs.copy_instance(session=session, instance_id=instance_id, actor=current.actor, to_users=names,
                                     note=note, watch=watch_clause(session, current.actor))
        sent = [c.username for c in copies]
        out = {"instance_id": instance_id, "sent": sent, "skipped": sorted(set(names) - set(sent)),
               "copies": [copy_json(c) for c in verbs.list_copies(session=session, instance_id=instance_id)]}
    return jsonify(out)

"""The task page: its form, the instance's data, the history, the diagram and the actions."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from attachments import service as attachments
from definitions import service as definitions
from diagrams.text import localize
from forms import schema as forms
from instances import service

from ..db import command, query
from ..i18n import select_locale
from ..uploads import save_uploads
from .instances import instance_context

bp = Blueprint("tasks", __name__, url_prefix="/tasks")
DECISIONS = ("approve", "reject")


class _Refused(Exception):
    """Raised inside the command so stored uploads roll back with a refused form."""


def _context(session, task_id: int):
    item = service.get_work_item_or_raise(session=session, work_item_id=task_id, actor=current_user.actor)
    instance = service.get_instance_or_raise(session=session, instance_id=item.instance_id)
    schema = definitions.get_form(session=session, definition_id=instance.definition_id, form_key=item.form_key)
    return item, instance, schema


def _task_fields(schema: dict | None) -> list:
    # The decision comes from the approve/reject buttons and the comment has its own box.
    return [f for f in forms.fields(schema or {}) if f.name not in ("decision", "comment")]


@bp.get("/<int:task_id>")
@login_required
def show(task_id: int):
    """Show a task with everything needed to decide on it."""
    with query() as session:
        item, instance, schema = _context(session, task_id)
        context = instance_context(session, instance, forms.hidden_fields(schema))
    return render_template("tasks/show.html", item=item, fields=_task_fields(schema), errors={}, values={},
                           **context)


@bp.post("/<int:task_id>/complete")
@login_required
def complete(task_id: int):
    """Complete a task with the form, a decision and a comment."""
    with query() as session:
        item, instance, schema = _context(session, task_id)
        context = instance_context(session, instance, forms.hidden_fields(schema))
    decision = request.form.get("decision") or None
    comment = (request.form.get("comment") or "").strip() or None
    values = request.form.to_dict()
    errors = {}
    if decision is not None and decision not in DECISIONS:
        errors["decision"] = forms.FieldError("enum")
    if decision == "reject" and not comment:
        errors["comment"] = forms.FieldError("invalid", detail=_("Say why you reject the request."))
    fields = _task_fields(schema)
    if decision:
        values["decision"] = decision
    form_schema = schema or {"type": "object", "properties": {}}
    try:
        with command() as session:
            uploads, upload_errors = save_uploads(session, form_schema, current_user.username)
            data, more = forms.check(form_schema, {**values, **uploads})
            errors = {**more, **upload_errors, **errors}
            if errors:
                raise _Refused()
            data.pop("decision", None)
            comment = data.pop("comment", comment)
            service.complete_task(session=session, work_item_id=task_id, actor=current_user.actor, data=data,
                                  decision=decision, comment=comment)
            attachments.link(session=session, ids=[i for ids in uploads.values() for i in ids],
                             actor=current_user.username, instance_id=instance.id, work_item_id=task_id)
    except _Refused:
        return render_template("tasks/show.html", item=item, fields=fields, errors=errors, values=values,
                               **context), 422
    flash(_("Done: %(task)s", task=localize(item.name, select_locale())), "success")
    return redirect(url_for("inbox.index"))


@bp.post("/<int:task_id>/claim")
@login_required
def claim(task_id: int):
    """Claim a group task."""
    with command() as session:
        service.claim_task(session=session, work_item_id=task_id, actor=current_user.actor)
    flash(_("The task is yours now."), "success")
    return redirect(url_for("tasks.show", task_id=task_id))


@bp.post("/<int:task_id>/unclaim")
@login_required
def unclaim(task_id: int):
    """Give a claimed task back to the group."""
    with command() as session:
        service.unclaim_task(session=session, work_item_id=task_id, actor=current_user.actor)
    flash(_("The task is back in the group's list."), "info")
    return redirect(url_for("inbox.index", view="group"))

"""The task page: its form, the instance's data, the history, the diagram and the actions."""
from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from attachments import service as attachments
from definitions import service as definitions
from diagrams.text import localize
from forms import schema as forms
from instances import service, verbs
from instances.actors import SYSTEM
from instances.errors import InstanceError, InvalidInput
from org import service as org
from org.errors import NotFound as OrgNotFound
from org.errors import OrgError
from org.instance_access import watch_clause

from ..db import command, query
from ..i18n import select_locale
from ..uploads import save_uploads
from .instances import _visible_or_404, instance_context

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


# Approval verbs: transfer (转办), delegate (委派) and hand back, urge (催办), carbon copy (抄送).

def recipient(session, username, field: str) -> str:
    """Return the stored user name of an active user, or raise naming the field."""
    name = (username or "").strip() if isinstance(username, str) else ""
    user = org.get_user_by_name(session=session, username=name) if name else None
    if user is None:
        raise OrgNotFound(_("There is no user %(name)s.", name=name), details={"field": field, "username": name})
    if not user.active:
        raise InvalidInput(_("%(name)s has left and cannot receive tasks.", name=user.username),
                           details={"field": field, "username": user.username})
    return user.username


def _refused_here(exc: InstanceError | OrgError, back: str):
    """Show a refusal the user can fix (a wrong name, too soon) on the page they came from."""
    if exc.status not in ("invalid", "conflict", "not_found") or (
            exc.status == "not_found" and "field" not in exc.details):
        raise exc
    if "next_urge_at" in exc.details:
        flash(_("This task was urged recently. You can urge it again after %(when)s.",
                when=exc.details["next_urge_at"][:16].replace("T", " ")), "warning")
    else:
        flash(exc.message, "danger")
    return redirect(back)


def _comment() -> str | None:
    return (request.form.get("comment") or "").strip() or None


def _hand_on(task_id: int, verb, message: str):
    """Run transfer or delegate for the posted user; refusals are shown on the task page."""
    try:
        with command() as session:
            to_user = recipient(session, request.form.get("to_user"), "to_user")
            verb(session=session, work_item_id=task_id, actor=current_user.actor, to_user=to_user,
                 comment=_comment())
    except (InstanceError, OrgError) as exc:
        return _refused_here(exc, url_for("tasks.show", task_id=task_id))
    flash(message % {"name": to_user}, "success")
    return redirect(url_for("inbox.index"))


@bp.post("/<int:task_id>/transfer")
@login_required
def transfer(task_id: int):
    """Hand a task over to another person."""
    return _hand_on(task_id, verbs.transfer_task, _("The task now belongs to %(name)s."))


@bp.post("/<int:task_id>/delegate")
@login_required
def delegate(task_id: int):
    """Ask another person for their opinion; the task comes back to you."""
    return _hand_on(task_id, verbs.delegate_task,
                    _("Delegated to %(name)s; the task comes back to you with their opinion."))


@bp.post("/<int:task_id>/resolve")
@login_required
def resolve(task_id: int):
    """Hand a delegated task back to its owner with your opinion."""
    try:
        with command() as session:
            item = verbs.resolve_delegation(session=session, work_item_id=task_id, actor=current_user.actor,
                                            comment=_comment())
            owner = item.assignee
    except (InstanceError, OrgError) as exc:
        return _refused_here(exc, url_for("tasks.show", task_id=task_id))
    flash(_("Handed back to %(name)s.", name=owner), "success")
    return redirect(url_for("inbox.index"))


@bp.post("/<int:task_id>/urge")
@login_required
def urge(task_id: int):
    """Remind whoever holds a task of a request you started."""
    with query() as session:
        item = service.get_work_item_or_raise(session=session, work_item_id=task_id, actor=SYSTEM)
        back = url_for("instances.show", instance_id=item.instance_id)
    try:
        with command() as session:
            verbs.urge_task(session=session, work_item_id=task_id, actor=current_user.actor, comment=_comment())
    except (InstanceError, OrgError) as exc:
        return _refused_here(exc, back)
    flash(_("Reminder sent."), "success")
    return redirect(back)


@bp.post("/instances/<int:instance_id>/cc")
@login_required
def copy(instance_id: int):
    """Send a copy of an instance to people, for their information."""
    back = url_for("instances.show", instance_id=instance_id)
    raw = request.form.get("to_users") or ""
    try:
        with command() as session:
            _visible_or_404(session, instance_id)
            names = [recipient(session, name, "to_users") for name in re.split(r"[\s,;，；]+", raw) if name]
            copies = verbs.copy_instance(session=session, instance_id=instance_id, actor=current_user.actor,
                                         to_users=names, note=(request.form.get("note") or "").strip() or None,
                                         watch=watch_clause(session, current_user.actor))
            sent = [c.username for c in copies]
    except (InstanceError, OrgError) as exc:
        return _refused_here(exc, back)
    if sent:
        flash(_("Copy sent to %(names)s.", names=", ".join(sent)), "success")
    else:
        flash(_("They already have an unread copy."), "info")
    return redirect(back)

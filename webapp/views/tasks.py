"""The task page: its form, the instance's data, the history, the diagram and the actions."""
from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from attachments import service as attachments
from definitions import service as definitions
from diagrams.text import localize
from forms import permissions as field_permissions
from forms import schema as forms
from forms.permissions import TaskForm
from instances import assists, returns, service, signers, verbs
from instances.actors import SYSTEM
from instances.errors import InstanceError, InvalidInput
from org import service as org
from org.errors import NotFound as OrgNotFound
from org.errors import OrgError
from org.instance_access import watch_clause

from ..db import command, query
from ..errors import error_response
from ..form_lookups import page_lookups, posted_values
from ..i18n import select_locale
from ..uploads import save_uploads
from .instances import _visible_or_404, instance_context
from .processes import pick_problems, posted_picks

bp = Blueprint("tasks", __name__, url_prefix="/tasks")
DECISIONS = ("approve", "reject")


@bp.errorhandler(forms.SchemaProblem)
def _broken_form(exc: forms.SchemaProblem):
    # A model may be deployed with a form that breaks the form dialect; say so instead of failing with a 500.
    return error_response(422, "invalid_form_schema",
                          _("The form of this process cannot be used. Ask its designer to fix it: %(why)s",
                            why=str(exc)))


class _Refused(Exception):
    """Raised inside the command so stored uploads roll back with a refused form."""


def _context(session, task_id: int):
    item = service.get_work_item_or_raise(session=session, work_item_id=task_id, actor=current_user.actor)
    instance = service.get_instance_or_raise(session=session, instance_id=item.instance_id)
    return item, instance, task_schema(session, item, instance)


def start_form(session, instance) -> dict | None:
    """Return the start form of the version an instance runs on."""
    return definitions.get_form(session=session, definition_id=instance.definition_id,
                                form_key=definitions.start_form_key_for(session=session,
                                                                        definition_id=instance.definition_id))


def task_schema(session, item, instance) -> dict | None:
    """Return the form a work item is completed with: a returned request is revised on its start form."""
    if item.kind == "resubmit":
        return start_form(session, instance)
    return definitions.get_form(session=session, definition_id=instance.definition_id, form_key=item.form_key)


def task_form(session, instance, schema: dict | None) -> TaskForm:
    """Return the task's form with its field permissions applied to the instance's fields."""
    return field_permissions.task_form(schema, start_form(session, instance), instance.data or {})


def next_pick_nodes(session, item, instance) -> list[dict]:
    """Return the approverPicks nodes whose people whoever completes this task chooses."""
    if item.kind != "task":  # added signers and a resubmitting initiator choose nobody for later steps
        return []
    elements = definitions.elements_for(session=session, definition_id=instance.definition_id)
    return service.pick_nodes(elements=elements, element_id=item.element_id)


def _page(session, item, instance, schema, *, values: dict | None = None, errors: dict | None = None,
          picks: dict | None = None) -> dict:
    """Gather the task page: the instance's fields read-only, the task's inputs, history and diagram."""
    form = task_form(session, instance, schema)
    lookups = page_lookups(session)
    data = instance.data or {}
    known = {f.name: f for f in forms.fields(start_form(session, instance) or {}, lookups)}
    known.update({f.name: f for f in forms.fields(schema or {}, lookups) if f.name not in known})
    shown = [(known[n], data[n]) for n in form.readonly
             if n in known and n in data and known[n].kind != "attachments" and n not in ("decision", "comment")]
    context = instance_context(session, instance, form.hidden | set(form.editable_instance))
    inputs = [f for f in forms.fields(form.schema, lookups)
              if f.name not in ("decision", "comment") and f.name not in form.recomputed]
    # The task's own read-only list replaces the instance page's: it follows this step's permissions.
    nodes = next_pick_nodes(session, item, instance) if item.status == "open" else []
    going_back = returns.choices_for(session=session, item=item, instance=instance) if (
        item.status == "open" and not item.owner) else {"stops": [], "resubmit": "rerun"}
    from .task_moves import signer_positions  # task_moves imports this module: bind late

    elements = definitions.elements_for(session=session, definition_id=instance.definition_id)
    adding = (item.status == "open" and item.kind == "task" and not item.owner
              and instance.status in ("running", "incident"))
    holder = service.get_work_item_or_raise(session=session, work_item_id=int(item.item["of"]),
                                            actor=SYSTEM) if item.kind in ("cosign", "assist") else None
    return {**context, "item": item, "fields": inputs, "shown": shown, "errors": errors or {},
            "return_stops": going_back["stops"], "resubmit_policy": going_back["resubmit"],
            "may_take_back": returns.may_take_back(item, instance, current_user.actor),
            "signer_positions": signer_positions(item, elements) if adding else [],
            "cosigners": signers.cosigners(session, item) if item.kind == "task" and item.item is None else [],
            "cosign_holder": holder,
            "helpers": assists.helpers(session, item) if item.kind == "task" else [],
            "labels": {name: f.title for name, f in known.items()},
            "values": form.prefill if values is None else values,
            "pick_nodes": nodes, "picks": picks or {}, "user_options": lookups.user_options() if nodes else []}


@bp.get("/<int:task_id>")
@login_required
def show(task_id: int):
    """Show a task with everything needed to decide on it."""
    with query() as session:
        item, instance, schema = _context(session, task_id)
        page = _page(session, item, instance, schema)
    return render_template("tasks/show.html", **page)


@bp.post("/<int:task_id>/complete")
@login_required
def complete(task_id: int):
    """Complete a task with the form, a decision and a comment."""
    decision = request.form.get("decision") or None
    comment = (request.form.get("comment") or "").strip() or None
    posted = {k: v for k, v in posted_values().items() if not k.startswith("picks.")}
    errors = {}
    picks: dict = {}
    if decision is not None and decision not in DECISIONS:
        errors["decision"] = forms.FieldError("enum")
    if decision == "reject" and not comment:
        errors["comment"] = forms.FieldError("invalid", detail=_("Say why you reject the request."))
    values = {**posted, **({"decision": decision} if decision else {})}
    names = [n for n in list(posted) + list(request.files) if n not in ("decision", "comment", "csrf_token")]
    data: dict = {}
    try:
        with command() as session:
            item, instance, schema = _context(session, task_id)
            if item.kind == "assist" and not comment:
                errors["comment"] = forms.FieldError("invalid", detail=_("Write your input: it is what you were "
                                                                         "asked for."))
            form = task_form(session, instance, schema)
            nodes = next_pick_nodes(session, item, instance)
            picks = posted_picks(nodes)
            uploads, upload_errors = save_uploads(session, form.schema, current_user.username)
            data, more = forms.check(form.schema, {**values, **uploads}, lookups=page_lookups(session),
                                     context=instance.data or {})
            refused_picks = pick_problems(session, nodes, picks, required=decision != "reject")
            errors = {**more, **upload_errors, **form.refused(names), **errors,
                      **{field: forms.FieldError("invalid", detail=message) for field, message in refused_picks.items()}}
            if errors:
                raise _Refused()
            data.pop("decision", None)
            comment = data.pop("comment", comment)
            service.complete_task(session=session, work_item_id=task_id, actor=current_user.actor,
                                  data=form.cleared(data), decision=decision, comment=comment,
                                  picks=picks if nodes else None)
            attachments.link(session=session, ids=[i for ids in uploads.values() for i in ids],
                             actor=current_user.username, instance_id=instance.id, work_item_id=task_id)
            name = item.name
    except _Refused:
        with query() as session:
            item, instance, schema = _context(session, task_id)
            form_schema = task_form(session, instance, schema).schema
            page = _page(session, item, instance, schema, values=forms.render_values(form_schema, values, data),
                         errors=errors, picks=picks)
        return render_template("tasks/show.html", **page), 422
    flash(_("Done: %(task)s", task=localize(name, select_locale())), "success")
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
    if (user.kind or "staff") != "staff":
        raise InvalidInput(_("%(name)s is a portal account and cannot receive internal tasks.", name=user.username),
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

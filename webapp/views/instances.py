"""An instance's page: status, data, open tasks, history timeline and progress diagram."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from attachments import service as attachments
from definitions import service as definitions
from diagrams import DiagramError
from forms import schema as forms
from instances import inbox, lifecycle, monitor, service, verbs, visibility
from instances.errors import Conflict, InvalidInput
from org import service as org
from org.instance_access import watch_clause

from ..db import command, query
from ..diagrams import instance_svg
from ..form_lookups import page_lookups
from ..i18n import select_locale
from ..paging import page_arg
from .documents_links import linked_documents

bp = Blueprint("instances", __name__, url_prefix="/instances")
log = logging.getLogger("flowdesk.web")


def _visible_or_404(session, instance_id: int):
    instance = service.get_instance_or_raise(session=session, instance_id=instance_id)
    if not visibility.may_view(session=session, actor=current_user.actor, instance=instance,
                               watch=watch_clause(session, current_user.actor)):
        abort(404)
    return instance


def instance_context(session, instance, hidden: set[str] | frozenset = frozenset()) -> dict:
    """Gather what the instance and task pages show about an instance, leaving out hidden fields."""
    version = definitions.get_version_or_raise(session=session, definition_id=instance.definition_id)
    start_schema = definitions.get_form(session=session, definition_id=version.id,
                                        form_key=definitions.start_form_key(version))
    start_fields = forms.fields(start_schema, page_lookups(session)) if start_schema else []
    titles = {f.name: f for f in start_fields if f.kind != "attachments" and f.name not in hidden}
    data = {k: v for k, v in (instance.data or {}).items() if k not in hidden}
    shown = [(f, data[f.name]) for f in titles.values() if f.name in data]  # drawn by the forms macros
    if titles:
        summary = [(titles[name].title, titles[name].label_for(data[name]) if titles[name].kind == "choice"
                    else data[name]) for name in titles if name in data]
    else:
        # Without a start form, show the variables people entered, not the engine's bookkeeping.
        summary = [(k, v) for k, v in data.items() if not k.startswith(("initiator", "decision"))]
    element_names = {element_id: info.get("name") or element_id
                     for element_id, info in (version.elements or {}).items()}
    try:
        diagram_svg = instance_svg(session, instance)
    except DiagramError as exc:
        diagram_svg = None
        log.warning("instance %s: diagram not drawn: %s", instance.id, exc)
    history = service.list_history(session=session, instance_id=instance.id)
    open_items = service.list_open_work_items(session=session, instance_id=instance.id)
    codes = [g for h in history if h.type == "task_created" for g in (h.details or {}).get("candidate_groups", [])]
    codes += [g for item in open_items for g in item.candidate_groups]
    group_names = org.group_labels(session=session, codes=codes, chinese=select_locale() == "zh_CN")
    return {"instance": instance, "version": version, "summary": summary, "shown": shown,
            "element_names": element_names,
            "group_names": group_names,
            "diagram_svg": diagram_svg,
            "attachments": attachments.list_for_instance(session=session, instance_id=instance.id),
            "history": history, "open_items": open_items,
            # Only the tasks the reader may open get an Open button: the rest would answer "no such task".
            "openable": {item.id for item in open_items if current_user.actor.may_work_on(
                assignee=item.assignee, candidate_users=item.candidate_users, candidate_groups=item.candidate_groups)},
            "copies": verbs.list_copies(session=session, instance_id=instance.id)}


@bp.get("/")
@login_required
def index():
    """List all instances with filters, for managers."""
    if not current_user.is_manager:
        abort(403)
    from .inbox import _date

    args = request.args
    page = page_arg()
    with query() as session:
        initiators = None
        if args.get("department"):
            initiators = [u.username for u in org.list_users(session=session, department=args["department"],
                                                              limit=10000)]
        rows, total = monitor.list_instances(
            session=session, process=args.get("process") or None, status=args.get("status") or None,
            initiators=initiators, started_from=_date(args.get("from"), "from"),
            started_to=_date(args.get("to"), "to", end=True), overdue=bool(args.get("overdue")), page=page,
            visible_to=current_user.actor, watch=watch_clause(session, current_user.actor))
        processes = inbox.process_choices(session=session)
        departments = org.list_units(session=session, kind="department")
    pages = max(1, -(-total // 25))
    return render_template("instances/index.html", rows=rows, total=total, page=page, pages=pages,
                           processes=processes, departments=departments, args=request.args)


@bp.get("/<int:instance_id>")
@login_required
def show(instance_id: int):
    """Show an instance."""
    with query() as session:
        instance = _visible_or_404(session, instance_id)
        context = instance_context(session, instance)
        context["linked"] = linked_documents(session, "instance", instance_id)
        if current_user.is_admin and instance.status in ("running", "incident"):
            from .task_moves import jump_targets  # task_moves imports this module: bind late

            context["jump_targets"] = jump_targets(context["version"])
    with command() as session:
        inbox.mark_copy_read(session=session, actor=current_user.actor, instance_id=instance_id)
    return render_template("instances/show.html", **context)


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    """Download an attachment of an instance the user may see."""
    from flask import send_file

    from ..uploads import store_dir

    with query() as session:
        row = attachments.get_or_raise(session=session, attachment_id=attachment_id)
        if row.instance_id is not None:
            _visible_or_404(session, row.instance_id)
        elif row.created_by != current_user.username:
            abort(404)
        path = attachments.blob_source(store_dir=store_dir(), attachment=row)  # plain bytes even if sealed
    return send_file(path, mimetype=row.content_type, as_attachment=True, download_name=row.file_name,
                     max_age=0)


@bp.get("/<int:instance_id>/diagram.svg")
@login_required
def diagram(instance_id: int):
    """Draw the instance's progress on its model."""
    with query() as session:
        instance = _visible_or_404(session, instance_id)
        svg = instance_svg(session, instance)
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


def _lifecycle(instance_id: int, verb, done: str):
    """Run one lifecycle verb for the signed-in user, then show the instance with the outcome."""
    reason = (request.form.get("reason") or "").strip() or None
    try:
        with command() as session:
            _visible_or_404(session, instance_id)
            verb(session=session, instance_id=instance_id, actor=current_user.actor, reason=reason)
    except InvalidInput:
        flash(_("Say why."), "danger")
    except Conflict as exc:
        flash(exc.message, "danger")
    else:
        flash(done, "success")
    return redirect(url_for("instances.show", instance_id=instance_id))


@bp.post("/<int:instance_id>/terminate")
@login_required
def terminate(instance_id: int):
    """End an instance for good with a reason (admins)."""
    return _lifecycle(instance_id, lifecycle.terminate_instance, _("The process was terminated."))


@bp.post("/<int:instance_id>/suspend")
@login_required
def suspend(instance_id: int):
    """Pause a running instance (admins)."""
    return _lifecycle(instance_id, lifecycle.suspend_instance, _("The process is suspended."))


@bp.post("/<int:instance_id>/resume")
@login_required
def resume(instance_id: int):
    """Let a suspended instance run again (admins)."""
    return _lifecycle(instance_id, lifecycle.resume_instance, _("The process runs again."))


@bp.post("/<int:instance_id>/withdraw")
@login_required
def withdraw(instance_id: int):
    """Take back one's own request with a reason while nobody else has acted on it."""
    return _lifecycle(instance_id, lifecycle.withdraw_instance, _("Your request was withdrawn."))

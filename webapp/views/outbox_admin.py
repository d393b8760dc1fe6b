"""Admin pages for delivery: the outbox with its dead letters (resend, discard) and the chat robots."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from collab import delivery, webhooks
from collab.errors import CollabError
from collab.models import WEBHOOK_KINDS
from org import service as org

from ..db import command, query
from ..paging import page_arg
from .admin_common import require_admin

bp = Blueprint("outbox_admin", __name__, url_prefix="/admin")
bp.before_request(require_admin)
PAGE_SIZE = 50
KINDS = ("notification", "email", "webhook", "bpmn_message")


@bp.get("/outbox")
def outbox():
    """List outbox rows with filters by status and kind; dead and uncertain ones can be resent."""
    status = request.args.get("status") if request.args.get("status") in delivery.STATUSES else None
    kind = request.args.get("kind") if request.args.get("kind") in KINDS else None
    page = page_arg()
    with query() as session:
        rows, total = delivery.list_outbox(session=session, status=status, kind=kind, page=page, page_size=PAGE_SIZE)
    return render_template("admin/outbox.html", rows=rows, total=total, page=page, page_size=PAGE_SIZE,
                           status=status, kind=kind, statuses=delivery.STATUSES, kinds=KINDS,
                           resendable=delivery.RESENDABLE)


@bp.post("/outbox/<int:row_id>/resend", defaults={"action": "resend"}, endpoint="outbox_resend")
@bp.post("/outbox/<int:row_id>/discard", defaults={"action": "discard"})
def outbox_action(row_id: int, action: str):
    """Resend or discard one outbox row; audited."""
    verb = delivery.resend if action == "resend" else delivery.discard
    try:
        with command() as session:
            verb(session=session, row_id=row_id, actor=current_user.username)
        flash(_("Message %(id)s will be sent again.", id=row_id) if action == "resend"
              else _("Message %(id)s was discarded.", id=row_id), "success")
    except CollabError as exc:
        flash(exc.message, "error")
    return redirect(request.form.get("next") if (request.form.get("next") or "").startswith("/admin/outbox")
                    else url_for("outbox_admin.outbox"))


@bp.route("/webhooks", methods=["GET", "POST"])
def webhooks_page():
    """List, add and change chat robots for the organisation or a department."""
    errors, values = {}, {}
    if request.method == "POST":
        form = request.form
        values = {k: form.get(k, "") for k in ("name", "kind", "url", "secret", "department_code", "id")}
        try:
            with command() as session:
                webhooks.save_webhook(session=session, actor=current_user.username, kind=values["kind"],
                                      url=values["url"].strip(), name=values["name"], secret=values["secret"],
                                      department_code=values["department_code"] or None,
                                      enabled=bool(form.get("enabled")),
                                      webhook_id=int(values["id"]) if values["id"].isdigit() and len(values["id"]) <= 9
                                      else None)
            flash(_("The webhook is saved."), "success")
            return redirect(url_for("outbox_admin.webhooks_page"))
        except CollabError as exc:
            errors[exc.details.get("field", "form")] = exc.message
    with query() as session:
        hooks = webhooks.list_webhooks(session=session)
        departments = [(d.code, d.name, d.name_en) for d, _depth in org.department_tree(session=session)]
    return render_template("admin/webhooks.html", hooks=hooks, kinds=WEBHOOK_KINDS, departments=departments,
                           errors=errors, values=values), 400 if errors else 200


@bp.post("/webhooks/<int:webhook_id>/delete")
def webhook_delete(webhook_id: int):
    """Remove a chat robot; audited."""
    try:
        with command() as session:
            webhooks.delete_webhook(session=session, actor=current_user.username, webhook_id=webhook_id)
        flash(_("The webhook was removed."), "success")
    except CollabError as exc:
        flash(exc.message, "error")
    return redirect(url_for("outbox_admin.webhooks_page"))

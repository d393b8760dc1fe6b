"""The customer portal's complaint pages: a customer registers a complaint and follows its company's complaints."""
from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from attachments import service as attachments
from crm import complaints
from crm.errors import ComplaintsUnavailable
from forms import schema as forms

from ..db import command, query
from ..form_lookups import posted_values
from ..paging import page_arg
from ..uploads import save_uploads, store_dir

bp = Blueprint("portal", __name__, url_prefix="/portal")
log = logging.getLogger("flowdesk.web")
PAGE_SIZE = 25
ORDER = ("subject", "category", "severity", "contact", "description", "expectation", "files")


class _Refused(Exception):
    """Raised inside the command so stored uploads roll back with a refused form."""


@bp.before_request
def _customers_with_complaints_only():
    # Staff register complaints through the process catalogue; partners have no complaints of their own.
    if current_user.is_authenticated and not current_user.files_complaints:
        abort(403)


def severity_labels() -> dict[str, str]:
    """Return the severities in the customer's words, from the mildest."""
    return {"minor": _("It is a nuisance, but we can work normally"),
            "major": _("It seriously disrupts our work"),
            "critical": _("Our business is stopped or at serious risk")}


def severity_names() -> dict[str, str]:
    """Return the short severity names the lists show."""
    return {"minor": _("Minor"), "major": _("Serious"), "critical": _("Critical")}


def category_labels() -> dict[str, str]:
    """Return what a complaint can be about, in the customer's words."""
    return {"product": _("A product"), "service": _("Our service"), "delivery": _("A delivery"),
            "billing": _("An invoice or a payment"), "other": _("Something else")}


def status_labels() -> dict[str, str]:
    """Return the complaint statuses as the customer reads them, in the order a complaint passes them."""
    return {"registered": _("Received"), "assigned": _("Assigned to a handler"), "handling": _("Being handled"),
            "resolved": _("Resolved"), "closed": _("Closed")}


def portal_schema(contacts: list[tuple[int, str]]) -> dict:
    """Return the portal's complaint form: what a customer can say, with their company's contacts to pick from."""
    properties = {
        # One line although it takes 300 characters, as many as the complaint record keeps.
        "subject": {"type": "string", "minLength": 2, "maxLength": 300, "x-kind": "string", "title": _("Subject"),
                    "x-ui": {"placeholder": _("In a few words, what went wrong?"), "width": 12}},
        "category": {"type": "string", "title": _("What is it about?"), "enum": list(category_labels()),
                     "enumNames": list(category_labels().values())},
        "severity": {"type": "string", "title": _("How badly does it affect you?"),
                     "enum": list(severity_labels()),
                     "enumNames": list(severity_labels().values()), "x-ui": {"widget": "radio", "width": 12}},
        "description": {"type": "string", "minLength": 10, "maxLength": 5000, "x-kind": "textarea",
                        "title": _("What happened?"),
                        "x-ui": {"rows": 6, "help": _("When and where it happened, order or invoice numbers, and "
                                                      "what you have tried already.")}},
        "expectation": {"type": "string", "maxLength": 2000, "x-kind": "textarea",
                        "title": _("What would you like us to do?")},
        "files": {"type": "array", "items": {"type": "integer"}, "format": "attachments", "maxItems": 10,
                  "title": _("Evidence"), "x-ui": {"help": _("Photos, delivery notes, invoices (optional).")}},
    }
    if contacts:
        properties["contact"] = {"type": "integer", "title": _("Who at your company is concerned?"),
                                 "enum": [cid for cid, _name in contacts],
                                 "enumNames": [name for _cid, name in contacts],
                                 "x-ui": {"help": _("Optional: the colleague we should talk to.")}}
    return {"type": "object", "required": ["subject", "category", "severity", "description"],
            "x-ui": {"order": list(ORDER), "columns": 2}, "properties": properties}


def _company() -> int:
    return int(current_user.portal_record_id)


@bp.get("/complaints/")
@login_required
def complaints_list():
    """List the complaints of the account's company, newest first, with where each stands."""
    page = page_arg()
    with query() as session:
        complaints.company_customer(session=session, company_id=_company())
        result, deadlines = complaints.list_complaints(session=session, actor=current_user.actor,
                                                       company_id=_company(), page=page, page_size=PAGE_SIZE)
    return render_template("portal/complaints.html", result=result, deadlines=deadlines,
                           statuses=status_labels(), severities=severity_names())


@bp.route("/complaints/new", methods=["GET", "POST"])
@login_required
def new_complaint():
    """Show the complaint form and start complaint handling with it; errors are shown next to their fields."""
    department = current_app.extensions["flowdesk.settings"].portal_complaint_department
    with query() as session:
        complaints.company_customer(session=session, company_id=_company())
        contacts = complaints.company_contacts(session=session, actor=current_user.actor, company_id=_company())
        try:
            complaints.check_portal_ready(session=session, department=department)
            available = True
        except ComplaintsUnavailable as exc:
            log.warning("portal complaints unavailable: %s", exc.message)
            available = False
    schema = portal_schema(contacts)
    errors: dict = {}
    values: dict = {}
    if request.method == "POST" and available:
        posted = posted_values()
        data: dict = {}
        contact, contact_error = _posted_contact(posted.pop("contact", ""), contacts)
        # The contact is checked by hand: a stranger's id deserves "not your contact", not "not a number".
        checked_schema = {**schema, "properties": {k: v for k, v in schema["properties"].items()
                                                   if k != "contact"}}
        try:
            with command() as session:
                uploads, upload_errors = save_uploads(session, schema, current_user.username)
                data, errors = forms.check(checked_schema, {**posted, **uploads})
                errors = {**errors, **upload_errors, **({"contact": contact_error} if contact_error else {})}
                if errors:
                    raise _Refused()
                try:
                    instance = complaints.register_complaint(
                        session=session, actor=current_user.actor, company_id=_company(),
                        details={**data, **({"contact": contact} if contact else {})}, department=department)
                except forms.FormError as exc:
                    errors = exc.errors  # the process's own start form refused it: shown the same way
                    raise _Refused() from None
                attachments.link(session=session, ids=[i for ids in uploads.values() for i in ids],
                                 actor=current_user.username, instance_id=instance.id)
                record_id = (instance.data or {}).get("complaint_id")
        except _Refused:
            # The transaction rolled back: no process, no record, no stored file row; the form comes back.
            values = forms.render_values(schema, {**posted, "contact": contact or ""}, data)
        except ComplaintsUnavailable as exc:
            log.warning("portal complaint refused: %s", exc.message)
            available = False
        else:
            flash(_("Thank you. Your complaint is registered as No. %(id)s; you can follow it here.",
                    id=record_id), "success")
            if isinstance(record_id, int):
                return redirect(url_for("portal.complaint", record_id=record_id))
            return redirect(url_for("portal.complaints_list"))
    fields = forms.fields(schema)
    shown = {f.name for f in fields}
    stray = {name: err for name, err in errors.items() if name.split("[", 1)[0] not in shown}
    status = 503 if not available else 422 if errors else 200
    return render_template("portal/complaint_form.html", fields=fields, values=values, errors=errors,
                           stray=stray, available=available), status


def _posted_contact(raw, contacts: list[tuple[int, str]]):
    """Return (contact id or None, error or None) of the posted contact: one of the company's contacts only."""
    raw = (raw if isinstance(raw, str) else "").strip()
    if not raw:
        return None, None
    if raw.isdigit() and int(raw) in {cid for cid, _name in contacts}:
        return int(raw), None
    return None, forms.FieldError("invalid", detail=_("Choose one of your company's contacts."))


@bp.get("/complaints/<int:record_id>")
@login_required
def complaint(record_id: int):
    """Show one complaint of the company: what was said, where it stands, the answer and the evidence sent."""
    with query() as session:
        found = complaints.get_complaint_or_raise(session=session, actor=current_user.actor,
                                                  company_id=_company(), record_id=record_id)
        contacts = dict(complaints.company_contacts(session=session, actor=current_user.actor,
                                                    company_id=_company()))
    reached = {status: at for status, at in found.timeline}
    return render_template("portal/complaint.html", c=found, data=found.data, reached=reached,
                           contact=contacts.get(found.data.get("contact")), statuses=status_labels(),
                           severities=severity_names(), categories=category_labels())


@bp.get("/complaints/<int:record_id>/files/<int:attachment_id>")
@login_required
def complaint_file(record_id: int, attachment_id: int):
    """Download an evidence file the account sent with one of its company's complaints."""
    with query() as session:
        row = complaints.get_file_or_raise(session=session, actor=current_user.actor, company_id=_company(),
                                           record_id=record_id, attachment_id=attachment_id)
        source = attachments.blob_source(store_dir=store_dir(), attachment=row)  # plain bytes even if sealed
    return send_file(source, mimetype=row.content_type, as_attachment=True, download_name=row.file_name,
                     max_age=0)

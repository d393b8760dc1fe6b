"""Word and PDF printouts of a record or of a request with its approval history.

`?template=<document id>` fills a company's Word template from the document centre instead of the
built-in layout; `?stamp=<document id>` adds a PNG or JPEG stamp. Both are read with the reader's own
document permissions.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from diagrams.text import localize
from documents import output, versions
from documents.library_errors import LibraryError
from documents.output import OutputError, Sheet
from forms import schema as forms
from records import fields as record_fields
from records import service as records
from records.errors import NotFound

from ..db import query
from ..i18n import select_locale
from .documents_common import content_disposition, store_dir
from .instances import _visible_or_404, instance_context

bp = Blueprint("printouts", __name__)
TYPES = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "pdf": "application/pdf"}
MAX_INPUT = output.MAX_TEMPLATE_BYTES


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return "\n".join("; ".join(f"{k}: {_text(v)}" for k, v in row.items()) for row in value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _document_bytes(session, name: str) -> bytes | None:
    arg = request.args.get(name, "")
    if not arg:
        return None
    if not arg.isdigit() or len(arg) > 18:
        abort(404)
    try:
        opened = versions.open_version(session=session, store_dir=store_dir(), document_id=int(arg),
                                       actor=current_user.actor)
    except LibraryError:
        abort(404)  # missing or not readable: the same answer, so nothing is revealed
    data = bytearray()
    for chunk in opened.chunks:
        data += chunk
        if len(data) > MAX_INPUT:
            raise OutputError(_("The %(what)s file is too large.", what=name), details={"field": name})
    return bytes(data)


def _send(sheet: Sheet, fmt: str, file_name: str, template: bytes | None) -> Response:
    if fmt == "pdf":
        data = output.sheet_pdf(sheet)
    else:
        data = output.template_docx(template, sheet) if template else output.sheet_docx(sheet)
    return Response(data, mimetype=TYPES[fmt], headers={"Content-Disposition": content_disposition(
        f"{file_name}.{fmt}"), "Cache-Control": "private, no-store"})


def _refused(exc: OutputError, back: str):
    flash(_("The printout could not be made: %(reason)s", reason=exc.reason), "error")
    return redirect(back)


@bp.get("/records/<key>/<int:record_id>/print.docx", defaults={"fmt": "docx"})
@bp.get("/records/<key>/<int:record_id>/print.pdf", defaults={"fmt": "pdf"})
@login_required
def record_printout(key: str, record_id: int, fmt: str):
    """Print a record's fields the reader may see as Word or PDF."""
    back = url_for("records.show", key=key, record_id=record_id)
    try:
        with query() as session:
            try:
                record, view = records.get_record_or_raise(session=session, record_id=record_id,
                                                           actor=current_user.actor, type_key=key)
            except NotFound:
                abort(404)
            data = record_fields.visible_data(view, current_user.actor, record.data)
            chinese = select_locale() == "zh_CN"
            type_name = view.type.name if chinese or not view.type.name_en else view.type.name_en
            fields = [(f.title, f.label_for(data[f.name]) if f.kind == "choice" else _text(data[f.name]))
                      for f in forms.fields(view.schema) if f.name in data]
            sheet = Sheet(title=record.title or f"{type_name} #{record.id}", subtitle=f"{type_name} · #{record.id}",
                          fields=fields, signatures=[_("Prepared by"), _("Checked by")],
                          stamp=_document_bytes(session, "stamp"), footer=f"Flowdesk · {record.updated_at:%Y-%m-%d}")
            template = _document_bytes(session, "template") if fmt == "docx" else None
        return _send(sheet, fmt, sheet.title, template)
    except OutputError as exc:
        return _refused(exc, back)


@bp.get("/instances/<int:instance_id>/print.docx", defaults={"fmt": "docx"})
@bp.get("/instances/<int:instance_id>/print.pdf", defaults={"fmt": "pdf"})
@login_required
def instance_printout(instance_id: int, fmt: str):
    """Print a request as an approval form: its fields and every decision with its comment."""
    back = url_for("instances.show", instance_id=instance_id)
    try:
        with query() as session:
            instance = _visible_or_404(session, instance_id)
            context = instance_context(session, instance)
            names = context["element_names"]
            decisions = {"approved": _("Approved"), "rejected": _("Rejected")}
            rows = [[f"{h.at:%Y-%m-%d %H:%M}", localize(names.get(h.element_id, h.element_id or ""), select_locale()),
                     h.actor or "",
                     decisions.get((h.details or {}).get("decision"), (h.details or {}).get("decision") or ""),
                     (h.details or {}).get("comment") or ""]
                    for h in context["history"] if h.type == "task_completed"]
            title = instance.title or localize(context["version"].name, select_locale()) or f"#{instance.id}"
            sheet = Sheet(title=title, subtitle=_("Request %(id)s · started by %(who)s on %(day)s", id=instance.id,
                                                  who=instance.initiator or "",
                                                  day=f"{instance.started_at:%Y-%m-%d}"),
                          fields=[(str(label), _text(value)) for label, value in context["summary"]],
                          table_title=_("Approval history"),
                          columns=[_("Time"), _("Step"), _("By"), _("Decision"), _("Comment")], rows=rows,
                          signatures=[_("Requester"), _("Approver")], stamp=_document_bytes(session, "stamp"),
                          footer=f"Flowdesk · {instance.status}")
            template = _document_bytes(session, "template") if fmt == "docx" else None
        return _send(sheet, fmt, title, template)
    except OutputError as exc:
        return _refused(exc, back)

"""Downloading a PDF protected with a password (AES-256) and restricted permissions, made on the fly.

The stored document is not changed: the protected copy is built from the version's bytes for this download
only, so each reader can choose their own password.
"""
from __future__ import annotations

import os

from flask import Blueprint, Response, request
from flask_babel import gettext as _
from flask_login import login_required

from documents import pdfguard, versions
from documents.errors import InvalidPdf, PasswordRefused
from documents.library_errors import Damaged, PasswordRequired, WrongPassword

from ..db import query
from .documents_common import content_disposition, explain, human_size, install, me, store_dir
from .documents_files import render_document

bp = Blueprint("documents_protect", __name__, url_prefix="/documents/files")
install(bp)

PROTECT_LIMIT = 100 * 2**20  # pypdf holds the whole file in memory, twice


def _refused(document_id: int, message: str, status: int = 400):
    return render_document(document_id, errors={"protect": message}, status=status)


def _why_not(exc: InvalidPdf) -> str:
    """Say in the reader's language why a file could not be protected."""
    if "no %PDF- header" in exc.reason:
        return _("This file is not a PDF, so it cannot be protected.")
    if "already password-protected" in exc.reason:
        return _("This PDF is already password-protected.")
    return _("This PDF cannot be read or rewritten (%(reason)s).", reason=exc.reason)


def protected_name(name: str) -> str:
    """Return the file name of the protected copy: "报价单.pdf" becomes "报价单 (protected).pdf"."""
    stem, _ext = os.path.splitext(name)
    return _("%(name)s (protected)", name=stem) + ".pdf"


@bp.post("/<int:document_id>/protect")
@login_required
def protect(document_id: int):
    """Send the PDF encrypted with an open password, an optional owner password, printing allowed or not."""
    form = request.form
    password, owner = form.get("open_password", ""), form.get("owner_password") or None
    if not password.strip():
        return _refused(document_id, _("Enter a password for opening the PDF."))
    if owner is not None and owner == password:
        return _refused(document_id, _("The owner password must differ from the open password."))
    try:
        with query() as session:
            opened = versions.open_version(session=session, store_dir=store_dir(), document_id=document_id,
                                           actor=me(), password=form.get("password") or None)
            if opened.version.size > PROTECT_LIMIT:
                return _refused(document_id, _("This PDF is larger than %(limit)s; download it and protect it "
                                                "on your computer.", limit=human_size(PROTECT_LIMIT)), 413)
            data = b"".join(opened.chunks)
    except (PasswordRequired, WrongPassword, Damaged) as exc:
        status = 403 if isinstance(exc, WrongPassword) else 409 if isinstance(exc, Damaged) else 400
        return _refused(document_id, explain(exc), status)
    try:
        protected = pdfguard.protect_pdf(data, user_password=password, owner_password=owner,
                                         allow_printing=form.get("allow_printing") == "1",
                                         filename=opened.file_name)
    except InvalidPdf as exc:
        return _refused(document_id, _why_not(exc))
    except PasswordRefused:
        return _refused(document_id, _("Enter a password for opening the PDF."))
    return Response(protected, mimetype="application/pdf",
                    headers={"Content-Disposition": content_disposition(protected_name(opened.file_name)),
                             "Cache-Control": "private, no-store"})

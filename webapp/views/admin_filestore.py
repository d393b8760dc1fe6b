"""Admin page of the file store: the at-rest encryption switch and the progress of the job that applies it."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from attachments.errors import AttachmentError, StoreKeyMissing
from documents import filestore

from ..db import command, query
from .admin_common import require_admin

bp = Blueprint("admin_filestore", __name__, url_prefix="/admin")
bp.before_request(require_admin)


def _back():
    return redirect(url_for("admin_filestore.page"), code=303)


def _store_dir():
    return current_app.extensions["flowdesk.settings"].store_dir


@bp.get("/file-store")
def page():
    """Show the at-rest encryption setting and the re-encryption progress."""
    with query() as session:
        info = filestore.describe(session, store_dir=_store_dir())
    return render_template("admin/filestore.html", info=info)


@bp.get("/file-store/progress.json")
def progress():
    """Return the setting and the job's progress as JSON, for the page's progress bar."""
    with query() as session:
        info = filestore.describe(session, store_dir=_store_dir())
    response = jsonify(info)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/file-store")
def change():
    """Turn encryption at rest on or off, or run the job again; audited."""
    action = request.form.get("action", "")
    try:
        with command() as session:
            if action in ("on", "off"):
                filestore.switch(session, store_dir=_store_dir(), on=action == "on", actor=current_user.username)
            elif action == "restart":
                filestore.restart(session, actor=current_user.username)
            else:
                return _back()
    except StoreKeyMissing:
        flash(_("Encryption cannot be turned on: FLOWDESK_STORE_KEY is not configured. Set it for the web server "
                "and the worker, restart them, then try again."), "danger")
        return _back()
    except AttachmentError as exc:
        flash(exc.message, "danger")
        return _back()
    flash({"on": _("Encryption at rest is on; the worker is encrypting the existing files."),
           "off": _("Encryption at rest is off; the worker is decrypting the existing files."),
           "restart": _("The worker runs the job again from the start.")}[action], "success")
    return _back()

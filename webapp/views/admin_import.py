"""Admin pages for the bulk user import: templates, upload and check (dry run), then confirm."""
from __future__ import annotations

import io
import re
import secrets
import time

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from org import importer
from org.errors import Invalid

from ..db import command, query
from ..i18n import select_locale

STASH_SECONDS = 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
MIME = {"csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def field_labels() -> dict[str, str]:
    """Name the import columns in the reader's language."""
    return {"username": _("User name"), "display_name": _("Name"), "email": _("Email"), "phone": _("Phone"),
            "department": _("Department"), "position": _("Position"), "superior": _("Superior"),
            "roles": _("Roles"), "groups": _("Groups"), "status": _("Status"), "language": _("Language"),
            "password": _("Password"), "file": _("File")}


def file_message(exc: Invalid) -> str:
    """Say why a whole file was refused, in the reader's language."""
    d = exc.details
    return {
        "not_csv": _("This is not a CSV text file. Is it an Excel file saved with a .csv name?"),
        "encoding": _("The CSV file is neither UTF-8 nor GBK/GB18030 text."),
        "bad_csv": _("Line %(line)s cannot be read as CSV.", line=d.get("line")),
        "not_xlsx": _("This is not an Excel .xlsx workbook."),
        "unpacked_too_large": _("The workbook unpacks to more than 100 MB."),
        "dtd": _("The workbook contains DTD declarations, which are not allowed."),
        "bad_xlsx": _("The workbook cannot be read. Open it in Excel, save it again and retry."),
        "too_large": _("The file is larger than 5 MB. Split it into smaller files."),
        "empty": _("The file is empty."),
        "old_xls": _("Old Excel .xls files are not supported. Save the sheet as .xlsx or CSV."),
        "wrong_type": _("Upload a CSV or Excel .xlsx file."),
        "too_many_lines": _("The file has more than %(limit)s lines. Remove empty rows or split it.",
                            limit=f"{d.get('limit', 0):,}"),
        "no_header": _("The file has no header row."),
        "duplicate_column": _("Two columns mean the same thing: “%(column)s”.", column=d.get("column")),
        "no_username": _("The header (row %(row)s) has no username (用户名) column.", row=d.get("row")),
        "too_many_rows": _("The file has %(rows)s rows; at most %(limit)s can be imported at once.",
                           rows=f"{d.get('rows', 0):,}", limit=f"{d.get('limit', 0):,}"),
        "no_rows": _("The file has a header but no rows."),
    }.get(d.get("reason"), exc.message)


def row_message(error: importer.RowError) -> str:
    """Say why a row was refused, in the reader's language."""
    p = {"value": "", "other": "", "limit": "", "chain": "", **error.params}
    unknown = {"department": _("No department with code “%(value)s”.", value=p["value"]),
               "position": _("No position with code “%(value)s”.", value=p["value"]),
               "roles": _("No role with code “%(value)s”.", value=p["value"]),
               "groups": _("No group with code “%(value)s”.", value=p["value"])}
    return {
        "required": _("A user name is required.") if error.field == "username"
        else _("A name is required for a new user."),
        "invalid_username": _("“%(value)s” is not a valid user name: use 2 to 150 letters, digits, “_”, “.”, "
                              "“@” or “-”.", value=p["value"]),
        "duplicate_in_file": _("“%(value)s” is already on row %(other)s.", value=p["value"], other=p["other"]),
        "too_long": _("At most %(limit)s characters.", limit=p["limit"]),
        "invalid_email": _("“%(value)s” is not an email address.", value=p["value"]),
        "unknown_code": unknown.get(error.field, error.message),
        "unknown_user": _("No user “%(value)s” in Flowdesk or in this file.", value=p["value"]),
        "own_superior": _("A user cannot be their own superior."),
        "superior_loop": _("Superiors would go round in a circle: %(chain)s.", chain=p["chain"]),
        "invalid_status": _("“%(value)s” is not a status: use active or left (在职/离职).", value=p["value"]),
        "invalid_language": _("“%(value)s” is not a language: use zh_CN or en.", value=p["value"]),
        "password_too_short": _("Use at least %(limit)s characters.", limit=p["limit"]),
    }.get(error.code, error.message)


def _stash_dir():
    path = current_app.extensions["flowdesk.settings"].var_dir / "imports"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    for old in path.iterdir():  # checked files nobody confirmed are not kept
        if old.stat().st_mtime < time.time() - STASH_SECONDS:
            old.unlink(missing_ok=True)
    return path


def _stash_path(token: str, suffix: str):
    # The file is bound to the admin who checked it; the token is random and its shape is checked,
    # so a posted value can never point outside the folder.
    if not _TOKEN.match(token or "") or suffix not in MIME:
        return None
    return _stash_dir() / f"{current_user.id}-{token}.{suffix}"


def _page(report=None, errors=None, token=None, status=200):
    rows = [{"row": e.row, "field": e.field, "label": field_labels().get(e.field, e.field),
             "message": row_message(e)} for e in (report.errors if report else [])]
    return render_template("admin/import.html", report=report, rows=rows, errors=errors or {}, token=token,
                           labels=field_labels(), fields=importer.FIELDS, headers_zh=importer.HEADERS_ZH,
                           max_rows=importer.MAX_ROWS), status


def import_page():
    """Show the upload form, the templates and the columns an import understands."""
    return _page()


def import_check():
    """Check an uploaded file without writing anything and show what the import would do."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(errors={"file": _("Choose a CSV or Excel .xlsx file.")}, status=422)
    data = upload.stream.read(importer.MAX_BYTES + 1)
    try:
        with query() as session:
            report = importer.import_users(session=session, rows_or_file=data, file_name=upload.filename,
                                           dry_run=True)
    except Invalid as exc:
        if exc.details.get("field") != "file":
            raise
        return _page(errors={"file": file_message(exc)}, status=422)
    if not report.ok:
        return _page(report, status=422)
    token = secrets.token_urlsafe(24)
    _stash_path(token, upload.filename.lower().rsplit(".", 1)[-1]).write_bytes(data)
    return _page(report, token=token)


def import_confirm():
    """Import the checked file: every row, or none when something changed since the check."""
    file_name = request.form.get("file_name", "")
    path = _stash_path(request.form.get("token", ""), file_name.lower().rsplit(".", 1)[-1])
    if path is None or not path.exists():
        flash(_("The checked file is no longer here (files are kept for an hour). Upload it again."), "warning")
        return redirect(url_for("admin.import_page"))
    try:
        with command() as session:
            report = importer.import_users(session=session, rows_or_file=path.read_bytes(), file_name=file_name)
    except Invalid as exc:
        if exc.details.get("field") != "file":
            raise
        return _page(errors={"file": file_message(exc)}, status=422)
    if not report.ok:  # someone changed the organisation since the check; nothing was written
        return _page(report, status=422)
    path.unlink(missing_ok=True)
    return render_template("admin/import_done.html", report=report)


def import_template(file_format: str):
    """Download an empty import file, with the header in the reader's language."""
    if file_format not in MIME:
        abort(404)
    data = importer.template(file_format=file_format, language=select_locale())
    return send_file(io.BytesIO(data), mimetype=MIME[file_format], as_attachment=True,
                     download_name=f"flowdesk-users.{file_format}")


def register(bp) -> None:
    """Add the import pages to the admin blueprint."""
    bp.add_url_rule("/import", "import_page", import_page)
    bp.add_url_rule("/import", "import_check", import_check, methods=["POST"])
    bp.add_url_rule("/import/confirm", "import_confirm", import_confirm, methods=["POST"])
    bp.add_url_rule("/import/template.<file_format>", "import_template", import_template)

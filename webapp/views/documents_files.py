"""A document's pages: its versions, downloads (with the password of an encrypted one), new versions, restore,
fingerprint checks, locks, links, and renaming, moving and deleting it."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from documents import access, folders, library, links, moves, recycle, versions
from documents.library_errors import LibraryError, PasswordRequired, WrongPassword
from documents.models import DocLibrary, DocVersion
from records.models import Record, RecordType

from ..db import command, query
from ..errors import STATUS
from .documents_common import (
    content_disposition,
    explain,
    install,
    library_label,
    me,
    move_targets,
    people,
    store_dir,
    trail_context,
    upload_limit,
)
from .documents_preview import preview_of

bp = Blueprint("documents_files", __name__, url_prefix="/documents/files")
install(bp)


def _link_rows(session, document_id: int) -> list[dict]:
    """Return the document's links with a label and, where there is one, the page to open."""
    rows = []
    for link in links.list_links(session=session, document_id=document_id, actor=me()):
        row = {"kind": link.target_kind, "id": link.target_id, "url": None}
        if link.target_kind == "instance":
            row["url"] = url_for("instances.show", instance_id=link.target_id)
        else:
            # Only the number: the record's title is for those the record page lets in.
            key = session.scalar(select(RecordType.key).join(Record, Record.type_id == RecordType.id)
                                 .where(Record.id == link.target_id))
            if key is not None:
                row["url"] = url_for("records.show", key=key, record_id=link.target_id)
        rows.append(row)
    return rows


def render_document(document_id: int, *, errors: dict | None = None, check=None, status: int = 200):
    """Render a document's page, with refusals next to the forms they concern and a fingerprint check."""
    with query() as session:
        document = library.get_document_or_raise(session, document_id)
        listed = versions.list_versions(session=session, document_id=document_id, actor=me())
        folder = library.get_folder_or_raise(session, document.folder_id)
        lib = session.get(DocLibrary, document.library_id)
        names = people(session, [v.created_by for v in listed] + [document.locked_by, document.created_by, lib.owner])
        context = {"document": document, "versions": listed, "folder": folder, "library": lib,
                   "library_label": library_label(lib, names), "trail": folders.trail(session, folder),
                   "names": names, "actions": set(access.action_names(access.actions_on(session, me(), folder))),
                   "links": _link_rows(session, document_id), "errors": errors or {}, "check": check,
                   "preview": preview_of(document, session.get(DocVersion, document.current_version_id)
                                         if document.current_version_id else None)}
    return render_template("documents/document.html", **context), status


@bp.get("/<int:document_id>")
@login_required
def show(document_id: int):
    """Show a document with its versions and what the reader may do with it."""
    return render_document(document_id)


def _number() -> int | None:
    raw = request.values.get("v", "")
    return int(raw) if raw.isdigit() and len(raw) <= 9 else None


@bp.route("/<int:document_id>/download", methods=["GET", "POST"])
@login_required
def download(document_id: int):
    """Send a version's bytes as they were uploaded; an encrypted document asks for its password first."""
    number, password = _number(), request.form.get("password") if request.method == "POST" else None
    try:
        with query() as session:
            opened = versions.open_version(session=session, store_dir=store_dir(), document_id=document_id,
                                           actor=me(), number=number, password=password)
    except (PasswordRequired, WrongPassword) as exc:
        with query() as session:
            document = library.get_document_or_raise(session, document_id)
            versions.list_versions(session=session, document_id=document_id, actor=me())  # read is needed
        error = explain(exc) if request.method == "POST" else None
        return render_template("documents/password.html", document=document, number=number, error=error), \
            403 if isinstance(exc, WrongPassword) else 200
    headers = {"Content-Disposition": content_disposition(opened.file_name), "Cache-Control": "private, no-store"}
    if opened.path is not None:
        # send_file streams the file from disk in blocks and answers range requests.
        response = send_file(opened.path, mimetype=opened.content_type, conditional=True, max_age=0)
        response.headers.update(headers)
        return response
    return Response(opened.chunks, mimetype=opened.content_type, headers=headers, direct_passthrough=True)


@bp.post("/<int:document_id>/versions")
@login_required
def new_version(document_id: int):
    """Upload a new version of the document."""
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        return render_document(document_id, errors={"version": _("The upload is too large.")}, status=413)
    if upload is None or not upload.filename:
        return render_document(document_id, errors={"version": _("Choose a file.")}, status=400)
    try:
        with command() as session:
            added = versions.add_version(session=session, store_dir=store_dir(), document_id=document_id,
                                         stream=upload.stream, actor=me(), file_name=upload.filename,
                                         password=request.form.get("password") or None, max_bytes=upload_limit())
            number = added.number
    except LibraryError as exc:
        if exc.code in ("not_found",) or (exc.code == "forbidden" and exc.details.get("action") == "read"):
            raise
        status = 413 if exc.details.get("limit") is not None else STATUS.get(exc.status, 400)
        return render_document(document_id, errors={"version": explain(exc)}, status=status)
    flash(_("Version %(n)s uploaded.", n=number), "success")
    return redirect(url_for(".show", document_id=document_id))


@bp.post("/<int:document_id>/versions/<int:number>/restore")
@login_required
def restore(document_id: int, number: int):
    """Make an earlier version current again (as a new version)."""
    try:
        with command() as session:
            added = versions.restore_version(session=session, document_id=document_id, number=number, actor=me())
            new_number = added.number
    except LibraryError as exc:
        if exc.code == "not_found":
            raise
        return render_document(document_id, errors={"versions": explain(exc)}, status=STATUS.get(exc.status, 400))
    flash(_("Version %(old)s restored as version %(new)s.", old=number, new=new_number), "success")
    return redirect(url_for(".show", document_id=document_id))


@bp.get("/<int:document_id>/versions/<int:number>/verify")
@login_required
def verify(document_id: int, number: int):
    """Fingerprint a stored version again and show whether it changed."""
    with query() as session:
        check = versions.verify_version(session=session, store_dir=store_dir(), document_id=document_id, actor=me(),
                                        number=number)
    return render_document(document_id, check=check)


@bp.post("/<int:document_id>/lock")
@login_required
def lock(document_id: int):
    """Lock the document against changes, with a reason."""
    try:
        with command() as session:
            versions.lock_document(session=session, document_id=document_id, actor=me(),
                                   reason=request.form.get("reason", ""))
    except LibraryError as exc:
        if exc.code == "not_found":
            raise
        return render_document(document_id, errors={"lock": explain(exc)}, status=STATUS.get(exc.status, 400))
    flash(_("Document locked."), "success")
    return redirect(url_for(".show", document_id=document_id))


@bp.post("/<int:document_id>/unlock")
@login_required
def unlock(document_id: int):
    """Unlock the document."""
    try:
        with command() as session:
            versions.unlock_document(session=session, document_id=document_id, actor=me())
    except LibraryError as exc:
        if exc.code == "not_found":
            raise
        return render_document(document_id, errors={"lock": explain(exc)}, status=STATUS.get(exc.status, 400))
    flash(_("Document unlocked."), "success")
    return redirect(url_for(".show", document_id=document_id))


def _readable(session, document_id: int):
    """Return a document the reader may see, with its folder's breadcrumb."""
    document = library.get_document_or_raise(session, document_id)
    folder = library.get_folder_or_raise(session, document.folder_id)
    access.require(session, me(), "read", folder)
    return document, trail_context(session, folder)


@bp.route("/<int:document_id>/rename", methods=["GET", "POST"])
@login_required
def rename(document_id: int):
    """Rename the document."""
    error, name = None, request.form.get("name")
    if request.method == "POST":
        try:
            with command() as session:
                renamed = moves.rename_document(session=session, document_id=document_id, name=name or "", actor=me())
                new_name = renamed.name
            flash(_("Renamed to “%(name)s”.", name=new_name), "success")
            return redirect(url_for(".show", document_id=document_id))
        except LibraryError as exc:
            error = explain(exc)
    with query() as session:
        item, place = _readable(session, document_id)
    return render_template("documents/rename.html", kind="document", item=item, error=error, **place,
                           name=item.name if name is None else name,
                           action=url_for(".rename", document_id=document_id),
                           back=url_for(".show", document_id=document_id)), 400 if error else 200


@bp.route("/<int:document_id>/move", methods=["GET", "POST"])
@login_required
def move(document_id: int):
    """Move the document to another folder."""
    error = None
    if request.method == "POST":
        target = request.form.get("target_id", "")
        if not target.isdigit() or len(target) > 18:  # past 64 bits no folder has the number
            abort(400)
        try:
            with command() as session:
                moves.move_document(session=session, document_id=document_id, target_id=int(target), actor=me())
            flash(_("Document moved."), "success")
            return redirect(url_for(".show", document_id=document_id))
        except LibraryError as exc:
            error = explain(exc)
    with query() as session:
        item, place = _readable(session, document_id)
        targets = move_targets(session)
    return render_template("documents/move.html", kind="document", item=item, error=error, **place,
                           targets=targets, current_id=item.folder_id,
                           action=url_for(".move", document_id=document_id),
                           back=url_for(".show", document_id=document_id)), 400 if error else 200


@bp.post("/<int:document_id>/delete")
@login_required
def delete(document_id: int):
    """Move the document to the recycle bin."""
    with query() as session:
        folder_id = _readable(session, document_id)[0].folder_id
    try:
        with command() as session:
            name = recycle.delete_document(session=session, document_id=document_id, actor=me()).name
    except LibraryError as exc:
        flash(explain(exc), "error")
        return redirect(url_for(".show", document_id=document_id))
    flash(_("“%(name)s” was moved to the recycle bin.", name=name), "success")
    return redirect(url_for("documents.folder", folder_id=folder_id))

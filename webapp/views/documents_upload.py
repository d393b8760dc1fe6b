"""Uploading into a folder: one or many files and .zip archives, all or nothing, with a progress bar in the browser.

The page is a plain multipart form; webapp/static/js/documents-upload.js sends the same form with
XMLHttpRequest to show progress and asks for JSON, so both ways reach the same view.
"""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_required
from werkzeug.exceptions import RequestEntityTooLarge

from documents import folders, library, store, versions, zipimport
from documents.library_errors import LibraryError
from documents.models import DocLibrary

from ..db import command, query
from ..errors import STATUS
from .documents_common import explain, human_size, install, library_label, me, people, store_dir, upload_limit

bp = Blueprint("documents_upload", __name__, url_prefix="/documents/folders")
install(bp)


def _wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"


def _is_zip(name: str) -> bool:
    return name.lower().endswith(".zip")


def _page(folder_id: int, *, error: str | None = None, status: int = 200):
    """Answer with the upload page (or, for the script, the error as JSON)."""
    if error and _wants_json():
        return jsonify(error={"message": error}), status
    with query() as session:
        listing = folders.list_folder(session=session, folder_id=folder_id, actor=me())
        lib = session.get(DocLibrary, listing.folder.library_id)
        label = library_label(lib, people(session, [lib.owner]))
        used = library.used_bytes(session, lib.id)
    return render_template("documents/upload.html", listing=listing, folder=listing.folder, library=lib,
                           library_label=label, used=used, error=error, limit=upload_limit(),
                           unpack="1" in request.form.getlist("unpack") if request.method == "POST" else True), status


def _store(folder_id: int, plain: list, archives: list, password: str | None) -> tuple[int, int, list]:
    """Store the files and unpack the archives in one transaction; return documents, folders and skipped entries."""
    done, created, skipped, stored = 0, 0, [], []
    try:
        with command() as session:
            if plain:
                written = versions.upload_files(session=session, store_dir=store_dir(), folder_id=folder_id,
                                                files=plain, actor=me(), password=password, max_bytes=upload_limit())
                done += len(written)
                stored += [v.sha256 for v in written]
            for upload in archives:
                result = zipimport.import_zip(session=session, store_dir=store_dir(), folder_id=folder_id,
                                              source=upload.stream, actor=me(), file_name=upload.filename)
                done, created = done + len(result.versions), created + result.folders_created
                stored += [v.sha256 for v in result.versions]
                skipped += [(f"{upload.filename}: {name}", reason) for name, reason in result.skipped]
    except BaseException:
        if stored:
            # Blobs of the parts that went through are in the store while their rows were rolled back: let the
            # worker's clean-up delete them (it keeps any that something else references).
            with command() as session:
                store.release(session, stored)
        raise
    return done, created, skipped


def _before_upload(exc: LibraryError) -> None:
    """Restate a quota refusal against the drive as it is, since the refused upload's earlier files were undone."""
    d = exc.details
    with query() as session:
        now = library.used_bytes(session, d["library_id"])
    # The refusal counted files of this upload stored before the one that did not fit; they were rolled back.
    exc.details = {**d, "used": now, "size": d["used"] + d["size"] - now}


@bp.route("/<int:folder_id>/upload", methods=["GET", "POST"])
@login_required
def upload(folder_id: int):
    """Upload files and .zip archives into a folder."""
    if request.method == "GET":
        return _page(folder_id)
    try:
        files = [f for f in request.files.getlist("files") if f and f.filename]
    except RequestEntityTooLarge:
        return _page(folder_id, error=_("The upload is larger than %(limit)s. Nothing was stored.",
                                        limit=human_size(upload_limit())), status=413)
    if not files:
        return _page(folder_id, error=_("Choose at least one file."), status=400)
    password = request.form.get("password") or None
    if password and password != request.form.get("password2"):
        return _page(folder_id, error=_("The two passwords differ."), status=400)
    # Encrypted uploads are kept as they are: an archive's entries cannot carry the password.
    unpack = "1" in request.form.getlist("unpack") and not password
    archives = [f for f in files if unpack and _is_zip(f.filename)]
    plain = [(f.filename, f.stream) for f in files if not (unpack and _is_zip(f.filename))]
    try:
        done, created, skipped = _store(folder_id, plain, archives, password)
    except LibraryError as exc:
        if exc.code == "not_found" or (exc.code == "forbidden" and exc.details.get("action") == "read"):
            raise
        if exc.code == "quota_exceeded":
            _before_upload(exc)
        too_large = exc.details.get("limit") is not None  # a file over the size limit
        return _page(folder_id, error=explain(exc), status=413 if too_large else STATUS.get(exc.status, 400))
    message = ngettext("%(num)s document stored.", "%(num)s documents stored.", done)
    if created:
        message += " " + ngettext("%(num)s folder created.", "%(num)s folders created.", created)
    flash(message, "success")
    if skipped:
        flash(_("Skipped: %(list)s", list="; ".join(f"{name} ({reason})" for name, reason in skipped[:20])),
              "warning")
    target = url_for("documents.folder", folder_id=folder_id)
    return jsonify(redirect=target) if _wants_json() else redirect(target)

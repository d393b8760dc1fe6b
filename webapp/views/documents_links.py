"""Documents on request and record pages: the Documents card, linking and unlinking, and archiving an approved
request's attachments into a folder.

The service decides who may link (read on the document) and unlink (edit on it); these pages add that the
request or record must be one the reader can open, so nobody attaches files to pages they cannot see.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from attachments import service as attachments
from documents import access, library, links
from documents.library_errors import LibraryError
from documents.models import DocDocument, DocFolder, DocLink, DocVersion
from instances import visibility
from instances.models import ProcessInstance
from org.instance_access import watch_clause
from records import service as records
from records.errors import NotFound as RecordNotFound

from ..db import command, query
from .documents_common import explain, folder_paths, human_size, install, me, move_targets, store_dir

bp = Blueprint("documents_links", __name__, url_prefix="/documents/links")
install(bp)

CHOICES = 30


def _target(session, kind: str, target_id: int) -> dict:
    """Return the request or record the reader may open, as kind, id, label and page; otherwise answer 404."""
    if kind == "instance":
        instance = session.get(ProcessInstance, target_id)
        if instance is None or not visibility.may_view(session=session, actor=me(), instance=instance,
                                                       watch=watch_clause(session, me())):
            abort(404)
        return {"kind": kind, "id": target_id, "label": instance.title, "status": instance.status,
                "url": url_for("instances.show", instance_id=target_id)}
    if kind == "record":
        try:
            record, view = records.get_record_or_raise(session=session, record_id=target_id, actor=me())
        except RecordNotFound:
            abort(404)
        return {"kind": kind, "id": target_id, "label": record.title or f"#{record.id}", "status": None,
                "url": url_for("records.show", key=view.key, record_id=target_id)}
    abort(404)


def _posted_target() -> tuple[str, int]:
    """Read the target kind and id of a form or query string (400 if they are not well formed)."""
    kind, raw = request.values.get("kind", ""), request.values.get("target", "")
    if kind not in ("instance", "record") or not raw.isdigit() or len(raw) > 18:
        abort(400)
    return kind, int(raw)


def _posted_int(name: str) -> int:
    raw = request.form.get(name, "")
    if not raw.isdigit() or len(raw) > 18:  # ids are 64-bit; longer numbers would only upset the database
        abort(400)
    return int(raw)


def _rows(session, documents: list[DocDocument]) -> list[dict]:
    """Return what a list of documents shows: name, size, update time and whether the reader may unlink it."""
    version_ids = [d.current_version_id for d in documents if d.current_version_id]
    sizes = dict(session.execute(select(DocVersion.id, DocVersion.size).where(DocVersion.id.in_(version_ids)))
                 .all()) if version_ids else {}
    found = {f.id: f for f in session.scalars(select(DocFolder).where(
        DocFolder.id.in_({d.folder_id for d in documents})))} if documents else {}
    paths = folder_paths(session, list(found.values()))
    return [{"id": d.id, "name": d.name, "size": human_size(sizes.get(d.current_version_id)), "updated": d.updated_at,
             "encrypted": d.encrypted, "path": paths.get(d.folder_id, ""),
             "may_unlink": access.may(session, me(), "edit", found[d.folder_id])} for d in documents]


def linked_documents(session, kind: str, target_id: int, *, editable: bool = True) -> dict | None:
    """Return what the Documents card of a request or record page shows (None for portal accounts)."""
    if current_user.is_portal:
        return None  # portal accounts have no document centre
    found = links.list_linked_documents(session=session, target_kind=kind, target_id=target_id, actor=me())
    card = {"kind": kind, "id": target_id, "rows": _rows(session, found), "editable": editable, "archive": None}
    if kind == "instance" and editable:
        instance = session.get(ProcessInstance, target_id)
        count = len(attachments.list_for_instance(session=session, instance_id=target_id)) \
            if instance is not None and instance.status == links.ARCHIVED_STATUS else 0
        if count:
            card["archive"] = {"count": count, "targets": move_targets(session)}
    return card


def _search(session, words: str) -> list[DocDocument]:
    """Return documents the reader may read whose name contains the words (newest first)."""
    statement = select(DocDocument).where(access.document_clause(session, me()))
    if words:
        statement = statement.where(DocDocument.name_key.contains(words.casefold(), autoescape=True))
    return list(session.scalars(statement.order_by(DocDocument.updated_at.desc(), DocDocument.id.desc())
                                .limit(CHOICES)))


@bp.get("/choose")
@login_required
def choose():
    """Find a document by name to link to a request or record."""
    kind, target_id = _posted_target()
    words = (request.args.get("q") or "").strip()[:100]
    with query() as session:
        target = _target(session, kind, target_id)
        rows = _rows(session, _search(session, words))
        linked = set(session.scalars(select(DocLink.document_id).where(DocLink.target_kind == kind,
                                                                       DocLink.target_id == target_id)))
    return render_template("documents/link.html", target=target, rows=rows, linked=linked, words=words,
                           limit=CHOICES)


@bp.post("/add")
@login_required
def add():
    """Link a document to a request or record."""
    kind, target_id = _posted_target()
    document_id = _posted_int("document_id")
    with query() as session:
        url = _target(session, kind, target_id)["url"]
    try:
        with command() as session:
            name = library.get_document_or_raise(session, document_id).name
            links.link_document(session=session, document_id=document_id, target_kind=kind, target_id=target_id,
                                actor=me())
    except LibraryError as exc:
        flash(explain(exc), "error")
        return redirect(url_for(".choose", kind=kind, target=target_id))
    flash(_("“%(name)s” is linked.", name=name), "success")
    return redirect(url)


@bp.post("/remove")
@login_required
def remove():
    """Remove a document's link to a request or record (the document itself stays)."""
    kind, target_id = _posted_target()
    document_id = _posted_int("document_id")
    with query() as session:
        url = _target(session, kind, target_id)["url"]
    try:
        with command() as session:
            name = library.get_document_or_raise(session, document_id).name
            links.unlink_document(session=session, document_id=document_id, target_kind=kind, target_id=target_id,
                                  actor=me())
    except LibraryError as exc:
        flash(explain(exc), "error")
    else:
        flash(_("“%(name)s” is no longer linked. The document itself is kept.", name=name), "success")
    return redirect(url)


@bp.post("/archive")
@login_required
def archive():
    """File an approved request's attachments into a folder as documents linked to the request."""
    instance_id = _posted_int("target")
    with query() as session:
        url = _target(session, "instance", instance_id)["url"]
    raw = request.form.get("folder_id", "")
    if not raw.isdigit() or len(raw) > 18:
        flash(_("Choose a folder."), "error")
        return redirect(url)
    try:
        with command() as session:
            made = links.archive_instance_documents(session=session, store_dir=store_dir(), instance_id=instance_id,
                                                    folder_id=int(raw), actor=me())
            count, folder = len(made), library.get_folder_or_raise(session, int(raw))
            place = folder_paths(session, [folder])[folder.id]
    except LibraryError as exc:
        # Only a completed request is archived; the service's own wording names the status in English.
        flash(_("Only an approved (completed) request’s attachments can be archived.") if exc.code == "conflict"
              else explain(exc), "error")
        return redirect(url)
    if count:
        flash(ngettext("%(num)s document archived to “%(folder)s”.", "%(num)s documents archived to “%(folder)s”.",
                       count, folder=place), "success")
    else:
        flash(_("Nothing new to archive: these attachments are already in “%(folder)s”.", folder=place), "info")
    return redirect(url)

"""Document centre pages: the libraries, a folder's content, and creating, renaming, moving and deleting folders."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from documents import access, folders, library, moves, recycle
from documents.library_errors import LibraryError
from documents.models import DocLibrary, DocVersion
from org.models import User

from ..db import command, query
from . import documents_settings
from .documents_common import explain, install, library_label, me, move_targets, people, trail_context

bp = Blueprint("documents", __name__, url_prefix="/documents")
install(bp)


def _ensure_libraries() -> None:
    """Create the company library, the reader's department library and drive the first time anyone looks."""
    with query() as session:
        department_id = session.scalar(select(User.department_id).where(User.username == current_user.username))
        wanted = ["company", f"personal:{current_user.username}"] + \
            ([f"department:{department_id}"] if department_id else [])
        found = set(session.scalars(select(DocLibrary.key).where(DocLibrary.key.in_(wanted))))
    if set(wanted) <= found:
        return  # the usual case: no write transaction for a page view
    with command() as session:
        library.company_library(session=session)
        library.personal_drive(session=session, username=current_user.username)
        if department_id:
            library.department_library(session=session, department_id=department_id)


@bp.get("/")
@login_required
def index():
    """Show the libraries the reader may open, with the space each uses."""
    _ensure_libraries()
    with query() as session:
        found = folders.list_libraries(session=session, actor=me())
        names = people(session, [lib.owner for lib in found])
        rows = [{"library": lib, "label": library_label(lib, names), "used": library.used_bytes(session, lib.id)}
                for lib in found]
        may_set_up = documents_settings.may_open(session)
    order = {"company": 0, "department": 1, "personal": 2}
    rows.sort(key=lambda r: (order.get(r["library"].kind, 3), r["library"].owner != current_user.username,
                             r["label"].casefold()))
    return render_template("documents/index.html", rows=rows, may_set_up=may_set_up)


def folder_context(session, folder_id: int) -> dict:
    """Gather what the folder page shows: trail, subfolders, documents with their current version, actions."""
    listing = folders.list_folder(session=session, folder_id=folder_id, actor=me())
    lib = session.get(DocLibrary, listing.folder.library_id)
    ids = [d.current_version_id for d in listing.documents if d.current_version_id]
    current = {v.id: v for v in session.scalars(select(DocVersion).where(DocVersion.id.in_(ids)))} if ids else {}
    names = people(session, [d.updated_by for d in listing.documents] + [f.created_by for f in listing.folders]
                   + [lib.owner])
    return {"listing": listing, "folder": listing.folder, "library": lib, "library_label": library_label(lib, names),
            "current": current, "names": names, "actions": set(listing.actions),
            "used": library.used_bytes(session, lib.id)}


@bp.get("/folders/<int:folder_id>")
@login_required
def folder(folder_id: int):
    """Show a folder: the way up, its subfolders and documents, and what the reader may do here."""
    with query() as session:
        context = folder_context(session, folder_id)
    return render_template("documents/folder.html", **context)


@bp.post("/folders/<int:folder_id>/folders")
@login_required
def new_folder(folder_id: int):
    """Create a subfolder."""
    try:
        with command() as session:
            created = folders.create_folder(session=session, parent_id=folder_id, name=request.form.get("name", ""),
                                            actor=me())
            created_name = created.name
    except LibraryError as exc:
        flash(explain(exc), "error")
        return redirect(url_for(".folder", folder_id=folder_id))
    flash(_("Folder “%(name)s” created.", name=created_name), "success")
    return redirect(url_for(".folder", folder_id=folder_id))


def _subfolder(session, folder_id: int):
    """Return a folder the reader may see that is not a library's root (those are not renamed or moved here)."""
    found = library.get_folder_or_raise(session, folder_id)
    access.require(session, me(), "read", found)
    if found.parent_id is None:
        abort(404)
    return found


@bp.route("/folders/<int:folder_id>/rename", methods=["GET", "POST"])
@login_required
def rename_folder(folder_id: int):
    """Rename a folder."""
    error, name = None, request.form.get("name")
    if request.method == "POST":
        try:
            with command() as session:
                renamed = moves.rename_folder(session=session, folder_id=folder_id, name=name or "", actor=me())
                parent_id = renamed.parent_id
            flash(_("Renamed to “%(name)s”.", name=renamed.name), "success")
            return redirect(url_for(".folder", folder_id=parent_id))
        except LibraryError as exc:
            error = explain(exc)
    with query() as session:
        item = _subfolder(session, folder_id)
        place = trail_context(session, item)
    return render_template("documents/rename.html", kind="folder", item=item, error=error, **place,
                           name=item.name if name is None else name,
                           action=url_for(".rename_folder", folder_id=folder_id),
                           back=url_for(".folder", folder_id=item.parent_id)), 400 if error else 200


@bp.route("/folders/<int:folder_id>/move", methods=["GET", "POST"])
@login_required
def move_folder(folder_id: int):
    """Move a folder with everything in it under another folder."""
    error = None
    if request.method == "POST":
        target = request.form.get("target_id", "")
        try:
            if not target.isdigit() or len(target) > 18:  # past 64 bits no folder has the number
                abort(400)
            with command() as session:
                moves.move_folder(session=session, folder_id=folder_id, target_id=int(target), actor=me())
            flash(_("Folder moved."), "success")
            return redirect(url_for(".folder", folder_id=int(target)))
        except LibraryError as exc:
            error = explain(exc)
    with query() as session:
        item = _subfolder(session, folder_id)
        place = trail_context(session, item)
        targets = move_targets(session, exclude_path=item.path)
    return render_template("documents/move.html", kind="folder", item=item, error=error, **place,
                           targets=targets, current_id=item.parent_id,
                           action=url_for(".move_folder", folder_id=folder_id),
                           back=url_for(".folder", folder_id=item.parent_id)), 400 if error else 200


@bp.post("/folders/<int:folder_id>/delete")
@login_required
def delete_folder(folder_id: int):
    """Move a folder and everything in it to the recycle bin."""
    with query() as session:
        parent_id = _subfolder(session, folder_id).parent_id
    try:
        with command() as session:
            name = recycle.delete_folder(session=session, folder_id=folder_id, actor=me()).name
    except LibraryError as exc:
        flash(explain(exc), "error")
    else:
        flash(_("“%(name)s” was moved to the recycle bin.", name=name), "success")
    return redirect(url_for(".folder", folder_id=parent_id))


"""The recycle bin of a library (restore, purge) and a folder's sharing page (permission rows, inheritance)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from documents import access, folders, library, recycle, sharing
from documents.library_errors import LibraryError
from documents.models import DocFolder, DocLibrary, DocTrash
from org.models import Department, Position, Role, User, WorkGroup

from ..db import command, query
from ..i18n import select_locale
from .documents_common import explain, folder_paths, install, library_label, me, people

bp = Blueprint("documents_admin", __name__, url_prefix="/documents")
install(bp)

# The principal prefixes of permission rows and the share kind each comes from (see documents.sharing.KINDS).
_KIND_OF = {prefix: kind for kind, prefix in sharing.KINDS.items()}


def _readable_library(session, library_id: int) -> DocLibrary:
    """Return a library in which the reader may read some folder, else answer 404."""
    found = {lib.id: lib for lib in folders.list_libraries(session=session, actor=me())}
    if library_id not in found:
        abort(404)
    return found[library_id]


@bp.get("/libraries/<int:library_id>/recycle")
@login_required
def recycle_bin(library_id: int):
    """List what was deleted in a library where the reader may delete, with restore and purge."""
    with query() as session:
        lib = _readable_library(session, library_id)
        entries = recycle.list_recycle_bin(session=session, library_id=library_id, actor=me())
        parents = {f.id: f for f in session.scalars(select(DocFolder).where(
            DocFolder.id.in_({e.parent_id for e in entries})))} if entries else {}
        paths = folder_paths(session, list(parents.values()))
        purgeable = {e.id for e in entries if access.may(session, me(), "manage", parents[e.parent_id])}
        names = people(session, [e.deleted_by for e in entries] + [lib.owner])
        label = library_label(lib, names)
    return render_template("documents/recycle.html", library=lib, library_label=label, entries=entries,
                           paths=paths, parents=parents, purgeable=purgeable, names=names)


def _entry_library(trash_id: int) -> int:
    with query() as session:
        trash = session.get(DocTrash, trash_id)
        if trash is None:
            abort(404)
        _readable_library(session, trash.library_id)
        return trash.library_id


@bp.post("/recycle/<int:trash_id>/restore")
@login_required
def restore(trash_id: int):
    """Bring a deleted folder or document back where it was."""
    library_id = _entry_library(trash_id)
    try:
        with command() as session:
            name = recycle.restore_item(session=session, trash_id=trash_id, actor=me()).name
    except LibraryError as exc:
        flash(explain(exc), "error")
    else:
        flash(_("“%(name)s” was restored.", name=name), "success")
    return redirect(url_for(".recycle_bin", library_id=library_id))


@bp.post("/recycle/<int:trash_id>/purge")
@login_required
def purge(trash_id: int):
    """Delete a recycle bin entry for good."""
    library_id = _entry_library(trash_id)
    try:
        with command() as session:
            trash = session.get(DocTrash, trash_id)
            name = trash.name
            recycle.purge_item(session=session, trash_id=trash_id, actor=me())
    except LibraryError as exc:
        flash(explain(exc), "error")
    else:
        flash(_("“%(name)s” was deleted for good.", name=name), "success")
    return redirect(url_for(".recycle_bin", library_id=library_id))


def _label(item) -> str:
    return item.name_en if select_locale() != "zh_CN" and item.name_en else item.name


def principal_names(session) -> dict[str, str]:
    """Return every principal a folder can be shared with and its name in the reader's language."""
    out = {"everyone": _("Every employee")}
    for username, display in session.execute(select(User.username, User.display_name).where(
            User.status == "active", User.kind == "staff").order_by(User.display_name)):
        out[f"user:{username}"] = f"{display} ({username})"
    for dept in session.scalars(select(Department).order_by(Department.name)):
        out[f"dept:{dept.code}"] = _("%(name)s (members)", name=_label(dept))
        out[f"dept_tree:{dept.code}"] = _("%(name)s and its sub-departments", name=_label(dept))
    for model, prefix, kind_label in ((Role, "role", _("Role")), (WorkGroup, "group", _("Group")),
                                      (Position, "position", _("Position"))):
        for unit in session.scalars(select(model).order_by(model.name)):
            out[f"{prefix}:{unit.code}"] = f"{kind_label}: {_label(unit)}"
    return out


def _choices(names: dict[str, str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Group the principals for the picker: people, departments, roles, groups, positions."""
    groups = [("user", _("People")), ("dept", _("Departments")), ("dept_tree", _("Departments with sub-departments")),
              ("role", _("Roles")), ("group", _("Groups")), ("position", _("Positions"))]
    out = [(_("Everyone"), [("everyone", names["everyone"])])]
    for prefix, title in groups:
        out.append((title, [(key, label) for key, label in names.items() if key.partition(":")[0] == prefix
                            and ":" in key]))
    return out


def _split(principal: str) -> tuple[str, str]:
    """Return the share kind and code of a principal ("dept_tree:sales" -> ("department_tree", "sales"))."""
    prefix, _sep, code = principal.partition(":")
    if prefix not in _KIND_OF:
        abort(400)
    return _KIND_OF[prefix], code


@bp.get("/folders/<int:folder_id>/sharing")
@login_required
def sharing_page(folder_id: int, error: str | None = None, status: int = 200):
    """Show who may do what in a folder: its own rows and those it inherits, with forms to change them."""
    with query() as session:
        folder = library.get_folder_or_raise(session, folder_id)
        lines = sharing.list_permissions(session=session, folder_id=folder_id, actor=me())
        names = principal_names(session)
        lib = session.get(DocLibrary, folder.library_id)
        label = library_label(lib, people(session, [lib.owner]))
        trail = folders.trail(session, folder)
        sources = dict(trail)
    return render_template("documents/sharing.html", folder=folder, lines=lines, names=names, library=lib,
                           library_label=label, trail=trail, sources=sources, choices=_choices(names),
                           error=error), status


def _change(folder_id: int, change, done: str):
    try:
        with command() as session:
            change(session)
    except LibraryError as exc:
        if exc.code == "forbidden":
            raise
        return sharing_page(folder_id, error=explain(exc),
                            status=400 if exc.status == "invalid" else 409 if exc.status == "conflict" else 404)
    flash(done, "success")
    return redirect(url_for(".sharing_page", folder_id=folder_id))


@bp.post("/folders/<int:folder_id>/sharing")
@login_required
def share(folder_id: int):
    """Give a person, department, role, group or position actions on the folder."""
    kind, code = _split(request.form.get("who", ""))
    actions = request.form.getlist("actions")
    return _change(folder_id, lambda session: sharing.share_folder(session=session, folder_id=folder_id, kind=kind,
                                                                   code=code, actions=actions, actor=me()),
                   _("Permission saved."))


@bp.post("/folders/<int:folder_id>/sharing/remove")
@login_required
def unshare(folder_id: int):
    """Take a permission row off the folder."""
    kind, code = _split(request.form.get("principal", ""))
    return _change(folder_id, lambda session: sharing.revoke_share(session=session, folder_id=folder_id, kind=kind,
                                                                   code=code, actor=me()),
                   _("Permission removed."))


@bp.post("/folders/<int:folder_id>/sharing/own")
@login_required
def own_permissions(folder_id: int):
    """Stop inheriting: the rows that apply now become the folder's own, and changes above stop reaching it."""
    def change(session):
        merged: dict[str, set[str]] = {}
        for line in sharing.list_permissions(session=session, folder_id=folder_id, actor=me()):
            merged.setdefault(line.principal, set()).update(line.actions)
        entries = [(*_split(p), sorted(actions)) for p, actions in merged.items()]
        sharing.set_folder_permissions(session=session, folder_id=folder_id, entries=entries, actor=me())
    return _change(folder_id, change, _("The folder now has its own permissions."))


@bp.post("/folders/<int:folder_id>/sharing/inherit")
@login_required
def inherit(folder_id: int):
    """Drop the folder's own rows so it takes its parent's permissions again."""
    return _change(folder_id, lambda session: sharing.restore_inheritance(session=session, folder_id=folder_id,
                                                                          actor=me()),
                   _("The folder inherits its parent's permissions again."))

"""Library settings: drive quotas (administrators) and department library admins (administrators, leaders)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from documents import access, library
from documents.library_errors import LibraryError, NotAllowed
from documents.models import DocFolder, DocLibrary, DocLibraryAdmin
from org.models import Department, User

from ..db import command, query
from .documents_common import explain, install, library_label, me, people

bp = Blueprint("documents_settings", __name__, url_prefix="/documents/settings")
install(bp)
MB = 2**20
MAX_QUOTA_MB = 10 * 2**20  # 10 TB: past that a number is a typing slip


def _led_departments(session) -> list[int]:
    me_id = select(User.id).where(User.username == current_user.username).scalar_subquery()
    return list(session.scalars(select(Department.id).where(Department.leader_id == me_id)))


def may_open(session) -> bool:
    """Tell whether the reader has anything to set here: administrators, and department leaders."""
    return bool(current_user.is_admin or _led_departments(session))


@bp.get("/")
@login_required
def index():
    """List the libraries the reader may set up: every one for administrators, their departments' for leaders."""
    with command() as session:
        led = _led_departments(session)
        if not (current_user.is_admin or led):
            abort(403)
        # Every department has its library from the moment anyone looks here, so each can be set up.
        for department_id in (session.scalars(select(Department.id)) if current_user.is_admin else led):
            library.department_library(session=session, department_id=department_id)
    with query() as session:
        query_ = select(DocLibrary).order_by(DocLibrary.kind, DocLibrary.name)
        if not current_user.is_admin:
            query_ = query_.where(DocLibrary.department_id.in_(led))
        found = list(session.scalars(query_))
        admins: dict[int, list[str]] = {}
        for library_id, username in session.execute(select(DocLibraryAdmin.library_id, DocLibraryAdmin.username)):
            admins.setdefault(library_id, []).append(username)
        names = people(session, [lib.owner for lib in found] + [n for ns in admins.values() for n in ns])
        # Managing a library's quota and admins is not reading it: a personal drive opens for its owner only.
        roots = [lib.root_folder_id for lib in found if lib.root_folder_id is not None]
        openable = set(session.scalars(access.readable_folders(session, me()).where(DocFolder.id.in_(roots)))) \
            if roots else set()
        rows = [{"library": lib, "label": library_label(lib, names), "used": library.used_bytes(session, lib.id),
                 "admins": sorted(admins.get(lib.id, [])), "openable": lib.root_folder_id in openable}
                for lib in found]
    return render_template("documents/settings.html", rows=rows, names=names, mb=MB)


def _quota(text: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None  # no quota
    try:
        megabytes = float(text)
    except ValueError:
        megabytes = -1
    if not 0 <= megabytes <= MAX_QUOTA_MB:
        raise ValueError(_("Give the quota in MB, from 0 to %(max)s; leave it empty for no quota.", max=MAX_QUOTA_MB))
    return int(megabytes * MB)


def _done(message: str):
    flash(message, "success")
    return redirect(url_for("documents_settings.index"))


def _refused(message: str):
    flash(message, "error")
    return redirect(url_for("documents_settings.index"))


@bp.post("/drives")
@login_required
def drive_quota():
    """Set a person's drive quota, creating the drive if they have none yet; administrators only."""
    if not current_user.is_admin:
        abort(403)
    username = (request.form.get("username") or "").strip()
    try:
        quota = _quota(request.form.get("quota_mb", ""))
        with command() as session:
            drive = library.personal_drive(session=session, username=username)
            library.set_quota(session=session, library_id=drive.id, quota_bytes=quota, actor=me())
    except ValueError as exc:
        return _refused(str(exc))
    except LibraryError as exc:
        return _refused(_("No user “%(name)s”.", name=username) if exc.code == "not_found" else explain(exc))
    return _done(_("Quota of %(name)s's drive saved.", name=username))


@bp.post("/<int:library_id>/quota")
@login_required
def quota(library_id: int):
    """Set or lift a library's quota; administrators only."""
    if not current_user.is_admin:
        abort(403)
    try:
        value = _quota(request.form.get("quota_mb", ""))
        with command() as session:
            lib = library.set_quota(session=session, library_id=library_id, quota_bytes=value, actor=me())
            label = library_label(lib, people(session, [lib.owner]))
    except ValueError as exc:
        return _refused(str(exc))
    return _done(_("Quota of %(library)s saved.", library=label))


@bp.post("/<int:library_id>/admins")
@login_required
def admins(library_id: int):
    """Name a department library's admins (user names separated by commas or spaces)."""
    names = [n for n in (request.form.get("usernames") or "").replace(",", " ").replace("，", " ").split() if n]
    try:
        with command() as session:
            saved = library.set_library_admins(session=session, library_id=library_id, usernames=names, actor=me())
            lib = session.get(DocLibrary, library_id)
            label = lib.name
    except LibraryError as exc:
        if exc.code == "not_found" and exc.details.get("field") == "usernames":
            return _refused(_("No such user among: %(names)s", names=", ".join(names)))
        if isinstance(exc, NotAllowed):
            abort(403)
        return _refused(explain(exc))
    return _done(_("Admins of %(library)s: %(names)s", library=label, names=", ".join(saved) or _("nobody")))

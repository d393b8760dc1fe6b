"""What the document centre's pages share: the file store, the wording of refusals, sizes, names and downloads."""
from __future__ import annotations

import unicodedata
from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, current_app
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from documents import access, folders
from documents.library import get_folder_or_raise
from documents.library_errors import LibraryError, NotAllowed, NotFound
from documents.models import DocFolder, DocLibrary
from org.models import User

from ..db import query
from ..errors import STATUS, error_response


def store_dir() -> Path:
    """Return the folder of the file store (shared with attachments)."""
    return current_app.extensions["flowdesk.settings"].var_dir / "files"


def upload_limit() -> int:
    """Return the largest file a person may upload, in bytes."""
    return current_app.extensions["flowdesk.settings"].max_upload_mb * 2**20


def me():
    """Return the signed-in user's Actor."""
    return current_user.actor


def human_size(size: int | None) -> str:
    """Write a byte count the way people read it: 980 bytes, 1.4 KB, 12.5 MB."""
    if size is None:
        return ""
    if size < 1024:
        return _("%(n)s bytes", n=format_decimal(size))
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            break
    return f"{format_decimal(round(value, 1))} {unit}"


def exact_size(size: int) -> str:
    """Write a byte count in a readable unit with the exact bytes beside it when they differ."""
    readable = human_size(size)
    return readable if size < 1024 else _("%(size)s (%(n)s bytes)", size=readable, n=format_decimal(size))


def action_labels() -> dict[str, str]:
    """Return the permission actions with their names in the reader's language."""
    return {"read": _("Read"), "upload": _("Upload"), "edit": _("Edit"), "delete": _("Delete"),
            "manage": _("Manage")}


def explain(exc: LibraryError) -> str:
    """Say in the reader's language what a document service refused, with the numbers that matter."""
    d = exc.details
    if exc.code == "quota_exceeded":
        return _("Not enough space: the drive holds %(used)s of its %(quota)s quota and %(size)s more do not "
                 "fit. Nothing was stored.", used=exact_size(d.get("used", 0)), quota=exact_size(d.get("quota", 0)),
                 size=exact_size(d.get("size", 0)))
    if exc.code == "name_taken":
        return _("“%(name)s” already exists in this folder. Choose another name.", name=d.get("name", ""))
    if exc.code == "locked":
        return _("This document is locked by %(who)s; unlock it first.", who=d.get("locked_by") or "?")
    if exc.code == "wrong_password":
        return _("The password is wrong.")
    if exc.code == "password_required":
        return _("This document is encrypted: enter its password.")
    if exc.code == "archive_refused":
        return _("The archive %(file)s was refused (%(reason)s). Nothing of it was imported.",
                 file=d.get("file", ""), reason=d.get("reason", ""))
    if exc.code == "damaged":
        return _("The stored file is missing or damaged. Ask an administrator to restore it from a backup.")
    if exc.code == "forbidden":
        return _("You may not %(action)s here.", action=action_labels().get(d.get("action"), d.get("action", ""))
                 .lower())
    if exc.code == "not_found":
        return _("This item does not exist, or it was deleted.")
    if exc.code == "invalid_input" and d.get("limit") is not None:
        return _("%(name)s is larger than the limit of %(limit)s.", name=d.get("name", ""),
                 limit=human_size(d["limit"]))
    if exc.code == "invalid_input" and d.get("field") in ("name", "file_name"):
        return _("Enter a name of at most 255 characters, without “/”, “\\” or control characters, "
                 "other than “.” and “..”.")
    return exc.message


def _hidden(exc: NotAllowed) -> bool:
    """Tell whether a refusal concerns a folder the reader may not even see (so it must look absent)."""
    if exc.details.get("action") == "read":
        return True
    folder_id = exc.details.get("folder_id")
    if folder_id is None:
        return False
    with query() as session:
        try:
            folder = get_folder_or_raise(session, folder_id, deleted=True)
        except NotFound:
            return True
        return not access.may(session, me(), "read", folder)


def install(bp: Blueprint) -> None:
    """Give a documents blueprint its error pages and template helpers."""

    @bp.errorhandler(LibraryError)
    def library_error(exc):
        # Refusing what someone cannot see says "absent", never "forbidden": the folder's existence stays private.
        if isinstance(exc, NotAllowed) and not exc.code == "wrong_password" and _hidden(exc):
            return error_response(404, "not_found", _("This page does not exist, or you cannot see it."))
        return error_response(STATUS.get(exc.status, 400), exc.code, explain(exc), exc.details)

    @bp.context_processor
    def helpers():
        return {"human_size": human_size, "action_labels": action_labels()}


def people(session, usernames) -> dict[str, str]:
    """Return display names by username."""
    names = {n for n in usernames if n}
    if not names:
        return {}
    return dict(session.execute(select(User.username, User.display_name).where(User.username.in_(names))).all())


def library_label(lib: DocLibrary, names: dict[str, str] | None = None) -> str:
    """Name a library for the reader: "My drive" for their own drive."""
    if lib.kind == "personal":
        if lib.owner == current_user.username:
            return _("My drive")
        return _("Drive of %(name)s", name=(names or {}).get(lib.owner, lib.owner))
    return lib.name


def folder_paths(session, folder_list: list[DocFolder]) -> dict[int, str]:
    """Return "Library / a / b" for each folder, loading the names on the way in one query."""
    ids = {int(p) for f in folder_list for p in f.path.strip("/").split("/") if p}
    names = dict(session.execute(select(DocFolder.id, DocFolder.name).where(DocFolder.id.in_(ids))).all()) \
        if ids else {}
    # A library's root is named as the library is for the reader ("My drive", not the owner's username).
    roots = list(session.scalars(select(DocLibrary).where(DocLibrary.root_folder_id.in_(ids)))) if ids else []
    owners = people(session, [lib.owner for lib in roots])
    names.update({lib.root_folder_id: library_label(lib, owners) for lib in roots})
    return {f.id: " / ".join(names.get(int(p), "?") for p in f.path.strip("/").split("/") if p)
            for f in folder_list}


def move_targets(session, *, exclude_path: str | None = None) -> list[tuple[int, str]]:
    """List the folders the reader may upload into, as (id, path), leaving out one subtree."""
    rows = list(session.scalars(select(DocFolder).where(
        DocFolder.id.in_(access.readable_folders(session, me(), "upload"))).order_by(DocFolder.path).limit(2000)))
    rows = [f for f in rows if not (exclude_path and f.path.startswith(exclude_path))]
    paths = folder_paths(session, rows)
    return sorted(((f.id, paths[f.id]) for f in rows), key=lambda pair: pair[1].casefold())


def content_disposition(name: str, disposition: str = "attachment") -> str:
    """Return a Content-Disposition (attachment or inline) with an ASCII fallback and the UTF-8 name (RFC 6266/5987)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    plain = "".join(c if c.isprintable() and c not in '"\\;' else "_" for c in plain).strip() or "download"
    if plain.startswith("."):
        plain = "download" + plain
    if plain == name:
        return f'{disposition}; filename="{plain}"'
    return f"{disposition}; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


def trail_context(session, folder: DocFolder) -> dict:
    """Return the breadcrumb of a folder: its trail and its library's name for the reader."""
    lib = session.get(DocLibrary, folder.library_id)
    return {"trail": folders.trail(session, folder), "library_label": library_label(lib, people(session, [lib.owner]))}

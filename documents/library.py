"""Libraries (company, department, personal drive), quotas, lookups and name rules, and the hook for indexing.

Search integration: documents never index themselves. Subscribe a callback with `on_change`; it is called in
the same transaction as each change with the ids of the documents whose index entry may be stale, and
`index_fields` gives what to index for one document (None: remove it from the index).
"""
from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from audit import service as audit
from instances.actors import Actor
from org.models import Department, User

from .library_errors import InvalidInput, NameTaken, NotAllowed, NotFound, QuotaExceeded
from .models import (
    DocDocument,
    DocFolder,
    DocFolderAncestor,
    DocLibrary,
    DocLibraryAdmin,
    DocPermission,
    DocText,
    DocVersion,
)

MAX_NAME = 255
READ, UPLOAD, EDIT, DELETE, MANAGE = 1, 2, 4, 8, 16
ACTIONS = {"read": READ, "upload": UPLOAD, "edit": EDIT, "delete": DELETE, "manage": MANAGE}
ALL = READ | UPLOAD | EDIT | DELETE | MANAGE

Listener = Callable[[Session, list[int], str], None]
_listeners: list[Listener] = []


def on_change(listener: Listener) -> Callable[[], None]:
    """Call listener(session, document_ids, event) after every document change; return an unsubscribe function."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


def notify(session: Session, document_ids: Iterable[int], event: str) -> None:
    """Tell the listeners that these documents changed (created, version, renamed, moved, deleted...)."""
    ids = sorted(set(document_ids))
    if ids:
        for listener in list(_listeners):
            listener(session, ids, event)


def record(session: Session, actor: Actor, action: str, object_type: str, object_id, summary: str = "",
           before: dict | None = None, after: dict | None = None, kind: str = "change") -> None:
    """Write one audit entry for a library change, in the caller's transaction."""
    audit.log(session, actor=actor.username, action=action, object_type=object_type, object_id=object_id,
              summary=summary, before=before, after=after, kind=kind)


_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def check_name(name: str, field: str = "name") -> tuple[str, str]:
    """Return a folder or document name and its clash key, or raise InvalidInput."""
    value = unicodedata.normalize("NFC", (name or "").strip())
    if not value or value in (".", ".."):
        raise InvalidInput(f"{field} must not be empty, '.' or '..'", details={"field": field})
    # Control characters break downloads and logs; bidi overrides disguise "exe.txt" as "txt.exe".
    if any(ch in "/\\" or ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise InvalidInput(f"{field} must not contain '/', '\\' or control characters", details={"field": field})
    if len(value) > MAX_NAME:
        raise InvalidInput(f"{field} is longer than {MAX_NAME} characters", details={"field": field})
    # casefold may lengthen a name ("ß" -> "ss"); the key column holds MAX_NAME characters.
    return value, value.casefold()[:MAX_NAME]


def ensure_name_free(session: Session, folder_id: int, key: str, name: str, *, skip_document: int | None = None,
                     skip_folder: int | None = None) -> None:
    """Raise NameTaken if a live folder or document in the folder already has this name."""
    folder = session.scalar(select(DocFolder.id).where(DocFolder.parent_id == folder_id, DocFolder.name_key == key,
                                                       DocFolder.deleted_at.is_(None), DocFolder.id != (skip_folder or -1)))
    document = session.scalar(select(DocDocument.id).where(DocDocument.folder_id == folder_id,
                                                           DocDocument.name_key == key, DocDocument.deleted_at.is_(None),
                                                           DocDocument.id != (skip_document or -1)))
    if folder is not None or document is not None:
        raise NameTaken(f"'{name}' already exists in this folder",
                        details={"field": "name", "name": name, "folder_id": folder_id,
                                 "existing_folder_id": folder, "existing_document_id": document})


def get_folder_or_raise(session: Session, folder_id: int, *, deleted: bool = False) -> DocFolder:
    """Return a live folder (or any folder when deleted=True) or raise NotFound."""
    folder = session.get(DocFolder, folder_id)
    if folder is None or (folder.deleted_at is not None and not deleted):
        raise NotFound(f"no folder {folder_id}", details={"folder_id": folder_id})
    return folder


def get_document_or_raise(session: Session, document_id: int, *, deleted: bool = False) -> DocDocument:
    """Return a live document (or any document when deleted=True) or raise NotFound."""
    document = session.get(DocDocument, document_id)
    if document is None or (document.deleted_at is not None and not deleted):
        raise NotFound(f"no document {document_id}", details={"document_id": document_id})
    return document


def get_version_or_raise(session: Session, document_id: int, number: int | None = None) -> DocVersion:
    """Return a version of a document by number, or its current version."""
    document = get_document_or_raise(session, document_id)
    query = select(DocVersion).where(DocVersion.document_id == document.id)
    query = query.where(DocVersion.number == number) if number is not None else \
        query.where(DocVersion.id == document.current_version_id)
    version = session.scalar(query)
    if version is None:
        raise NotFound(f"document {document_id} has no version {number}",
                       details={"document_id": document_id, "number": number})
    return version


def _create(session: Session, key: str, kind: str, name: str, grants: dict[str, int], **fields) -> DocLibrary:
    library = DocLibrary(key=key, kind=kind, name=name[:MAX_NAME], **fields)
    session.add(library)
    session.flush()
    root = DocFolder(library_id=library.id, parent_id=None, name=library.name, name_key=library.name.casefold(),
                     depth=0, inherit=False, created_by="system")
    session.add(root)
    session.flush()
    root.path, root.acl_root_id, library.root_folder_id = f"/{root.id}/", root.id, root.id
    session.add(DocFolderAncestor(folder_id=root.id, ancestor_id=root.id))
    session.add_all(DocPermission(folder_id=root.id, principal=p, actions=a, created_by="system")
                    for p, a in grants.items())
    session.flush()
    session.info.pop("documents.viewers", None)  # cached Viewers do not know the new library yet
    audit.log(session, action="library.created", object_type="doc_library", object_id=library.id,
              summary=library.name, after={"kind": kind, "key": key})
    return library


def company_library(*, session: Session, name: str = "公司文库 Company library") -> DocLibrary:
    """Return the company library, created on first use: every employee reads it, admins manage it."""
    found = session.scalar(select(DocLibrary).where(DocLibrary.key == "company"))
    return found or _create(session, "company", "company", name, {"everyone": READ})


def department_library(*, session: Session, department_id: int) -> DocLibrary:
    """Return a department's library, created on first use: its members read and upload, its leader manages."""
    found = session.scalar(select(DocLibrary).where(DocLibrary.key == f"department:{department_id}"))
    if found is not None:
        return found
    department = session.get(Department, department_id)
    if department is None:
        raise NotFound(f"no department {department_id}", details={"department_id": department_id})
    # dept_tree: members of sub-departments belong to the department too.
    return _create(session, f"department:{department_id}", "department", department.name,
                   {f"dept_tree:{department.code}": READ | UPLOAD}, department_id=department_id)


def personal_drive(*, session: Session, username: str, quota_bytes: int | None = None) -> DocLibrary:
    """Return a user's drive, created on first use with the given quota: only its owner works in it."""
    found = session.scalar(select(DocLibrary).where(DocLibrary.key == f"personal:{username}"))
    if found is not None:
        return found
    if session.scalar(select(User.id).where(User.username == username)) is None:
        raise NotFound(f"no user '{username}'", details={"username": username})
    return _create(session, f"personal:{username}", "personal", username, {}, owner=username,
                   quota_bytes=quota_bytes)


def get_library_or_raise(session: Session, library_id: int) -> DocLibrary:
    """Return a library or raise NotFound."""
    library = session.get(DocLibrary, library_id)
    if library is None:
        raise NotFound(f"no library {library_id}", details={"library_id": library_id})
    return library


def set_quota(*, session: Session, library_id: int, quota_bytes: int | None, actor: Actor) -> DocLibrary:
    """Set (or lift, with None) a drive's quota in bytes; admins only."""
    if not actor.is_admin:
        raise NotAllowed("only administrators set quotas", details={"action": "set_quota", "library_id": library_id})
    if quota_bytes is not None and (isinstance(quota_bytes, bool) or not isinstance(quota_bytes, int)
                                    or quota_bytes < 0):
        raise InvalidInput("quota must be a whole number of bytes, 0 or more", details={"field": "quota_bytes"})
    library = get_library_or_raise(session, library_id)
    before = library.quota_bytes
    library.quota_bytes = quota_bytes
    record(session, actor, "library.quota_set", "doc_library", library.id, library.name,
           before={"quota_bytes": before}, after={"quota_bytes": quota_bytes})
    return library


def set_library_admins(*, session: Session, library_id: int, usernames: list[str], actor: Actor) -> list[str]:
    """Name the people who manage a department library; admins or the department's leader only."""
    library = get_library_or_raise(session, library_id)
    leader = session.scalar(select(User.username).join(Department, Department.leader_id == User.id)
                            .where(Department.id == library.department_id)) if library.department_id else None
    if library.kind != "department":
        raise InvalidInput("only department libraries have library admins", details={"field": "library_id"})
    if not (actor.is_admin or actor.username == leader):
        raise NotAllowed("only administrators or the department's leader name library admins",
                         details={"action": "manage", "library_id": library_id})
    names = sorted(set(usernames))
    known = set(session.scalars(select(User.username).where(User.username.in_(names))))
    if set(names) - known:
        raise NotFound(f"no user {sorted(set(names) - known)[0]!r}", details={"field": "usernames"})
    before = sorted(session.scalars(select(DocLibraryAdmin.username).where(DocLibraryAdmin.library_id == library_id)))
    session.execute(delete(DocLibraryAdmin).where(DocLibraryAdmin.library_id == library_id))
    session.add_all(DocLibraryAdmin(library_id=library_id, username=name) for name in names)
    session.flush()
    session.info.pop("documents.viewers", None)
    record(session, actor, "library.admins_set", "doc_library", library_id, library.name,
           before={"admins": before}, after={"admins": names})
    return names


def used_bytes(session: Session, library_id: int) -> int:
    """Return the bytes a library's versions occupy, counting each stored blob once (recycle bin included)."""
    blobs = (select(DocVersion.sha256, DocVersion.size).join(DocDocument, DocDocument.id == DocVersion.document_id)
             .where(DocDocument.library_id == library_id).distinct().subquery())
    return int(session.scalar(select(func.coalesce(func.sum(blobs.c.size), 0))) or 0)


def check_quota_bytes(session: Session, library_id: int, size: int) -> None:
    """Raise QuotaExceeded (with used, quota and size) if adding size bytes would pass the library's quota."""
    # Locking the library row serialises uploads into one drive, so two cannot both take the last bytes.
    library = session.scalar(select(DocLibrary).where(DocLibrary.id == library_id).with_for_update()
                             .execution_options(populate_existing=True))
    if library is None or library.quota_bytes is None:
        return
    used = used_bytes(session, library_id)
    if used + size > library.quota_bytes:
        raise QuotaExceeded(f"the drive holds {used} of {library.quota_bytes} bytes; {size} more bytes do not fit",
                            details={"used": used, "quota": library.quota_bytes, "size": size,
                                     "library_id": library_id})


def check_quota(session: Session, library_id: int, sha256: str, size: int) -> None:
    """Raise QuotaExceeded if a blob new to the library would pass its quota (a blob it holds costs nothing)."""
    present = session.scalar(select(DocVersion.id).join(DocDocument, DocDocument.id == DocVersion.document_id)
                             .where(DocDocument.library_id == library_id, DocVersion.sha256 == sha256).limit(1))
    if present is None:
        check_quota_bytes(session, library_id, size)


def text_for_index(session: Session, version_id: int) -> str | None:
    """Return a version's extracted text for the search index, or None (encrypted, not extracted, no text)."""
    version = session.get(DocVersion, version_id)
    if version is None or version.encrypted or version.extraction != "ok":
        return None
    return session.scalar(select(DocText.text).where(DocText.version_id == version_id))


def index_fields(session: Session, document_id: int) -> dict | None:
    """Return the keyword arguments of search.index_entry for a document, or None to remove its entry."""
    document = session.get(DocDocument, document_id)
    if document is None or document.deleted_at is not None:
        return None
    version = session.get(DocVersion, document.current_version_id) if document.current_version_id else None
    text = text_for_index(session, version.id) if version is not None else None
    return {"kind": "document", "ref": str(document.id), "title": document.name, "text": text or "",
            "owner": document.created_by, "folder_id": document.folder_id, "scope": f"library:{document.library_id}",
            "updated_at": document.updated_at,
            "extra": {"library_id": document.library_id, "version": version.number if version else None,
                      "encrypted": document.encrypted, "size": version.size if version else 0}}

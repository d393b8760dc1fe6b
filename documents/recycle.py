"""The recycle bin: soft-delete folders and documents, restore them, or purge them for good.

Deleting a folder marks it and everything live below it with one bin entry, so restoring brings back exactly
what that deletion hid (items deleted earlier keep their own entries). Purging removes the rows; the blobs
are released and deleted later by the worker, only if nothing references them (store.delete_released_blobs).
"""
from __future__ import annotations

from sqlalchemy import and_, delete, inspect, or_, select, update
from sqlalchemy.orm import Session

from database.base import utcnow
from instances.actors import Actor

from . import access
from .folders import expire, in_subtree, refuse_if_locked, subtree_ids
from .library import ensure_name_free, get_document_or_raise, get_folder_or_raise, notify, record
from .library_errors import Conflict, InvalidInput, NotFound
from .models import (
    DocDocument,
    DocFolder,
    DocFolderAncestor,
    DocLink,
    DocPermission,
    DocText,
    DocTrash,
    DocVersion,
)
from .store import release
from .versions import refuse_if_locked as refuse_if_document_locked


def delete_document(*, session: Session, document_id: int, actor: Actor) -> DocTrash:
    """Move a document to the recycle bin; needs delete; refused when locked."""
    document = get_document_or_raise(session, document_id)
    refuse_if_document_locked(document, "deleted")
    access.require(session, actor, "delete", get_folder_or_raise(session, document.folder_id))
    trash = DocTrash(library_id=document.library_id, kind="document", item_id=document.id, name=document.name,
                     parent_id=document.folder_id, deleted_by=actor.username, deleted_at=utcnow())
    session.add(trash)
    session.flush()
    document.deleted_at, document.deleted_by, document.trash_id = trash.deleted_at, actor.username, trash.id
    session.flush()
    record(session, actor, "document.deleted", "doc_document", document.id, document.name,
           after={"trash_id": trash.id, "folder_id": document.folder_id})
    notify(session, [document.id], "deleted")
    return trash


def delete_folder(*, session: Session, folder_id: int, actor: Actor) -> DocTrash:
    """Move a folder and everything in it to the recycle bin; needs delete; refused if it holds locked documents."""
    folder = get_folder_or_raise(session, folder_id)
    if folder.parent_id is None:
        raise InvalidInput("a library's root folder cannot be deleted", details={"field": "folder_id"})
    access.require(session, actor, "delete", folder)
    refuse_if_locked(session, folder, "deleted")
    now = utcnow()
    trash = DocTrash(library_id=folder.library_id, kind="folder", item_id=folder.id, name=folder.name,
                     parent_id=folder.parent_id, deleted_by=actor.username, deleted_at=now)
    session.add(trash)
    session.flush()
    marks = {"deleted_at": now, "deleted_by": actor.username, "trash_id": trash.id}
    below = subtree_ids(folder.id)
    hidden = list(session.scalars(select(DocDocument.id).where(DocDocument.folder_id.in_(below),
                                                               DocDocument.deleted_at.is_(None))))
    session.execute(update(DocDocument).where(DocDocument.folder_id.in_(below), DocDocument.deleted_at.is_(None))
                    .values(**marks).execution_options(synchronize_session=False))
    session.execute(update(DocFolder).where(in_subtree(folder), DocFolder.deleted_at.is_(None))
                    .values(**marks).execution_options(synchronize_session=False))
    expire(session)
    record(session, actor, "folder.deleted", "doc_folder", folder_id, trash.name,
           after={"trash_id": trash.id, "documents": len(hidden)})
    notify(session, hidden, "deleted")
    return trash


def list_recycle_bin(*, session: Session, library_id: int, actor: Actor) -> list[DocTrash]:
    """List a library's bin entries whose place the actor may delete in, newest first."""
    entries = list(session.scalars(select(DocTrash).where(DocTrash.library_id == library_id)
                                   .order_by(DocTrash.deleted_at.desc(), DocTrash.id.desc())))
    parents = {f.id: f for f in session.scalars(select(DocFolder).where(DocFolder.id.in_({e.parent_id for e in entries})))}
    return [e for e in entries if e.parent_id in parents and access.may(session, actor, "delete", parents[e.parent_id])]


def _entry(session: Session, trash_id: int) -> DocTrash:
    trash = session.get(DocTrash, trash_id)
    if trash is None:
        raise NotFound(f"no recycle bin entry {trash_id}", details={"trash_id": trash_id})
    return trash


def restore_item(*, session: Session, trash_id: int, actor: Actor, recovery: bool = False) -> DocTrash:
    """Bring a bin entry back where it was; its folder must exist and its name be free there."""
    trash = _entry(session, trash_id)
    parent = get_folder_or_raise(session, trash.parent_id, deleted=True)
    access.require(session, actor, "delete", parent, recovery=recovery)
    if parent.deleted_at is not None:
        raise Conflict(f"the folder '{parent.name}' that held '{trash.name}' is in the recycle bin; restore it first",
                       details={"trash_id": trash.id, "folder_id": parent.id, "folder_trash_id": parent.trash_id})
    item = session.get(DocFolder if trash.kind == "folder" else DocDocument, trash.item_id)
    ensure_name_free(session, parent.id, item.name_key, item.name,
                     skip_folder=item.id if trash.kind == "folder" else None,
                     skip_document=item.id if trash.kind == "document" else None)
    back = list(session.scalars(select(DocDocument.id).where(DocDocument.trash_id == trash.id)))
    cleared = {"deleted_at": None, "deleted_by": None, "trash_id": None}
    session.flush()
    session.execute(update(DocDocument).where(DocDocument.trash_id == trash.id).values(**cleared)
                    .execution_options(synchronize_session=False))
    session.execute(update(DocFolder).where(DocFolder.trash_id == trash.id).values(**cleared)
                    .execution_options(synchronize_session=False))
    expire(session)
    record(session, actor, f"{trash.kind}.restored", f"doc_{trash.kind}", trash.item_id, trash.name,
           after={"trash_id": trash.id, "folder_id": parent.id})
    session.delete(trash)
    session.flush()
    notify(session, back, "restored")
    return trash


def _forget(session: Session, folder_ids: set[int], document_ids: set[int], trash_ids: set[int]) -> None:
    # Bulk deletes leave the session's copies behind; drop them so a later get() cannot return a ghost.
    for obj in list(session.identity_map.values()):
        state = inspect(obj)
        ident, loaded = (state.identity or (None,))[0], state.dict
        if (isinstance(obj, DocFolder) and ident in folder_ids) \
                or (isinstance(obj, DocDocument) and ident in document_ids) \
                or (isinstance(obj, DocVersion | DocLink) and loaded.get("document_id") in document_ids) \
                or (isinstance(obj, DocPermission) and loaded.get("folder_id") in folder_ids) \
                or (isinstance(obj, DocTrash) and ident in trash_ids):
            session.expunge(obj)


def purge_item(*, session: Session, trash_id: int, actor: Actor) -> list[str]:
    """Delete a bin entry for good (a folder with everything below it); needs manage; return released blobs."""
    trash = _entry(session, trash_id)
    access.require(session, actor, "manage", get_folder_or_raise(session, trash.parent_id, deleted=True))
    if trash.kind == "folder":
        folder = get_folder_or_raise(session, trash.item_id, deleted=True)
        folder_ids = list(session.scalars(select(DocFolder.id).where(in_subtree(folder))))
        document_ids = list(session.scalars(select(DocDocument.id).where(DocDocument.folder_id.in_(folder_ids))))
    else:
        folder_ids, document_ids = [], [trash.item_id]
    version_ids = select(DocVersion.id).where(DocVersion.document_id.in_(document_ids))
    shas = list(session.scalars(select(DocVersion.sha256).where(DocVersion.document_id.in_(document_ids)).distinct()))
    session.flush()
    session.execute(delete(DocText).where(DocText.version_id.in_(version_ids)))
    session.execute(delete(DocLink).where(DocLink.document_id.in_(document_ids)))
    session.execute(delete(DocVersion).where(DocVersion.document_id.in_(document_ids)))
    session.execute(delete(DocDocument).where(DocDocument.id.in_(document_ids)))
    session.execute(delete(DocPermission).where(DocPermission.folder_id.in_(folder_ids)))
    # Entries of items deleted earlier inside a purged folder go too: their place no longer exists.
    trash_ids = set(session.scalars(select(DocTrash.id).where(or_(
        DocTrash.id == trash.id, and_(DocTrash.kind == "folder", DocTrash.item_id.in_(folder_ids)),
        and_(DocTrash.kind == "document", DocTrash.item_id.in_(document_ids))))))
    session.execute(delete(DocTrash).where(DocTrash.id.in_(trash_ids)))
    session.execute(delete(DocFolderAncestor).where(DocFolderAncestor.folder_id.in_(folder_ids)))
    session.execute(delete(DocFolder).where(DocFolder.id.in_(folder_ids)))
    _forget(session, set(folder_ids), set(document_ids), trash_ids)
    release(session, shas)
    record(session, actor, f"{trash.kind}.purged", f"doc_{trash.kind}", trash.item_id, trash.name,
           before={"folders": len(folder_ids), "documents": len(document_ids), "blobs": len(shas)})
    notify(session, document_ids, "purged")
    return shas

"""Rename and move folders and documents, refusing name clashes, cycles and locked documents."""
from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from database.base import utcnow
from instances.actors import Actor

from . import access
from .folders import MAX_DEPTH, expire, in_subtree, refuse_if_locked, relink_ancestors, subtree_ids
from .library import (
    check_name,
    check_quota_bytes,
    ensure_name_free,
    get_document_or_raise,
    get_folder_or_raise,
    notify,
    record,
)
from .library_errors import Conflict, InvalidInput
from .models import DocDocument, DocFolder, DocTrash, DocVersion
from .versions import refuse_if_locked as refuse_if_document_locked


def rename_folder(*, session: Session, folder_id: int, name: str, actor: Actor) -> DocFolder:
    """Rename a folder (not a library root); needs edit on it; the name must be free beside it."""
    folder = get_folder_or_raise(session, folder_id)
    if folder.parent_id is None:
        raise InvalidInput("a library's root folder cannot be renamed here", details={"field": "folder_id"})
    access.require(session, actor, "edit", folder)
    name, key = check_name(name)
    ensure_name_free(session, folder.parent_id, key, name, skip_folder=folder.id)
    before, folder.name, folder.name_key = folder.name, name, key
    session.flush()
    record(session, actor, "folder.renamed", "doc_folder", folder.id, name, before={"name": before},
           after={"name": name})
    return folder


def move_folder(*, session: Session, folder_id: int, target_id: int, actor: Actor,
                recovery: bool = False) -> DocFolder:
    """Move a folder with everything in it under another folder; needs delete on it and upload on the target."""
    folder, target = get_folder_or_raise(session, folder_id), get_folder_or_raise(session, target_id)
    if folder.parent_id is None:
        raise InvalidInput("a library's root folder cannot be moved", details={"field": "folder_id"})
    access.require(session, actor, "delete", folder, recovery=recovery)
    access.require(session, actor, "upload", target)
    if target.path.startswith(folder.path):
        raise Conflict(f"'{folder.name}' cannot be moved into itself or one of its own subfolders",
                       details={"folder_id": folder.id, "target_id": target.id})
    if target.id == folder.parent_id:
        return folder
    ensure_name_free(session, target.id, folder.name_key, folder.name, skip_folder=folder.id)
    refuse_if_locked(session, folder, "moved")
    deepest = session.scalar(select(func.max(DocFolder.depth)).where(in_subtree(folder))) or folder.depth
    if deepest - folder.depth + target.depth + 1 > MAX_DEPTH:
        raise InvalidInput(f"folders may nest at most {MAX_DEPTH} levels deep", details={"field": "target_id"})
    below = subtree_ids(folder.id)
    if target.library_id != folder.library_id:
        blobs = (select(DocVersion.sha256, DocVersion.size).join(DocDocument, DocDocument.id == DocVersion.document_id)
                 .where(DocDocument.folder_id.in_(below)).distinct().subquery())
        check_quota_bytes(session, target.library_id, int(session.scalar(select(func.coalesce(func.sum(blobs.c.size), 0)))))
    old_path, new_path = folder.path, f"{target.path}{folder.id}/"
    old_parent, old_root, inherits = folder.parent_id, folder.acl_root_id, folder.inherit
    library_id, new_library, delta = folder.library_id, target.library_id, target.depth + 1 - folder.depth
    new_root = target.acl_root_id
    session.flush()
    if new_library != library_id:
        session.execute(update(DocDocument).where(DocDocument.folder_id.in_(below)).values(library_id=new_library)
                        .execution_options(synchronize_session=False))
        session.execute(update(DocTrash).where(DocTrash.parent_id.in_(below)).values(library_id=new_library)
                        .execution_options(synchronize_session=False))
    # One statement rewrites the subtree's paths: the new prefix plus what followed the old one.
    session.execute(update(DocFolder).where(DocFolder.id.in_(below))
                    .values(path=new_path + func.substr(DocFolder.path, len(old_path) + 1),
                            depth=DocFolder.depth + delta, library_id=new_library)
                    .execution_options(synchronize_session=False))
    if inherits:
        # Folders that took their permissions from above the moved folder now take them from the target's side.
        session.execute(update(DocFolder).where(DocFolder.id.in_(below), DocFolder.acl_root_id == old_root)
                        .values(acl_root_id=new_root).execution_options(synchronize_session=False))
    session.execute(update(DocFolder).where(DocFolder.id == folder_id).values(parent_id=target_id)
                    .execution_options(synchronize_session=False))
    relink_ancestors(session, folder, target)
    expire(session)
    record(session, actor, "folder.moved", "doc_folder", folder_id, folder.name,
           before={"parent_id": old_parent, "library_id": library_id},
           after={"parent_id": target_id, "library_id": new_library})
    notify(session, session.scalars(select(DocDocument.id).where(DocDocument.folder_id.in_(below))), "moved")
    return get_folder_or_raise(session, folder_id)


def rename_document(*, session: Session, document_id: int, name: str, actor: Actor) -> DocDocument:
    """Rename a document; needs edit; refused when locked or when the name is taken in its folder."""
    document = get_document_or_raise(session, document_id)
    refuse_if_document_locked(document, "renamed")
    access.require(session, actor, "edit", get_folder_or_raise(session, document.folder_id))
    name, key = check_name(name)
    ensure_name_free(session, document.folder_id, key, name, skip_document=document.id)
    before, document.name, document.name_key = document.name, name, key
    document.updated_by, document.updated_at = actor.username, utcnow()
    session.flush()
    record(session, actor, "document.renamed", "doc_document", document.id, name, before={"name": before},
           after={"name": name})
    notify(session, [document.id], "renamed")
    return document


def move_document(*, session: Session, document_id: int, target_id: int, actor: Actor,
                  recovery: bool = False) -> DocDocument:
    """Move a document to another folder; needs delete where it is and upload in the target."""
    document = get_document_or_raise(session, document_id)
    refuse_if_document_locked(document, "moved")
    source, target = get_folder_or_raise(session, document.folder_id), get_folder_or_raise(session, target_id)
    access.require(session, actor, "delete", source, recovery=recovery)
    access.require(session, actor, "upload", target)
    if target.id == source.id:
        return document
    ensure_name_free(session, target.id, document.name_key, document.name, skip_document=document.id)
    if target.library_id != document.library_id:
        blobs = select(DocVersion.sha256, DocVersion.size).where(DocVersion.document_id == document.id).distinct()\
            .subquery()
        check_quota_bytes(session, target.library_id, int(session.scalar(select(func.coalesce(func.sum(blobs.c.size), 0)))))
    before = {"folder_id": source.id, "library_id": document.library_id}
    document.folder_id, document.library_id = target.id, target.library_id
    document.updated_by, document.updated_at = actor.username, utcnow()
    session.flush()
    record(session, actor, "document.moved", "doc_document", document.id, document.name, before=before,
           after={"folder_id": target.id, "library_id": target.library_id})
    notify(session, [document.id], "moved")
    return document

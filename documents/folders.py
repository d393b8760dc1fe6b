"""Folders: create, list and find them, and keep each folder's materialised path and permission root right."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import BigInteger, Select, delete, insert, literal, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from instances.actors import Actor

from . import access
from .library import check_name, ensure_name_free, get_folder_or_raise, record
from .library_errors import InvalidInput, Locked
from .models import DocDocument, DocFolder, DocFolderAncestor, DocLibrary

MAX_DEPTH = 32


@dataclass
class Listing:
    """A folder's content as the actor may see it, with the way up to the library root."""

    folder: DocFolder
    trail: list[tuple[int, str]]
    folders: list[DocFolder]
    documents: list[DocDocument]
    actions: list[str] = field(default_factory=list)


def subtree_ids(folder_id: int) -> Select:
    """Return a SELECT of the ids of a folder and every folder below it (deleted ones included)."""
    return select(DocFolderAncestor.folder_id).where(DocFolderAncestor.ancestor_id == folder_id)


def in_subtree(folder: DocFolder) -> ColumnElement[bool]:
    """Return a condition on DocFolder true for the folder and every folder below it."""
    return DocFolder.id.in_(subtree_ids(folder.id))


def link_ancestors(session: Session, folder_id: int, parent_id: int) -> None:
    """Record a new folder's ancestors: its parent's, plus itself."""
    above = aliased(DocFolderAncestor)
    session.execute(insert(DocFolderAncestor).from_select(
        ["folder_id", "ancestor_id"],
        select(literal(folder_id, BigInteger), above.ancestor_id).where(above.folder_id == parent_id)))
    session.add(DocFolderAncestor(folder_id=folder_id, ancestor_id=folder_id))


def relink_ancestors(session: Session, folder: DocFolder, target: DocFolder) -> None:
    """After a move, give the folder's subtree the target's ancestors instead of its old ones."""
    below, old, new = aliased(DocFolderAncestor), aliased(DocFolderAncestor), aliased(DocFolderAncestor)
    outside = select(old.ancestor_id).where(old.folder_id == folder.id, old.ancestor_id != folder.id)
    session.execute(delete(DocFolderAncestor).where(DocFolderAncestor.folder_id.in_(subtree_ids(folder.id)),
                                                    DocFolderAncestor.ancestor_id.in_(outside)))
    session.execute(insert(DocFolderAncestor).from_select(
        ["folder_id", "ancestor_id"],
        select(below.folder_id, new.ancestor_id).select_from(below).join(new, new.folder_id == target.id)
        .where(below.ancestor_id == folder.id)))


def expire(session: Session) -> None:
    """Expire loaded folders and documents after bulk UPDATEs changed their rows underneath."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, DocFolder | DocDocument):
            session.expire(obj)


def retarget_acl(session: Session, folder: DocFolder, old_root: int | None, new_root: int) -> None:
    """Point the folder and the folders below it that took permissions from old_root at new_root."""
    session.flush()
    session.execute(update(DocFolder).where(in_subtree(folder), DocFolder.acl_root_id == old_root)
                    .values(acl_root_id=new_root).execution_options(synchronize_session=False))
    expire(session)


def locked_in(session: Session, folder: DocFolder) -> list[int]:
    """Return the ids of live locked documents in a folder or below it."""
    below = select(DocFolder.id).where(in_subtree(folder), DocFolder.deleted_at.is_(None))
    return list(session.scalars(select(DocDocument.id).where(DocDocument.folder_id.in_(below),
                                                             DocDocument.deleted_at.is_(None),
                                                             DocDocument.locked.is_(True)).order_by(DocDocument.id)))


def refuse_if_locked(session: Session, folder: DocFolder, what: str) -> None:
    """Raise Locked if a folder holds locked documents: they may not move or go to the recycle bin."""
    locked = locked_in(session, folder)
    if locked:
        raise Locked(f"folder '{folder.name}' holds {len(locked)} locked document(s) and cannot be {what}",
                     details={"folder_id": folder.id, "document_ids": locked[:50]})


def _add(session: Session, parent: DocFolder, name: str, key: str, actor: Actor) -> DocFolder:
    if parent.depth + 1 > MAX_DEPTH:
        raise InvalidInput(f"folders may nest at most {MAX_DEPTH} levels deep", details={"field": "parent_id"})
    ensure_name_free(session, parent.id, key, name)
    folder = DocFolder(library_id=parent.library_id, parent_id=parent.id, name=name, name_key=key,
                       depth=parent.depth + 1, inherit=True, acl_root_id=parent.acl_root_id, created_by=actor.username)
    session.add(folder)
    session.flush()
    folder.path = f"{parent.path}{folder.id}/"
    link_ancestors(session, folder.id, parent.id)
    session.flush()
    record(session, actor, "folder.created", "doc_folder", folder.id, name,
           after={"parent_id": parent.id, "library_id": parent.library_id})
    return folder


def create_folder(*, session: Session, parent_id: int, name: str, actor: Actor) -> DocFolder:
    """Create a subfolder; needs upload on the parent; the name must be free there."""
    parent = get_folder_or_raise(session, parent_id)
    access.require(session, actor, "upload", parent)
    name, key = check_name(name)
    return _add(session, parent, name, key, actor)


def ensure_path(session: Session, parent: DocFolder, parts: tuple[str, ...], actor: Actor) -> DocFolder:
    """Return the folder at parts below parent, creating the missing ones (upload needed at each new one)."""
    current = parent
    for part in parts:
        name, key = check_name(part)
        found = session.scalar(select(DocFolder).where(DocFolder.parent_id == current.id, DocFolder.name_key == key,
                                                       DocFolder.deleted_at.is_(None)))
        if found is None:
            access.require(session, actor, "upload", current)
            found = _add(session, current, name, key, actor)
        current = found
    return current


def trail(session: Session, folder: DocFolder) -> list[tuple[int, str]]:
    """Return (id, name) from the library root down to the folder."""
    ids = [int(part) for part in folder.path.strip("/").split("/") if part]
    names = dict(session.execute(select(DocFolder.id, DocFolder.name).where(DocFolder.id.in_(ids))).all())
    return [(i, names.get(i, "")) for i in ids]


def list_folder(*, session: Session, folder_id: int, actor: Actor, recovery: bool = False) -> Listing:
    """List a folder's subfolders the actor may read and its live documents; needs read on the folder."""
    folder = get_folder_or_raise(session, folder_id)
    access.require(session, actor, "read", folder, recovery=recovery)
    query = select(DocFolder).where(DocFolder.parent_id == folder.id, DocFolder.deleted_at.is_(None))
    if not (recovery and actor.is_admin):
        # A subfolder that sets its own permissions may be closed to someone who reads its parent.
        query = query.where(DocFolder.id.in_(access.readable_folders(session, actor)))
    documents = session.scalars(select(DocDocument).where(DocDocument.folder_id == folder.id,
                                                          DocDocument.deleted_at.is_(None)).order_by(DocDocument.name))
    mask = access.actions_on(session, actor, folder, recovery=recovery)
    return Listing(folder, trail(session, folder), list(session.scalars(query.order_by(DocFolder.name))),
                   list(documents), access.action_names(mask))


def list_libraries(*, session: Session, actor: Actor) -> list[DocLibrary]:
    """List the libraries in which the actor may read at least one folder."""
    reachable = select(DocFolder.library_id).distinct().where(DocFolder.id.in_(access.readable_folders(session, actor)))
    return list(session.scalars(select(DocLibrary).where(DocLibrary.id.in_(reachable))
                                .order_by(DocLibrary.kind, DocLibrary.name)))

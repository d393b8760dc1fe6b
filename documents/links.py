"""Documents attached to process instances and records, and archiving an approved instance's attachments."""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from attachments import service as attachments
from attachments.errors import AttachmentNotFound
from instances.actors import Actor
from instances.models import ProcessInstance

from . import access
from .integrity import fingerprint
from .library import check_name, check_quota, get_document_or_raise, get_folder_or_raise, notify, record
from .library_errors import Conflict, Damaged, InvalidInput, NotFound
from .models import LINK_KINDS, DocDocument, DocFolder, DocLink, DocVersion
from .versions import new_version_row

ARCHIVED_STATUS = "completed"  # an instance that ran to its end without rejection is the approved one


def _check_target(session: Session, kind: str, target_id: int) -> None:
    if kind not in LINK_KINDS:
        raise InvalidInput(f"target kind must be one of {', '.join(LINK_KINDS)}", details={"field": "target_kind"})
    if kind == "instance" and session.get(ProcessInstance, target_id) is None:
        raise NotFound(f"no process instance {target_id}", details={"target_kind": kind, "target_id": target_id})


def link_document(*, session: Session, document_id: int, target_kind: str, target_id: int, actor: Actor) -> DocLink:
    """Attach a document to an instance or a record (an existing link is returned); needs read on it."""
    document = get_document_or_raise(session, document_id)
    access.require(session, actor, "read", get_folder_or_raise(session, document.folder_id))
    _check_target(session, target_kind, target_id)
    found = session.scalar(select(DocLink).where(DocLink.document_id == document.id, DocLink.target_kind == target_kind,
                                                 DocLink.target_id == target_id))
    if found is not None:
        return found
    link = DocLink(document_id=document.id, target_kind=target_kind, target_id=target_id, created_by=actor.username)
    session.add(link)
    session.flush()
    record(session, actor, "document.linked", "doc_document", document.id, document.name,
           after={"target_kind": target_kind, "target_id": target_id})
    return link


def unlink_document(*, session: Session, document_id: int, target_kind: str, target_id: int, actor: Actor) -> None:
    """Remove a document's link to an instance or a record; needs edit on the document."""
    document = get_document_or_raise(session, document_id)
    access.require(session, actor, "edit", get_folder_or_raise(session, document.folder_id))
    link = session.scalar(select(DocLink).where(DocLink.document_id == document.id, DocLink.target_kind == target_kind,
                                                DocLink.target_id == target_id))
    if link is None:
        raise NotFound(f"'{document.name}' is not linked to {target_kind} {target_id}",
                       details={"document_id": document.id, "target_kind": target_kind, "target_id": target_id})
    record(session, actor, "document.unlinked", "doc_document", document.id, document.name,
           before={"target_kind": target_kind, "target_id": target_id})
    session.delete(link)
    session.flush()


def list_links(*, session: Session, document_id: int, actor: Actor) -> list[DocLink]:
    """List what a document is attached to; needs read on it."""
    document = get_document_or_raise(session, document_id)
    access.require(session, actor, "read", get_folder_or_raise(session, document.folder_id))
    return list(session.scalars(select(DocLink).where(DocLink.document_id == document.id).order_by(DocLink.id)))


def list_linked_documents(*, session: Session, target_kind: str, target_id: int, actor: Actor) -> list[DocDocument]:
    """List the live documents attached to an instance or a record that the actor may read."""
    if target_kind not in LINK_KINDS:
        raise InvalidInput(f"target kind must be one of {', '.join(LINK_KINDS)}", details={"field": "target_kind"})
    linked = select(DocLink.document_id).where(DocLink.target_kind == target_kind, DocLink.target_id == target_id)
    return list(session.scalars(select(DocDocument).where(DocDocument.id.in_(linked),
                                                          access.document_clause(session, actor))
                                .order_by(DocDocument.name)))


def _free_name(session: Session, folder: DocFolder, name: str) -> tuple[str, str]:
    # Archiving never turns another document into a version of this one: a taken name gets " (2)", " (3)"...
    stem, ext = os.path.splitext(name)
    candidate, number = name, 1
    while True:
        candidate, key = check_name(candidate)
        taken = session.scalar(select(DocDocument.id).where(DocDocument.folder_id == folder.id,
                                                            DocDocument.name_key == key,
                                                            DocDocument.deleted_at.is_(None))) or \
            session.scalar(select(DocFolder.id).where(DocFolder.parent_id == folder.id, DocFolder.name_key == key,
                                                      DocFolder.deleted_at.is_(None)))
        if taken is None:
            return candidate, key
        number += 1
        candidate = f"{stem[:240]} ({number}){ext}"


def archive_instance_documents(*, session: Session, store_dir: Path, instance_id: int, folder_id: int,
                               actor: Actor) -> list[DocDocument]:
    """File an approved instance's attachments into a folder as documents sharing their blobs, linked back."""
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"no process instance {instance_id}", details={"instance_id": instance_id})
    if instance.status != ARCHIVED_STATUS:
        raise Conflict(f"instance {instance_id} is {instance.status}; only approved (completed) instances are archived",
                       details={"instance_id": instance_id, "status": instance.status})
    folder = get_folder_or_raise(session, folder_id)
    access.require(session, actor, "upload", folder)
    done = set(session.execute(
        select(DocVersion.source_ref).join(DocDocument, DocDocument.id == DocVersion.document_id)
        .where(DocVersion.source == "attachment", DocDocument.folder_id == folder.id,
               DocDocument.deleted_at.is_(None))).scalars())
    created = []
    for attachment in attachments.list_for_instance(session=session, instance_id=instance_id):
        if str(attachment.id) in done:
            continue  # archived into this folder before: archiving again adds nothing
        try:
            blob = attachments.open_blob(store_dir=store_dir, attachment=attachment)  # plain bytes, even if sealed
        except AttachmentNotFound as exc:
            raise NotFound(exc.message, details={"attachment_id": attachment.id}) from None
        with blob:
            print_ = fingerprint(blob)  # the attachment row has no CRC32; the bytes are read once here
        if print_.sha256 != attachment.sha256:
            raise Damaged(f"the stored file of attachment '{attachment.file_name}' no longer matches its hash",
                          details={"attachment_id": attachment.id})
        name, key = _free_name(session, folder, attachment.file_name)
        check_quota(session, folder.library_id, print_.sha256, print_.size)
        document = DocDocument(library_id=folder.library_id, folder_id=folder.id, name=name, name_key=key,
                               created_by=actor.username, updated_by=actor.username, version_count=0)
        session.add(document)
        session.flush()
        new_version_row(session, document, actor, file_name=name, sha256=print_.sha256, crc32=print_.crc32,
                        size=print_.size, encrypted=False, source="attachment", source_ref=str(attachment.id))
        session.add(DocLink(document_id=document.id, target_kind="instance", target_id=instance_id,
                            created_by=actor.username))
        session.flush()
        record(session, actor, "document.archived", "doc_document", document.id, name,
               after={"instance_id": instance_id, "attachment_id": attachment.id, "sha256": print_.sha256,
                      "folder_id": folder.id})
        created.append(document)
    notify(session, [d.id for d in created], "version")
    return created

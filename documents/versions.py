"""Upload documents and versions, restore old versions, download, verify fingerprints, lock and unlock.

An upload into a folder that already holds a live document of the same name becomes its next version.
Content is staged and fingerprinted first; rows are written and checked (permissions, quota, locks); only
then does the blob move into the store, so a refused upload leaves nothing behind.
"""
from __future__ import annotations

import mimetypes
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from database.base import utcnow
from instances.actors import Actor

from . import access, secrecy
from .errors import Corrupted, PasswordRefused
from .errors import WrongPassword as SecrecyWrongPassword
from .integrity import Fingerprint, verify
from .library import (
    check_name,
    check_quota,
    ensure_name_free,
    get_document_or_raise,
    get_folder_or_raise,
    get_version_or_raise,
    notify,
    record,
)
from .library_errors import Damaged, InvalidInput, Locked, PasswordRequired, WrongPassword
from .models import DocDocument, DocFolder, DocText, DocVersion
from .store import BlobStore, StagedBlob


@dataclass
class Download:
    """What a download sends: the name, type, the plain file's path if unencrypted, and the bytes in chunks."""

    document: DocDocument
    version: DocVersion
    file_name: str
    content_type: str
    path: Path | None
    chunks: Iterator[bytes]


@dataclass(frozen=True)
class Check:
    """The outcome of verifying a stored version against its recorded fingerprint."""

    document_id: int
    number: int
    changed: bool
    missing: bool
    differing: tuple[str, ...]
    expected: dict
    actual: dict | None


def refuse_if_locked(document: DocDocument, what: str) -> None:
    """Raise Locked if the document is locked."""
    if document.locked:
        raise Locked(f"'{document.name}' is locked ({document.lock_reason or 'no reason given'}); it cannot be {what}",
                     details={"document_id": document.id, "locked_by": document.locked_by})


def _content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _check_password(store: BlobStore, document: DocDocument, version: DocVersion, password: str) -> None:
    # Opening the stream checks the key (no plaintext is read), so every version keeps one password.
    with store.open(version.sha256, name=document.name) as blob:
        try:
            secrecy.iter_decrypt(blob, password=password, filename=document.name)
        except (SecrecyWrongPassword, PasswordRefused):
            raise WrongPassword(f"wrong password for '{document.name}'", details={"document_id": document.id}) from None


def put(session: Session, store: BlobStore, folder: DocFolder, name: str, staged: StagedBlob, actor: Actor, *,
        document: DocDocument | None = None, source: str = "upload", source_ref: str | None = None,
        password: str | None = None) -> DocVersion:
    """Write the rows of one staged upload: a new document, or the next version of the named or same-named one."""
    name, key = check_name(name)
    if document is None:
        document = session.scalar(select(DocDocument).where(DocDocument.folder_id == folder.id,
                                                            DocDocument.name_key == key,
                                                            DocDocument.deleted_at.is_(None)))
    if document is not None:
        # Locks the row: two uploads of the same document get consecutive numbers, not a clash.
        document = session.scalar(select(DocDocument).where(DocDocument.id == document.id).with_for_update()
                                  .execution_options(populate_existing=True))
        refuse_if_locked(document, "given a new version")
        access.require(session, actor, "edit", folder)
        if document.encrypted and not staged.encrypted:
            raise PasswordRequired(f"'{document.name}' is encrypted: give its password",
                                   details={"field": "password", "document_id": document.id})
        if staged.encrypted and not document.encrypted:
            raise InvalidInput(f"'{document.name}' is not encrypted; upload the new version without a password",
                               details={"field": "password", "document_id": document.id})
        if document.encrypted:
            _check_password(store, document, session.get(DocVersion, document.current_version_id), password)
    else:
        access.require(session, actor, "upload", folder)
        ensure_name_free(session, folder.id, key, name)
        document = DocDocument(library_id=folder.library_id, folder_id=folder.id, name=name, name_key=key,
                               encrypted=staged.encrypted, created_by=actor.username, updated_by=actor.username,
                               version_count=0)
        session.add(document)
        session.flush()
    print_ = staged.fingerprint
    check_quota(session, document.library_id, print_.sha256, print_.size)
    version = new_version_row(session, document, actor, file_name=name, sha256=print_.sha256, crc32=print_.crc32,
                              size=print_.size, encrypted=staged.encrypted, source=source, source_ref=source_ref)
    record(session, actor, "document.uploaded" if version.number == 1 else "document.version_added", "doc_document",
           document.id, document.name, after={"version": version.number, "sha256": print_.sha256, "size": print_.size,
                                              "folder_id": folder.id, "encrypted": staged.encrypted, "source": source})
    return version


def new_version_row(session: Session, document: DocDocument, actor: Actor, **fields) -> DocVersion:
    """Add the next version row to a document and make it current (no checks: callers check)."""
    encrypted = fields["encrypted"]
    version = DocVersion(document_id=document.id, number=document.version_count + 1,
                         content_type=_content_type(fields["file_name"]), created_by=actor.username,
                         extraction="encrypted" if encrypted else "pending", **fields)
    session.add(version)
    session.flush()
    document.version_count, document.current_version_id = version.number, version.id
    document.updated_by, document.updated_at = actor.username, utcnow()
    session.flush()
    return version


def upload_file(*, session: Session, store_dir: Path, folder_id: int, file_name: str, stream: BinaryIO,
                actor: Actor, password: str | None = None, max_bytes: int | None = None) -> DocVersion:
    """Upload one file into a folder: a new document, or a new version of the same-named one."""
    return upload_files(session=session, store_dir=store_dir, folder_id=folder_id, files=[(file_name, stream)],
                        actor=actor, password=password, max_bytes=max_bytes)[0]


def upload_files(*, session: Session, store_dir: Path, folder_id: int, files: Iterable[tuple[str, BinaryIO]],
                 actor: Actor, password: str | None = None, max_bytes: int | None = None) -> list[DocVersion]:
    """Upload several files into a folder, all or nothing."""
    folder = get_folder_or_raise(session, folder_id)
    access.require(session, actor, "upload", folder)
    store, staged, versions = BlobStore(store_dir), [], []
    try:
        with session.begin_nested():
            for file_name, stream in files:
                name, _ = check_name(file_name, "file_name")
                staged.append(store.stage(stream, name=name, max_bytes=max_bytes, password=password,
                                          session=session))
                versions.append(put(session, store, folder, name, staged[-1], actor, password=password))
        for blob in staged:
            blob.commit()
    finally:
        for blob in staged:
            blob.discard()
    notify(session, [v.document_id for v in versions], "version")
    return versions


def add_version(*, session: Session, store_dir: Path, document_id: int, stream: BinaryIO, actor: Actor,
                file_name: str | None = None, password: str | None = None, max_bytes: int | None = None) -> DocVersion:
    """Upload a new version of a given document (its name stays; the version keeps the file's name)."""
    document = get_document_or_raise(session, document_id)
    refuse_if_locked(document, "given a new version")
    folder = get_folder_or_raise(session, document.folder_id)
    access.require(session, actor, "edit", folder)
    store = BlobStore(store_dir)
    staged = store.stage(stream, name=document.name, max_bytes=max_bytes, password=password, session=session)
    try:
        with session.begin_nested():
            version = put(session, store, folder, document.name, staged, actor, document=document, password=password)
            if file_name:
                version.file_name = check_name(file_name, "file_name")[0]
        staged.commit()
    finally:
        staged.discard()
    notify(session, [document.id], "version")
    return version


def restore_version(*, session: Session, document_id: int, number: int, actor: Actor) -> DocVersion:
    """Make an earlier version current again as a new version with the same content."""
    document = get_document_or_raise(session, document_id)
    refuse_if_locked(document, "restored to an earlier version")
    access.require(session, actor, "edit", get_folder_or_raise(session, document.folder_id))
    old = get_version_or_raise(session, document_id, number)
    check_quota(session, document.library_id, old.sha256, old.size)
    version = new_version_row(session, document, actor, file_name=old.file_name, sha256=old.sha256,
                              crc32=old.crc32, size=old.size, encrypted=old.encrypted, source="restore",
                              source_ref=None)
    version.restored_from = old.number
    if old.extraction != "pending":  # same bytes, same text: no second extraction
        version.extraction, version.extraction_reason = old.extraction, old.extraction_reason
        version.text_format, version.extracted_at = old.text_format, old.extracted_at
        text = session.get(DocText, old.id)
        if text is not None:
            session.add(DocText(version_id=version.id, text=text.text, truncated=text.truncated))
    session.flush()
    record(session, actor, "document.version_restored", "doc_document", document.id, document.name,
           after={"version": version.number, "restored_from": old.number, "sha256": old.sha256})
    notify(session, [document.id], "version")
    return version


def list_versions(*, session: Session, document_id: int, actor: Actor, recovery: bool = False) -> list[DocVersion]:
    """List a document's versions, newest first; needs read."""
    document = get_document_or_raise(session, document_id)
    access.require(session, actor, "read", get_folder_or_raise(session, document.folder_id), recovery=recovery)
    return list(session.scalars(select(DocVersion).where(DocVersion.document_id == document.id)
                                .order_by(DocVersion.number.desc())))


def _plain_chunks(store: BlobStore, version: DocVersion, name: str, blob: BinaryIO | None) -> Iterator[bytes]:
    # A blob sealed at rest is authenticated chunk by chunk as it streams; a failing chunk means damage.
    with blob or store.open(version.sha256, name=name) as blob:
        try:
            while chunk := blob.read(1 << 16):
                yield chunk
        except Corrupted as exc:
            raise Damaged(f"the stored file of '{name}' is damaged: {exc.reason}", details={"name": name}) from None


def _decrypted_chunks(blob: BinaryIO, chunks: Iterator[bytes], name: str) -> Iterator[bytes]:
    try:
        yield from chunks
    except Corrupted as exc:
        raise Damaged(f"the stored file of '{name}' is damaged: {exc.reason}", details={"name": name}) from None
    finally:
        blob.close()


def open_version(*, session: Session, store_dir: Path, document_id: int, actor: Actor, number: int | None = None,
                 password: str | None = None, recovery: bool = False) -> Download:
    """Open a version (default: the current one) for download; an encrypted one needs its password."""
    document = get_document_or_raise(session, document_id)
    access.require(session, actor, "read", get_folder_or_raise(session, document.folder_id), recovery=recovery)
    version, store = get_version_or_raise(session, document_id, number), BlobStore(store_dir)
    if not version.encrypted:
        if not store.path(version.sha256).exists():
            raise Damaged(f"the stored file of '{document.name}' is missing", details={"document_id": document.id})
        path = store.plain_path(version.sha256)
        # A sealed blob is opened now, so a key mismatch fails before any response; it is streamed decrypted.
        blob = None if path is not None else store.open(version.sha256, name=document.name)
        return Download(document, version, version.file_name, version.content_type, path,
                        _plain_chunks(store, version, document.name, blob))
    if not password:
        raise PasswordRequired(f"'{document.name}' is encrypted: give its password",
                               details={"field": "password", "document_id": document.id})
    blob = store.open(version.sha256, name=document.name)
    try:
        chunks = secrecy.iter_decrypt(blob, password=password, filename=document.name)
    except (SecrecyWrongPassword, PasswordRefused):
        blob.close()
        raise WrongPassword(f"wrong password for '{document.name}'", details={"document_id": document.id}) from None
    except Corrupted as exc:
        blob.close()
        raise Damaged(f"the stored file of '{document.name}' is damaged: {exc.reason}",
                      details={"document_id": document.id}) from None
    return Download(document, version, version.file_name, version.content_type, None,
                    _decrypted_chunks(blob, chunks, document.name))


def verify_version(*, session: Session, store_dir: Path, document_id: int, actor: Actor,
                   number: int | None = None) -> Check:
    """Fingerprint a stored version again and say whether the file changed since it was stored."""
    document = get_document_or_raise(session, document_id)
    access.require(session, actor, "read", get_folder_or_raise(session, document.folder_id))
    version = get_version_or_raise(session, document_id, number)
    expected = Fingerprint(version.sha256, version.crc32, version.size)
    store = BlobStore(store_dir)
    if not store.path(version.sha256).exists():
        return Check(document.id, version.number, True, True, ("missing",), expected.as_dict(), None)
    # Sealed blobs are verified on their plain bytes: the fingerprint is of the content, not of its seal.
    with store.open(version.sha256, name=document.name) as blob:
        try:
            outcome = verify(blob, expected)
        except Corrupted:
            return Check(document.id, version.number, True, False, ("sealed",), expected.as_dict(), None)
    return Check(document.id, version.number, outcome.changed, False, outcome.differing, expected.as_dict(),
                 outcome.actual.as_dict())


def lock_document(*, session: Session, document_id: int, actor: Actor, reason: str = "") -> DocDocument:
    """Lock a document (a contract, a signed file) against new versions, rename, move and delete; needs manage."""
    document = get_document_or_raise(session, document_id)
    access.require(session, actor, "manage", get_folder_or_raise(session, document.folder_id))
    refuse_if_locked(document, "locked again")
    document.locked, document.locked_by, document.locked_at = True, actor.username, utcnow()
    document.lock_reason = (reason or "").strip()[:500]
    session.flush()
    record(session, actor, "document.locked", "doc_document", document.id, document.name,
           after={"reason": document.lock_reason})
    return document


def unlock_document(*, session: Session, document_id: int, actor: Actor) -> DocDocument:
    """Unlock a locked document; needs manage."""
    document = get_document_or_raise(session, document_id)
    access.require(session, actor, "manage", get_folder_or_raise(session, document.folder_id))
    if not document.locked:
        raise InvalidInput(f"'{document.name}' is not locked", details={"document_id": document.id})
    before = {"locked_by": document.locked_by, "reason": document.lock_reason}
    document.locked, document.locked_by, document.locked_at, document.lock_reason = False, None, None, ""
    session.flush()
    record(session, actor, "document.unlocked", "doc_document", document.id, document.name, before=before)
    return document

"""Unpack an uploaded .zip into folders, through documents.archive's safe plan; all or nothing.

Entries the plan refuses (paths escaping the folder, links, bombs...) and entries that clash with what is
there (a locked document, a folder of that name, no right to change an existing document) are skipped with
a reason. Anything that makes the archive itself untrustworthy (bad data, the quota) refuses it as a whole:
the savepoint is rolled back and no staged blob reaches the store.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from instances.actors import Actor

from . import access
from .archive import ArchiveLimits, plan_archive
from .errors import ArchiveRefused
from .folders import ensure_path, in_subtree
from .library import get_folder_or_raise, notify, record
from .library_errors import ArchiveRejected, InvalidInput, Locked, NameTaken, NotAllowed
from .models import DocFolder, DocVersion
from .store import BlobStore
from .versions import put

# Problems of one entry against the folder's current content: skip it, keep the rest.
_SKIPPABLE = (NameTaken, Locked, NotAllowed, InvalidInput)


@dataclass
class ZipImport:
    """What an import did: versions written, folders created, and entries skipped with their reasons."""

    versions: list[DocVersion] = field(default_factory=list)
    folders_created: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)


def import_zip(*, session: Session, store_dir: Path, folder_id: int, source: bytes | BinaryIO | str | os.PathLike,
               actor: Actor, file_name: str = "archive.zip", limits: ArchiveLimits | None = None,
               max_bytes: int | None = None) -> ZipImport:
    """Unpack a zip archive into a folder, creating subfolders; same-named documents get a new version."""
    folder = get_folder_or_raise(session, folder_id)
    access.require(session, actor, "upload", folder)
    try:
        plan = plan_archive(source, limits=limits, filename=file_name)
    except ArchiveRefused as exc:
        raise ArchiveRejected(exc.message, details={"file": file_name, "reason": exc.reason}) from None
    store, staged, result = BlobStore(store_dir), [], ZipImport()
    result.skipped = [(entry.name, entry.reason) for entry in plan.skipped]
    count_folders = select(func.count()).select_from(DocFolder).where(in_subtree(folder), DocFolder.deleted_at.is_(None))
    before = session.scalar(count_folders)
    try:
        with plan, session.begin_nested():
            for item in plan.files:
                blob = None
                try:
                    with session.begin_nested():
                        target = ensure_path(session, folder, item.folders, actor)
                        with item.open() as reader:
                            blob = store.stage(reader, name=item.path, max_bytes=max_bytes, session=session)
                        version = put(session, store, target, item.name, blob, actor, source="zip",
                                      source_ref=item.path)
                except BaseException as exc:
                    if blob is not None:
                        blob.discard()
                    if not isinstance(exc, _SKIPPABLE):
                        raise
                    result.skipped.append((item.path, exc.message))
                    continue
                staged.append(blob)
                result.versions.append(version)
            result.folders_created = session.scalar(count_folders) - before
        for blob in staged:
            blob.commit()
    except ArchiveRefused as exc:
        raise ArchiveRejected(f"{file_name}: {exc.reason}; nothing was imported",
                              details={"file": file_name, "reason": exc.reason}) from None
    finally:
        for blob in staged:
            blob.discard()
    record(session, actor, "folder.zip_imported", "doc_folder", folder.id, file_name,
           after={"documents": len(result.versions), "folders": result.folders_created,
                  "skipped": [{"name": n, "reason": r} for n, r in result.skipped[:100]]})
    notify(session, [v.document_id for v in result.versions], "version")
    return result

"""Document bytes in the shared file store: staged to a temporary file, fingerprinted, then kept once by SHA-256.

The store is the attachments' store (same folder, same layout), so an attachment's blob can become a
document version without a copy; a blob is deleted only when neither a version nor an attachment names it.
While the store is encrypted at rest (attachments.sealing, documents.atrest) new blobs are sealed as they are
staged; every read goes through `open`, which gives the plain bytes of sealed and plain blobs alike.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

# One layout for attachments and documents is what lets archiving link blobs instead of copying them.
from attachments import sealing
from attachments.models import Attachment
from attachments.service import blob_location
from database.base import utcnow

from . import secrecy
from .integrity import Fingerprint, fingerprint
from .library_errors import Damaged, InvalidInput
from .models import DocBlobRelease, DocVersion

CHUNK = 1 << 16
# The test suite encrypts many files; it alone may ask for a cheap key derivation (as org.passwords does).
PASSWORD_KDF = (secrecy.Argon2idParams(time_cost=1, memory_kib=1024, parallelism=1)
                if os.environ.get("FLOWDESK_TEST_CHEAP_HASHES") == "1" else None)


class _Limited:
    """A reader that counts bytes and refuses to pass more than a limit."""

    def __init__(self, inner: BinaryIO, limit: int | None, name: str):
        self.inner, self.limit, self.name, self.count = inner, limit, name, 0

    def read(self, size: int = -1) -> bytes:
        """Read up to size bytes, raising InvalidInput once the limit is passed."""
        data = self.inner.read(size if size is not None and size >= 0 else CHUNK)
        self.count += len(data)
        if self.limit is not None and self.count > self.limit:
            raise InvalidInput(f"{self.name} is larger than {self.limit} bytes",
                               details={"field": "file", "name": self.name, "limit": self.limit})
        return data


@dataclass
class StagedBlob:
    """Content written to a temporary file and fingerprinted; commit it once the rows are in place."""

    store: BlobStore
    temp: Path
    fingerprint: Fingerprint
    plain_size: int
    encrypted: bool

    def commit(self) -> bool:
        """Move the content to its place in the store; return whether it was new there."""
        target = self.store.path(self.fingerprint.sha256)
        if target.exists():
            os.unlink(self.temp)
            # A fresh mtime tells the release job that someone is using the blob right now.
            os.utime(target)
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.temp, target)
        return True

    def discard(self) -> None:
        """Forget the staged content."""
        try:
            os.unlink(self.temp)
        except FileNotFoundError:
            pass


class BlobStore:
    """The file store under a configured folder."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        """Return where the blob of a SHA-256 lives (whether or not it exists)."""
        return blob_location(self.root, sha256)

    def open(self, sha256: str, *, name: str = "") -> BinaryIO:
        """Open a stored blob's plain bytes for reading (unsealed if sealed at rest), or raise Damaged if missing."""
        try:
            return sealing.open_plain(self.path(sha256), sha256, sealing.sealer_for(self.root), name=name)
        except FileNotFoundError:
            raise Damaged(f"the stored file of {name or sha256} is missing",
                          details={"sha256": sha256, "name": name}) from None

    def plain_path(self, sha256: str) -> Path | None:
        """Return the blob's path when the file holds its plain bytes (sendable as it is), else None."""
        path = self.path(sha256)
        try:
            return path if sealing.is_plain_file(path, sha256, self.root) else None
        except FileNotFoundError:
            return None

    def stage(self, stream: BinaryIO, *, name: str, max_bytes: int | None = None, password: str | None = None,
              session: Session | None = None) -> StagedBlob:
        """Write a stream to a temporary file (with the password, and sealed at rest if on) and fingerprint it."""
        self.root.mkdir(parents=True, exist_ok=True)
        # Without a session nothing tells whether the store is encrypted: every upload path passes one.
        sealer = sealing.sealer_for_writing(session, self.root) if session is not None else None
        source = _Limited(stream, max_bytes, name)
        with tempfile.NamedTemporaryFile(dir=self.root, prefix=".doc-", delete=False) as tmp:
            try:
                if sealer is not None:
                    _write_sealed(sealer, source, tmp, password, self.root)
                elif password is not None:
                    secrecy.encrypt_stream(source, tmp, password=password, kdf=PASSWORD_KDF)
                else:
                    shutil.copyfileobj(source, tmp, CHUNK)
                tmp.flush()
                os.fsync(tmp.fileno())
                tmp.seek(0)
                # A second pass over the written file: what is fingerprinted is exactly what reads back.
                print_ = fingerprint(sealing.unsealed(tmp, sealer, name=name) if sealer is not None else tmp)
            except BaseException:
                tmp.close()
                os.unlink(tmp.name)
                raise
        return StagedBlob(self, Path(tmp.name), print_, source.count, password is not None)


def _write_sealed(sealer: sealing.Sealer, source: BinaryIO, tmp: BinaryIO, password: str | None,
                  root: Path) -> None:
    if password is None:
        sealer.seal(source, tmp)
        return
    # The password file is made first (it is ciphertext, so it may touch the disk), then sealed as it is.
    with tempfile.TemporaryFile(dir=root, prefix=".doc-") as inner:
        secrecy.encrypt_stream(source, inner, password=password, kdf=PASSWORD_KDF)
        inner.seek(0)
        sealer.seal(inner, tmp)


def release(session: Session, sha256s) -> None:
    """Note blobs that may have lost their last reference, for delete_released_blobs."""
    now = utcnow()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for sha in sorted(set(sha256s)):
        statement = insert(DocBlobRelease).values(sha256=sha, released_at=now)
        session.execute(statement.on_conflict_do_update(index_elements=["sha256"], set_={"released_at": now}))


def is_referenced(session: Session, sha256: str) -> bool:
    """Tell whether a document version or an attachment still names a blob."""
    return bool(session.scalar(select(or_(exists().where(DocVersion.sha256 == sha256),
                                          exists().where(Attachment.sha256 == sha256)))))


def delete_released_blobs(*, session: Session, store_dir: Path, grace: timedelta = timedelta(minutes=30),
                          limit: int = 500) -> list[str]:
    """Delete released blobs that nothing references any more; return the SHA-256s deleted (a worker job)."""
    # Files go only after the purge committed and the grace period passed, and only if untouched meanwhile:
    # an upload of the same content refreshes the file's mtime before its row commits.
    store, cutoff = BlobStore(store_dir), utcnow() - grace
    rows = list(session.scalars(select(DocBlobRelease).where(DocBlobRelease.released_at <= cutoff)
                                .order_by(DocBlobRelease.released_at).limit(limit)))
    deleted = []
    for row in rows:
        path = store.path(row.sha256)
        if not is_referenced(session, row.sha256) and path.exists() \
                and path.stat().st_mtime <= time.time() - grace.total_seconds():
            path.unlink()
            deleted.append(row.sha256)
        session.execute(delete(DocBlobRelease).where(DocBlobRelease.sha256 == row.sha256))
    return deleted

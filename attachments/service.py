"""Store, link and fetch attachments with size and type limits."""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import sealing
from .errors import AttachmentNotFound, AttachmentRefused
from .models import Attachment

CHUNK = 1 << 16
ALLOWED = {  # extension -> content type we serve it with
    ".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
    ".gif": "image/gif", ".webp": "image/webp", ".txt": "text/plain; charset=utf-8", ".csv": "text/csv",
    ".doc": "application/msword", ".xls": "application/vnd.ms-excel",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".zip": "application/zip", ".eml": "message/rfc822",
}
# The first bytes of formats whose extension is easy to fake; a mismatch is refused.
MAGIC = {".pdf": [b"%PDF"], ".png": [b"\x89PNG"], ".jpg": [b"\xff\xd8\xff"], ".jpeg": [b"\xff\xd8\xff"],
         ".gif": [b"GIF8"], ".zip": [b"PK\x03\x04", b"PK\x05\x06"], ".docx": [b"PK\x03\x04"],
         ".xlsx": [b"PK\x03\x04"], ".pptx": [b"PK\x03\x04"]}
MAX_NAME = 255


def blob_location(store: Path, sha256: str) -> Path:
    """Return where the file store keeps the blob with this SHA-256 (shared by attachments and documents)."""
    return store / sha256[:2] / sha256[2:4] / sha256


class _Counted:
    """A reader that hashes, counts and keeps the first bytes of what passes, refusing more than a limit."""

    def __init__(self, inner: BinaryIO, name: str, limit: int):
        self.inner, self.name, self.limit = inner, name, limit
        self.digest, self.size, self.head = hashlib.sha256(), 0, b""

    def read(self, size: int = -1) -> bytes:
        """Read up to size bytes, raising AttachmentRefused once the limit is passed."""
        chunk = self.inner.read(size if size is not None and size >= 0 else CHUNK)
        self.size += len(chunk)
        if self.size > self.limit:
            raise AttachmentRefused(f"{self.name} is larger than {self.limit // (1024 * 1024)} MiB",
                                    details={"file": self.name, "limit": self.limit})
        if len(self.head) < 16:
            self.head += chunk[:16 - len(self.head)]
        self.digest.update(chunk)
        return chunk


def _clean_name(name: str) -> str:
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*')
    return base[:MAX_NAME] or "file"


def store(*, session: Session, store_dir: Path, stream: BinaryIO, file_name: str, actor: str,
          max_bytes: int) -> Attachment:
    """Save an upload once by content hash and record it; refuse wrong types and oversize files."""
    name = _clean_name(file_name)
    ext = os.path.splitext(name)[1].lower()
    if ext not in ALLOWED:
        raise AttachmentRefused(f"{name}: files of type '{ext or 'none'}' are not accepted; allowed: "
                                + ", ".join(sorted(ALLOWED)), details={"file": name})
    store_dir.mkdir(parents=True, exist_ok=True)
    sealer = sealing.sealer_for_writing(session, store_dir)
    source = _Counted(stream, name, max_bytes)
    with tempfile.NamedTemporaryFile(dir=store_dir, delete=False) as tmp:
        try:
            if sealer is not None:
                # Sealed as it streams in: the plain bytes never reach the disk, not even in the temporary file.
                sealer.seal(source, tmp)
            else:
                shutil.copyfileobj(source, tmp, CHUNK)
            if source.size == 0:
                raise AttachmentRefused(f"{name} is empty", details={"file": name})
            if ext in MAGIC and not any(source.head.startswith(m) for m in MAGIC[ext]):
                raise AttachmentRefused(f"{name} does not look like a {ext} file", details={"file": name})
            tmp.flush()
            os.fsync(tmp.fileno())
        except BaseException:
            os.unlink(tmp.name)
            raise
    digest, size = source.digest, source.size
    sha = digest.hexdigest()
    target = blob_location(store_dir, sha)
    if target.exists():
        os.unlink(tmp.name)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp.name, target)
    attachment = Attachment(sha256=sha, size=size, content_type=ALLOWED[ext], file_name=name, created_by=actor)
    session.add(attachment)
    session.flush()
    return attachment


def link(*, session: Session, ids: list[int], actor: str, instance_id: int, work_item_id: int | None = None) -> None:
    """Tie the actor's freshly uploaded attachments to an instance (and task)."""
    for attachment in session.scalars(select(Attachment).where(Attachment.id.in_(ids or [-1]))):
        if attachment.created_by == actor and attachment.instance_id is None:
            attachment.instance_id, attachment.work_item_id = instance_id, work_item_id


def get_or_raise(*, session: Session, attachment_id: int) -> Attachment:
    """Return an attachment row or raise AttachmentNotFound."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        raise AttachmentNotFound(f"no attachment {attachment_id}", details={"id": attachment_id})
    return attachment


def blob_path(*, store_dir: Path, attachment: Attachment) -> Path:
    """Return where an attachment's bytes are kept."""
    path = blob_location(store_dir, attachment.sha256)
    if not path.exists():
        raise AttachmentNotFound(f"the file of attachment {attachment.id} is missing from the store",
                                 details={"id": attachment.id})
    return path


def open_blob(*, store_dir: Path, attachment: Attachment) -> BinaryIO:
    """Open an attachment's plain bytes for reading, whether the store sealed them at rest or not."""
    path = blob_path(store_dir=store_dir, attachment=attachment)
    return sealing.open_plain(path, attachment.sha256, sealing.sealer_for(store_dir), name=attachment.file_name)


def blob_source(*, store_dir: Path, attachment: Attachment) -> Path | BinaryIO:
    """Return what a download sends: the file's path when it is kept plain, else a stream of its plain bytes."""
    path = blob_path(store_dir=store_dir, attachment=attachment)
    if sealing.is_plain_file(path, attachment.sha256, store_dir):
        return path
    return open_blob(store_dir=store_dir, attachment=attachment)


def list_for_instance(*, session: Session, instance_id: int) -> list[Attachment]:
    """List an instance's attachments, oldest first."""
    return list(session.scalars(select(Attachment).where(Attachment.instance_id == instance_id)
                                .order_by(Attachment.id)))

"""Store, link and fetch attachments with size and type limits."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

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
    digest, size, head = hashlib.sha256(), 0, b""
    with tempfile.NamedTemporaryFile(dir=store_dir, delete=False) as tmp:
        try:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise AttachmentRefused(f"{name} is larger than {max_bytes // (1024 * 1024)} MiB",
                                            details={"file": name, "limit": max_bytes})
                if len(head) < 16:
                    head += chunk[:16 - len(head)]
                digest.update(chunk)
                tmp.write(chunk)
            if size == 0:
                raise AttachmentRefused(f"{name} is empty", details={"file": name})
            if ext in MAGIC and not any(head.startswith(m) for m in MAGIC[ext]):
                raise AttachmentRefused(f"{name} does not look like a {ext} file", details={"file": name})
            tmp.flush()
            os.fsync(tmp.fileno())
        except BaseException:
            os.unlink(tmp.name)
            raise
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


def list_for_instance(*, session: Session, instance_id: int) -> list[Attachment]:
    """List an instance's attachments, oldest first."""
    return list(session.scalars(select(Attachment).where(Attachment.instance_id == instance_id)
                                .order_by(Attachment.id)))

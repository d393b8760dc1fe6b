"""The worker job that extracts the text of pending versions, marking each ok, empty, unreadable or unsupported."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from attachments.errors import AttachmentError
from database.base import utcnow

from .errors import Corrupted
from .extract import ExtractLimits, extract_text
from .library import notify
from .models import DocDocument, DocText, DocVersion
from .store import BlobStore

# About 2 MB of UTF-8 for most scripts, far more than search needs to find a document, small enough for a row.
MAX_TEXT_CHARS = 1_000_000
LIMITS = ExtractLimits(max_chars=MAX_TEXT_CHARS)


def _copy_from_twin(session: Session, version: DocVersion) -> bool:
    # The same bytes were extracted before (a restore, a re-upload): reuse that outcome.
    twin = session.scalar(select(DocVersion).where(DocVersion.sha256 == version.sha256, DocVersion.id != version.id,
                                                   DocVersion.encrypted.is_(False),
                                                   DocVersion.extraction.not_in(("pending", "encrypted")))
                          .order_by(DocVersion.id.desc()).limit(1))
    if twin is None:
        return False
    version.extraction, version.extraction_reason, version.text_format = (twin.extraction, twin.extraction_reason,
                                                                          twin.text_format)
    text = session.get(DocText, twin.id)
    if text is not None:
        session.add(DocText(version_id=version.id, text=text.text, truncated=text.truncated))
    return True


def extract_version(session: Session, store: BlobStore, version: DocVersion) -> str:
    """Extract one version's text into doc_text and set its status; never raises for bad content."""
    if version.encrypted:
        version.extraction, version.extraction_reason = "encrypted", "encrypted with a password; not indexed"
    elif not _copy_from_twin(session, version):
        if not store.path(version.sha256).exists():
            version.extraction, version.extraction_reason = "unreadable", "the stored file is missing"
        else:
            try:
                with store.open(version.sha256, name=version.file_name) as blob:
                    outcome = extract_text(blob, filename=version.file_name, limits=LIMITS)
            except (Corrupted, AttachmentError) as exc:  # a damaged seal or a store key this server lacks
                version.extraction, version.extraction_reason = "unreadable", str(exc)[:300]
            else:
                version.extraction, version.text_format = outcome.status, outcome.format
                version.extraction_reason = outcome.reason[:300] if outcome.reason else None
                if outcome.text:
                    session.add(DocText(version_id=version.id, text=outcome.text[:MAX_TEXT_CHARS],
                                        truncated=outcome.truncated))
    version.extracted_at = utcnow()
    session.flush()
    return version.extraction


def extract_pending(*, session: Session, store_dir: Path, limit: int = 20) -> dict[str, int]:
    """Extract the text of up to `limit` pending versions (a worker job); return how many got each status."""
    # SKIP LOCKED lets several workers share the queue on PostgreSQL; SQLite runs one writer anyway.
    versions = list(session.scalars(select(DocVersion).where(DocVersion.extraction == "pending")
                                    .order_by(DocVersion.id).limit(limit).with_for_update(skip_locked=True)))
    store, counts, current = BlobStore(store_dir), {}, []
    for version in versions:
        status = extract_version(session, store, version)
        counts[status] = counts.get(status, 0) + 1
        if session.scalar(select(DocDocument.current_version_id).where(DocDocument.id == version.document_id)) \
                == version.id:
            current.append(version.document_id)
    notify(session, current, "extracted")
    return counts

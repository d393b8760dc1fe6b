"""The worker's document jobs: extract text of new versions, delete blobs nothing uses, seal the store at rest."""
from __future__ import annotations

from functools import partial
from pathlib import Path

from database.session import Database

from .extraction import extract_pending
from .filestore import run_store_encryption
from .store import delete_released_blobs

# The worker calls every job with its retry limit (max_attempts). These jobs keep no retry count of their own:
# a version that cannot be read is marked unreadable at once, and a blob that stays is tried at the next run.

def run_extraction(database: Database, *, store_dir: Path, limit: int = 20, max_attempts: int | None = None) -> int:
    """Extract up to `limit` pending versions in one transaction; return how many were handled."""
    with database.command() as session:
        counts = extract_pending(session=session, store_dir=store_dir, limit=limit)
    return sum(counts.values())


def run_blob_cleanup(database: Database, *, store_dir: Path, max_attempts: int | None = None) -> int:
    """Delete the purged blobs that no version or attachment names any more; return how many."""
    with database.command() as session:
        return len(delete_released_blobs(session=session, store_dir=store_dir))


def make_jobs(store_dir: Path) -> list:
    """Return the document jobs for instances.worker.Worker, bound to the file store."""
    return [partial(run_extraction, store_dir=store_dir), partial(run_blob_cleanup, store_dir=store_dir),
            partial(run_store_encryption, store_dir=store_dir)]

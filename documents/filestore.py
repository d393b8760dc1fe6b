"""The file store's at-rest setting and the worker job that applies it, with progress for the admin page.

Switching the setting starts a new run (its number goes up): the job walks the store in SHA-256 order in short
batches, sealing (or unsealing) each blob with reseal.convert and saving a cursor and counts after each batch, so a
stopped or crashed worker resumes where the last batch ended. File work happens outside any transaction; a lease
on the state row keeps two workers (or an old batch of the previous run) from working on the store at once.
"""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from attachments import sealing
from attachments.errors import AttachmentError, StoreKeyMissing
from attachments.models import FileStoreState
from audit import service as audit
from database.base import utcnow
from database.session import Database

from . import reseal
from .atrest import StoreSealer

log = logging.getLogger("flowdesk.worker")
LEASE = timedelta(minutes=15)
BATCH_FILES = 50
# Short batches: the job shares the worker's thread with mail delivery, which must not wait long.
BATCH_SECONDS = 2.0


def _sealer(store_dir: Path) -> StoreSealer:
    # Without an installed sealer the job still recognises sealed files (and stops on them) instead of guessing.
    return sealing.sealer_for(store_dir) or StoreSealer(None)


def describe(session: Session, *, store_dir: Path) -> dict:
    """Return the setting and the job's progress as plain values (for the admin page and its JSON)."""
    state, sealer = sealing.get_state(session), _sealer(store_dir)
    total, done, failed = state.total, state.done or 0, state.failed or 0
    percent = 100 if state.status == "done" else (min(99, (done + failed) * 100 // total) if total else 0)
    return {
        "encrypt": bool(state.encrypt), "status": state.status, "target": state.target, "run": state.run,
        "total": total, "done": done, "failed": failed, "percent": percent,
        "started_at": state.started_at.isoformat() if state.started_at else None,
        "finished_at": state.finished_at.isoformat() if state.finished_at else None,
        "last_error": state.last_error, "key_configured": sealer.key_id is not None,
        "key_id": sealer.key_id, "sealed_with_key_id": state.key_id,
        "key_changed": bool(state.encrypt and state.key_id and sealer.key_id and state.key_id != sealer.key_id),
    }


def _locked_state(session: Session) -> FileStoreState:
    state = session.scalar(select(FileStoreState).where(FileStoreState.id == sealing.STATE_ID).with_for_update())
    if state is None:
        state = sealing.get_state(session)
        session.add(state)
    return state


def _start_run(state: FileStoreState, target: str, actor: str) -> None:
    # The lease is left alone: a batch of the previous run finishes its file and releases it first.
    state.target, state.status, state.run = target, "running", (state.run or 0) + 1
    state.cursor, state.total, state.done, state.failed, state.last_error = "", None, 0, 0, None
    state.started_at, state.finished_at = utcnow(), None
    state.updated_by, state.updated_at = actor, utcnow()


def switch(session: Session, *, store_dir: Path, on: bool, actor: str) -> FileStoreState:
    """Turn at-rest encryption of the file store on or off and start the job that applies it; audited."""
    state, sealer = _locked_state(session), _sealer(store_dir)
    if on and sealer.key_id is None:
        raise StoreKeyMissing("encryption cannot be turned on: FLOWDESK_STORE_KEY is not configured; set it "
                              "(32 bytes as hex or base64) for the web server and the worker, then restart them",
                              details={"field": "encrypt"})
    if bool(state.encrypt) == on and state.status != "stopped":
        return state
    before = {"encrypt": bool(state.encrypt), "key_id": state.key_id}
    state.encrypt = on
    if on:
        state.key_id = sealer.key_id
    _start_run(state, reseal.SEALED if on else reseal.PLAIN, actor)
    session.flush()
    audit.log(session, actor=actor, action="file_store.encryption_on" if on else "file_store.encryption_off",
              object_type="file_store", object_id=sealing.STATE_ID, before=before,
              after={"encrypt": on, "key_id": state.key_id, "run": state.run})
    return state


def restart(session: Session, *, actor: str) -> FileStoreState:
    """Run the job again from the start for the current setting (after a stop or failed files); audited."""
    state = _locked_state(session)
    _start_run(state, reseal.SEALED if state.encrypt else reseal.PLAIN, actor)
    session.flush()
    audit.log(session, actor=actor, action="file_store.job_restarted", object_type="file_store",
              object_id=sealing.STATE_ID, after={"run": state.run, "target": state.target})
    return state


@dataclass
class _Batch:
    token: str
    run: int
    target: str
    cursor: str
    total: int | None
    done: int
    failed: int
    errors: list[str] = field(default_factory=list)


def _claim(database: Database) -> _Batch | None:
    with database.command() as session:
        state = session.scalar(select(FileStoreState).where(FileStoreState.id == sealing.STATE_ID)
                               .with_for_update(skip_locked=True))
        now = utcnow()
        if state is None or state.status != "running" or (state.lease_until and state.lease_until > now):
            return None
        state.lease_token, state.lease_until = uuid.uuid4().hex, now + LEASE
        return _Batch(state.lease_token, state.run, state.target, state.cursor, state.total, state.done,
                      state.failed)


def _save(database: Database, batch: _Batch, *, status: str | None = None, error: str | None = None) -> None:
    with database.command() as session:
        state = session.scalar(select(FileStoreState).where(FileStoreState.id == sealing.STATE_ID).with_for_update())
        if state.lease_token == batch.token:
            state.lease_token, state.lease_until = None, None
        if state.run != batch.run:
            return  # the admin switched meanwhile: this batch's counts belong to a finished run
        state.cursor, state.total, state.done, state.failed = batch.cursor, batch.total, batch.done, batch.failed
        if error or batch.errors:
            state.last_error = (error or batch.errors[-1])[:2000]
        if status:
            state.status, state.finished_at = status, utcnow()


def _step(batch: _Batch, root: Path, sha: str, sealer: StoreSealer) -> bool:
    try:
        changed = reseal.convert(root, sha, batch.target, sealer)
    except reseal.FileFailed as exc:
        batch.failed += 1
        batch.errors.append(str(exc))
        return False
    batch.done += 1
    return changed


def _sweep(batch: _Batch, root: Path, sealer: StoreSealer) -> None:
    # Files written in the old form while the run passed their place (an upload racing the switch) are caught here.
    for sha in reseal.iter_blobs(root):
        try:
            if reseal.convert(root, sha, batch.target, sealer):
                batch.total, batch.done = (batch.total or 0) + 1, batch.done + 1
        except reseal.FileFailed:
            continue  # counted when the walk met it


def run_store_encryption(database: Database, *, store_dir: Path, batch_files: int = BATCH_FILES,
                         batch_seconds: float = BATCH_SECONDS, **_ignored) -> int:
    """Seal or unseal the next batch of blobs for the current setting (a worker job); return how many changed."""
    batch = _claim(database)
    if batch is None:
        return 0
    root, sealer, changed, started = Path(store_dir), _sealer(store_dir), 0, time.monotonic()
    try:
        if batch.target == reseal.SEALED and sealer.key_id is None:
            raise StoreKeyMissing("FLOWDESK_STORE_KEY is not configured for the worker")
        if batch.total is None:  # the first batch of a run
            reseal.remove_leftovers(root, older_than=LEASE.total_seconds())
            batch.total = reseal.count_blobs(root)
        for sha in reseal.iter_blobs(root, after=batch.cursor):
            changed += _step(batch, root, sha, sealer)
            batch.cursor = sha
            if changed >= batch_files or time.monotonic() - started > batch_seconds:
                break
        else:
            _sweep(batch, root, sealer)
            _save(database, batch, status="done")
            return changed
    except AttachmentError as exc:  # a key missing or not matching: stop before touching anything else
        log.error("file store encryption stopped: %s", exc.message)
        _save(database, batch, status="stopped", error=exc.message)
        return changed
    except BaseException as exc:
        # Progress up to the last finished file is kept; the next run of the job resumes after it.
        _save(database, batch, error=f"{type(exc).__name__}: {exc}")
        raise
    _save(database, batch)
    return changed

"""Encryption at rest of the whole file store: switching on and off, the re-encryption job, crashes, wrong keys."""
from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from attachments import sealing
from attachments import service as attachments
from attachments.errors import StoreKeyMismatch, StoreKeyMissing
from documents import atrest, extraction, filestore, secrecy, versions
from documents.atrest import StoreSealer
from documents.store import BlobStore

from .test_library import actor_in, company_root, seed_org, upload

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
PLAN = b"the merger plan, strictly confidential " * 50
NOTE = b"a note for the file store " * 30
QUOTE = b"quote: 1000 units at 3.50 " * 20


@pytest.fixture
def store(tmp_path):
    """A store folder with the at-rest key installed; forgotten again after the test."""
    atrest.install(tmp_path, KEY)
    yield tmp_path
    sealing.install(tmp_path, None)


def switch(db, store: Path, on: bool) -> None:
    with db.command() as s:
        filestore.switch(s, store_dir=store, on=on, actor="root")


def run_job(db, store: Path, **kw) -> dict:
    for _ in range(100):
        filestore.run_store_encryption(db, store_dir=store, **kw)
        info = progress(db, store)
        if info["status"] != "running":
            return info
    raise AssertionError("the job did not finish")


def progress(db, store: Path) -> dict:
    with db.query() as s:
        return filestore.describe(s, store_dir=store)


def blob_files(store: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in store.rglob("*") if p.is_file() and len(p.name) == 64}


def fill(db, store: Path) -> dict:
    """Upload a plain document, a password document and an attachment; return their ids."""
    seed_org(db)
    root = company_root(db)
    plain, _ = upload(db, store, root, "plan.txt", PLAN)
    locked, _ = upload(db, store, root, "note.txt", NOTE, password="pw-pw-pw")
    with db.command() as s:
        attachment = attachments.store(session=s, store_dir=store, stream=io.BytesIO(QUOTE), file_name="quote.txt",
                                       actor="root", max_bytes=100_000)
    return {"root": root, "plain": plain, "locked": locked, "attachment": attachment.id}


def read_all(db, store: Path, ids: dict) -> tuple[bytes, bytes, bytes]:
    with db.query() as s:
        root = actor_in(s, "root")
        plain = b"".join(versions.open_version(session=s, store_dir=store, document_id=ids["plain"], actor=root).chunks)
        locked = b"".join(versions.open_version(session=s, store_dir=store, document_id=ids["locked"], actor=root,
                                                password="pw-pw-pw").chunks)
        row = attachments.get_or_raise(session=s, attachment_id=ids["attachment"])
        with attachments.open_blob(store_dir=store, attachment=row) as blob:
            quote = blob.read()
    return plain, locked, quote


def verified(db, store: Path, document_id: int) -> bool:
    with db.query() as s:
        return not versions.verify_version(session=s, store_dir=store, document_id=document_id,
                                           actor=actor_in(s, "root")).changed


def test_turning_on_seals_every_existing_blob_and_readers_still_get_the_originals(db, store):
    ids = fill(db, store)
    before = blob_files(store)
    assert PLAN in before.values() and QUOTE in before.values()
    switch(db, store, True)
    info = run_job(db, store, batch_files=1)  # one file per batch: the cursor carries the run across batches
    assert (info["status"], info["done"], info["total"], info["failed"], info["percent"]) == ("done", 3, 3, 0, 100)
    after = blob_files(store)
    assert set(after) == set(before)  # the same names: sha256 of the plain content
    for raw in after.values():
        assert secrecy.is_at_rest(raw) and PLAN not in raw and QUOTE not in raw and NOTE not in raw
    assert read_all(db, store, ids) == (PLAN, NOTE, QUOTE)
    assert verified(db, store, ids["plain"]) and verified(db, store, ids["locked"])
    with db.query() as s:
        row = attachments.get_or_raise(session=s, attachment_id=ids["attachment"])
        assert not isinstance(attachments.blob_source(store_dir=store, attachment=row), Path)
        download = versions.open_version(session=s, store_dir=store, document_id=ids["plain"],
                                         actor=actor_in(s, "root"))
        assert download.path is None  # a sealed blob is streamed decrypted, never sent as it is
        b"".join(download.chunks)
    with db.command() as s:  # the text extraction job reads sealed blobs too
        assert extraction.extract_pending(session=s, store_dir=store) == {"ok": 1}


def test_new_uploads_are_sealed_while_on_and_share_blobs_by_plain_hash(db, store):
    seed_org(db)
    root = company_root(db)
    switch(db, store, True)
    plain, _ = upload(db, store, root, "plan.txt", PLAN)
    locked, _ = upload(db, store, root, "note.txt", NOTE, password="pw-pw-pw")
    with db.command() as s:
        first = attachments.store(session=s, store_dir=store, stream=io.BytesIO(PLAN), file_name="plan.txt",
                                  actor="root", max_bytes=100_000)
    files = blob_files(store)
    assert len(files) == 2 and first.sha256 in files  # the attachment and the document share one sealed blob
    assert all(secrecy.is_at_rest(raw) and PLAN not in raw for raw in files.values())
    assert not [p for p in store.rglob(".*") if p.is_file()]  # no temporary file is left behind
    ids = {"plain": plain, "locked": locked, "attachment": first.id}
    assert read_all(db, store, ids) == (PLAN, NOTE, PLAN)
    assert verified(db, store, plain) and verified(db, store, locked)
    assert run_job(db, store)["done"] == 2  # nothing left to do for the job


def test_turning_off_restores_the_plain_files(db, store):
    ids = fill(db, store)
    before = blob_files(store)
    switch(db, store, True)
    run_job(db, store)
    switch(db, store, False)
    info = run_job(db, store)
    assert (info["status"], info["encrypt"], info["done"], info["failed"]) == ("done", False, 3, 0)
    assert blob_files(store) == before  # byte for byte, the password document keeps its own header
    assert read_all(db, store, ids) == (PLAN, NOTE, QUOTE)
    upload(db, store, ids["root"], "later.txt", b"written while off")
    assert b"written while off" in blob_files(store).values()


def test_a_crash_mid_file_leaves_the_original_readable_and_the_job_resumes(db, store, monkeypatch):
    ids = fill(db, store)
    before = blob_files(store)
    switch(db, store, True)
    real_seal, calls = StoreSealer.seal, []

    def crash_on_the_second_file(self, src, dst):
        calls.append(1)
        if len(calls) == 2:
            dst.write(b"half a sealed file")
            raise RuntimeError("power cut")
        return real_seal(self, src, dst)

    monkeypatch.setattr(StoreSealer, "seal", crash_on_the_second_file)
    with pytest.raises(RuntimeError):
        filestore.run_store_encryption(db, store_dir=store)
    info = progress(db, store)
    assert (info["status"], info["done"]) == ("running", 1) and "power cut" in info["last_error"]
    files = blob_files(store)
    assert sum(secrecy.is_at_rest(raw) for raw in files.values()) == 1
    assert [raw for name, raw in files.items() if not secrecy.is_at_rest(raw)] == \
        [raw for name, raw in before.items() if not secrecy.is_at_rest(files[name])]  # untouched originals
    assert not [p for p in store.rglob(".reseal-*")]
    assert read_all(db, store, ids) == (PLAN, NOTE, QUOTE)
    monkeypatch.setattr(StoreSealer, "seal", real_seal)
    info = run_job(db, store)
    assert (info["status"], info["done"], info["total"], info["failed"]) == ("done", 3, 3, 0)
    assert all(secrecy.is_at_rest(raw) for raw in blob_files(store).values())
    assert read_all(db, store, ids) == (PLAN, NOTE, QUOTE)


def test_a_changed_key_is_reported_and_changes_nothing(db, store):
    ids = fill(db, store)
    switch(db, store, True)
    run_job(db, store)
    sealed = blob_files(store)
    atrest.install(store, OTHER_KEY)  # someone configured another key
    assert progress(db, store)["key_changed"]
    with db.query() as s, pytest.raises(StoreKeyMismatch):
        versions.open_version(session=s, store_dir=store, document_id=ids["plain"], actor=actor_in(s, "root"))
    switch(db, store, False)  # decrypting needs the key the files were sealed with
    info = run_job(db, store)
    assert info["status"] == "stopped" and "different store key" in info["last_error"]
    assert blob_files(store) == sealed
    with db.command() as s:
        filestore.switch(s, store_dir=store, on=True, actor="root")  # sealing again cannot rewrap them either
    assert run_job(db, store)["status"] == "stopped" and blob_files(store) == sealed
    atrest.install(store, OTHER_KEY, previous_keys=[KEY])  # the old key kept for rotation: files move over
    with db.command() as s:
        filestore.restart(s, actor="root")
    info = run_job(db, store)
    assert (info["status"], info["done"], info["failed"]) == ("done", 3, 0)
    assert all(raw != sealed[name] for name, raw in blob_files(store).items())
    atrest.install(store, OTHER_KEY)
    assert read_all(db, store, ids) == (PLAN, NOTE, QUOTE)


def test_turning_on_without_a_key_is_refused_and_uploads_fail_closed_when_the_key_goes(db, tmp_path):
    seed_org(db)
    root = company_root(db)
    atrest.install(tmp_path, None)
    try:
        with db.command() as s, pytest.raises(StoreKeyMissing, match="FLOWDESK_STORE_KEY"):
            filestore.switch(s, store_dir=tmp_path, on=True, actor="root")
        assert progress(db, tmp_path)["encrypt"] is False
        atrest.install(tmp_path, KEY)
        switch(db, tmp_path, True)
        atrest.install(tmp_path, None)  # the key was removed from the configuration
        with pytest.raises(StoreKeyMissing):
            upload(db, tmp_path, root, "plan.txt", PLAN)
        assert not blob_files(tmp_path)
    finally:
        sealing.install(tmp_path, None)


def test_a_damaged_blob_is_counted_as_failed_and_left_alone(db, store):
    ids = fill(db, store)
    with db.query() as s:
        sha = versions.get_version_or_raise(s, ids["plain"], None).sha256
    path = BlobStore(store).path(sha)
    path.write_bytes(PLAN[:-1] + b"X")
    os.utime(path, (1, 1))
    switch(db, store, True)
    info = run_job(db, store)
    assert (info["status"], info["done"], info["failed"]) == ("done", 2, 1) and sha in info["last_error"]
    assert path.read_bytes() == PLAN[:-1] + b"X" and path.stat().st_mtime == 1


def test_leftovers_of_a_dead_worker_are_removed_when_a_run_starts(db, store):
    fill(db, store)
    sha = next(iter(blob_files(store)))
    stale = BlobStore(store).path(sha).parent / ".reseal-dead"
    stale.write_bytes(b"half")
    os.utime(stale, (1, 1))
    fresh = stale.with_name(".reseal-live")
    fresh.write_bytes(b"being written")
    switch(db, store, True)
    run_job(db, store)
    assert not stale.exists() and fresh.exists()

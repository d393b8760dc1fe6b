"""Uploads, versions and restore, names, moves, quotas, locks, password encryption and fingerprint checks."""
from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import select

from audit.models import AuditEntry
from documents import folders, library, moves, recycle, versions
from documents.library_errors import (
    Conflict,
    InvalidInput,
    Locked,
    NameTaken,
    NotAllowed,
    PasswordRequired,
    QuotaExceeded,
    WrongPassword,
)
from documents.models import DocDocument, DocVersion
from documents.store import BlobStore

from .test_library import actor_in, company_root, mkdir, seed_org, upload


def read(db, store, document_id: int, who: str = "root", **kw) -> bytes:
    with db.query() as s:
        download = versions.open_version(session=s, store_dir=store, document_id=document_id, actor=actor_in(s, who),
                                         **kw)
        return b"".join(download.chunks)


def test_same_name_uploads_become_versions_and_an_old_version_can_be_restored(db, tmp_path):
    seed_org(db)
    root = company_root(db)
    doc, first = upload(db, tmp_path, root, "报价单.txt", b"price 100")
    assert upload(db, tmp_path, root, "报价单.TXT", b"price 120") == (doc, 2)  # names compare case-insensitively
    with db.command() as s:
        third = versions.add_version(session=s, store_dir=tmp_path, document_id=doc, stream=io.BytesIO(b"price 150"),
                                     actor=actor_in(s, "root"), file_name="quote-v3.txt")
        assert (third.number, third.file_name) == (3, "quote-v3.txt")
    assert first == 1 and read(db, tmp_path, doc) == b"price 150"
    assert read(db, tmp_path, doc, number=1) == b"price 100"
    with db.command() as s:
        restored = versions.restore_version(session=s, document_id=doc, number=1, actor=actor_in(s, "root"))
        assert (restored.number, restored.restored_from) == (4, 1)
        listed = versions.list_versions(session=s, document_id=doc, actor=actor_in(s, "eve"))
        assert [v.number for v in listed] == [4, 3, 2, 1]
        assert listed[0].sha256 == listed[3].sha256 and listed[0].crc32 == listed[3].crc32
        assert s.get(DocDocument, doc).name == "报价单.txt"
    assert read(db, tmp_path, doc) == b"price 100"
    with db.command() as s:
        with pytest.raises(NotAllowed):  # everyone reads the company library; only admins change it
            versions.restore_version(session=s, document_id=doc, number=2, actor=actor_in(s, "eve"))
    with db.query() as s:
        actions = [e.action for e in s.scalars(select(AuditEntry).where(AuditEntry.object_type == "doc_document")
                                                .order_by(AuditEntry.id))]
        assert actions == ["document.uploaded", "document.version_added", "document.version_added",
                           "document.version_restored"]


def test_names_must_be_free_and_folders_cannot_move_into_themselves(db, tmp_path):
    seed_org(db)
    root = company_root(db)
    a = mkdir(db, root, "A")
    b = mkdir(db, a, "B")
    c = mkdir(db, b, "C")
    doc, _ = upload(db, tmp_path, a, "plan.txt", b"plan")
    other, _ = upload(db, tmp_path, a, "notes.txt", b"notes")
    with db.command() as s:
        admin = actor_in(s, "root")
        with pytest.raises(NameTaken) as clash:
            moves.rename_document(session=s, document_id=other, name="PLAN.txt", actor=admin)
        assert clash.value.details["existing_document_id"] == doc and clash.value.details["field"] == "name"
        with pytest.raises(NameTaken):
            moves.rename_document(session=s, document_id=other, name="b", actor=admin)  # a folder's name
        with pytest.raises(NameTaken):
            folders.create_folder(session=s, parent_id=a, name="Plan.txt", actor=admin)
        with pytest.raises(InvalidInput):
            moves.rename_document(session=s, document_id=other, name="../x", actor=admin)
        for target in (b, c):
            with pytest.raises(Conflict) as cycle:
                moves.move_folder(session=s, folder_id=b, target_id=target, actor=admin)
            assert cycle.value.details == {"folder_id": b, "target_id": target}
        assert moves.rename_document(session=s, document_id=other, name="notes-2024.txt", actor=admin).name == \
            "notes-2024.txt"
    with db.command() as s:
        admin = actor_in(s, "root")
        moves.move_folder(session=s, folder_id=c, target_id=root, actor=admin)
        listing = folders.list_folder(session=s, folder_id=root, actor=admin)
        assert {f.name for f in listing.folders} == {"A", "C"}
        moves.move_document(session=s, document_id=doc, target_id=c, actor=admin)
        assert [d.name for d in folders.list_folder(session=s, folder_id=c, actor=admin).documents] == ["plan.txt"]
        assert folders.list_folder(session=s, folder_id=c, actor=admin).trail[0][0] == root
        second_b = folders.create_folder(session=s, parent_id=c, name="B", actor=admin)
        with pytest.raises(NameTaken):
            moves.move_folder(session=s, folder_id=b, target_id=c, actor=admin)
        assert second_b.path == f"/{root}/{c}/{second_b.id}/" and second_b.depth == 2


def test_a_drive_refuses_uploads_past_its_quota_with_the_numbers(db, tmp_path):
    seed_org(db)
    with db.command() as s:
        drive = library.personal_drive(session=s, username="eve", quota_bytes=100)
        folder, library_id = drive.root_folder_id, drive.id
        with pytest.raises(NotAllowed):
            library.set_quota(session=s, library_id=library_id, quota_bytes=10**9, actor=actor_in(s, "eve"))
    upload(db, tmp_path, folder, "a.bin", b"x" * 60, who="eve")
    with db.command() as s:
        with pytest.raises(QuotaExceeded) as refused:
            versions.upload_file(session=s, store_dir=tmp_path, folder_id=folder, file_name="b.bin",
                                 stream=io.BytesIO(b"y" * 50), actor=actor_in(s, "eve"))
        assert refused.value.details == {"used": 60, "quota": 100, "size": 50, "library_id": library_id}
        assert "60" in refused.value.message and "100" in refused.value.message
    assert not BlobStore(tmp_path).path(hashlib.sha256(b"y" * 50).hexdigest()).exists()
    upload(db, tmp_path, folder, "copy.bin", b"x" * 60, who="eve")  # the drive holds these bytes already
    with db.command() as s:
        library.set_quota(session=s, library_id=library_id, quota_bytes=200, actor=actor_in(s, "root"))
        assert library.used_bytes(s, library_id) == 60
    upload(db, tmp_path, folder, "b.bin", b"y" * 50, who="eve")
    with db.query() as s:
        assert library.used_bytes(s, library_id) == 110


def test_a_locked_document_refuses_every_change_until_unlocked(db, tmp_path):
    seed_org(db)
    root = company_root(db)
    a = mkdir(db, root, "Contracts")
    doc, _ = upload(db, tmp_path, a, "contract.pdf", b"%PDF-1.4 signed")
    with db.command() as s:
        with pytest.raises(NotAllowed):
            versions.lock_document(session=s, document_id=doc, actor=actor_in(s, "eve"))
        versions.lock_document(session=s, document_id=doc, actor=actor_in(s, "root"), reason="signed 2026-11-01")
    with db.command() as s:
        admin = actor_in(s, "root")
        attempts = [
            lambda: versions.add_version(session=s, store_dir=tmp_path, document_id=doc, stream=io.BytesIO(b"v2"),
                                         actor=admin),
            lambda: versions.upload_file(session=s, store_dir=tmp_path, folder_id=a, file_name="contract.pdf",
                                         stream=io.BytesIO(b"v2"), actor=admin),
            lambda: moves.rename_document(session=s, document_id=doc, name="x.pdf", actor=admin),
            lambda: moves.move_document(session=s, document_id=doc, target_id=root, actor=admin),
            lambda: recycle.delete_document(session=s, document_id=doc, actor=admin),
            lambda: recycle.delete_folder(session=s, folder_id=a, actor=admin),
            lambda: moves.move_folder(session=s, folder_id=a, target_id=mkdir_in(s, root), actor=admin),
        ]
        for attempt in attempts:
            with pytest.raises(Locked) as refused:
                attempt()
            assert "locked" in refused.value.message
        assert s.scalar(select(DocVersion.number).where(DocVersion.document_id == doc)
                        .order_by(DocVersion.number.desc())) == 1
    with db.command() as s:
        versions.unlock_document(session=s, document_id=doc, actor=actor_in(s, "root"))
        assert moves.rename_document(session=s, document_id=doc, name="contract-old.pdf",
                                     actor=actor_in(s, "root")).name == "contract-old.pdf"


def mkdir_in(session, parent_id: int) -> int:
    return folders.create_folder(session=session, parent_id=parent_id, name="Elsewhere",
                                 actor=actor_in(session, "root")).id


def test_encrypted_content_is_stored_sealed_and_needs_the_password(db, tmp_path):
    seed_org(db)
    root = company_root(db)
    secret = "机密 salary table 2026".encode()
    doc, _ = upload(db, tmp_path, root, "salaries.txt", secret, password="s3cret-口令")
    with db.query() as s:
        version = s.scalar(select(DocVersion).where(DocVersion.document_id == doc))
        stored = BlobStore(tmp_path).path(version.sha256).read_bytes()
        assert version.encrypted and version.extraction == "encrypted"
        assert secret not in stored and len(stored) > len(secret)
        assert library.text_for_index(s, version.id) is None
        assert library.index_fields(s, doc)["text"] == "" and library.index_fields(s, doc)["extra"]["encrypted"]
    with pytest.raises(PasswordRequired):
        read(db, tmp_path, doc)
    with pytest.raises(WrongPassword) as wrong:
        read(db, tmp_path, doc, password="guess")
    assert wrong.value.details == {"document_id": doc}
    assert read(db, tmp_path, doc, password="s3cret-口令") == secret
    with db.command() as s:
        admin = actor_in(s, "root")
        with pytest.raises(PasswordRequired):
            versions.add_version(session=s, store_dir=tmp_path, document_id=doc, stream=io.BytesIO(b"v2"), actor=admin)
        with pytest.raises(WrongPassword):
            versions.add_version(session=s, store_dir=tmp_path, document_id=doc, stream=io.BytesIO(b"v2"), actor=admin,
                                 password="another")
        versions.add_version(session=s, store_dir=tmp_path, document_id=doc, stream=io.BytesIO(b"v2"), actor=admin,
                             password="s3cret-口令")
    assert read(db, tmp_path, doc, password="s3cret-口令") == b"v2"
    again, _ = upload(db, tmp_path, root, "same.txt", secret, password="s3cret-口令")
    with db.query() as s:
        shas = set(s.scalars(select(DocVersion.sha256).where(DocVersion.document_id.in_([doc, again]))))
        assert len(shas) == 3  # identical plaintexts seal differently: no dedupe, by design


def test_verify_detects_a_changed_byte_in_the_stored_file(db, tmp_path):
    seed_org(db)
    doc, _ = upload(db, tmp_path, company_root(db), "report.txt", b"quarterly report " * 100)
    with db.query() as s:
        check = versions.verify_version(session=s, store_dir=tmp_path, document_id=doc, actor=actor_in(s, "eve"))
        assert not check.changed and check.actual == check.expected
        path = BlobStore(tmp_path).path(check.expected["sha256"])
    data = bytearray(path.read_bytes())
    data[500] ^= 0x01
    path.write_bytes(bytes(data))
    with db.query() as s:
        check = versions.verify_version(session=s, store_dir=tmp_path, document_id=doc, actor=actor_in(s, "eve"))
        assert check.changed and not check.missing and set(check.differing) == {"sha256", "crc32"}
    path.unlink()
    with db.query() as s:
        check = versions.verify_version(session=s, store_dir=tmp_path, document_id=doc, actor=actor_in(s, "eve"))
        assert check.changed and check.missing

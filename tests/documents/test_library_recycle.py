"""The recycle bin: soft delete, restore, purge, and blobs deleted only when nothing references them."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from attachments import service as attachments
from documents import access, folders, recycle, store, versions
from documents.library_errors import Conflict, NameTaken, NotAllowed, NotFound
from documents.models import DocBlobRelease, DocDocument, DocFolder, DocTrash, DocVersion

from .test_library import actor_in, company_root, mkdir, seed_org, upload


def listing(db, folder_id: int, who: str = "root") -> tuple[set[str], set[str]]:
    with db.query() as s:
        found = folders.list_folder(session=s, folder_id=folder_id, actor=actor_in(s, who))
        return {f.name for f in found.folders}, {d.name for d in found.documents}


def test_deleted_items_wait_in_the_bin_and_come_back_where_they_were(db, tmp_path):
    seed_org(db)
    root = company_root(db)
    a = mkdir(db, root, "A")
    b = mkdir(db, a, "B")
    upload(db, tmp_path, a, "a.txt", b"a")
    inner, _ = upload(db, tmp_path, b, "inner.txt", b"inner")
    early, _ = upload(db, tmp_path, b, "early.txt", b"early")
    with db.command() as s:
        admin = actor_in(s, "root")
        with pytest.raises(NotAllowed):
            recycle.delete_document(session=s, document_id=early, actor=actor_in(s, "eve"))
        early_entry = recycle.delete_document(session=s, document_id=early, actor=admin).id
        folder_entry = recycle.delete_folder(session=s, folder_id=a, actor=admin).id
    assert listing(db, root) == (set(), set())
    with db.query() as s:
        assert s.scalar(select(func.count()).select_from(DocDocument).where(DocDocument.deleted_at.is_(None))) == 0
        assert set(s.scalars(access.readable_folders(s, actor_in(s, "eve")))) == {root}
        bin_ = recycle.list_recycle_bin(session=s, library_id=s.get(DocFolder, root).library_id,
                                        actor=actor_in(s, "root"))
        assert [(e.kind, e.name) for e in bin_] == [("folder", "A"), ("document", "early.txt")]
        assert recycle.list_recycle_bin(session=s, library_id=bin_[0].library_id, actor=actor_in(s, "eve")) == []
    with db.command() as s:
        with pytest.raises(Conflict) as parent_gone:  # its folder is in the bin too
            recycle.restore_item(session=s, trash_id=early_entry, actor=actor_in(s, "root"))
        assert parent_gone.value.details["folder_trash_id"] == folder_entry
    mkdir(db, root, "a")  # a new folder took the name meanwhile
    with db.command() as s:
        with pytest.raises(NameTaken):
            recycle.restore_item(session=s, trash_id=folder_entry, actor=actor_in(s, "root"))
    with db.command() as s:
        taken = s.scalar(select(DocFolder).where(DocFolder.name == "a", DocFolder.deleted_at.is_(None)))
        recycle.delete_folder(session=s, folder_id=taken.id, actor=actor_in(s, "root"))
        recycle.restore_item(session=s, trash_id=folder_entry, actor=actor_in(s, "root"))
    assert listing(db, root) == ({"A"}, set()) and listing(db, a) == ({"B"}, {"a.txt"})
    assert listing(db, b) == (set(), {"inner.txt"})  # deleted before the folder: still in the bin
    with db.command() as s:
        recycle.restore_item(session=s, trash_id=early_entry, actor=actor_in(s, "root"))
    assert listing(db, b) == (set(), {"inner.txt", "early.txt"})
    with db.query() as s:
        assert inner in set(s.scalars(select(DocDocument.id).where(access.document_clause(s, actor_in(s, "eve")))))


def test_purging_removes_rows_and_blobs_only_when_nothing_references_them(db, tmp_path):
    seed_org(db)
    root = company_root(db)
    a = mkdir(db, root, "A")
    b = mkdir(db, a, "B")
    shared = b"the same bytes in two places"
    in_b, _ = upload(db, tmp_path, b, "copy1.txt", shared)
    outside, _ = upload(db, tmp_path, root, "copy2.txt", shared)
    only_here, _ = upload(db, tmp_path, b, "unique.txt", b"only in B")
    with db.command() as s:
        attachment = attachments.store(session=s, store_dir=tmp_path, stream=io.BytesIO(b"attached too"),
                                       file_name="att.txt", actor="root", max_bytes=1000)
    attached, _ = upload(db, tmp_path, b, "att-copy.txt", b"attached too")
    with db.query() as s:
        sha = {d: s.scalar(select(DocVersion.sha256).where(DocVersion.document_id == d))
               for d in (in_b, only_here, attached)}
    blob = store.BlobStore(tmp_path)
    with db.command() as s:
        admin = actor_in(s, "root")
        deleted_b = recycle.delete_folder(session=s, folder_id=b, actor=admin).id
        recycle.delete_document(session=s, document_id=outside, actor=admin)
        with pytest.raises(NotAllowed):
            recycle.purge_item(session=s, trash_id=deleted_b, actor=actor_in(s, "eve"))
        released = recycle.purge_item(session=s, trash_id=deleted_b, actor=admin)
        assert set(released) == set(sha.values())
    with db.query() as s:
        assert s.scalar(select(func.count()).select_from(DocFolder).where(DocFolder.id == b)) == 0
        assert set(s.scalars(select(DocDocument.id))) == {outside}
        assert s.scalar(select(func.count()).select_from(DocBlobRelease)) == 3
    with db.command() as s:
        with pytest.raises(NotFound):
            recycle.restore_item(session=s, trash_id=deleted_b, actor=actor_in(s, "root"))
        # Not before the grace period has passed: the purge may still roll back, an upload may be reusing it.
        assert store.delete_released_blobs(session=s, store_dir=tmp_path) == []
    with db.command() as s:
        gone = store.delete_released_blobs(session=s, store_dir=tmp_path, grace=timedelta(0))
    assert gone == [sha[only_here]]  # copy2.txt (in the bin) and the attachment still use the others
    assert not blob.path(sha[only_here]).exists()
    assert blob.path(sha[in_b]).exists() and blob.path(sha[attached]).exists()
    assert attachments.blob_path(store_dir=tmp_path, attachment=attachment).exists()
    with db.command() as s:
        entry = s.scalar(select(DocTrash).where(DocTrash.item_id == outside))
        recycle.purge_item(session=s, trash_id=entry.id, actor=actor_in(s, "root"))
    with db.command() as s:
        assert store.delete_released_blobs(session=s, store_dir=tmp_path, grace=timedelta(0)) == [sha[in_b]]
    assert not blob.path(sha[in_b]).exists()
    with db.query() as s:
        with pytest.raises(NotFound):
            versions.list_versions(session=s, document_id=outside, actor=actor_in(s, "root"))

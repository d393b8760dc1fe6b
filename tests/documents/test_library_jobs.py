"""Text extraction job, zip import (limits, path tricks, all or nothing), links and archiving an instance."""
from __future__ import annotations

import io
import os
import stat
import zipfile

import pytest
from sqlalchemy import func, select

from attachments import service as attachments
from definitions import service as definitions
from documents import extraction, folders, library, links, versions, zipimport
from documents.archive import ArchiveLimits
from documents.library_errors import ArchiveRejected, Conflict, QuotaExceeded
from documents.models import DocDocument, DocFolder, DocLink, DocVersion
from instances import service as instances

from . import samples
from .test_library import actor_in, company_root, mkdir, seed_org, upload

DONE_FLOW = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://t">
  <bpmn:process id="signed_contract" name="Signed contract" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def statuses(db) -> dict[str, str]:
    with db.query() as s:
        return dict(s.execute(select(DocVersion.file_name, DocVersion.extraction)).all())


def test_the_extraction_job_marks_every_status_and_keeps_the_text(db, tmp_path):
    seed_org(db)
    root = company_root(db)
    seen = []
    stop = library.on_change(lambda session, ids, event: seen.append((event, ids)))
    try:
        ok, _ = upload(db, tmp_path, root, "合同.docx", samples.docx_bytes())
        upload(db, tmp_path, root, "blank.txt", b"   \n")
        upload(db, tmp_path, root, "broken.docx", b"PK\x03\x04 not really a zip")
        upload(db, tmp_path, root, "photo.png", b"\x89PNG\r\n\x1a\n" + bytes(200))
        upload(db, tmp_path, root, "sealed.txt", b"secret", password="pw-pw-pw")
        assert set(statuses(db).values()) == {"pending", "encrypted"}
        with db.command() as s:
            assert extraction.extract_pending(session=s, store_dir=tmp_path, limit=2) == {"ok": 1, "empty": 1}
        with db.command() as s:
            counts = extraction.extract_pending(session=s, store_dir=tmp_path, limit=10)
    finally:
        stop()
    assert counts == {"unreadable": 1, "unsupported": 1}
    assert statuses(db) == {"合同.docx": "ok", "blank.txt": "empty", "broken.docx": "unreadable",
                            "photo.png": "unsupported", "sealed.txt": "encrypted"}
    assert [ids for event, ids in seen if event == "extracted"] == [[ok, ok + 1], [ok + 2, ok + 3]]
    with db.query() as s:
        version = s.scalar(select(DocVersion).where(DocVersion.document_id == ok))
        text = library.text_for_index(s, version.id)
        assert samples.ZH in text and samples.EN in text and version.text_format == "docx"
        fields = library.index_fields(s, ok)
        assert (fields["kind"], fields["ref"], fields["folder_id"], fields["title"]) == ("document", str(ok), root,
                                                                                         "合同.docx")
        assert samples.ZH in fields["text"]
    with db.command() as s:  # a restore of extracted content needs no second extraction
        restored = versions.restore_version(session=s, document_id=ok, number=1, actor=actor_in(s, "root"))
        assert restored.extraction == "ok" and samples.ZH in library.text_for_index(s, restored.id)


def _zip(entries: dict[str, bytes], *, symlink: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return out.getvalue()


def _import(db, tmp_path, folder_id, data, **kw):
    with db.command() as s:
        return zipimport.import_zip(session=s, store_dir=tmp_path, folder_id=folder_id, source=data,
                                    actor=actor_in(s, "root"), file_name="batch.zip", **kw)


def test_a_zip_unpacks_into_folders_and_skips_unsafe_entries_with_reasons(db, tmp_path):
    seed_org(db)
    root = company_root(db)
    target = mkdir(db, root, "Imports")
    upload(db, tmp_path, target, "readme.txt", b"old readme")
    data = _zip({"项目/2024/报告.txt": "季度报告".encode(), "项目/合同.txt": b"contract", "readme.txt": b"new readme",
                 "../escape.txt": b"x", "/etc/abs.txt": b"x", "C:/win.txt": b"x", "bomb.bin": bytes(4 * 1024**2)},
                symlink="link")
    result = _import(db, tmp_path, target, data)
    reasons = dict(result.skipped)
    assert set(reasons) == {"../escape.txt", "/etc/abs.txt", "C:/win.txt", "bomb.bin", "link"}
    assert "parent folder" in reasons["../escape.txt"] and "absolute" in reasons["/etc/abs.txt"]
    assert "zip bomb" in reasons["bomb.bin"] and "link" in reasons["link"]
    assert result.folders_created == 2 and len(result.versions) == 3
    with db.query() as s:
        admin = actor_in(s, "root")
        top = folders.list_folder(session=s, folder_id=target, actor=admin)
        assert {f.name for f in top.folders} == {"项目"} and {d.name for d in top.documents} == {"readme.txt"}
        readme = top.documents[0]
        assert readme.version_count == 2  # same name: a new version
        project = top.folders[0]
        inner = folders.list_folder(session=s, folder_id=project.id, actor=admin)
        assert {f.name for f in inner.folders} == {"2024"} and {d.name for d in inner.documents} == {"合同.txt"}
        download = versions.open_version(session=s, store_dir=tmp_path, document_id=readme.id, actor=admin)
        assert b"".join(download.chunks) == b"new readme"
    assert not (tmp_path.parent / "escape.txt").exists()


def test_a_refused_zip_leaves_nothing_behind(db, tmp_path):
    seed_org(db)
    with db.command() as s:
        drive = library.personal_drive(session=s, username="eve", quota_bytes=1000)
        folder = drive.root_folder_id

    def counts():
        with db.query() as s:
            return (s.scalar(select(func.count()).select_from(DocFolder)),
                    s.scalar(select(func.count()).select_from(DocDocument)),
                    sorted(p.name for p in tmp_path.rglob("*") if p.is_file()))

    before = counts()
    strict = _zip({"a/ok.txt": b"fine", "../evil.txt": b"x"})
    with db.command() as s, pytest.raises(ArchiveRejected) as refused:
        zipimport.import_zip(session=s, store_dir=tmp_path, folder_id=folder, source=strict, actor=actor_in(s, "eve"),
                             limits=ArchiveLimits(skip_bad_entries=False))
    assert "parent folder" in refused.value.message
    too_big = _zip({"one/a.bin": os.urandom(600), "two/b.bin": os.urandom(600)})
    # pytest.raises sits inside the transaction, which therefore commits: the savepoint alone must undo the rest.
    with db.command() as s, pytest.raises(QuotaExceeded) as over:
        zipimport.import_zip(session=s, store_dir=tmp_path, folder_id=folder, source=too_big, actor=actor_in(s, "eve"))
    assert over.value.details["used"] == 600 and over.value.details["quota"] == 1000
    with db.command() as s, pytest.raises(ArchiveRejected):
        zipimport.import_zip(session=s, store_dir=tmp_path, folder_id=folder, source=b"not a zip",
                             actor=actor_in(s, "eve"))
    assert counts() == before


def test_archiving_an_approved_instance_links_its_attachments_without_copying(db, tmp_path):
    seed_org(db)
    root = company_root(db)
    target = mkdir(db, root, "Archive")
    with db.command() as s:
        version, _ = definitions.deploy(session=s, files={"signed.bpmn": DONE_FLOW}, actor="root")
        instance = instances.start_instance(session=s, key=version.key, actor=actor_in(s, "eve"))
        assert instance.status == "completed"
        saved = [attachments.store(session=s, store_dir=tmp_path, stream=io.BytesIO(data), file_name=name,
                                   actor="eve", max_bytes=10_000)
                 for name, data in (("合同.pdf", b"%PDF-1.4 contract"), ("quote.txt", b"quote"))]
        attachments.link(session=s, ids=[a.id for a in saved], actor="eve", instance_id=instance.id)
        instance_id = instance.id
    upload(db, tmp_path, target, "quote.txt", b"an older quote")
    files_before = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    with db.command() as s:
        made = links.archive_instance_documents(session=s, store_dir=tmp_path, instance_id=instance_id,
                                                folder_id=target, actor=actor_in(s, "root"))
        assert sorted(d.name for d in made) == ["quote (2).txt", "合同.pdf"]
        again = links.archive_instance_documents(session=s, store_dir=tmp_path, instance_id=instance_id,
                                                 folder_id=target, actor=actor_in(s, "root"))
        assert again == []
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == files_before  # no blob was copied
    with db.query() as s:
        eve = actor_in(s, "eve")
        linked = links.list_linked_documents(session=s, target_kind="instance", target_id=instance_id, actor=eve)
        assert sorted(d.name for d in linked) == ["quote (2).txt", "合同.pdf"]
        contract = next(d for d in linked if d.name == "合同.pdf")
        assert b"".join(versions.open_version(session=s, store_dir=tmp_path, document_id=contract.id,
                                              actor=eve).chunks) == b"%PDF-1.4 contract"
        check = versions.verify_version(session=s, store_dir=tmp_path, document_id=contract.id, actor=eve)
        assert not check.changed
        assert [(k.target_kind, k.target_id) for k in links.list_links(session=s, document_id=contract.id,
                                                                         actor=eve)] == [("instance", instance_id)]
    with db.command() as s:
        version, _ = definitions.deploy(session=s, files={"wait.bpmn": DONE_FLOW.replace(
            b'<bpmn:endEvent id="end"/>', b'<bpmn:userTask id="end" name="Sign"/>')}, actor="root")
        running = instances.start_instance(session=s, key=version.key, actor=actor_in(s, "eve")).id
        with pytest.raises(Conflict):
            links.archive_instance_documents(session=s, store_dir=tmp_path, instance_id=running, folder_id=target,
                                             actor=actor_in(s, "root"))
        links.link_document(session=s, document_id=contract.id, target_kind="record", target_id=77,
                            actor=actor_in(s, "eve"))
        links.unlink_document(session=s, document_id=contract.id, target_kind="instance", target_id=instance_id,
                              actor=actor_in(s, "root"))
        assert [(k.target_kind, k.target_id) for k in s.scalars(select(DocLink))
                if k.document_id == contract.id] == [("record", 77)]


def test_the_production_worker_runs_the_document_jobs(db, tmp_path, caplog):
    import logging

    from webapp.config import Settings

    settings = Settings(database_url=db.url, var_dir=tmp_path, secret_key="test-secret", testing=True)
    seed_org(db)
    doc, _ = upload(db, settings.store_dir, company_root(db), "合同.docx", samples.docx_bytes())
    worker = settings.make_worker(db)
    with caplog.at_level(logging.ERROR, logger="flowdesk.worker"):
        worker.run_once()
    # Every job the worker was given ran: none failed on how the worker calls it.
    assert [r.getMessage() for r in caplog.records] == []
    assert statuses(db) == {"合同.docx": "ok"}
    with db.query() as s:
        version = s.scalar(select(DocVersion).where(DocVersion.document_id == doc))
        assert samples.ZH in library.text_for_index(s, version.id)

"""The index follows documents and records as they change, and a search shows only what the reader may open."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from documents import extraction, library, moves, recycle, sharing
from records import service as records
from search import service, sources
from search.models import SearchEntry
from tests.documents.test_library import actor_in, company_root, mkdir, seed_org, upload
from tests.records.conftest import ADMIN, ANNA, BEN, SAM, load_org

RULES = ("<p>客户投诉须在<b>48小时</b>内响应，超时升级到部门经理。</p>"
         "<p>Complaints are answered within 48 hours.</p>")


@pytest.fixture(autouse=True)
def following():
    """Follow changes for each test only, so other tests' writes stay as they were."""
    was = bool(sources._installed)
    sources.install()
    yield
    if not was:
        sources.uninstall()


def found(db, actor, text, **kw) -> list[tuple[str, str]]:
    """Return (kind, title) of the hits the actor gets."""
    with db.query() as s:
        return [(hit.kind, hit.title) for hit in service.search(s, text, readable=sources.readable(s, actor), **kw)]


@pytest.fixture
def crm(db):
    with db.command() as session:
        load_org(session)
        records.install_core_types(session=session)
    return db


def test_records_and_articles_are_indexed_as_they_change(crm):
    db = crm
    with db.command() as s:
        customer = records.create_record(session=s, type_key="customer", actor=ANNA,
                                         data={"name": "华东精密机械有限公司", "notes": "Key account since 2019"})
        article = records.create_record(session=s, type_key="knowledge_article", actor=BEN,
                                        data={"title": "投诉处理规定", "body": RULES, "status": "published"})
        customer_id, article_id, lock = customer.id, article.id, customer.lock_version
    assert found(db, ANNA, "精密机械") == [("record", "华东精密机械有限公司")]
    assert found(db, ANNA, "key account") == [("record", "华东精密机械有限公司")]
    # Rich text is searched as text: its tags are neither words nor in the snippet.
    assert found(db, SAM, "投诉 48小时") == [("article", "投诉处理规定")]
    with db.query() as s:
        hit = service.search(s, "升级", readable=sources.readable(s, SAM))[0]
        assert "<b>" not in hit.snippet and "<mark>升级</mark>" in hit.snippet
        assert hit.extra["type"] == "knowledge_article" and hit.extra["record_id"] == article_id
    assert found(db, ANNA, "投诉", kinds=["record"]) == []
    assert found(db, ANNA, "published") == []  # a choice's code is not a word of the record
    with db.command() as s:
        records.update_record(session=s, record_id=customer_id, data={"name": "华南精密机械有限公司"}, actor=ANNA,
                              lock_version=lock)
    assert found(db, ANNA, "华东") == [] and found(db, ANNA, "华南")
    with db.command() as s:
        records.delete_record(session=s, record_id=customer_id, actor=ANNA)
    assert found(db, ADMIN, "精密") == []
    with db.command() as s:
        records.restore_record(session=s, record_id=customer_id, actor=ANNA)
    assert found(db, ADMIN, "精密") == [("record", "华南精密机械有限公司")]


def test_record_hits_follow_the_record_permissions_and_hidden_fields(crm):
    db = crm
    with db.command() as s:
        # Leads are seen within the owner's department (sales: anna, ben), not by service (sam).
        records.create_record(session=s, type_key="lead", actor=ANNA, data={"company": "星河贸易", "contact_name": "王小明", "status": "new"})
    assert found(db, BEN, "王小明") == [("record", "星河贸易")]
    assert found(db, SAM, "王小明") == [] and found(db, ADMIN, "王小明") == [("record", "星河贸易")]
    with db.command() as s:
        view = records.get_type_or_raise(session=s, key="customer")
        meta = {**view.meta, "field_access": {"notes": {"view": ["manager"]}}}
        records.change_type(session=s, key="customer", schema=view.schema, meta=meta, actor="admin")
        records.create_record(session=s, type_key="customer", actor=ADMIN,
                              data={"name": "Orion Trading", "notes": "credit watch list"})
    # A field only managers may see is not searchable by anyone: a hit would tell what it holds.
    assert found(db, ADMIN, "watch") == [] and found(db, ADMIN, "orion") == [("record", "Orion Trading")]


def test_a_type_change_reindexes_its_records(crm):
    db = crm
    with db.command() as s:
        records.create_record(session=s, type_key="customer", actor=ANNA, data={"name": "Nimbus", "notes": "alpha"})
    assert found(db, ANNA, "alpha") == [("record", "Nimbus")]
    with db.command() as s:
        view = records.get_type_or_raise(session=s, key="customer")
        records.change_type(session=s, key="customer", schema=view.schema, actor="admin",
                            meta={**view.meta, "field_access": {"notes": {"view": ["finance"]}}})
    assert found(db, ANNA, "alpha") == []


def actor_in_db(db, name):
    with db.query() as s:
        return actor_in(s, name)


def test_documents_are_found_only_in_folders_the_reader_may_read(db, tmp_path):
    seed_org(db)
    root = company_root(db)
    board = mkdir(db, root, "董事会")
    with db.command() as s:  # only IT may read the board's folder (and root, the company library's admin)
        sharing.set_folder_permissions(session=s, folder_id=board, entries=[("department", "it", ["read"])],
                                       actor=actor_in(s, "root"))
    public_id, _ = upload(db, tmp_path, root, "投诉流程.txt", "客户投诉处理流程，四十八小时内答复。".encode())
    upload(db, tmp_path, board, "并购计划.txt", "收购星河贸易的投诉风险评估".encode())
    eve, ivan, root_user = (actor_in_db(db, name) for name in ("eve", "ivan", "root"))
    # The name is searchable at once; the text once the worker extracted it.
    assert found(db, eve, "投诉流程") == [("document", "投诉流程.txt")]
    assert found(db, eve, "四十八小时") == []
    with db.command() as s:
        extraction.extract_pending(session=s, store_dir=tmp_path, limit=10)
    assert found(db, eve, "四十八小时") == [("document", "投诉流程.txt")]
    assert found(db, eve, "投诉") == [("document", "投诉流程.txt")]
    assert sorted(found(db, ivan, "投诉")) == [("document", "并购计划.txt"), ("document", "投诉流程.txt")]
    assert len(found(db, root_user, "投诉")) == 2
    with db.command() as s:  # sharing changes who finds it without touching the index
        sharing.share_folder(session=s, folder_id=board, kind="user", code="eve", actions=["read"],
                             actor=actor_in(s, "root"))
    assert len(found(db, eve, "投诉")) == 2
    with db.command() as s:
        moves.rename_document(session=s, document_id=public_id, name="complaint-process.txt",
                              actor=actor_in(s, "root"))
    assert found(db, eve, "complaint") == [("document", "complaint-process.txt")]
    with db.command() as s:
        recycle.delete_document(session=s, document_id=public_id, actor=actor_in(s, "root"))
    assert found(db, root_user, "四十八小时") == []


def test_reindex_rebuilds_and_drops_stale_entries(crm, tmp_path):
    db = crm
    with db.command() as s:
        records.create_record(session=s, type_key="customer", actor=ANNA, data={"name": "Vega Labs"})
        service.index_entry(s, "record", "999999", title="ghost", text="ghost", owner="x", scope="records:customer")
    sources.uninstall()
    with db.command() as s:
        records.create_record(session=s, type_key="customer", actor=ANNA, data={"name": "Unseen Works"})
    sources.install()
    assert found(db, ADMIN, "unseen") == [] and found(db, ADMIN, "ghost") == [("record", "ghost")]
    seen = []
    with db.command() as s:
        counts = sources.reindex(s, progress=lambda kind, done, total: seen.append((kind, done, total)))
    assert counts["record"] == 2 and counts["removed"] == 1
    assert seen[-1] == ("record", 2, 2)
    assert found(db, ADMIN, "unseen") == [("record", "Unseen Works")] and found(db, ADMIN, "ghost") == []
    with db.query() as s:
        assert s.scalar(select(func.count()).select_from(SearchEntry)) == 2


def test_personal_drives_stay_private_to_administrators_too(db, tmp_path):
    seed_org(db)
    with db.command() as s:
        drive = library.personal_drive(session=s, username="eve").root_folder_id
    upload(db, tmp_path, drive, "体检报告.txt", b"private", who="eve")
    assert found(db, actor_in_db(db, "eve"), "体检报告") == [("document", "体检报告.txt")]
    assert found(db, actor_in_db(db, "root"), "体检报告") == []
    assert found(db, actor_in_db(db, "ivan"), "体检报告") == []

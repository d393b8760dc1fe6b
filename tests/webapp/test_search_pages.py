"""The search page, the navigation's search box and GET /api/v1/search."""
from __future__ import annotations

import re

import pytest

from instances.actors import Actor
from records import service as records
from search import service as search_service
from search import sources

from .test_api import assert_error, sign_in

WANG, LIU, HU = Actor("wang.fang", frozenset({"role:employee", "dept:sales"})), \
    Actor("liu.yang", frozenset({"role:employee"})), Actor("hu.yan", frozenset({"role:employee"}))


@pytest.fixture
def crm(app, db):
    """The app with the core record types, a customer, a sales lead and a knowledge article."""
    with db.command() as s:
        records.install_core_types(session=s)
        records.create_record(session=s, type_key="customer", actor=WANG,
                              data={"name": "华东精密机械有限公司", "notes": "重点客户 <key account>"})
        records.create_record(session=s, type_key="lead", actor=WANG,
                              data={"company": "星河贸易", "contact_name": "赵投诉", "status": "new"})
        records.create_record(session=s, type_key="knowledge_article", actor=HU,
                              data={"title": "投诉处理规定", "body": "<p>客户投诉须在48小时内响应。</p>",
                                    "status": "published"})
    return app


def hits(html: str) -> list[tuple[str, str]]:
    """Return (kind, plain title) of the hits on a search page."""
    found = re.findall(r'data-testid="hit" data-kind="(\w+)".*?fd-hit-title"[^>]*>(.*?)</(?:a|span)>', html, re.S)
    return [(kind, re.sub(r"<[^>]+>", "", title)) for kind, title in found]


def test_the_navigation_box_leads_to_ranked_highlighted_hits(crm, login):
    client = login("wang.fang")
    inbox = client.get("/inbox/").get_data(as_text=True)
    assert 'data-testid="nav-search"' in inbox and 'action="/search/"' in inbox
    page = client.get("/search/?q=投诉")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert sorted(hits(html)) == [("article", "投诉处理规定"), ("record", "星河贸易")]
    assert "<mark>投诉</mark>处理规定" in html
    article = re.search(r'href="(/records/knowledge_article/\d+)"', html)
    assert article and client.get(article.group(1)).status_code == 200
    # Text from a record is escaped: its angle brackets never become markup.
    html = client.get("/search/?q=重点客户").get_data(as_text=True)
    assert "&lt;key account&gt;" in html and "<key account>" not in html


def test_kinds_mine_and_dates_narrow_the_hits(crm, login):
    client = login("wang.fang")
    assert hits(client.get("/search/?q=投诉&kind=article").get_data(as_text=True)) == [("article", "投诉处理规定")]
    assert hits(client.get("/search/?q=投诉&mine=1").get_data(as_text=True)) == [("record", "星河贸易")]
    assert hits(client.get("/search/?q=投诉&to=2000-01-01").get_data(as_text=True)) == []
    assert len(hits(client.get("/search/?q=投诉&from=2000-01-01").get_data(as_text=True))) == 2


def test_nobody_finds_what_they_may_not_open(crm, login):
    # The lead belongs to sales; hu.yan (service) sees the article only.
    html = login("hu.yan").get("/search/?q=投诉").get_data(as_text=True)
    assert hits(html) == [("article", "投诉处理规定")]
    assert login("admin").get("/search/?q=星河").status_code == 200
    assert hits(login("admin").get("/search/?q=星河").get_data(as_text=True)) == [("record", "星河贸易")]


def test_bad_searches_get_a_clear_message_not_an_error_page(crm, login):
    client = login("wang.fang")
    start = client.get("/search/")
    assert start.status_code == 200 and "Chinese needs no spaces" in start.get_data(as_text=True)
    long = client.get("/search/?q=" + "a" * 201)
    assert long.status_code == 400 and "at most 200 characters" in long.get_data(as_text=True)
    assert "no letters, digits" in client.get("/search/?q=%2B%2B%2B").get_data(as_text=True)
    bad_date = client.get("/search/?q=投诉&from=yesterday")
    assert bad_date.status_code == 400 and "2026-11-27" in bad_date.get_data(as_text=True)
    assert client.get("/search/?q=投诉&page=abc").status_code == 200
    assert "no-hits" in client.get("/search/?q=不存在的词语").get_data(as_text=True)


def test_pages_follow_one_another(crm, login, db):
    with db.command() as s:
        for n in range(23):
            records.create_record(session=s, type_key="customer", actor=WANG, data={"name": f"Orbit {n:02d} 公司"})
    client = login("wang.fang")
    first = client.get("/search/?q=orbit").get_data(as_text=True)
    assert len(hits(first)) == 20 and 'data-testid="next-page"' in first
    second = client.get("/search/?q=orbit&page=2").get_data(as_text=True)
    assert len(hits(second)) == 3 and 'data-testid="next-page"' not in second
    assert not {t for _k, t in hits(first)} & {t for _k, t in hits(second)}


def test_the_page_speaks_chinese(crm, login):
    html = login("wang.fang", lang="zh_CN").get("/search/?q=投诉").get_data(as_text=True)
    assert "知识库文章" in html and "搜索" in html
    assert "Everything" not in html


def test_the_api_searches_with_the_same_rules(crm, client):
    api = sign_in(client, "hu.yan")
    response = api.get("/search?q=投诉")
    assert response.status_code == 200
    body = response.get_json()
    assert body["has_more"] is False and body["page"] == 1
    [hit] = body["items"]
    assert hit["kind"] == "article" and hit["title"] == "投诉处理规定"
    assert hit["title_html"] == "<mark>投诉</mark>处理规定" and hit["url"].startswith("/records/knowledge_article/")
    assert hit["extra"]["type"] == "knowledge_article"
    assert [h["kind"] for h in sign_in(client, "wang.fang").get("/search?q=投诉&kind=record").get_json()["items"]] \
        == ["record"]
    assert_error(api.get("/search"), 400)
    assert assert_error(api.get("/search?q="), 400, "invalid_query")["details"]["reason"] == "empty"
    assert_error(api.get("/search?q=x&page_size=101"), 400)
    assert_error(api.get("/search?q=x&kind=spaceship"), 400)
    assert_error(api.get("/search?q=x&from=soon"), 400)


def test_the_index_is_written_by_the_app_process(crm, db):
    # create_app installed the hooks: records written through the service in this process were indexed.
    assert sources._installed
    with db.query() as s:
        assert [h.title for h in search_service.search(s, "精密", readable=sources.readable(s, WANG))] \
            == ["华东精密机械有限公司"]


def test_documents_are_found_and_a_folder_narrows_the_search(crm, db, login):
    import io

    from sqlalchemy import select

    from documents import extraction, folders, library, sharing, versions
    from org.models import User
    from org.service import actor_for

    store = crm.extensions["flowdesk.settings"].var_dir / "files"
    with db.command() as s:
        admin = actor_for(s.scalar(select(User).where(User.username == "admin")))
        root = library.company_library(session=s).root_folder_id
        rules = folders.create_folder(session=s, parent_id=root, name="制度", actor=admin).id
        board = folders.create_folder(session=s, parent_id=root, name="董事会", actor=admin).id
        sharing.set_folder_permissions(session=s, folder_id=board, entries=[("user", "admin", ["read"])],
                                       actor=admin)
        for folder_id, name, text in ((rules, "投诉管理办法.txt", "客户投诉应在两个工作日内回复。"),
                                      (root, "年度计划.txt", "明年减少投诉的计划。"),
                                      (board, "董事会纪要.txt", "讨论了投诉率。")):
            versions.upload_file(session=s, store_dir=store, folder_id=folder_id, file_name=name,
                                 stream=io.BytesIO(text.encode()), actor=admin)
        extraction.extract_pending(session=s, store_dir=store, limit=10)
    client = login("wang.fang")
    found = hits(client.get("/search/?q=投诉&kind=document").get_data(as_text=True))
    assert sorted(found) == [("document", "年度计划.txt"), ("document", "投诉管理办法.txt")]
    page = client.get(f"/search/?q=投诉&folder={root}").get_data(as_text=True)
    assert len(hits(page)) == 2 and 'data-testid="search-folder"' in page
    page = client.get(f"/search/?q=投诉&folder={rules}").get_data(as_text=True)
    assert hits(page) == [("document", "投诉管理办法.txt")]
    link = re.search(r'href="(/documents/files/\d+)"', page).group(1)
    assert client.get(link).status_code == 200
    # A folder the reader may not open names nothing and finds nothing of it.
    page = client.get(f"/search/?q=纪要&folder={board}").get_data(as_text=True)
    assert hits(page) == [] and 'data-testid="search-folder"' not in page
    assert hits(login("admin").get(f"/search/?q=纪要&folder={board}").get_data(as_text=True)) \
        == [("document", "董事会纪要.txt")]
    folder_page = client.get(f"/documents/folders/{rules}").get_data(as_text=True)
    assert 'data-testid="folder-search"' in folder_page


def test_any_owner_narrows_the_hits(crm, login, client):
    page = login("wang.fang").get("/search/?q=投诉&owner=hu.yan").get_data(as_text=True)
    assert hits(page) == [("article", "投诉处理规定")]
    assert "胡燕 · changed" in page  # the owner by name, not user name
    api = sign_in(client, "wang.fang")
    assert [h["title"] for h in api.get("/search?q=投诉&owner=wang.fang").get_json()["items"]] == ["星河贸易"]

"""Indexing and searching on SQLite (FTS5) and PostgreSQL (tsvector): Chinese, English, filters and permissions."""
from __future__ import annotations

import random
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import delete, func, select, true

from search import service
from search.errors import InvalidInput, InvalidQuery
from search.models import SearchEntry

# Filler vocabulary without 投, 诉, 审, 计, 张, 伟 or 明, so the words under test occur only where placed.
FILLER = ["合同", "审批", "回款", "管理", "应收账款", "账龄", "分析", "销售", "订单", "发货", "仓库", "库存", "报表",
          "部门", "经理", "员工", "会议", "日程", "通知", "流程", "规定", "服务", "工单", "响应", "小时", "质量"]


def long_text(seed: int, words: int = 2000) -> str:
    """Deterministic Chinese text of about 5,000 characters, with punctuation now and then."""
    rng = random.Random(seed)
    out = []
    for i in range(words):
        out.append(rng.choice(FILLER))
        if i % 9 == 8:
            out.append(rng.choice("，。；"))
    return "".join(out)


def put(session, ref, *, text, title="", owner="anna", kind="document", **kw):
    service.index_entry(session, kind, ref, title=title, text=text, owner=owner, **kw)


def refs(db, query, **kw):
    kw.setdefault("readable", true())
    with db.query() as session:
        return [hit.ref for hit in service.search(session, query, **kw)]


@pytest.fixture
def chinese(db):
    text = long_text(1)
    middle = len(text) // 2
    with db.command() as session:
        put(session, "complaint", title="处理规定", text=text[:middle] + "客户投诉处理" + text[middle:])
        put(session, "plain", title="处理规定", text=long_text(2))
    return db


def test_a_two_character_word_is_found_in_a_long_chinese_text(chinese):
    assert refs(chinese, "投诉") == ["complaint"]
    assert refs(chinese, "客户投诉处理") == ["complaint"]
    assert refs(chinese, "审计") == []
    assert refs(chinese, "投诉审计") == []  # every word must be there
    assert sorted(refs(chinese, "应收账款")) == ["complaint", "plain"]


def test_words_written_apart_and_unknown_names_are_found(db):
    with db.command() as session:
        put(session, "ticket", text="服务工单需在48小时内响应，由张伟明跟进。")
    assert refs(db, "工单响应") == ["ticket"]  # not adjacent in the text
    assert refs(db, "张伟明") == ["ticket"]
    assert refs(db, "伟明") == ["ticket"]  # part of a name no dictionary holds
    assert refs(db, "48小时") == ["ticket"]
    assert refs(db, "投诉") == []


def test_one_character_finds_the_entries_that_hold_it_wherever_it_stands(db):
    with db.command() as session:
        put(session, "a", text="客户投诉")
        put(session, "b", text="合同审批")
        put(session, "c", text="联系人老王")
    assert refs(db, "投") == ["a"]
    assert refs(db, "诉") == ["a"]  # at the end of a run
    assert refs(db, "王") == ["c"]


def test_english_and_mixed_text_ignore_case(db):
    with db.command() as session:
        put(session, "en", title="Complaint handling", text="Every Customer complaint gets an SLA of 48 hours.")
        put(session, "mixed", text="客户 complaint 已转交 SLA team")
        put(session, "other", text="Customer satisfaction survey")
    assert refs(db, "COMPLAINT customer") == ["en"]
    assert sorted(refs(db, "complaint sla")) == ["en", "mixed"]
    assert refs(db, "sla 客户") == ["mixed"]
    assert sorted(refs(db, "cust*")) == ["en", "other"]
    assert refs(db, "complain") == []  # whole words unless starred


def test_full_width_letters_and_digits_match_half_width(db):
    with db.command() as session:
        put(session, "fw", text="退货单号ＲＭＡ２０２６，型号Ｘ１")
        put(session, "hw", text="退货单号RMA2027")
    assert refs(db, "rma2026") == ["fw"]
    assert refs(db, "ＲＭＡ２０２７") == ["hw"]
    assert refs(db, "x1") == ["fw"]


def test_operator_characters_in_a_query_are_plain_words(db):
    with db.command() as session:
        put(session, "a", text="near or and not 投诉")
    for query in ['"near" OR "x', "投诉' OR 1=1 --", "near(and, or)", "not:* and*", "\\'; DROP TABLE search_entry"]:
        refs(db, query)  # never a syntax error
    assert refs(db, 'near" OR "and') == ["a"]
    assert refs(db, "投诉' OR 1=1 --") == []


def test_a_title_match_ranks_first_and_scores_fall(db):
    with db.command() as session:
        put(session, "body", title="月度报表", text=long_text(3)[:300] + "投诉" + long_text(4)[:300])
        put(session, "title", title="投诉处理办法", text=long_text(5)[:300] + "投诉" + long_text(6)[:300])
        put(session, "other", title="月度报表", text=long_text(7)[:600])
    with db.query() as session:
        hits = service.search(session, "投诉", readable=true())
    assert [h.ref for h in hits] == ["title", "body"]
    assert hits[0].score > hits[1].score


def test_a_shorter_text_with_the_word_ranks_above_a_long_one(db):
    with db.command() as session:
        put(session, "long", text=long_text(8) + "客户投诉")
        put(session, "short", text="客户投诉" + long_text(9)[:200])
        put(session, "none", text=long_text(10))
    assert refs(db, "投诉") == ["short", "long"]


def test_beyond_the_ranked_window_pages_continue_without_overlap(db, monkeypatch):
    from search import backends

    monkeypatch.setattr(backends, "RANK_WINDOW", 2)  # PostgreSQL ranks two candidates precisely
    with db.command() as session:
        put(session, "titled", title="投诉", text=long_text(20) + "投诉")
        for n in range(5):
            put(session, f"e{n}", text=long_text(21 + n)[:100 * (n + 1)] + "投诉")
    pages = [refs(db, "投诉", limit=2, offset=offset) for offset in (0, 2, 4)]
    assert pages[0][0] == "titled"
    assert sorted(sum(pages, [])) == ["e0", "e1", "e2", "e3", "e4", "titled"]
    assert pages[2][-1] == "e4"  # the longest text comes last


def test_hits_carry_an_html_safe_highlighted_snippet(db):
    with db.command() as session:
        put(session, "x", title="<script>alert(1)</script> 投诉", text='客户<img src=x onerror="a()">投诉 & Complaint',
            extra={"mime": "text/plain"}, folder_id=7)
    with db.query() as session:
        [hit] = service.search(session, "投诉 complaint", readable=true())
    assert hit.snippet == "客户&lt;img src=x onerror=&quot;a()&quot;&gt;<mark>投诉</mark> &amp; <mark>Complaint</mark>"
    assert hit.title_html == "&lt;script&gt;alert(1)&lt;/script&gt; <mark>投诉</mark>"
    assert (hit.kind, hit.title, hit.folder_id, hit.extra, hit.owner) == \
        ("document", "<script>alert(1)</script> 投诉", 7, {"mime": "text/plain"}, "anna")


def test_the_readable_condition_is_applied_before_ranking(db):
    with db.command() as session:
        put(session, "secret", title="投诉 投诉", text="投诉", owner="eve", scope="hr")
        put(session, "mine", text=long_text(11) + "投诉", owner="anna", scope="sales")
        put(session, "shared", text=long_text(12) + "投诉" + long_text(13), owner="ben", scope="sales")
    assert refs(db, "投诉")[0] == "secret"
    # One hit per page: a filter after ranking would leave the first page empty.
    assert refs(db, "投诉", readable=SearchEntry.owner == "anna", limit=1) == ["mine"]
    assert refs(db, "投诉", readable=lambda entry: entry.scope.in_(["sales"])) == ["mine", "shared"]
    assert refs(db, "投诉", readable=lambda entry: entry.scope == "sales", limit=1, offset=1) == ["shared"]
    mine = select(SearchEntry.id).where(SearchEntry.owner != "eve").scalar_subquery()
    assert "secret" not in refs(db, "投诉", readable=SearchEntry.id.in_(mine))


def test_a_readable_that_is_no_condition_is_refused(db):
    with db.query() as session, pytest.raises(TypeError):
        service.search(session, "投诉", readable=True)


def test_filters_by_kind_folder_owner_and_date(db):
    day = lambda d: datetime(2026, 3, d, 12, tzinfo=timezone.utc)  # noqa: E731
    with db.command() as session:
        put(session, "d1", kind="document", text="投诉", folder_id=1, owner="anna", updated_at=day(1))
        put(session, "d2", kind="document", text="投诉", folder_id=2, owner="ben", updated_at=day(2))
        put(session, "r1", kind="record", text="投诉", owner="anna", updated_at=day(3))
        put(session, "a1", kind="article", text="投诉", owner="ben", updated_at=day(4))
    ids = lambda **kw: sorted(refs(db, "投诉", **kw))  # noqa: E731
    assert ids(kinds=["document"]) == ["d1", "d2"]
    assert ids(kinds=["record", "article"]) == ["a1", "r1"]
    assert ids(kinds=[]) == []
    assert ids(folder_ids=[2]) == ["d2"]
    assert ids(folder_ids=[1, None]) == ["a1", "d1", "r1"]
    assert ids(owner="anna") == ["d1", "r1"]
    assert ids(date_from=date(2026, 3, 2), date_to=date(2026, 3, 3)) == ["d2", "r1"]
    assert ids(date_from=day(2), date_to=day(3)) == ["d2", "r1"]
    assert ids(date_to=datetime(2026, 3, 2, 11)) == ["d1"]  # naive means UTC
    assert ids(kinds=["document"], owner="ben", date_from=date(2026, 3, 2)) == ["d2"]


def test_indexing_again_replaces_the_entry(db):
    with db.command() as session:
        put(session, "x", title="旧标题", text="客户投诉")
    with db.command() as session:
        put(session, "x", title="新标题", text="合同审批", owner="ben", folder_id=3)
        put(session, "x", kind="record", text="客户投诉")  # another kind, another entry
    assert refs(db, "合同") == ["x"]
    assert refs(db, "投诉", kinds=["document"]) == []
    assert refs(db, "新标题") == ["x"]
    assert refs(db, "旧标题") == []  # 旧 is not a particle: it must stand next to 标题
    with db.query() as session:
        assert session.scalar(select(func.count()).select_from(SearchEntry)) == 2
        row = session.scalars(select(SearchEntry).where(SearchEntry.kind == "document")).one()
        assert (row.owner, row.folder_id, row.title) == ("ben", 3, "新标题")


def test_removing_an_entry_removes_it_from_the_index(db):
    with db.command() as session:
        put(session, "x", text="客户投诉")
        put(session, "y", text="客户投诉")
    with db.command() as session:
        assert service.remove_entry(session, "document", "x") is True
        assert service.remove_entry(session, "document", "x") is False
    assert refs(db, "投诉") == ["y"]


def test_rows_deleted_in_bulk_leave_nothing_behind_in_the_index(db):
    with db.command() as session:
        put(session, "old", text="客户投诉")
    with db.command() as session:
        session.execute(delete(SearchEntry))
    with db.command() as session:
        put(session, "new", text="合同审批")  # may reuse the deleted row's id
    assert refs(db, "投诉") == []
    assert refs(db, "合同") == ["new"]


@pytest.mark.parametrize("kw", [{"limit": 0}, {"limit": 101}, {"limit": "10"}, {"offset": -1},
                                {"offset": 10_001}, {"date_from": "2026-01-01"}])
def test_bad_paging_and_filters_are_refused(db, kw):
    with db.query() as session, pytest.raises(InvalidInput) as caught:
        service.search(session, "投诉", readable=true(), **kw)
    assert caught.value.details["field"] in kw


@pytest.mark.parametrize("query", ["", "  ", "？！", "投" * 201])
def test_bad_queries_are_refused(db, query):
    with db.query() as session, pytest.raises(InvalidQuery):
        service.search(session, query, readable=true())


@pytest.mark.parametrize("kw", [{"kind": "Bad Kind"}, {"kind": ""}, {"ref": ""}, {"ref": "x" * 201},
                                {"owner": ""}, {"scope": "s" * 201}])
def test_bad_entries_are_refused(db, kw):
    entry = {"kind": "document", "ref": "1", "title": "t", "text": "投诉", "owner": "anna", **kw}
    with db.command() as session, pytest.raises(InvalidInput) as caught:
        service.index_entry(session, **entry)
    assert caught.value.details["field"] == next(iter(kw))

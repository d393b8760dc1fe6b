"""The analyser and the query strings it leads to: no database needed."""
from __future__ import annotations

import pytest

from search.analyser import MAX_QUERY_CHARS, MAX_TERMS, Term, document_tokens, query_terms
from search.backends import fts5_query, tsquery
from search.errors import InvalidQuery
from search.highlight import highlight, snippet


def test_chinese_text_gives_bigrams_and_the_segmenters_long_words():
    tokens = document_tokens("中华人民共和国的客户投诉")
    assert {"中华", "华人", "人民", "共和", "共和国", "中华人民共和国", "客户", "户投", "投诉"} <= set(tokens)
    assert {"中", "的", "诉"} <= set(tokens)  # single characters too, for one-character searches


def test_latin_words_are_lower_cased_full_width_folded_and_accents_dropped():
    tokens = document_tokens("Hello ＷＯＲＬＤ １２３ Café naïve ABC-42")
    assert tokens == ["hello", "world", "123", "cafe", "naive", "abc", "42"]


def test_tokens_are_distinct_in_order_of_first_appearance():
    assert document_tokens("投诉 complaint 投诉 Complaint") == ["投诉", "投", "诉", "complaint"]


def test_other_scripts_keep_their_marks_and_kana_hangul_give_bigrams():
    assert "हिन्दी" in document_tokens("हिन्दी भाषा")
    assert {"サー", "ービ", "ビス", "투자", "자를"} <= set(document_tokens("サービス 투자를"))


def test_a_lone_character_must_touch_a_word_particles_are_left_out_and_short_words_join_up():
    assert [(t.text, t.alternatives) for t in query_terms("工单需响应")] == [
        ("工单", (("工单",),)), ("需", (("单需",), ("需响",))), ("响应", (("响应",),))]
    assert [t.text for t in query_terms("合同的审批")] == ["合同", "审批"]
    assert [t.text for t in query_terms("李四投诉")] == ["李四", "投诉"]
    assert [t.text for t in query_terms("客户投诉处理")] == ["客户", "投诉", "处理"]


def test_a_long_word_matches_whole_or_by_its_bigrams():
    [term] = query_terms("共和国")
    assert term.alternatives == (("共和国",), ("共和", "和国"))


def test_one_character_is_a_token_and_a_starred_word_a_prefix():
    assert query_terms("投") == [Term("投", (("投",),), cjk=True)]
    assert query_terms("CUST*")[0] == Term("cust", (("cust",),), prefix=True)
    assert query_terms("c*")[0].prefix is False


@pytest.mark.parametrize("query, reason", [
    ("", "empty"), ("   ", "empty"), ("!!! ？？ —", "empty"), ("x" * (MAX_QUERY_CHARS + 1), "too_long"),
    (" ".join(f"w{i}" for i in range(MAX_TERMS + 1)), "too_many_words"), ("a" * 65, "word_too_long"),
])
def test_unsearchable_queries_are_refused(query, reason):
    with pytest.raises(InvalidQuery) as caught:
        query_terms(query)
    assert caught.value.details["reason"] == reason


def test_query_strings_quote_every_token():
    terms = [Term('a"b', (('a"b',),)), Term("共和国", (("共和国",), ("共和", "和国"))), Term("x'y", (("x'y",),), True)]
    assert fts5_query(terms) == '"a""b" AND ("共和国" OR ("共和" AND "和国")) AND "x\'y"*'
    assert tsquery(terms) == "'a\"b' & ('共和国' | ('共和' & '和国')) & 'x''y':*"


def test_operators_typed_in_a_query_are_just_words():
    assert [t.text for t in query_terms('a OR b NEAR(c) -d "e" f:*')] == ["a", "or", "b", "near", "c", "d", "e", "f"]


def test_highlight_marks_words_and_escapes_the_rest():
    terms = query_terms("投诉 sla")
    assert highlight("<b>客户投诉</b> SLA & slam", terms) == \
        "&lt;b&gt;客户<mark>投诉</mark>&lt;/b&gt; <mark>SLA</mark> &amp; slam"


def test_highlight_finds_full_width_text_and_maps_back_to_it():
    assert highlight("编号ＲＭＡ１２３４号", query_terms("rma1234")) == "编号<mark>ＲＭＡ１２３４</mark>号"


def test_snippet_is_a_window_around_the_first_match():
    text = "开头" + "甲乙丙丁" * 100 + "客户投诉" + "戊己庚辛" * 100
    result = snippet(text, query_terms("投诉"), size=60)
    assert result.startswith("…") and result.endswith("…") and "<mark>投诉</mark>" in result
    assert len(result.replace("<mark>", "").replace("</mark>", "")) == 62


def test_highlight_maps_characters_that_normalise_to_several():
    assert highlight("每箱㎏数 kg", query_terms("kg")) == "每箱<mark>㎏</mark>数 <mark>kg</mark>"


def test_the_segmenter_writes_no_cache_to_temp_or_home(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    env = {**os.environ, "TMPDIR": str(locked), "HOME": str(locked), "XDG_CACHE_HOME": str(locked),
           "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "PYTHONDONTWRITEBYTECODE": "1"}
    script = "from search.analyser import document_tokens as t; print(' '.join(t('中华人民共和国的客户投诉')))"
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "共和国" in done.stdout.split() and "投诉" in done.stdout.split()
    assert list(locked.iterdir()) == []

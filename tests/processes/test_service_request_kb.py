"""Service request and knowledge base (服务请求与知识库): first line answers or escalates; solved cases become articles."""
from __future__ import annotations

import pytest

from forms import schema as forms
from instances import directory, returns, service

from .test_complaint_handling import (
    actor,
    check_forms,
    complete,
    completed_steps,
    forms_of,
    instance,
    items,
    open_item,
    record,
    record_changes,
    record_id,
    records_of,
    render_progress,
    setup_crm,
    start,
    waiting,
)

KEY = "service_request_kb"
ANSWER = {"resolution": "answered", "answer": "请先检查油位和油温，再更换主轴密封圈，步骤见附件。"}


@pytest.fixture
def crm(db):
    setup_crm(db, KEY)
    yield db
    directory.set_directory(None)


def ask(db, priority: str = "normal", who: str = "hu.yan") -> int:
    customer = record_id(db, "customer", name="华东机械有限公司")
    return start(db, KEY, who, {"customer": customer, "contact": record_id(db, "contact", name="陈建国"),
                                "channel": "phone", "priority": priority, "subject": "液压站漏油",
                                "description": "二号车间液压站底部持续滴油，每天约半升。"}, "request_form.json")


def claim(db, iid: int, element: str, who: str) -> None:
    with db.command() as session:
        service.claim_task(session=session, work_item_id=open_item(db, iid, element).id, actor=actor(db, who))


def request_of(db, iid: int) -> int:
    return instance(db, iid).data["service_request_id"]


def test_an_answer_from_an_existing_article_closes_the_request(crm):
    db = crm
    iid = ask(db)
    sr = request_of(db, iid)
    assert record(db, sr)["status"] == "open" and record(db, sr)["priority"] == "normal"
    item = open_item(db, iid, "first_line")
    assert (item.assignee, item.candidate_groups) == (None, ["dept:service"])
    claim(db, iid, "first_line", "ma.chao")
    article = record_id(db, "knowledge_article", title="液压系统漏油的排查步骤")
    complete(db, iid, "first_line", "ma.chao", {**ANSWER, "article": article})
    assert instance(db, iid).status == "completed" and waiting(db, iid) == []
    data = record(db, sr)
    assert (data["status"], data["answer"], data["article"]) == ("closed", ANSWER["answer"], article)
    assert [c["status"][1] for c in record_changes(db, sr) if "status" in c] == ["open", "answered", "closed"]
    assert len(records_of(db, "knowledge_article")) == 1  # nothing new to write up
    assert completed_steps(db, iid) == [("first_line", "ma.chao")]


def test_a_new_answer_is_written_up_as_a_knowledge_article(crm):
    db = crm
    iid = ask(db)
    sr = request_of(db, iid)
    complete(db, iid, "first_line", "hu.yan", ANSWER)
    assert record(db, sr)["status"] == "answered" and "article" not in record(db, sr)
    item = open_item(db, iid, "write_up")
    assert item.candidate_groups == ["dept:service"]  # the first line solved it, so it writes it up
    complete(db, iid, "write_up", "hu.yan", {
        "write_article": "write", "article_title": "液压站底部滴油：主轴密封圈老化", "article_category": "售后维修",
        "article_keywords": "液压站 滴油 密封圈", "article_public": True,
        "article_body": "<p>现象：液压站底部滴油。</p><p>处理：更换主轴密封圈。</p><script>alert(1)</script>"})
    assert instance(db, iid).status == "completed"
    [_old, new] = records_of(db, "knowledge_article")
    assert (new.data["title"], new.data["status"], new.data["public"], new.data["keywords"]) == (
        "液压站底部滴油：主轴密封圈老化", "published", True, "液压站 滴油 密封圈")
    assert "<script>" not in new.data["body"] and "更换主轴密封圈" in new.data["body"]
    data = record(db, sr)
    assert (data["status"], data["article"]) == ("closed", new.id)


def test_an_escalated_request_is_answered_by_the_second_line(crm):
    db = crm
    iid = ask(db, "urgent")
    sr = request_of(db, iid)
    complete(db, iid, "first_line", "ma.chao", {"resolution": "escalate",
                                                "escalate_reason": "更换密封圈后仍然漏油，怀疑油泵壳体裂纹"})
    assert record(db, sr)["status"] == "escalated"
    item = open_item(db, iid, "second_line")
    assert item.candidate_groups == ["dept:tech"] and item.priority == 90
    claim(db, iid, "second_line", "gao.yu")
    complete(db, iid, "second_line", "gao.yu", {"root_cause": "油泵壳体铸造砂眼",
                                                "answer": "已安排更换油泵总成，明天上门。"})
    data = record(db, sr)
    assert (data["status"], data["answer"]) == ("answered", "已安排更换油泵总成，明天上门。")
    assert open_item(db, iid, "write_up").candidate_groups == ["dept:tech"]
    complete(db, iid, "write_up", "gao.yu", {"write_article": "skip"})
    assert instance(db, iid).status == "completed" and record(db, sr)["status"] == "closed"
    assert len(records_of(db, "knowledge_article")) == 1
    assert [c["status"][1] for c in record_changes(db, sr) if "status" in c] == [
        "open", "escalated", "answered", "closed"]
    assert [e for e, _a in completed_steps(db, iid)] == ["first_line", "second_line", "write_up"]


def test_the_second_line_can_send_a_request_back_to_the_first_line(crm):
    db = crm
    iid = ask(db, "high")
    complete(db, iid, "first_line", "ma.chao", {"resolution": "escalate", "escalate_reason": "不清楚设备型号"})
    claim(db, iid, "second_line", "gao.yu")
    with db.command() as session:
        returns.return_task(session=session, work_item_id=open_item(db, iid, "second_line").id,
                            actor=actor(db, "gao.yu"), to="previous", comment="请先向客户确认设备型号和序列号")
    assert waiting(db, iid) == [("first_line", None)]
    complete(db, iid, "first_line", "ma.chao", ANSWER)
    complete(db, iid, "write_up", "ma.chao", {"write_article": "skip"})
    assert instance(db, iid).status == "completed"
    assert [(i.element_id, i.status) for i in items(db, iid)][:3] == [
        ("first_line", "completed"), ("second_line", "returned"), ("first_line", "completed")]


@pytest.mark.parametrize("priority, hours, rank", [("urgent", 2, 90), ("high", 4, 70), ("normal", 8, 50),
                                                   ("low", 16, 30)])
def test_the_priority_sets_the_response_time_and_the_inbox_order(crm, priority, hours, rank):
    db = crm
    iid = ask(db, priority)
    item = open_item(db, iid, "first_line")
    assert item.priority == rank
    # A group task counts working time in the initiator's calendar (hu.yan, service).
    assert item.due_at == directory.get_directory().working_due("hu.yan", item.created_at, f"PT{hours}H")
    assert instance(db, iid).data["first_line_hours"] == hours


def test_every_form_validates_a_realistic_example_and_the_diagram_renders(crm):
    db = crm
    check_forms(KEY, {
        "request_form.json": {"customer": 1, "channel": "portal", "priority": "high", "subject": "无法登录门户",
                              "description": "重置密码后仍提示账号锁定", "files": [4]},
        "first_line_form.json": {**ANSWER, "article": 2},
        "second_line_form.json": {"root_cause": "账号被风控锁定", "answer": "已解锁并加白名单"},
        "article_form.json": {"write_article": "write", "article_title": "门户账号锁定的处理",
                              "article_body": "<p>联系二线解锁</p>", "article_public": False},
    })
    loaded = forms_of(KEY)
    for name, bad, field in (("first_line_form.json", {"resolution": "answered"}, "answer"),
                             ("first_line_form.json", {"resolution": "escalate"}, "escalate_reason"),
                             ("article_form.json", {"write_article": "write", "article_body": "x"}, "article_title")):
        with pytest.raises(forms.FormError) as refused:
            forms.validate(loaded[name], bad)
        assert field in refused.value.errors
    forms.validate(loaded["article_form.json"], {"write_article": "skip"})
    iid = ask(db)
    complete(db, iid, "first_line", "ma.chao", {"resolution": "escalate", "escalate_reason": "需要二线排查"})
    svg = render_progress(db, iid)
    assert "<svg" in svg[:300] and "二线答复" in svg

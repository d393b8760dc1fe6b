"""Outgoing document (发文): every route of bpmn/outgoing_document through the service layer."""
from __future__ import annotations

from datetime import timedelta

import pytest

from database.base import utcnow
from diagrams.render import render_definition
from forms.schema import FormError
from instances import directory, verbs
from instances.errors import Conflict

from .common import (
    act,
    actor,
    approve,
    bundle,
    data_of,
    deploy,
    done,
    form,
    history,
    items,
    open_item,
    progress_svg,
    realistic,
    reject,
    resubmit,
    send_back,
    start,
    status,
    waiting,
)

KEY = "outgoing_document"
OFFICE = ("admin", "song.jia", "zhang.wei")
SALES = ["emma.chen", "li.na", "liu.yang", "wang.fang"]
HR = ["wu.qiang", "zhou.min"]


@pytest.fixture
def flow(db):
    deploy(db, KEY)
    yield db
    directory.set_directory(None)


def draft(**extra) -> dict:
    return {"title": "关于2027年元旦放假安排的通知 / Notice on the 2027 New Year holiday",
            "document_type": "notice", "urgency": "normal", "security_level": "internal",
            "main_recipients": ["sales", "hr"], "copy_recipients": ["finance"], "needs_countersign": "no",
            "body": "<p>各部门：</p><p>根据国务院办公厅通知，2027年1月1日至3日放假，共3天。</p>", **extra}


NUMBER = {"document_number": "飞达发〔2026〕12号", "published_on": "2026-12-20"}
ARCHIVE = {"archive_no": "WS-2026-012", "retention": "30y", "archived_on": "2026-12-21", "location": "档案室A-3"}


def publish(db, iid: int, who: str = "song.jia") -> str:
    act(db, iid, "numbering", who, NUMBER)
    return act(db, iid, "archive", who, ARCHIVE)


def copied_to(db, iid: int) -> list[str]:
    return sorted(name for event in history(db, iid, "copied") for name in event.details["to"])


def test_a_document_without_countersign_is_reviewed_signed_numbered_copied_and_archived(flow):
    db = flow
    iid = start(db, KEY, "song.jia", draft())
    assert waiting(db, iid) == [("department_review", "zhang.wei")]
    approve(db, iid, "department_review", "zhang.wei", "内容无误")
    assert waiting(db, iid) == [("leader_signoff", "zhang.wei")]
    approve(db, iid, "leader_signoff", "zhang.wei", "同意印发")
    assert waiting(db, iid) == [("numbering", OFFICE)]
    act(db, iid, "numbering", "song.jia", NUMBER)
    assert copied_to(db, iid) == sorted(SALES + HR)
    assert {e.details["note"] for e in history(db, iid, "copied")} == {"飞达发〔2026〕12号 " + draft()["title"]}
    assert waiting(db, iid) == [("archive", OFFICE)]
    assert act(db, iid, "archive", "song.jia", ARCHIVE) == "completed"
    assert [d[:2] for d in done(db, iid)] == [("department_review", "zhang.wei"), ("leader_signoff", "zhang.wei"),
                                              ("numbering", "song.jia"), ("archive", "song.jia")]
    assert data_of(db, iid)["document_number"] == "飞达发〔2026〕12号"
    assert history(db, iid, "instance_completed")


def test_the_departments_concerned_countersign_each_by_its_leader(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", draft(title="关于调整客户回款考核办法的通知", needs_countersign="yes",
                                          countersign_departments=["finance", "hr", "service"]))
    assert waiting(db, iid) == [("department_review", "li.na")]
    approve(db, iid, "department_review", "li.na")
    assert waiting(db, iid) == [("countersign", "xu.hui"), ("countersign", "zhao.lei"), ("countersign", "zhou.min")]
    approve(db, iid, "countersign", "zhao.lei", "财务部无意见")
    approve(db, iid, "countersign", "zhou.min", "同意")
    assert waiting(db, iid) == [("countersign", "xu.hui")]  # all: every department must agree
    approve(db, iid, "countersign", "xu.hui", "同意")
    assert data_of(db, iid)["countersign_result"]["outcome"] == "approved"
    assert waiting(db, iid) == [("leader_signoff", "zhang.wei")]
    approve(db, iid, "leader_signoff", "zhang.wei")
    assert publish(db, iid) == "completed"


def test_one_department_objecting_vetoes_the_countersign(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", draft(needs_countersign="yes", countersign_departments=["finance", "hr"]))
    approve(db, iid, "department_review", "li.na")
    assert reject(db, iid, "countersign", "zhao.lei", "与现行财务制度冲突") == "rejected"
    assert waiting(db, iid) == []
    assert [(i.element_id, i.assignee) for i in items(db, iid) if i.status == "cancelled"] == [
        ("countersign", "zhou.min")]
    assert history(db, iid, "instance_rejected")
    assert "leader_signoff" not in [i.element_id for i in items(db, iid)]


@pytest.mark.parametrize("step, who, earlier", [
    ("department_review", "li.na", []),
    ("leader_signoff", "zhang.wei", [("department_review", "li.na")]),
])
def test_a_rejection_ends_the_document(flow, step, who, earlier):
    db = flow
    iid = start(db, KEY, "wang.fang", draft())
    for element, person in earlier:
        approve(db, iid, element, person)
    assert reject(db, iid, step, who, "暂不发文") == "rejected"
    assert status(db, iid) == "rejected" and waiting(db, iid) == []
    assert "numbering" not in [i.element_id for i in items(db, iid)]


@pytest.mark.parametrize("step, who, earlier", [
    ("department_review", "li.na", []),
    ("countersign", "zhou.min", [("department_review", "li.na")]),
    ("leader_signoff", "zhang.wei", [("department_review", "li.na"), ("countersign", "zhou.min"),
                                     ("countersign", "zhao.lei")]),
    ("numbering", "song.jia", [("department_review", "li.na"), ("countersign", "zhou.min"),
                               ("countersign", "zhao.lei"), ("leader_signoff", "zhang.wei")]),
])
def test_each_step_returns_the_draft_and_the_resubmission_runs_the_route_again(flow, step, who, earlier):
    db = flow
    iid = start(db, KEY, "wang.fang", draft(needs_countersign="yes", countersign_departments=["finance", "hr"]))
    for element, person in earlier:
        approve(db, iid, element, person)
    send_back(db, iid, step, who, "initiator", "请按公文格式修改正文")
    assert [(i.kind, i.assignee) for i in items(db, iid) if i.status == "open"] == [("resubmit", "wang.fang")]
    assert history(db, iid, "task_returned")
    resubmit(db, iid, "wang.fang", draft(title="关于2027年元旦放假安排的通知（修订）", needs_countersign="yes",
                                         countersign_departments=["finance"]))
    assert waiting(db, iid) == [("department_review", "li.na")]  # rerun: every step again
    approve(db, iid, "department_review", "li.na")
    assert waiting(db, iid) == [("countersign", "zhao.lei")]
    approve(db, iid, "countersign", "zhao.lei")
    approve(db, iid, "leader_signoff", "zhang.wei")
    assert publish(db, iid, "admin") == "completed"
    assert data_of(db, iid)["title"].endswith("（修订）")


def test_the_signoff_may_return_to_the_department_review(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", draft())
    approve(db, iid, "department_review", "li.na")
    send_back(db, iid, "leader_signoff", "zhang.wei", "department_review", "请部门再核对放假日期")
    assert waiting(db, iid) == [("department_review", "li.na")]
    approve(db, iid, "department_review", "li.na")
    assert waiting(db, iid) == [("leader_signoff", "zhang.wei")]


def test_the_drafter_urges_every_step(flow):
    db = flow
    now = utcnow()
    iid = start(db, KEY, "wang.fang", draft(needs_countersign="yes", countersign_departments=["hr"]))
    steps = [("department_review", "li.na"), ("countersign", "zhou.min"), ("leader_signoff", "zhang.wei"),
             ("numbering", "song.jia"), ("archive", "song.jia")]
    for n, (element, who) in enumerate(steps):
        item = open_item(db, iid, element, who)
        with db.command() as session:
            verbs.urge_task(session=session, work_item_id=item.id, actor=actor(db, "wang.fang"), comment="请尽快处理",
                            now=now + timedelta(hours=n))
        if element == "numbering":
            act(db, iid, element, who, NUMBER)
        elif element != "archive":
            approve(db, iid, element, who)
    with pytest.raises(Conflict):  # once an hour
        item = open_item(db, iid, "archive", "song.jia")
        with db.command() as session:
            verbs.urge_task(session=session, work_item_id=item.id, actor=actor(db, "wang.fang"), comment=None,
                            now=now + timedelta(hours=4, minutes=30))
    urged = history(db, iid, "task_urged")
    assert [(e.element_id, e.actor) for e in urged] == [(element, "wang.fang") for element, _ in steps]
    assert urged[0].details["to"] == ["li.na"]


def test_the_forms_accept_realistic_examples_and_refuse_bad_ones(flow):
    checked = realistic(form(KEY, "outgoing_document_form.json"),
                        draft(body="<p>各部门：</p><script>alert(1)</script><p>请遵照执行。</p>"))
    assert "<script>" not in checked["body"]
    realistic(form(KEY, "review_form.json"), {"decision": "approve", "comment": "同意"})
    realistic(form(KEY, "numbering_form.json"), NUMBER)
    realistic(form(KEY, "numbering_form.json"), {"document_number": "飞达人〔2027〕3号", "published_on": "2027-01-05"})
    realistic(form(KEY, "archive_form.json"), ARCHIVE)
    with pytest.raises(FormError) as refused:
        realistic(form(KEY, "outgoing_document_form.json"), {
            "title": "x", "document_type": "memo", "urgency": "normal", "security_level": "top",
            "main_recipients": [], "needs_countersign": "yes", "body": "<p>正文内容很长很长</p>"})
    assert {"title", "document_type", "security_level", "main_recipients",
            "countersign_departments"} <= set(refused.value.errors)
    for number in ("2026-12", "飞达发[2026]12号", "飞达发〔2026〕012号", "〔2026〕12号"):
        with pytest.raises(FormError) as refused:
            realistic(form(KEY, "numbering_form.json"), {"document_number": number, "published_on": "2026-12-20"})
        assert "document_number" in refused.value.errors


def test_the_progress_diagram_renders(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", draft(needs_countersign="yes", countersign_departments=["finance", "hr"]))
    approve(db, iid, "department_review", "li.na")
    svg, progress = progress_svg(db, iid)
    assert "<svg" in svg[:300] and "相关部门会签" in svg
    assert progress["elements"]["countersign"]["state"] == "active"
    assert "<svg" in render_definition(bundle(KEY), KEY, lang="en")

"""Incoming document (收文): every route of bpmn/incoming_document through the service layer."""
from __future__ import annotations

from datetime import timedelta

import pytest

from database.base import utcnow
from diagrams.render import render_definition
from forms.schema import FormError
from instances import directory, verbs

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

KEY = "incoming_document"


@pytest.fixture
def flow(db):
    deploy(db, KEY)
    yield db
    directory.set_directory(None)


def received(**extra) -> dict:
    return {"title": "关于开展2026年度社会保险缴费基数申报工作的通知", "sender": "北京市人力资源和社会保障局",
            "received_number": "京人社发〔2026〕35号", "document_date": "2026-11-20", "received_on": "2026-11-25",
            "urgency": "urgent", "security_level": "public", "copies": 1,
            "summary": "各用人单位须于12月15日前完成2026年度社保缴费基数申报，并报送工资总额明细。", **extra}


def distribute(db, iid: int, *departments: str, handle_by: str = "2026-12-10") -> str:
    return act(db, iid, "distribution", "zhang.wei", {
        "distribution": "handle", "handling_departments": list(departments), "handle_by": handle_by,
        "instructions": "请人力资源部牵头、财务部配合，按时申报。"})


def handle(db, iid: int, who: str, decision: str = "approve", opinion: str = "已按要求办理完毕") -> str:
    return act(db, iid, "handling", who, {"decision": decision, "handling_opinion": opinion,
                                          "handled_on": "2026-12-08"})


def dispose(db, iid: int, disposal: str = "archive") -> str:
    data = ({"disposal": "archive", "archive_no": "SW-2026-118", "retention": "10y"} if disposal == "archive"
            else {"disposal": "destroy", "destruction_reason": "重复来文，原件已归档"})
    return act(db, iid, "disposition", "song.jia", data)


def test_handled_by_every_department_then_archived(flow):
    db = flow
    iid = start(db, KEY, "song.jia", received())
    assert waiting(db, iid) == [("distribution", "zhang.wei")]
    distribute(db, iid, "hr", "finance")
    assert waiting(db, iid) == [("handling", "zhao.lei"), ("handling", "zhou.min")]
    handle(db, iid, "zhou.min", opinion="已完成申报，回执见附件")
    assert waiting(db, iid) == [("handling", "zhao.lei")]  # all: every department handles
    handle(db, iid, "zhao.lei", opinion="工资总额明细已报送")
    assert data_of(db, iid)["handling_result"]["outcome"] == "approved"
    assert waiting(db, iid) == [("disposition", "song.jia")]
    assert dispose(db, iid) == "completed"
    assert [d[:2] for d in done(db, iid)] == [("distribution", "zhang.wei"), ("handling", "zhou.min"),
                                              ("handling", "zhao.lei"), ("disposition", "song.jia")]
    assert history(db, iid, "instance_completed")


def test_the_handling_deadline_is_the_date_the_leader_set(flow):
    db = flow
    iid = start(db, KEY, "song.jia", received())
    distribute(db, iid, "hr", handle_by="2026-12-10")
    [item] = [i for i in items(db, iid) if i.status == "open"]
    assert item.due_at is not None and item.due_at.date().isoformat() in ("2026-12-09", "2026-12-10")


def test_a_document_for_information_goes_straight_to_the_registrar(flow):
    db = flow
    iid = start(db, KEY, "song.jia", received(urgency="normal"))
    act(db, iid, "distribution", "zhang.wei", {"distribution": "information", "instructions": "阅知，存档备查"})
    assert waiting(db, iid) == [("disposition", "song.jia")]
    assert "handling" not in [i.element_id for i in items(db, iid)]
    assert dispose(db, iid) == "completed"


def test_a_department_that_declines_sends_it_back_for_distribution(flow):
    db = flow
    iid = start(db, KEY, "song.jia", received())
    distribute(db, iid, "hr", "marketing")
    handle(db, iid, "guo.tao", "reject", "非市场部职责")
    assert [(i.element_id, i.assignee) for i in items(db, iid) if i.status == "cancelled"] == [
        ("handling", "zhou.min")]
    assert waiting(db, iid) == [("distribution", "zhang.wei")]
    distribute(db, iid, "hr")
    assert waiting(db, iid) == [("handling", "zhou.min")]
    handle(db, iid, "zhou.min")
    assert waiting(db, iid) == [("disposition", "song.jia")]
    assert status(db, iid) == "running"


def test_destruction_needs_the_office_leader(flow):
    db = flow
    iid = start(db, KEY, "song.jia", received(title="2027年办公用品采购目录征订函", sender="某办公用品公司",
                                             received_number="函〔2026〕8号", urgency="normal"))
    act(db, iid, "distribution", "zhang.wei", {"distribution": "information", "instructions": "商业推广，无需办理"})
    dispose(db, iid, "destroy")
    assert waiting(db, iid) == [("destruction_approval", "zhang.wei")]
    assert approve(db, iid, "destruction_approval", "zhang.wei", "同意销毁") == "completed"
    assert data_of(db, iid)["disposal"] == "destroy"
    assert status(db, iid) == "completed" and history(db, iid, "instance_completed")
    assert [d[0] for d in done(db, iid)] == ["distribution", "disposition", "destruction_approval"]


def test_a_refused_destruction_goes_back_to_the_registrar_who_archives_it(flow):
    db = flow
    iid = start(db, KEY, "song.jia", received())
    act(db, iid, "distribution", "zhang.wei", {"distribution": "information", "instructions": "阅知"})
    dispose(db, iid, "destroy")
    reject(db, iid, "destruction_approval", "zhang.wei", "政府来文须归档保存")
    assert waiting(db, iid) == [("disposition", "song.jia")]
    assert dispose(db, iid, "archive") == "completed"
    assert [d[0] for d in done(db, iid)] == ["distribution", "disposition", "destruction_approval", "disposition"]


def test_the_leader_returns_the_registration_and_the_registrar_resubmits(flow):
    db = flow
    iid = start(db, KEY, "song.jia", received(received_number="京人社发〔2026〕3号"))
    send_back(db, iid, "distribution", "zhang.wei", "initiator", "来文字号登记有误，请核对")
    assert [(i.kind, i.assignee) for i in items(db, iid) if i.status == "open"] == [("resubmit", "song.jia")]
    resubmit(db, iid, "song.jia", received())
    assert data_of(db, iid)["received_number"] == "京人社发〔2026〕35号"
    assert waiting(db, iid) == [("distribution", "zhang.wei")]


def test_a_department_returns_to_the_distribution(flow):
    db = flow
    iid = start(db, KEY, "song.jia", received())
    distribute(db, iid, "hr", "finance")
    send_back(db, iid, "handling", "zhou.min", "distribution", "请明确牵头部门")
    assert waiting(db, iid) == [("distribution", "zhang.wei")]  # the other department's task is withdrawn
    distribute(db, iid, "hr")
    assert waiting(db, iid) == [("handling", "zhou.min")]


def test_the_registrar_urges_the_leader_and_the_departments(flow):
    db = flow
    now = utcnow()
    iid = start(db, KEY, "song.jia", received())
    for n, (element, who) in enumerate([("distribution", "zhang.wei")]):
        item = open_item(db, iid, element, who)
        with db.command() as session:
            verbs.urge_task(session=session, work_item_id=item.id, actor=actor(db, "song.jia"), comment="特急件",
                            now=now + timedelta(hours=n))
    distribute(db, iid, "hr", "finance")
    for who in ("zhou.min", "zhao.lei"):
        item = open_item(db, iid, "handling", who)
        with db.command() as session:
            verbs.urge_task(session=session, work_item_id=item.id, actor=actor(db, "song.jia"), comment=None, now=now)
    assert [(e.element_id, e.details["to"]) for e in history(db, iid, "task_urged")] == [
        ("distribution", ["zhang.wei"]), ("handling", ["zhou.min"]), ("handling", ["zhao.lei"])]


def test_the_forms_accept_realistic_examples_and_refuse_bad_ones(flow):
    realistic(form(KEY, "incoming_document_form.json"), received())
    realistic(form(KEY, "distribution_form.json"), {"distribution": "handle", "handling_departments": ["hr"],
                                                    "handle_by": "2026-12-10", "instructions": "请办理"})
    realistic(form(KEY, "distribution_form.json"), {"distribution": "information", "instructions": "阅知"})
    realistic(form(KEY, "handling_form.json"), {"decision": "approve", "handling_opinion": "已办结"})
    realistic(form(KEY, "disposition_form.json"), {"disposal": "archive", "archive_no": "SW-1", "retention": "30y"})
    realistic(form(KEY, "disposition_form.json"), {"disposal": "destroy", "destruction_reason": "重复来文"})
    realistic(form(KEY, "approval_form.json"), {"decision": "approve"})
    with pytest.raises(FormError) as refused:
        realistic(form(KEY, "incoming_document_form.json"), received(sender="", urgency="asap", copies=0,
                                                                     received_on="25/11/2026"))
    assert {"sender", "urgency", "copies", "received_on"} <= set(refused.value.errors)
    with pytest.raises(FormError) as refused:
        realistic(form(KEY, "distribution_form.json"), {"distribution": "handle", "handling_departments": [],
                                                        "instructions": "办"})
    assert {"handling_departments", "handle_by", "instructions"} <= set(refused.value.errors)
    with pytest.raises(FormError) as refused:
        realistic(form(KEY, "disposition_form.json"), {"disposal": "destroy"})
    assert set(refused.value.errors) == {"destruction_reason"}


def test_the_progress_diagram_renders(flow):
    db = flow
    iid = start(db, KEY, "song.jia", received())
    distribute(db, iid, "hr", "finance")
    svg, progress = progress_svg(db, iid)
    assert "<svg" in svg[:300] and "部门办理" in svg
    assert progress["elements"]["handling"]["state"] == "active"
    assert "<svg" in render_definition(bundle(KEY), KEY, lang="en")

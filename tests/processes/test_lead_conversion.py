"""Lead follow-up and conversion (线索跟进与转化): attempts logged on the lead, qualify or disqualify, convert."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from forms import schema as forms
from instances import directory
from instances.actors import Actor
from records import service as records

from .test_complaint_handling import (
    check_forms,
    complete,
    completed_steps,
    forms_of,
    history,
    instance,
    open_item,
    record,
    record_changes,
    record_processes,
    records_of,
    render_progress,
    setup_crm,
    start,
    waiting,
)

KEY = "lead_conversion"


@pytest.fixture
def crm(db):
    setup_crm(db, KEY)
    yield db
    directory.set_directory(None)


def new_lead(db, owner: str = "wang.fang", **extra) -> int:
    with db.command() as session:
        return records.create_record(session=session, type_key="lead", actor=Actor(owner), data={
            "company": "苏州精工模具有限公司", "contact_name": "周凯", "phone": "0512-66880001",
            "source": "exhibition", "status": "new", "estimated_amount": "120000.00",
            "notes": "上海工博会展台留资，对五轴加工中心感兴趣", **extra}).id


def take_on(db, lead: int, who: str = "wang.fang") -> int:
    return start(db, KEY, who, {"lead": lead, "plan": "先电话了解需求，再安排上门演示"}, "lead_form.json")


def attempt(outcome: str, **extra) -> dict:
    base = {"attempt_kind": "call", "attempt_at": "2026-11-30T10:00",
            "attempt_summary": "电话沟通了采购计划和预算", "outcome": outcome}
    if outcome == "continue":
        base["next_contact_on"] = "2026-12-03"
    return {**base, **extra}


QUALIFIED = attempt("qualified", attempt_kind="visit", attempt_summary="上门演示后客户确认明年一季度采购两台",
                    customer_name="苏州精工模具有限公司", industry="manufacturing", level="b", region="苏州",
                    phone="0512-66880001", email="info@sz-jinggong.example", contact_name="周凯",
                    contact_title="设备部经理", contact_mobile="13912345678", contact_email="zhou.kai@sz-jinggong.example")


def test_follow_ups_then_a_confirmed_conversion_create_the_customer_and_contact(crm):
    db = crm
    lead = new_lead(db)
    iid = take_on(db, lead)
    assert waiting(db, iid) == [("follow_up", "wang.fang")]
    complete(db, iid, "follow_up", "wang.fang", attempt("continue"))
    assert record(db, lead)["status"] == "contacted"
    # The next attempt is due on the date the salesperson set, at the end of that working day.
    assert open_item(db, iid, "follow_up").due_at == datetime.fromisoformat("2026-12-03T18:00:00+08:00")
    complete(db, iid, "follow_up", "wang.fang", attempt("continue", attempt_kind="email",
                                                      next_contact_on="2026-12-08"))
    complete(db, iid, "follow_up", "wang.fang", QUALIFIED)
    assert record(db, lead)["status"] == "qualified"
    assert waiting(db, iid) == [("review", "li.na")]  # the sales department's leader confirms
    complete(db, iid, "review", "li.na", {}, decision="approve")
    assert instance(db, iid).status == "completed" and waiting(db, iid) == []

    [customer] = [c for c in records_of(db, "customer") if c.data["name"] == "苏州精工模具有限公司"]
    assert customer.owner == "wang.fang"
    assert {k: customer.data[k] for k in ("industry", "level", "status", "region", "account_manager", "email")} == {
        "industry": "manufacturing", "level": "b", "status": "prospect", "region": "苏州",
        "account_manager": "wang.fang", "email": "info@sz-jinggong.example"}
    [contact] = records_of(db, "contact")[-1:]
    assert (contact.data["name"], contact.data["customer"], contact.data["primary"], contact.data["mobile"]) == (
        "周凯", customer.id, True, "13912345678")
    data = record(db, lead)
    assert (data["status"], data["converted_customer"]) == ("converted", customer.id)
    # The lead keeps what it had, and its history: every status on the way and every attempt as an activity.
    assert data["notes"] == "上海工博会展台留资，对五轴加工中心感兴趣" and data["estimated_amount"] == "120000.00"
    assert [c["status"][1] for c in record_changes(db, lead) if "status" in c] == [
        "new", "contacted", "qualified", "converted"]  # a second "contacted" changes nothing
    activities = [a.data for a in records_of(db, "activity")]
    assert [a["subject"] for a in activities] == [
        "Lead follow-up / 线索跟进 #1", "Lead follow-up / 线索跟进 #2", "Lead follow-up / 线索跟进 #3",
        "Lead converted to a customer / 线索转为客户: 苏州精工模具有限公司"]
    assert all(a["lead"] == lead for a in activities)
    assert [a["kind"] for a in activities] == ["call", "email", "visit", "visit"]
    assert activities[0]["next_step"] == "Follow up again / 继续跟进 2026-12-03"
    assert (activities[-1]["customer"], activities[-1]["contact"]) == (customer.id, contact.id)
    assert (iid, "linked") in record_processes(db, lead) and (iid, "updated") not in record_processes(db, lead)
    assert (iid, "created") in record_processes(db, customer.id)
    assert completed_steps(db, iid) == [("follow_up", "wang.fang")] * 3 + [("review", "li.na")]


def test_a_conversion_sent_back_is_followed_up_again(crm):
    db = crm
    lead = new_lead(db)
    iid = take_on(db, lead)
    complete(db, iid, "follow_up", "wang.fang", QUALIFIED)
    customers = len(records_of(db, "customer"))
    complete(db, iid, "review", "li.na", {"review_comment": "先确认预算审批人再转化"}, decision="reject")
    assert record(db, lead)["status"] == "contacted"
    assert waiting(db, iid) == [("follow_up", "wang.fang")]
    assert len(records_of(db, "customer")) == customers  # nothing converted yet
    complete(db, iid, "follow_up", "wang.fang", {**QUALIFIED, "attempt_summary": "确认了预算审批人是总经理"})
    complete(db, iid, "review", "li.na", {}, decision="approve")
    assert record(db, lead)["status"] == "converted" and len(records_of(db, "customer")) == customers + 1
    assert [e for e, _a in completed_steps(db, iid)] == ["follow_up", "review", "follow_up", "review"]


def test_a_disqualified_lead_ends_without_a_customer(crm):
    db = crm
    lead = new_lead(db)
    iid = take_on(db, lead)
    customers = len(records_of(db, "customer"))
    complete(db, iid, "follow_up", "wang.fang", attempt("disqualified", disqualify_reason="competitor",
                                                      attempt_summary="客户已与竞争对手签约"))
    assert instance(db, iid).status == "completed" and waiting(db, iid) == []
    data = record(db, lead)
    assert data["status"] == "disqualified" and "converted_customer" not in data
    [activity] = [a.data for a in records_of(db, "activity")]
    assert activity["next_step"] == "Disqualified / 无效: competitor" and activity["lead"] == lead
    assert len(records_of(db, "customer")) == customers
    assert ("instance_completed", None, "wang.fang") in [(t, e, a) for t, e, a in history(db, iid)]


def test_a_directors_conversion_is_confirmed_by_the_general_manager(crm):
    db = crm
    iid = take_on(db, new_lead(db, owner="li.na"), who="li.na")
    complete(db, iid, "follow_up", "li.na", QUALIFIED)
    assert waiting(db, iid) == [("review", "zhang.wei")]


def test_a_follow_up_without_a_date_is_due_in_two_working_days(crm):
    db = crm
    iid = take_on(db, new_lead(db))
    item = open_item(db, iid, "follow_up")
    assert timedelta(days=2) <= item.due_at - item.created_at <= timedelta(days=5)


def test_every_form_validates_a_realistic_example_and_the_diagram_renders(crm):
    db = crm
    check_forms(KEY, {"lead_form.json": {"lead": 7, "plan": "电话 + 上门演示"},
                      "follow_up_form.json": QUALIFIED,
                      "review_form.json": {"decision": "reject", "review_comment": "先确认预算"}})
    follow_up = forms_of(KEY)["follow_up_form.json"]
    for bad, field in ((attempt("qualified"), "customer_name"), (attempt("disqualified"), "disqualify_reason"),
                       ({**attempt("continue"), "next_contact_on": None}, "next_contact_on"),
                       ({**QUALIFIED, "contact_mobile": "call me"}, "contact_mobile")):
        with pytest.raises(forms.FormError) as refused:
            forms.validate(follow_up, bad)
        assert field in refused.value.errors
    iid = take_on(db, new_lead(db))
    complete(db, iid, "follow_up", "wang.fang", QUALIFIED)
    svg = render_progress(db, iid)
    assert "<svg" in svg[:300] and "转化确认" in svg

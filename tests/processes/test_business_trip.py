"""Business trip (出差申请): every route of bpmn/business_trip through the service layer."""
from __future__ import annotations

from datetime import timedelta

import pytest

from database.base import utcnow
from diagrams.render import render_definition
from forms.schema import FormError
from instances import directory
from instances.errors import InvalidInput
from instances.overdue import run_overdue_actions

from .common import (
    act,
    approve,
    bundle,
    data_of,
    deploy,
    done,
    form,
    history,
    progress_svg,
    realistic,
    reject,
    resubmit,
    send_back,
    skipped,
    start,
    status,
    waiting,
)

KEY = "business_trip"
FINANCE = ("sun.li", "zhao.lei")
CHEN = {"username": "chen.jing", "display_name": "陈静", "department": "sales", "position": "staff",
        "superior": "liu.yang", "roles": ["employee"]}


@pytest.fixture
def flow(db):
    deploy(db, KEY, extra_users=(CHEN,))
    yield db
    directory.set_directory(None)


def trip(start_day: str = "2026-12-07", end_day: str = "2026-12-09", cost: str = "4600", **extra) -> dict:
    return {"trip_type": "domestic", "destination": "上海浦东 / Shanghai Pudong",
            "purpose": "拜访华东区重点客户，洽谈年度框架合同 / Visit key accounts in East China",
            "trip": {"start": start_day, "end": end_day}, "transport": ["train", "plane"],
            "customer": "上海宏远贸易有限公司", "estimated_cost": cost, "advance": "no", **extra}


def copied_to(db, iid: int) -> list[str]:
    return [name for e in history(db, iid, "copied") for name in e.details["to"]]


def test_a_short_trip_needs_only_the_superior_and_hr_is_copied(flow):
    db = flow
    iid = start(db, KEY, "chen.jing", trip())
    assert data_of(db, iid)["days"] == 3
    assert waiting(db, iid) == [("superior_approval", "liu.yang")]
    assert approve(db, iid, "superior_approval", "liu.yang") == "completed"
    assert sorted(copied_to(db, iid)) == ["wu.qiang", "zhou.min"]
    [event] = history(db, iid, "copied")
    assert event.element_id == "copy_hr" and "上海浦东" in event.details["note"]
    assert done(db, iid) == [("superior_approval", "liu.yang", "approved")]


@pytest.mark.parametrize("change", [
    {"trip": {"start": "2026-12-07", "end": "2026-12-14"}},  # 8 days
    {"estimated_cost": "10000.01"},
    {"trip_type": "international", "destination": "Singapore / 新加坡"},
])
def test_long_costly_or_foreign_trips_need_the_department_leader(flow, change):
    db = flow
    iid = start(db, KEY, "chen.jing", trip(**change))
    approve(db, iid, "superior_approval", "liu.yang")
    assert waiting(db, iid) == [("leader_approval", "li.na")]
    outcome = approve(db, iid, "leader_approval", "li.na")
    if change.get("trip_type") == "international":
        assert waiting(db, iid) == [("gm_approval", ("zhang.wei",))]
        outcome = approve(db, iid, "gm_approval", "zhang.wei")
    assert outcome == "completed"
    assert copied_to(db, iid)


def test_five_days_and_10000_exactly_stay_with_the_superior(flow):
    db = flow
    iid = start(db, KEY, "chen.jing", trip("2026-12-07", "2026-12-11", cost="10000"))
    assert data_of(db, iid)["days"] == 5
    assert approve(db, iid, "superior_approval", "liu.yang") == "completed"


def test_nobody_approves_twice(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", trip(trip_type="international", destination="Tokyo / 东京"))
    approve(db, iid, "superior_approval", "li.na")  # superior and department leader
    assert waiting(db, iid) == [("gm_approval", ("zhang.wei",))]
    assert skipped(db, iid) == [("leader_approval", "nobody_to_assign")]
    director = start(db, KEY, "li.na", trip(trip_type="international", destination="Tokyo / 东京"))
    assert approve(db, director, "superior_approval", "zhang.wei") == "completed"
    assert skipped(db, director) == [("leader_approval", "nobody_to_assign"), ("gm_approval", "nobody_to_assign")]


def test_an_advance_is_paid_by_the_cashier(flow):
    db = flow
    iid = start(db, KEY, "chen.jing", trip(advance="yes", advance_amount="3000"))
    approve(db, iid, "superior_approval", "liu.yang")
    assert waiting(db, iid) == [("advance_payment", FINANCE)]
    assert copied_to(db, iid)  # HR knows before the money is paid
    assert act(db, iid, "advance_payment", "sun.li", {
        "decision": "approve", "paid_date": "2026-12-04", "payment_method": "bank_transfer",
        "paid_amount": "3000", "payment_reference": "ICBC-20261204-118"}) == "completed"
    assert data_of(db, iid)["paid_amount"] == "3000.00"
    assert done(db, iid)[-1] == ("advance_payment", "sun.li", "approved")


def test_the_cashier_may_refuse_the_advance_without_cancelling_the_trip(flow):
    db = flow
    iid = start(db, KEY, "chen.jing", trip(advance="yes", advance_amount="3000"))
    approve(db, iid, "superior_approval", "liu.yang")
    with pytest.raises(FormError) as refused:  # paying needs the payment details
        act(db, iid, "advance_payment", "sun.li", {"decision": "approve"})
    assert {"paid_date", "payment_method", "paid_amount"} <= set(refused.value.errors)
    assert act(db, iid, "advance_payment", "zhao.lei", {"decision": "reject", "comment": "上笔借款尚未还清"},
               comment="上笔借款尚未还清") == "completed"
    assert done(db, iid)[-1] == ("advance_payment", "zhao.lei", "rejected")


def test_the_cashier_returns_a_wrong_advance_to_the_traveller(flow):
    db = flow
    iid = start(db, KEY, "chen.jing", trip(advance="yes", advance_amount="30000"))
    approve(db, iid, "superior_approval", "liu.yang")
    with pytest.raises(InvalidInput):  # flowdesk.returnTo=initiator
        send_back(db, iid, "advance_payment", "sun.li", "superior_approval", "金额有误")
    send_back(db, iid, "advance_payment", "sun.li", "initiator", "借支金额超过预计费用，请核实")
    resubmit(db, iid, "chen.jing", trip(advance="yes", advance_amount="3000"))
    assert waiting(db, iid) == [("superior_approval", "liu.yang")]
    approve(db, iid, "superior_approval", "liu.yang")
    assert waiting(db, iid) == [("advance_payment", FINANCE)]


@pytest.mark.parametrize("step, who, earlier", [
    ("superior_approval", "liu.yang", []),
    ("leader_approval", "li.na", [("superior_approval", "liu.yang")]),
    ("gm_approval", "zhang.wei", [("superior_approval", "liu.yang"), ("leader_approval", "li.na")]),
])
def test_a_rejection_at_any_approval_ends_the_request(flow, step, who, earlier):
    db = flow
    iid = start(db, KEY, "chen.jing", trip(trip_type="international", destination="Berlin / 柏林",
                                           advance="yes", advance_amount="8000"))
    for element, person in earlier:
        approve(db, iid, element, person)
    assert reject(db, iid, step, who, "本季度差旅预算已用完") == "rejected"
    assert waiting(db, iid) == [] and history(db, iid, "copied") == []
    assert [e.element_id for e in history(db, iid, "instance_rejected")] == [step]


def test_the_superior_returns_the_request_for_revision(flow):
    db = flow
    iid = start(db, KEY, "chen.jing", trip())
    send_back(db, iid, "superior_approval", "liu.yang", "initiator", "请改乘高铁，压缩费用")
    resubmit(db, iid, "chen.jing", trip(cost="2800", transport=["train"]))
    assert data_of(db, iid)["estimated_cost"] == "2800.00"
    assert approve(db, iid, "superior_approval", "liu.yang") == "completed"
    assert [e.type for e in history(db, iid) if e.type.startswith("instance_")] == [
        "instance_started", "instance_resubmitted", "instance_completed"]


def test_an_overdue_approval_escalates(flow):
    db = flow
    iid = start(db, KEY, "chen.jing", trip())
    run_overdue_actions(db, now=utcnow() + timedelta(days=60))
    assert waiting(db, iid) == [("superior_approval", "li.na")]
    assert status(db, iid) == "running"


def test_the_forms_accept_realistic_examples_and_refuse_bad_ones(flow):
    checked = realistic(form(KEY, "business_trip_form.json"), trip(advance="yes", advance_amount="2000"))
    assert checked["days"] == 3 and checked["advance_amount"] == "2000.00"
    no_advance = realistic(form(KEY, "business_trip_form.json"), trip(advance_amount="2000"))
    assert "advance_amount" not in no_advance  # hidden while no advance is asked
    realistic(form(KEY, "advance_payment_form.json"), {"decision": "approve", "paid_date": "2026-12-04",
                                                       "payment_method": "cash", "paid_amount": "500"})
    realistic(form(KEY, "advance_payment_form.json"), {"decision": "reject", "comment": "请走备用金流程"})
    realistic(form(KEY, "approval_form.json"), {"decision": "approve"})
    with pytest.raises(FormError) as refused:
        realistic(form(KEY, "business_trip_form.json"), {
            "trip_type": "space", "destination": "月", "trip": {"start": "2026-12-09", "end": "2026-12-07"},
            "transport": [], "estimated_cost": "-1", "advance": "yes"})
    assert {"trip_type", "destination", "purpose", "trip", "transport", "estimated_cost",
            "advance_amount"} <= set(refused.value.errors)


def test_the_progress_diagram_renders(flow):
    db = flow
    iid = start(db, KEY, "chen.jing", trip(advance="yes", advance_amount="1000"))
    approve(db, iid, "superior_approval", "liu.yang")
    svg, progress = progress_svg(db, iid)
    assert "<svg" in svg[:300] and "出纳支付借支" in svg and "抄送人事（考勤）" in svg
    assert progress["elements"]["copy_hr"]["state"] == "completed"
    assert progress["elements"]["advance_payment"]["state"] == "active"
    assert "<svg" in render_definition(bundle(KEY), KEY, lang="en")

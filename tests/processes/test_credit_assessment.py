"""Credit assessment (信用评估审批): sales director, then finance or a countersign for large limits; the limit is set."""
from __future__ import annotations

from decimal import Decimal

import pytest

from forms import schema as forms
from instances import directory, returns, service

from .test_complaint_handling import (
    actor,
    check_forms,
    complete,
    completed_steps,
    forms_of,
    history,
    instance,
    items,
    record,
    record_changes,
    record_id,
    record_processes,
    render_progress,
    setup_crm,
    start,
    waiting,
)

KEY = "credit_assessment"


@pytest.fixture
def crm(db):
    setup_crm(db, KEY)
    yield db
    directory.set_directory(None)


def request(customer: int, limit: str, **extra) -> dict:
    return {"customer": customer, "current_limit": "50000.00", "requested_limit": limit, "credit_days": 60,
            "reason": "客户明年扩大采购规模，原额度不够周转", "annual_revenue": "36000000.00", "net_profit": "2400000.00",
            "total_assets": "52000000.00", "total_liabilities": "23400000.00", "payment_history": "good", **extra}


def ask(db, limit: str, who: str = "wang.fang", customer: str = "北京启明教育科技", **extra) -> tuple[int, int]:
    cid = record_id(db, "customer", name=customer)
    return start(db, KEY, who, request(cid, limit, **extra), "credit_form.json"), cid


def test_an_ordinary_limit_is_approved_by_the_sales_director_then_finance(crm):
    db = crm
    iid, cid = ask(db, "200000")
    assert instance(db, iid).data["requested_limit"] == "200000.00" and instance(db, iid).data["debt_ratio"] == 45
    assert waiting(db, iid) == [("sales_review", "li.na")]
    complete(db, iid, "sales_review", "li.na", {"risk_rating": "low"}, decision="approve")
    assert waiting(db, iid) == [("finance_review", "zhao.lei")]
    assert record(db, cid)["credit_limit"] == "50000.00"  # nothing changes before the last approval
    complete(db, iid, "finance_review", "zhao.lei", {"opinion": "资产负债率 45%，可以"}, decision="approve")
    assert instance(db, iid).status == "completed" and waiting(db, iid) == []
    assert record(db, cid)["credit_limit"] == "200000.00"
    assert completed_steps(db, iid) == [("sales_review", "li.na"), ("finance_review", "zhao.lei")]
    assert record_processes(db, cid) == [(iid, "linked")]
    assert record_changes(db, cid)[-1] == {"credit_limit": ["50000.00", "200000.00"]}


def test_a_large_limit_needs_the_finance_manager_and_the_general_manager_together(crm):
    db = crm
    iid, cid = ask(db, "800000", customer="华东机械有限公司")
    complete(db, iid, "sales_review", "li.na", {}, decision="approve")
    assert sorted(waiting(db, iid)) == [("joint_review", "zhang.wei"), ("joint_review", "zhao.lei")]
    complete(db, iid, "joint_review", "zhao.lei", {"risk_rating": "medium"}, decision="approve", mine=True)
    assert waiting(db, iid) == [("joint_review", "zhang.wei")]  # all: both must approve
    assert record(db, cid)["credit_limit"] == "500000.00"
    complete(db, iid, "joint_review", "zhang.wei", {}, decision="approve", mine=True)
    assert instance(db, iid).status == "completed"
    assert record(db, cid)["credit_limit"] == "800000.00"
    assert instance(db, iid).data["joint_review_result"]["outcome"] == "approved"


def test_one_veto_in_the_countersign_refuses_the_limit(crm):
    db = crm
    iid, cid = ask(db, "1500000", customer="华东机械有限公司")
    complete(db, iid, "sales_review", "li.na", {}, decision="approve")
    complete(db, iid, "joint_review", "zhao.lei", {"risk_rating": "high", "opinion": "超过净资产的 5%"},
             decision="reject", mine=True)
    assert instance(db, iid).status == "rejected" and waiting(db, iid) == []
    assert [(i.assignee, i.status) for i in items(db, iid) if i.element_id == "joint_review"] == [
        ("zhao.lei", "completed"), ("zhang.wei", "cancelled")]
    assert record(db, cid)["credit_limit"] == "500000.00"
    assert "instance_rejected" in [t for t, _e, _a in history(db, iid)]


@pytest.mark.parametrize("step, who", [("sales_review", "li.na"), ("finance_review", "zhao.lei")])
def test_a_rejection_by_either_reviewer_ends_the_request(crm, step, who):
    db = crm
    iid, cid = ask(db, "120000", payment_history="frequent_delays")
    if step == "finance_review":
        complete(db, iid, "sales_review", "li.na", {}, decision="approve")
    complete(db, iid, step, who, {"risk_rating": "high", "opinion": "回款记录差"}, decision="reject")
    assert instance(db, iid).status == "rejected" and waiting(db, iid) == []
    assert record(db, cid)["credit_limit"] == "50000.00"


def test_finance_returns_the_request_and_the_revised_one_runs_again(crm):
    db = crm
    iid, cid = ask(db, "280000")
    complete(db, iid, "sales_review", "li.na", {}, decision="approve")
    [item] = [i for i in items(db, iid) if i.status == "open"]
    with db.command() as session:
        returns.return_task(session=session, work_item_id=item.id, actor=actor(db, "zhao.lei"), to="initiator",
                            comment="请补充最近一年的审计报告并下调额度")
    [back] = [i for i in items(db, iid) if i.status == "open"]
    assert (back.kind, back.assignee) == ("resubmit", "wang.fang")
    revised = request(cid, "180000", statements=[11, 12])
    with db.command() as session:
        service.complete_task(session=session, work_item_id=back.id, actor=actor(db, "wang.fang"), data=revised,
                              comment="已补充审计报告，额度下调到 18 万")
    assert waiting(db, iid) == [("sales_review", "li.na")]  # the route runs again from the start
    complete(db, iid, "sales_review", "li.na", {}, decision="approve")
    complete(db, iid, "finance_review", "zhao.lei", {}, decision="approve")
    assert instance(db, iid).status == "completed" and record(db, cid)["credit_limit"] == "180000.00"
    kinds = [t for t, _e, _a in history(db, iid)]
    assert "task_returned" in kinds and "instance_resubmitted" in kinds


def test_the_sales_directors_own_request_goes_to_her_superior(crm):
    db = crm
    iid, _cid = ask(db, "100000", who="li.na")
    assert waiting(db, iid) == [("sales_review", "zhang.wei")]


def test_every_form_validates_a_realistic_example_and_the_diagram_renders(crm):
    db = crm
    check_forms(KEY, {"credit_form.json": request(3, "350000.5", statements=[1, 2]),
                      "review_form.json": {"decision": "approve", "risk_rating": "medium", "opinion": "同意"}})
    form = forms_of(KEY)["credit_form.json"]
    assert forms.validate(form, request(3, "1000000"))["debt_ratio"] == Decimal("45")
    for bad, field in (({"requested_limit": "0"}, "requested_limit"), ({"credit_days": 365}, "credit_days"),
                       ({"total_assets": "0"}, "total_assets"), ({"requested_limit": "12.345"}, "requested_limit")):
        with pytest.raises(forms.FormError) as refused:
            forms.validate(form, {**request(3, "100000"), **bad})
        assert field in refused.value.errors
    iid, _cid = ask(db, "800000")
    complete(db, iid, "sales_review", "li.na", {}, decision="approve")
    svg = render_progress(db, iid)
    assert "<svg" in svg[:300] and "会签" in svg

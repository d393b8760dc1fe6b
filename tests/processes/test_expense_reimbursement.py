"""Expense reimbursement (费用报销): every route of bpmn/expense_reimbursement through the service layer."""
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
    items,
    progress_svg,
    realistic,
    reject,
    resubmit,
    send_back,
    skipped,
    start,
    waiting,
)

KEY = "expense_reimbursement"
FINANCE = ("sun.li", "zhao.lei")
# A sales rep whose direct superior (a team lead) is not the department leader, so every step has its own person.
CHEN = {"username": "chen.jing", "display_name": "陈静", "department": "sales", "position": "staff",
        "superior": "liu.yang", "roles": ["employee"]}


@pytest.fixture
def flow(db):
    deploy(db, KEY, extra_users=(CHEN,))
    yield db
    directory.set_directory(None)


def claim(*amounts: str, **extra) -> dict:
    lines = [{"expense_date": f"2026-11-{10 + n:02d}", "category": category, "amount": amount,
              "invoice_no": f"0441{n:04d}", "description": text}
             for n, (amount, category, text) in enumerate(
                 zip(amounts, ["travel", "accommodation", "meals", "transport"] * 5,
                     ["高铁 北京—上海", "Hotel, 2 nights", "客户午餐", "Taxi to the airport"] * 5, strict=False))]
    return {"subject": "上海客户拜访 / Client visit to Shanghai", "cost_department": "sales", "lines": lines,
            "payee_name": "王芳", "bank_name": "招商银行北京分行", "bank_account": "6225 8801 2345 6789", **extra}


PAYMENT = {"paid_date": "2026-11-30", "payment_method": "bank_transfer", "payment_reference": "CMB20261130-0042"}


def pay(db, iid: int, who: str = "sun.li", amount: str | None = None) -> str:
    total = data_of(db, iid)["total"]
    return act(db, iid, "payment", who, {**PAYMENT, "paid_amount": amount or total})


def finance_ok(db, iid: int, who: str = "sun.li") -> str:
    return act(db, iid, "finance_review", who, {"decision": "approve", "receipts_checked": True,
                                                 "accounting_subject": "6601", "comment": "票据齐全"})


def test_a_small_claim_goes_superior_finance_cashier(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", claim("553.00", "640", "87.5"))
    assert data_of(db, iid)["total"] == "1280.50"  # computed by the form, exact
    assert waiting(db, iid) == [("superior_approval", "li.na")]
    [first] = items(db, iid)
    assert first.due_at is not None and first.due_at > first.created_at  # two working days
    approve(db, iid, "superior_approval", "li.na")
    assert waiting(db, iid) == [("finance_review", FINANCE)]
    finance_ok(db, iid)
    assert waiting(db, iid) == [("payment", FINANCE)]
    assert pay(db, iid) == "completed"
    assert done(db, iid) == [("superior_approval", "li.na", "approved"), ("finance_review", "sun.li", "approved"),
                             ("payment", "sun.li", None)]
    paid = data_of(db, iid)
    assert (paid["paid_amount"], paid["payment_method"], paid["payment_reference"]) == (
        "1280.50", "bank_transfer", "CMB20261130-0042")
    assert skipped(db, iid) == []
    assert [e.type for e in history(db, iid)][-1] == "instance_completed"


def test_over_5000_adds_the_department_leader(flow):
    db = flow
    iid = start(db, KEY, "chen.jing", claim("4200", "3800"))  # 8,000
    assert waiting(db, iid) == [("superior_approval", "liu.yang")]
    approve(db, iid, "superior_approval", "liu.yang")
    assert waiting(db, iid) == [("leader_approval", "li.na")]
    approve(db, iid, "leader_approval", "li.na")
    assert waiting(db, iid) == [("finance_review", FINANCE)]  # not over 20,000: no general manager
    finance_ok(db, iid, "zhao.lei")
    assert pay(db, iid, "zhao.lei") == "completed"
    assert [d[0] for d in done(db, iid)] == ["superior_approval", "leader_approval", "finance_review", "payment"]


def test_exactly_5000_needs_no_leader(flow):
    db = flow
    iid = start(db, KEY, "chen.jing", claim("2500", "2500.00"))
    approve(db, iid, "superior_approval", "liu.yang")
    assert waiting(db, iid) == [("finance_review", FINANCE)]


def test_the_leader_who_approved_as_superior_is_not_asked_twice(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", claim("6000", "1200"))  # li.na is superior and department leader
    approve(db, iid, "superior_approval", "li.na")
    assert waiting(db, iid) == [("finance_review", FINANCE)]
    assert skipped(db, iid) == [("leader_approval", "nobody_to_assign")]
    assert [i.element_id for i in items(db, iid)] == ["superior_approval", "finance_review"]


def test_over_20000_adds_the_general_manager(flow):
    db = flow
    iid = start(db, KEY, "chen.jing", claim("12000", "9000", "3000"))  # 24,000
    approve(db, iid, "superior_approval", "liu.yang")
    approve(db, iid, "leader_approval", "li.na")
    assert waiting(db, iid) == [("gm_approval", ("zhang.wei",))]
    approve(db, iid, "gm_approval", "zhang.wei", "同意，注意控制招待标准")
    assert waiting(db, iid) == [("finance_review", FINANCE)]
    finance_ok(db, iid)
    assert pay(db, iid) == "completed"
    assert [d[0] for d in done(db, iid)] == ["superior_approval", "leader_approval", "gm_approval",
                                            "finance_review", "payment"]


def test_a_directors_large_claim_is_approved_once_by_the_general_manager(flow):
    db = flow
    iid = start(db, KEY, "li.na", claim("15000", "8000", payee_name="李娜"))
    assert waiting(db, iid) == [("superior_approval", "zhang.wei")]
    approve(db, iid, "superior_approval", "zhang.wei")
    # zhang.wei is li.na's superior, her department's parent leader and the general manager: one approval.
    assert waiting(db, iid) == [("finance_review", FINANCE)]
    assert skipped(db, iid) == [("leader_approval", "nobody_to_assign"), ("gm_approval", "nobody_to_assign")]


@pytest.mark.parametrize("step, who, earlier", [
    ("superior_approval", "liu.yang", []),
    ("leader_approval", "li.na", [("superior_approval", "liu.yang")]),
    ("gm_approval", "zhang.wei", [("superior_approval", "liu.yang"), ("leader_approval", "li.na")]),
])
def test_a_rejection_at_any_approval_ends_the_claim(flow, step, who, earlier):
    db = flow
    iid = start(db, KEY, "chen.jing", claim("18000", "7000"))
    for element, person in earlier:
        approve(db, iid, element, person)
    with pytest.raises(InvalidInput):  # a rejection needs a reason
        act(db, iid, step, who, {"decision": "reject"})
    assert reject(db, iid, step, who, "招待费超标准 / Entertainment over the limit") == "rejected"
    assert waiting(db, iid) == []
    assert done(db, iid)[-1] == (step, who, "rejected")
    [event] = history(db, iid, "instance_rejected")
    assert event.element_id == step and event.actor == who
    assert "finance_review" not in [i.element_id for i in items(db, iid)]


def test_finance_sends_a_claim_back_to_the_claimant_who_corrects_and_resubmits(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", claim("553", "640"))
    approve(db, iid, "superior_approval", "li.na")
    assert act(db, iid, "finance_review", "sun.li", {"decision": "reject"},
               comment="住宿发票抬头有误，请重开 / The hotel invoice names the wrong company") == "running"
    [back] = [i for i in items(db, iid) if i.status == "open"]
    assert (back.kind, back.assignee) == ("resubmit", "wang.fang")
    assert [e.details.get("comment") for e in history(db, iid, "task_rejected")] == [
        "住宿发票抬头有误，请重开 / The hotel invoice names the wrong company"]
    resubmit(db, iid, "wang.fang", claim("553", "600", remarks="酒店发票已重开"), comment="发票已重开")
    assert data_of(db, iid)["total"] == "1153.00"
    assert waiting(db, iid) == [("superior_approval", "li.na")]  # the route runs again from the start
    approve(db, iid, "superior_approval", "li.na")
    finance_ok(db, iid)
    assert pay(db, iid) == "completed"
    assert [e.type for e in history(db, iid) if e.type.startswith("instance_")] == [
        "instance_started", "instance_resubmitted", "instance_completed"]


def test_the_leader_returns_the_claim_to_the_claimant(flow):
    db = flow
    iid = start(db, KEY, "chen.jing", claim("5000", "1500"))
    approve(db, iid, "superior_approval", "liu.yang")
    assert send_back(db, iid, "leader_approval", "li.na", "initiator", "请补充客户拜访记录") == "running"
    assert [(i.kind, i.assignee) for i in items(db, iid) if i.status == "open"] == [("resubmit", "chen.jing")]
    resubmit(db, iid, "chen.jing", claim("5000", "1500", remarks="拜访记录见附件"))
    assert waiting(db, iid) == [("superior_approval", "liu.yang")]


def test_the_cashier_may_return_to_finance_only(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", claim("300"))
    approve(db, iid, "superior_approval", "li.na")
    finance_ok(db, iid, "zhao.lei")
    with pytest.raises(InvalidInput):
        send_back(db, iid, "payment", "sun.li", "initiator", "账号不对")
    send_back(db, iid, "payment", "sun.li", "finance_review", "收款账号与工资卡不一致，请核实")
    assert waiting(db, iid) == [("finance_review", FINANCE)]


def test_the_payment_form_needs_date_method_and_a_positive_amount(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", claim("300"))
    approve(db, iid, "superior_approval", "li.na")
    finance_ok(db, iid)
    with pytest.raises(FormError) as refused:
        act(db, iid, "payment", "sun.li", {"payment_method": "gold", "paid_amount": "0"})
    assert set(refused.value.errors) == {"paid_date", "payment_method", "paid_amount"}
    assert pay(db, iid, amount="300") == "completed"


def test_a_finance_claimant_is_not_offered_their_own_review(flow):
    db = flow
    iid = start(db, KEY, "sun.li", claim("420", payee_name="孙丽", cost_department="finance"))
    approve(db, iid, "superior_approval", "zhao.lei")
    assert waiting(db, iid) == [("finance_review", ("zhao.lei",))]
    finance_ok(db, iid, "zhao.lei")
    assert waiting(db, iid) == [("payment", ("zhao.lei",))]


def test_an_overdue_superior_approval_escalates_to_the_next_superior(flow):
    db = flow
    iid = start(db, KEY, "chen.jing", claim("800"))
    assert run_overdue_actions(db, now=utcnow() + timedelta(hours=1)) == 0  # not overdue yet
    run_overdue_actions(db, now=utcnow() + timedelta(days=60))
    assert waiting(db, iid) == [("superior_approval", "li.na")]  # liu.yang's superior
    overdue, moved = history(db, iid)[-2:]
    assert (overdue.type, overdue.details["outcome"], overdue.details["to"]) == ("task_overdue", "escalated", "li.na")
    assert (moved.type, moved.actor, moved.details["from"]) == ("task_transferred", "system", "liu.yang")
    assert run_overdue_actions(db, now=utcnow() + timedelta(days=61)) == 0  # once only
    approve(db, iid, "superior_approval", "li.na")
    assert waiting(db, iid) == [("finance_review", FINANCE)]


def test_the_forms_accept_realistic_examples_and_refuse_bad_ones(flow):
    checked = realistic(form(KEY, "expense_reimbursement_form.json"), claim("1234.5", "99"))
    assert checked["total"] == "1333.50"
    realistic(form(KEY, "finance_review_form.json"), {"decision": "approve", "receipts_checked": True,
                                                      "accounting_subject": "6602"})
    realistic(form(KEY, "payment_form.json"), {**PAYMENT, "paid_amount": "1333.50"})
    realistic(form(KEY, "approval_form.json"), {"decision": "reject", "comment": "超出差旅标准"})
    with pytest.raises(FormError) as refused:
        realistic(form(KEY, "expense_reimbursement_form.json"), {
            "subject": "x", "lines": [{"expense_date": "2026-13-01", "category": "yacht", "amount": "-5"}],
            "bank_account": "abc"})
    assert {"subject", "cost_department", "payee_name", "lines[0].expense_date", "lines[0].category",
            "lines[0].amount", "bank_account"} <= set(refused.value.errors)
    with pytest.raises(FormError) as refused:
        realistic(form(KEY, "expense_reimbursement_form.json"), {**claim("1"), "lines": []})
    assert "lines" in refused.value.errors


def test_the_progress_diagram_renders(flow):
    db = flow
    iid = start(db, KEY, "chen.jing", claim("12000", "9000"))
    approve(db, iid, "superior_approval", "liu.yang")
    svg, progress = progress_svg(db, iid)
    assert svg.lstrip().startswith("<svg") or "<svg" in svg[:300]
    assert "部门负责人审批" in svg and "Department leader approval" not in svg
    assert progress["elements"]["superior_approval"]["state"] == "completed"
    assert progress["elements"]["leader_approval"]["state"] == "active"
    assert "to_leader_check" in progress["flows"]
    assert "<svg" in render_definition(bundle(KEY), KEY, lang="en")


def test_the_branch_into_an_open_step_shows_as_taken(flow):
    from diagrams import progress_from_history
    from instances import service as instance_service

    db = flow
    iid = start(db, KEY, "chen.jing", claim("4200", "3800"))
    approve(db, iid, "superior_approval", "liu.yang")
    assert waiting(db, iid) == [("leader_approval", "li.na")]
    with db.query() as session:
        events = [{"type": h.type, "element_id": h.element_id, "actor": h.actor, "at": h.at,
                   "details": h.details or {}} for h in instance_service.list_history(session=session, instance_id=iid)]
    taken = progress_from_history(events, [])["flows"]
    created = [e for e in events if e["type"] == "task_created" and e["element_id"] == "leader_approval"]
    into_leader = created[-1]["details"]["flow"]
    assert into_leader in taken  # the gateway's branch to the open leader step, before anyone decided it

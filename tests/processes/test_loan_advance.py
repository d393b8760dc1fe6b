"""Loan and petty cash (借款及备用金): every route of bpmn/loan_advance through the service layer."""
from __future__ import annotations

from datetime import date, timedelta

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
    wake,
)

KEY = "loan_advance"
FINANCE = ("sun.li", "zhao.lei")
LATER = (date.today() + timedelta(days=45)).isoformat()


@pytest.fixture
def flow(db):
    deploy(db, KEY)
    yield db
    directory.set_directory(None)


def loan(amount: str = "5000", repay_by: str = LATER, **extra) -> dict:
    return {"loan_type": "project", "amount": amount, "purpose": "华东区展会现场费用周转 / Trade fair on-site costs",
            "repayment_date": repay_by, "repayment_method": "expense_offset", "payee_name": "王芳",
            "bank_account": "6225880123456789", **extra}


def approved_and_paid(db, iid: int, borrower_superior: str = "li.na") -> None:
    approve(db, iid, "superior_approval", borrower_superior)
    approve(db, iid, "finance_manager_approval", "zhao.lei")
    act(db, iid, "payment", "sun.li", {"paid_date": "2026-12-01", "payment_method": "bank_transfer",
                                       "paid_amount": data_of(db, iid)["amount"], "payment_reference": "CMB-7781"})


def repay(db, iid: int, amount: str, cleared: str, who: str = "sun.li") -> str:
    return act(db, iid, "repayment", who, {"repaid_date": "2026-12-20", "repaid_amount": amount,
                                           "repaid_by": "expense_offset", "cleared": cleared,
                                           "reference": "BX-2026-1220"})


def test_a_loan_is_approved_paid_and_repaid(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", loan())
    assert waiting(db, iid) == [("superior_approval", "li.na")]
    approve(db, iid, "superior_approval", "li.na")
    assert waiting(db, iid) == [("finance_manager_approval", "zhao.lei")]
    approve(db, iid, "finance_manager_approval", "zhao.lei")
    assert waiting(db, iid) == [("payment", FINANCE)]
    act(db, iid, "payment", "sun.li", {"paid_date": "2026-12-01", "payment_method": "bank_transfer",
                                       "paid_amount": "5000", "payment_reference": "CMB-7781"})
    assert waiting(db, iid) == [("repayment", FINANCE)]  # open until the money is back
    assert wake(db, iid, utcnow()) is False  # the repayment date is weeks away
    assert repay(db, iid, "5000", "yes") == "completed"
    assert [d[0] for d in done(db, iid)] == ["superior_approval", "finance_manager_approval", "payment", "repayment"]
    assert history(db, iid, "copied") == []


def test_partial_repayments_keep_the_loan_open(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", loan("8000"))
    approved_and_paid(db, iid)
    assert repay(db, iid, "3000", "no") == "running"
    assert waiting(db, iid) == [("repayment", FINANCE)]
    assert repay(db, iid, "5000", "yes", who="zhao.lei") == "completed"
    assert [d for d in done(db, iid) if d[0] == "repayment"] == [("repayment", "sun.li", None),
                                                                 ("repayment", "zhao.lei", None)]


def test_a_passed_repayment_date_reminds_borrower_superior_and_finance_manager(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", loan(repay_by="2026-01-15"))
    approved_and_paid(db, iid)
    if not history(db, iid, "copied"):  # the timer falls due at once or at the worker's next round
        assert wake(db, iid, utcnow() + timedelta(minutes=1))
    [event] = history(db, iid, "copied")
    assert event.element_id == "overdue_notice"
    assert sorted(event.details["to"]) == ["li.na", "wang.fang", "zhao.lei"]
    assert "借款已逾期" in event.details["note"] and "2026-01-15" in event.details["note"]
    assert waiting(db, iid) == [("repayment", FINANCE)]  # the reminder does not close the loan
    assert status(db, iid) == "running"
    assert repay(db, iid, "5000", "yes") == "completed"


@pytest.mark.parametrize("step, who, earlier", [
    ("superior_approval", "li.na", []),
    ("finance_manager_approval", "zhao.lei", [("superior_approval", "li.na")]),
])
def test_a_rejection_ends_the_request(flow, step, who, earlier):
    db = flow
    iid = start(db, KEY, "wang.fang", loan())
    for element, person in earlier:
        approve(db, iid, element, person)
    with pytest.raises(InvalidInput):
        act(db, iid, step, who, {"decision": "reject"})
    assert reject(db, iid, step, who, "上一笔借款未还清") == "rejected"
    assert waiting(db, iid) == []


def test_the_finance_manager_returns_the_request_to_the_borrower(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", loan("20000"))
    approve(db, iid, "superior_approval", "li.na")
    send_back(db, iid, "finance_manager_approval", "zhao.lei", "initiator", "备用金上限一万元，请调整金额")
    resubmit(db, iid, "wang.fang", loan("10000", loan_type="petty_cash"))
    assert data_of(db, iid)["amount"] == "10000.00"
    assert waiting(db, iid) == [("superior_approval", "li.na")]


def test_the_cashier_returns_to_the_finance_manager(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", loan())
    approve(db, iid, "superior_approval", "li.na")
    approve(db, iid, "finance_manager_approval", "zhao.lei")
    with pytest.raises(InvalidInput):  # flowdesk.returnTo=previous
        send_back(db, iid, "payment", "sun.li", "initiator", "账号有误")
    send_back(db, iid, "payment", "sun.li", "finance_manager_approval", "账户余额不足，请确认是否分批支付")
    assert waiting(db, iid) == [("finance_manager_approval", "zhao.lei")]


def test_a_finance_borrower_is_approved_once_and_does_not_pay_themselves(flow):
    db = flow
    iid = start(db, KEY, "sun.li", loan(payee_name="孙丽"))
    approve(db, iid, "superior_approval", "zhao.lei")  # her superior is the finance manager: one approval
    assert skipped(db, iid) == [("finance_manager_approval", "nobody_to_assign")]
    assert waiting(db, iid) == [("payment", ("zhao.lei",))]


def test_an_overdue_approval_escalates(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", loan())
    run_overdue_actions(db, now=utcnow() + timedelta(days=60))
    assert waiting(db, iid) == [("superior_approval", "zhang.wei")]


def test_the_forms_accept_realistic_examples_and_refuse_bad_ones(flow):
    realistic(form(KEY, "loan_advance_form.json"), loan("2000", loan_type="petty_cash"))
    realistic(form(KEY, "payment_form.json"), {"paid_date": "2026-12-01", "payment_method": "cash",
                                               "paid_amount": "2000"})
    realistic(form(KEY, "repayment_form.json"), {"repaid_date": "2026-12-20", "repaid_amount": "2000",
                                                 "repaid_by": "salary_deduction", "cleared": "yes"})
    with pytest.raises(FormError) as refused:
        realistic(form(KEY, "loan_advance_form.json"), {"loan_type": "mortgage", "amount": "300000",
                                                        "purpose": "买", "repayment_date": "next year"})
    assert {"loan_type", "amount", "purpose", "repayment_date", "repayment_method",
            "payee_name"} <= set(refused.value.errors)


def test_the_progress_diagram_renders(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", loan())
    approved_and_paid(db, iid)
    svg, progress = progress_svg(db, iid)
    assert "<svg" in svg[:300] and "登记还款" in svg and "超过还款日期" in svg
    assert progress["elements"]["repayment"]["state"] == "active"
    assert "<svg" in render_definition(bundle(KEY), KEY, lang="en")

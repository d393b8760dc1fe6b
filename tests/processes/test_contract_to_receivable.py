"""Contract to receivable (合同-订单-回款): countersigned contract, order and receivable, payments, overdue chase."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import SpiffWorkflow.bpmn.specs.event_definitions.timer as spiff_timer

from database.base import utcnow
from forms import schema as forms
from instances import directory, jobs
from instances.overdue import run_overdue_actions

from .test_complaint_handling import (
    check_forms,
    complete,
    completed_steps,
    forms_of,
    history,
    instance,
    items,
    later,
    open_item,
    record,
    record_changes,
    record_id,
    record_processes,
    records_of,
    render_progress,
    setup_crm,
    start,
    waiting,
)

KEY = "contract_to_receivable"
LINES = [{"item": "五轴加工中心 VMC-850", "quantity": 1, "unit_price": "420000.00"},
         {"item": "安装调试与培训", "quantity": 3, "unit_price": "6000.00"}]


@pytest.fixture
def crm(db):
    setup_crm(db, KEY)
    yield db
    directory.set_directory(None)


def submit(db, due: date, who: str = "wang.fang", **extra) -> int:
    customer = record_id(db, "customer", name="华东机械有限公司")
    return start(db, KEY, who, {
        "customer": customer, "contract_number": "HT-2026-0088", "contract_name": "五轴加工中心采购合同",
        "contract_amount": "438000.00", "start_on": "2026-12-01", "end_on": "2027-11-30",
        "terms": "预付 0%，验收后 30 天内付清全款", "order_number": "SO-2026-0201", "delivery_on": "2026-12-20",
        "lines": LINES, "payment_due_on": due.isoformat(), **extra}, "contract_form.json")


def countersign(db, iid: int, sales: str = "approve", finance: str = "approve") -> None:
    complete(db, iid, "review", "li.na", {"opinion": "价格在授权范围内"}, decision=sales, mine=True)
    if instance(db, iid).status == "running" and ("review", "zhao.lei") in waiting(db, iid):
        complete(db, iid, "review", "zhao.lei", {}, decision=finance, mine=True)


def pay(db, iid: int, amount: str, who: str = "sun.li", **extra) -> None:
    complete(db, iid, "collect", who, {"received_on": "2026-12-28", "received_amount": amount, **extra})


def ids(db, iid: int) -> tuple[int, int, int]:
    data = instance(db, iid).data
    return data["contract_id"], data["order_id"], data["payment_id"]


def fire_timers(db) -> int:
    """Run the worker's timer job as it runs every few seconds."""
    return jobs.run_due_timers(db, now=utcnow() + timedelta(seconds=1))


def test_a_countersigned_contract_becomes_an_order_and_a_receivable_that_is_paid(crm):
    db = crm
    iid = submit(db, date.today() + timedelta(days=30))
    contract = instance(db, iid).data["contract_id"]
    assert record(db, contract)["status"] == "review" and record(db, contract)["amount"] == "438000.00"
    assert sorted(waiting(db, iid)) == [("review", "li.na"), ("review", "zhao.lei")]  # 会签: both at once
    countersign(db, iid)
    contract, order, payment = ids(db, iid)
    data = record(db, contract)
    assert (data["status"], data["signed_on"], data["terms"]) == ("executing", date.today().isoformat(),
                                                                   "预付 0%，验收后 30 天内付清全款")
    data = record(db, order)
    assert (data["number"], data["contract"], data["status"], data["total"], data["delivery_on"]) == (
        "SO-2026-0201", contract, "confirmed", "438000.00", "2026-12-20")
    assert [line["amount"] for line in data["lines"]] == ["420000.00", "18000.00"]
    data = record(db, payment)
    assert (data["direction"], data["amount"], data["status"], data["order"], data["contract"]) == (
        "receivable", "438000.00", "planned", order, contract)
    item = open_item(db, iid, "collect")
    assert (item.assignee, item.candidate_groups) == (None, ["dept:finance"])
    assert instance(db, iid).next_wake_at is not None  # the payment date's timer is set
    assert fire_timers(db) == 0  # and not due yet
    pay(db, iid, "200000", invoice_number="FP-2026-5001")
    data = record(db, payment)
    assert (data["status"], data["paid_amount"], data["paid_on"], data["invoice_number"]) == (
        "partly_paid", "200000.00", "2026-12-28", "FP-2026-5001")
    assert waiting(db, iid) == [("collect", None)]  # the balance stays open
    pay(db, iid, "238000.00", bank_reference="ICBC-20261230-0091")
    assert instance(db, iid).status == "completed" and waiting(db, iid) == []
    data = record(db, payment)
    assert (data["status"], data["paid_amount"], data["invoice_number"]) == ("paid", "438000.00", "FP-2026-5001")
    assert record(db, contract)["status"] == "completed"
    assert [c["status"][1] for c in record_changes(db, contract) if "status" in c] == [
        "review", "executing", "completed"]
    assert (iid, "created") in record_processes(db, order)
    assert [e for e, _a in completed_steps(db, iid)] == ["review", "review", "collect", "collect"]


def test_a_veto_in_the_countersign_sends_the_contract_back_to_draft(crm):
    db = crm
    iid = submit(db, date.today() + timedelta(days=30))
    complete(db, iid, "review", "zhao.lei", {"opinion": "账期过长，需要预付 30%"}, decision="reject", mine=True)
    assert instance(db, iid).status == "rejected" and waiting(db, iid) == []
    assert [(i.assignee, i.status) for i in items(db, iid)] == [("li.na", "cancelled"), ("zhao.lei", "completed")]
    assert record(db, instance(db, iid).data["contract_id"])["status"] == "draft"
    assert records_of(db, "order")[-1].data["number"] == "SO-2026-0147"  # only the demo's order
    assert "instance_rejected" in [t for t, _e, _a in history(db, iid)]


@pytest.fixture
def clock(monkeypatch):
    """Move the engine's timer clock forward (SpiffWorkflow compares timers with the real clock)."""

    class Shifted(datetime):
        offset = timedelta(0)

        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + cls.offset

    monkeypatch.setattr(spiff_timer, "datetime", Shifted)
    return Shifted


def test_an_unpaid_receivable_turns_overdue_and_the_salesperson_chases_it(crm, clock):
    db = crm
    due = date.today() + timedelta(days=1)
    iid = submit(db, due)
    countersign(db, iid)
    _contract, _order, payment = ids(db, iid)
    assert waiting(db, iid) == [("collect", None)]
    # The timer falls due when the payment date is over in Shanghai: midnight after it.
    wake = instance(db, iid).next_wake_at
    assert wake == datetime.combine(due + timedelta(days=1), time(0), ZoneInfo("Asia/Shanghai"))
    assert fire_timers(db) == 0
    clock.offset = timedelta(days=3)  # the payment date passes unpaid; the worker's next round fires it
    assert jobs.run_due_timers(db, now=utcnow() + clock.offset) == 1
    assert record(db, payment)["status"] == "overdue"
    assert waiting(db, iid) == [("chase", "wang.fang")]
    assert [i.status for i in items(db, iid) if i.element_id == "collect"] == ["cancelled"]
    assert ("timers_fired", None, "system") in history(db, iid)
    promised = date.today() + timedelta(days=10)
    complete(db, iid, "chase", "wang.fang", {"chase_result": "promised", "chase_notes": "财务说资金计划已排到下旬",
                                             "promised_on": promised.isoformat()})
    [activity] = [a.data for a in records_of(db, "activity")]
    assert activity["summary"] == "财务说资金计划已排到下旬" and activity["customer"] == instance(db, iid).data["customer"]
    assert activity["next_step"] == f"Follow up on / 跟进日期 {promised.isoformat()}"
    # Finance registers again, now until the promised date; nothing fires before it.
    assert waiting(db, iid) == [("collect", None)]
    assert instance(db, iid).next_wake_at == datetime.combine(promised + timedelta(days=1), time(0),
                                                              ZoneInfo("Asia/Shanghai"))
    assert jobs.run_due_timers(db, now=utcnow() + clock.offset) == 0
    pay(db, iid, "438000")
    assert instance(db, iid).status == "completed" and record(db, payment)["status"] == "paid"
    assert instance(db, iid).next_wake_at is None


def test_a_payment_date_already_gone_goes_straight_to_the_chase(crm):
    db = crm
    iid = submit(db, date.today() - timedelta(days=5))
    countersign(db, iid)
    assert record(db, ids(db, iid)[2])["status"] == "overdue"
    assert waiting(db, iid) == [("chase", "wang.fang")]


def test_a_broken_promise_raises_another_chase_and_an_ignored_chase_escalates(crm):
    db = crm
    iid = submit(db, date.today() - timedelta(days=5))
    countersign(db, iid)
    complete(db, iid, "chase", "wang.fang", {"chase_result": "unreachable", "chase_notes": "电话无人接听，已发邮件",
                                             "promised_on": (date.today() - timedelta(days=1)).isoformat()})
    assert waiting(db, iid) == [("chase", "wang.fang")]  # that follow-up date is gone too
    # A date already gone fires within the step: the registration never reaches anyone's inbox.
    assert [i.element_id for i in items(db, iid)] == ["review", "review", "chase", "chase"]
    assert run_overdue_actions(db, now=later()) >= 1  # nobody chased it: the salesperson's superior takes over
    assert waiting(db, iid) == [("chase", "li.na")]
    complete(db, iid, "chase", "li.na", {"chase_result": "promised", "chase_notes": "李总亲自联系，对方承诺月底付款",
                                         "promised_on": (date.today() + timedelta(days=20)).isoformat()})
    assert waiting(db, iid) == [("collect", None)] and len(records_of(db, "activity")) == 2


def test_every_form_validates_a_realistic_example_and_the_diagram_renders(crm):
    db = crm
    contract = {"customer": 1, "contract_number": "HT-2026-0088", "contract_name": "维保合同",
                "contract_amount": "36000", "start_on": "2026-12-01", "end_on": "2027-11-30",
                "order_number": "SO-2026-0202", "lines": [{"item": "年度维保", "quantity": 12, "unit_price": "3000"}],
                "payment_due_on": "2027-01-15", "contract_files": [5]}
    check_forms(KEY, {"contract_form.json": contract,
                      "review_form.json": {"decision": "approve", "opinion": "同意"},
                      "payment_form.json": {"received_on": "2027-01-10", "received_amount": "36000.00",
                                            "invoice_number": "FP-1", "bank_reference": "B-1"},
                      "chase_form.json": {"chase_result": "disputed", "chase_notes": "客户对第三季度的服务次数有异议",
                                          "promised_on": "2027-01-20"}})
    form = forms_of(KEY)["contract_form.json"]
    assert forms.validate(form, contract)["total"] == "36000.00"
    for bad, field in (({"contract_number": "2026-88"}, "contract_number"), ({"lines": []}, "lines"),
                       ({"lines": [{"item": "x", "quantity": 0, "unit_price": "1"}]}, "lines[0].quantity")):
        with pytest.raises(forms.FormError) as refused:
            forms.validate(form, {**contract, **bad})
        assert field in refused.value.errors
    iid = submit(db, date.today() + timedelta(days=30))
    countersign(db, iid)
    svg = render_progress(db, iid)
    assert "<svg" in svg[:300] and "登记回款" in svg

"""Customer care plan (客户关怀): timers before and after a sale give the responsible person care tasks."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from database.base import utcnow
from forms import schema as forms
from instances import directory, jobs, service
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
    record_id,
    record_processes,
    records_of,
    render_progress,
    setup_crm,
    start,
    waiting,
)
from .test_contract_to_receivable import clock  # noqa: F401  (the fixture that moves the engine's timer clock)

KEY = "customer_care"
SHANGHAI = ZoneInfo("Asia/Shanghai")
PRE = {"care_kind": "visit", "care_summary": "拜访采购经理，确认交付当天的卸货与安装安排", "sale_status": "on_track"}
AFTER = {"care_kind": "call", "care_summary": "设备运行稳定，操作工已完成培训", "satisfaction": 5,
         "next_step": "三个月后安排保养"}


@pytest.fixture
def crm(db):
    setup_crm(db, KEY)
    yield db
    directory.set_directory(None)


def plan(db, sale: date, before: int = 3, after: int = 7, who: str = "wang.fang", responsible: str = "wang.fang") -> int:
    customer = record_id(db, "customer", name="华东机械有限公司")
    return start(db, KEY, who, {"customer": customer, "contact": record_id(db, "contact", name="陈建国"),
                                "responsible": responsible, "occasion": "五轴加工中心交付", "sale_date": sale.isoformat(),
                                "before_days": before, "after_days": after, "care_notes": "客户很看重安装进度"},
                 "plan_form.json")


def at_nine(day: date) -> datetime:
    return datetime.combine(day, time(9), SHANGHAI)


def fire(db, clock, days: int) -> int:  # noqa: F811
    """Let `days` pass on the engine's clock and run the worker's timer job."""
    clock.offset = timedelta(days=days)
    return jobs.run_due_timers(db, now=utcnow() + clock.offset)


def test_reminders_before_and_after_the_sale_log_care_activities(crm, clock):  # noqa: F811
    db = crm
    sale = date.today() + timedelta(days=10)
    iid = plan(db, sale)
    customer = instance(db, iid).data["customer"]
    assert waiting(db, iid) == []  # nothing to do until three days before the sale
    assert instance(db, iid).next_wake_at == at_nine(sale - timedelta(days=3))
    assert fire(db, clock, 5) == 0
    assert fire(db, clock, 8) == 1
    assert waiting(db, iid) == [("pre_sale_care", "wang.fang")]
    complete(db, iid, "pre_sale_care", "wang.fang", PRE)
    [pre] = [a.data for a in records_of(db, "activity")]
    assert (pre["kind"], pre["customer"], pre["subject"]) == ("care", customer, "Pre-sale care / 售前关怀: 五轴加工中心交付")
    assert pre["summary"] == "visit: " + PRE["care_summary"]
    assert pre["next_step"] == f"After-sale care on / 售后回访 {(sale + timedelta(days=7)).isoformat()}"
    assert waiting(db, iid) == [] and instance(db, iid).next_wake_at == at_nine(sale + timedelta(days=7))
    assert fire(db, clock, 16) == 0
    assert fire(db, clock, 18) == 1
    assert waiting(db, iid) == [("after_sale_care", "wang.fang")]
    complete(db, iid, "after_sale_care", "wang.fang", AFTER)
    assert instance(db, iid).status == "completed"
    post = records_of(db, "activity")[-1].data
    assert post["subject"] == "After-sale care / 售后回访: 五轴加工中心交付 (5/5)" and post["next_step"] == "三个月后安排保养"
    assert [t for t, _e, _a in history(db, iid)].count("timers_fired") == 2
    assert (iid, "linked") in record_processes(db, customer)
    assert completed_steps(db, iid) == [("pre_sale_care", "wang.fang"), ("after_sale_care", "wang.fang")]


def test_a_sale_that_falls_through_ends_the_plan(crm):
    db = crm
    iid = plan(db, date.today() + timedelta(days=2), before=5)  # the reminder day is gone: the task comes at once
    assert waiting(db, iid) == [("pre_sale_care", "wang.fang")]
    complete(db, iid, "pre_sale_care", "wang.fang", {**PRE, "sale_status": "lost", "care_summary": "客户预算被冻结，项目取消"})
    assert instance(db, iid).status == "completed" and waiting(db, iid) == []
    assert records_of(db, "activity")[-1].data["next_step"] == "Sale fell through / 未成交"
    assert instance(db, iid).next_wake_at is None


def test_the_care_task_goes_to_the_responsible_person_and_escalates_when_ignored(crm):
    db = crm
    iid = plan(db, date.today() - timedelta(days=10), who="li.na", responsible="liu.yang")  # both dates gone
    complete(db, iid, "pre_sale_care", "liu.yang", PRE)
    assert waiting(db, iid) == [("after_sale_care", "liu.yang")]
    assert run_overdue_actions(db, now=later()) >= 1
    assert waiting(db, iid) == [("after_sale_care", "li.na")]  # liu.yang's superior
    complete(db, iid, "after_sale_care", "li.na", {**AFTER, "satisfaction": 3})
    assert instance(db, iid).status == "completed"
    assert [a.owner for a in records_of(db, "activity")] == ["liu.yang", "liu.yang"]


def test_every_form_validates_a_realistic_example_and_the_diagram_renders(crm):
    db = crm
    check_forms(KEY, {"plan_form.json": {"customer": 1, "responsible": "emma.chen", "occasion": "Ward equipment delivery",
                                         "sale_date": "2027-01-15", "before_days": 2, "after_days": 30},
                      "pre_sale_form.json": PRE, "after_sale_form.json": AFTER})
    loaded = forms_of(KEY)
    for name, bad, field in (("plan_form.json", {"before_days": 0}, "before_days"),
                             ("plan_form.json", {"after_days": 365}, "after_days"),
                             ("after_sale_form.json", {"satisfaction": 6}, "satisfaction")):
        base = {"plan_form.json": {"customer": 1, "responsible": "wang.fang", "occasion": "交付", "sale_date": "2027-01-15",
                                   "before_days": 2, "after_days": 30}, "after_sale_form.json": AFTER}[name]
        with pytest.raises(forms.FormError) as refused:
            forms.validate(loaded[name], {**base, **bad})
        assert field in refused.value.errors
    iid = plan(db, date.today() + timedelta(days=30))
    svg = render_progress(db, iid)
    assert "<svg" in svg[:300] and "售前关怀" in svg


def test_the_demo_customer_processes_load_once_in_every_state(db):
    from instances.models import ProcessInstance
    from webapp.demo_customers import KEYS, load_demo_customer_processes

    setup_crm(db, *KEYS)
    try:
        with db.command() as session:
            started = load_demo_customer_processes(session)
        assert started == 22
        with db.command() as session:
            assert load_demo_customer_processes(session) == 0  # once
        with db.query() as session:
            rows = session.query(ProcessInstance).all()
            statuses = {(r.definition_key, r.status) for r in rows}
            open_items = {(i.element_id, i.assignee) for r in rows
                          for i in service.list_open_work_items(session=session, instance_id=r.id)}
        assert {s for _k, s in statuses} == {"running", "completed", "rejected"}
        assert ("complaint_handling", "completed") in statuses and ("credit_assessment", "rejected") in statuses
        assert {("dispatch", "xu.hui"), ("follow_up", "wang.fang"), ("review", "li.na"), ("chase", "liu.yang"),
                ("finance_review", "zhao.lei"), ("second_line", None), ("pre_sale_care", "liu.yang")} <= open_items
        overdue = [i for r in rows for i in items(db, r.id) if i.status == "open" and i.due_at and i.due_at < utcnow()]
        assert [i.element_id for i in overdue] == ["handle"]
        assert {a.data["status"] for a in records_of(db, "lead")} == {"contacted", "qualified", "converted"}
        assert {p.data["status"] for p in records_of(db, "payment")} >= {"partly_paid", "overdue"}
    finally:
        directory.set_directory(None)

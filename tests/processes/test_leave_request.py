"""Leave request (请假申请): working days on the business calendar, the leave balance, attendance records."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from instances import directory, lifecycle, service
from instances.actors import Actor
from instances.errors import ProcessFailure
from instances.models import ProcessInstance, WorkItem
from org import workcal_store
from records import service as records
from records.models import Record, RecordType

from .common import actor, approve, data_of, deploy, done, reject, resubmit, send_back, start, status, waiting

KEY = "leave_request"
HR = ("wu.qiang", "zhou.min")
WANG = "wang.fang"  # sales; her superior is li.na


@pytest.fixture
def flow(db):
    deploy(db, KEY)
    yield db
    directory.set_directory(None)


def leave(first: str = "2026-12-01", last: str = "2026-12-03", kind: str = "annual", **extra) -> dict:
    return {"leave_type": kind, "start_date": first, "end_date": last, "manager": "li.na",
            "reason": "家中有事 / Family matters", **extra}


def give(db, employee: str, year: int, kind: str, entitled: float, used: float = 0) -> int:
    """Let HR keep a balance for an employee."""
    with db.command() as session:
        return records.create_record(session=session, type_key="leave_balance", actor=Actor("admin", is_admin=True),
                                     owner="wu.qiang", data={
                                         "title": f"{employee} {year} {kind}", "employee": employee, "year": year,
                                         "leave_type": kind, "entitled_days": entitled, "used_days": used}).id


def balance(db, record_id: int) -> tuple[float, float]:
    with db.query() as session:
        data = session.get(Record, record_id).data
        return data["entitled_days"], data.get("used_days", 0)


def attendance(db) -> list[dict]:
    with db.query() as session:
        rows = session.scalars(select(Record).join(RecordType, RecordType.id == Record.type_id)
                               .where(RecordType.key == "attendance").order_by(Record.id))
        return [{**r.data, "owner": r.owner} for r in rows]


def refused(db, who: str, data: dict) -> ProcessFailure:
    with db.query() as session:
        before = session.query(ProcessInstance).count()
    with pytest.raises(ProcessFailure) as caught:
        start(db, KEY, who, data)
    with db.query() as session:
        assert session.query(ProcessInstance).count() == before  # nothing of the request was kept
    return caught.value


def field_of(error: ProcessFailure) -> str:
    return error.details["details"]["field"]


def claim(db, iid: int, who: str = "wu.qiang") -> None:
    """Take the HR step, offered to the HR department, as one of its people."""
    with db.query() as session:
        item = session.scalar(select(WorkItem).where(WorkItem.instance_id == iid, WorkItem.status == "open",
                                                     WorkItem.element_id == "hr_approval"))
    with db.command() as session:
        service.claim_task(session=session, work_item_id=item.id, actor=actor(db, who))


def finish(db, iid: int) -> str:
    approve(db, iid, "manager_approval", "li.na")
    claim(db, iid)
    return approve(db, iid, "hr_approval", "wu.qiang")


def test_days_are_working_days_on_the_calendar_with_half_days(flow):
    db = flow
    give(db, WANG, 2026, "annual", 10)
    iid = start(db, KEY, WANG, leave("2026-12-04", "2026-12-08", days=5))  # Fri..Tue: the weekend is not leave
    data = data_of(db, iid)
    assert (data["days"], data["leave_hours"]) == (3, 24)
    half = start(db, KEY, WANG, leave("2026-12-10", "2026-12-11", start_part="pm", end_part="am"))
    assert data_of(db, half)["days"] == 1  # Thursday afternoon and Friday morning
    assert waiting(db, iid) == [("manager_approval", "li.na")]


def test_holidays_and_make_up_workdays_of_the_calendar_count(flow):
    db = flow
    with db.command() as session:
        workcal_store.add_exceptions(session=session, department=None, first="2026-12-07", kind="holiday",
                                     name="公司年会 / Company day")
        workcal_store.add_exceptions(session=session, department=None, first="2026-12-05", kind="workday",
                                     name="调休上班 / Make-up workday")
    iid = start(db, KEY, WANG, leave("2026-12-04", "2026-12-08", kind="sick"))
    assert data_of(db, iid)["days"] == 3  # Fri, the make-up Saturday, Tue; the company day is not leave


def test_a_request_without_working_days_is_refused_at_the_end_date(flow):
    error = refused(flow, WANG, leave("2026-12-05", "2026-12-06", kind="personal"))
    assert field_of(error) == "end_date" and "no working day" in error.message


def test_annual_leave_needs_a_balance_and_fits_in_it(flow):
    db = flow
    error = refused(db, WANG, leave())
    assert field_of(error) == "leave_type" and "no annual leave balance for 2026" in error.message
    give(db, WANG, 2026, "annual", 5, used=3)
    error = refused(db, WANG, leave())
    assert field_of(error) == "end_date"
    assert "3 working days of annual leave in 2026, but only 2 are left (5 entitled, 3 used" in error.message


def test_days_awaiting_approval_are_reserved_until_the_request_ends(flow):
    db = flow
    kept = give(db, WANG, 2026, "annual", 5)
    first = start(db, KEY, WANG, leave())  # 3 days
    error = refused(db, WANG, leave("2026-12-14", "2026-12-16"))
    assert "only 2 are left (5 entitled, 0 used, 3 in requests awaiting approval)" in error.message
    with db.command() as session:
        lifecycle.withdraw_instance(session=session, instance_id=first, actor=actor(db, WANG), reason="改期")
    second = start(db, KEY, WANG, leave("2026-12-14", "2026-12-16"))
    assert finish(db, second) == "completed"
    assert balance(db, kept) == (5, 3)
    error = refused(db, WANG, leave("2026-12-21", "2026-12-23"))
    assert "only 2 are left (5 entitled, 3 used, 0 in requests" in error.message


def test_approved_leave_becomes_an_attendance_record_and_counts_against_the_balance(flow):
    db = flow
    kept = give(db, WANG, 2026, "annual", 10, used=1)
    iid = start(db, KEY, WANG, leave(start_part="pm"))
    assert finish(db, iid) == "completed"
    assert done(db, iid) == [("manager_approval", "li.na", "approved"), ("hr_approval", "wu.qiang", "approved")]
    assert balance(db, kept) == (10, 3.5)
    [entry] = attendance(db)
    assert {k: entry[k] for k in ("employee", "kind", "leave_type", "start_date", "end_date", "days", "hours")} == {
        "employee": WANG, "kind": "leave", "leave_type": "annual", "start_date": "2026-12-01",
        "end_date": "2026-12-03", "days": 2.5, "hours": 20}
    assert entry["owner"] == "wu.qiang" and entry["title"].startswith("王芳 · 请假 Leave")
    with db.query() as session:  # the record lists the request that wrote it
        record = session.scalar(select(Record).join(RecordType, RecordType.id == Record.type_id)
                                .where(RecordType.key == "attendance"))
        assert [i.id for i, _ in records.processes(session=session, record_id=record.id,
                                                   actor=Actor("admin", is_admin=True))] == [iid]


@pytest.mark.parametrize("step, who", [("manager_approval", "li.na"), ("hr_approval", "wu.qiang")])
def test_a_rejected_leave_writes_nothing_and_frees_the_days(flow, step, who):
    db = flow
    kept = give(db, WANG, 2026, "annual", 3)
    iid = start(db, KEY, WANG, leave())
    if step == "hr_approval":
        approve(db, iid, "manager_approval", "li.na")
        claim(db, iid)
    reject(db, iid, step, who)
    assert status(db, iid) in ("completed", "rejected") and attendance(db) == []
    assert balance(db, kept) == (3, 0)
    assert finish(db, start(db, KEY, WANG, leave())) == "completed"  # all three days are free again


def test_other_leave_types_are_recorded_without_a_balance(flow):
    db = flow
    iid = start(db, KEY, "gao.yu", {**leave("2026-12-01", "2026-12-01", kind="sick"), "manager": "he.jun"})
    approve(db, iid, "manager_approval", "he.jun")
    claim(db, iid, "zhou.min")
    approve(db, iid, "hr_approval", "zhou.min")
    [entry] = attendance(db)
    assert (entry["employee"], entry["leave_type"], entry["days"]) == ("gao.yu", "sick", 1)


def test_a_leave_across_the_new_year_counts_each_year_on_its_own_balance(flow):
    db = flow
    this_year, next_year = give(db, WANG, 2026, "annual", 1), give(db, WANG, 2027, "annual", 10)
    error = refused(db, WANG, leave("2026-12-30", "2027-01-05"))  # 2 days in 2026, 3 in 2027 (Jan 1 is a Friday)
    assert "2 working days of annual leave in 2026, but only 1 are left" in error.message
    iid = start(db, KEY, WANG, leave("2026-12-31", "2027-01-05"))
    assert data_of(db, iid)["days"] == 4
    finish(db, iid)
    assert (balance(db, this_year), balance(db, next_year)) == ((1, 1), (10, 3))


def test_a_returned_request_is_counted_again_when_resubmitted(flow):
    db = flow
    kept = give(db, WANG, 2026, "annual", 4)
    iid = start(db, KEY, WANG, leave())
    send_back(db, iid, "manager_approval", "li.na", comment="请改到下周")
    assert resubmit(db, iid, WANG, leave("2026-12-08", "2026-12-11")) == "running"  # 4 days: its own 3 are free
    assert data_of(db, iid)["days"] == 4
    finish(db, iid)
    assert balance(db, kept) == (4, 4)

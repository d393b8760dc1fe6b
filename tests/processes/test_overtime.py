"""Overtime (加班申请): every route of bpmn/overtime through the service layer."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from database.base import utcnow
from diagrams.render import render_definition
from forms.schema import FormError
from instances import directory
from instances.errors import InvalidInput
from instances.overdue import run_overdue_actions
from org import workcal_store

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
    waiting,
)

KEY = "overtime"
HR = ("wu.qiang", "zhou.min")
GAO = {"username": "tian.yu", "display_name": "田雨", "department": "tech", "position": "staff",
       "superior": "luo.bin", "roles": ["employee"]}  # a developer whose team lead is not the department leader


@pytest.fixture
def flow(db):
    deploy(db, KEY, extra_users=(GAO,))
    with db.command() as session:
        workcal_store.add_exceptions(session=session, department=None, first="2027-01-01", kind="holiday",
                                     name="元旦 / New Year's Day")
    yield db
    directory.set_directory(None)


DAYS = {"workday": ("2026-12-03", "18:30"), "rest_day": ("2026-12-05", "09:00"), "holiday": ("2027-01-01", "09:00")}


def overtime(hours: float = 3, day_type: str = "workday", **extra) -> dict:
    """An overtime request on a day of that type, starting after work on a workday, from 9:00 on a day off."""
    day, clock = DAYS[day_type]
    begin = datetime.fromisoformat(f"{day}T{clock}")
    end = begin + timedelta(hours=min(hours, 16) + 0.5)  # a meal break is not overtime
    return {"overtime_date": day, "day_type": day_type, "start_at": begin.isoformat(timespec="minutes"),
            "end_at": end.isoformat(timespec="minutes"), "overtime_hours": hours, "compensation": "time_off",
            "reason": "版本上线前回归测试 / Regression tests before the release", "project": "CRM 2.0", **extra}


def confirm(db, iid: int, who: str = "wu.qiang", hours: float = 3) -> str:
    return act(db, iid, "hr_confirmation", who, {"decision": "approve", "confirmed_hours": hours,
                                                  "comment": "与考勤记录一致"})


def test_a_short_overtime_goes_to_the_superior_then_hr(flow):
    db = flow
    iid = start(db, KEY, "tian.yu", overtime())
    assert waiting(db, iid) == [("superior_approval", "luo.bin")]
    approve(db, iid, "superior_approval", "luo.bin")
    assert waiting(db, iid) == [("hr_confirmation", HR)]
    assert confirm(db, iid) == "completed"
    data = data_of(db, iid)
    assert (data["confirmed_hours"], data["pay_rate"]) == (3, 150)
    assert done(db, iid) == [("superior_approval", "luo.bin", "approved"), ("hr_confirmation", "wu.qiang", "approved")]


@pytest.mark.parametrize("change, rate", [({"hours": 6}, 150), ({"hours": 2, "day_type": "holiday"}, 300)])
def test_long_or_holiday_overtime_needs_the_department_leader(flow, change, rate):
    db = flow
    iid = start(db, KEY, "tian.yu", overtime(**change))
    approve(db, iid, "superior_approval", "luo.bin")
    assert waiting(db, iid) == [("leader_approval", "he.jun")]
    approve(db, iid, "leader_approval", "he.jun")
    assert waiting(db, iid) == [("hr_confirmation", HR)]
    assert confirm(db, iid, "zhou.min", hours=change["hours"]) == "completed"
    assert data_of(db, iid)["pay_rate"] == rate


def test_four_hours_on_a_rest_day_stays_with_the_superior_and_pays_double(flow):
    db = flow
    iid = start(db, KEY, "tian.yu", overtime(4, "rest_day", compensation="pay"))
    approve(db, iid, "superior_approval", "luo.bin")
    assert waiting(db, iid) == [("hr_confirmation", HR)]
    confirm(db, iid, hours=3.5)
    assert (data_of(db, iid)["confirmed_hours"], data_of(db, iid)["pay_rate"]) == (3.5, 200)


def test_the_leader_is_not_asked_twice(flow):
    db = flow
    iid = start(db, KEY, "gao.yu", overtime(8, "rest_day"))
    approve(db, iid, "superior_approval", "he.jun")
    assert skipped(db, iid) == [("leader_approval", "nobody_to_assign")]
    assert waiting(db, iid) == [("hr_confirmation", HR)]


def test_hr_staff_do_not_confirm_their_own_overtime(flow):
    db = flow
    iid = start(db, KEY, "wu.qiang", overtime(2))
    approve(db, iid, "superior_approval", "zhou.min")
    assert waiting(db, iid) == [("hr_confirmation", ("zhou.min",))]


@pytest.mark.parametrize("step, who, earlier", [
    ("superior_approval", "luo.bin", []),
    ("leader_approval", "he.jun", [("superior_approval", "luo.bin")]),
    ("hr_confirmation", "zhou.min", [("superior_approval", "luo.bin"), ("leader_approval", "he.jun")]),
])
def test_a_rejection_at_any_step_ends_the_request(flow, step, who, earlier):
    db = flow
    iid = start(db, KEY, "tian.yu", overtime(6))
    for element, person in earlier:
        approve(db, iid, element, person)
    with pytest.raises(InvalidInput):
        act(db, iid, step, who, {"decision": "reject"})  # a reason is required
    assert reject(db, iid, step, who, "考勤无加班打卡记录") == "rejected"
    assert waiting(db, iid) == []
    assert [e.element_id for e in history(db, iid, "instance_rejected")] == [step]


def test_hr_returns_the_request_to_correct_the_hours(flow):
    db = flow
    iid = start(db, KEY, "tian.yu", overtime(3.5))
    approve(db, iid, "superior_approval", "luo.bin")
    send_back(db, iid, "hr_confirmation", "wu.qiang", "initiator", "打卡记录为 21:30 结束，请更正时长")
    resubmit(db, iid, "tian.yu", overtime(3, end_at="2026-12-03T21:30"))
    assert waiting(db, iid) == [("superior_approval", "luo.bin")]
    approve(db, iid, "superior_approval", "luo.bin")
    assert confirm(db, iid) == "completed"
    assert data_of(db, iid)["end_at"] == "2026-12-03T21:30"


def test_an_overdue_approval_escalates(flow):
    db = flow
    iid = start(db, KEY, "tian.yu", overtime())
    run_overdue_actions(db, now=utcnow() + timedelta(days=60))
    assert waiting(db, iid) == [("superior_approval", "he.jun")]  # luo.bin's superior


def test_the_forms_accept_realistic_examples_and_refuse_bad_ones(flow):
    realistic(form(KEY, "overtime_form.json"), overtime(2.5, "rest_day", compensation="pay"))
    checked = realistic(form(KEY, "hr_confirm_form.json"), {"decision": "approve", "confirmed_hours": 2},
                        context={"day_type": "holiday"})
    assert checked["pay_rate"] == 300  # from the request's day type
    assert realistic(form(KEY, "hr_confirm_form.json"), {"decision": "reject", "comment": "无打卡记录"},
                     context={"day_type": "workday"}) == {"decision": "reject", "comment": "无打卡记录"}
    with pytest.raises(FormError) as refused:
        realistic(form(KEY, "overtime_form.json"), {"overtime_date": "2026-12-03", "day_type": "birthday",
                                                    "start_at": "tonight", "overtime_hours": 2.2,
                                                    "compensation": "cash", "reason": "忙"})
    assert {"day_type", "start_at", "end_at", "overtime_hours", "compensation", "reason"} <= set(refused.value.errors)
    with pytest.raises(FormError) as refused:
        realistic(form(KEY, "overtime_form.json"), overtime(17))
    assert set(refused.value.errors) == {"overtime_hours"}


def test_the_progress_diagram_renders(flow):
    db = flow
    iid = start(db, KEY, "tian.yu", overtime(6))
    approve(db, iid, "superior_approval", "luo.bin")
    svg, progress = progress_svg(db, iid)
    assert "<svg" in svg[:300] and "人事确认工时" in svg
    assert progress["elements"]["leader_approval"]["state"] == "active"
    assert "<svg" in render_definition(bundle(KEY), KEY, lang="en")

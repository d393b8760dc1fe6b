"""Asset requisition and borrowing (资产领用及借用): every route of bpmn/asset_borrowing through the service layer."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from database.base import utcnow
from diagrams.render import render_definition
from forms.schema import FormError
from instances import directory
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
    start,
    status,
    waiting,
    wake,
)

KEY = "asset_borrowing"
OFFICE = ("admin", "song.jia", "zhang.wei")
LATER = (date.today() + timedelta(days=30)).isoformat()


@pytest.fixture
def flow(db):
    deploy(db, KEY)
    yield db
    directory.set_directory(None)


def request(kind: str = "borrowing", return_by: str | None = LATER, **extra) -> dict:
    data = {"kind": kind, "items": [
        {"name": "Projector / 投影仪", "asset_tag": "FD-PJ-003", "quantity": 1, "purpose": "客户培训演示"},
        {"name": "Extension cable / 插线板", "quantity": 2, "purpose": "会场供电"}],
        "reason": "华东区客户培训会 / Customer training in Shanghai", **extra}
    if return_by:
        data["return_date"] = return_by
    return data


ISSUE = {"issued_date": "2026-12-01", "handed_over": "投影仪 FD-PJ-003 一台，插线板两个"}


def issue(db, iid: int, who: str = "song.jia") -> str:
    return act(db, iid, "issue_assets", who, ISSUE)


def give_back(db, iid: int, condition: str = "good", notes: str | None = None, who: str = "song.jia") -> str:
    return act(db, iid, "register_return", who, {"returned_date": "2026-12-20", "condition": condition,
                                                 **({"return_notes": notes} if notes else {})})


def test_a_requisition_ends_once_the_assets_are_issued(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", request("requisition", None, items=[
        {"name": "Monitor / 显示器", "asset_tag": "FD-MN-118", "quantity": 1, "purpose": "新员工工位"}]))
    assert waiting(db, iid) == [("leader_approval", "li.na")]
    approve(db, iid, "leader_approval", "li.na")
    assert waiting(db, iid) == [("issue_assets", OFFICE)]
    assert issue(db, iid) == "completed"
    assert waiting(db, iid) == []
    assert done(db, iid) == [("leader_approval", "li.na", "approved"), ("issue_assets", "song.jia", None)]
    assert data_of(db, iid)["handed_over"].startswith("投影仪")
    assert history(db, iid, "copied") == []


def test_a_borrowing_is_issued_and_returned_in_good_order(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", request())
    approve(db, iid, "leader_approval", "li.na")
    issue(db, iid, "admin")
    assert waiting(db, iid) == [("register_return", OFFICE)]  # open until the assets are back
    assert status(db, iid) == "running"
    assert wake(db, iid, utcnow()) is False  # the return date is weeks away
    assert give_back(db, iid) == "completed"
    assert [d[0] for d in done(db, iid)] == ["leader_approval", "issue_assets", "register_return"]
    assert history(db, iid, "copied") == []


@pytest.mark.parametrize("condition, handling", [("damaged", "repair"), ("lost", "compensate")])
def test_a_damaged_or_lost_return_needs_the_leaders_acknowledgement(flow, condition, handling):
    db = flow
    iid = start(db, KEY, "wang.fang", request())
    approve(db, iid, "leader_approval", "li.na")
    issue(db, iid)
    assert give_back(db, iid, condition, "投影仪镜头破裂" if condition == "damaged" else "插线板丢失一个") == "running"
    assert waiting(db, iid) == [("leader_acknowledgement", "li.na")]
    assert act(db, iid, "leader_acknowledgement", "li.na",
               {"handling": handling, "ack_comment": "已知悉，按规定处理"}) == "completed"
    assert [d[0] for d in done(db, iid)] == ["leader_approval", "issue_assets", "register_return",
                                             "leader_acknowledgement"]
    assert data_of(db, iid)["condition"] == condition and data_of(db, iid)["handling"] == handling


def test_a_passed_return_date_reminds_the_borrower_and_the_office(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", request(return_by="2026-01-15"))
    approve(db, iid, "leader_approval", "li.na")
    issue(db, iid)
    if not history(db, iid, "copied"):  # the timer falls due at once or at the worker's next round
        assert wake(db, iid, utcnow() + timedelta(minutes=1))
    [event] = history(db, iid, "copied")
    assert event.element_id == "overdue_notice"
    assert sorted(event.details["to"]) == ["admin", "song.jia", "wang.fang", "zhang.wei"]
    assert "借用资产已逾期" in event.details["note"] and "2026-01-15" in event.details["note"]
    assert waiting(db, iid) == [("register_return", OFFICE)]  # the reminder does not close the borrowing
    assert status(db, iid) == "running"
    assert give_back(db, iid, "damaged", "外壳划伤") == "running"
    act(db, iid, "leader_acknowledgement", "li.na", {"handling": "write_off", "ack_comment": "报损"})
    assert status(db, iid) == "completed"


def test_the_leader_rejects_and_the_request_ends_with_the_comment(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", request())
    assert reject(db, iid, "leader_approval", "li.na", "会议室已有投影仪，无需借用") == "rejected"
    assert waiting(db, iid) == []
    assert done(db, iid) == [("leader_approval", "li.na", "rejected")]
    [ended] = history(db, iid, "instance_rejected")
    assert (ended.element_id, ended.actor, ended.details["comment"]) == ("leader_approval", "li.na",
                                                                         "会议室已有投影仪，无需借用")
    assert "issue_assets" not in [e.element_id for e in history(db, iid, "task_created")]


def test_an_overdue_leader_approval_escalates(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", request())
    run_overdue_actions(db, now=utcnow() + timedelta(days=60))
    assert waiting(db, iid) == [("leader_approval", "zhang.wei")]
    approve(db, iid, "leader_approval", "zhang.wei")
    assert waiting(db, iid) == [("issue_assets", OFFICE)]


def test_a_leaders_own_request_goes_to_their_superior(flow):
    db = flow
    iid = start(db, KEY, "li.na", request())
    assert waiting(db, iid) == [("leader_approval", "zhang.wei")]
    approve(db, iid, "leader_approval", "zhang.wei")
    issue(db, iid)
    give_back(db, iid, "lost", "遗失在客户现场")
    assert waiting(db, iid) == [("leader_acknowledgement", "zhang.wei")]


def test_the_office_returns_the_request_to_the_requester(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", request())
    approve(db, iid, "leader_approval", "li.na")
    send_back(db, iid, "issue_assets", "song.jia", "initiator", "FD-PJ-003 维修中，请改借 FD-PJ-005")
    resubmit(db, iid, "wang.fang", request(items=[
        {"name": "Projector / 投影仪", "asset_tag": "FD-PJ-005", "quantity": 1, "purpose": "客户培训演示"}]))
    assert data_of(db, iid)["items"][0]["asset_tag"] == "FD-PJ-005"
    assert waiting(db, iid) == [("leader_approval", "li.na")]


def test_the_forms_accept_realistic_examples_and_refuse_bad_ones(flow):
    realistic(form(KEY, "asset_borrowing_form.json"), request())
    realistic(form(KEY, "asset_borrowing_form.json"), request("requisition", None))
    realistic(form(KEY, "issue_form.json"), ISSUE)
    realistic(form(KEY, "return_form.json"), {"returned_date": "2026-12-20", "condition": "good"})
    realistic(form(KEY, "acknowledgement_form.json"), {"handling": "write_off", "ack_comment": "报损核销"})
    with pytest.raises(FormError) as refused:
        realistic(form(KEY, "asset_borrowing_form.json"), request(return_by=None))
    assert "return_date" in refused.value.errors  # a borrowing says when it comes back
    with pytest.raises(FormError) as refused:
        realistic(form(KEY, "asset_borrowing_form.json"), {
            "kind": "gift", "reason": "要", "items": [{"name": "", "asset_tag": "编号 1", "quantity": 0, "purpose": ""}]})
    assert {"kind", "reason", "items[0].quantity", "items[0].asset_tag"} <= set(refused.value.errors)
    with pytest.raises(FormError) as refused:
        realistic(form(KEY, "return_form.json"), {"returned_date": "yesterday", "condition": "fine"})
    assert {"returned_date", "condition"} <= set(refused.value.errors)


def test_the_progress_diagram_renders(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", request())
    approve(db, iid, "leader_approval", "li.na")
    issue(db, iid)
    svg, progress = progress_svg(db, iid)
    assert "<svg" in svg[:300] and "归还登记" in svg and "超过归还日期" in svg
    assert progress["elements"]["register_return"]["state"] == "active"
    assert "<svg" in render_definition(bundle(KEY), KEY, lang="en")

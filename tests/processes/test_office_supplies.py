"""Office supplies request (办公用品申领): every route of bpmn/office_supplies through the service layer."""
from __future__ import annotations

from datetime import timedelta

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
    items,
    progress_svg,
    realistic,
    reject,
    start,
    status,
    waiting,
)

KEY = "office_supplies"
OFFICE = ("admin", "song.jia", "zhang.wei")


@pytest.fixture
def flow(db):
    deploy(db, KEY)
    yield db
    directory.set_directory(None)


def request(*lines: tuple[str, int, str, str], urgency: str = "normal", **extra) -> dict:
    return {"urgency": urgency, "needed_by": "2026-12-10", "remarks": "新员工入职 / New hire",
            "items": [{"item": item, "quantity": qty, "unit": unit, "unit_price": price}
                      for item, qty, unit, price in lines], **extra}


SMALL = (("A4 paper / A4 复印纸", 2, "包", "25"), ("Gel pens / 中性笔", 10, "支", "3.5"))  # 85.00
LARGE = (("Toner / 硒鼓", 2, "个", "420"), ("Stapler / 订书机", 1, "个", "45"))  # 885.00


def hand_out(db, iid: int, handed: str = "all", who: str = "song.jia") -> str:
    return act(db, iid, "hand_out", who, {"handed_out_date": "2026-12-02", "handed_out": handed})


def confirm(db, iid: int, receipt: str = "complete", comment: str | None = None) -> str:
    return act(db, iid, "confirm_receipt", "wang.fang", {"received_date": "2026-12-02", "receipt": receipt,
                                                         **({"receipt_comment": comment} if comment else {})})


def test_up_to_500_goes_straight_to_the_office(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", request(*SMALL))
    assert [r["amount"] for r in data_of(db, iid)["items"]] == ["50.00", "35.00"]
    assert data_of(db, iid)["total"] == "85.00"
    assert waiting(db, iid) == [("hand_out", OFFICE)]
    hand_out(db, iid)
    assert waiting(db, iid) == [("confirm_receipt", "wang.fang")]
    assert confirm(db, iid) == "completed"
    assert done(db, iid) == [("hand_out", "song.jia", None), ("confirm_receipt", "wang.fang", None)]
    assert "leader_approval" not in [e.element_id for e in history(db, iid, "task_created")]


def test_exactly_500_needs_no_approval(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", request(("Desk organiser / 桌面收纳架", 4, "个", "125")))
    assert data_of(db, iid)["total"] == "500.00"
    assert waiting(db, iid) == [("hand_out", OFFICE)]


def test_above_500_the_department_leader_approves_first(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", request(*LARGE))
    assert data_of(db, iid)["total"] == "885.00"
    assert waiting(db, iid) == [("leader_approval", "li.na")]
    approve(db, iid, "leader_approval", "li.na")
    assert waiting(db, iid) == [("hand_out", OFFICE)]
    hand_out(db, iid, who="admin")
    assert confirm(db, iid) == "completed"
    assert [d[:2] for d in done(db, iid)] == [("leader_approval", "li.na"), ("hand_out", "admin"),
                                             ("confirm_receipt", "wang.fang")]


def test_the_leader_rejects_and_the_request_ends(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", request(*LARGE))
    assert reject(db, iid, "leader_approval", "li.na", "硒鼓库存充足，请先领用库存") == "rejected"
    assert waiting(db, iid) == [] and status(db, iid) == "rejected"
    [ended] = history(db, iid, "instance_rejected")
    assert ended.details["comment"] == "硒鼓库存充足，请先领用库存"
    assert "hand_out" not in [i.element_id for i in items(db, iid)]


def test_missing_items_go_back_to_the_office_until_everything_is_received(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", request(*SMALL))
    hand_out(db, iid, "partly")
    assert confirm(db, iid, "missing", "中性笔未领到") == "running"
    assert waiting(db, iid) == [("hand_out", OFFICE)]
    hand_out(db, iid, who="zhang.wei")
    assert confirm(db, iid) == "completed"
    assert [d[0] for d in done(db, iid)] == ["hand_out", "confirm_receipt", "hand_out", "confirm_receipt"]


def test_urgent_requests_are_due_sooner_and_rank_higher_at_the_office(flow):
    db = flow
    normal = start(db, KEY, "wang.fang", request(*SMALL))
    urgent = start(db, KEY, "wang.fang", request(*SMALL, urgency="urgent"))
    [n] = [i for i in items(db, normal) if i.element_id == "hand_out"]
    [u] = [i for i in items(db, urgent) if i.element_id == "hand_out"]
    assert (u.priority, n.priority) == (70, 45)
    assert u.due_at is not None and n.due_at is not None and u.due_at < n.due_at


def test_an_overdue_leader_approval_escalates(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", request(*LARGE))
    run_overdue_actions(db, now=utcnow() + timedelta(days=60))
    assert waiting(db, iid) == [("leader_approval", "zhang.wei")]
    assert status(db, iid) == "running"


def test_a_leaders_own_large_request_goes_to_their_superior(flow):
    db = flow
    iid = start(db, KEY, "li.na", request(*LARGE))
    assert waiting(db, iid) == [("leader_approval", "zhang.wei")]


def test_the_forms_accept_realistic_examples_and_refuse_bad_ones(flow):
    checked = realistic(form(KEY, "office_supplies_form.json"), request(("Notebook / 笔记本", 3, "本", "12.8")))
    assert (checked["items"][0]["amount"], checked["total"]) == ("38.40", "38.40")
    realistic(form(KEY, "hand_out_form.json"), {"handed_out_date": "2026-12-02", "handed_out": "partly",
                                                "hand_out_notes": "中性笔缺货，周五补发"})
    realistic(form(KEY, "receipt_form.json"), {"received_date": "2026-12-02", "receipt": "complete"})
    with pytest.raises(FormError) as refused:
        realistic(form(KEY, "office_supplies_form.json"), {
            "urgency": "yesterday", "items": [{"item": "", "quantity": 0, "unit": "", "unit_price": "0"}]})
    assert {"urgency", "items[0].quantity", "items[0].unit_price"} <= set(refused.value.errors)
    with pytest.raises(FormError) as refused:
        realistic(form(KEY, "office_supplies_form.json"), {"urgency": "normal", "items": []})
    assert "items" in refused.value.errors


def test_the_progress_diagram_renders(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", request(*LARGE))
    approve(db, iid, "leader_approval", "li.na")
    svg, progress = progress_svg(db, iid)
    assert "<svg" in svg[:300] and "发放办公用品" in svg and "部门负责人审批" in svg
    assert progress["elements"]["hand_out"]["state"] == "active"
    assert progress["elements"]["leader_approval"]["state"] != "active"
    assert "<svg" in render_definition(bundle(KEY), KEY, lang="en")

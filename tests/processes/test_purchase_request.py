"""Purchase request (采购申请): every route of bpmn/purchase_request through the service layer."""
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
    resubmit,
    send_back,
    start,
    status,
    waiting,
)

KEY = "purchase_request"
FINANCE = ("sun.li", "zhao.lei")
OFFICE = ("admin", "song.jia", "zhang.wei")


@pytest.fixture
def flow(db):
    deploy(db, KEY)
    yield db
    directory.set_directory(None)


def request(*lines: tuple[str, int, str], **extra) -> dict:
    rows = [{"name": name, "spec": spec, "quantity": qty, "unit": "台", "unit_price": price}
            for (name, qty, price), spec in zip(lines, ["ThinkPad T14 i7/32G/1T", "27\" 4K", "A4 80g"] * 10,
                                                strict=False)]
    return {"subject": "销售部新员工办公设备 / Equipment for new sales staff", "purchase_type": "it_hardware",
            "department": "sales", "needed_by": "2026-12-20", "items": rows, "supplier": "京东企业购",
            "reason": "两名新员工12月入职 / Two new hires start in December", **extra}


ORDER = {"order_date": "2026-12-02", "supplier_name": "京东企业购 / JD Enterprise", "order_no": "JD-PO-88213",
         "expected_delivery": "2026-12-09"}


def order(db, iid: int, who: str = "song.jia") -> str:
    return act(db, iid, "place_order", who, {**ORDER, "order_amount": data_of(db, iid)["total"]})


def receive(db, iid: int, receipt: str = "complete", comment: str | None = None) -> str:
    return act(db, iid, "receive_goods", "wang.fang", {"received_date": "2026-12-09", "receipt": receipt,
                                                       **({"comment": comment} if comment else {})})


def test_a_small_purchase_needs_only_the_department_leader(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", request(("Keyboard and mouse / 键鼠套装", 2, "199"),
                                              ("Monitor / 显示器", 2, "1899.50")))
    assert [r["amount"] for r in data_of(db, iid)["items"]] == ["398.00", "3799.00"]
    assert data_of(db, iid)["total"] == "4197.00"
    assert waiting(db, iid) == [("leader_approval", "li.na")]
    approve(db, iid, "leader_approval", "li.na")
    assert waiting(db, iid) == [("place_order", OFFICE)]
    order(db, iid)
    assert waiting(db, iid) == [("receive_goods", "wang.fang")]
    assert receive(db, iid) == "completed"
    assert [d[0] for d in done(db, iid)] == ["leader_approval", "place_order", "receive_goods"]
    assert data_of(db, iid)["order_no"] == "JD-PO-88213"


def test_between_10000_and_50000_finance_approves_too(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", request(("Laptop / 笔记本电脑", 2, "9800")))  # 19,600
    approve(db, iid, "leader_approval", "li.na")
    assert waiting(db, iid) == [("finance_approval", FINANCE)]
    approve(db, iid, "finance_approval", "zhao.lei", "预算内，同意")
    assert waiting(db, iid) == [("place_order", OFFICE)]


def test_exactly_10000_and_50000_take_the_lower_route(flow):
    db = flow
    small = start(db, KEY, "wang.fang", request(("Printer / 打印机", 1, "10000")))
    approve(db, small, "leader_approval", "li.na")
    assert waiting(db, small) == [("place_order", OFFICE)]
    middle = start(db, KEY, "wang.fang", request(("Laptop / 笔记本电脑", 5, "10000")))
    approve(db, middle, "leader_approval", "li.na")
    assert waiting(db, middle) == [("finance_approval", FINANCE)]


def test_over_50000_finance_and_the_general_manager_both_sign(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", request(("Laptop / 笔记本电脑", 6, "9800"), ("Monitor / 显示器", 6, "1899")))
    assert data_of(db, iid)["total"] == "70194.00"
    approve(db, iid, "leader_approval", "li.na")
    assert waiting(db, iid) == [("joint_signoff", "zhang.wei"), ("joint_signoff", "zhao.lei")]
    approve(db, iid, "joint_signoff", "zhang.wei")
    assert waiting(db, iid) == [("joint_signoff", "zhao.lei")]  # all: the finance manager must sign too
    approve(db, iid, "joint_signoff", "zhao.lei")
    assert waiting(db, iid) == [("place_order", OFFICE)]
    assert data_of(db, iid)["joint_signoff_result"]["outcome"] == "approved"
    order(db, iid, "admin")
    assert receive(db, iid) == "completed"


def test_one_veto_in_the_joint_signoff_rejects_the_request(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", request(("Server / 服务器", 1, "88000"), purchase_type="office_equipment"))
    approve(db, iid, "leader_approval", "li.na")
    assert reject(db, iid, "joint_signoff", "zhao.lei", "年度预算不足") == "rejected"
    assert waiting(db, iid) == []
    cancelled = [i for i in items(db, iid) if i.status == "cancelled"]
    assert [(i.element_id, i.assignee) for i in cancelled] == [("joint_signoff", "zhang.wei")]
    assert history(db, iid, "instance_rejected")


@pytest.mark.parametrize("step, who, earlier", [
    ("leader_approval", "li.na", []),
    ("finance_approval", "sun.li", [("leader_approval", "li.na")]),
])
def test_a_rejection_ends_the_request(flow, step, who, earlier):
    db = flow
    iid = start(db, KEY, "wang.fang", request(("Laptop / 笔记本电脑", 2, "9800")))
    for element, person in earlier:
        approve(db, iid, element, person)
    assert reject(db, iid, step, who, "可用旧设备调拨") == "rejected"
    assert waiting(db, iid) == [] and "place_order" not in [i.element_id for i in items(db, iid)]


def test_finance_returns_the_request_to_the_requester(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", request(("Laptop / 笔记本电脑", 2, "9800")))
    approve(db, iid, "leader_approval", "li.na")
    send_back(db, iid, "finance_approval", "sun.li", "initiator", "请附三家比价单")
    resubmit(db, iid, "wang.fang", request(("Laptop / 笔记本电脑", 2, "9300"), supplier="联想官方直营"))
    assert data_of(db, iid)["total"] == "18600.00"
    assert waiting(db, iid) == [("leader_approval", "li.na")]


def test_a_partial_delivery_is_followed_up_until_everything_arrived(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", request(("Paper / 复印纸", 20, "25"), purchase_type="consumables"))
    approve(db, iid, "leader_approval", "li.na")
    order(db, iid)
    receive(db, iid, "partial", "只到了10箱")
    assert waiting(db, iid) == [("follow_up_delivery", OFFICE)]
    act(db, iid, "follow_up_delivery", "song.jia", {"resolution": "供应商确认补发10箱", "expected_delivery": "2026-12-11"})
    assert waiting(db, iid) == [("receive_goods", "wang.fang")]
    assert receive(db, iid) == "completed"
    assert [d[0] for d in done(db, iid)].count("receive_goods") == 2


def test_an_overdue_leader_approval_escalates(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", request(("Chair / 办公椅", 2, "800")))
    run_overdue_actions(db, now=utcnow() + timedelta(days=60))
    assert waiting(db, iid) == [("leader_approval", "zhang.wei")]
    assert status(db, iid) == "running"


def test_the_forms_accept_realistic_examples_and_refuse_bad_ones(flow):
    checked = realistic(form(KEY, "purchase_request_form.json"), request(("Toner / 硒鼓", 3, "420.5")))
    assert (checked["items"][0]["amount"], checked["total"]) == ("1261.50", "1261.50")
    realistic(form(KEY, "order_form.json"), {**ORDER, "order_amount": "1261.50"})
    realistic(form(KEY, "receipt_form.json"), {"received_date": "2026-12-09", "receipt": "complete"})
    realistic(form(KEY, "follow_up_form.json"), {"resolution": "供应商补发", "expected_delivery": "2026-12-12"})
    with pytest.raises(FormError) as refused:
        realistic(form(KEY, "purchase_request_form.json"), {
            "subject": "x", "purchase_type": "yacht", "department": "sales", "needed_by": "soon",
            "items": [{"name": "", "quantity": 0, "unit": "个", "unit_price": "0"}], "reason": "要"})
    assert {"subject", "purchase_type", "needed_by", "items[0].quantity", "items[0].unit_price",
            "reason"} <= set(refused.value.errors)


def test_the_progress_diagram_renders(flow):
    db = flow
    iid = start(db, KEY, "wang.fang", request(("Server / 服务器", 1, "88000")))
    approve(db, iid, "leader_approval", "li.na")
    svg, progress = progress_svg(db, iid)
    assert "<svg" in svg[:300] and "财务与总经理会签" in svg
    assert progress["elements"]["joint_signoff"]["state"] == "active"
    assert "<svg" in render_definition(bundle(KEY), KEY, lang="en")

"""Project initiation (项目立项): every route of bpmn/project_initiation through the service layer."""
from __future__ import annotations

import pytest

from database.base import utcnow
from diagrams.render import render_definition
from forms.schema import FormError
from instances import directory, verbs

from .common import (
    act,
    actor,
    approve,
    bundle,
    data_of,
    deploy,
    done,
    form,
    history,
    items,
    open_item,
    progress_svg,
    realistic,
    resubmit,
    send_back,
    start,
    status,
    waiting,
)

KEY = "project_initiation"
TEAM = [{"user": "luo.bin", "role": "项目经理 / PM", "allocation": 80}, {"user": "gao.yu", "role": "后端开发"},
        {"user": "wang.fang", "role": "业务代表 / Business owner", "allocation": 20}]


@pytest.fixture
def flow(db):
    deploy(db, KEY)
    yield db
    directory.set_directory(None)


def proposal(budget: str = "85000", **extra) -> dict:
    return {"project_name": "CRM 移动端二期 / CRM mobile phase 2", "project_type": "it_system",
            "sponsor_department": "tech", "project_manager": "luo.bin", "budget": budget,
            "schedule": {"start": "2027-01-04", "end": "2027-04-30"},
            "objectives": "上线移动端拜访签到、商机跟进和审批，销售人员外勤录入率达到90%。",
            "deliverables": "2月原型评审；3月测试版；4月正式上线", "team": TEAM, **extra}


FINANCE_OK = {"decision": "approve", "budget_source": "annual", "cost_center": "TECH-2027"}


def copied_to(db, iid: int) -> list[str]:
    return [name for event in history(db, iid, "copied") for name in event.details["to"]]


def test_a_small_project_needs_the_department_leader_and_the_general_manager(flow):
    db = flow
    iid = start(db, KEY, "luo.bin", proposal())
    assert data_of(db, iid)["budget"] == "85000.00"
    assert waiting(db, iid) == [("leader_approval", "he.jun")]
    approve(db, iid, "leader_approval", "he.jun")
    assert waiting(db, iid) == [("gm_approval", "zhang.wei")]
    assert approve(db, iid, "gm_approval", "zhang.wei", "同意立项") == "completed"
    assert copied_to(db, iid) == ["luo.bin", "gao.yu", "wang.fang"]
    notes = [e.details["note"] for e in history(db, iid, "copied")]
    assert notes[1] == "项目已立项 / Project approved: CRM 移动端二期 / CRM mobile phase 2 (后端开发)"
    assert [d[:2] for d in done(db, iid)] == [("leader_approval", "he.jun"), ("gm_approval", "zhang.wei")]


def test_over_100000_finance_reviews_and_exactly_100000_does_not(flow):
    db = flow
    large = start(db, KEY, "luo.bin", proposal("380000"))
    approve(db, large, "leader_approval", "he.jun")
    assert waiting(db, large) == [("finance_review", "zhao.lei")]
    act(db, large, "finance_review", "zhao.lei", FINANCE_OK)
    assert waiting(db, large) == [("gm_approval", "zhang.wei")]
    assert approve(db, large, "gm_approval", "zhang.wei") == "completed"
    assert data_of(db, large)["budget_source"] == "annual"
    edge = start(db, KEY, "luo.bin", proposal("100000"))
    approve(db, edge, "leader_approval", "he.jun")
    assert waiting(db, edge) == [("gm_approval", "zhang.wei")]


def test_the_sponsoring_department_decides_who_approves_first(flow):
    db = flow
    iid = start(db, KEY, "lin.xue", proposal(project_name="2027春季新品发布会", project_type="marketing",
                                            sponsor_department="marketing", project_manager="lin.xue",
                                            team=[{"user": "david.lee", "role": "Event lead"}]))
    assert waiting(db, iid) == [("leader_approval", "guo.tao")]
    # a leader proposing for their own department is approved by their superior
    own = start(db, KEY, "he.jun", proposal())
    assert waiting(db, own) == [("leader_approval", "zhang.wei")]
    assert history(db, own, "task_redirected")


@pytest.mark.parametrize("step, who, earlier", [
    ("leader_approval", "he.jun", []),
    ("finance_review", "zhao.lei", [("leader_approval", "he.jun")]),
    ("gm_approval", "zhang.wei", [("leader_approval", "he.jun"), ("finance_review", "zhao.lei")]),
])
def test_a_rejection_ends_the_project(flow, step, who, earlier):
    db = flow
    iid = start(db, KEY, "luo.bin", proposal("380000"))
    for element, person in earlier:
        act(db, iid, element, person, FINANCE_OK if element == "finance_review" else {"decision": "approve"})
    data = {"decision": "reject", **({"budget_source": "none"} if step == "finance_review" else {})}
    assert act(db, iid, step, who, data, comment="今年预算已满") == "rejected"
    assert status(db, iid) == "rejected" and waiting(db, iid) == []
    assert history(db, iid, "copied") == []


@pytest.mark.parametrize("step, who", [("leader_approval", "he.jun"), ("finance_review", "zhao.lei"),
                                       ("gm_approval", "zhang.wei")])
def test_each_approver_returns_the_proposal_and_the_resubmission_runs_again(flow, step, who):
    db = flow
    iid = start(db, KEY, "luo.bin", proposal("380000"))
    if step != "leader_approval":
        approve(db, iid, "leader_approval", "he.jun")
    if step == "gm_approval":
        act(db, iid, "finance_review", "zhao.lei", FINANCE_OK)
    send_back(db, iid, step, who, "initiator", "请把预算拆分到季度")
    assert [(i.kind, i.assignee) for i in items(db, iid) if i.status == "open"] == [("resubmit", "luo.bin")]
    resubmit(db, iid, "luo.bin", proposal("96000"))
    assert waiting(db, iid) == [("leader_approval", "he.jun")]
    approve(db, iid, "leader_approval", "he.jun")
    assert waiting(db, iid) == [("gm_approval", "zhang.wei")]  # now under 100,000: no finance review
    assert approve(db, iid, "gm_approval", "zhang.wei") == "completed"


def test_the_applicant_urges_each_approver(flow):
    db = flow
    now = utcnow()
    iid = start(db, KEY, "luo.bin", proposal("380000"))
    for element, who in [("leader_approval", "he.jun"), ("finance_review", "zhao.lei"), ("gm_approval", "zhang.wei")]:
        item = open_item(db, iid, element, who)
        with db.command() as session:
            verbs.urge_task(session=session, work_item_id=item.id, actor=actor(db, "luo.bin"), comment="项目1月启动",
                            now=now)
        act(db, iid, element, who, FINANCE_OK if element == "finance_review" else {"decision": "approve"})
    assert [(e.element_id, e.details["to"]) for e in history(db, iid, "task_urged")] == [
        ("leader_approval", ["he.jun"]), ("finance_review", ["zhao.lei"]), ("gm_approval", ["zhang.wei"])]


def test_the_forms_accept_realistic_examples_and_refuse_bad_ones(flow):
    checked = realistic(form(KEY, "project_initiation_form.json"), proposal("1250000.5"))
    assert checked["budget"] == "1250000.50"
    realistic(form(KEY, "approval_form.json"), {"decision": "approve", "comment": "同意"})
    realistic(form(KEY, "finance_review_form.json"), FINANCE_OK)
    with pytest.raises(FormError) as refused:
        realistic(form(KEY, "project_initiation_form.json"), proposal(
            "0", project_name="x", schedule={"start": "2027-05-01", "end": "2027-01-01"},
            team=[{"user": "luo.bin", "role": "", "allocation": 120}]))
    assert {"project_name", "budget", "schedule", "team[0].role", "team[0].allocation"} <= set(refused.value.errors)
    with pytest.raises(FormError) as refused:
        realistic(form(KEY, "project_initiation_form.json"), proposal(team=[]))
    assert "team" in refused.value.errors


def test_the_progress_diagram_renders(flow):
    db = flow
    iid = start(db, KEY, "luo.bin", proposal("380000"))
    approve(db, iid, "leader_approval", "he.jun")
    svg, progress = progress_svg(db, iid)
    assert "<svg" in svg[:300] and "财务审核" in svg
    assert progress["elements"]["finance_review"]["state"] == "active"
    assert "<svg" in render_definition(bundle(KEY), KEY, lang="en")

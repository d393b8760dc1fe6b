"""Rules countersign (规章制度会签): every route of bpmn/rules_countersign through the service layer."""
from __future__ import annotations

from datetime import timedelta

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
    reject,
    resubmit,
    send_back,
    skipped,
    start,
    status,
    waiting,
)

KEY = "rules_countersign"
OFFICE = ("admin", "song.jia", "zhang.wei")
LEADERS = {"office": "zhang.wei", "sales": "li.na", "finance": "zhao.lei", "hr": "zhou.min", "service": "xu.hui",
           "marketing": "guo.tao", "tech": "he.jun"}


@pytest.fixture
def flow(db):
    deploy(db, KEY)
    yield db
    directory.set_directory(None)


def draft(departments=("finance", "sales", "tech"), rule: str = "all", **extra) -> dict:
    return {"title": "员工考勤与休假管理制度（2027年修订）", "regulation_type": "hr", "change": "revision",
            "effective_from": "2027-01-01", "sign_rule": rule, "departments": list(departments),
            "purpose": "统一弹性工作制下的考勤口径，明确调休与年假的申请和审批流程。",
            "body": "<h3>第一章 总则</h3><p>第一条 为规范公司考勤管理，制定本制度。</p>"
                    "<p>第二条 本制度适用于公司全体员工。</p>", **extra}


PUBLISH = {"regulation_number": "FD-HR-012-A1", "published_on": "2026-12-20", "effective_on": "2027-01-01"}


def sign(db, iid: int, element: str, who: str, agree: bool = True) -> str:
    return act(db, iid, element, who, {"decision": "approve" if agree else "reject",
                                       "comment": "同意" if agree else "不同意，条款与现行制度冲突"})


def seats(*codes: str, element: str = "sign_all") -> list[tuple[str, str]]:
    return sorted((element, LEADERS[c]) for c in codes)


def finish(db, iid: int) -> str:
    approve(db, iid, "legal_review", "song.jia", "条款合法合规")
    approve(db, iid, "gm_approval", "zhang.wei", "同意发布")
    return act(db, iid, "publish", "song.jia", PUBLISH)


def test_every_department_agrees_then_review_approval_and_publishing(flow):
    db = flow
    iid = start(db, KEY, "wu.qiang", draft())
    assert waiting(db, iid) == seats("finance", "sales", "tech")
    for code in ("finance", "sales"):
        sign(db, iid, "sign_all", LEADERS[code])
    assert waiting(db, iid) == seats("tech")  # all: the last department must agree too
    sign(db, iid, "sign_all", "he.jun")
    assert data_of(db, iid)["sign_all_result"]["outcome"] == "approved"
    assert waiting(db, iid) == [("legal_review", OFFICE)]
    approve(db, iid, "legal_review", "song.jia")
    assert waiting(db, iid) == [("gm_approval", "zhang.wei")]
    approve(db, iid, "gm_approval", "zhang.wei")
    assert waiting(db, iid) == [("publish", OFFICE)]
    assert act(db, iid, "publish", "song.jia", PUBLISH) == "completed"
    copied = sorted(n for e in history(db, iid, "copied") for n in e.details["to"])
    assert copied == sorted(["sun.li", "zhao.lei", "emma.chen", "li.na", "liu.yang", "wang.fang", "gao.yu", "he.jun",
                             "luo.bin"])
    assert [d[0] for d in done(db, iid)] == ["sign_all"] * 3 + ["legal_review", "gm_approval", "publish"]


def test_one_objection_vetoes_the_all_rule(flow):
    db = flow
    iid = start(db, KEY, "wu.qiang", draft())
    sign(db, iid, "sign_all", "li.na")
    assert sign(db, iid, "sign_all", "zhao.lei", agree=False) == "rejected"
    assert sorted(i.assignee for i in items(db, iid) if i.status == "cancelled") == ["he.jun"]
    assert waiting(db, iid) == [] and history(db, iid, "instance_rejected")


def test_the_majority_rule_passes_with_more_than_half(flow):
    db = flow
    iid = start(db, KEY, "wu.qiang", draft(("finance", "sales", "tech", "service"), rule="majority"))
    assert waiting(db, iid) == seats("finance", "sales", "tech", "service", element="sign_majority")
    sign(db, iid, "sign_majority", "zhao.lei")
    sign(db, iid, "sign_majority", "li.na", agree=False)
    sign(db, iid, "sign_majority", "he.jun")
    assert waiting(db, iid) == [("sign_majority", "xu.hui")]  # 2 of 4 is not more than half
    sign(db, iid, "sign_majority", "xu.hui")
    result = data_of(db, iid)["sign_majority_result"]
    assert (result["outcome"], result["approved"], result["rejected"]) == ("approved", 3, 1)
    assert waiting(db, iid) == [("legal_review", OFFICE)]
    assert finish(db, iid) == "completed"


def test_the_majority_rule_ends_early_once_decided(flow):
    db = flow
    iid = start(db, KEY, "wu.qiang", draft(("finance", "sales", "tech"), rule="majority"))
    sign(db, iid, "sign_majority", "zhao.lei")
    sign(db, iid, "sign_majority", "he.jun")
    assert waiting(db, iid) == [("legal_review", OFFICE)]
    assert [i.assignee for i in items(db, iid) if i.status == "cancelled"] == ["li.na"]


def test_the_majority_rule_fails_on_a_split(flow):
    db = flow
    iid = start(db, KEY, "wu.qiang", draft(("finance", "sales", "tech", "service"), rule="majority"))
    sign(db, iid, "sign_majority", "zhao.lei")
    sign(db, iid, "sign_majority", "li.na", agree=False)
    assert sign(db, iid, "sign_majority", "he.jun", agree=False) == "rejected"  # 2-2 can no longer be a majority
    assert data_of(db, iid)["sign_majority_result"]["outcome"] == "rejected"
    assert history(db, iid, "instance_rejected") and waiting(db, iid) == []


def test_the_drafting_leaders_own_seat_counts_as_agreement(flow):
    db = flow
    iid = start(db, KEY, "zhou.min", draft(("hr", "finance")))
    assert skipped(db, iid) == [("sign_all", "approver_is_initiator")]
    assert waiting(db, iid) == seats("finance")
    sign(db, iid, "sign_all", "zhao.lei")
    assert waiting(db, iid) == [("legal_review", OFFICE)]


@pytest.mark.parametrize("step, who", [("legal_review", "song.jia"), ("gm_approval", "zhang.wei")])
def test_a_rejection_after_the_countersign_ends_the_draft(flow, step, who):
    db = flow
    iid = start(db, KEY, "wu.qiang", draft(("finance",)))
    sign(db, iid, "sign_all", "zhao.lei")
    if step == "gm_approval":
        approve(db, iid, "legal_review", "admin")
    assert reject(db, iid, step, who, "与劳动法第四十一条冲突") == "rejected"
    assert status(db, iid) == "rejected" and "publish" not in [i.element_id for i in items(db, iid)]


@pytest.mark.parametrize("step, who", [("sign_all", "zhao.lei"), ("legal_review", "song.jia"),
                                       ("gm_approval", "zhang.wei")])
def test_each_reviewer_returns_the_draft_and_the_resubmission_runs_again(flow, step, who):
    db = flow
    iid = start(db, KEY, "wu.qiang", draft(("finance", "sales")))
    if step != "sign_all":
        sign(db, iid, "sign_all", "zhao.lei")
        sign(db, iid, "sign_all", "li.na")
    if step == "gm_approval":
        approve(db, iid, "legal_review", "song.jia")
    send_back(db, iid, step, who, "initiator", "请补充加班调休折算条款")
    assert [(i.kind, i.assignee) for i in items(db, iid) if i.status == "open"] == [("resubmit", "wu.qiang")]
    resubmit(db, iid, "wu.qiang", draft(("finance", "sales", "service"), rule="majority"))
    assert waiting(db, iid) == seats("finance", "sales", "service", element="sign_majority")
    sign(db, iid, "sign_majority", "zhao.lei")
    sign(db, iid, "sign_majority", "xu.hui")
    assert finish(db, iid) == "completed"


def test_the_drafter_urges_the_departments_and_the_general_manager(flow):
    db = flow
    now = utcnow()
    iid = start(db, KEY, "wu.qiang", draft(("finance",)))
    for element, who in [("sign_all", "zhao.lei"), ("legal_review", "song.jia"), ("gm_approval", "zhang.wei")]:
        item = open_item(db, iid, element, who)
        with db.command() as session:
            verbs.urge_task(session=session, work_item_id=item.id, actor=actor(db, "wu.qiang"), comment="请尽快会签",
                            now=now)
        now += timedelta(hours=1)
        (sign if element == "sign_all" else approve)(db, iid, element, who)
    urged = history(db, iid, "task_urged")
    assert [(e.element_id, e.details["to"]) for e in urged] == [
        ("sign_all", ["zhao.lei"]), ("legal_review", ["admin", "song.jia", "zhang.wei"]),
        ("gm_approval", ["zhang.wei"])]


def test_the_forms_accept_realistic_examples_and_refuse_bad_ones(flow):
    realistic(form(KEY, "rules_countersign_form.json"), draft())
    realistic(form(KEY, "countersign_form.json"), {"decision": "reject", "comment": "第五条与财务制度冲突",
                                                   "suggested_changes": "建议删除第五条第二款"})
    realistic(form(KEY, "review_form.json"), {"decision": "approve", "comment": "合规"})
    realistic(form(KEY, "publish_form.json"), PUBLISH)
    realistic(form(KEY, "publish_form.json"), {**PUBLISH, "regulation_number": "FD-FIN-003"})
    with pytest.raises(FormError) as refused:
        realistic(form(KEY, "rules_countersign_form.json"), draft((), rule="unanimous", regulation_type="misc"))
    assert {"departments", "sign_rule", "regulation_type"} <= set(refused.value.errors)
    with pytest.raises(FormError) as refused:
        realistic(form(KEY, "publish_form.json"), {**PUBLISH, "regulation_number": "第12号"})
    assert set(refused.value.errors) == {"regulation_number"}


def test_the_progress_diagram_renders(flow):
    db = flow
    iid = start(db, KEY, "wu.qiang", draft(rule="majority"))
    svg, progress = progress_svg(db, iid)
    assert "<svg" in svg[:300] and "各部门票签" in svg
    assert progress["elements"]["sign_majority"]["state"] == "active"
    assert "<svg" in render_definition(bundle(KEY), KEY, lang="en")

"""Adding signers (加签) and removing them (减签) through the service layer, on SQLite and PostgreSQL.

Single tasks get co-signers before, after or beside their holder; countersign nodes get members. A rejection by
anyone added still rejects at once, and a return or jump withdraws the added people with the task.
"""
from __future__ import annotations

import pytest

from instances import returns, signers
from instances.actors import Actor
from instances.errors import Conflict, InvalidInput, NotAllowed
from instances.models import ProcessInstance

from .test_returns import ALICE, act, history, items, open_item, send_back, start, status, waiting


def add(db, iid: int, element: str, who: str, users: list[str], position: str, **kw):
    item = open_item(db, iid, element, who)
    with db.command() as session:
        return signers.add_signers(session=session, work_item_id=item.id, actor=Actor(who), users=users,
                                   position=position, **kw)


def remove(db, item_id: int, who: str, users: list[str]):
    with db.command() as session:
        return signers.remove_signers(session=session, work_item_id=item_id, actor=Actor(who), users=users)


def states(db, iid: int, element: str) -> list[tuple[str, str, str]]:
    return [(i.kind, i.assignee, i.status) for i in items(db, iid) if i.element_id == element]


def data(db, iid: int) -> dict:
    with db.query() as session:
        return session.get(ProcessInstance, iid).data


def manager_step(db) -> int:
    iid = start(db, "sequence")
    act(db, iid, "draft", "alice")
    return iid


# -- single tasks ----------------------------------------------------------------------------------------

def test_signers_added_before_decide_first_then_the_task_comes_back(db):
    iid = manager_step(db)
    add(db, iid, "manager", "bob", ["erin", "frank"], "before", comment="legal and IT first")
    assert states(db, iid, "manager") == [("task", "bob", "waiting"), ("cosign", "erin", "open"),
                                          ("cosign", "frank", "pending")]
    assert waiting(db, iid) == [("manager", "erin")]
    act(db, iid, "manager", "erin")
    assert waiting(db, iid) == [("manager", "frank")]
    act(db, iid, "manager", "frank")
    assert waiting(db, iid) == [("manager", "bob")]
    act(db, iid, "manager", "bob")
    assert waiting(db, iid) == [("finance", "carol")]
    [added] = history(db, iid, "signers_added")
    assert (added["users"], added["position"], added["actor"]) == (["erin", "frank"], "before", "bob")
    assert [e["actor"] for e in history(db, iid, "task_cosigned")] == ["erin", "frank"]


def test_signers_added_after_decide_once_the_holder_approves(db):
    iid = manager_step(db)
    add(db, iid, "manager", "bob", ["erin"], "after")
    assert states(db, iid, "manager") == [("task", "bob", "open"), ("cosign", "erin", "pending")]
    act(db, iid, "manager", "bob", data={"note": "fine by me"})
    assert states(db, iid, "manager") == [("task", "bob", "waiting"), ("cosign", "erin", "open")]
    act(db, iid, "manager", "erin")
    assert waiting(db, iid) == [("finance", "carol")]
    assert data(db, iid)["note"] == "fine by me"  # the holder's form data is what the step hands on
    assert states(db, iid, "manager")[0] == ("task", "bob", "completed")


def test_parallel_signers_and_the_holder_decide_in_any_order(db):
    iid = manager_step(db)
    add(db, iid, "manager", "bob", ["erin"], "parallel")
    assert waiting(db, iid) == [("manager", "bob"), ("manager", "erin")]
    act(db, iid, "manager", "erin")
    assert waiting(db, iid) == [("manager", "bob")]
    act(db, iid, "manager", "bob")
    assert waiting(db, iid) == [("finance", "carol")]


def test_add_sign_followed_by_reject_rejects_the_step_at_once(db):
    """director has flowdesk.onReject=initiator: a co-signer's rejection sends the request back too."""
    iid = start(db, "sequence")
    for element, who in (("draft", "alice"), ("manager", "bob"), ("finance", "carol")):
        act(db, iid, element, who)
    add(db, iid, "director", "dave", ["erin", "frank"], "after")
    act(db, iid, "director", "dave")
    act(db, iid, "director", "erin", decision="reject", comment="over budget")
    [back] = [i for i in items(db, iid) if i.status == "open"]
    assert (back.kind, back.assignee) == ("resubmit", "alice")
    assert ("cosign", "frank", "cancelled") in states(db, iid, "director")
    with pytest.raises(InvalidInput):  # a rejection needs a reason, from a co-signer too
        iid2 = manager_step(db)
        add(db, iid2, "manager", "bob", ["erin"], "parallel")
        act(db, iid2, "manager", "erin", decision="reject")


def test_the_holder_rejects_while_co_signers_wait(db):
    iid = manager_step(db)
    add(db, iid, "manager", "bob", ["erin"], "parallel")
    act(db, iid, "manager", "bob", decision="reject", comment="no")
    assert ("cosign", "erin", "cancelled") in states(db, iid, "manager")
    assert waiting(db, iid) == [("finance", "carol")]  # this model routes on, with decision = reject
    assert data(db, iid)["decision"] == "reject"


def test_removing_signers_gives_the_task_back_or_finishes_it(db):
    iid = manager_step(db)
    add(db, iid, "manager", "bob", ["erin"], "before")
    holder = open_item(db, iid, "manager", "erin").id - 1
    with pytest.raises(NotAllowed):
        remove(db, holder, "carol", ["erin"])
    with pytest.raises(InvalidInput):
        remove(db, holder, "bob", ["frank"])
    remove(db, holder, "bob", ["erin"])
    assert waiting(db, iid) == [("manager", "bob")]
    add(db, iid, "manager", "bob", ["frank"], "after")
    act(db, iid, "manager", "bob")
    remove(db, holder, "bob", ["frank"])  # the holder approved: nobody left, so the step ends
    assert waiting(db, iid) == [("finance", "carol")]
    assert [e["users"] for e in history(db, iid, "signers_removed")] == [["erin"], ["frank"]]


def test_bad_signer_requests_are_refused_and_change_nothing(db):
    iid = manager_step(db)
    for users, position in ((["bob"], "after"), ([], "after"), (["erin"], "sideways"), ("erin", "after")):
        with pytest.raises(InvalidInput):
            add(db, iid, "manager", "bob", users, position)
    add(db, iid, "manager", "bob", ["erin"], "parallel")
    with pytest.raises(InvalidInput):
        add(db, iid, "manager", "bob", ["erin"], "after")
    with pytest.raises(Conflict):  # a co-signer cannot add signers of their own
        add(db, iid, "manager", "erin", ["frank"], "after")
    assert states(db, iid, "manager") == [("task", "bob", "open"), ("cosign", "erin", "open")]


def test_a_return_or_a_jump_withdraws_the_added_signers(db):
    iid = manager_step(db)
    add(db, iid, "manager", "bob", ["erin"], "parallel")
    send_back(db, iid, "manager", "bob", "draft")
    assert ("cosign", "erin", "cancelled") in states(db, iid, "manager")
    assert waiting(db, iid) == [("draft", "alice")]
    act(db, iid, "draft", "alice")
    add(db, iid, "manager", "bob", ["erin"], "before")
    with db.command() as session:
        returns.jump(session=session, instance_id=iid, actor=Actor("root", is_admin=True), to="director",
                     reason="urgent")
    assert waiting(db, iid) == [("director", "dave")]
    assert all(s != "open" and s != "waiting" for _, _, s in states(db, iid, "manager"))


# -- countersign nodes ---------------------------------------------------------------------------------------

def countersign(db, members: list[str]) -> int:
    iid = start(db, "countersign", approvers=members)
    act(db, iid, "prepare", "alice")
    return iid


def test_members_added_to_a_countersign_vote_under_its_rule(db):
    iid = countersign(db, ["bob", "carol"])
    add(db, iid, "sign", "bob", ["erin"], "parallel")
    assert waiting(db, iid) == [("sign", "bob"), ("sign", "carol"), ("sign", "erin")]
    for who in ("bob", "carol"):
        act(db, iid, "sign", who)
    assert waiting(db, iid) == [("sign", "erin")]  # rule all: the added member counts
    act(db, iid, "sign", "erin")
    assert waiting(db, iid) == [("publish", "dave")]
    assert data(db, iid)["sign_result"]["instances"] == 3


def test_a_member_added_to_a_countersign_can_reject_it(db):
    iid = countersign(db, ["bob", "carol"])
    add(db, iid, "sign", "bob", ["erin"], "parallel")
    act(db, iid, "sign", "erin", decision="reject", comment="clause 4")
    assert data(db, iid)["sign_result"]["outcome"] == "rejected"
    assert sorted(s for _, who, s in states(db, iid, "sign") if who in ("bob", "carol")) == ["cancelled",
                                                                                          "cancelled"]


def test_removing_the_last_pending_member_decides_the_countersign(db):
    iid = countersign(db, ["bob", "carol", "erin"])
    act(db, iid, "sign", "bob")
    act(db, iid, "sign", "carol")
    with pytest.raises(InvalidInput):
        remove(db, open_item(db, iid, "sign", "erin").id, "erin", ["bob"])  # bob decided already
    remove(db, open_item(db, iid, "sign", "erin").id, "erin", ["erin"])
    assert waiting(db, iid) == [("publish", "dave")]
    assert data(db, iid)["sign_result"]["instances"] == 2


def test_a_countersign_in_turn_takes_signers_before_and_after(db):
    from definitions import service as definitions
    from instances import service
    from tests.conftest import DATA

    with db.command() as session:
        version, _ = definitions.deploy(session=session, files={"s.bpmn": (DATA / "countersign" / "sequential.bpmn")
                                                                .read_bytes()}, actor="designer")
        iid = service.start_instance(session=session, key=version.key, actor=ALICE,
                                     data={"approvers": ["bob", "carol"]}).id
    element = waiting(db, iid)[0][0]
    add(db, iid, element, "bob", ["erin"], "after")
    with pytest.raises(InvalidInput):
        add(db, iid, element, "bob", ["frank"], "parallel")
    act(db, iid, element, "bob")
    assert waiting(db, iid) == [(element, "erin")]
    add(db, iid, element, "erin", ["frank"], "before")
    assert waiting(db, iid) == [(element, "frank")]
    act(db, iid, element, "frank")
    assert waiting(db, iid) == [(element, "erin")]
    remove(db, open_item(db, iid, element, "erin").id, "erin", ["carol"])
    act(db, iid, element, "erin")
    assert status(db, iid) == "running" and waiting(db, iid)[0][0] != element


# -- assist (协办) -------------------------------------------------------------------------------------------

def ask(db, iid: int, element: str, who: str, users: list[str], comment: str | None = "what do you think?"):
    from instances import assists

    item = open_item(db, iid, element, who)
    with db.command() as session:
        return [h.id for h in assists.ask_for_help(session=session, work_item_id=item.id, actor=Actor(who),
                                                    users=users, comment=comment)]


def test_the_holder_decides_after_the_helpers_answer(db):
    from instances import assists

    iid = manager_step(db)
    ask(db, iid, "manager", "bob", ["erin", "frank"])
    assert waiting(db, iid) == [("manager", "bob"), ("manager", "erin"), ("manager", "frank")]
    with pytest.raises(Conflict) as err:
        act(db, iid, "manager", "bob")
    assert err.value.details["waiting_for"] == ["erin", "frank"]
    with pytest.raises(InvalidInput):  # input, not a decision: it needs words
        act(db, iid, "manager", "erin", decision=None)
    act(db, iid, "manager", "erin", decision=None, comment="the supplier is reliable")
    holder = open_item(db, iid, "manager", "bob")
    with db.command() as session:
        assists.withdraw_help(session=session, work_item_id=holder.id, actor=Actor("bob"), users=["frank"])
        answered = assists.helpers(session, session.get(type(holder), holder.id))
        assert [(h.assignee, h.status, h.comment) for h in answered] == [
            ("erin", "completed", "the supplier is reliable")]
    act(db, iid, "manager", "bob")
    assert waiting(db, iid) == [("finance", "carol")]
    assert [e["actor"] for e in history(db, iid, "task_assisted")] == ["erin"]
    assert history(db, iid, "assist_requested")[0]["users"] == ["erin", "frank"]


def test_a_return_withdraws_open_requests_for_help(db):
    iid = manager_step(db)
    [helper] = ask(db, iid, "manager", "bob", ["erin"])
    send_back(db, iid, "manager", "bob", "draft")
    with db.query() as session:
        from instances.models import WorkItem

        assert session.get(WorkItem, helper).status == "cancelled"
    with pytest.raises(InvalidInput):
        act(db, iid, "draft", "alice")
        ask(db, iid, "manager", "bob", ["bob"])


def test_the_urge_interval_is_the_steps_own(db):
    from datetime import timedelta

    from database.base import utcnow
    from definitions import service as definitions
    from instances import service, verbs
    from tests.conftest import DATA

    text = (DATA / "returns" / "sequence.bpmn").read_text().replace(
        '<bpmn:userTask id="manager" name="Manager approves" camunda:assignee="bob">',
        '<bpmn:userTask id="manager" name="Manager approves" camunda:assignee="bob"><bpmn:extensionElements>'
        '<camunda:properties><camunda:property name="flowdesk.urgeInterval" value="PT10M"/></camunda:properties>'
        '</bpmn:extensionElements>')
    with db.command() as session:
        version, _ = definitions.deploy(session=session, files={"s.bpmn": text.encode()}, actor="designer")
        iid = service.start_instance(session=session, key=version.key, actor=ALICE).id
    act(db, iid, "draft", "alice")
    item = open_item(db, iid, "manager")
    now = utcnow()
    for moment, allowed in ((now, True), (now + timedelta(minutes=5), False), (now + timedelta(minutes=11), True)):
        with db.command() as session:
            if allowed:
                verbs.urge_task(session=session, work_item_id=item.id, actor=ALICE, now=moment)
            else:
                with pytest.raises(Conflict) as err:
                    verbs.urge_task(session=session, work_item_id=item.id, actor=ALICE, now=moment)
                assert err.value.details["next_urge_at"].startswith((now + timedelta(minutes=10)).isoformat()[:16])
    assert len(history(db, iid, "task_urged")) == 2

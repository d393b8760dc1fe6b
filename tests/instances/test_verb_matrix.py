"""The scenario matrix: every approval verb on a single task, inside a parallel branch, inside a countersign of
each rule and inside a sub-process, on SQLite and PostgreSQL.

Each cell applies the verb to the task a context waits on, checks what the verb must leave behind (the work
items and the history entry), then drives the request to its end by approving whatever waits, and checks it
ends completed (terminated for terminate). A verb that does not apply in a context must be refused with a
clear error and leave the request as it was.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from definitions import service as definitions
from instances import assists, lifecycle, returns, service, signers, verbs
from instances.actors import Actor
from instances.errors import Conflict, InstanceError, InvalidInput
from instances.models import HistoryEvent, ProcessInstance, WorkItem
from tests.conftest import DATA

ALICE, ADMIN = Actor("alice"), Actor("root", is_admin=True)


@dataclass(frozen=True)
class Context:
    """A model, how to reach the task the verb acts on, and where an administrator's jump goes."""

    name: str
    path: str
    data: dict = field(default_factory=dict)
    before: tuple = ()  # (element, who) completed before the verb
    element: str = ""
    jump_to: str = ""
    signer_position: str | None = "after"  # None: adding signers does not apply


MEMBERS = {"approvers": ["bob", "carol", "erin"]}
CONTEXTS = [
    Context("single", "returns/sequence.bpmn", before=(("draft", "alice"),), element="manager",
            jump_to="director"),
    Context("parallel branch", "returns/parallel.bpmn", before=(("prepare", "alice"),), element="legal",
            jump_to="legal_head"),
    Context("sub-process", "returns/subprocess.bpmn", before=(("apply", "alice"), ("pmo", "bob")), element="cto",
            jump_to="kickoff"),
    Context("countersign any", "countersign/any.bpmn", MEMBERS, element="sign_any", jump_to="archive",
            signer_position="parallel"),
    Context("countersign all", "countersign/all.bpmn", MEMBERS, element="sign_all", jump_to="archive",
            signer_position="parallel"),
    Context("countersign majority", "countersign/majority.bpmn", MEMBERS, element="vote_majority",
            jump_to="archive", signer_position="parallel"),
    Context("countersign ratio", "countersign/ratio.bpmn", MEMBERS, element="vote_ratio", jump_to="archive",
            signer_position="parallel"),
    Context("countersign sequential", "countersign/sequential.bpmn", MEMBERS, element="sign_in_turn",
            jump_to="archive", signer_position="after"),
    Context("countersign random", "countersign/random.bpmn", MEMBERS, element="sign_random", jump_to="archive",
            signer_position=None),
    Context("countersign notify", "countersign/notify.bpmn", {"readers": ["bob", "carol", "erin"]},
            element="read_notice", jump_to="file_notice", signer_position="parallel"),
]


def _items(db, iid: int) -> list[WorkItem]:
    with db.query() as session:
        return list(session.scalars(select(WorkItem).where(WorkItem.instance_id == iid).order_by(WorkItem.id)))


def _open(db, iid: int, element: str | None = None) -> list[WorkItem]:
    return [i for i in _items(db, iid) if i.status == "open" and element in (None, i.element_id)]


def _events(db, iid: int) -> list[str]:
    with db.query() as session:
        return list(session.scalars(select(HistoryEvent.type).where(HistoryEvent.instance_id == iid)
                                    .order_by(HistoryEvent.id)))


def _status(db, iid: int) -> str:
    with db.query() as session:
        return session.get(ProcessInstance, iid).status


def _complete(db, item: WorkItem, **kw):
    with db.command() as session:
        service.complete_task(session=session, work_item_id=item.id, actor=Actor(item.assignee or "root",
                                                                                   is_admin=item.assignee is None),
                              **kw)


def _start(db, context: Context) -> tuple[int, WorkItem]:
    with db.command() as session:
        version, _ = definitions.deploy(session=session, files={"m.bpmn": (DATA / context.path).read_bytes()},
                                        actor="designer")
        iid = service.start_instance(session=session, key=version.key, actor=ALICE, data=dict(context.data)).id
    for element, who in context.before:
        [item] = [i for i in _open(db, iid, element) if i.assignee == who]
        _complete(db, item, decision="approve")
    target = _open(db, iid, context.element)[0]
    return iid, target


def _finish(db, iid: int) -> None:
    """Approve, answer or resubmit whatever waits until the request ends."""
    for _ in range(60):
        if _status(db, iid) != "running":
            return
        waiting = _open(db, iid)
        if not waiting:
            raise AssertionError(f"nothing open in running request {iid}: "
                                     f"{[(i.element_id, i.kind, i.status) for i in _items(db, iid)]}")
        item = waiting[0]
        if item.kind == "assist":
            _complete(db, item, comment="my input")
        elif item.kind == "resubmit":
            _complete(db, item)
        else:
            _complete(db, item, decision="approve", comment="ok")
    raise AssertionError(f"request {iid} did not end")


# -- the verbs: each returns the history entry it must have written ------------------------------------------

def approve(db, iid, item, context):
    _complete(db, item, decision="approve")
    return "task_completed"


def reject(db, iid, item, context):
    _complete(db, item, decision="reject", comment="no")
    return "task_completed"


def return_previous(db, iid, item, context):
    with db.command() as session:
        returns.return_task(session=session, work_item_id=item.id, actor=Actor(item.assignee), to="previous",
                            comment="please redo")
    assert item.id not in [i.id for i in _open(db, iid)]
    return "task_returned"


def return_to_initiator(db, iid, item, context):
    with db.command() as session:
        returns.return_task(session=session, work_item_id=item.id, actor=Actor(item.assignee), to="initiator",
                            comment="please redo")
    assert [(i.kind, i.assignee) for i in _open(db, iid)] == [("resubmit", "alice")]
    return "task_returned"


def take_back(db, iid, item, context):
    _complete(db, item, decision="approve")
    try:
        with db.command() as session:
            returns.take_back(session=session, work_item_id=item.id, actor=Actor(item.assignee), reason="oops")
    except Conflict:  # the approval already decided the node, or the next step was acted on: a clear refusal
        return "task_completed"
    assert [i for i in _open(db, iid, context.element) if i.assignee == item.assignee]
    return "task_taken_back"


def transfer(db, iid, item, context):
    with db.command() as session:
        verbs.transfer_task(session=session, work_item_id=item.id, actor=Actor(item.assignee), to_user="zoe")
    assert [i.assignee for i in _open(db, iid) if i.id == item.id] == ["zoe"]
    return "task_transferred"


def delegate(db, iid, item, context):
    with db.command() as session:
        verbs.delegate_task(session=session, work_item_id=item.id, actor=Actor(item.assignee), to_user="zoe")
    with db.command() as session:
        verbs.resolve_delegation(session=session, work_item_id=item.id, actor=Actor("zoe"), comment="fine")
    assert [i.assignee for i in _open(db, iid) if i.id == item.id] == [item.assignee]
    return "delegation_resolved"


def add_signers(db, iid, item, context):
    call = dict(session=None, work_item_id=item.id, actor=Actor(item.assignee), users=["zoe"],
                position=context.signer_position or "parallel")
    if context.signer_position is None:  # one random member decides: nobody can be added, clearly refused
        with pytest.raises(InvalidInput), db.command() as session:
            signers.add_signers(**{**call, "session": session})
        return None
    with db.command() as session:
        signers.add_signers(**{**call, "session": session})
    return "signers_added"


def remove_signers(db, iid, item, context):
    if context.signer_position is None:
        return add_signers(db, iid, item, context)
    add_signers(db, iid, item, context)
    with db.command() as session:
        signers.remove_signers(session=session, work_item_id=item.id, actor=Actor(item.assignee), users=["zoe"])
    assert "zoe" not in [i.assignee for i in _open(db, iid)]
    return "signers_removed"


def assist(db, iid, item, context):
    with db.command() as session:
        [helper] = assists.ask_for_help(session=session, work_item_id=item.id, actor=Actor(item.assignee),
                                        users=["zoe"], comment="thoughts?")
        helper_id = helper.id
    with db.command() as session:
        service.complete_task(session=session, work_item_id=helper_id, actor=Actor("zoe"), comment="looks fine")
    return "task_assisted"


def carbon_copy(db, iid, item, context):
    with db.command() as session:
        verbs.copy_instance(session=session, instance_id=iid, actor=ALICE, to_users=["zoe"], note="fyi")
    return "copied"


def urge(db, iid, item, context):
    with db.command() as session:
        verbs.urge_task(session=session, work_item_id=item.id, actor=ALICE, comment="please")
    return "task_urged"


def jump(db, iid, item, context):
    with db.command() as session:
        returns.jump(session=session, instance_id=iid, actor=ADMIN, to=context.jump_to, reason="moved",
                     from_task=item.id)
    assert context.jump_to in [i.element_id for i in _open(db, iid)]
    return "instance_jumped"


def suspend_and_resume(db, iid, item, context):
    with db.command() as session:
        lifecycle.suspend_instance(session=session, instance_id=iid, actor=ADMIN, reason="audit")
    with pytest.raises(InstanceError), db.command() as session:
        service.complete_task(session=session, work_item_id=item.id, actor=Actor(item.assignee), decision="approve")
    with db.command() as session:
        lifecycle.resume_instance(session=session, instance_id=iid, actor=ADMIN)
    return "instance_resumed"


def terminate(db, iid, item, context):
    with db.command() as session:
        lifecycle.terminate_instance(session=session, instance_id=iid, actor=ADMIN, reason="duplicate")
    assert _open(db, iid) == []
    return "instance_terminated"


VERBS = [approve, reject, return_previous, return_to_initiator, take_back, transfer, delegate, add_signers,
         remove_signers, assist, carbon_copy, urge, jump, suspend_and_resume, terminate]


@pytest.mark.parametrize("verb", VERBS, ids=lambda v: v.__name__)
@pytest.mark.parametrize("context", CONTEXTS, ids=lambda c: c.name)
def test_verb_in_context(db, context: Context, verb):
    iid, item = _start(db, context)
    before, waiting = _events(db, iid), [(i.id, i.assignee) for i in _open(db, iid)]
    expected = verb(db, iid, item, context)
    after = _events(db, iid)
    if expected is None:  # refused: nothing changed
        assert after == before and [(i.id, i.assignee) for i in _open(db, iid)] == waiting
    else:
        assert after.count(expected) > before.count(expected), (expected, after[len(before):])
    _finish(db, iid)
    assert _status(db, iid) == ("terminated" if verb is terminate else "completed")
    assert [i for i in _items(db, iid) if i.status in ("open", "waiting", "pending")] == []

"""The copy node (抄送节点): a service task naming instance.copy copies the request and the process moves on."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from definitions import service as definitions
from definitions.bundle import read_path
from engine.errors import ServiceError
from instances import inbox, service, verbs, visibility
from instances.errors import ProcessFailure
from instances.inbox import InboxFilter
from instances.models import InstanceCopy, OutboxMessage, ProcessInstance
from org import service as org
from tests.conftest import DATA

APPROVALS = DATA / "approvals"
HR = ["wu.qiang", "zhou.min"]  # department('hr')


def deploy(db, name: str) -> str:
    with db.command() as session:
        version, _ = definitions.deploy(session=session, files=read_path(APPROVALS / name), actor="designer")
        assert version.report.get("issues") == []  # instance.copy is a known operation at deployment
        return version.key


def actor(db, username: str):
    with db.query() as session:
        return org.actor_for(org.get_user_or_raise(session=session, username=username))


def start(db, key: str, username: str, data: dict) -> int:
    with db.command() as session:
        return service.start_instance(session=session, key=key, actor=actor(db, username), data=data).id


def copies(db, iid: int) -> list[tuple[str, str | None, str | None, bool]]:
    with db.query() as session:
        return [(c.username, c.element_id, c.sent_by, c.read_at is not None)
                for c in verbs.list_copies(session=session, instance_id=iid)]


def copied_events(db, iid: int):
    with db.query() as session:
        return [h for h in service.list_history(session=session, instance_id=iid) if h.type == "copied"]


def copy_notices(db) -> list[str]:
    with db.query() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "notification").order_by(OutboxMessage.id))
        return [m.payload["to"] for m in rows if m.payload["kind"] == "copied"]


def test_the_copy_node_copies_with_notices_and_history_and_moves_on(org_db):
    iid = start(org_db, deploy(org_db, "cc_node.bpmn"), "wang.fang", {"reason": "family visit"})
    with org_db.query() as session:
        [approve] = service.list_open_work_items(session=session, instance_id=iid)
    assert (approve.element_id, approve.assignee) == ("approve", "li.na")  # it did not wait
    # literal names, then superior(initiator), then department:hr; each once
    people = ["liu.yang", "sun.li", "li.na", *HR]
    assert copies(org_db, iid) == [(name, "cc_hr", "system", False) for name in people]
    with org_db.query() as session:
        assert {c.note for c in verbs.list_copies(session=session, instance_id=iid)} == {"For your information: family visit"}
    assert copy_notices(org_db) == people
    [event] = copied_events(org_db, iid)
    assert (event.actor, event.element_id) == ("system", "cc_hr")
    assert event.details == {"to": people, "skipped": [], "unknown": [], "note": "For your information: family visit"}
    # "Copied to me", with its read receipt, and the request is now visible to the person copied
    reader = actor(org_db, "liu.yang")
    with org_db.query() as session:
        page = inbox.list_inbox(session=session, actor=reader, flt=InboxFilter(view="cc"))
        assert [(row[0].id, row[1].element_id) for row in page.rows] == [(iid, "cc_hr")]
        assert inbox.counts(session=session, actor=reader)["cc"] == 1
        assert visibility.may_view(session=session, actor=reader, instance=session.get(ProcessInstance, iid))
    with org_db.command() as session:
        inbox.mark_copy_read(session=session, actor=reader, instance_id=iid)
    assert ("liu.yang", "cc_hr", "system", True) in copies(org_db, iid)


def test_a_second_pass_does_not_repeat_unread_copies(org_db):
    iid = start(org_db, deploy(org_db, "cc_node.bpmn"), "wang.fang", {"reason": "family visit"})
    with org_db.command() as session:
        inbox.mark_copy_read(session=session, actor=actor(org_db, "liu.yang"), instance_id=iid)
    with org_db.query() as session:
        [approve] = service.list_open_work_items(session=session, instance_id=iid)
    with org_db.command() as session:  # rejected: the flow goes back through the copy node
        service.complete_task(session=session, work_item_id=approve.id, actor=actor(org_db, "li.na"),
                              decision="reject")
    with org_db.query() as session:
        [again] = service.list_open_work_items(session=session, instance_id=iid)
    assert again.element_id == "approve" and again.id != approve.id
    first, second = copied_events(org_db, iid)
    assert second.details["to"] == ["liu.yang"]  # she read hers; the others' copies are still unread
    assert second.details["skipped"] == sorted(["sun.li", "li.na", *HR])
    assert copy_notices(org_db).count("liu.yang") == 2 and copy_notices(org_db).count("sun.li") == 1
    with org_db.query() as session:
        assert session.scalar(select(func.count()).select_from(InstanceCopy).where(
            InstanceCopy.instance_id == iid, InstanceCopy.read_at.is_(None))) == 5


def test_strategies_and_group_kinds_resolve_in_the_camunda_dialect(org_db):
    iid = start(org_db, deploy(org_db, "cc_node_camunda.bpmn"), "wang.fang", {
        "cc_users": "emma.chen, liu.yang",
        "cc_groups": ["role:admin", "position:director", "group:crm_rollout", "dept:finance"]})
    with org_db.query() as session:
        assert session.get(ProcessInstance, iid).status == "completed"
    names = [name for name, *_ in copies(org_db, iid)]
    # the names, then superiors(initiator, 2) (the expression field), then each group's members, each once
    assert names == ["emma.chen", "liu.yang", "li.na", "zhang.wei", "admin", "he.jun", "luo.bin", "wang.fang",
                     "xu.hui", "sun.li", "zhao.lei"]


def test_unknown_users_are_skipped_and_recorded(org_db):
    iid = start(org_db, deploy(org_db, "cc_node_camunda.bpmn"), "wang.fang",
                {"cc_users": ["liu.yang", "no.such.user"], "cc_groups": []})
    assert [name for name, *_ in copies(org_db, iid)] == ["liu.yang", "li.na", "zhang.wei"]
    [event] = copied_events(org_db, iid)
    assert event.details["unknown"] == ["no.such.user"]


def test_names_from_the_request_are_never_evaluated(org_db):
    iid = start(org_db, deploy(org_db, "cc_node_camunda.bpmn"), "wang.fang",
                {"cc_users": ["${role('admin')}"], "cc_groups": []})
    assert [name for name, *_ in copies(org_db, iid)] == ["li.na", "zhang.wei"]
    assert copied_events(org_db, iid)[0].details["unknown"] == ["${role('admin')}"]
    with org_db.query() as session:
        assert session.get(ProcessInstance, iid).status == "completed"


@pytest.mark.parametrize(("data", "reason"), [
    ({"cc_users": [], "cc_groups": ["finance"]}, "must be written kind:code"),
    ({"cc_users": [], "cc_groups": ["planet:mars"]}, "must be written kind:code"),
    ({"cc_users": 5, "cc_groups": []}, "'users' must be text or a list of names"),
    ({"cc_users": [3], "cc_groups": []}, "'users' must list names as text"),
])
def test_bad_parameters_fail_naming_the_element_and_write_nothing(org_db, data, reason):
    key = deploy(org_db, "cc_node_camunda.bpmn")
    with pytest.raises(ProcessFailure) as caught:
        start(org_db, key, "wang.fang", data)
    assert "element 'cc_chosen'" in str(caught.value) and reason in str(caught.value)
    with org_db.query() as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 0
        assert session.scalar(select(func.count()).select_from(InstanceCopy)) == 0


def test_the_operation_checks_its_parameters_and_needs_a_command():
    call = definitions.OPERATIONS.call
    with pytest.raises(ServiceError, match="only inside a Flowdesk command"):
        call("instance.copy", {"users": "li.na"}, {})
    from instances.operations import resolve_people
    with pytest.raises(ServiceError, match="unknown parameter 'user'"):
        resolve_people({"user": "li.na"}, {})
    with pytest.raises(ServiceError, match="needs 'users', 'groups' or an 'expression'"):
        resolve_people({"users": "", "note": "x"}, {})
    for bad in ("role(", "boss(initiator)"):
        with pytest.raises(ServiceError, match="instance.copy: expression"):
            resolve_people({"expression": bad}, {"initiator": "li.na"})
    with pytest.raises(ServiceError, match="'note' must be text of at most 2000"):
        resolve_people({"users": "li.na", "note": "x" * 2001}, {})
    assert resolve_people({"users": "li.na"}, {}).unknown == ["li.na"]  # no directory: nobody is known


def _snippet(heading: str) -> list[str]:
    """Return the lines of the first XML block under a heading of docs/modelling.md."""
    text = (DATA.parent.parent / "docs" / "modelling.md").read_text(encoding="utf-8")
    section = text.split(heading, 1)[1]
    block = section.split("```xml", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.strip().splitlines()]


def test_the_modelling_guide_shows_the_model_the_tests_deploy():
    model = [line.strip() for line in (APPROVALS / "cc_node.bpmn").read_text(encoding="utf-8").splitlines()]
    lines = _snippet("## Copy node (抄送节点)")
    assert len(lines) > 4 and all(any(line in row for row in model) for line in lines), lines

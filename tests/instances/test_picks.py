"""Assignment strategies initiatorPicks and approverPicks: people chosen at start or by the approver before."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from definitions import service as definitions
from definitions.bundle import read_path
from instances import assignment, directory, service
from instances.errors import InvalidInput
from instances.models import HistoryEvent, ProcessInstance, WorkItem
from org import service as org
from org.demo import load_demo
from org.directory import install
from tests.conftest import DATA

PICKS = DATA / "picks" / "picks.bpmn"


@pytest.fixture
def org_db(db):
    """The demo organisation, registered as the assignment directory, and the picks model deployed."""
    with db.command() as session:
        load_demo(session=session)
        version, _ = definitions.deploy(session=session, files=read_path(PICKS), actor="designer")
        assert version.report.get("issues") == []
    install(db)
    yield db
    directory.set_directory(None)


def actor(db, username: str):
    with db.query() as session:
        return org.actor_for(org.get_user_or_raise(session=session, username=username))


def start(db, username: str = "wang.fang", picks: dict | None = None) -> int:
    with db.command() as session:
        return service.start_instance(session=session, key="picks", actor=actor(db, username), data={},
                                      picks=picks).id


def complete(db, item_id: int, username: str, picks: dict | None = None, decision: str = "approve") -> None:
    with db.command() as session:
        service.complete_task(session=session, work_item_id=item_id, actor=actor(db, username), decision=decision,
                              picks=picks)


def open_items(db, instance_id: int) -> dict[str, WorkItem]:
    with db.query() as session:
        return {i.element_id: i for i in service.list_open_work_items(session=session, instance_id=instance_id)}


def counts(db) -> tuple[int, int, int]:
    with db.query() as session:
        return tuple(session.scalar(select(func.count()).select_from(model))
                     for model in (ProcessInstance, WorkItem, HistoryEvent))


def test_the_start_lists_the_initiator_pick_nodes(org_db):
    with org_db.query() as session:
        version = definitions.get_startable_or_raise(session=session, key="picks")
        assert service.pick_nodes(elements=version.elements) == [
            {"id": "review", "name": "Review the purchase", "many": False},
            {"id": "panel", "name": "Panel check", "many": True}]
        assert service.pick_nodes(elements=version.elements, element_id="panel") == [
            {"id": "sign", "name": "Sign the order", "many": False}]  # through the gateway
        assert service.pick_nodes(elements=version.elements, element_id="review") == []


def test_initiator_picks_one_then_many(org_db):
    instance_id = start(org_db, picks={"review": ["sun.li"], "panel": ["zhou.min", "wu.qiang", "zhou.min"]})
    review = open_items(org_db, instance_id)["review"]
    assert review.assignee == "sun.li" and review.candidate_users == []
    with org_db.query() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance.data[assignment.PICKS_KEY] == {"review": ["sun.li"], "panel": ["zhou.min", "wu.qiang"]}
    complete(org_db, review.id, "sun.li")
    panel = open_items(org_db, instance_id)["panel"]
    assert panel.assignee is None and panel.candidate_users == ["zhou.min", "wu.qiang"]


def test_approver_picks_the_next_node(org_db):
    instance_id = start(org_db, picks={"review": "sun.li", "panel": ["zhou.min"]})
    complete(org_db, open_items(org_db, instance_id)["review"].id, "sun.li")
    panel = open_items(org_db, instance_id)["panel"]
    before = counts(org_db)
    with pytest.raises(InvalidInput) as refused:  # approving needs the signer
        complete(org_db, panel.id, "zhou.min", picks={})
    assert refused.value.details == {"field": "picks.sign", "node": "sign"} and "Sign the order" in str(refused.value)
    assert counts(org_db) == before and open_items(org_db, instance_id)["panel"].status == "open"
    complete(org_db, panel.id, "zhou.min", picks={"sign": ["he.jun"]})
    sign = open_items(org_db, instance_id)["sign"]
    assert sign.assignee == "he.jun"
    with org_db.query() as session:
        assert session.get(ProcessInstance, instance_id).data[assignment.PICKS_KEY]["sign"] == ["he.jun"]


def test_a_rejection_needs_no_picks(org_db):
    instance_id = start(org_db, picks={"review": ["sun.li"], "panel": ["zhou.min"]})
    complete(org_db, open_items(org_db, instance_id)["review"].id, "sun.li")
    complete(org_db, open_items(org_db, instance_id)["panel"].id, "zhou.min", picks={}, decision="reject")
    with org_db.query() as session:
        assert session.get(ProcessInstance, instance_id).status == "completed"


@pytest.mark.parametrize(("picks", "field", "words"), [
    ({"review": ["sun.li"]}, "picks.panel", "Panel check"),                      # a node left out
    ({"review": [], "panel": ["zhou.min"]}, "picks.review", "Review the purchase"),  # an empty pick
    ({"review": ["nobody.here"], "panel": ["zhou.min"]}, "picks.review", "nobody.here"),  # unknown user
    ({"review": ["sun.li", "he.jun"], "panel": ["zhou.min"]}, "picks.review", "one person"),  # one node, two
    ({"review": ["sun.li"], "panel": ["zhou.min"], "sign": ["he.jun"]}, "picks.sign", "sign"),  # not picked at start
    ({"review": [1], "panel": ["zhou.min"]}, "picks.review", "list of user names"),
])
def test_bad_picks_are_refused_naming_the_node_and_nothing_starts(org_db, picks, field, words):
    before = counts(org_db)
    with pytest.raises(InvalidInput) as refused:
        start(org_db, picks=picks)
    assert refused.value.details["field"] == field and words in str(refused.value)
    assert counts(org_db) == before


def test_a_user_who_left_cannot_be_picked(org_db):
    with org_db.command() as session:
        org.set_status(session=session, user=org.get_user_or_raise(session=session, username="sun.li"), status="left")
    with pytest.raises(InvalidInput) as refused:
        start(org_db, picks={"review": ["sun.li"], "panel": ["zhou.min"]})
    assert refused.value.details["field"] == "picks.review"


def test_without_picks_the_nodes_fall_back_to_on_no_assignee(org_db):
    instance_id = start(org_db, picks=None)  # an old client: no picks at all
    review = open_items(org_db, instance_id)["review"]
    assert review.assignee == "wang.fang"  # flowdesk.onNoAssignee defaults to the initiator
    complete(org_db, review.id, "wang.fang")
    complete(org_db, open_items(org_db, instance_id)["panel"].id, "wang.fang")
    sign = open_items(org_db, instance_id)["sign"]
    assert sign.assignee is None and sign.candidate_groups == [assignment.ADMIN_GROUP]  # onNoAssignee=admin


def test_picks_for_names_the_nodes_and_bad_values_name_the_element():
    elements = {
        "a": {"type": "userTask", "properties": {assignment.PICKS_FOR: "c, b"}},
        "b": {"type": "userTask", "name": "B", "properties": {assignment.ASSIGNMENT: "approverPicks"}},
        "c": {"type": "userTask", "name": "C", "properties": {assignment.ASSIGNMENT: "initiatorPicks"}},
        "f": {"type": "sequenceFlow", "source": "a", "target": "c"},
    }
    assert assignment.approver_pick_nodes(elements, "a") == [{"id": "b", "name": "B", "many": False}]
    assert assignment.approver_pick_nodes(elements, "b") == []
    elements["b"]["properties"][assignment.PICK_COUNT] = "several"
    with pytest.raises(Exception, match="flowdesk.pickCount must be one of one, many") as bad:
        assignment.approver_pick_nodes(elements, "a")
    assert bad.value.element_id == "b"


def test_the_people_picked_for_a_countersign_node_are_its_members(org_db):
    db = org_db
    with db.command() as session:
        version, _ = definitions.deploy(session=session, files=read_path(DATA / "picks" / "countersign_picks.bpmn"),
                                        actor="designer")
        assert service.pick_nodes(elements=version.elements) == [{"id": "review", "name": "Joint review", "many": True}]
        assert service.pick_nodes(elements=version.elements, element_id="review") == [
            {"id": "board", "name": "Board vote", "many": True}]
        iid = service.start_instance(session=session, key="cs_picks", actor=actor(db, "wang.fang"), data={},
                                     picks={"review": ["li.na", "zhao.lei"]}).id

    def open_members(element: str) -> dict[str, int]:
        with db.query() as session:
            return {i.assignee: i.id for i in session.scalars(select(WorkItem).where(
                WorkItem.instance_id == iid, WorkItem.status == "open", WorkItem.element_id == element))}

    assert sorted(open_members("review")) == ["li.na", "zhao.lei"]  # one task each, not one shared task
    with db.command() as session:
        service.complete_task(session=session, work_item_id=open_members("review")["li.na"],
                              actor=actor(db, "li.na"), decision="approve")
    with db.command() as session:  # the last reviewer picks the board: its members, a majority decides
        service.complete_task(session=session, work_item_id=open_members("review")["zhao.lei"],
                              actor=actor(db, "zhao.lei"), decision="approve",
                              picks={"board": ["zhang.wei", "he.jun", "xu.hui"]})
    board = open_members("board")
    assert sorted(board) == ["he.jun", "xu.hui", "zhang.wei"]
    for who in ("zhang.wei", "he.jun"):
        with db.command() as session:
            service.complete_task(session=session, work_item_id=board[who], actor=actor(db, who), decision="approve")
    with db.query() as session:
        assert session.get(ProcessInstance, iid).status == "completed"
    with db.command() as session, pytest.raises(InvalidInput, match="choose who handles"):
        service.start_instance(session=session, key="cs_picks", actor=actor(db, "wang.fang"), data={}, picks={})

"""Free flow (自由流程): the initiator lays out the route, guard rules check it, and it runs as its own model."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from definitions import service as definitions
from definitions.bundle import read_path
from definitions.errors import InvalidDefinition
from definitions.models import DefinitionVersion
from engine import route as engine_route
from instances import directory, inbox, service
from instances.actors import Actor
from instances.errors import InvalidInput
from instances.models import HistoryEvent, ProcessInstance
from org.demo import load_demo
from org.directory import install
from tests.conftest import DATA, ROOT

from .test_returns import items, open_item, waiting

WANG = Actor("wang.fang", frozenset({"role:employee", "dept:sales"}))


@pytest.fixture
def flow(db):
    with db.command() as session:
        load_demo(session=session)
        definitions.deploy(session=session, files=read_path(ROOT / "bpmn" / "general_approval"), actor="admin")
    install(db)
    yield db
    directory.set_directory(None)


def start(db, route=None, **data) -> int:
    with db.command() as session:
        return service.start_instance(session=session, key="general_approval", actor=WANG,
                                      data={"subject": "Trade fair booth", **data}, route=route).id


def decide(db, iid: int, element: str, who: str, decision: str = "approve", **kw) -> str:
    item = open_item(db, iid, element, who)
    with db.command() as session:
        return service.complete_task(session=session, work_item_id=item.id, actor=Actor(who), decision=decision,
                                     **kw).status


def status(db, iid: int) -> str:
    with db.query() as session:
        return session.get(ProcessInstance, iid).status


ROUTE = [{"name": "Sales head / 销售负责人", "users": ["li.na"]},
         {"name": "Joint review / 会签", "users": ["zhao.lei", "zhou.min"], "rule": "all"},
         {"name": "General manager / 总经理", "users": ["zhang.wei"]}]


def test_the_route_runs_step_by_step_with_each_steps_rule(flow):
    db = flow
    iid = start(flow, ROUTE, amount=12000)
    assert waiting(db, iid) == [("step_1", "li.na")]
    decide(db, iid, "step_1", "li.na")
    assert waiting(db, iid) == [("step_2", "zhao.lei"), ("step_2", "zhou.min")]
    decide(db, iid, "step_2", "zhao.lei")
    assert waiting(db, iid) == [("step_2", "zhou.min")]  # all: every member must approve
    decide(db, iid, "step_2", "zhou.min")
    assert waiting(db, iid) == [("step_3", "zhang.wei")]
    assert decide(db, iid, "step_3", "zhang.wei") == "completed"
    with db.query() as session:
        instance = session.get(ProcessInstance, iid)
        version = session.get(DefinitionVersion, instance.definition_id)
        # The route is kept with the instance: its own hidden version, and the start in the history.
        assert instance.definition_key == "general_approval" and version.status == "route"
        assert [s["name"] for s in version.metadata_["route_steps"]] == [s["name"] for s in ROUTE]
        assert version.elements["step_2"]["name"] == "Joint review / 会签"
        started = session.scalar(select(HistoryEvent).where(HistoryEvent.instance_id == iid,
                                                            HistoryEvent.type == "instance_started"))
        assert [s["users"] for s in started.details["route"]] == [["li.na"], ["zhao.lei", "zhou.min"], ["zhang.wei"]]


def test_a_rejection_anywhere_ends_the_request_as_rejected(flow):
    db = flow
    iid = start(flow, ROUTE)
    decide(db, iid, "step_1", "li.na")
    decide(db, iid, "step_2", "zhou.min", "reject")  # all: one rejection vetoes
    assert status(db, iid) == "rejected" and waiting(db, iid) == []
    assert [i.status for i in items(db, iid) if i.element_id == "step_2" and i.assignee == "zhao.lei"] \
        == ["cancelled"]
    other = start(flow, ROUTE)
    decide(db, other, "step_1", "li.na", "reject", comment="no budget left")  # a single step: onReject=end
    assert status(db, other) == "rejected"
    with db.query() as session:
        types = list(session.scalars(select(HistoryEvent.type).where(HistoryEvent.instance_id == iid)))
        assert "instance_rejected" in types and "instance_completed" not in types


def test_any_majority_and_sequential_steps(flow):
    db = flow
    route = [{"name": "Anyone", "users": ["li.na", "zhao.lei"], "rule": "any"},
             {"name": "Turns", "users": ["zhou.min", "xu.hui"], "rule": "sequential"}]
    iid = start(flow, route)
    decide(db, iid, "step_1", "zhao.lei")
    assert waiting(db, iid) == [("step_2", "zhou.min")]  # any: the first approval decides
    decide(db, iid, "step_2", "zhou.min")
    assert waiting(db, iid) == [("step_2", "xu.hui")]
    assert decide(db, iid, "step_2", "xu.hui") == "completed"


def test_a_role_or_department_step_is_claimed_by_its_members(flow):
    db = flow
    iid = start(flow, [{"name": "Finance / 财务", "department": "finance"}], amount=50000)
    [item] = [i for i in items(db, iid) if i.status == "open"]
    assert item.assignee is None and item.candidate_groups == ["dept:finance"]


def test_the_guards_check_the_route_against_the_request(flow):
    db = flow
    with pytest.raises(InvalidInput, match="need a finance approval step") as refused:
        start(flow, [{"name": "Sales head", "users": ["li.na"]}], amount=20000)
    assert refused.value.details["field"] == "route"
    start(flow, [{"name": "Sales head", "users": ["li.na"]}], amount=800)  # under the threshold
    start(flow, [{"name": "Sales head", "users": ["li.na"]}, {"name": "Finance", "users": ["sun.li"]}],
          amount=20000)  # a finance member is on the route
    cases = [([], "1 to 8 steps"), ([{"name": f"S{i}", "users": ["li.na"]} for i in range(9)], "1 to 8 steps"),
             ([{"name": "Ghost", "users": ["nobody"]}], "not an active employee"),
             ([{"name": "Both", "users": ["li.na"], "role": "manager"}], "one role or department"),
             ([{"name": "Odd", "users": ["li.na", "zhao.lei"], "rule": "ratio:2/3"}], "rule must be one of"),
             ("li.na", "must be a list")]
    for route, message in cases:
        with pytest.raises(InvalidInput, match=message):
            start(flow, route)
    with db.query() as session:  # nothing of a refused start was kept
        assert session.scalar(select(func.count(ProcessInstance.id))) == 2


def test_the_offered_route_is_used_when_none_is_given_and_identical_routes_share_a_version(flow):
    db = flow
    first, second = start(flow), start(flow)
    assert [i.candidate_groups for i in items(db, first)] == [["role:manager"]]
    with db.query() as session:
        ids = [session.get(ProcessInstance, i).definition_id for i in (first, second)]
        assert ids[0] == ids[1]
        # Route versions stay out of the designer's list, the catalogue and the inbox filter.
        assert all(v.status != "route" for v in definitions.list_versions(session=session))
        assert [v.key for v in definitions.list_startable(session=session)] == ["general_approval"]
        assert "general_approval~route" not in dict(inbox.process_choices(session=session))


def test_a_process_with_a_drawn_route_takes_no_route(flow, db):
    with db.command() as session:
        definitions.deploy(session=session, files=read_path(ROOT / "bpmn" / "leave_request"), actor="admin")
    with db.command() as session, pytest.raises(InvalidInput, match="takes no route"):
        service.start_instance(session=session, key="leave_request", actor=WANG, route=ROUTE,
                               data={"leave_type": "annual", "start_date": "2026-12-01", "end_date": "2026-12-02",
                                     "days": 2, "manager": "li.na"})


@pytest.mark.parametrize("route, field", [
    ({"steps": "x"}, "route.steps"), ({"max_steps": 0}, "route.max_steps"), ({"rules": ["often"]}, "route.rules"),
    ({"guards": [{"when": "amount >"}]}, "route.guards.0.role"),
    ({"guards": [{"when": "amount >", "role": "finance"}]}, "route.guards.0.when"),
    ({"min_steps": 5, "max_steps": 2}, "route.min_steps"), ({"colour": "red"}, "route.colour"),
])
def test_a_bad_route_block_is_refused_at_deployment(db, route, field):
    files = read_path(ROOT / "bpmn" / "general_approval")
    metadata = json.loads(files["process.json"])
    files["process.json"] = json.dumps({**metadata, "route": route}).encode()
    with db.command() as session, pytest.raises(InvalidDefinition) as refused:
        definitions.deploy(session=session, files=files, actor="admin")
    assert refused.value.details == {"file": "process.json", "field": field}


def test_a_route_needs_the_custom_model(db):
    files = read_path(ROOT / "bpmn" / "general_approval")
    files["process.json"] = json.dumps({**json.loads(files["process.json"]), "model_type": "fixed"}).encode()
    with db.command() as session, pytest.raises(InvalidDefinition, match="needs model_type custom"):
        definitions.deploy(session=session, files=files, actor="admin")


def test_the_generated_model_is_plain_bpmn():
    route = engine_route.check_route(ROUTE, engine_route.check_spec({}), {}, belongs=lambda *a: False,
                                     is_active=set)
    xml = engine_route.route_bpmn("p", "<P & Q>", route, start_form="f.json", task_form=None).decode()
    assert 'name="&lt;P &amp; Q&gt;"' in xml and "${step_2_result.outcome == 'approved'}" in xml
    assert 'camunda:collection="${route_step_2}"' in xml and 'camunda:formKey' in xml


def test_an_end_event_marked_rejected_ends_the_request_as_rejected(flow):
    db = flow
    model = DATA / "approvals" / "rejected_end.bpmn"
    with db.command() as session:
        definitions.deploy(session=session, files=read_path(model), actor="admin")
        vetoed = service.start_instance(session=session, key="rejected_end", actor=WANG,
                                        data={"approvers": ["li.na", "zhao.lei"]}).id
        passed = service.start_instance(session=session, key="rejected_end", actor=WANG,
                                        data={"approvers": ["li.na"]}).id
    decide(db, vetoed, "sign", "zhao.lei", "reject")
    decide(db, passed, "sign", "li.na")
    assert (status(db, vetoed), status(db, passed)) == ("rejected", "completed")


def test_the_modelling_guide_shows_the_models_the_tests_deploy():
    guide = (ROOT / "docs" / "modelling.md").read_text(encoding="utf-8")
    section = guide.split("`flowdesk.outcome` on an end event", 1)[1]
    block = [line.strip() for line in section.split("```xml", 1)[1].split("```", 1)[0].strip().splitlines()]
    model = (DATA / "approvals" / "rejected_end.bpmn").read_text(encoding="utf-8")
    assert len(block) > 3 and all(line in model for line in block), block
    free = guide.split("## Free flow", 1)[1]
    shown = json.loads("{" + free.split("```json", 1)[1].split("```", 1)[0].strip() + "}")
    shipped = json.loads((ROOT / "bpmn" / "general_approval" / "process.json").read_text(encoding="utf-8"))
    assert shown == {"model_type": shipped["model_type"], "route": shipped["route"]}

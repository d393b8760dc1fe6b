"""Assignment strategies (leader(), superior(), superiors(), role(), department(), ...) and onNoAssignee."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from definitions import service as definitions
from engine import expressions
from engine.errors import ExpressionError
from instances import directory, service
from instances.errors import ProcessFailure
from instances.models import ProcessInstance, WorkItem
from org import service as org
from org.demo import load_demo
from org.directory import OrgDirectory
from tests.conftest import read_bundle


def deploy(db, name: str) -> str:
    with db.command() as session:
        version, _ = definitions.deploy(session=session, files=read_bundle(f"strategies/{name}.bpmn"),
                                        actor="designer")
        return version.key


def start(db, key: str, username: str, data: dict | None = None) -> int:
    with db.command() as session:
        actor = org.actor_for(org.get_user_or_raise(session=session, username=username))
        return service.start_instance(session=session, key=key, actor=actor, data=data or {}).id


def items(db, instance_id: int) -> dict[str, WorkItem]:
    with db.query() as session:
        return {item.element_id: item for item in service.list_open_work_items(session=session,
                                                                              instance_id=instance_id)}


def test_strategies_for_a_staff_member(org_db):
    found = items(org_db, start(org_db, deploy(org_db, "strategies"), "wang.fang", {"approver_field": "sun.li"}))
    assert found["t_leader"].assignee == "li.na"
    assert found["t_superior"].assignee == "li.na"
    assert found["t_chain"].assignee is None and found["t_chain"].candidate_users == ["li.na", "zhang.wei"]
    assert found["t_dept"].candidate_users == ["wu.qiang", "zhou.min"]
    assert found["t_role"].candidate_users == ["admin"]
    assert found["t_field"].assignee == "sun.li"
    assert found["t_vars"].assignee == "li.na" and found["t_vars"].candidate_users == ["li.na"]
    assert found["t_nested"].assignee == "zhang.wei"  # li.na leads sales: her leader is office's
    assert found["t_dept_leader"].assignee == "zhao.lei"  # the finance department's leader, by its code


def test_leader_of_a_leader_is_the_parent_departments_leader(org_db):
    found = items(org_db, start(org_db, deploy(org_db, "strategies"), "li.na", {"approver_field": "sun.li"}))
    assert found["t_leader"].assignee == "zhang.wei"
    assert found["t_chain"].candidate_users == ["zhang.wei"]


def test_org_directory_queries(org_db):
    found = OrgDirectory(org_db)
    assert found.superiors("wang.fang", 5) == ["li.na", "zhang.wei"]
    assert found.department_leader("zhang.wei") is None and found.superior("nobody") is None
    assert found.members("position", "director") == ["he.jun", "li.na"]
    assert found.members("group", "crm_rollout") == ["li.na", "luo.bin", "wang.fang", "xu.hui"]
    with org_db.command() as session:
        org.set_status(session=session, user=org.get_user_or_raise(session=session, username="wu.qiang"),
                       status="left")
    assert found.members("department", "hr") == ["zhou.min"]
    assert found.leader_of("finance") == "zhao.lei" and found.leader_of("nope") is None
    with org_db.command() as session:  # a leader who left: the department above answers
        org.set_status(session=session, user=org.get_user_or_raise(session=session, username="zhao.lei"),
                       status="left")
    assert found.leader_of("finance") == "zhang.wei"
    with pytest.raises(ValueError):
        found.members("planet", "x")


def test_a_superior_or_leader_who_left_passes_the_step_up(org_db):
    with org_db.command() as session:  # li.na, wang.fang's superior and the sales leader, has left
        org.set_status(session=session, user=org.get_user_or_raise(session=session, username="li.na"),
                       status="left")
    found = OrgDirectory(org_db)
    assert found.superior("wang.fang") == "zhang.wei" and found.department_leader("wang.fang") == "zhang.wei"
    assert found.superiors("wang.fang", 5) == ["zhang.wei"]
    tasks = items(org_db, start(org_db, deploy(org_db, "strategies"), "wang.fang", {"approver_field": "sun.li"}))
    assert tasks["t_superior"].assignee == "zhang.wei" and tasks["t_leader"].assignee == "zhang.wei"
    with org_db.command() as session:  # nobody above who is still here: nobody, and onNoAssignee decides
        org.set_status(session=session, user=org.get_user_or_raise(session=session, username="zhang.wei"),
                       status="left")
    assert found.superior("wang.fang") is None and found.department_leader("wang.fang") is None


def test_a_portal_account_is_never_anybodys_superior(org_db):
    with org_db.command() as session:
        user = org.get_user_or_raise(session=session, username="li.na")
        user.kind = "portal"  # set by hand: the admin pages do not offer it, an import or old data might
    found = OrgDirectory(org_db)
    assert found.superior("wang.fang") == "zhang.wei" and found.department_leader("wang.fang") == "zhang.wei"


def test_default_policy_falls_back_to_the_initiator(org_db):
    found = items(org_db, start(org_db, deploy(org_db, "no_assignee_default"), "zhang.wei"))
    assert found["approve_superior"].assignee == "zhang.wei"


def test_admin_policy_offers_the_task_to_administrators(org_db):
    found = items(org_db, start(org_db, deploy(org_db, "no_assignee_admin"), "zhang.wei"))
    item = found["approve_superior"]
    assert item.assignee is None and item.candidate_groups == ["role:admin"]


def test_error_policy_names_the_element_and_writes_nothing(org_db):
    key = deploy(org_db, "no_assignee_error")
    with pytest.raises(ProcessFailure) as caught:
        start(org_db, key, "zhang.wei")
    assert "approve_superior" in str(caught.value) and "nobody to assign" in str(caught.value)
    with org_db.query() as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 0
        assert session.scalar(select(func.count()).select_from(WorkItem)) == 0
    # with a superior there is somebody: the same model runs
    assert items(org_db, start(org_db, key, "wang.fang"))["approve_superior"].assignee == "li.na"


def test_without_a_directory_the_old_behaviour_holds(db):
    with db.command() as session:
        load_demo(session=session)
    directory.set_directory(None)
    found = items(db, start(db, deploy(db, "strategies"), "wang.fang", {"approver_field": "sun.li"}))
    assert found["t_leader"].assignee == "wang.fang"  # nobody found: the initiator, as before
    assert found["t_dept"].assignee == "wang.fang" and found["t_dept"].candidate_users == []
    assert found["t_field"].assignee == "sun.li"


# ------------------------------------------------------------- engine: evaluate(..., functions=)
def test_evaluate_accepts_extra_functions_for_one_call_only():
    double = {"double": lambda x: 2 * x}
    assert expressions.evaluate("${double(n) + 1}", {"n": 4}, functions=double) == 9
    with pytest.raises(ExpressionError, match="only these helpers"):
        expressions.evaluate("${double(n)}", {"n": 4})  # compiled with it above, still refused here
    with pytest.raises(ExpressionError, match="shadow"):
        expressions.evaluate("len(x)", {"x": []}, functions={"len": len})
    with pytest.raises(ExpressionError, match="only these helpers"):
        expressions.evaluate("other(1)", functions=double)


def _deploy_policy(db, policy: str) -> str:
    text = read_bundle("strategies/no_assignee_admin.bpmn")["no_assignee_admin.bpmn"].decode()
    text = text.replace('value="admin"', f'value="{policy}"').replace("${superior(initiator)}", "${approver}")
    with db.command() as session:
        version, _ = definitions.deploy(session=session, files={"m.bpmn": text.encode()}, actor="designer")
        return version.key


def test_leader_policy_gives_the_task_to_the_initiators_department_leader(org_db):
    key = _deploy_policy(org_db, "leader")
    assert items(org_db, start(org_db, key, "song.jia", {"approver": ""}))["approve_superior"].assignee == "zhang.wei"
    # a leader without a leader above: the administrators
    item = items(org_db, start(org_db, key, "zhang.wei", {"approver": ""}))["approve_superior"]
    assert item.assignee is None and item.candidate_groups == ["role:admin"]


def test_skip_policy_passes_the_step_and_says_why(org_db):
    key = _deploy_policy(org_db, "skip")
    iid = start(org_db, key, "song.jia", {"approver": ""})
    with org_db.query() as session:
        assert session.get(ProcessInstance, iid).status == "completed"
        [skipped] = [e for e in service.list_history(session=session, instance_id=iid) if e.type == "task_skipped"]
        assert skipped.element_id == "approve_superior" and skipped.details["reason"] == "nobody_to_assign"
    # somebody there: the step waits for them as modelled
    assert items(org_db, start(org_db, key, "song.jia", {"approver": "li.na"}))["approve_superior"].assignee == "li.na"

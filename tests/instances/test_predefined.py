"""The predefined model (预定义流程): the initiator may change the people of each step at start, not the steps."""
from __future__ import annotations

import json

import pytest

from definitions import service as definitions
from instances import service
from instances.errors import InvalidInput

from .test_returns import ALICE, FOLDER, act, open_item, waiting


def deploy(db, model_type: str) -> str:
    files = {"sequence.bpmn": (FOLDER / "sequence.bpmn").read_bytes(),
             "process.json": json.dumps({"model_type": model_type}).encode()}
    with db.command() as session:
        version, _ = definitions.deploy(session=session, files=files, actor="designer")
        return version.key


def start(db, key: str, picks=None) -> int:
    with db.command() as session:
        return service.start_instance(session=session, key=key, actor=ALICE, picks=picks).id


def test_the_initiator_changes_the_people_of_steps_and_keeps_the_others(org_db):
    db = org_db
    key = deploy(db, "predefined")
    with db.query() as session:
        version = definitions.get_startable_or_raise(session=session, key=key)
        nodes = service.pick_nodes(elements=version.elements, model_type=version.model_type)
    assert [(n["id"], n["optional"], n["default"]) for n in nodes] == [
        ("draft", True, "${initiator}"), ("manager", True, "bob"), ("finance", True, "carol"),
        ("director", True, "dave")]
    iid = start(db, key, {"manager": ["li.na"], "director": ["sun.li", "zhou.min"]})
    act(db, iid, "draft", "alice")
    assert waiting(db, iid) == [("manager", "li.na")]
    act(db, iid, "manager", "li.na")
    act(db, iid, "finance", "carol")  # left empty: the modelled person
    director = open_item(db, iid, "director")
    assert director.assignee is None and director.candidate_users == ["sun.li", "zhou.min"]
    with db.query() as session:
        assert service.last_picks(session=session, key=key, username="alice") == {
            "manager": ["li.na"], "director": ["sun.li", "zhou.min"]}
        assert service.last_picks(session=session, key=key, username="bob") == {}


def test_a_fixed_process_takes_no_changes_and_steps_cannot_be_added(org_db):
    db = org_db
    fixed = deploy(db, "fixed")
    with pytest.raises(InvalidInput) as err:
        start(db, fixed, {"manager": ["li.na"]})
    assert err.value.details["field"] == "picks.manager"
    predefined = deploy(db, "predefined")
    with pytest.raises(InvalidInput) as err:
        start(db, predefined, {"extra_step": ["li.na"]})
    assert err.value.details["field"] == "picks.extra_step"
    iid = start(db, predefined, {})
    act(db, iid, "draft", "alice")
    assert waiting(db, iid) == [("manager", "bob")]


def test_a_portal_account_is_never_picked_even_through_the_service(org_db):
    from org import service as org
    from org.demo import DEMO_PASSWORD

    with org_db.command() as session:
        org.save_user(session=session, username="acme.portal", display_name="Acme", password=DEMO_PASSWORD,
                      kind="customer", portal_record_id=1, portal_modules=["customer"])
    key = deploy(org_db, "predefined")
    with pytest.raises(InvalidInput) as err:
        start(org_db, key, {"manager": ["acme.portal"]})
    assert err.value.details["field"] == "picks.manager" and "acme.portal" in str(err.value)


def test_the_initiator_changes_the_members_of_a_countersign_step(org_db):
    db = org_db
    from tests.conftest import DATA
    files = {"all.bpmn": (DATA / "countersign" / "all.bpmn").read_bytes(),
             "process.json": json.dumps({"model_type": "predefined"}).encode()}
    with db.command() as session:
        version, _ = definitions.deploy(session=session, files=files, actor="designer")
        nodes = {n["id"]: n for n in service.pick_nodes(elements=version.elements, model_type="predefined")}
        assert nodes["sign_all"]["many"] and nodes["sign_all"]["default"] == "${approvers}"
        iid = service.start_instance(session=session, key=version.key, actor=ALICE,
                                     data={"approvers": ["bob", "carol"]}, picks={"sign_all": ["li.na", "zhao.lei"]}).id
    assert waiting(db, iid) == [("sign_all", "li.na"), ("sign_all", "zhao.lei")]
    with db.command() as session:  # left empty, the modelled members decide
        other = service.start_instance(session=session, key=version.key, actor=ALICE,
                                       data={"approvers": ["bob", "carol"]}, picks={}).id
    assert waiting(db, other) == [("sign_all", "bob"), ("sign_all", "carol")]

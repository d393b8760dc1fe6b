"""webapp.demo_office: demo requests of the office processes in different states, loaded once."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from definitions import service as definitions
from instances import directory
from instances.models import ProcessInstance, WorkItem
from org.demo import load_demo
from org.directory import install
from webapp.demo_office import KEYS, REQUESTS, load_demo_office

from .common import bundle


@pytest.fixture
def office(db):
    with db.command() as session:
        load_demo(session=session)
        for key in KEYS:
            definitions.deploy(session=session, files=bundle(key), actor="admin")
    install(db)
    yield db
    directory.set_directory(None)


def test_the_demo_requests_are_started_once_in_different_states(office):
    db = office
    with db.command() as session:
        assert load_demo_office(session) == len(REQUESTS)
    with db.command() as session:
        assert load_demo_office(session) == 0  # idempotent
    with db.query() as session:
        instances = list(session.scalars(select(ProcessInstance).order_by(ProcessInstance.id)))
        assert len(instances) == len(REQUESTS)
        assert Counter(i.status for i in instances) == {"running": 13, "completed": 5, "rejected": 3}
        open_items = list(session.scalars(select(WorkItem).where(WorkItem.status == "open")))
        waiting = Counter(i.element_id for i in open_items if i.kind == "task")
        assert [i.assignee for i in open_items if i.kind == "resubmit"] == ["gao.yu"]  # returned by finance
        assert (waiting["finance_review"], waiting["gm_approval"], waiting["joint_signoff"]) == (1, 1, 2)
        assert (waiting["advance_payment"], waiting["repayment"], waiting["place_order"]) == (1, 1, 1)
        assert {i.definition_key for i in instances} == set(KEYS)


def test_nothing_is_started_for_processes_that_are_not_deployed(db):
    with db.command() as session:
        load_demo(session=session)
        definitions.deploy(session=session, files=bundle("overtime"), actor="admin")
    install(db)
    try:
        with db.command() as session:
            assert load_demo_office(session) == 3
    finally:
        directory.set_directory(None)

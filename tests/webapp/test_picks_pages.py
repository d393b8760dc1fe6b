"""initiatorPicks / approverPicks on the start page, the task page and in the API."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from definitions import service as definitions
from definitions.bundle import read_path
from instances.models import ProcessInstance, WorkItem
from org import service as org
from org.demo import DEMO_PASSWORD
from tests.conftest import DATA

from .test_api import assert_error, only_task, sign_in


@pytest.fixture
def picks_app(app, db):
    """The web app with the picks model (tests/data/picks) deployed and a portal (customer) account."""
    with db.command() as session:
        definitions.deploy(session=session, files=read_path(DATA / "picks" / "picks.bpmn"), actor="admin")
        org.save_user(session=session, username="acme.portal", display_name="Acme", password=DEMO_PASSWORD,
                      kind="customer", portal_record_id=1, portal_modules=["customer"])
    return app


def _items(db, element_id: str) -> list[WorkItem]:
    with db.query() as session:
        return list(session.scalars(select(WorkItem).where(WorkItem.element_id == element_id,
                                                           WorkItem.status == "open")))


def _instances(db) -> int:
    with db.query() as session:
        return session.scalar(select(func.count()).select_from(ProcessInstance))


def test_the_start_page_shows_a_picker_per_node_and_starting_assigns_them(picks_app, login, db):
    employee = login("wang.fang")
    html = employee.get("/processes/picks/start").get_data(as_text=True)
    assert 'data-testid="pickers"' in html
    assert 'name="picks.review"' in html and 'name="picks.panel"' in html and 'name="picks.sign"' not in html
    refused = employee.post("/processes/picks/start", data={"picks.review": "sun.li", "picks.panel": ""})
    assert refused.status_code == 422 and _instances(db) == 0
    text = refused.get_data(as_text=True)
    assert 'data-testid="error-picks.panel"' in text and "Panel check" in text and 'value="sun.li"' in text
    bad = employee.post("/processes/picks/start", data={"picks.review": "acme.portal", "picks.panel": "zhou.min"})
    assert bad.status_code == 422 and 'data-testid="error-picks.review"' in bad.get_data(as_text=True)
    two = employee.post("/processes/picks/start", data={"picks.review": "sun.li he.jun", "picks.panel": "zhou.min"})
    assert two.status_code == 422 and _instances(db) == 0
    response = employee.post("/processes/picks/start", data={"picks.review": "sun.li",
                                                               "picks.panel": "zhou.min, wu.qiang"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert [i.assignee for i in _items(db, "review")] == ["sun.li"]


def test_the_task_page_shows_the_next_nodes_picker(picks_app, login, db):
    login("wang.fang").post("/processes/picks/start", data={"picks.review": "sun.li", "picks.panel": "zhou.min"})
    reviewer = login("sun.li")
    review = _items(db, "review")[0].id
    assert 'data-testid="pickers"' not in reviewer.get(f"/tasks/{review}").get_data(as_text=True)
    assert reviewer.post(f"/tasks/{review}/complete", data={"decision": "approve"}).status_code == 302
    panel = login("zhou.min")
    task_id = _items(db, "panel")[0].id
    html = panel.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'data-testid="pickers"' in html and 'name="picks.sign"' in html and "Sign the order" in html
    refused = panel.post(f"/tasks/{task_id}/complete", data={"decision": "approve"})
    assert refused.status_code == 422 and 'data-testid="error-picks.sign"' in refused.get_data(as_text=True)
    assert _items(db, "panel") and not _items(db, "sign")
    done = panel.post(f"/tasks/{task_id}/complete", data={"decision": "approve", "picks.sign": "he.jun"})
    assert done.status_code == 302, done.get_data(as_text=True)
    assert [i.assignee for i in _items(db, "sign")] == ["he.jun"]


def test_the_api_takes_picks_at_start_and_completion(picks_app, client, db):
    api = sign_in(client, "wang.fang")
    error = assert_error(api.post("/definitions/picks/instances", json={"picks": {"review": ["sun.li"]}}), 400)
    assert error["details"]["field"] == "picks.panel" and _instances(db) == 0
    error = assert_error(api.post("/definitions/picks/instances",
                                  json={"picks": {"review": ["acme.portal"], "panel": ["zhou.min"]}}), 400)
    assert error["details"]["field"] == "picks.review"
    error = assert_error(api.post("/definitions/picks/instances",
                                  json={"picks": {"review": ["sun.li"], "panel": ["zhou.min"], "nope": ["x"]}}), 400)
    assert error["details"]["field"] == "picks.nope" and _instances(db) == 0
    started = api.post("/definitions/picks/instances",
                       json={"picks": {"review": ["sun.li"], "panel": ["zhou.min", "wu.qiang"]}})
    assert started.status_code == 201, started.get_data(as_text=True)
    reviewer = sign_in(client, "sun.li")
    assert reviewer.post(f"/tasks/{only_task(reviewer)['id']}/complete", json={"decision": "approve"}).status_code == 200
    panel = sign_in(client, "zhou.min")
    task = only_task(panel, "group")
    error = assert_error(panel.post(f"/tasks/{task['id']}/complete", json={"decision": "approve", "picks": {}}), 400)
    assert error["details"]["field"] == "picks.sign"
    done = panel.post(f"/tasks/{task['id']}/complete", json={"decision": "approve", "picks": {"sign": ["he.jun"]}})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert [i.assignee for i in _items(db, "sign")] == ["he.jun"]


def test_a_predefined_process_lets_the_initiator_change_and_reuse_the_people(app, db, login):
    import json

    files = {"sequence.bpmn": (DATA / "returns" / "sequence.bpmn").read_bytes(),
             "process.json": json.dumps({"model_type": "predefined"}).encode()}
    with db.command() as session:
        definitions.deploy(session=session, files=files, actor="admin")
    employee = login("wang.fang")
    html = employee.get("/processes/ret_seq/start").get_data(as_text=True)
    assert 'data-testid="pickers"' in html and 'name="picks.manager"' in html and 'data-testid="reuse-picks"' in html
    assert "As the process says: bob" in html and 'name="picks.manager" required' not in html
    started = employee.post("/processes/ret_seq/start", data={"picks.manager": "li.na", "picks.finance": ""})
    assert started.status_code == 302, started.get_data(as_text=True)
    assert [i.assignee for i in _items(db, "draft")] == ["wang.fang"]
    again = employee.get("/processes/ret_seq/start?reuse=1").get_data(as_text=True)
    assert 'name="picks.manager"' in again and 'value="li.na"' in again

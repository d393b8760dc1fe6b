"""The free-flow start page (自由流程): the route table, its guard rules, and the route drawn in the progress view."""
from __future__ import annotations

import re

import pytest

from definitions import service as definitions
from definitions.bundle import read_path
from instances.models import ProcessInstance, WorkItem
from tests.conftest import ROOT

from .test_api import assert_error, sign_in


@pytest.fixture
def flow(app, db):
    with db.command() as session:
        definitions.deploy(session=session, files=read_path(ROOT / "bpmn" / "general_approval"), actor="admin")
    return app


def row(index: int, name: str, who: str, kind: str = "users", rule: str = "single") -> dict:
    return {f"route-{index}-name": name, f"route-{index}-who": who, f"route-{index}-kind": kind,
            f"route-{index}-rule": rule}


def test_the_start_page_offers_the_route_table_with_its_guard(flow, login):
    page = login("wang.fang").get("/processes/general_approval/start").get_data(as_text=True)
    assert 'data-testid="route-editor"' in page and "route-editor.js" in page
    assert 'value="Department head / 部门负责人"' in page and 'value="manager"' in page
    assert "Amounts over 10,000 need a finance approval step" in page
    assert len(re.findall(r'name="route-\d+-name"', page)) == 3  # the offered step and two empty rows


def test_a_route_that_breaks_a_guard_is_refused_next_to_the_table_and_nothing_starts(flow, login, db):
    client = login("wang.fang")
    refused = client.post("/processes/general_approval/start",
                          data={"subject": "New laptops", "amount": "25000", **row(0, "Sales head", "li.na")})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'data-testid="error-route"' in html and "need a finance approval step" in html
    assert 'value="Sales head"' in html and 'value="New laptops"' in html  # what was typed stays
    with db.query() as session:
        assert session.query(ProcessInstance).count() == 0


def test_the_laid_out_route_runs_and_is_drawn(flow, login, db):
    client = login("wang.fang")
    done = client.post("/processes/general_approval/start", data={
        "subject": "New laptops", "amount": "25000", **row(0, "Sales head / 销售负责人", "li.na"),
        **row(1, "Finance / 财务", "finance", kind="department"),
        **row(2, "Board / 董事会", "zhang.wei, he.jun", rule="all"), **row(3, "", "")})
    assert done.status_code == 302, done.get_data(as_text=True)
    instance_id = int(done.headers["Location"].rstrip("/").split("/")[-1])
    with db.query() as session:
        [item] = session.query(WorkItem).filter_by(instance_id=instance_id, status="open").all()
        assert item.assignee == "li.na" and item.element_id == "step_1"
    page = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    svg = page[page.find("<svg"):]
    for name in ("Sales head", "Finance", "Board"):
        assert name in svg, name


def test_the_api_takes_a_route(flow, client, db):
    api = sign_in(client, "wang.fang")
    response = api.post("/definitions/general_approval/instances", json={
        "data": {"subject": "Booth", "amount": 500},
        "route": [{"name": "Anyone of two", "users": ["li.na", "zhao.lei"], "rule": "any"}]})
    assert response.status_code == 201, response.get_data(as_text=True)
    with db.query() as session:
        open_items = session.query(WorkItem).filter_by(instance_id=response.get_json()["id"], status="open").all()
        assert sorted(i.assignee for i in open_items) == ["li.na", "zhao.lei"]
    error = assert_error(api.post("/definitions/general_approval/instances", json={
        "data": {"subject": "Booth", "amount": 50000}, "route": [{"name": "Me", "users": ["li.na"]}]}), 400)
    assert error["details"]["field"] == "route"
    error = assert_error(api.post("/definitions/general_approval/instances", json={
        "data": {"subject": "Booth"}, "route": [{"name": "Ghost", "users": ["nobody"]}]}), 400)
    assert error["details"]["field"] == "route.0.users"

"""Node-level field permissions on the task page and through the API: read-only, editable and hidden fields."""
from __future__ import annotations

import re

import pytest

from instances import service

from .form_fixtures import CLAIM, expense, instance_id_of, task_id_of  # noqa: F401  (expense: a fixture)
from .test_api import assert_error, sign_in

pytestmark = pytest.mark.usefixtures("expense")

START = "/processes/expense_claim/start"


def _claim(login, **overrides) -> tuple[int, int, object]:
    instance_id = instance_id_of(login("wang.fang").post(START, data={**CLAIM, **overrides}))
    manager = login("li.na")
    return instance_id, task_id_of(manager), manager


def _data(db, instance_id: int) -> dict:
    with db.query() as session:
        return dict(service.get_instance_or_raise(session=session, instance_id=instance_id).data)


def test_the_approver_sees_the_claim_read_only_edits_what_the_step_allows_and_not_hidden_fields(login):
    _instance_id, task_id, manager = _claim(login)
    html = manager.get(f"/tasks/{task_id}").get_data(as_text=True)
    summary = html[html.index('data-testid="summary"'):html.index("</dl>")]
    # The applicant's fields are shown as text, with labels, amounts with currency and the rows of the table.
    assert "上海客户拜访" in summary and "3,507.00 CNY" in summary and "2026-12-01 – 2026-12-03" in summary
    assert "Travel" in summary and "Client, Training" in summary and "Sales" in summary and "6.5%" in summary
    assert "高铁" in summary and "1,107.00 CNY" in summary and "1200.00" not in summary
    assert 'name="title"' not in html and 'name="lines-0-item"' not in html
    # The advance is editable here: an input prefilled with the claim's value, not repeated in the summary.
    assert re.search(r'name="advance" value="500.00"', html) and 'data-testid="value-advance"' not in html
    # Notes are hidden from this step, in the page and in the API.
    assert "ACME" not in html and 'name="notes"' not in html
    api = sign_in(manager, "li.na")
    task = api.get(f"/tasks/{task_id}").get_json()
    assert "notes" not in task["instance"]["data"] and task["instance"]["data"]["advance"] == "500.00"


def test_an_editable_instance_field_is_checked_with_the_start_form_definition(login, db):
    instance_id, task_id, manager = _claim(login)
    refused = manager.post(f"/tasks/{task_id}/complete", data={"decision": "approve", "advance": "-3"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and re.search(r'data-testid="error-advance">Must be at least 0', html)
    assert 'name="advance" value="-3"' in html  # what was typed comes back
    done = manager.post(f"/tasks/{task_id}/complete", data={"decision": "approve", "advance": "1,250.5",
                                                            "opinion": "OK"})
    assert done.status_code == 302, done.get_data(as_text=True)
    data = _data(db, instance_id)
    assert data["advance"] == "1250.50" and data["opinion"] == "OK" and data["title"] == "上海客户拜访"
    emptied, task_id, manager = _claim(login)
    assert manager.post(f"/tasks/{task_id}/complete", data={"decision": "approve", "advance": ""}).status_code == 302
    assert _data(db, emptied)["advance"] is None  # the page always posts the field: empty means cleared


def test_posting_a_read_only_or_hidden_field_is_refused_in_the_page(login, db):
    instance_id, task_id, manager = _claim(login)
    for field, value in (("title", "changed"), ("notes", "<b>x</b>"), ("lines-0-unit_price", "0.01")):
        response = manager.post(f"/tasks/{task_id}/complete", data={"decision": "approve", field: value})
        html = response.get_data(as_text=True)
        name = field.split("-")[0]
        assert response.status_code == 422, field
        assert re.search(rf'data-testid="error-{name}">[^<]*This field cannot be changed at this step', html), field
    assert _data(db, instance_id)["title"] == "上海客户拜访"
    # A computed total is not refused but ignored: the server works it out again.
    done = manager.post(f"/tasks/{task_id}/complete", data={"decision": "approve", "total": "1", "advance": "7"})
    assert done.status_code == 302
    assert _data(db, instance_id)["total"] == "3507.00" and _data(db, instance_id)["advance"] == "7.00"


def test_posting_a_read_only_or_hidden_field_is_refused_by_the_api(login, client, db):
    instance_id, task_id, _manager = _claim(login)
    api = sign_in(client, "li.na")
    for field, value in (("title", "changed"), ("notes", "x"), ("lines", []), ("initiator", "me")):
        error = assert_error(api.post(f"/tasks/{task_id}/complete", json={"decision": "approve",
                                                                          "data": {field: value}}), 422)
        assert error["details"] == {field: "this field cannot be changed at this step"}
    error = assert_error(api.post(f"/tasks/{task_id}/complete", json={"decision": "approve",
                                                                      "data": {"advance": "9.999", "nope": 1}}), 422)
    assert error["details"] == {"advance": "at most 2 decimal places", "nope": "unknown field"}
    response = api.post(f"/tasks/{task_id}/complete", json={"decision": "approve", "data": {"advance": "88"}})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert _data(db, instance_id)["advance"] == "88.00"


def test_through_the_api_an_editable_field_left_out_is_kept_and_null_clears_it(login, client, db):
    api = sign_in(client, "li.na")
    kept, task_id, _manager = _claim(login)
    assert api.post(f"/tasks/{task_id}/complete", json={"decision": "approve"}).status_code == 200
    assert _data(db, kept)["advance"] == "500.00"
    cleared, task_id, _manager = _claim(login)
    assert api.post(f"/tasks/{task_id}/complete", json={"decision": "approve",
                                                         "data": {"advance": None}}).status_code == 200
    assert _data(db, cleared)["advance"] is None


def test_the_hidden_fields_keyword_keeps_working_with_permissions(login, app, db):
    import json

    from definitions import service as definitions
    from definitions.bundle import read_path

    from .form_fixtures import EXPENSE
    files = read_path(EXPENSE)
    form = json.loads(files["approval_form.json"])
    form["x-hidden-fields"] = ["advance"]  # hidden wins over editable
    files["approval_form.json"] = json.dumps(form).encode()
    with db.command() as session:
        definitions.deploy(session=session, files=files, actor="admin")
    _instance_id, task_id, manager = _claim(login)
    html = manager.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'name="advance"' not in html and "500.00" not in html
    response = manager.post(f"/tasks/{task_id}/complete", data={"decision": "approve", "advance": "1"})
    assert response.status_code == 422 and 'data-testid="error-advance"' in response.get_data(as_text=True)

"""Every field kind through the API, and the lookups behind dictionaries and record references."""
from __future__ import annotations

import pytest

from org import service as org

from .form_fixtures import CLAIM, CLAIM_JSON, expense, instance_id_of  # noqa: F401  (expense: a fixture)
from .test_api import assert_error, sign_in

pytestmark = pytest.mark.usefixtures("expense")

PATH = "/definitions/expense_claim/instances"


def _start(api, **overrides):
    return api.post(PATH, json={"data": {**CLAIM_JSON, **overrides}})


def test_a_claim_through_the_api_is_checked_and_stored_like_the_page_does(client):
    api = sign_in(client, "wang.fang")
    response = _start(api, total="1", lines=[{**CLAIM_JSON["lines"][0], "amount": "5"}, CLAIM_JSON["lines"][1]])
    assert response.status_code == 201, response.get_data(as_text=True)
    data = response.get_json()["data"]
    assert [r["amount"] for r in data["lines"]] == ["1107.00", "2400.00"] and data["total"] == "3507.00"
    assert data["trip_days"] == 3 and data["advance"] == "500.00" and data["notes"] == "<p>Visit <b>ACME</b></p>"
    assert data["lines"][0]["unit_price"] == "553.50" and data["tags"] == ["client", "training"]


@pytest.mark.parametrize(("change", "details"), [
    ({"advance": 500.5}, {"advance": "enter an amount like 1234.50"}),
    ({"advance": "-1"}, {"advance": "must be at least 0"}),
    ({"advance": "1.005"}, {"advance": "at most 2 decimal places"}),
    ({"advance": "9" * 20}, {"advance": "at most 15 digits before the decimal point"}),
    ({"tax_rate": "6.5"}, {"tax_rate": "enter a number"}),
    ({"trip": {"start": "2026-12-03", "end": "2026-12-01"}}, {"trip": "the end must not be before the start"}),
    ({"trip": "2026-12-01/2026-12-03"}, {"trip": "enter a start and an end date"}),
    ({"departure": "tomorrow"}, {"departure": "enter a date and time as YYYY-MM-DDTHH:MM"}),
    ({"tags": ["client", "vip"]}, {"tags": "choose one of the listed values"}),
    ({"urgent": "yes"}, {"urgent": "must be a boolean"}),
    ({"manager": "nobody"}, {"manager": "there is no active user nobody"}),
    ({"department": "moon"}, {"department": "there is no department moon"}),
    ({"customer": 424242}, {"customer": "record #424242 does not exist or you may not see it"}),
    ({"customer": "1"}, {"customer": "enter a whole number"}),
    ({"cost_center": "cc1"}, {"cost_center": "choose one of the listed values"}),
    ({"title": None}, {"title": "this field is required"}),
    ({"title": "x" * 121}, {"title": "at most 120 characters"}),
    ({"kind": "other"}, {"other_reason": "this field is required"}),
    ({"lines": []}, {"lines": "at least 1 entries"}),
    ({"lines": [{"item": "a", "quantity": 1, "unit_price": "1"}] * 51}, {"lines": "at most 50 entries"}),
    ({"lines": [{"item": "a", "quantity": 0, "unit_price": "x"}, "row", {"item": ["a"], "colour": 1}]},
     {"lines[0].quantity": "must be at least 1", "lines[0].unit_price": "enter an amount like 1234.50",
      "lines[1]": "each row must be an object", "lines[2].item": "must be a string",
      "lines[2].colour": "unknown field", "lines[2].quantity": "this field is required",
      "lines[2].unit_price": "this field is required"}),
    ({"receipts": [1]}, {"receipts": "files cannot be attached through the API"}),
    ({"initiator_superior": "me"}, {"initiator_superior": "unknown field"}),
])
def test_each_kind_of_invalid_input_is_a_422_naming_the_field(client, change, details):
    error = assert_error(_start(sign_in(client, "wang.fang"), **change), 422, "invalid_form")
    assert error["details"] == details


def test_garbage_is_refused_without_a_server_error(client):
    api = sign_in(client, "wang.fang")
    for junk in ({"lines": {"0": {}}}, {"lines": [[[[[]]]]]}, {"lines": [{"quantity": {"$gt": 1}}]},
                 {"advance": {"amount": "1", "currency": "USD"}}, {"trip": {"start": None, "end": []}},
                 {"customer": 2**70}, {"customer": True}, {"tags": "client"}, {"notes": 5},
                 {"departure": "2026-12-01T08:30:00+99:00"}, {"tax_rate": 1e308}, {"title": "x" * 100_000}):
        response = _start(api, **junk)
        assert response.status_code in (400, 422), (junk, response.get_data(as_text=True))
    assert api.get("/tasks?view=started").get_json()["total"] == 0


def test_a_dictionary_field_offers_and_accepts_the_dictionary_s_active_choices(login, client, db):
    from records.dictionaries import save_dictionary

    api = sign_in(client, "wang.fang")
    assert_error(_start(api, cost_center="cc1"), 422)  # no such dictionary yet: nothing can be chosen
    with db.command() as session:
        save_dictionary(session=session, name="cost_center", label="成本中心", label_en="Cost centres", actor="admin",
                        items=[{"value": "cc1", "label": "销售一部", "label_en": "Sales 1"},
                               {"value": "cc9", "label": "旧部门", "active": False}])
    assert _start(api, cost_center="cc1").status_code == 201
    error = assert_error(_start(api, cost_center="cc9"), 422)
    assert error["details"] == {"cost_center": "choose one of the listed values"}
    html = login("wang.fang").get("/processes/expense_claim/start").get_data(as_text=True)
    assert '<option value="cc1" >Sales 1</option>' in html and 'value="cc9"' not in html
    page = login("wang.fang").post("/processes/expense_claim/start", data={**CLAIM, "cost_center": "cc9"})
    assert page.status_code == 422 and 'data-testid="error-cost_center"' in page.get_data(as_text=True)


def test_a_record_reference_must_name_a_readable_record_of_its_type(login, client, db, monkeypatch):
    import records.service
    from records.service import create_record, delete_record, install_core_types

    with db.command() as session:
        install_core_types(session=session)
        actor = org.actor_for(org.get_user_by_name(session=session, username="wang.fang"))
        customer = create_record(session=session, type_key="customer", data={"name": "ACME"}, actor=actor).id
        contact = create_record(session=session, type_key="contact", data={"name": "Ann", "customer": customer},
                                actor=actor).id
        gone = create_record(session=session, type_key="customer", data={"name": "Gone"}, actor=actor)
        gone_id = gone.id
        delete_record(session=session, record_id=gone_id, actor=actor)
    api = sign_in(client, "wang.fang")
    response = _start(api, customer=customer)
    assert response.status_code == 201 and response.get_json()["data"]["customer"] == customer
    for wrong in (contact, gone_id):
        error = assert_error(_start(api, customer=wrong), 422)
        assert error["details"] == {"customer": f"record #{wrong} does not exist or you may not see it"}
    # The check asks the records package whether this user may read the record.
    asked = []

    def readable(*, session, actor, type_key, record_id):
        asked.append((actor.username, type_key, record_id))
        return False
    monkeypatch.setattr(records.service, "record_readable", readable)
    assert_error(_start(api, customer=customer), 422)
    page = login("wang.fang").post("/processes/expense_claim/start", data={**CLAIM, "customer": str(customer)})
    assert page.status_code == 422 and "does not exist or you may not see it" in page.get_data(as_text=True)
    assert asked == [("wang.fang", "customer", customer)] * 2

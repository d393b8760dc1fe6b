"""Conditional fields: shown, required and kept only while their condition holds; checked without a browser."""
from __future__ import annotations

import pytest

from forms.conditions import holds
from forms.schema import check, clean

FORM = {"type": "object", "required": ["kind", "reason", "flight"], "properties": {
    "kind": {"type": "string", "enum": ["travel", "meal", "other"]},
    "reason": {"type": "string", "x-visible-if": {"field": "kind", "equals": "other"}},
    "flight": {"type": "string", "format": "date", "x-visible-if": {"field": "kind", "in": ["travel"]}},
    "guests": {"type": "integer", "x-visible-if": {"field": "kind", "in": ["meal"]}},
    "note": {"type": "string", "x-visible-if": {"field": "reason", "filled": True}},
    "big": {"type": "boolean", "x-visible-if": "guests is not None and guests > 5"},
}}


def test_a_hidden_conditional_field_is_dropped_and_not_required():
    data, errors = check(FORM, {"kind": "meal", "reason": "x", "flight": "not a date", "guests": "8", "note": "n",
                                "big": "on"})
    assert errors == {}
    assert data == {"kind": "meal", "guests": 8, "big": True}


def test_a_shown_conditional_field_is_required_when_the_form_says_so():
    errors = check(FORM, {"kind": "other"})[1]
    assert set(errors) == {"reason"} and errors["reason"].code == "required"
    errors = check(FORM, {"kind": "travel", "flight": "31/12"})[1]
    assert set(errors) == {"flight"} and errors["flight"].code == "date"
    data, errors = check(FORM, {"kind": "other", "reason": "gift", "note": "wrapped"})
    assert errors == {} and data["note"] == "wrapped"


def test_the_json_path_drops_hidden_values_too():
    data, errors = clean(FORM, {"kind": "travel", "flight": "2026-12-01", "reason": 5, "guests": "junk"})
    assert errors == {} and data == {"kind": "travel", "flight": "2026-12-01"}


def test_a_condition_may_look_at_the_instance_around_a_task_form():
    form = {"type": "object", "properties": {
        "cfo_note": {"type": "string", "x-visible-if": {"field": "amount_band", "equals": "high"}}}}
    assert clean(form, {"cfo_note": "ok"}, context={"amount_band": "low"})[0] == {}
    assert clean(form, {"cfo_note": "ok"}, context={"amount_band": "high"})[0] == {"cfo_note": "ok"}


@pytest.mark.parametrize(("condition", "data", "shown"), [
    ({"field": "a", "equals": "x"}, {"a": "x"}, True),
    ({"field": "a", "equals": "x"}, {}, False),
    ({"field": "a", "equals": 3}, {"a": "3"}, True),
    ({"field": "a", "equals": True}, {"a": True}, True),
    ({"field": "a", "equals": True}, {"a": False}, False),
    ({"field": "a", "equals": True}, {"a": 1}, False),
    ({"field": "a", "in": ["x", "y"]}, {"a": ["z", "y"]}, True),
    ({"field": "a", "in": []}, {"a": "x"}, False),
    ({"field": "a", "filled": True}, {"a": []}, False),
    ({"field": "a", "filled": False}, {"a": ""}, True),
    ("a > 2", {"a": 3}, True),
    ("a > 2", {}, False),
    ("a.b", {"a": 1}, False),
    ({"field": "a", "bogus": 1}, {"a": 1}, False),
    (None, {}, True),
])
def test_conditions(condition, data, shown):
    assert holds(condition, data) is shown

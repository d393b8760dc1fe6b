"""Computed fields: evaluated on the server with the engine's safe evaluator; posted values are ignored."""
from __future__ import annotations

from decimal import Decimal

import pytest

from forms.computed import days_between, sum_column
from forms.schema import check, clean

FORM = {"type": "object", "required": ["days"], "properties": {
    "period": {"type": "object", "format": "date-range"},
    "first": {"type": "string", "format": "date"},
    "last": {"type": "string", "format": "date"},
    "days": {"type": "integer", "title": "Days", "x-computed": "days_between(first, last) + 1"},
    "nights": {"type": "integer", "x-computed": "days_between(period.start, period.end)"},
    "rate": {"type": "string", "format": "money"},
    "cost": {"type": "string", "format": "money", "x-computed": "rate * days"},
    "label": {"type": "string", "x-computed": "f'{days} days'"},
    "long": {"type": "boolean", "x-computed": "days > 3"},
}}


def test_computed_values_are_calculated_and_posted_ones_ignored():
    data, errors = check(FORM, {"first": "2026-12-01", "last": "2026-12-05", "rate": "100.10", "days": "99",
                                "cost": "1", "period-start": "2026-12-01", "period-end": "2026-12-03"})
    assert errors == {}
    assert data["days"] == 5 and data["nights"] == 2 and data["cost"] == "500.50"
    assert data["label"] == "5 days" and data["long"] is True
    data, _ = clean(FORM, {"first": "2026-12-01", "last": "2026-12-01", "days": 40, "long": False})
    assert data["days"] == 1 and data["long"] is False


def test_a_required_computed_field_that_cannot_be_calculated_says_so():
    data, errors = check(FORM, {"first": "2026-12-01"})
    assert "days" not in data and errors["days"].code == "computed"
    assert "cost" not in errors  # not required: simply left out


def test_helpers():
    assert days_between("2026-12-01", "2026-12-31") == 30
    assert days_between("2026-12-31T23:00", "2027-01-01") == 1
    assert sum_column([{"a": "1.10"}, {"a": 2}, {"a": None}, {}, "junk"], "a") == Decimal("3.10")
    with pytest.raises(TypeError):
        sum_column("rows", "a")


def test_money_arithmetic_is_exact_and_rounded_half_up():
    form = {"type": "object", "properties": {
        "a": {"type": "string", "format": "money"}, "b": {"type": "string", "format": "money"},
        "sum": {"type": "string", "format": "money", "x-computed": "a + b"},
        "third": {"type": "string", "format": "money", "x-computed": "a / 3"},
        "share": {"type": "number", "format": "percent", "x-computed": "b / (a + b) * 100"}}}
    data, errors = clean(form, {"a": "0.10", "b": "0.20"})
    assert errors == {} and data["sum"] == "0.30" and data["third"] == "0.03" and data["share"] == 66.67


def test_a_computed_expression_that_fails_does_not_break_the_form():
    form = {"type": "object", "properties": {"n": {"type": "integer"},
                                             "x": {"type": "number", "x-computed": "10 / n"},
                                             "big": {"type": "string", "x-computed": "'x' * n"}}}
    assert clean(form, {"n": 0}) == ({"n": 0, "big": ""}, {})
    data, errors = clean(form, {"n": 10**7})
    assert errors == {} and "big" not in data and data["x"] == 0.000001


def test_a_computed_value_is_held_to_its_own_limits():
    schema = {"type": "object", "properties": {
        "start": {"type": "number"}, "end": {"type": "number"},
        "hours": {"type": "number", "minimum": 0.5, "maximum": 24, "x-computed": "end - start"}}}
    assert clean(schema, {"start": 9, "end": 12.5}) == ({"start": 9, "end": 12.5, "hours": 3.5}, {})
    _data, errors = clean(schema, {"start": 18, "end": 8.2})
    assert errors["hours"].code == "minimum"  # end before start: refused, not stored as -9.8 hours

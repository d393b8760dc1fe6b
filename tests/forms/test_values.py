"""Each kind's own rules through the JSON path (the API's) and the posted-text path (the HTML form's)."""
from __future__ import annotations

import pytest

from forms.kinds import kind_of
from forms.schema import FormError, check, clean, fields, validate

MONEY = {"type": "string", "format": "money", "x-currency": "CNY"}


def _one(prop: dict, value, lookups=None, **kw):
    schema = {"type": "object", "properties": {"f": prop}}
    data, errors = clean(schema, {"f": value}, **({"lookups": lookups} if lookups else {}), **kw)
    return data.get("f"), errors.get("f")


def _posted(prop: dict, raw, lookups=None):
    schema = {"type": "object", "properties": {"f": prop}}
    data, errors = check(schema, {"f": raw}, **({"lookups": lookups} if lookups else {}))
    return data.get("f"), errors.get("f")


@pytest.mark.parametrize(("value", "stored"), [
    ("1234.5", "1234.50"), ("1234.50", "1234.50"), (1234, "1234.00"), ("0", "0.00"), ("-0.00", "0.00"),
    ("-12.3", "-12.30"), ("1234.500", "1234.50"), (".5", "0.50"), ("999999999999999", "999999999999999.00"),
])
def test_money_is_stored_as_canonical_decimal_text(value, stored):
    assert _one(MONEY, value) == (stored, None)


@pytest.mark.parametrize(("value", "code"), [
    (12.5, "money"),  # a JSON fraction went through binary floating point: refused, send text
    ("12.345", "scale"), ("1e5", "money"), ("NaN", "money"), ("Infinity", "money"), ("12,5", "money"),
    ("", "money"), ("¥12", "money"), ("1" * 16, "digits"), ("9" * 100, "money"), (True, "money"),
    ([1], "money"), ({"amount": "1"}, "money"), ("1" * 30000, "money"),
])
def test_money_refuses_what_is_not_an_exact_amount(value, code):
    assert _one(MONEY, value)[1].code == code


def test_money_bounds_and_scale_are_checked_with_decimals():
    prop = {**MONEY, "minimum": 0, "maximum": 100000, "x-scale": 0}
    assert _one(prop, "-0.01")[1].code in ("minimum", "scale")
    assert _one({**MONEY, "minimum": 0}, "-0.01")[1].code == "minimum"
    assert _one({**MONEY, "maximum": 100000}, "100000.01")[1].code == "maximum"
    assert _one({**MONEY, "maximum": 100000}, "100000.00") == ("100000.00", None)
    assert _one({**MONEY, "exclusiveMinimum": 0}, "0")[1].code == "minimum"
    assert _one(prop, "12") == ("12", None)
    assert _one(prop, "12.5")[1].code == "scale"
    # 0.1 + 0.2 is exactly 0.3 in decimals; a float would store 0.30000000000000004.
    assert _one({**MONEY, "maximum": "0.3"}, "0.30") == ("0.30", None)


def test_money_typed_in_a_form_may_have_separators():
    assert _posted(MONEY, " 1,234.5 ") == ("1234.50", None)
    assert _posted(MONEY, "¥88") == ("88.00", None)
    assert _posted(MONEY, "12abc")[1].code == "money"
    assert _posted(MONEY, "-3")[0] == "-3.00"


def test_percent_is_a_number_between_0_and_100_by_default():
    prop = {"type": "number", "format": "percent"}
    assert _one(prop, 12.5) == (12.5, None)
    assert _one(prop, 100) == (100, None)
    assert _one(prop, 100.5)[1].code == "maximum"
    assert _one(prop, -1)[1].code == "minimum"
    assert _one(prop, 1.234)[1].code == "scale"
    assert _one(prop, "12")[1].code == "number"
    assert _one({**prop, "maximum": 300}, 250) == (250, None)
    assert _posted(prop, "6.5%") == (6.5, None)
    assert _posted(prop, "abc")[1].code == "number"


@pytest.mark.parametrize(("value", "ok"), [
    ("2026-12-31", True), ("2026-02-30", False), ("20261231", False), ("2026-1-1", False), ("", False),
    ("2026-12-31T00:00", False), (20261231, False), (None, True),
])
def test_dates_are_iso_days(value, ok):
    stored, error = _one({"type": "string", "format": "date"}, value)
    assert (error is None) is ok
    if ok and value:
        assert stored == value


@pytest.mark.parametrize(("value", "stored"), [
    ("2026-12-31T09:30", "2026-12-31T09:30"), ("2026-12-31 09:30:15", "2026-12-31T09:30:15"),
    ("2026-12-31T09:30:00+08:00", "2026-12-31T09:30+08:00"), ("2026-12-31T09:30Z", "2026-12-31T09:30+00:00"),
    ("2026-12-31", None), ("2026-12-31T25:00", None), ("yesterday", None), (5, None),
])
def test_date_times_are_iso_to_the_minute(value, stored):
    result, error = _one({"type": "string", "format": "date-time"}, value)
    assert result == stored and (error is None) is (stored is not None)
    if stored is None:
        assert error.code == "datetime"


def test_a_date_range_needs_a_start_and_an_end_not_before_it():
    prop = {"type": "object", "format": "date-range"}
    assert _one(prop, {"start": "2026-12-01", "end": "2026-12-03"}) == (
        {"start": "2026-12-01", "end": "2026-12-03"}, None)
    assert _one(prop, {"start": "2026-12-01", "end": "2026-12-01"})[1] is None
    assert _one(prop, {"start": "2026-12-03", "end": "2026-12-01"})[1].code == "range_order"
    for junk in ({"start": "2026-12-01"}, {"start": "x", "end": "y"}, {"start": "2026-12-01", "end": "2026-12-02",
                                                                       "extra": 1}, "2026-12-01", [1, 2]):
        assert _one(prop, junk)[1].code == "range"
    schema = {"type": "object", "properties": {"trip": prop}}
    assert check(schema, {"trip-start": "2026-12-01", "trip-end": "2026-12-02"})[0]["trip"]["end"] == "2026-12-02"
    assert check(schema, {"trip-start": "2026-12-01"})[1]["trip"].code == "range"
    assert check(schema, {"trip-start": "", "trip-end": ""}) == ({}, {})


def test_multiple_choice_is_a_list_of_listed_values():
    prop = {"type": "array", "uniqueItems": True, "items": {"type": "string", "enum": ["a", "b", "c"]}}
    assert _one(prop, ["a", "c"]) == (["a", "c"], None)
    assert _one(prop, ["a", "z"])[1].code == "enum"
    assert _one(prop, ["a", "a"])[1].code == "uniqueItems"
    assert _one(prop, "a")[1].code == "type"
    assert _posted(prop, ["a", "b"]) == (["a", "b"], None)
    assert _posted(prop, "b") == (["b"], None)


def test_single_choice_reads_posted_text_as_the_listed_value():
    assert _posted({"type": "integer", "enum": [1, 2, 3]}, "2") == (2, None)
    assert _posted({"type": "string", "enum": ["a"]}, "z")[1].code == "enum"


def test_rich_text_is_cleaned_on_the_server():
    prop = {"type": "string", "format": "richtext"}
    stored, error = _one(prop, '<p onclick="x()">Hi <b>you</b><script>alert(1)</script>'
                               '<a href="javascript:alert(1)">x</a><img src=x onerror=alert(1)>'
                               '<a href="https://flowdesk.example">ok</a><style>p{}</style></p>')
    assert error is None
    assert "script" not in stored and "onclick" not in stored and "javascript" not in stored
    assert "<img" not in stored and "style" not in stored and "<b>you</b>" in stored
    assert 'href="https://flowdesk.example"' in stored and 'rel="noopener noreferrer"' in stored
    assert _posted(prop, "<i>x</i><iframe src=//evil></iframe>") == ("<i>x</i>", None)
    assert _one({**prop, "maxLength": 10}, "x" * 11)[1].code == "too_long"


def test_lookups_check_users_departments_dictionaries_and_records(lookups):
    user = {"type": "string", "format": "user"}
    assert _one(user, "li.na", lookups) == ("li.na", None)
    error = _one(user, "old.hand", lookups)[1]
    assert error.code == "user" and "old.hand" in error.message
    department = {"type": "string", "format": "department"}
    assert _one(department, "sales", lookups)[1] is None
    assert _one(department, "moon", lookups)[1].code == "department"
    dictionary = {"type": "string", "x-dictionary": "industry"}
    assert _one(dictionary, "it", lookups)[1] is None
    assert _one(dictionary, "oil", lookups)[1].code == "enum"
    assert _one({"type": "string", "x-dictionary": "unknown"}, "oil", lookups)[1] is None  # unknown: not checked
    reference = {"type": "integer", "x-reference": "customer"}
    assert _one(reference, 1, lookups) == (1, None)
    assert _one(reference, 3, lookups)[1].code == "reference"
    assert ("record", "customer", 3) in lookups.asked
    for junk in ("1", 1.5, True, 0, -1, 2**63, [1]):
        assert _one(reference, junk, lookups)[1].code == "integer"
    assert _posted(reference, "#2", lookups) == (2, None)


def test_without_lookups_nothing_outside_the_form_is_checked():
    assert _one({"type": "string", "format": "user"}, "anyone") == ("anyone", None)
    assert _one({"type": "integer", "x-reference": "customer"}, 99) == (99, None)


def test_null_means_no_value_and_required_fields_must_have_one():
    schema = {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}
    assert clean(schema, {"a": "x", "b": None}) == ({"a": "x"}, {})
    assert clean(schema, {"a": None})[1]["a"].code == "required"
    assert clean(schema, {"a": ""})[1]["a"].code == "required"
    with pytest.raises(FormError) as caught:
        validate(schema, {})
    assert caught.value.errors["a"].message == "this field is required"
    assert clean(schema, "not an object")[1]["form"].code == "type"


def test_validate_returns_the_checked_data():
    schema = {"type": "object", "properties": {"m": MONEY, "t": {"type": "integer", "x-computed": "2 * 21"}}}
    assert validate(schema, {"m": "5", "t": 1}) == {"m": "5.00", "t": 42}


def test_several_departments_are_picked_from_the_organisation(lookups):
    prop = {"type": "array", "items": {"type": "string", "format": "department"}, "minItems": 1}
    assert kind_of(prop) == "multichoice"
    [field] = fields({"type": "object", "properties": {"seats": prop}}, lookups)
    assert field.options == [("sales", "Sales / 销售部"), ("hr", "HR / 人力资源部")]  # the organisation's, no enum
    assert _one(prop, ["sales", "hr"], lookups) == (["sales", "hr"], None)
    error = _one(prop, ["sales", "moon"], lookups)[1]
    assert error.code == "department" and "moon" in error.message
    assert _posted(prop, ["hr", "sales"], lookups) == (["hr", "sales"], None)


def test_a_form_checked_again_from_a_fresh_copy_reuses_its_validator_and_judges_alike():
    import copy
    from decimal import Decimal

    from forms import validation

    schema = {"type": "object", "properties": {"days": {"type": "number", "minimum": 0.5, "title": "天数"},
                                               "note": {"type": "string", "maxLength": 3}}}
    validation._validator.cache_clear()
    first = clean(copy.deepcopy(schema), {"days": 0, "note": "abcd"})[1]
    second = clean(copy.deepcopy(schema), {"days": 0, "note": "abcd"})[1]
    assert sorted(first) == sorted(second) == ["days", "note"]
    assert [first[k].code for k in sorted(first)] == [second[k].code for k in sorted(second)] == ["minimum", "maxLength"]
    assert validation._validator.cache_info().hits >= 1 and validation._validator.cache_info().currsize == 1
    # A schema built in code with a value JSON cannot write is still judged, only not remembered.
    odd = {**copy.deepcopy(schema), "description": Decimal("1.5")}
    assert clean(odd, {"days": 1, "note": "ok"}) == ({"days": 1, "note": "ok"}, {})

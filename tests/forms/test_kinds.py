"""Every field kind is recognised from its schema, and the form dialect is checked when a form is loaded."""
from __future__ import annotations

import json

import pytest

from forms.kinds import kind_of
from forms.schema import SchemaProblem, load_schema

TABLE = {"type": "array", "items": {"type": "object", "properties": {"x": {"type": "string"}}}}


@pytest.mark.parametrize(("prop", "kind"), [
    ({"type": "string"}, "string"),
    ({"type": "string", "maxLength": 2000}, "textarea"),
    ({"type": "string", "x-ui": {"widget": "textarea"}}, "textarea"),
    ({"type": "string", "format": "email"}, "email"),
    ({"type": "number"}, "number"),
    ({"type": "integer"}, "integer"),
    ({"type": "string", "format": "money"}, "money"),
    ({"type": "number", "format": "percent"}, "percent"),
    ({"type": "string", "format": "date"}, "date"),
    ({"type": "string", "format": "date-time"}, "date-time"),
    ({"type": "object", "format": "date-range"}, "daterange"),
    ({"type": "boolean"}, "boolean"),
    ({"type": "string", "enum": ["a", "b"]}, "choice"),
    ({"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}, "multichoice"),
    ({"type": "string", "x-dictionary": "industry"}, "dictionary"),
    ({"type": "string", "format": "user"}, "user"),
    ({"type": "string", "format": "department"}, "department"),
    ({"type": "integer", "x-reference": "customer"}, "reference"),
    ({"type": "array", "items": {"type": "integer"}, "format": "attachments"}, "attachments"),
    ({"type": "string", "format": "richtext"}, "richtext"),
    (TABLE, "table"),
    ({"type": "object"}, "json"),
    ({"type": "string", "x-kind": "richtext"}, "richtext"),
])
def test_every_kind_is_recognised(prop, kind):
    assert kind_of(prop) == kind


def _load(properties: dict, **extra) -> dict:
    return load_schema(json.dumps({"type": "object", "properties": properties, **extra}), "form.json")


@pytest.mark.parametrize(("properties", "extra", "why"), [
    ({"a": TABLE, "b": TABLE}, {}, "at most one detail table"),
    ({"a": {"type": "number", "format": "money"}}, {}, "give it type string"),
    ({"a": {"type": "string", "format": "date-range"}}, {}, "give it type object"),
    ({"a": {"type": "string", "x-reference": "customer"}}, {}, "give it type integer"),
    ({"a": {"type": "string", "x-computed": "1 +"}}, {}, "syntax error"),
    ({"a": {"type": "string", "x-computed": "().__class__"}}, {}, "not allowed"),
    ({"a": {"type": "string", "x-computed": "open('/etc/passwd')"}}, {}, "not allowed"),
    ({"a": {"type": "string", "x-visible-if": {"field": "b"}}}, {}, "exactly one of"),
    ({"a": {"type": "string", "x-visible-if": {"field": "b", "in": "x"}}}, {}, "must be a list"),
    ({"a": {"type": "string", "x-visible-if": ["b"]}}, {}, "'field'"),
    ({"a": {"type": "string", "x-ui": {"width": 13}}}, {}, "width"),
    ({"a": {"type": "string", "x-ui": {"widget": "slider"}}}, {}, "widget"),
    ({"a": {"type": "string", "x-dictionary": ""}}, {}, "x-dictionary"),
    ({"a": {"type": "string", "x-kind": "nope"}}, {}, "x-kind"),
    ({"a": {**TABLE, "items": {"type": "object", "properties": {"t": TABLE}}}}, {}, "simple field"),
    ({"a": {**TABLE, "items": {"type": "object", "properties": {"r": {"type": "string", "format": "richtext"}}}}},
     {}, "simple field"),
    ({"a": {**TABLE, "items": {"type": "object", "properties": {"m": {"type": "string", "format": "money",
                                                                      "x-computed": "1 +"}}}}}, {}, "syntax error"),
    ({}, {"x-field-permissions": {"a": "maybe"}}, "x-field-permissions"),
    ({}, {"x-hidden-fields": "a"}, "x-hidden-fields"),
    ({}, {"x-ui": {"columns": 7}}, "columns 1 to 4"),
])
def test_the_dialect_is_checked_when_a_form_is_loaded(properties, extra, why):
    with pytest.raises(SchemaProblem, match=why) as caught:
        _load(properties, **extra)
    assert "form.json" in str(caught.value)


def test_broken_json_and_non_object_forms_are_refused():
    for text in ("{", "[]", '{"type": "array"}', '{"type": "object", "properties": {"a": {"type": 5}}}'):
        with pytest.raises(SchemaProblem):
            load_schema(text)


def test_a_good_form_with_every_keyword_loads():
    schema = _load({
        "kind": {"type": "string", "enum": ["a", "b"]},
        "amount": {"type": "string", "format": "money", "x-currency": "USD", "x-scale": 2,
                   "x-visible-if": {"field": "kind", "in": ["a"]}, "x-ui": {"width": "half", "help": "h"}},
        "days": {"type": "integer", "x-computed": "days_between(period.start, period.end) + 1"},
        "period": {"type": "object", "format": "date-range", "x-visible-if": "kind == 'a'"},
        "lines": {**TABLE, "items": {"type": "object", "properties": {
            "q": {"type": "integer"}, "p": {"type": "string", "format": "money"},
            "t": {"type": "string", "format": "money", "x-computed": "q * p"}}}},
    }, **{"x-ui": {"order": ["amount"], "columns": 3}, "x-field-permissions": {"x": "editable"}})
    assert schema["properties"]["days"]["x-computed"]

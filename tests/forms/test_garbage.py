"""Garbage in gives field errors out, never an exception: wrong types, huge text, junk rows, odd posts."""
from __future__ import annotations

import json
import random

from forms.errors import FieldError
from forms.schema import check, clean, fields, render_values

from .conftest import FakeLookups

FORM = json.loads("""{
  "type": "object", "required": ["s", "lines"],
  "properties": {
    "s": {"type": "string", "maxLength": 50}, "t": {"type": "string", "maxLength": 5000},
    "n": {"type": "number", "minimum": 0}, "i": {"type": "integer"}, "m": {"type": "string", "format": "money"},
    "p": {"type": "number", "format": "percent"}, "d": {"type": "string", "format": "date"},
    "dt": {"type": "string", "format": "date-time"}, "r": {"type": "object", "format": "date-range"},
    "b": {"type": "boolean"}, "c": {"type": "string", "enum": ["a", "b"]},
    "mc": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
    "dic": {"type": "string", "x-dictionary": "industry"}, "u": {"type": "string", "format": "user"},
    "dep": {"type": "string", "format": "department"}, "ref": {"type": "integer", "x-reference": "customer"},
    "rt": {"type": "string", "format": "richtext"}, "e": {"type": "string", "format": "email"},
    "files": {"type": "array", "items": {"type": "integer"}, "format": "attachments"},
    "j": {"type": "object"},
    "cond": {"type": "string", "x-visible-if": {"field": "c", "equals": "a"}},
    "calc": {"type": "string", "format": "money", "x-computed": "m * 2"},
    "lines": {"type": "array", "maxItems": 20, "items": {"type": "object", "required": ["q"], "properties": {
      "q": {"type": "integer"}, "price": {"type": "string", "format": "money"}, "d": {"type": "string", "format": "date"},
      "who": {"type": "string", "format": "user"}, "c": {"type": "string", "enum": ["a"]},
      "sum": {"type": "string", "format": "money", "x-computed": "q * price"}}}}
  }
}""")
JUNK = [None, True, False, 0, -1, 2**64, -(2**70), 1.5, -0.0, 1e308, "", " ", "x" * 100_000, "0" * 50, "1e9999",
        "NaN", "-Infinity", "２０２６-１２-０１", "2026-13-45", "<script>", "\u202e", "\ud800x", "12,34,56", "١٢٣",
        [], [None], [[[[]]]], {}, {"start": {}}, {"a": [1, {"b": None}]}, ["a", "a", "z"], [{"q": "x"}] * 3,
        [{"q": 1, "price": "1" * 40, "zz": 1}, 5, "row", [1]], {"start": "2026-12-01", "end": []}]


def _all_errors_are_fine(errors: dict) -> None:
    for key, error in errors.items():
        assert isinstance(key, str) and isinstance(error, FieldError)
        assert isinstance(error.message, str)


def test_every_kind_survives_every_junk_value_through_json():
    lookups = FakeLookups()
    for name in FORM["properties"]:
        for value in JUNK:
            data, errors = clean(FORM, {name: value}, lookups=lookups)
            _all_errors_are_fine(errors)
            json.dumps(data)  # whatever is kept can be stored


def test_random_mixtures_survive_through_json_and_posts():
    rng = random.Random(4)
    names = list(FORM["properties"]) + ["unknown", "lines-0-q", "lines-99999999-q", "r-start", "r-end", "lines--q"]
    for _ in range(400):
        payload = {rng.choice(names): rng.choice(JUNK) for _ in range(rng.randint(1, 8))}
        _all_errors_are_fine(clean(FORM, payload, lookups=FakeLookups())[1])
        posted = {k: (v if isinstance(v, list) and all(isinstance(i, str) for i in v) else str(v))
                  for k, v in payload.items()}
        data, errors = check(FORM, posted, lookups=FakeLookups())
        _all_errors_are_fine(errors)
        json.dumps(data)
        render_values(FORM, posted, data)


def test_a_post_with_a_huge_row_number_or_many_names_is_refused_quietly():
    posted = {f"lines-{i}-q": "1" for i in range(0, 3000, 3)}
    assert check(FORM, posted)[1]["lines"].code == "maxItems"
    assert check(FORM, {"lines-9999999999-q": "1"})[1]["lines"].code == "required"  # not a row number


def test_rendering_metadata_never_fails_on_odd_schemas():
    odd = {"type": "object", "properties": {"a": True, "b": {"type": ["string", "null"]}, "c": {"enum": [None, 1]},
                                            "d": {"type": "array"}, "e": {"x-ui": "junk"}}}
    assert [f.kind for f in fields(odd)] == ["json", "choice", "json", "string"]
    _all_errors_are_fine(check(odd, {"b": "x", "c": "1", "d": "[1]", "e": "y"})[1])

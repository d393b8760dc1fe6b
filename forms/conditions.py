"""Conditional fields (x-visible-if): shown, required and kept only while their condition holds.

A condition is either an object the browser can evaluate too,
    {"field": "kind", "equals": "x"} | {"field": "kind", "in": ["x", "y"]} | {"field": "kind", "filled": true}
or an expression text evaluated on the server only (the browser then always shows the field).
"""
from __future__ import annotations

from engine.errors import ExpressionError

from .computed import compute

OPERATORS = ("equals", "in", "filled")


def problem(condition) -> str | None:
    """Say what is wrong with an x-visible-if value, or None when it is well formed."""
    if isinstance(condition, str):
        return None if condition.strip() else "an empty expression"
    if not isinstance(condition, dict) or not isinstance(condition.get("field"), str):
        return "give an object with 'field' and one of equals, in, filled, or an expression text"
    given = [op for op in OPERATORS if op in condition]
    if len(given) != 1 or set(condition) - {"field", *OPERATORS}:
        return "give exactly one of equals, in, filled besides 'field'"
    if "in" in condition and not isinstance(condition["in"], list):
        return "'in' must be a list"
    if "filled" in condition and not isinstance(condition["filled"], bool):
        return "'filled' must be true or false"
    return None


def _same(value, expected) -> bool:
    if isinstance(value, bool) or isinstance(expected, bool):
        return value is expected or (isinstance(expected, str) and str(value).lower() == expected.lower())
    return value == expected or (value is not None and str(value) == str(expected))


def _filled(value) -> bool:
    return value not in (None, "", [], {})


def holds(condition, data: dict, variables: dict | None = None) -> bool:
    """Tell whether a field with this x-visible-if is shown for the data (no condition: always)."""
    if condition is None:
        return True
    if isinstance(condition, str):
        try:
            return bool(compute(condition, variables if variables is not None else data))
        except ExpressionError:
            return False  # a condition that cannot be evaluated yet (a field still empty) hides the field
    if problem(condition):
        return False
    value = data.get(condition["field"])
    if "filled" in condition:
        return _filled(value) is condition["filled"]
    expected = condition["in"] if "in" in condition else [condition["equals"]]
    values = value if isinstance(value, list) else [value]
    return any(_same(v, e) for v in values for e in expected)

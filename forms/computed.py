"""Computed fields (x-computed): expressions evaluated on the server with the engine's safe evaluator."""
from __future__ import annotations

import math
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from engine.errors import ExpressionError
from engine.expressions import evaluate, parse_date

from .kinds import columns, kind_of, properties
from .values import a_date, a_datetime, scale_of, to_decimal

MAX_RESULT_TEXT = 2_000


def days_between(start, end) -> int:
    """Return the days from start to end (dates or ISO text); the same day gives 0."""
    first, last = parse_date(start), parse_date(end)
    if isinstance(first, datetime):
        first = first.date()
    if isinstance(last, datetime):
        last = last.date()
    return (last - first).days


def sum_column(rows, column: str) -> Decimal:
    """Add up one column of the detail table, skipping empty cells."""
    if not isinstance(rows, list):
        raise TypeError("sum_column() needs the rows of a detail table")
    total = Decimal(0)
    for row in rows:
        value = row.get(column) if isinstance(row, dict) else None
        number = to_decimal(value)
        if number is not None:
            total += number
    return total


def decimal(value) -> Decimal:
    """Read a number or decimal text as an exact Decimal."""
    number = to_decimal(value)
    if number is None:
        raise ValueError(f"decimal() needs a number, not {value!r}")
    return number


def coalesce(*values):
    """Return the first value that is not None or empty text."""
    return next((v for v in values if v is not None and v != ""), None)


FUNCTIONS = {"days_between": days_between, "sum_column": sum_column, "decimal": decimal, "coalesce": coalesce}


def typed(schema: dict, data: dict, context: dict | None = None) -> dict:
    """Return the variables an expression sees: money, percent and numbers as Decimal, dates as dates."""
    props = properties(schema)
    variables = {}
    for name, value in {**(context or {}), **data}.items():
        prop = props.get(name)
        variables[name] = _typed(prop, value) if prop is not None else value
    return variables


def _typed(prop: dict, value):
    kind = kind_of(prop)
    if kind == "table":
        cols = columns(prop)
        return [{c: _typed(cols[c], v) if c in cols else v for c, v in row.items()}
                for row in value if isinstance(row, dict)] if isinstance(value, list) else value
    if kind in ("money", "percent", "number") and not isinstance(value, bool):
        number = to_decimal(value)
        return number if number is not None else value
    if kind == "date" and isinstance(value, str) and a_date(value):
        return date.fromisoformat(value)
    if kind == "daterange" and isinstance(value, dict) and a_date(value.get("start")) and a_date(value.get("end")):
        return {"start": date.fromisoformat(value["start"]), "end": date.fromisoformat(value["end"])}
    return value


def compute(expression: str, variables: dict):
    """Evaluate an x-computed expression; raise ExpressionError when it cannot be evaluated."""
    return evaluate(expression, variables, functions=FUNCTIONS)


def stored(prop: dict, result):
    """Turn an expression's result into the JSON value the field's kind stores; None when it does not fit."""
    kind = kind_of(prop)
    if result is None:
        return None
    if kind in ("money", "percent", "number", "integer"):
        if isinstance(result, float):  # e.g. int / int: read its shortest text, exponent and all
            number = Decimal(repr(result)) if math.isfinite(result) else None
        else:
            number = to_decimal(result)
        if number is None:
            return None
        if kind == "integer":
            return int(number.to_integral_value(rounding=ROUND_HALF_UP))
        if kind == "number":
            return int(number) if number == number.to_integral_value() else float(number)
        number = number.quantize(Decimal(1).scaleb(-scale_of(prop)), rounding=ROUND_HALF_UP)
        if kind == "percent":
            return int(number) if number == number.to_integral_value() else float(number)
        return str(abs(number) if number == 0 else number)
    if kind == "date":
        return result.isoformat() if isinstance(result, date) and not isinstance(result, datetime) else a_date(result)
    if kind == "date-time":
        return a_datetime(result.isoformat() if isinstance(result, datetime) else result)
    if kind == "boolean":
        return bool(result)
    if isinstance(result, (str, int, Decimal)) and not isinstance(result, bool):
        return str(result)[:MAX_RESULT_TEXT]
    return None


def fill(schema: dict, data: dict, context: dict | None = None) -> dict[str, str]:
    """Compute every x-computed field (and column) into data in place; return {name: reason} for failures."""
    failures = {}
    props = properties(schema)
    for name, prop in props.items():
        if kind_of(prop) == "table" and isinstance(data.get(name), list):
            for row in data[name]:
                if isinstance(row, dict):
                    fill({"properties": columns(prop)}, row)
    for name, prop in props.items():
        expression = prop.get("x-computed")
        if not isinstance(expression, str):
            continue
        data.pop(name, None)
        try:
            value = stored(prop, compute(expression, typed(schema, data, context)))
        except ExpressionError as exc:
            failures[name] = str(exc)
            continue
        if value is not None:
            data[name] = value
    return failures

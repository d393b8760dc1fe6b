"""Forms in one import: load a form, list its fields, read a post, check data, map every error to its field.

The dialect (kinds, x- keywords) is described in docs/forms.md; the modules beside this one do the work.
"""
from __future__ import annotations

import json

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from . import dialect
from .errors import MESSAGES, FieldError, FormError, SchemaProblem
from .lookups import UNKNOWN, Lookups
from .permissions import hidden_fields
from .ui import Field, fields, render_values
from .validation import clean, coerce, hidden_by_condition
from .values import MAX_TEXT

__all__ = ["MAX_TEXT", "MESSAGES", "Field", "FieldError", "FormError", "Lookups", "SchemaProblem", "check",
           "clean", "coerce", "fields", "hidden_fields", "load_schema", "render_values", "validate"]


def load_schema(text: str | bytes, name: str = "form") -> dict:
    """Parse and check a form schema: valid JSON Schema, an object at the top, and the form dialect."""
    try:
        schema = json.loads(text)
        Draft202012Validator.check_schema(schema)
    except (json.JSONDecodeError, SchemaError, RecursionError) as exc:
        raise SchemaProblem(f"{name} is not a valid JSON Schema form: {exc}") from None
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        raise SchemaProblem(f"{name}: a form's top level must be an object")
    dialect.check(schema, name)
    return schema


def validate(schema: dict, data: dict, *, lookups: Lookups = UNKNOWN, context: dict | None = None) -> dict:
    """Return the checked data (computed fields filled, hidden conditional fields dropped); raise FormError."""
    checked, errors = clean(schema, data, lookups=lookups, context=context)
    if errors:
        raise FormError(errors)
    return checked


def defaults(schema: dict) -> dict:
    """Return the `default` of each top-level field that has a plain one, to fill a new form with."""
    return {name: prop["default"] for name, prop in (schema.get("properties") or {}).items()
            if isinstance(prop, dict) and isinstance(prop.get("default"), str | int | float | bool)}


def check(schema: dict, posted: dict, *, lookups: Lookups = UNKNOWN,
          context: dict | None = None) -> tuple[dict, dict[str, FieldError]]:
    """Read posted text and check it; return (data, errors) with every field's first problem."""
    data, errors = coerce(schema, posted)
    checked, more = clean(schema, data, lookups=lookups, context=context)
    hidden = hidden_by_condition(schema, checked, context)
    # A value that could not even be read keeps that message rather than "required", unless its field is hidden.
    unread = {k: v for k, v in errors.items() if k.split("[", 1)[0] not in hidden}
    return checked, {**more, **unread}

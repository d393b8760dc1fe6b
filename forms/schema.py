"""Validate submitted data against a form's JSON Schema and map every error to its field."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

MAX_TEXT = 20_000


MESSAGES = {  # code -> English text; the web app translates by code
    "required": "this field is required",
    "enum": "choose one of the listed values",
    "minimum": "must be at least {limit}",
    "maximum": "must be at most {limit}",
    "maxLength": "at most {limit} characters",
    "minLength": "at least {limit} characters",
    "format": "not a valid {limit}",
    "type": "must be a {limit}",
    "integer": "enter a whole number",
    "number": "enter a number",
    "date": "enter a date as YYYY-MM-DD",
    "json": "invalid value",
    "too_long": "at most {limit} characters",
    "invalid": "{detail}",
}


@dataclass
class FieldError:
    """Why one field was refused: a code, its limit or detail, and the English text."""

    code: str
    limit: object = None
    detail: str = ""

    @property
    def message(self) -> str:
        """Return the English message."""
        return MESSAGES.get(self.code, "{detail}").format(limit=self.limit, detail=self.detail)

    def __str__(self) -> str:
        return self.message


class FormError(Exception):
    """Submitted data does not fit the form; `errors` maps field names to FieldError."""

    code = "invalid_form"

    def __init__(self, errors: dict[str, FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class SchemaProblem(Exception):
    """The form itself is not valid JSON Schema."""


@dataclass
class Field:
    """One top-level field of a form, as the renderer draws it."""

    name: str
    title: str
    kind: str
    required: bool
    schema: dict

    @property
    def options(self) -> list[tuple]:
        """Return (value, label) pairs of a choice field; labels come from enumNames when given."""
        values = list(self.schema.get("enum", []))
        names = self.schema.get("enumNames") or self.schema.get("x-enumNames") or []
        return [(v, names[i] if i < len(names) else str(v)) for i, v in enumerate(values)]

    def label_for(self, value) -> str:
        """Return the label of a stored value (the value itself when it has none)."""
        return next((label for v, label in self.options if v == value), str(value))


def hidden_fields(schema: dict | None) -> set[str]:
    """Name the instance fields a task's form hides from the people working on that task (x-hidden-fields)."""
    names = (schema or {}).get("x-hidden-fields") or []
    return {str(name) for name in names} if isinstance(names, list) else set()


def load_schema(text: str | bytes, name: str = "form") -> dict:
    """Parse and check a form schema."""
    try:
        schema = json.loads(text)
        Draft202012Validator.check_schema(schema)
    except (json.JSONDecodeError, SchemaError) as exc:
        raise SchemaProblem(f"{name} is not a valid JSON Schema form: {exc}") from None
    if schema.get("type", "object") != "object":
        raise SchemaProblem(f"{name}: a form's top level must be an object")
    return schema


def fields(schema: dict) -> list[Field]:
    """List the top-level fields in order, with the widget kind to draw."""
    required = set(schema.get("required", []))
    order = schema.get("x-order") or list(schema.get("properties", {}))
    out = []
    for name in order:
        prop = schema.get("properties", {}).get(name)
        if prop is None:
            continue
        out.append(Field(name, prop.get("title", name), _kind(prop), name in required, prop))
    return out


def _kind(prop: dict) -> str:
    kind = prop.get("type", "string")
    if prop.get("format") == "attachments" or prop.get("x-widget") == "attachments":
        return "attachments"
    if "enum" in prop:
        return "choice"
    if kind == "string" and prop.get("format") in ("date", "date-time", "email"):
        return prop["format"]
    if kind == "string" and (prop.get("maxLength") or 0) > 200:
        return "textarea"
    return kind if kind in ("string", "number", "integer", "boolean") else "json"


def coerce(schema: dict, posted: dict[str, str]) -> tuple[dict, dict[str, FieldError]]:
    """Turn posted text values into typed data; return (data, errors) with errors keyed by field."""
    data, errors = {}, {}
    for spec in fields(schema):
        raw = posted.get(spec.name)
        if spec.kind == "attachments":
            # The web layer stores the uploaded files first and posts their ids here.
            if isinstance(raw, list) and raw:
                data[spec.name] = [int(i) for i in raw]
            continue
        if spec.kind == "boolean":
            data[spec.name] = raw in ("on", "true", "1", "yes")
            continue
        if raw is None or str(raw).strip() == "":
            continue
        raw = str(raw).strip()
        if len(raw) > MAX_TEXT:
            errors[spec.name] = FieldError("too_long", MAX_TEXT)
            continue
        try:
            if spec.kind == "integer":
                data[spec.name] = int(raw)
            elif spec.kind == "number":
                number = Decimal(raw)
                data[spec.name] = int(number) if number == number.to_integral_value() else float(number)
            elif spec.kind == "date":
                data[spec.name] = date.fromisoformat(raw).isoformat()
            elif spec.kind == "json":
                data[spec.name] = json.loads(raw)
            else:
                data[spec.name] = raw
        except (ValueError, InvalidOperation, json.JSONDecodeError):
            errors[spec.name] = FieldError(spec.kind if spec.kind in ("integer", "number", "date") else "json")
    return data, errors


def validate(schema: dict, data: dict) -> None:
    """Raise FormError with one message per field when data does not satisfy the schema."""
    errors: dict[str, FieldError] = {}
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.path)):
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else "form"
            errors.setdefault(missing, FieldError("required"))
            continue
        name = str(error.path[0]) if error.path else "form"
        errors.setdefault(name, _field_error(error))
    if errors:
        raise FormError(errors)


def _field_error(error) -> FieldError:
    kind = {"exclusiveMinimum": "minimum", "exclusiveMaximum": "maximum"}.get(error.validator, error.validator)
    if kind in MESSAGES:
        return FieldError(kind, error.validator_value if kind != "enum" else None)
    return FieldError("invalid", detail=error.message)


def check(schema: dict, posted: dict[str, str]) -> tuple[dict, dict[str, FieldError]]:
    """Coerce posted values and validate them; return (data, errors) with every field's first problem."""
    data, errors = coerce(schema, posted)
    try:
        validate(schema, data)
    except FormError as exc:
        # A value that could not even be read keeps that message rather than "required".
        errors = {**exc.errors, **errors}
    return data, errors

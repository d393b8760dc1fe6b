"""The authoritative check of a form's data: kinds, computed and conditional fields, lookups, JSON Schema."""
from __future__ import annotations

import json
from functools import lru_cache

from jsonschema import Draft202012Validator, FormatChecker

from . import table
from .computed import fill, typed
from .conditions import holds
from .errors import MESSAGES, FieldError
from .kinds import PLAIN, columns, kind_of, properties
from .lookups import UNKNOWN, Lookups
from .values import lookup_error, normalize, parse_posted

TRUE = table.TRUE


def coerce(schema: dict, posted: dict) -> tuple[dict, dict[str, FieldError]]:
    """Turn posted text values (str, or a list for repeated names) into JSON values; return (data, errors)."""
    data, errors = {}, {}
    for name, prop in properties(schema).items():
        if "x-computed" in prop:
            continue  # recomputed on the server whatever the browser sent
        kind = kind_of(prop)
        raw = posted.get(name)
        if kind == "attachments":
            # The web layer stores the uploaded files first and passes their ids here as numbers; posted
            # text is never taken for ids, or a crafted post could attach someone else's files.
            if isinstance(raw, list) and raw and all(type(i) is int for i in raw):
                data[name] = raw
        elif kind == "boolean":
            data[name] = (raw[0] if isinstance(raw, list) and raw else raw) in TRUE
        elif kind == "table":
            rows, more = table.coerce_rows(name, prop, posted)
            errors.update(more)
            if rows:
                data[name] = rows
        elif kind == "daterange":
            start, end = (str(posted.get(f"{name}-{part}") or "").strip() for part in ("start", "end"))
            if start or end:
                data[name] = {"start": start, "end": end}
        elif raw is not None and (isinstance(raw, list) or str(raw).strip() != ""):
            value, error = parse_posted(kind, prop, raw)
            if error:
                errors[name] = error
            elif value != []:
                data[name] = value
    return data, errors


def clean(schema: dict, data: dict, *, lookups: Lookups = UNKNOWN,
          context: dict | None = None) -> tuple[dict, dict[str, FieldError]]:
    """Check JSON data against the form; return (clean data, errors by key). Context: instance data around it."""
    if not isinstance(data, dict):
        return {}, {"form": FieldError("type", "object")}
    props = properties(schema)
    out, errors = {}, {}
    for name, value in data.items():
        prop = props.get(name)
        if prop is None:
            out[name] = value  # not a field: the caller refuses it or the schema's own keywords judge it
            continue
        if value is None or "x-computed" in prop:
            continue  # null means "no value"; a posted computed value is ignored and recomputed
        kind = kind_of(prop)
        value, more = (table.normalize_rows(name, prop, value) if kind == "table"
                       else _single(name, normalize(kind, prop, value)))
        errors.update(more)
        if value is not None:
            out[name] = value
    failed = fill(schema, out, context)
    shown = _shown(schema, out, context)
    for name in set(props) - shown:
        out.pop(name, None)
        errors = {k: v for k, v in errors.items() if k != name and not k.startswith(f"{name}[")}
    for key, error in _required(schema, out, shown, failed).items():
        if key.split(".", 1)[0] not in errors:  # a row that is not even an object has no cells to miss
            errors.setdefault(key, error)
    for key, error in _lookups(props, out, lookups).items():
        errors.setdefault(key, error)
    for key, error in _json_schema(schema, out, shown).items():
        errors.setdefault(key, error)
    return out, errors


def _single(name: str, result) -> tuple:
    value, error = result
    return value, ({name: error} if error else {})


def _shown(schema: dict, data: dict, context: dict | None) -> set[str]:
    """Name the fields whose x-visible-if holds (fields without one always do).

    A condition on a field that is itself hidden sees no value there, so hiding repeats until nothing changes.
    """
    props = properties(schema)
    shown = set(props)
    for _round in range(len(props) + 1):
        visible = {k: v for k, v in data.items() if k in shown or k not in props}
        merged = {**(context or {}), **visible}
        for name in set(props) - shown:
            merged.pop(name, None)  # a hidden field hides the instance value of the same name as well
        variables = typed(schema, visible, {k: v for k, v in (context or {}).items() if k in merged})
        now = {name for name, prop in props.items() if holds(prop.get("x-visible-if"), merged, variables)}
        if now == shown:
            break
        shown = now
    return shown


def hidden_by_condition(schema: dict, data: dict, context: dict | None = None) -> set[str]:
    """Name the fields whose x-visible-if does not hold for the data."""
    return set(properties(schema)) - _shown(schema, data, context)


def _missing(value) -> bool:
    return value is None or value == ""


def _required(schema: dict, data: dict, shown: set[str], failed: dict) -> dict[str, FieldError]:
    props = properties(schema)
    errors = {}
    for name in schema.get("required") or []:
        if not isinstance(name, str) or (name in props and name not in shown):
            continue
        if _missing(data.get(name)):
            errors[name] = FieldError("computed" if name in failed else "required")
    for name, prop in props.items():
        if kind_of(prop) == "table" and isinstance(data.get(name), list):
            errors.update(table.row_required(name, prop, data[name]))
    return errors


def _lookups(props: dict, data: dict, lookups: Lookups) -> dict[str, FieldError]:
    errors = {}
    for name, value in data.items():
        prop = props.get(name)
        if prop is None:
            continue
        kind = kind_of(prop)
        if kind == "table" and isinstance(value, list):
            cols = columns(prop)
            for index, row in enumerate(value):
                for column, cell in row.items():
                    error = lookup_error(kind_of(cols[column]), cols[column], cell, lookups)
                    if error:
                        errors[table.key(name, index, column)] = error
        else:
            error = lookup_error(kind, prop, value, lookups)
            if error:
                errors[name] = error
    return errors


def _effective(schema: dict, shown: set[str]) -> dict:
    """Return the schema jsonschema judges: only plain kinds; required and our own kinds are checked above."""
    out = {k: v for k, v in schema.items() if k not in ("properties", "required")}
    out["properties"] = {}
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            out["properties"][name] = prop
            continue
        kind = kind_of(prop)
        # A computed value is judged by its own keywords too: a total of -9.8 hours is refused, not stored.
        if name not in shown or (kind not in PLAIN and kind != "table"):
            out["properties"][name] = {}
        elif kind == "table":
            items = {k: v for k, v in prop["items"].items() if k not in ("properties", "required")}
            items["properties"] = {c: (p if kind_of(p) in PLAIN else {}) for c, p in columns(prop).items()}
            out["properties"][name] = {**prop, "items": items}
        else:
            out["properties"][name] = prop
    return out


# One checker for every form: it holds no state, and building one copies every known format's check.
_FORMATS = FormatChecker()


@lru_cache(maxsize=256)
def _validator(schema_text: str) -> Draft202012Validator:
    # Keyed by the schema's text: forms arrive as fresh copies, and a validator (with the reference resolver it
    # builds on first use) cost more than writing the schema out.
    return Draft202012Validator(json.loads(schema_text), format_checker=_FORMATS)


def _json_schema(schema: dict, data: dict, shown: set[str]) -> dict[str, FieldError]:
    errors = {}
    props = properties(schema)
    effective = _effective(schema, shown)
    try:
        validator = _validator(json.dumps(effective, sort_keys=True, ensure_ascii=False))
    except (TypeError, ValueError):  # a schema built in code with values JSON cannot write: judged uncached
        validator = Draft202012Validator(effective, format_checker=_FORMATS)
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        errors.setdefault(_key(error, props), _field_error(error))
    return errors


def _key(error, props: dict) -> str:
    path = list(error.absolute_path)
    if not path:
        if error.validator == "required" and "'" in error.message:
            return error.message.split("'")[1]
        return "form"
    name = str(path[0])
    if kind_of(props.get(name, {})) == "table" and len(path) >= 2 and isinstance(path[1], int):
        return table.key(name, path[1], str(path[2]) if len(path) >= 3 else None)
    return name


def _field_error(error) -> FieldError:
    code = {"exclusiveMinimum": "minimum", "exclusiveMaximum": "maximum"}.get(error.validator, error.validator)
    if code == "type" and error.validator_value in ("integer", "number"):
        return FieldError(error.validator_value)
    if code in MESSAGES and code not in ("invalid", "json"):
        return FieldError(code, error.validator_value if code not in ("enum", "uniqueItems", "pattern") else None)
    return FieldError("invalid", detail=error.message[:500])

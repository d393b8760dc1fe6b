"""Checks on a record type's schema and metadata, and what is derived from them: titles, search text, references."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from forms.schema import SchemaProblem, load_schema

from .errors import Invalid

KEY = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
BUILTIN_COLUMNS = ("title", "owner", "created_at", "updated_at", "id")
MAX_FIELDS = 200
MAX_SCHEMA_BYTES = 200_000
SEARCH_TEXT_LIMIT = 4000


@dataclass(frozen=True)
class Reference:
    """A field that points at a record of another type; `path` is `field` or `table[].column`."""

    path: str
    target: str


def check_key(key) -> str:
    """Return a valid record type key or raise Invalid naming the field."""
    if not isinstance(key, str) or not KEY.match(key):
        raise Invalid("a record type key is 2-63 lower-case letters, digits or _, starting with a letter",
                      details={"field": "key"})
    return key


def check_schema(schema) -> dict:
    """Check a record type's JSON schema: an object of named fields; return it."""
    if isinstance(schema, str | bytes):
        try:
            schema = load_schema(schema, "schema")
        except SchemaProblem as exc:
            raise Invalid(str(exc), details={"field": "schema"}) from None
    if not isinstance(schema, dict):
        raise Invalid("the schema must be a JSON object", details={"field": "schema"})
    if len(json.dumps(schema, ensure_ascii=False)) > MAX_SCHEMA_BYTES:
        raise Invalid(f"the schema is larger than {MAX_SCHEMA_BYTES} bytes", details={"field": "schema"})
    try:
        load_schema(json.dumps(schema), "schema")
    except SchemaProblem as exc:
        raise Invalid(str(exc), details={"field": "schema"}) from None
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        raise Invalid("the schema needs at least one field under 'properties'", details={"field": "schema"})
    if len(properties) > MAX_FIELDS:
        raise Invalid(f"at most {MAX_FIELDS} fields", details={"field": "schema"})
    for name, prop in properties.items():
        if not FIELD.match(name):
            raise Invalid(f"field name '{name}' must be letters, digits or _", details={"field": f"schema.{name}"})
        if not isinstance(prop, dict):
            raise Invalid(f"field '{name}' must be described by an object", details={"field": f"schema.{name}"})
    tables = [name for name, prop in properties.items() if _is_table(prop)]
    if len(tables) > 1:
        raise Invalid(f"a record type has at most one detail table; found {', '.join(tables)}",
                      details={"field": "schema"})
    return schema


def check_meta(schema: dict, meta: dict | None) -> dict:
    """Check list and search metadata against the schema's fields; return it with defaults filled."""
    meta = dict(meta or {})
    fields = list(schema["properties"])
    scalar = [name for name in fields if not _is_table(schema["properties"][name])]
    meta.setdefault("title_field", scalar[0] if scalar else fields[0])
    meta.setdefault("list_columns", [meta["title_field"], *[f for f in scalar if f != meta["title_field"]][:3],
                                     "owner", "updated_at"])
    meta.setdefault("search_fields", [f for f in scalar if _is_text(schema["properties"][f])][:6])
    meta.setdefault("default_sort", "-updated_at")
    if meta["title_field"] not in scalar:
        raise Invalid(f"the title field '{meta['title_field']}' is not a plain field of the schema",
                      details={"field": "meta.title_field"})
    for key in ("list_columns", "search_fields"):
        value = meta[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise Invalid(f"{key} must be a list of field names", details={"field": f"meta.{key}"})
        allowed = set(scalar) | (set(BUILTIN_COLUMNS) if key == "list_columns" else set())
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise Invalid(f"{key} names unknown fields: {', '.join(unknown)}", details={"field": f"meta.{key}"})
    sort = meta["default_sort"]
    if not isinstance(sort, str) or sort.lstrip("-") not in set(scalar) | set(BUILTIN_COLUMNS):
        raise Invalid(f"default_sort '{sort}' is not a field or column", details={"field": "meta.default_sort"})
    return meta


def _is_table(prop: dict) -> bool:
    return prop.get("type") == "array" and isinstance(prop.get("items"), dict) \
        and prop["items"].get("type") == "object"


def _is_text(prop: dict) -> bool:
    return prop.get("type", "string") == "string" and prop.get("format") not in ("date", "date-time", "money")


def table_field(schema: dict) -> str | None:
    """Name the detail table of a schema, if it has one."""
    return next((name for name, prop in schema.get("properties", {}).items() if _is_table(prop)), None)


def references(schema: dict) -> list[Reference]:
    """List the reference fields of a schema, including those in its detail table's columns."""
    out = []
    for name, prop in schema.get("properties", {}).items():
        if isinstance(prop.get("x-reference"), str):
            out.append(Reference(name, prop["x-reference"]))
        elif _is_table(prop):
            for column, sub in prop["items"].get("properties", {}).items():
                if isinstance(sub, dict) and isinstance(sub.get("x-reference"), str):
                    out.append(Reference(f"{name}[].{column}", sub["x-reference"]))
    return out


def referenced_ids(data: dict, reference: Reference) -> list[int]:
    """Return the record ids a record's data holds in one reference field."""
    if "[]." in reference.path:
        table, column = reference.path.split("[].", 1)
        values = [row.get(column) for row in data.get(table) or [] if isinstance(row, dict)]
    else:
        values = [data.get(reference.path)]
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool)]


def title_of(meta: dict, data: dict) -> str:
    """Return a record's display title from its title field ('' when that field is empty)."""
    value = data.get(meta.get("title_field", ""))
    return ("" if value is None else str(value))[:300]


def search_text_of(meta: dict, data: dict) -> str:
    """Return the lower-cased text a record is found by (its title and search fields)."""
    parts = []
    # A field shown only to some roles is not searchable: a hit would reveal its value to everyone else.
    restricted = {name for name, rule in (meta.get("field_access") or {}).items() if (rule or {}).get("view")}
    for name in [meta.get("title_field"), *meta.get("search_fields", [])]:
        if name in restricted:
            continue
        value = data.get(name) if name else None
        if value not in (None, "") and str(value).lower() not in parts:
            parts.append(str(value).lower())
    return "\n".join(parts)[:SEARCH_TEXT_LIMIT]

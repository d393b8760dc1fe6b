"""Lists of records: filters (f.<field>__<op>), search, sort, columns and the recycle bin."""
from __future__ import annotations

import math

from flask import jsonify, request
from flask_babel import gettext as _

from records import fields
from records import service as records
from records.query import BUILTIN_SORTS, OPERATORS

from ..db import query
from . import bp
from .common import bad_input, bool_arg, me, page_args, page_json
from .records import record_json

MAX_FILTERS = 20
MAX_FILTER_VALUE = 1000
MAX_COLUMNS = 200
# Which filter operators make sense, and work in SQL, for each kind of field.
ALLOWED_OPS = {"text": set(OPERATORS), "number": {"eq", "ne", "gte", "lte", "in", "empty", "set"},
               "boolean": {"eq", "in", "empty", "set"}, "list": {"empty", "set"}, "timestamp": set()}
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _kind(properties: dict, name: str) -> str:
    # The list query reads the built-in columns before data fields of the same name; so do we.
    if name == "id":
        return "number"
    if name in ("created_at", "updated_at"):
        return "timestamp"
    if name in BUILTIN_SORTS:
        return "text"
    prop = properties[name]
    if prop.get("type") == "array":
        return "list"
    if prop.get("format") == "money" or prop.get("type") in ("integer", "number"):
        return "number"
    return "boolean" if prop.get("type") == "boolean" else "text"


def _filter_value(kind: str, op: str, value: str, name: str):
    if len(value) > MAX_FILTER_VALUE:
        raise bad_input(name, _("The filter on %(field)s is longer than %(limit)s characters.",
                                field=name, limit=MAX_FILTER_VALUE))
    parts = value.split(",") if op == "in" else [value]
    for part in parts if op not in ("empty", "set") else []:
        if kind == "number":
            try:
                number = float(part)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise bad_input(name, _("%(field)s compares with a number, not %(value)s.", field=name, value=part))
        elif kind == "boolean" and part.strip().lower() not in TRUE + FALSE:
            raise bad_input(name, _("%(field)s must be true or false.", field=name))
    if kind == "boolean" and op not in ("empty", "set"):
        return ",".join("true" if part.strip().lower() in TRUE else "false" for part in parts)
    return value


def _filters(view) -> list:
    """Read f.<field>=value and f.<field>__<op>=value query arguments as list filters."""
    properties = view.schema["properties"]
    out = []
    for arg, value in request.args.items(multi=True):
        if not arg.startswith("f."):
            continue
        key = arg[2:]
        name, sep, op = key.rpartition("__")
        if not sep or key in properties:  # a field name may itself contain "__"
            name, op = key, "eq"
        if name not in properties and name not in BUILTIN_SORTS:
            raise bad_input(name or arg, _("%(field)s is not a field of %(type)s.", field=name or arg,
                                           type=view.key))
        if op not in OPERATORS:
            raise bad_input(name, _("Unknown filter operator %(op)s on %(field)s; use one of %(ops)s.",
                                    op=op, field=name, ops=", ".join(OPERATORS)))
        kind = _kind(properties, name)
        if op not in ALLOWED_OPS[kind]:
            raise bad_input(name, _("%(field)s cannot be filtered with %(op)s.", field=name, op=op))
        if len(out) >= MAX_FILTERS:
            raise bad_input("filters", _("At most %(limit)s filters.", limit=MAX_FILTERS))
        value = _filter_value(kind, op, value, name)
        # The list query builds every comparison at once, and SQLAlchemy refuses >= on booleans: ask with "in".
        out.append(records.Filter(name, "in" if kind == "boolean" and op == "eq" else op, value))
    return out


def _sort(view) -> str | None:
    raw = (request.args.get("sort") or "").strip()
    if not raw:
        return None
    name = raw.removeprefix("-")
    if (name not in view.schema["properties"] and name not in BUILTIN_SORTS) or \
            _kind(view.schema["properties"], name) == "list":
        raise bad_input("sort", _("Cannot sort by %(field)s; give a field or -field.", field=raw))
    return raw


def _columns(view, actor) -> list[str] | None:
    raw = request.args.get("columns")
    if raw is None or not raw.strip():
        return None
    names = list(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
    concealed = fields.hidden(view, actor)
    unknown = [n for n in names if n not in view.schema["properties"] or n in concealed]
    if unknown or len(names) > MAX_COLUMNS:
        raise bad_input("columns", _("columns must be a comma list of fields of %(type)s; unknown: %(names)s.",
                                     type=view.key, names=", ".join(unknown[:5])))
    return names


@bp.get("/records/<type_key>")
def list_records(type_key: str):
    """List a type's records with filters, search, sort and columns, one page at a time (deleted=1: recycle bin)."""
    page, page_size = page_args()
    deleted = bool_arg("deleted")
    search = (request.args.get("q") or "").strip() or None
    actor = me().actor
    with query() as session:
        view = records.get_type_or_raise(session=session, key=type_key)
        columns, filters, sort = _columns(view, actor), _filters(view), _sort(view)
        view, result = records.list_records(session=session, type_key=type_key, actor=actor, filters=filters,
                                            search=search, sort=sort, page=page, page_size=page_size,
                                            deleted=deleted)
        items = [record_json(r, view, actor, columns) for r in result.items]
        out = {**page_json(items, result.total, page, page_size), "type": view.key,
               "columns": columns or list(view.meta.get("list_columns", []))}
    return jsonify(out)


@bp.get("/records/<type_key>/export")
def export_records(type_key: str):
    """Export the records matching the list's filters and search as CSV or Excel, only what the caller may export."""
    from ..views import record_export
    fmt = (request.args.get("format") or "csv").strip()
    if fmt not in record_export.FORMATS:
        raise bad_input("format", _("format must be csv or xlsx."))
    actor = me().actor
    with query() as session:
        view = records.get_type_or_raise(session=session, key=type_key)
        filters, sort = _filters(view), _sort(view)
    return record_export.export(type_key, fmt, filters, (request.args.get("q") or "").strip() or None, sort,
                                actor=actor, chinese=False)

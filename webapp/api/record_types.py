"""Record types (versioned JSON schemas with list metadata) and admin dictionaries."""
from __future__ import annotations

from flask import jsonify, url_for
from flask_babel import gettext as _

from records import service as records
from records.errors import NotFound

from ..db import command, query
from . import bp
from .common import MAX_VERSION, bad_input, bool_arg, forbid_unless, int_arg, iso, json_body, me, text_field

TYPE_FIELDS = {"key", "name", "name_en", "schema", "meta"}
CHANGE_FIELDS = {"schema", "meta", "name", "name_en", "defaults", "drop_removed", "confirm", "note"}
DICTIONARY_FIELDS = {"label", "label_en", "items", "note"}


def type_json(view, *, versions: list | None = None) -> dict:
    """Describe a record type at one version; with its schema and version list when `versions` is given."""
    out = {"key": view.key, "name": view.type.name, "name_en": view.type.name_en, "core": view.type.core,
           "active": view.type.active, "version": view.version.version,
           "current_version": view.type.current_version, "meta": view.meta,
           "created_at": iso(view.type.created_at), "updated_at": iso(view.type.updated_at)}
    if versions is not None:
        out["schema"] = view.schema
        out["versions"] = [{"version": v.version, "created_at": iso(v.created_at), "created_by": v.created_by,
                            "note": v.note} for v in versions]
    return out


def _admin() -> None:
    forbid_unless(me().is_admin)


def _object_or_none(body: dict, name: str, required: bool = False) -> dict | None:
    """Return a body field that must be a JSON object; missing or null gives None unless required."""
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, dict):
        raise bad_input(name, _("%(field)s must be a JSON object.", field=name))
    return value


def _flag(body: dict, name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise bad_input(name, _("%(field)s must be true or false.", field=name))
    return value


def _detail(session, key: str, version: int | None = None) -> dict:
    view = records.get_type_or_raise(session=session, key=key, version=version)
    return type_json(view, versions=records.list_versions(session=session, key=key))


@bp.get("/record-types")
def list_record_types():
    """List the record types with a summary of their current versions (switched-off ones with inactive=1)."""
    include_inactive = bool_arg("inactive")
    with query() as session:
        items = [type_json(v) for v in records.list_types(session=session, include_inactive=include_inactive)]
    return jsonify(items=items, total=len(items))


@bp.get("/record-types/<key>")
def get_record_type(key: str):
    """Describe a record type: its schema, metadata and names at the current (or a given) version, and its versions."""
    version = int_arg("version", None, 1, MAX_VERSION)
    with query() as session:
        return jsonify(_detail(session, key, version))


@bp.post("/record-types")
def create_record_type():
    """Create a record type at version 1 (admins)."""
    _admin()
    body = json_body(TYPE_FIELDS, required=("key", "name", "schema"))
    key = text_field(body, "key", limit=64) or ""
    name, name_en = text_field(body, "name", limit=200) or "", text_field(body, "name_en", limit=200) or ""
    schema, meta = _object_or_none(body, "schema", required=True), _object_or_none(body, "meta")
    with command() as session:
        records.define_type(session=session, key=key, name=name, name_en=name_en, schema=schema, meta=meta,
                            actor=me().username)
        out = _detail(session, key)
    response = jsonify(out)
    response.headers["Location"] = url_for("api.get_record_type", key=key)
    return response, 201


@bp.put("/record-types/<key>")
def change_record_type(key: str):
    """Save a new version of a record type (admins); a change that breaks stored records answers 409 with a report."""
    _admin()
    body = json_body(CHANGE_FIELDS, required=("schema",))
    schema, meta = _object_or_none(body, "schema", required=True), _object_or_none(body, "meta")
    defaults = _object_or_none(body, "defaults")
    names = {name: text_field(body, name, limit=200) or "" for name in ("name", "name_en") if name in body}
    note = text_field(body, "note", limit=500) or ""
    drop_removed, confirm = _flag(body, "drop_removed"), _flag(body, "confirm")
    with command() as session:
        _view, report = records.change_type(session=session, key=key, schema=schema, meta=meta, actor=me().username,
                                            defaults=defaults, drop_removed=drop_removed, confirm=confirm,
                                            note=note, **names)
        out = {**_detail(session, key), "report": report.as_dict()}
    return jsonify(out)


@bp.post("/record-types/<key>/active")
def set_record_type_active(key: str):
    """Switch a record type off (hidden from menus and new records; its records stay) or on again (admins)."""
    _admin()
    body = json_body({"active"}, required=("active",))
    active = _flag(body, "active")
    with command() as session:
        records.set_active(session=session, key=key, active=active)
        out = _detail(session, key)
    return jsonify(out)


def dictionary_json(row) -> dict:
    """Describe an admin dictionary with its items."""
    return {"name": row.name, "label": row.label, "label_en": row.label_en, "items": list(row.items or []),
            "note": row.note, "updated_at": iso(row.updated_at), "updated_by": row.updated_by}


@bp.get("/dictionaries")
def list_dictionaries():
    """List the admin dictionaries (数据字典) with their items, by name."""
    with query() as session:
        items = [dictionary_json(d) for d in records.list_dictionaries(session=session)]
    return jsonify(items=items, total=len(items))


@bp.get("/dictionaries/<name>")
def get_dictionary(name: str):
    """Describe one dictionary."""
    with query() as session:
        return jsonify(dictionary_json(records.get_dictionary_or_raise(session=session, name=name)))


@bp.put("/dictionaries/<name>")
def save_dictionary(name: str):
    """Create a dictionary or replace its items (admins); switch items off rather than removing them."""
    _admin()
    body = json_body(DICTIONARY_FIELDS, required=("label", "items"))
    label, label_en = text_field(body, "label", limit=200) or "", text_field(body, "label_en", limit=200) or ""
    note = text_field(body, "note", limit=2000) or ""
    with command() as session:
        try:
            created = not records.get_dictionary_or_raise(session=session, name=name)
        except NotFound:
            created = True
        row = records.save_dictionary(session=session, name=name, label=label, label_en=label_en,
                                      items=body["items"], actor=me().username, note=note)
        out = dictionary_json(row)
    return jsonify(out), 201 if created else 200

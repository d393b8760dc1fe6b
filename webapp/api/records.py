"""Records: create, read, change with a lock version, delete and restore; a record's history, related lists and
processes."""
from __future__ import annotations

import re

from flask import jsonify, request, url_for
from flask_babel import gettext as _

from forms.schema import FieldError, FormError
from instances import visibility
from org import service as org
from org.instance_access import watch_clause
from records import fields
from records import service as records
from records.errors import NotFound

from ..db import command, query
from . import bp
from .common import (
    ApiError,
    bad_input,
    instance_json,
    int_arg,
    iso,
    json_body,
    me,
    text_field,
)

RECORD = "/records/<type_key>/<int:record_id>"
MAX_LOCK_VERSION = 2**31 - 1
ETAG = re.compile(r'^(?:W/)?"?([0-9]{1,10})"?$')


def record_json(record, view, actor, columns: list[str] | None = None) -> dict:
    """Describe a record without the fields the actor may not see; with `columns`, only those data fields."""
    data = fields.visible_data(view, actor, record.data)
    if columns is not None:
        data = {name: data[name] for name in columns if name in data}
    return {"id": int(record.id), "type": view.key, "type_version": record.type_version, "title": record.title,
            "data": data, "owner": record.owner, "department_id": record.department_id,
            "created_at": iso(record.created_at), "created_by": record.created_by,
            "updated_at": iso(record.updated_at), "updated_by": record.updated_by,
            "lock_version": record.lock_version, "deleted_at": iso(record.deleted_at),
            "deleted_by": record.deleted_by}


def _answer(out: dict, status: int = 200):
    """Answer with a record, its lock version as the ETag (send it back as If-Match)."""
    response = jsonify(out)
    response.set_etag(str(out["lock_version"]))
    return response, status


def _get(session, type_key: str, record_id: int, actor, include_deleted: bool = False):
    """Return a record of the type the actor may read; one answer for missing, other-type and deleted ids."""
    try:
        return records.get_record_or_raise(session=session, record_id=record_id, actor=actor, type_key=type_key,
                                           include_deleted=include_deleted)
    except NotFound:
        records.get_type_or_raise(session=session, key=type_key)  # an unknown type may say so
        raise ApiError(404, "not_found", _("No %(type)s record %(id)s, or you cannot see it.", type=type_key,
                                           id=record_id), {"id": record_id}) from None


def _data(body: dict) -> dict:
    data = body.get("data")
    if not isinstance(data, dict):
        raise bad_input("data", _("%(field)s must be a JSON object.", field="data"))
    return data


def _refuse_hidden(view, actor, data: dict) -> None:
    """Refuse fields the actor may not see as unknown: accepting an unchanged value would confirm a guess."""
    concealed = fields.hidden(view, actor) & set(data)
    if concealed:
        raise FormError({name: FieldError("invalid", detail="unknown field") for name in sorted(concealed)})


def _lock_version(body: dict, required: bool) -> int | None:
    """Read the lock version from the body or the If-Match header; refuse a change without one (428)."""
    value = body.get("lock_version")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or not 0 <= value <= MAX_LOCK_VERSION):
        raise bad_input("lock_version", _("%(field)s must be a whole number from %(low)s to %(high)s.",
                                          field="lock_version", low=0, high=MAX_LOCK_VERSION))
    header = request.headers.get("If-Match")
    if header is not None:
        match = ETAG.match(header.strip())
        if match is None:
            raise bad_input("If-Match", _("If-Match must be the record's lock version, as its ETag gives it."))
        if value is not None and value != int(match.group(1)):
            raise bad_input("lock_version", _("lock_version and If-Match disagree."))
        value = int(match.group(1))
    if value is None and required:
        raise ApiError(428, "precondition_required",
                       _("Send the lock_version of the record you loaded (in the body or as If-Match), "
                         "so that nobody's change is overwritten."), {"field": "lock_version"})
    return value


@bp.post("/records/<type_key>")
def create_record(type_key: str):
    """Create a record from data valid against the type's schema; the owner is the caller unless named."""
    body = json_body({"data", "owner"}, required=("data",))
    data, owner_name = _data(body), text_field(body, "owner", limit=150)
    current = me()
    with command() as session:
        owner = org.get_user_by_name(session=session, username=owner_name or current.username)
        if owner is None or not owner.active:
            raise ApiError(404, "not_found", _("No active user %(name)s.", name=owner_name), {"field": "owner"})
        view = records.get_type_or_raise(session=session, key=type_key)
        _refuse_hidden(view, current.actor, data)
        # The record belongs to its owner's department (the service looks it up).
        record = records.create_record(session=session, type_key=type_key, data=data, actor=current.actor,
                                       owner=owner.username)
        out = record_json(record, view, current.actor)
    response, status = _answer(out, 201)
    response.headers["Location"] = url_for("api.get_record", type_key=type_key, record_id=out["id"])
    return response, status


@bp.get(RECORD)
def get_record(type_key: str, record_id: int):
    """Describe one live record; its ETag is the lock version."""
    with query() as session:
        record, view = _get(session, type_key, record_id, me().actor)
        out = record_json(record, view, me().actor)
    return _answer(out)


def _save(type_key: str, record_id: int, *, replace: bool):
    body = json_body({"data", "lock_version"}, required=("data",))
    data, lock_version = _data(body), _lock_version(body, required=True)
    actor = me().actor
    with command() as session:
        record, view = _get(session, type_key, record_id, actor)
        _refuse_hidden(view, actor, data)
        if replace:  # what the caller cannot see, they cannot have meant to remove
            data = {**{k: v for k, v in (record.data or {}).items() if k in fields.hidden(view, actor)}, **data}
        record = records.update_record(session=session, record_id=record_id, data=data, actor=actor,
                                       lock_version=lock_version, replace=replace)
        out = record_json(record, view, actor)
    return _answer(out)


@bp.patch(RECORD)
def update_record(type_key: str, record_id: int):
    """Change some fields of a record (null removes a field), given the lock version the caller loaded."""
    return _save(type_key, record_id, replace=False)


@bp.put(RECORD)
def replace_record(type_key: str, record_id: int):
    """Replace a record's data whole, given the lock version the caller loaded."""
    return _save(type_key, record_id, replace=True)


@bp.delete(RECORD)
def delete_record(type_key: str, record_id: int):
    """Move a record to the recycle bin (owner and admins); If-Match, when sent, must be current."""
    lock_version = _lock_version({}, required=False)
    actor = me().actor
    with command() as session:
        _record, view = _get(session, type_key, record_id, actor)
        record = records.delete_record(session=session, record_id=record_id, actor=actor, lock_version=lock_version)
        out = record_json(record, view, actor)
    return _answer(out)


@bp.post(f"{RECORD}/restore")
def restore_record(type_key: str, record_id: int):
    """Bring a record back from the recycle bin (owner and admins)."""
    json_body(set())
    actor = me().actor
    with command() as session:
        _record, view = _get(session, type_key, record_id, actor, include_deleted=True)
        record = records.restore_record(session=session, record_id=record_id, actor=actor)
        out = record_json(record, view, actor)
    return _answer(out)


@bp.get(f"{RECORD}/history")
def record_history(type_key: str, record_id: int):
    """List a record's changes, newest first, field by field (also for a record in the recycle bin)."""
    limit = int_arg("limit", 200, 1, 1000)
    actor = me().actor
    with query() as session:
        _record, view = _get(session, type_key, record_id, actor, include_deleted=True)
        concealed = fields.hidden(view, actor)
        entries = records.history(session=session, record_id=record_id, actor=actor, limit=limit)
        items = [{"id": int(e.id), "at": iso(e.at), "actor": e.actor, "action": e.action,
                  "instance_id": int(e.instance_id) if e.instance_id else None,
                  "changes": [{"field": name, "before": change[0], "after": change[1]}
                              for name, change in sorted((e.changes or {}).items()) if name not in concealed]}
                 for e in entries]
    return jsonify(items=items)


def _related_json(type_view, field: str, count: int, items: list, record_id: int, actor) -> dict:
    plain = "[]." not in field  # a reference inside a detail table cannot be filtered on
    return {"type": type_view.key, "type_name": type_view.type.name, "type_name_en": type_view.type.name_en,
            "field": field, "count": count, "items": [record_json(r, type_view, actor) for r in items],
            "list_url": url_for("api.list_records", type_key=type_view.key, **{f"f.{field}": record_id})
            if plain else None}


@bp.get(f"{RECORD}/related")
def related_records(type_key: str, record_id: int):
    """List the records that refer to a record, per type and field, with counts and the newest few of each."""
    per_list = int_arg("per_list", 10, 1, 50)
    actor = me().actor
    with query() as session:
        _get(session, type_key, record_id, actor)
        lists = records.related(session=session, record_id=record_id, actor=actor, per_list=per_list)
        found = {(r.type.key, r.field) for r in lists}
        out = [(r.type, r.field, r.count, r.items) for r in lists]
        # Types that could refer to this record but do not yet still get an (empty) list to add to.
        out += [(view, ref.path, 0, []) for view, ref in records.referencing_types(session=session, type_key=type_key)
                if (view.key, ref.path) not in found]
        # A link through a field the actor may not see is not shown either.
        out = [row for row in out if row[1].split("[]")[0] not in fields.hidden(row[0], actor)]
        out.sort(key=lambda row: (row[0].type.name_en or row[0].type.name, row[1]))
        items = [_related_json(view, field, count, rows, record_id, actor) for view, field, count, rows in out]
    return jsonify(items=items)


@bp.get(f"{RECORD}/processes")
def record_processes(type_key: str, record_id: int):
    """List the process instances the caller may see that created, updated or linked a record, newest first."""
    limit = int_arg("limit", 20, 1, 200)
    current = me()
    with query() as session:
        _get(session, type_key, record_id, current.actor, include_deleted=True)
        rows = records.processes(session=session, record_id=record_id, actor=current.actor, limit=limit)
        items = [{**instance_json(instance), "relation": relation} for instance, relation in rows
                 if visibility.may_view(session=session, actor=current.actor, instance=instance,
                                        watch=watch_clause(session, current.actor))]
    return jsonify(items=items)

"""Records: create, read, update with a lock version, soft delete and restore, with a field-level history."""
from __future__ import annotations

import json

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from audit import service as audit
from database.base import utcnow
from database.session import is_postgres
from forms.schema import FieldError, FormError, validate
from instances import notices
from instances.actors import Actor
from org.permissions import org_index

from . import access, events, fields, schemas
from .errors import Forbidden, Invalid, NotFound, StaleEdit
from .lookups import RecordLookups
from .models import Record, RecordChange, RecordLink, RecordProcess, RecordType
from .types import TypeView, get_type_or_raise, type_by_id

MAX_DATA_BYTES = 1_000_000


def refresh_derived(session: Session, record: Record, schema: dict, meta: dict) -> None:
    """Recompute a record's title, search text and outgoing links from its data."""
    record.title = schemas.title_of(meta, record.data or {})
    record.search_text = schemas.search_text_of(meta, record.data or {})
    if record.id is None:
        session.add(record)
        session.flush()
    session.execute(delete(RecordLink).where(RecordLink.source_id == record.id))
    seen = set()
    for reference in schemas.references(schema):
        for target in schemas.referenced_ids(record.data or {}, reference):
            if (reference.path, target) not in seen:
                seen.add((reference.path, target))
                session.add(RecordLink(source_id=record.id, source_type_id=record.type_id, field=reference.path,
                                       target_id=target))


def _check_data(session: Session, view: TypeView, data, actor: Actor) -> dict:
    """Return the data as the form dialect cleans it (money canonical, computed fields filled, rich text
    sanitised), or raise FormError by field: unknown fields, wrong values, references the actor cannot read."""
    if not isinstance(data, dict):
        raise Invalid("record data must be a JSON object", details={"field": "data"})
    if len(json.dumps(data, ensure_ascii=False, default=str)) > MAX_DATA_BYTES:
        raise Invalid(f"record data is larger than {MAX_DATA_BYTES} bytes", details={"field": "data"})
    errors: dict[str, FieldError] = {name: FieldError("invalid", detail="unknown field")
                                     for name in data if name not in view.schema["properties"]}
    try:
        checked = validate(view.schema, data, lookups=RecordLookups(session, actor))
    except FormError as exc:
        errors = {**exc.errors, **errors}
        checked = {}
    if errors:
        raise FormError(errors)
    return checked


def record_readable(*, session: Session, actor: Actor, type_key: str, record_id: int) -> bool:
    """Tell whether a live record of that type exists and the actor may read it."""
    if not isinstance(record_id, int) or isinstance(record_id, bool):
        return False
    row = session.execute(select(Record, RecordType.key).join(RecordType, RecordType.id == Record.type_id)
                          .where(Record.id == record_id)).first()
    return bool(row and row[1] == type_key and row[0].deleted_at is None
                and access.may(session, actor, row[0], type_key, "view"))


def _department_of(session: Session, username: str) -> int | None:
    user = org_index(session).users.get(username)
    return user.department_id if user is not None else None


def _field_errors(view: TypeView, actor: Actor, before: dict, after: dict) -> dict[str, FieldError]:
    """Refuse changes to fields the actor's roles may not edit (field-level permissions)."""
    locked = fields.not_editable(view, actor)
    return {name: FieldError("invalid", detail="you may not change this field") for name in locked
            if before.get(name) != after.get(name)}


def create_record(*, session: Session, type_key: str, data: dict, actor: Actor, owner: str | None = None,
                  department_id: int | None = None, instance_id: int | None = None) -> Record:
    """Validate data against the type's current schema and store it as a new record."""
    view = get_type_or_raise(session=session, key=type_key)
    if not view.type.active:
        raise Invalid(f"record type '{type_key}' is switched off", details={"field": "type"})
    if not access.may_create(session, actor, type_key):
        raise Forbidden(f"{actor.username} may not create {type_key} records", details={"type": type_key})
    locked = _field_errors(view, actor, {}, data if isinstance(data, dict) else {})
    if locked:
        raise FormError(locked)
    data = _check_data(session, view, data, actor)
    now = utcnow()
    owner = owner or actor.username
    if department_id is None:
        department_id = _department_of(session, owner)
    record = Record(type_id=view.type.id, type_version=view.version.version, data=data,
                    owner=owner, department_id=department_id, created_at=now,
                    created_by=actor.username, updated_at=now, updated_by=actor.username)
    refresh_derived(session, record, view.schema, view.meta)
    _change(session, record, actor, "created", {k: [None, v] for k, v in data.items()}, instance_id)
    if owner != actor.username:  # someone (or a process) made it another person's record
        notices.notify(session, to=owner, kind="record_assigned", subject=record.title or f"#{record.id}",
                       instance_id=instance_id, record_id=int(record.id), record_type=type_key,
                       actor=actor.username)
    if instance_id is not None:
        link_process(session=session, record_id=record.id, instance_id=instance_id, relation="created")
    session.flush()
    return record


def get_record_or_raise(*, session: Session, record_id, actor: Actor, type_key: str | None = None,
                        include_deleted: bool = False, lock: bool = False) -> tuple[Record, TypeView]:
    """Return a record the actor may read with its type, or raise NotFound (never saying whether it exists)."""
    if not isinstance(record_id, int) or isinstance(record_id, bool):
        raise NotFound(f"no record {record_id}", details={"id": record_id})
    query = select(Record).where(Record.id == record_id).execution_options(populate_existing=True)
    if lock and is_postgres(session):
        query = query.with_for_update()
    record = session.scalar(query)
    if record is None or (record.deleted_at is not None and not include_deleted):
        raise NotFound(f"no record {record_id}", details={"id": record_id})
    view = type_by_id(session=session, type_id=record.type_id)
    if (type_key is not None and view.key != type_key) or not access.may(session, actor, record, view.key, "view"):
        raise NotFound(f"no record {record_id}", details={"id": record_id})
    return record, view


def update_record(*, session: Session, record_id: int, data: dict, actor: Actor, lock_version: int | None,
                  replace: bool = False, instance_id: int | None = None) -> Record:
    """Change a record's fields (merged, or replaced whole); a stale lock version is a conflict, never a loss."""
    record, view = get_record_or_raise(session=session, record_id=record_id, actor=actor, lock=True)
    if not access.may(session, actor, record, view.key, "edit"):
        raise Forbidden(f"{actor.username} may not change record {record_id}", details={"id": record_id})
    if lock_version is not None and lock_version != record.lock_version:
        raise StaleEdit(f"record {record_id} was changed by {record.updated_by} at {record.updated_at:%Y-%m-%d %H:%M}"
                        f" after you opened it; reload it and make your change again",
                        details={"id": record_id, "lock_version": record.lock_version,
                                 "updated_by": record.updated_by})
    if not isinstance(data, dict):
        raise Invalid("record data must be a JSON object", details={"field": "data"})
    before = dict(record.data or {})
    after = dict(data) if replace else {**before, **data}
    after = {k: v for k, v in after.items() if v is not None}
    # Fields a newer schema removed stay as they were, readable, but are not checked against it.
    retired = {k: v for k, v in after.items() if k not in view.schema["properties"] and k in before}
    locked = _field_errors(view, actor, before, after)
    if locked:
        raise FormError(locked)
    checked = _check_data(session, view, {k: v for k, v in after.items() if k not in retired}, actor)
    after = {**checked, **retired}
    changes = {k: [before.get(k), after.get(k)] for k in sorted(set(before) | set(after))
               if before.get(k) != after.get(k)}
    if not changes:
        return record
    record.data = after
    record.type_version = view.version.version
    record.updated_at = utcnow()
    record.updated_by = actor.username
    refresh_derived(session, record, view.schema, view.meta)
    _change(session, record, actor, "updated", changes, instance_id)
    if instance_id is not None:
        link_process(session=session, record_id=record.id, instance_id=instance_id, relation="updated")
    session.flush()
    return record


def delete_record(*, session: Session, record_id: int, actor: Actor, lock_version: int | None = None) -> Record:
    """Move a record to the recycle bin; it can be restored."""
    record, view = get_record_or_raise(session=session, record_id=record_id, actor=actor, lock=True)
    if not access.may(session, actor, record, view.key, "delete"):
        raise Forbidden(f"{actor.username} may not delete record {record_id}", details={"id": record_id})
    if lock_version is not None and lock_version != record.lock_version:
        raise StaleEdit(f"record {record_id} changed after you opened it", details={"id": record_id})
    record.deleted_at = utcnow()
    record.deleted_by = actor.username
    _change(session, record, actor, "deleted", {}, None)
    session.flush()
    return record


def restore_record(*, session: Session, record_id: int, actor: Actor) -> Record:
    """Bring a deleted record back."""
    record, view = get_record_or_raise(session=session, record_id=record_id, actor=actor, include_deleted=True,
                                       lock=True)
    if not access.may(session, actor, record, view.key, "delete"):
        raise Forbidden(f"{actor.username} may not restore record {record_id}", details={"id": record_id})
    if record.deleted_at is None:
        return record
    record.deleted_at = None
    record.deleted_by = None
    _change(session, record, actor, "restored", {}, None)
    session.flush()
    return record


def _change(session: Session, record: Record, actor: Actor, action: str, changes: dict,
            instance_id: int | None) -> None:
    session.add(RecordChange(record_id=record.id, at=utcnow(), actor=actor.username, action=action,
                             changes=changes, instance_id=instance_id))
    audit.log(session, actor=actor.username, action=f"record.{action}", object_type="record",
              object_id=record.id, summary=record.title or f"#{record.id}",
              before={k: v[0] for k, v in changes.items()} if changes else None,
              after={k: v[1] for k, v in changes.items()} if changes else None)
    session.flush()
    events.notify(session, [record.id], action)


def history(*, session: Session, record_id: int, actor: Actor, limit: int = 200) -> list[RecordChange]:
    """Return a record's change history, newest first."""
    get_record_or_raise(session=session, record_id=record_id, actor=actor, include_deleted=True)
    return list(session.scalars(select(RecordChange).where(RecordChange.record_id == record_id)
                                .order_by(RecordChange.id.desc()).limit(limit)))


def link_process(*, session: Session, record_id: int, instance_id: int, relation: str) -> None:
    """Note that a process instance touched a record (once per pair; the first relation is kept)."""
    exists = session.scalar(select(RecordProcess.id).where(RecordProcess.record_id == record_id,
                                                           RecordProcess.instance_id == instance_id))
    if exists is None:
        session.add(RecordProcess(record_id=record_id, instance_id=instance_id, relation=relation[:20]))

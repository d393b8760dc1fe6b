"""Record types: define them, change their schema in new versions, and refuse changes that would break records."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit import service as audit
from database.base import utcnow
from forms.schema import FormError, validate

from . import events, schemas
from .errors import Duplicate, Incompatible, Invalid, NotFound
from .models import Record, RecordType, RecordTypeVersion

REPORT_EXAMPLES = 5
BATCH = 500


@dataclass
class TypeView:
    """A record type with the schema and metadata of its current version."""

    type: RecordType
    version: RecordTypeVersion

    @property
    def key(self) -> str:
        """Return the type's key."""
        return self.type.key

    @property
    def schema(self) -> dict:
        """Return the current JSON schema."""
        return self.version.schema

    @property
    def meta(self) -> dict:
        """Return the current list and search metadata."""
        return self.version.meta


@dataclass
class ChangeReport:
    """What a schema change does to stored records: how many were checked, which fail and why."""

    checked: int = 0
    failing: int = 0
    examples: list[dict] = field(default_factory=list)
    filled: int = 0
    dropped: int = 0

    def as_dict(self) -> dict:
        """Describe the report for the API and the designer page."""
        return {"checked": self.checked, "failing": self.failing, "examples": self.examples,
                "filled": self.filled, "dropped": self.dropped}


def _names(name, name_en) -> tuple[str, str]:
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise Invalid("a record type needs a name of at most 200 characters", details={"field": "name"})
    if name_en is not None and (not isinstance(name_en, str) or len(name_en) > 200):
        raise Invalid("the English name is at most 200 characters", details={"field": "name_en"})
    return name.strip(), (name_en or "").strip()


def define_type(*, session: Session, key: str, name: str, name_en: str = "", schema: dict, meta: dict | None = None,
                actor: str, core: bool = False) -> TypeView:
    """Create a record type at version 1."""
    key = schemas.check_key(key)
    name, name_en = _names(name, name_en)
    schema = schemas.check_schema(schema)
    meta = schemas.check_meta(schema, meta)
    _check_reference_targets(session, schema, own_key=key)
    if session.scalar(select(RecordType.id).where(RecordType.key == key)) is not None:
        raise Duplicate(f"a record type '{key}' exists already", details={"field": "key"})
    record_type = RecordType(key=key, name=name, name_en=name_en, core=core, current_version=1)
    session.add(record_type)
    session.flush()
    version = RecordTypeVersion(type_id=record_type.id, version=1, schema=schema, meta=meta, created_by=actor,
                                note="created")
    session.add(version)
    session.flush()
    audit.log(session, actor=actor, action="record_type.created", object_type="record_type", object_id=key,
              summary=name, after={"version": 1, "schema": schema, "meta": meta})
    return TypeView(record_type, version)


def _check_reference_targets(session: Session, schema: dict, own_key: str) -> None:
    known = set(session.scalars(select(RecordType.key))) | {own_key}
    for reference in schemas.references(schema):
        if reference.target not in known:
            raise Invalid(f"field '{reference.path}' refers to an unknown record type '{reference.target}'",
                          details={"field": f"schema.{reference.path.split('[')[0]}"})


def get_type_or_raise(*, session: Session, key: str, version: int | None = None) -> TypeView:
    """Return a record type with its current (or a given) version, or raise NotFound."""
    record_type = session.scalar(select(RecordType).where(RecordType.key == key)) if isinstance(key, str) else None
    if record_type is None:
        raise NotFound(f"no record type '{key}'", details={"type": key})
    number = version or record_type.current_version
    row = session.scalar(select(RecordTypeVersion).where(RecordTypeVersion.type_id == record_type.id,
                                                         RecordTypeVersion.version == number))
    if row is None:
        raise NotFound(f"record type '{key}' has no version {number}", details={"type": key, "version": number})
    return TypeView(record_type, row)


def type_by_id(*, session: Session, type_id: int) -> TypeView:
    """Return the record type with that id at its current version."""
    record_type = session.get(RecordType, type_id)
    if record_type is None:
        raise NotFound(f"no record type {type_id}", details={"type": type_id})
    return get_type_or_raise(session=session, key=record_type.key)


def list_types(*, session: Session, include_inactive: bool = False) -> list[TypeView]:
    """List record types with their current versions, core types first, then by name."""
    query = select(RecordType, RecordTypeVersion).join(
        RecordTypeVersion, (RecordTypeVersion.type_id == RecordType.id)
        & (RecordTypeVersion.version == RecordType.current_version))
    if not include_inactive:
        query = query.where(RecordType.active.is_(True))
    rows = session.execute(query.order_by(RecordType.core.desc(), RecordType.key)).all()
    return [TypeView(t, v) for t, v in rows]


def list_versions(*, session: Session, key: str) -> list[RecordTypeVersion]:
    """List every version of a record type, newest first."""
    view = get_type_or_raise(session=session, key=key)
    return list(session.scalars(select(RecordTypeVersion).where(RecordTypeVersion.type_id == view.type.id)
                                .order_by(RecordTypeVersion.version.desc())))


def change_type(*, session: Session, key: str, schema: dict, meta: dict | None = None, actor: str,
                name: str | None = None, name_en: str | None = None, defaults: dict | None = None,
                drop_removed: bool = False, confirm: bool = False, note: str = "") -> tuple[TypeView, ChangeReport]:
    """Save a new version of a record type after checking every stored record against it.

    A change that leaves stored records valid is applied at once. One that would not is refused with
    the reason, unless the admin confirms a migration: `defaults` fill missing fields and `drop_removed`
    removes values of fields the new schema no longer has. Old versions stay, so old records stay readable.
    """
    current = get_type_or_raise(session=session, key=key)
    schema = schemas.check_schema(schema)
    meta = schemas.check_meta(schema, meta if meta is not None else _carried_meta(current.meta, schema))
    _check_reference_targets(session, schema, own_key=key)
    defaults = _check_defaults(schema, defaults)
    report = _migrate(session, current, schema, meta, defaults=defaults, drop_removed=drop_removed, apply=False)
    needs_migration = report.failing or report.filled or report.dropped
    if report.failing or (needs_migration and not confirm):
        raise Incompatible(_incompatible_message(report, confirm), details={"field": "schema", **report.as_dict()})
    if needs_migration or meta != current.meta:
        _migrate(session, current, schema, meta, defaults=defaults, drop_removed=drop_removed, apply=True)
    if name is not None or name_en is not None:
        current.type.name, current.type.name_en = _names(name if name is not None else current.type.name,
                                                         name_en if name_en is not None else current.type.name_en)
    number = current.type.current_version + 1
    version = RecordTypeVersion(type_id=current.type.id, version=number, schema=schema, meta=meta,
                                created_by=actor, note=(note or "")[:500])
    session.add(version)
    audit.log(session, actor=actor, action="record_type.changed", object_type="record_type", object_id=key,
              summary=f"version {number}" + (f": {note}" if note else ""),
              before={"version": number - 1, "schema": current.schema, "meta": current.meta},
              after={"version": number, "schema": schema, "meta": meta, "migration": report.as_dict()})
    current.type.current_version = number
    current.type.updated_at = utcnow()
    session.flush()
    # Titles, searchable fields and who may see a field can all change with a version.
    events.notify(session, session.scalars(select(Record.id).where(Record.type_id == current.type.id,
                                                                   Record.deleted_at.is_(None))), "retyped")
    return TypeView(current.type, version), report


def _carried_meta(meta: dict, schema: dict) -> dict:
    # Keep the admin's list settings for fields that still exist; check_meta fills the rest.
    props = schema["properties"]
    out = {}
    if meta.get("title_field") in props:
        out["title_field"] = meta["title_field"]
    for key in ("list_columns", "search_fields"):
        out[key] = [f for f in meta.get(key, []) if f in props or (key == "list_columns"
                                                                 and f in schemas.BUILTIN_COLUMNS)]
    if meta.get("default_sort", "").lstrip("-") in set(props) | set(schemas.BUILTIN_COLUMNS):
        out["default_sort"] = meta["default_sort"]
    return out


def _check_defaults(schema: dict, defaults) -> dict:
    if defaults is None:
        return {}
    if not isinstance(defaults, dict):
        raise Invalid("defaults must map field names to values", details={"field": "defaults"})
    unknown = [name for name in defaults if name not in schema["properties"]]
    if unknown:
        raise Invalid(f"defaults name unknown fields: {', '.join(unknown)}", details={"field": "defaults"})
    return defaults


def _incompatible_message(report: ChangeReport, confirm: bool) -> str:
    if report.failing:
        first = report.examples[0] if report.examples else {}
        return (f"{report.failing} of {report.checked} stored records would not be valid under the new schema "
                f"(record {first.get('record_id')}, field {first.get('field')}: {first.get('message')}); "
                "give defaults for new required fields or change the schema")
    return (f"the change rewrites stored records ({report.filled} get defaults, {report.dropped} lose removed "
            "fields); confirm to apply it")


def _migrate(session: Session, current: TypeView, schema: dict, meta: dict, *, defaults: dict,
             drop_removed: bool, apply: bool) -> ChangeReport:
    """Check (or rewrite) every live record of the type against a new schema, in batches."""
    report = ChangeReport()
    report.checked = session.scalar(select(func.count()).select_from(Record).where(
        Record.type_id == current.type.id)) or 0
    last_id = 0
    properties = schema["properties"]
    while True:
        batch = list(session.scalars(select(Record).where(Record.type_id == current.type.id, Record.id > last_id)
                                     .order_by(Record.id).limit(BATCH)))
        if not batch:
            return report
        for record in batch:
            last_id = record.id
            data = dict(record.data or {})
            missing = {k: v for k, v in defaults.items() if k not in data}
            if missing:
                data.update(missing)
                report.filled += 1
            removed = [k for k in data if k not in properties]
            if removed and drop_removed:
                data = {k: v for k, v in data.items() if k in properties}
                report.dropped += 1
            try:
                validate(schema, data)
            except FormError as exc:
                report.failing += 1
                if len(report.examples) < REPORT_EXAMPLES:
                    name, error = next(iter(exc.errors.items()))
                    report.examples.append({"record_id": int(record.id), "field": name, "message": str(error)})
                continue
            if apply:
                from .records import refresh_derived  # the record side derives titles, search text and links
                record.data = data
                refresh_derived(session, record, schema, meta)
        if apply:
            session.flush()


def set_active(*, session: Session, key: str, active: bool) -> TypeView:
    """Hide a record type from menus and new records (its records stay), or show it again."""
    view = get_type_or_raise(session=session, key=key)
    before = view.type.active
    view.type.active = bool(active)
    view.type.updated_at = utcnow()
    audit.log(session, action="record_type.switched_on" if active else "record_type.switched_off",
              object_type="record_type", object_id=key, before={"active": before}, after={"active": bool(active)})
    session.flush()
    return view

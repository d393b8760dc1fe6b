"""Lists of records: filters, sort and search on any field, done in SQL on SQLite (JSON functions) and PostgreSQL (JSONB)."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from sqlalchemy import Float, Numeric, and_, cast, func, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from database.base import page_number
from database.session import is_postgres
from instances.actors import Actor
from instances.models import ProcessInstance

from . import access, fields, schemas
from .errors import Invalid
from .models import Record, RecordLink, RecordProcess, RecordType
from .records import get_record_or_raise
from .types import TypeView, get_type_or_raise

OPERATORS = ("eq", "ne", "contains", "gte", "lte", "in", "empty", "set")
MAX_PAGE_SIZE = 200
MAX_SEARCH = 200
MAX_EXPORT = 100_000
EXPORT_BATCH = 1000
BUILTIN_SORTS = {"title": Record.title, "owner": Record.owner, "created_at": Record.created_at,
                 "updated_at": Record.updated_at, "id": Record.id}


@dataclass(frozen=True)
class Filter:
    """One condition on a field: `field op value` (op one of OPERATORS)."""

    field: str
    op: str
    value: object = None


@dataclass
class Page:
    """One page of records with the total that match."""

    items: list[Record]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        """Return the number of pages."""
        return max(1, -(-self.total // self.page_size))


def _kind(view: TypeView, name: str) -> str:
    prop = view.schema["properties"].get(name)
    if prop is None:
        raise Invalid(f"'{name}' is not a field of {view.key}", details={"field": name})
    if prop.get("format") == "money":
        return "money"
    if prop.get("type") == "array":
        return "array"
    return prop.get("type", "string") if prop.get("type") in ("integer", "number", "boolean") else "string"


def _column(view: TypeView, name: str, concealed: frozenset[str] = frozenset()):
    if name in concealed:  # filtering or sorting on a hidden field would reveal its values
        raise Invalid(f"'{name}' is not a field of {view.key}", details={"field": name})
    if name in BUILTIN_SORTS and name not in view.schema["properties"]:
        kind = "number" if name == "id" else "datetime" if name.endswith("_at") else "string"
        return BUILTIN_SORTS[name], kind
    kind = _kind(view, name)
    element = Record.data[name]
    if kind in ("integer", "number"):
        return cast(element.as_string(), Float), kind
    if kind == "money":
        return cast(element.as_string(), Numeric(20, 4)), kind
    if kind == "boolean":
        return element.as_boolean(), kind
    return element.as_string(), kind


def _typed(kind: str, value, name: str):
    if kind in ("integer", "number", "money"):
        try:
            return Decimal(str(value)) if kind == "money" else float(value)
        except (TypeError, ValueError, InvalidOperation):
            raise Invalid(f"'{name}' compares with a number, not '{value}'", details={"field": name}) from None
    if kind == "boolean":
        if value in (True, "true", "1", "on", "yes"):
            return True
        if value in (False, "false", "0", "off", "no"):
            return False
        raise Invalid(f"'{name}' compares with true or false, not '{value}'", details={"field": name})
    if kind == "datetime":
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise Invalid(f"'{name}' compares with a date like 2026-12-31, not '{value}'",
                          details={"field": name}) from None
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return str(value)


def _condition(view: TypeView, flt: Filter, concealed: frozenset[str], postgres: bool = False):
    if flt.op not in OPERATORS:
        raise Invalid(f"unknown filter operator '{flt.op}'", details={"field": flt.field})
    column, kind = _column(view, flt.field, concealed)
    if flt.op == "empty":
        return column.is_(None)
    if flt.op == "set":
        return column.is_not(None)
    if kind == "array":
        raise Invalid(f"'{flt.field}' is a list and cannot be filtered on", details={"field": flt.field})
    if flt.op == "in":
        values = flt.value if isinstance(flt.value, list | tuple) else str(flt.value).split(",")
        return column.in_([_typed(kind, v, flt.field) for v in values][:100])
    value = _typed(kind, flt.value, flt.field)
    if postgres and flt.op == "eq" and flt.field in view.schema["properties"] and kind in ("string", "boolean"):
        # JSONB containment answers from the GIN index on record.data; ->> would scan every row of the type.
        return type_coerce(Record.data, JSONB).contains({flt.field: value})
    if postgres and flt.op == "eq" and kind == "integer" and float(value).is_integer():
        return type_coerce(Record.data, JSONB).contains({flt.field: int(value)})
    if flt.op == "contains":
        if kind != "string":
            raise Invalid(f"'{flt.field}' is not text: use eq, gte or lte", details={"field": flt.field})
        return func.lower(column).like(f"%{_escape(str(value).lower())}%", escape="\\")
    if flt.op == "eq":
        return column == value
    if flt.op == "ne":
        return or_(column != value, column.is_(None))
    if kind == "boolean":
        raise Invalid(f"'{flt.field}' is true or false: use eq or ne", details={"field": flt.field})
    return column >= value if flt.op == "gte" else column <= value


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(session: Session, view: TypeView, actor: Actor, filters, search, deleted: bool, action: str = "view"):
    """Build the condition of a list: type, permission (view, plus export for exports), bin, filters and search."""
    concealed = frozenset(fields.hidden(view, actor))
    conditions = [Record.type_id == view.type.id, access.clause(session, actor, view.key, "view"),
                  Record.deleted_at.is_not(None) if deleted else Record.deleted_at.is_(None)]
    if action != "view":
        conditions.append(access.clause(session, actor, view.key, action))
    postgres = is_postgres(session)
    conditions += [_condition(view, f, concealed, postgres) for f in filters or []]
    if search:
        if len(search) > MAX_SEARCH:
            raise Invalid(f"search text is at most {MAX_SEARCH} characters", details={"field": "q"})
        for term in search.lower().split()[:8]:
            conditions.append(Record.search_text.like(f"%{_escape(term)}%", escape="\\"))
    return and_(*conditions), concealed


def _ordering(view: TypeView, sort: str | None, concealed: frozenset[str]) -> list:
    order = sort or view.meta.get("default_sort") or "-updated_at"
    column, _kind = _column(view, order.lstrip("-"), concealed)
    return [column.desc().nulls_last() if order.startswith("-") else column.asc().nulls_last(), Record.id.desc()]


def list_records(*, session: Session, type_key: str, actor: Actor, filters: list[Filter] | None = None,
                 search: str | None = None, sort: str | None = None, page: int = 1, page_size: int = 25,
                 deleted: bool = False) -> tuple[TypeView, Page]:
    """Return one page of a type's records the actor may read, filtered, searched and sorted in SQL."""
    view = get_type_or_raise(session=session, key=type_key)
    page, page_size = page_number(int(page)), min(MAX_PAGE_SIZE, max(1, int(page_size)))
    where, concealed = _where(session, view, actor, filters, search, deleted)
    total = session.scalar(select(func.count()).select_from(Record).where(where)) or 0
    items = list(session.scalars(select(Record).where(where).order_by(*_ordering(view, sort, concealed))
                                 .offset((page - 1) * page_size).limit(page_size)))
    return view, Page(items, total, page, page_size)


def export_records(*, session: Session, type_key: str, actor: Actor, filters: list[Filter] | None = None,
                   search: str | None = None, sort: str | None = None,
                   limit: int = MAX_EXPORT) -> tuple[TypeView, int, Iterator[Record]]:
    """Return (type, count, records) the actor may both read and export, in list order, read in batches."""
    view = get_type_or_raise(session=session, key=type_key)
    where, concealed = _where(session, view, actor, filters, search, False, action="export")
    total = min(session.scalar(select(func.count()).select_from(Record).where(where)) or 0, limit)
    ordering = _ordering(view, sort, concealed)

    def rows() -> Iterator[Record]:
        for offset in range(0, total, EXPORT_BATCH):
            batch = session.scalars(select(Record).where(where).order_by(*ordering).offset(offset)
                                    .limit(min(EXPORT_BATCH, total - offset))).all()
            yield from batch
            session.expunge_all()  # keep memory flat over a long export
    return view, total, rows()


@dataclass
class RelatedList:
    """Records of one type that refer to a record through one field, with their count."""

    type: TypeView
    field: str
    count: int
    items: list[Record]


def related(*, session: Session, record_id: int, actor: Actor, per_list: int = 10) -> list[RelatedList]:
    """List, per type and field, the live records the actor may read that point at a record (related lists)."""
    get_record_or_raise(session=session, record_id=record_id, actor=actor)
    pairs = session.execute(select(RecordLink.source_type_id, RecordLink.field).distinct()
                            .where(RecordLink.target_id == record_id)).all()
    types = {t.id: t for t in session.scalars(select(RecordType))}
    out = []
    for type_id, field in pairs:
        view = get_type_or_raise(session=session, key=types[type_id].key)
        where = and_(RecordLink.target_id == record_id, RecordLink.field == field,
                     RecordLink.source_type_id == type_id, Record.deleted_at.is_(None),
                     access.clause(session, actor, view.key, "view"))
        count = session.scalar(select(func.count(func.distinct(Record.id)))
                               .join(RecordLink, RecordLink.source_id == Record.id).where(where)) or 0
        if not count:
            continue
        items = list(session.scalars(select(Record).join(RecordLink, RecordLink.source_id == Record.id).where(where)
                                     .order_by(Record.updated_at.desc(), Record.id.desc()).limit(per_list)).unique())
        out.append(RelatedList(view, field, int(count), items))
    return sorted(out, key=lambda r: (r.type.type.name_en or r.type.type.name, r.field))


def referencing_types(*, session: Session, type_key: str) -> list[tuple[TypeView, schemas.Reference]]:
    """List the (type, field) pairs whose references point at records of a type, for empty related lists."""
    from .types import list_types
    return [(view, ref) for view in list_types(session=session) for ref in schemas.references(view.schema)
            if ref.target == type_key]


def processes(*, session: Session, record_id: int, actor: Actor, limit: int = 20) -> list[tuple[ProcessInstance, str]]:
    """List the process instances that created, updated or linked a record, newest first."""
    get_record_or_raise(session=session, record_id=record_id, actor=actor, include_deleted=True)
    rows = session.execute(select(ProcessInstance, RecordProcess.relation)
                           .join(RecordProcess, RecordProcess.instance_id == ProcessInstance.id)
                           .where(RecordProcess.record_id == record_id)
                           .order_by(ProcessInstance.started_at.desc()).limit(limit)).all()
    return [(instance, relation) for instance, relation in rows]


def titles(*, session: Session, ids: list[int]) -> dict[int, str]:
    """Map record ids to their titles, to show references by name."""
    clean = sorted({i for i in ids if isinstance(i, int) and not isinstance(i, bool)})[:1000]
    if not clean:
        return {}
    return {int(i): t for i, t in session.execute(select(Record.id, Record.title).where(Record.id.in_(clean)))}


def counts_by_type(*, session: Session, actor: Actor) -> dict[int, int]:
    """Count the live records the actor may read, per record type id."""
    out = {}
    for record_type in session.scalars(select(RecordType).where(RecordType.active.is_(True))):
        out[record_type.id] = session.scalar(select(func.count()).select_from(Record).where(
            Record.type_id == record_type.id, Record.deleted_at.is_(None),
            access.clause(session, actor, record_type.key, "view"))) or 0
    return out

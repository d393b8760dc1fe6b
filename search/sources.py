"""What is searched: documents, records and knowledge articles, kept in the index as they change.

Documents and records never call the index; `install` subscribes to their change hooks, so an entry is
written in the same transaction as the change it describes. `readable` builds the permission condition
from the same rules their own lists use, so a search never shows what the reader could not open.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from lxml import etree
from lxml import html as lxml_html
from sqlalchemy import String, and_, cast, false, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement, False_, True_

from documents import access as document_access
from documents import library as documents
from documents.models import DocDocument
from instances.actors import Actor
from records import access as record_access
from records import events as record_events
from records.models import Record
from records.types import TypeView, list_types, type_by_id

from .models import SearchEntry
from .service import index_entry, remove_entry

DOCUMENT, RECORD, ARTICLE = "document", "record", "article"
KINDS = (DOCUMENT, RECORD, ARTICLE)
# Record types whose records are knowledge articles: searched and shown as articles, not as records.
ARTICLE_TYPES = frozenset({"knowledge_article"})
BATCH = 200


def record_kind(type_key: str) -> str:
    """Return the index kind of a record type's records."""
    return ARTICLE if type_key in ARTICLE_TYPES else RECORD


def record_scope(type_key: str) -> str:
    """Return the scope label of a record type's entries."""
    return f"records:{type_key}"


def _plain(value: str, kind: str | None) -> str:
    if kind != "richtext" or "<" not in value:
        return value
    try:
        return lxml_html.fragment_fromstring(value, create_parent="div").text_content()
    except (etree.ParserError, ValueError):
        return value


def _strings(value, kind: str | None) -> Iterable[str]:
    # Strings anywhere in the value: a detail table's rows, a list of tags.
    if isinstance(value, str):
        if value.strip():
            yield _plain(value, kind)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, None)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item, None)


def record_text(view: TypeView, data: dict) -> str:
    """Return a record's searchable text: every text field but those only some roles may see, and enum codes."""
    properties = view.schema.get("properties", {})
    restricted = {name for name, rule in (view.meta.get("field_access") or {}).items() if (rule or {}).get("view")}
    parts = []
    for name in view.schema.get("x-order") or list(properties):
        spec = properties.get(name) or {}
        # Restricted fields stay out: a hit would tell everyone else what they hold. Codes of a choice
        # (status, level) are not words anyone searches for.
        if name in restricted or name not in data or "enum" in spec:
            continue
        parts.extend(_strings(data[name], spec.get("x-kind")))
    return "\n".join(parts)


def index_records(session: Session, record_ids: list[int], _event: str = "") -> None:
    """Bring the index entries of these records up to date (remove those deleted)."""
    views: dict[int, TypeView] = {}
    for record in session.scalars(select(Record).where(Record.id.in_(record_ids))):
        if record.type_id not in views:
            views[record.type_id] = type_by_id(session=session, type_id=record.type_id)
        view = views[record.type_id]
        kind, ref = record_kind(view.key), str(record.id)
        if record.deleted_at is not None:
            remove_entry(session, kind, ref)
            continue
        name = view.type.name_en or view.type.name
        index_entry(session, kind, ref, title=record.title or f"{name} #{record.id}",
                    text=record_text(view, record.data or {}), owner=record.owner,
                    scope=record_scope(view.key), updated_at=record.updated_at,
                    extra={"record_id": int(record.id), "type": view.key, "type_name": view.type.name,
                           "type_name_en": view.type.name_en})


def index_documents(session: Session, document_ids: list[int], _event: str = "") -> None:
    """Bring the index entries of these documents up to date (remove those deleted or purged)."""
    for document_id in document_ids:
        fields = documents.index_fields(session, document_id)
        if fields is None:
            remove_entry(session, DOCUMENT, str(document_id))
        else:
            index_entry(session, **fields)


_installed: list[Callable[[], None]] = []


def install() -> None:
    """Keep the index current from now on in this process (documents and records); calling it again is harmless."""
    if not _installed:
        _installed.append(documents.on_change(index_documents))
        _installed.append(record_events.on_change(index_records))


def uninstall() -> None:
    """Stop following changes (tests that measure writes without the index)."""
    while _installed:
        _installed.pop()()


def _record_clauses(session: Session, actor: Actor) -> list[ColumnElement[bool]]:
    clauses = []
    for view in list_types(session=session, include_inactive=True):
        allowed = record_access.clause(session, actor, view.key, "view")
        if isinstance(allowed, False_):
            continue
        in_type = and_(SearchEntry.kind == record_kind(view.key), SearchEntry.scope == record_scope(view.key))
        if isinstance(allowed, True_):
            clauses.append(in_type)
            continue
        # The entry's ref is the record id as text; the record side's own rule picks the ids.
        ids = select(cast(Record.id, String)).where(Record.type_id == view.type.id, Record.deleted_at.is_(None),
                                                    allowed)
        clauses.append(and_(in_type, SearchEntry.ref.in_(ids)))
    return clauses


def readable(session: Session, actor: Actor) -> ColumnElement[bool]:
    """Return the condition on SearchEntry true for the entries the actor may open."""
    # No shortcut for administrators: personal drives stay private to them too.
    documents_ok = and_(SearchEntry.kind == DOCUMENT,
                        document_access.folder_clause(session, actor, SearchEntry.folder_id))
    clauses = [documents_ok, *_record_clauses(session, actor)]
    return or_(*clauses) if clauses else false()


def reindex(session: Session, *, progress: Callable[[str, int, int], None] | None = None) -> dict[str, int]:
    """Rebuild every entry from the documents and records, dropping entries whose source is gone; return counts."""
    counts = {DOCUMENT: 0, RECORD: 0, "removed": 0}
    document_ids = list(session.scalars(select(DocDocument.id).order_by(DocDocument.id)))
    record_ids = list(session.scalars(select(Record.id).order_by(Record.id)))
    for name, ids, index in ((DOCUMENT, document_ids, index_documents), (RECORD, record_ids, index_records)):
        for start in range(0, len(ids), BATCH):
            index(session, ids[start:start + BATCH])
            session.flush()
            session.expunge_all()  # keeps memory flat over a large library
            counts[name] += len(ids[start:start + BATCH])
            if progress:
                progress(name, counts[name], len(ids))
    live = {(DOCUMENT, str(i)) for i in document_ids} | {(k, str(i)) for i in record_ids for k in (RECORD, ARTICLE)}
    for kind, ref in session.execute(select(SearchEntry.kind, SearchEntry.ref)).all():
        if (kind, ref) not in live and kind in KINDS:
            remove_entry(session, kind, ref)
            counts["removed"] += 1
    return counts

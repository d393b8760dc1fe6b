"""Index, remove and search entries. Services flush; the request or job commits."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement, True_

from database.base import utcnow

from .analyser import document_tokens, query_terms
from .backends import index_scans, ranked_ids
from .errors import InvalidInput
from .highlight import highlight, snippet
from .models import SearchEntry, SearchText

KIND = re.compile(r"[a-z][a-z0-9_]{0,39}")
SNIPPET_SOURCE_CHARS = 2000  # what a hit can quote; matches further into a long text show its opening
MAX_LIMIT = 100
MAX_OFFSET = 10_000  # deeper pages cost a full ranking each; nobody reads them

Readable = ColumnElement[bool] | Callable[[type[SearchEntry]], ColumnElement[bool]]


@dataclass(frozen=True)
class SearchHit:
    """One ranked hit: what it is, its score, and HTML-safe title and snippet with the matched words marked."""

    kind: str
    ref: str
    title: str
    score: float
    snippet: str
    title_html: str
    owner: str
    folder_id: int | None
    scope: str | None
    updated_at: datetime
    extra: dict = field(default_factory=dict)


def _check(name: str, value, *, limit: int, required: bool = True) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or (required and not value) or len(value) > limit:
        raise InvalidInput(f"{name} must be a text of 1 to {limit} characters.", details={"field": name})


def entry_rows(kind: str, ref: str, *, title: str, text: str, owner: str, folder_id: int | None = None,
               scope: str | None = None, extra: dict | None = None,
               updated_at: datetime | None = None) -> tuple[dict, dict]:
    """Check and analyse one entry into its search_entry and search_entry_text rows (without ids)."""
    if not isinstance(kind, str) or not KIND.fullmatch(kind):
        raise InvalidInput("kind must be 1 to 40 lower-case letters, digits or _.", details={"field": "kind"})
    _check("ref", ref, limit=200)
    _check("owner", owner, limit=150)
    _check("scope", scope, limit=200, required=False)
    title, text = " ".join((title or "").split())[:500], text or ""
    tokens = document_tokens(text)
    entry = {"kind": kind, "ref": ref, "owner": owner, "folder_id": folder_id, "scope": scope,
             "updated_at": updated_at or utcnow(), "indexed_at": utcnow(), "title": title, "extra": extra or {}}
    searchable = {"snippet_source": " ".join(text[:SNIPPET_SOURCE_CHARS * 2].split())[:SNIPPET_SOURCE_CHARS],
                  "token_count": len(tokens), "title_tokens": " ".join(document_tokens(title)),
                  "tokens": " ".join(tokens)}
    return entry, searchable


def _upsert(session: Session, model, values: dict, keys: list[str]):
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(model).values(**values)
    # One statement, so two writers indexing the same new entry at once cannot both insert it.
    return statement.on_conflict_do_update(
        index_elements=keys, set_={name: statement.excluded[name] for name in values if name not in keys})


def index_entry(session: Session, kind: str, ref: str, *, title: str, text: str, owner: str,
                folder_id: int | None = None, scope: str | None = None, extra: dict | None = None,
                updated_at: datetime | None = None) -> None:
    """Add an entry to the index, or replace the one with the same kind and ref."""
    entry, searchable = entry_rows(kind, ref, title=title, text=text, owner=owner, folder_id=folder_id,
                                   scope=scope, extra=extra, updated_at=updated_at)
    entry_id = session.execute(_upsert(session, SearchEntry, entry, ["kind", "ref"])
                               .returning(SearchEntry.id)).scalar_one()
    session.execute(_upsert(session, SearchText, {"entry_id": entry_id, **searchable}, ["entry_id"]))


def remove_entry(session: Session, kind: str, ref: str) -> bool:
    """Remove an entry from the index; tell whether there was one."""
    entry_id = session.scalar(select(SearchEntry.id).where(SearchEntry.kind == kind, SearchEntry.ref == ref))
    if entry_id is None:
        return False
    # The text row first, explicitly: its delete trigger is what takes the entry out of SQLite's FTS table.
    session.execute(delete(SearchText).where(SearchText.entry_id == entry_id))
    session.execute(delete(SearchEntry).where(SearchEntry.id == entry_id))
    return True


def _moment(value, name: str, *, end: bool) -> tuple[datetime, bool]:
    # Returns the bound and whether it is included; a plain date_to includes that whole day.
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)), True
    if isinstance(value, date):
        return datetime.combine(value + timedelta(days=1) if end else value, time(), tzinfo=timezone.utc), not end
    raise InvalidInput(f"{name} must be a date or a datetime.", details={"field": name})


def _readable(readable: Readable) -> ColumnElement[bool]:
    predicate = readable(SearchEntry) if callable(readable) and not isinstance(readable, ColumnElement) else readable
    if not isinstance(predicate, ColumnElement):
        raise TypeError("readable must be a SQLAlchemy condition, or a function of SearchEntry returning one")
    return predicate


def _conditions(kinds, folder_ids, owner, date_from, date_to) -> list[ColumnElement[bool]]:
    conditions = []
    if kinds is not None:
        conditions.append(SearchEntry.kind.in_(list(kinds)))
    if folder_ids is not None:
        folder_ids = list(folder_ids)
        # None in folder_ids stands for entries outside any folder.
        in_folders = SearchEntry.folder_id.in_([f for f in folder_ids if f is not None])
        conditions.append(or_(in_folders, SearchEntry.folder_id.is_(None)) if None in folder_ids else in_folders)
    if owner is not None:
        conditions.append(SearchEntry.owner == owner)
    if date_from is not None:
        conditions.append(SearchEntry.updated_at >= _moment(date_from, "date_from", end=False)[0])
    if date_to is not None:
        moment, included = _moment(date_to, "date_to", end=True)
        conditions.append(SearchEntry.updated_at <= moment if included else SearchEntry.updated_at < moment)
    return conditions


def _check_page(limit, offset) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be a whole number from 1 to {MAX_LIMIT}.",
                           details={"field": "limit", "max": MAX_LIMIT})
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput(f"offset must be a whole number from 0 to {MAX_OFFSET}.",
                           details={"field": "offset", "max": MAX_OFFSET})


def search(session: Session, query: str, *, readable: Readable, kinds: Iterable[str] | None = None,
           folder_ids: Iterable[int | None] | None = None, owner: str | None = None,
           date_from: date | datetime | None = None, date_to: date | datetime | None = None,
           limit: int = 20, offset: int = 0) -> list[SearchHit]:
    """Return the entries the reader may read that match every query word, best first."""
    terms = query_terms(query)
    _check_page(limit, offset)
    # The permission condition is part of the ranked query, so pages are full and counts never leak.
    conditions = [*_conditions(kinds, folder_ids, owner, date_from, date_to), _readable(readable)]
    # true() (an administrator's condition) filters nothing; left out, the index alone answers.
    conditions = [condition for condition in conditions if not isinstance(condition, True_)]
    with index_scans(session):
        page = session.execute(ranked_ids(session, terms, conditions, limit=limit, offset=offset)).all()
    found = session.execute(select(SearchEntry, SearchText.snippet_source)
                            .join(SearchText, SearchText.entry_id == SearchEntry.id)
                            .where(SearchEntry.id.in_([entry_id for entry_id, _score in page]))).all()
    entries = {entry.id: (entry, source) for entry, source in found}
    # An entry removed between the two reads (PostgreSQL reads committed data per statement) is left out.
    rows = [(*entries[entry_id], score) for entry_id, score in page if entry_id in entries]
    return [SearchHit(kind=entry.kind, ref=entry.ref, title=entry.title, score=float(score or 0.0),
                      snippet=snippet(source, terms), title_html=highlight(entry.title, terms),
                      owner=entry.owner, folder_id=entry.folder_id, scope=entry.scope, updated_at=entry.updated_at,
                      extra=dict(entry.extra or {}))
            for entry, source, score in rows]

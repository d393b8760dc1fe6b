"""The two index back-ends: query strings and ranked SELECTs for SQLite FTS5 and PostgreSQL tsvector.

The query string is built from analysed tokens only, and always travels as a bound parameter.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Select, and_, bindparam, case, cast, func, literal_column, select, table, text
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from .analyser import Term
from .models import FTS_TABLE, SearchEntry, SearchText

TITLE_WEIGHT = 5.0  # bm25 column weight of a title match against a body match (PostgreSQL: weight A vs D)
RANK_NORMALISATION = 1  # ts_rank_cd: divide by 1 + log(length), as bm25 favours shorter entries
RANK_WINDOW = 100  # PostgreSQL ranks at most this many matches (or one page past the offset) with ts_rank_cd


@contextmanager
def index_scans(session: Session) -> Iterator[None]:
    """Keep PostgreSQL from scanning the whole table for a common word, for the length of one query.

    The planner prices `search_tsv @@ query` as one cheap comparison a row, but on a sequential scan it
    unpacks each row's whole tsvector (tens of KB); the GIN index answers without reading them.
    """
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    before = session.execute(select(func.current_setting("enable_seqscan"),
                                    func.set_config("enable_seqscan", "off", True))).first()[0]
    yield
    # Not in a finally: after an error the transaction rolls back, and with it this local setting.
    session.execute(select(func.set_config("enable_seqscan", before, True)))


def _group(parts: list[str], joiner: str) -> str:
    return parts[0] if len(parts) == 1 else "(" + joiner.join(parts) + ")"


def fts5_query(terms: list[Term]) -> str:
    """Return an FTS5 MATCH expression: every term, each an OR of alternatives, each an AND of tokens."""
    def phrase(token: str, prefix: bool) -> str:
        # A double-quoted string is a literal in FTS5 syntax: AND, OR, NEAR, * and : lose their meaning.
        return '"' + token.replace('"', '""') + '"' + ("*" if prefix else "")

    return " AND ".join(
        _group([_group([phrase(t, term.prefix) for t in alternative], " AND ")
                for alternative in term.alternatives], " OR ")
        for term in terms)


def tsquery(terms: list[Term]) -> str:
    """Return a to_tsquery('simple', ...) expression with every token quoted as a literal lexeme."""
    def lexeme(token: str, prefix: bool) -> str:
        return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'" + (":*" if prefix else "")

    return " & ".join(
        _group([_group([lexeme(t, term.prefix) for t in alternative], " & ")
                for alternative in term.alternatives], " | ")
        for term in terms)


def _postgres_page(terms: list[Term], conditions: list[ColumnElement], limit: int, offset: int) -> Select:
    query = func.to_tsquery(cast("simple", REGCONFIG), bindparam("search_tsquery", tsquery(terms)))
    text_ = SearchText.__table__.c
    # ts_rank_cd reads a match's whole tsvector (tens of KB for a long document): too slow for a word found
    # in most entries. Every match holds each query word once (tokens are distinct per entry), so ranking
    # mostly rewards a title match and a short entry; matches are put in that order on cheap columns, and
    # only the first RANK_WINDOW are ranked. Later pages continue in the cheap order, so pages never overlap.
    # The sort carries the tsvector unread, as a TOAST pointer.
    in_title = text_.title_tsv.op("@@")(query).label("in_title")
    matches = select(text_.entry_id.label("id"), text_.search_tsv, in_title, text_.token_count).where(
        text_.search_tsv.op("@@")(query))
    if conditions:
        matches = matches.where(text_.entry_id.in_(select(SearchEntry.id).where(*conditions)))
    window = (matches.order_by(in_title.desc(), text_.token_count, text_.entry_id.desc())
              .limit(max(RANK_WINDOW, limit + offset)).subquery())
    place = func.row_number().over(order_by=(window.c.in_title.desc(), window.c.token_count, window.c.id.desc()))
    numbered = select(window.c.id, window.c.search_tsv, place.label("place")).subquery()
    ranked = numbered.c.place <= RANK_WINDOW
    score = case((ranked, func.ts_rank_cd(numbered.c.search_tsv, query, RANK_NORMALISATION)), else_=0.0)
    return (select(numbered.c.id, score.label("score"))
            .order_by(ranked.desc(), score.desc(), numbered.c.place).limit(limit).offset(offset))


def _sqlite_page(terms: list[Term], conditions: list[ColumnElement], limit: int, offset: int) -> Select:
    fts = table(FTS_TABLE, literal_column("rowid"))
    # bm25() is lower-is-better and negative; negate it so both back-ends rank higher-is-better.
    score = (-func.bm25(literal_column(FTS_TABLE), TITLE_WEIGHT, 1.0)).label("score")
    match = text(f"{FTS_TABLE} MATCH :search_match").bindparams(search_match=fts5_query(terms))
    statement = select(fts.c.rowid.label("id"), score).select_from(fts)
    if conditions:
        statement = statement.join(SearchEntry, SearchEntry.id == fts.c.rowid)
    return (statement.where(and_(match, *conditions))
            .order_by(score.desc(), fts.c.rowid.desc()).limit(limit).offset(offset))


def ranked_ids(session: Session, terms: list[Term], conditions: list[ColumnElement], *, limit: int,
               offset: int) -> Select:
    """Build the SELECT of one page of matching entry ids meeting every condition, best first, with a score.

    Only ids and scores are ranked and sorted; the caller then loads the page's few rows for what hits show.
    """
    if session.get_bind().dialect.name == "postgresql":
        return _postgres_page(terms, conditions, limit, offset)
    return _sqlite_page(terms, conditions, limit, offset)

"""The search index: one entry per searchable thing (document, record, article...), keyed by kind and ref.

An entry is two rows: `search_entry`, small, with what filters and permission rules read, and
`search_entry_text`, with the analysed tokens and the text a snippet quotes. Kept apart, a search that
matches most entries checks their permissions on a compact table (SQLite stores a row's long texts
inline, so one wide table meant a page read per row).

On SQLite the FTS5 table `search_fts` indexes the token columns; it is a virtual table made by the
migration and kept in step by triggers, so it is not a model. On PostgreSQL the `search_tsv` column is
generated from the same token columns and carries a GIN index.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Computed,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from database.base import Base, JSONType, UTCDateTime, utcnow

EntryId = BigInteger().with_variant(Integer, "sqlite")  # INTEGER PRIMARY KEY is the rowid FTS5 links to
FTS_TABLE = "search_fts"
# Title tokens weigh A, body tokens D (the default weight), so ts_rank_cd prefers a match in the title.
TSV_EXPRESSION = ("setweight(to_tsvector('simple'::regconfig, title_tokens), 'A'::\"char\") || "
                  "to_tsvector('simple'::regconfig, tokens)")
TITLE_TSV_EXPRESSION = "to_tsvector('simple'::regconfig, title_tokens)"
PG_ONLY = {"postgresql_only": True}


class SearchEntry(Base):
    """One indexed thing: what a hit shows and what filters and permission rules read."""

    __tablename__ = "search_entry"
    __table_args__ = (
        UniqueConstraint("kind", "ref", name="uq_search_entry_kind_ref"),
        Index("ix_search_entry_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(EntryId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    ref: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(150), index=True)
    folder_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    scope: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    indexed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    title: Mapped[str] = mapped_column(String(500), default="")
    extra: Mapped[dict] = mapped_column(JSONType, default=dict)


class SearchText(Base):
    """The searchable side of an entry: its analysed tokens, space-joined, and the text a snippet quotes."""

    __tablename__ = "search_entry_text"
    __table_args__ = (
        Column("search_tsv", TSVECTOR, Computed(TSV_EXPRESSION, persisted=True), info=PG_ONLY),
        # Small and kept in the row: tells cheaply whether the title holds every query word (see backends).
        Column("title_tsv", TSVECTOR, Computed(TITLE_TSV_EXPRESSION, persisted=True), info=PG_ONLY),
        Index("ix_search_entry_text_search_tsv", "search_tsv", postgresql_using="gin", info=PG_ONLY),
    )
    # These exist only on PostgreSQL and are written by the database, so the ORM never loads or sets them.
    __mapper_args__ = {"exclude_properties": ["search_tsv", "title_tsv"]}

    entry_id: Mapped[int] = mapped_column(EntryId, ForeignKey("search_entry.id", ondelete="CASCADE"),
                                          primary_key=True, autoincrement=False)
    snippet_source: Mapped[str] = mapped_column(Text, default="")
    token_count: Mapped[int] = mapped_column(Integer, default=0)
    # Read only by the full-text index; deferred so loading a snippet never fetches them.
    title_tokens: Mapped[str] = mapped_column(Text, default="", deferred=True)
    tokens: Mapped[str] = mapped_column(Text, default="", deferred=True)


# The schema check compares models with the database; it must skip the FTS5 table and its shadow tables
# (search_fts_data, _idx, _docsize, _config), which SQLite reports as ordinary tables.
Base.metadata.info.setdefault("sqlite_virtual_tables", set()).add(FTS_TABLE)

"""Prepared test databases: a fixture's data is built once per run and database, then copied into each test.

Loading the demo organisation, grants, core record types, leave balances and a process costs a second or
more per test; copying the rows back costs a few tens of milliseconds. The copy is taken right after the
first build and restored into the emptied database of every later test that asks for the same key. Only
database rows are copied, so a build must not write files. The organisation revision gets a new value on
every restore: caches keyed by it (calendars, tokens) must never mistake one test's organisation for
another's.
"""
from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from sqlalchemy import text

from database import Database
from database.models import metadata

_SQLITE: dict[tuple[str, str], sqlite3.Connection] = {}
_POSTGRES: dict[tuple[str, str], list[tuple[str, str]]] = {}


def prepared(database: Database, key: str, build: Callable[[Database], None]) -> None:
    """Fill an emptied database with what `build` writes, building it only the first time per key."""
    if database.dialect == "postgresql":
        _postgres(database, key, build)
    else:
        _sqlite(database, key, build)
    _new_revision(database)


def _sqlite(database: Database, key: str, build) -> None:
    stored = _SQLITE.get((database.url, key))
    raw = database.engine.raw_connection()
    try:
        if stored is None:
            build(database)
            copy = sqlite3.connect(":memory:", check_same_thread=False)
            raw.driver_connection.backup(copy)
            _SQLITE[database.url, key] = copy
        else:
            stored.backup(raw.driver_connection)
    finally:
        raw.close()


def _schema(key: str) -> str:
    return "snapshot_" + "".join(c if c.isalnum() else "_" for c in key.lower())


def _postgres(database: Database, key: str, build) -> None:
    schema = _schema(key)
    tables = _POSTGRES.get((database.url, key))
    if tables is None:
        build(database)
        _POSTGRES[database.url, key] = _take(database, schema)
        return
    with database.engine.begin() as conn:
        # Rows go back as they were taken; key checks would trip on the departments and users that point at
        # each other, so they are off for this transaction only.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table, columns in tables:
            conn.execute(text(f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM "{schema}"."{table}"'))
        for table, _columns in tables:
            sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}).scalar() \
                if "id" in metadata.tables[table].c else None
            if sequence:
                conn.execute(text(f'SELECT setval(:s, (SELECT max(id) FROM "{table}"))'), {"s": sequence})


def _take(database: Database, schema: str) -> list[tuple[str, str]]:
    """Copy every table that has rows into a schema of its own; return the tables and their columns."""
    taken = []
    with database.engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        for table in metadata.sorted_tables:
            if conn.execute(text(f'SELECT EXISTS (SELECT 1 FROM "{table.name}")')).scalar():
                names = conn.execute(text(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                    "AND table_name = :t AND is_generated = 'NEVER' ORDER BY ordinal_position"),
                    {"t": table.name}).scalars().all()
                columns = ", ".join(f'"{n}"' for n in names)
                conn.execute(text(f'CREATE TABLE "{schema}"."{table.name}" AS SELECT {columns} '
                                  f'FROM "{table.name}"'))
                taken.append((table.name, columns))
    return taken


def _new_revision(database: Database) -> None:
    # A value never used before in this run, as a counter created anew would take (see org.revision.bump).
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE org_revision SET value = :v WHERE id = 1"),
                     {"v": time.time_ns() // 1000 % 2_000_000_000})

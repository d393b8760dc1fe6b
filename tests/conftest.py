"""Shared fixtures: databases on SQLite and PostgreSQL, migrated once per run and emptied per test."""
from __future__ import annotations

import os
import uuid
from datetime import date

os.environ.setdefault("FLOWDESK_TEST_CHEAP_HASHES", "1")  # before org.passwords is imported
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from database import Database
from database.migrate import upgrade
from database.models import metadata

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
CORPUS = ROOT.parent / "shared" / "corpus" / "bpmn"
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
# Years the generic tests' fixed leave dates (2026-12) and today's fall in: the demo balances cover them.
LEAVE_YEARS = tuple(range(2026, max(2026, date.today().year) + 2))


def postgres_available() -> bool:
    """Tell whether the PostgreSQL half of the suite runs."""
    flag = os.environ.get("FLOWDESK_TEST_POSTGRES")
    if flag is not None:
        return flag == "1"
    try:
        psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3).close()
        return True
    except Exception:
        return False


PG = postgres_available()
if os.environ.get("CI") == "true" and not PG:
    raise RuntimeError(f"PostgreSQL at {PG_URL} is required in CI")


def _pg_admin(sql: str) -> None:
    with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    """A migrated SQLite database file for this run."""
    path = tmp_path_factory.mktemp("db") / "flowdesk.db"
    url = f"sqlite:///{path}"
    database = Database(url)
    upgrade(database)
    database.dispose()
    return url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A migrated PostgreSQL database of its own for this run, dropped at the end."""
    if not PG:
        pytest.skip("PostgreSQL is not reachable")
    name = f"flowdesk_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    base = PG_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    database = Database(url)
    upgrade(database)
    database.dispose()
    yield url
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _empty(database: Database) -> None:
    from definitions.service import clear_runtime_cache

    clear_runtime_cache()  # ids restart in an emptied database, so cached runtimes would be stale
    from org.permissions import clear_cache
    clear_cache()
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    if database.dialect == "postgresql":
        # DELETE with key checks off, in one round trip: TRUNCATE of sixty tables makes new files for each and
        # took most of a second per test; the few rows a test leaves are gone in milliseconds this way.
        with database.engine.begin() as conn:
            sequences = _pg_sequences(database, conn)
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica; "
                                 + "; ".join(f'DELETE FROM "{t}"' for t in tables) + "; "
                                 + "; ".join(f"SELECT setval('\"{s}\"', 1, false)" for s in sequences))
        return
    # Departments and users point at each other; SQLite only lifts key checks outside a transaction.
    raw = database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA foreign_keys=OFF")
        for table in tables:
            cursor.execute(f'DELETE FROM "{table}"')
        cursor.execute("DELETE FROM sqlite_sequence") if _has_sequence(cursor) else None
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        raw.close()


_SEQUENCES: dict[str, list[str]] = {}


def _pg_sequences(database: Database, conn) -> list[str]:
    """The database's sequences, so ids restart at 1 in every test as they would in a new database."""
    if database.url not in _SEQUENCES:
        _SEQUENCES[database.url] = list(conn.execute(text(
            "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = 'public'")).scalars())
    return _SEQUENCES[database.url]


def _has_sequence(cursor) -> bool:
    return cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone() is not None


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request) -> Database:
    """An empty, migrated database: each database test runs once on SQLite and once on PostgreSQL."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    database = Database(url)
    _empty(database)
    yield database
    database.dispose()


@pytest.fixture
def pg_db(request) -> Database:
    """An empty, migrated PostgreSQL database, for tests that only make sense there."""
    database = Database(request.getfixturevalue("postgres_url"))
    _empty(database)
    yield database
    database.dispose()


def read_bundle(name: str) -> dict[str, bytes]:
    """Read a test model folder or file from tests/data/bpmn."""
    from definitions.bundle import read_path
    return read_path(DATA / "bpmn" / name)

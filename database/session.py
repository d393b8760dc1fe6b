"""Engines, sessions and the one-transaction-per-command rule."""
from __future__ import annotations

import os
import time
import weakref
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker


def is_postgres(bind) -> bool:
    """Tell whether a session or engine talks to PostgreSQL."""
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    return engine.dialect.name == "postgresql"


_DATABASE_KEYS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def database_key(bind) -> str:
    """Name the database a session or engine talks to, for caches that one process keeps for several databases
    (tests use two). Worked out once per engine: rendering the URL on every lookup cost more than the lookup."""
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    if engine is None:
        return ""
    key = _DATABASE_KEYS.get(engine)
    if key is None:
        key = _DATABASE_KEYS[engine] = str(engine.url)
    return key


def normalize_url(url: str) -> str:
    """Pick the psycopg 3 driver for plain postgresql:// URLs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, issue BEGIN, so commands can take the write lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


# A pooled connection idle this long is pinged before use; one used more recently is trusted. Pinging on every
# checkout cost each request a round trip; a server restart is met by the first use after an idle spell, and a
# connection that dies under load fails its one statement, which invalidates the pool (SQLAlchemy's rule).
PING_AFTER_IDLE_S = 5.0
_IDLE_SINCE = "flowdesk.idle_since"


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, record, _proxy):
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool drops this connection and checks out a fresh one.
            raise exc.DisconnectionError(f"pooled connection is gone: {error}") from error


class Database:
    """One database: an engine plus session factories for reads and for commands that write."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10):
        self.url = normalize_url(url)
        if self.url.startswith("sqlite"):
            path = self.url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(os.path.dirname(os.path.abspath(path))).mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(self.url, echo=echo, connect_args={"timeout": 30})
            _configure_sqlite(self.engine)
            write_bind = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        else:
            self.engine = create_engine(self.url, echo=echo, pool_size=pool_size, max_overflow=pool_size)
            _ping_when_idle(self.engine)
            write_bind = self.engine
        self.read_session = sessionmaker(bind=self.engine, expire_on_commit=False)
        self.write_session = sessionmaker(bind=write_bind, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """Return the SQL dialect name."""
        return self.engine.dialect.name

    @contextmanager
    def command(self):
        """Run one command in one transaction: commit on success, roll back on any error."""
        session = self.write_session()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    @contextmanager
    def query(self):
        """Open a session for reading."""
        session = self.read_session()
        try:
            yield session
        finally:
            # close() ends the read transaction and detaches objects without expiring what they loaded.
            session.close()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

"""Pooled PostgreSQL connections: pinged only after an idle spell, and replaced when the server dropped them."""
from __future__ import annotations

import psycopg
from sqlalchemy import event, text

from database import session as db_session
from tests.snapshots import prepared
from tests.webapp.conftest import _web_data
from tests.webapp.test_api import sign_in
from webapp.app import create_app
from webapp.config import Settings

from .conftest import PG_URL


def _statements(database) -> list[str]:
    """Record what the driver is asked to run, pings included (they bypass SQLAlchemy's statement events)."""
    seen: list[str] = []
    real_ping = database.engine.dialect.do_ping

    def ping(dbapi_connection):
        seen.append("ping")
        return real_ping(dbapi_connection)

    database.engine.dialect.do_ping = ping
    event.listen(database.engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: seen.append(statement))
    return seen


def _backend_pid(database) -> int:
    with database.command() as session:
        return session.execute(text("SELECT pg_backend_pid()")).scalar()


def _age_pool(monkeypatch) -> None:
    """Make every pooled connection look idle for longer than the ping threshold."""
    monkeypatch.setattr(db_session, "PING_AFTER_IDLE_S", -1.0)


def test_a_connection_used_moments_ago_is_not_pinged(pg_db):
    _backend_pid(pg_db)  # one pooled connection, just checked in
    seen = _statements(pg_db)
    with pg_db.command() as session:
        session.execute(text("SELECT 1"))
    assert "ping" not in seen and seen == ["SELECT 1"]


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced(pg_db, monkeypatch):
    old = _backend_pid(pg_db)
    with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (old,))
    _age_pool(monkeypatch)
    seen = _statements(pg_db)
    new = _backend_pid(pg_db)  # without the ping this would fail: the pooled connection is dead
    assert "ping" in seen
    assert new != old


def test_an_idle_live_connection_is_kept_after_its_ping(pg_db, monkeypatch):
    old = _backend_pid(pg_db)
    _age_pool(monkeypatch)
    seen = _statements(pg_db)
    assert _backend_pid(pg_db) == old
    assert seen.count("ping") == 1


def test_a_connection_dropped_in_use_answers_503_and_the_next_call_works(tmp_path, pg_db, monkeypatch):
    postgres_url = pg_db.url
    prepared(pg_db, "web", _web_data)
    app = create_app(Settings(database_url=postgres_url, var_dir=tmp_path, secret_key="test-secret", testing=True,
                              csrf_enabled=False))
    api = sign_in(app.test_client(), "li.na")
    assert api.get("/me").status_code == 200
    monkeypatch.setattr(db_session, "PING_AFTER_IDLE_S", 3600.0)  # trusted: not pinged before use
    with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                      (postgres_url.rsplit("/", 1)[1],))
    lost = api.get("/me")
    assert lost.status_code == 503
    assert lost.get_json()["error"]["code"] == "unavailable"
    assert api.get("/me").status_code == 200  # the pool dropped the dead connections

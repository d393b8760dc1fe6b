"""Schema changes go through Alembic: an empty database upgrades to head and matches the models."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from database import Database
from database.base import include_object
from database.migrate import current_revision, head_revision, upgrade
from database.models import metadata


def _diff(database: Database) -> list:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": include_object(connection.dialect.name)})
        return compare_metadata(context, metadata)


def test_sqlite_upgrades_from_empty_to_head_and_matches_models(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert current_revision(database) is None
    upgrade(database)
    assert current_revision(database) == head_revision()
    assert _diff(database) == []
    upgrade(database)  # a second upgrade is a no-op that keeps the data
    assert current_revision(database) == head_revision()


def test_postgres_upgrades_and_matches_models(pg_db):
    with pg_db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(pg_db)
    assert current_revision(pg_db) == head_revision()
    assert _diff(pg_db) == []


def test_the_calendar_upgrade_gives_installed_default_grants_their_calendar_rows(tmp_path):
    for with_grants in (True, False):
        database = Database(f"sqlite:///{tmp_path / f'grants-{with_grants}.db'}")
        upgrade(database, "0011")
        if with_grants:
            with database.engine.begin() as connection:
                connection.execute(text("INSERT INTO role_grant (role_code, resource, action, scope, created_at, "
                                        "created_by) VALUES ('employee', 'records:*', 'view', 'department', "
                                        "'2026-01-01 00:00:00', 'system')"))
        upgrade(database)
        with database.engine.connect() as connection:
            rows = connection.execute(text("SELECT role_code, scope FROM role_grant WHERE resource = 'calendar' "
                                           "ORDER BY role_code")).all()
        assert [tuple(r) for r in rows] == ([("employee", "group"), ("manager", "department_tree")]
                                            if with_grants else [])
        database.dispose()

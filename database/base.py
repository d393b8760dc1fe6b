"""The declarative base every model derives from, and column types that behave alike on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")


MAX_ID = 2**63 - 1  # ids are 64-bit; a larger number cannot name a row
MAX_INT32 = 2**31 - 1  # what a 32-bit column (sort, level, priority, version numbers) holds either way

# The furthest page a list offers: past it a page's offset outgrows what the databases can compare.
MAX_PAGE = 100_000


def page_number(page: int) -> int:
    """Return a page number within 1..MAX_PAGE: a list past its end is empty, never an error of the database."""
    return min(max(1, page), MAX_PAGE)


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        if value is not None and dialect.name == "sqlite":
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    """Declarative base of every Flowdesk table."""

    metadata = MetaData(naming_convention=NAMING)


def include_object(dialect_name: str):
    """Return an Alembic include_object hook that leaves out PostgreSQL-only objects on other databases."""
    def include(obj, name, type_, reflected, _compare_to):
        if dialect_name == "postgresql":
            return True
        if type_ == "table" and reflected and _is_virtual(name):
            return False
        return not getattr(obj, "info", {}).get("postgresql_only")
    return include


def _is_virtual(table_name: str | None) -> bool:
    # SQLite virtual tables made by migrations (FTS5) and their shadow tables are not models.
    virtual = Base.metadata.info.get("sqlite_virtual_tables", set())
    return any(table_name == name or (table_name or "").startswith(name + "_") for name in virtual)

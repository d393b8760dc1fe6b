"""Database plumbing shared by the domain packages: the declarative base, engines and transactions."""
from .base import Base, utcnow
from .session import Database, is_postgres

__all__ = ["Base", "Database", "is_postgres", "utcnow"]

"""Database sessions for request handlers: one transaction per command, read sessions for pages."""
from __future__ import annotations

from contextlib import contextmanager

from flask import current_app

from database import Database


def database() -> Database:
    """Return the app's database."""
    return current_app.extensions["flowdesk.database"]


@contextmanager
def command():
    """Run a command in one locked, committed-or-rolled-back transaction."""
    with database().command() as session:
        yield session


@contextmanager
def query():
    """Open a read session."""
    with database().query() as session:
        yield session

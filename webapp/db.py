"""Database sessions for request handlers: one transaction per command, read sessions for pages."""
from __future__ import annotations

from contextlib import contextmanager

from flask import current_app, g, has_request_context

from database import Database

# A check the request's first database session runs before anything else (the API's deferred token check).
FIRST_SESSION_CHECK = "flowdesk_first_session_check"


def database() -> Database:
    """Return the app's database."""
    return current_app.extensions["flowdesk.database"]


def _first_use(session) -> None:
    if has_request_context():
        check = g.pop(FIRST_SESSION_CHECK, None)
        if check is not None:
            check(session)


@contextmanager
def command():
    """Run a command in one locked, committed-or-rolled-back transaction."""
    with database().command() as session:
        _first_use(session)
        yield session


@contextmanager
def query():
    """Open a read session."""
    with database().query() as session:
        _first_use(session)
        yield session

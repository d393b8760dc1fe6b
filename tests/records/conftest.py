"""Fixtures for the records tests: the core types installed and people to act as."""
from __future__ import annotations

import pytest

from instances.actors import Actor
from records import service

ANNA = Actor("anna", frozenset({"role:employee"}))
BEN = Actor("ben", frozenset({"role:employee"}))
MAYA = Actor("maya", frozenset({"role:manager"}))
ADMIN = Actor("admin", is_admin=True)


@pytest.fixture
def core(db):
    """A database with the core CRM record types installed."""
    with db.command() as session:
        service.install_core_types(session=session)
    return db

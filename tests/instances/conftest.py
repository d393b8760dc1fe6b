"""Fixtures shared by the instance tests."""
from __future__ import annotations

import pytest

from instances import directory
from org.demo import load_demo
from org.directory import install


@pytest.fixture
def org_db(db):
    """The demo organisation, registered as the directory assignments, copies and verbs resolve people with."""
    with db.command() as session:
        load_demo(session=session)
    install(db)
    yield db
    directory.set_directory(None)

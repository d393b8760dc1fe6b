"""Web fixtures: an app on the test database with the demo organisation and the shipped processes."""
from __future__ import annotations

import pytest

from definitions import service as definitions
from definitions.bundle import read_path
from org import demo
from org.grants import install_default_grants
from records import service as records
from records.demo import load_demo_leave_balances
from tests.conftest import LEAVE_YEARS, ROOT
from tests.snapshots import prepared
from webapp.app import create_app
from webapp.config import Settings


def _web_data(db) -> None:
    with db.command() as session:
        demo.load_demo(session=session)
        install_default_grants(session=session)
        records.install_core_types(session=session)  # the leave request writes attendance records
        # Annual leave is checked against a balance: enough for the many requests of one person in these tests.
        load_demo_leave_balances(session=session, years=LEAVE_YEARS, days=200)
        definitions.deploy(session=session, files=read_path(ROOT / "bpmn" / "leave_request"), actor="admin")


@pytest.fixture
def app(db, tmp_path):
    """The web app on an emptied database holding the demo organisation and leave_request."""
    settings = Settings(database_url=db.url, var_dir=tmp_path, secret_key="test-secret", testing=True,
                        csrf_enabled=False)
    prepared(db, "web", _web_data)
    application = create_app(settings)
    yield application
    application.extensions["flowdesk.database"].dispose()


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


@pytest.fixture
def login(app):
    """Return a function that gives a client signed in as a demo user."""
    def sign_in(username: str, lang: str | None = "en"):
        client = app.test_client()
        response = client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        if lang:
            client.post("/language", data={"lang": lang, "next": "/"})
        return client
    return sign_in

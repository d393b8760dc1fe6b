"""Browser fixtures: the real app served by waitress on a fresh SQLite database, driven by headless Chromium.

Chromium is Debian's (/usr/bin/chromium, from scripts/install-system); Playwright only drives it, no
browser is downloaded. Without Chromium or Playwright the e2e tests are skipped, except with CI=true,
where a missing browser fails the run.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from database import Database
from database.migrate import upgrade
from definitions import service as definitions
from definitions.bundle import read_path
from org import demo
from records import service as records
from records.demo import load_demo_leave_balances
from tests.conftest import LEAVE_YEARS, ROOT
from tests.e2e import browser_missing, find_chromium

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}


class LiveServer:
    """The app served by waitress in a background thread."""

    def __init__(self, app, database: Database):
        from waitress import create_server

        self.app = app
        self.database = database
        self._server = create_server(app, host="127.0.0.1", port=0, threads=8, ident="Flowdesk-e2e")
        self.url = f"http://127.0.0.1:{self._server.effective_port}"
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, name="flowdesk-e2e-server", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            self._server.run()
        except OSError:
            # Closing the sockets under the loop (stop) can leave its select() a closed descriptor.
            if not self._stopping:
                raise

    def stop(self) -> None:
        from waitress import wasyncore

        self._stopping = True
        self._server.close()
        wasyncore.close_all(self._server._map)  # kept-alive browser connections too, so run() returns
        self._thread.join(timeout=5)
        self._server.task_dispatcher.shutdown(timeout=5)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """Flowdesk on a fresh migrated SQLite database with the demo organisation and leave_request, CSRF on."""
    from webapp.app import create_app
    from webapp.config import Settings

    tmp = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{tmp / 'flowdesk.db'}"
    database = Database(url)
    upgrade(database)
    definitions.clear_runtime_cache()  # definition ids restart in this database
    with database.command() as session:
        demo.load_demo(session=session)
        records.install_core_types(session=session)  # the leave request writes attendance records
        # Annual leave is checked against a balance: enough for the many requests of one person in these tests.
        load_demo_leave_balances(session=session, years=LEAVE_YEARS, days=200)
        definitions.deploy(session=session, files=read_path(ROOT / "bpmn" / "leave_request"), actor="admin")
    settings = Settings(database_url=url, var_dir=tmp / "var", secret_key="e2e-secret", testing=False,
                        csrf_enabled=True)
    app = create_app(settings)
    server = LiveServer(app, database)
    yield server
    server.stop()
    app.extensions["flowdesk.database"].dispose()
    database.dispose()
    definitions.clear_runtime_cache()


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Headless Debian Chromium driven by Playwright."""
    reason = browser_missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; the browser tests must run in CI")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=find_chromium(), headless=True,
                                              args=CHROMIUM_ARGS, chromium_sandbox=False)
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(browser):
    """Return a function that opens a fresh browser context (own cookies and storage), closed at the end."""
    contexts = []

    def open_context():
        context = browser.new_context(viewport=VIEWPORT, locale="en-US")
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """test-artifacts/, where screenshots go (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS

"""The file store admin page: the at-rest switch, the progress endpoint, admins only, refused without a key."""
from __future__ import annotations

import base64
import io

import pytest

from attachments import sealing
from attachments import service as attachments
from documents import filestore, secrecy

KEY = base64.b64encode(bytes(range(32))).decode()
QUOTE = b"quote: 1000 units at 3.50 " * 20


def store_dir(app):
    return app.extensions["flowdesk.settings"].store_dir


@pytest.fixture
def keyed(app):
    """The app with FLOWDESK_STORE_KEY configured."""
    settings = app.extensions["flowdesk.settings"]
    settings.store_key = KEY
    settings.install_store_key()
    yield app
    sealing.install(settings.store_dir, None)


def attach(app, db, actor: str = "admin") -> int:
    with db.command() as s:
        return attachments.store(session=s, store_dir=store_dir(app), stream=io.BytesIO(QUOTE), file_name="quote.txt",
                                 actor=actor, max_bytes=100_000).id


def raw_blobs(app) -> list[bytes]:
    return [p.read_bytes() for p in store_dir(app).rglob("*") if p.is_file() and len(p.name) == 64]


def test_the_file_store_page_is_for_admins_only(app, client, login):
    assert client.get("/admin/file-store").status_code == 302
    employee = login("li.na")
    assert employee.get("/admin/file-store").status_code == 403
    assert employee.get("/admin/file-store/progress.json").status_code == 403
    assert employee.post("/admin/file-store", data={"action": "on"}).status_code == 403
    page = login("admin").get("/admin/file-store")
    assert page.status_code == 200 and 'data-testid="file-store"' in page.get_data(as_text=True)
    assert "js/filestore.js" in page.get_data(as_text=True)
    assert client.get("/static/js/filestore.js").status_code == 200


def test_turning_on_without_a_key_is_refused(app, login):
    admin = login("admin")
    page = admin.get("/admin/file-store").get_data(as_text=True)
    assert 'data-testid="no-key"' in page
    response = admin.post("/admin/file-store", data={"action": "on"}, follow_redirects=True)
    assert "FLOWDESK_STORE_KEY is not configured" in response.get_data(as_text=True)
    assert admin.get("/admin/file-store/progress.json").get_json()["encrypt"] is False


def test_turning_on_encrypts_the_store_with_progress_and_downloads_stay_plain(keyed, db, login):
    attachment_id = attach(keyed, db)
    admin = login("admin")
    admin.post("/admin/file-store", data={"action": "on"})
    info = admin.get("/admin/file-store/progress.json").get_json()
    assert (info["encrypt"], info["status"], info["target"], info["done"]) == (True, "running", "sealed", 0)
    assert "progress-bar-animated" in admin.get("/admin/file-store").get_data(as_text=True)
    filestore.run_store_encryption(db, store_dir=store_dir(keyed))
    info = admin.get("/admin/file-store/progress.json").get_json()
    assert (info["status"], info["done"], info["total"], info["failed"], info["percent"]) == ("done", 1, 1, 0, 100)
    assert info["started_at"] and info["finished_at"] and info["key_id"]
    assert all(secrecy.is_at_rest(raw) and QUOTE not in raw for raw in raw_blobs(keyed))
    download = admin.get(f"/instances/attachments/{attachment_id}")
    assert download.status_code == 200 and download.data == QUOTE
    page = admin.get("/admin/file-store").get_data(as_text=True)
    assert "width: 100%" in page and 'data-testid="turn-off"' in page
    new_id = attach(keyed, db)  # new uploads are sealed at once
    assert admin.get(f"/instances/attachments/{new_id}").data == QUOTE
    admin.post("/admin/file-store", data={"action": "off"})
    filestore.run_store_encryption(db, store_dir=store_dir(keyed))
    assert admin.get("/admin/file-store/progress.json").get_json()["status"] == "done"
    assert raw_blobs(keyed) == [QUOTE]
    assert admin.get(f"/instances/attachments/{attachment_id}").data == QUOTE


def test_a_stopped_run_shows_its_error_and_can_run_again(keyed, db, login):
    attach(keyed, db)
    admin = login("admin")
    admin.post("/admin/file-store", data={"action": "on"})
    keyed.extensions["flowdesk.settings"].store_key = ""
    keyed.extensions["flowdesk.settings"].install_store_key()  # the worker lost its key
    filestore.run_store_encryption(db, store_dir=store_dir(keyed))
    page = admin.get("/admin/file-store").get_data(as_text=True)
    assert "FLOWDESK_STORE_KEY is not configured" in page and 'data-testid="restart"' in page
    keyed.extensions["flowdesk.settings"].store_key = KEY
    keyed.extensions["flowdesk.settings"].install_store_key()
    admin.post("/admin/file-store", data={"action": "restart"})
    filestore.run_store_encryption(db, store_dir=store_dir(keyed))
    info = admin.get("/admin/file-store/progress.json").get_json()
    assert (info["status"], info["done"], info["last_error"]) == ("done", 1, None)


def test_the_store_key_is_checked_at_startup_with_the_variable_named(monkeypatch, tmp_path):
    from webapp.config import ConfigError, Settings

    monkeypatch.setenv("FLOWDESK_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "x")
    for good in (KEY, bytes(range(32)).hex()):
        monkeypatch.setenv("FLOWDESK_STORE_KEY", good)
        assert Settings.from_env().install_store_key().key_id
    sealing.install(tmp_path / "files", None)
    for bad in ("not-a-key", base64.b64encode(b"short").decode(), "ab" * 31):
        monkeypatch.setenv("FLOWDESK_STORE_KEY", bad)
        with pytest.raises(ConfigError, match="FLOWDESK_STORE_KEY must be a 32-byte key"):
            Settings.from_env()
    monkeypatch.setenv("FLOWDESK_STORE_KEY", KEY)
    monkeypatch.setenv("FLOWDESK_STORE_PREVIOUS_KEYS", "nope")
    with pytest.raises(ConfigError, match="FLOWDESK_STORE_PREVIOUS_KEYS"):
        Settings.from_env()


def test_the_worker_runs_the_job_with_the_key_installed(tmp_path):
    from database import Database
    from webapp.config import Settings

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'w.db'}", var_dir=tmp_path, secret_key="x", store_key=KEY)
    database = Database(settings.database_url)
    try:
        worker = settings.make_worker(database)
        assert any(getattr(job, "func", None) is filestore.run_store_encryption for job in worker.extra_jobs)
        assert sealing.sealer_for(settings.store_dir).key_id
    finally:
        sealing.install(settings.store_dir, None)
        database.dispose()

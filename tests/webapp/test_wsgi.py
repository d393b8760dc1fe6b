"""The app as production servers run it: the same app, its start-up heap out of the collector's way."""
from __future__ import annotations

import gc

from webapp.config import Settings
from webapp.wsgi import production_app


def test_the_production_app_serves_and_its_start_up_objects_are_frozen(db, tmp_path):
    gc.unfreeze()
    settings = Settings(database_url=db.url, var_dir=tmp_path, secret_key="test-secret", testing=True,
                        csrf_enabled=False)
    try:
        app = production_app(settings)
        frozen = gc.get_freeze_count()
        # The app's own long-lived objects are among the frozen: the collector no longer walks them.
        assert frozen > 10_000
        assert not any(obj is app.url_map for obj in gc.get_objects())
        response = app.test_client().get("/healthz")
        assert response.status_code == 200 and response.get_json()["status"] == "ok"
        gc.collect(2)  # a full collection leaves them where they are
        assert not any(obj is app.url_map for obj in gc.get_objects())
    finally:
        gc.unfreeze()  # the test process keeps collecting everything
        app.extensions["flowdesk.database"].dispose()

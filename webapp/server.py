"""Serve the web application with a production WSGI server, the worker alongside."""
from __future__ import annotations

import logging

from .config import Settings

log = logging.getLogger("flowdesk.server")


def serve(settings: Settings, *, host: str, port: int, with_worker: bool = True) -> None:
    """Serve the app on host:port until interrupted."""
    from waitress import serve as waitress_serve

    from database import Database

    from .wsgi import production_app

    app = production_app(settings)
    worker = None
    if with_worker:
        worker = settings.make_worker(Database(settings.database_url))
        worker.start_in_background()
    try:
        waitress_serve(app, host=host, port=port, threads=8, ident="Flowdesk")
    finally:
        if worker is not None:
            worker.stop()

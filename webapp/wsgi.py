"""The web application as a production WSGI server runs it: gunicorn -w 4 'webapp.wsgi:production_app()'."""
from __future__ import annotations

import gc

from flask import Flask

from .config import Settings


def settle_heap() -> int:
    """Move everything built so far out of the cyclic garbage collector's way; return how many objects moved.

    Start-up leaves some 200,000 long-lived objects (mappers, compiled models, templates, translations). Each
    full collection walked all of them, about 80 ms in which the process answered nobody, and spread over a
    completion it cost more than the rest of the collector's work together. They stay in memory either way;
    frozen, the collector looks only at what requests create.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def production_app(settings: Settings | None = None) -> Flask:
    """Create the app for a long-running server process, its start-up heap settled."""
    from .app import create_app

    app = create_app(settings)
    settle_heap()
    return app

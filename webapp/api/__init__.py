"""The REST API under /api/v1: JSON for everything the pages do."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# The modules add their routes to bp when imported.
from . import (  # noqa: E402,F401
    auth,
    calendar,
    collab,
    definitions,
    instances,
    moves,
    openapi,
    org,
    record_lists,
    record_types,
    records,
    search,
    tasks,
)

"""The REST API under /api/v1: JSON for everything the pages do."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

"""Administration of the organisation: departments, positions, roles, groups, users, imports."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

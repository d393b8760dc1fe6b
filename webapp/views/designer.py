"""Process designers: upload models, read validation reports, manage versions."""
from flask import Blueprint

bp = Blueprint("designer", __name__, url_prefix="/designer")

"""The one place where domain errors become HTTP status codes, HTML pages and the API's error shape."""
from __future__ import annotations

import logging

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException

from attachments.errors import AttachmentError
from collab.errors import CollabError
from crm.errors import CrmError
from definitions.errors import DefinitionError
from documents.library_errors import LibraryError
from engine.errors import EngineError
from forms.schema import FormError
from instances.errors import InstanceError
from org.errors import OrgError
from records.errors import RecordError
from search.errors import SearchError

log = logging.getLogger("flowdesk.web")
NUMBER_OUT_OF_RANGE = "22003"  # SQLSTATE numeric_value_out_of_range
STATUS = {"invalid": 400, "not_found": 404, "conflict": 409, "forbidden": 403, "unauthorized": 401,
          "too_many": 429, "too_large": 413, "unavailable": 503}


def refused_field(exc: InstanceError, schema: dict | None) -> str | None:
    """Return the form field a process step refused a request for (a leave balance, the calendar), or None."""
    field = (exc.details.get("details") or {}).get("field")
    return field if isinstance(field, str) and field in ((schema or {}).get("properties") or {}) else None


def wants_json() -> bool:
    """Tell whether the caller expects JSON rather than a page."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_response(status: int, code: str, message: str, details: dict | None = None):
    """Answer with the API error shape or an error page."""
    if wants_json():
        return jsonify(error={"code": code, "message": message, "details": details or {}}), status
    return render_template("errors/error.html", status=status, code=code, message=message,
                           details=details or {}), status


def register(app) -> None:
    """Install the error handlers on the app."""

    @app.errorhandler(DefinitionError)
    @app.errorhandler(InstanceError)
    @app.errorhandler(OrgError)
    @app.errorhandler(AttachmentError)
    @app.errorhandler(RecordError)
    @app.errorhandler(CollabError)
    @app.errorhandler(CrmError)
    @app.errorhandler(LibraryError)
    @app.errorhandler(SearchError)
    def domain_error(exc):
        status = STATUS.get(exc.status, 400)
        if status == 404 and not wants_json():
            # The service's words ("no task 58 for emma.chen") are for the API and the logs; a page says it
            # in the reader's language.
            return error_response(404, exc.code, _("This page does not exist, or you cannot see it."))
        return error_response(status, exc.code, exc.message, exc.details)

    @app.errorhandler(EngineError)
    def engine_error(exc):
        return error_response(422, exc.code, str(exc), exc.to_dict())

    @app.errorhandler(FormError)
    def form_error(exc):
        return error_response(422, exc.code, _("The form has errors."),
                              {name: err.message for name, err in exc.errors.items()})

    @app.errorhandler(HTTPException)
    def http_error(exc):
        messages = {
            400: _("The request could not be understood. Check what you entered and try again."),
            403: _("You do not have permission to do this. Ask your administrator if you need it."),
            404: _("This page does not exist, or you cannot see it."),
            405: _("This action is not available here."),
            413: _("The upload is too large."),
            429: _("Too many attempts. Wait a moment and try again."),
        }
        message = exc.description if exc.code == 400 and "CSRF" in (exc.description or "") else \
            messages.get(exc.code, exc.description)
        if exc.code == 400 and "CSRF" in (exc.description or ""):
            message = _("Your session expired or the form was sent twice. Reload the page and try again.")
        return error_response(exc.code or 500, exc.name.lower().replace(" ", "_"), message)

    @app.errorhandler(DataError)
    def out_of_range(exc):
        # PostgreSQL refuses to compare a number its column cannot hold (a 32-bit id column and an id
        # past 2,147,483,647 in a path): such a number names nothing. Anything else is a fault of ours.
        if getattr(exc.orig, "sqlstate", None) == NUMBER_OUT_OF_RANGE and \
                str(exc.statement or "").lstrip().upper().startswith("SELECT"):
            return error_response(404, "not_found", _("This page does not exist, or you cannot see it."))
        return unexpected(exc)

    @app.errorhandler(OperationalError)
    def database_unavailable(exc):
        # The database went away (a restart, a failover) or stayed busy: the transaction was rolled back.
        log.warning("database unavailable on %s %s: %s", request.method, request.path, exc.orig)
        return error_response(503, "unavailable", _("The database cannot be reached just now. Nothing was "
                                                    "changed; please try again in a moment."))

    @app.errorhandler(Exception)
    def unexpected(exc):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error",
                              _("Something went wrong on our side. Nothing was changed; please try again."))

"""Errors of the records domain, with the structured details the pages and the API show."""
from __future__ import annotations


class RecordError(Exception):
    """Base of every records error."""

    code = "record_error"
    status = "invalid"

    def __init__(self, message: str, *, details: dict | None = None):
        self.message = message
        self.details = dict(details or {})
        super().__init__(message)


class NotFound(RecordError):
    """No such record type, record or dictionary, or the actor may not see it."""

    code = "not_found"
    status = "not_found"


class Invalid(RecordError):
    """Input refused; details name the field and why."""

    code = "invalid_input"


class Duplicate(RecordError):
    """A record type or dictionary of that name exists already."""

    code = "duplicate"
    status = "conflict"


class StaleEdit(RecordError):
    """Someone saved the record since the editor loaded it; nothing was overwritten."""

    code = "stale_edit"
    status = "conflict"


class Forbidden(RecordError):
    """The actor may read the record but not change it."""

    code = "forbidden"
    status = "forbidden"


class Incompatible(RecordError):
    """A record type change would invalidate stored records; details say which and why."""

    code = "incompatible_change"
    status = "conflict"

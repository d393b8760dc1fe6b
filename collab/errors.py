"""Errors of messages and notifications, with structured fields for the web layer to map."""
from __future__ import annotations


class CollabError(Exception):
    """Base of collaboration errors: a code, a status class and details."""

    code = "collab_error"
    status = "invalid"

    def __init__(self, message: str, *, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidInput(CollabError):
    """A field of the request is wrong."""

    code = "invalid_input"


class NotFound(CollabError):
    """No such message, notification or webhook, or the caller may not see it."""

    code = "not_found"
    status = "not_found"


class Conflict(CollabError):
    """The thing is not in a state that allows this."""

    code = "conflict"
    status = "conflict"

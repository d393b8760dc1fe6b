"""Errors of the organisation domain."""
from __future__ import annotations


class OrgError(Exception):
    """Base of every organisation error."""

    code = "org_error"
    status = "invalid"

    def __init__(self, message: str, *, details: dict | None = None):
        self.message = message
        self.details = dict(details or {})
        super().__init__(message)


class NotFound(OrgError):
    """No such user, department, position, role or group."""

    code = "not_found"
    status = "not_found"


class Invalid(OrgError):
    """Input refused; details name the field."""

    code = "invalid_input"


class Duplicate(OrgError):
    """A code or user name is taken."""

    code = "duplicate"
    status = "conflict"


class SignInRefused(OrgError):
    """Wrong user name or password, a user who left, or too many attempts."""

    code = "sign_in_refused"
    status = "unauthorized"


class Throttled(SignInRefused):
    """Too many failed attempts: wait before trying again."""

    code = "too_many_attempts"
    status = "too_many"

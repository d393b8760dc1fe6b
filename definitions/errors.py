"""Errors of the definitions domain, with the structured fields the UI and API show."""
from __future__ import annotations


class DefinitionError(Exception):
    """Base of every definitions error."""

    code = "definition_error"
    status = "invalid"

    def __init__(self, message: str, *, details: dict | None = None):
        self.message = message
        self.details = dict(details or {})
        super().__init__(message)


class DefinitionNotFound(DefinitionError):
    """No definition matches the key or id."""

    code = "definition_not_found"
    status = "not_found"


class InvalidDefinition(DefinitionError):
    """The uploaded files are refused; details name the file, element and reason."""

    code = "invalid_definition"


class DefinitionNotStartable(DefinitionError):
    """The definition exists but cannot start new instances."""

    code = "definition_not_startable"
    status = "conflict"

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


class DefinitionConflict(DefinitionError):
    """The change clashes with what is stored: a key or code is taken, or a category is still in use."""

    code = "conflict"
    status = "conflict"

    def __init__(self, message: str, *, code: str = "conflict", details: dict | None = None):
        super().__init__(message, details=details)
        self.code = code


class CategoryNotFound(DefinitionError):
    """No process category has this code."""

    code = "category_not_found"
    status = "not_found"

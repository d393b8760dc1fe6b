"""Checks of free text in definition metadata (names, keys, descriptions) shared by templates and categories."""
from __future__ import annotations

from .errors import InvalidDefinition

MAX_DESCRIPTION = 2000


def checked_text(value, field: str, *, limit: int, required: bool = False) -> str:
    """Return stripped text of at most `limit` characters; raise InvalidDefinition naming the field."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidDefinition(f"{field} must be text", details={"field": field, "problem": "invalid"})
    value = value.strip()
    if "\x00" in value:
        raise InvalidDefinition(f"{field} is not valid text", details={"field": field, "problem": "invalid"})
    if required and not value:
        raise InvalidDefinition(f"{field} is required", details={"field": field, "problem": "required"})
    if len(value) > limit:
        raise InvalidDefinition(f"{field} must be at most {limit} characters",
                                details={"field": field, "problem": "too_long", "limit": limit})
    return value

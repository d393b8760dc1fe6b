"""Checks of free text shared by messages and calendar events."""
from __future__ import annotations

from .errors import InvalidInput


def checked_text(value, field: str, limit: int, required: bool) -> str:
    """Return stripped text of at most `limit` characters, "" when optional and empty; else InvalidInput."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(f"{field} is required", details={"field": field})
        return ""
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise InvalidInput(f"{field} must be text of at most {limit} characters", details={"field": field})
    return value.strip()

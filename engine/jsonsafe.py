"""Turn process data into plain JSON values for summaries, work items and history."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

MAX_DEPTH = 50


def to_json_safe(value: Any, _depth: int = 0) -> Any:
    """Return a copy of value holding only JSON types (dates as ISO text, decimals as text)."""
    if _depth > MAX_DEPTH:
        return None
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_json_safe(v, _depth + 1) for k, v in value.items() if not callable(v)}
    if isinstance(value, list | tuple):
        return [to_json_safe(v, _depth + 1) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((to_json_safe(v, _depth + 1) for v in value), key=repr)
    return None

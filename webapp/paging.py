"""The page number a list page's query string asks for, read the same way on every page."""
from __future__ import annotations

from flask import request

from database.base import MAX_PAGE, page_number


def page_arg(name: str = "page") -> int:
    """Return the requested page: 1 when missing or not a whole number, at most MAX_PAGE."""
    raw = (request.args.get(name) or "").strip()
    if not raw.isdecimal():  # not int(): it takes '+3' and '1_000', and it is slow on a number of any length
        return 1
    return MAX_PAGE if len(raw) > 9 else page_number(int(raw))

"""Errors of the search domain, with the structured details the pages and the API show."""
from __future__ import annotations


class SearchError(Exception):
    """Base of every search error."""

    code = "search_error"
    status = "invalid"

    def __init__(self, message: str, *, details: dict | None = None):
        self.message = message
        self.details = dict(details or {})
        super().__init__(message)


class InvalidQuery(SearchError):
    """The query text cannot be searched: empty, too long, or too many words; details say which."""

    code = "invalid_query"


class InvalidInput(SearchError):
    """A paging value, filter or index entry field is out of range; details name the field."""

    code = "invalid_input"

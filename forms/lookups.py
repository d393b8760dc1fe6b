"""What a form needs to know from outside: dictionaries, users, departments and records.

The forms package never touches the database. Whoever checks or draws a form passes a Lookups;
the web app's one (webapp/form_lookups.py) answers from the organisation and the records. Every
answer may be None, meaning "unknown": the value is then not checked against it, which is what
pure tests and offline checks want. A real implementation answers True/False and lists.
"""
from __future__ import annotations

from typing import Protocol


class Lookups(Protocol):
    """Answers about the world outside the form; None means unknown (not checked)."""

    def dictionary_options(self, name: str) -> list[tuple[str, str]] | None:
        """Return the (value, label) choices of an admin dictionary."""

    def user_exists(self, username: str) -> bool | None:
        """Tell whether an active user has this user name."""

    def department_exists(self, code: str) -> bool | None:
        """Tell whether a department has this code."""

    def record_readable(self, type_key: str, record_id: int) -> bool | None:
        """Tell whether a record of this type exists and the current user may read it."""

    def user_options(self) -> list[tuple[str, str]] | None:
        """Return (user name, label) of the active users a user picker offers."""

    def record_options(self, type_key: str) -> list[tuple[int, str]] | None:
        """Return (id, title) of the records of a type a reference picker offers; None when too many to list."""

    def department_options(self) -> list[tuple[str, str]] | None:
        """Return (code, label) of the departments a department picker offers."""


class UnknownLookups:
    """The default: knows nothing, so dictionary, user, department and record values go unchecked."""

    def dictionary_options(self, name: str) -> list[tuple[str, str]] | None:
        """Return None: no dictionary is known."""
        return None

    def user_exists(self, username: str) -> bool | None:
        """Return None: users are unknown."""
        return None

    def department_exists(self, code: str) -> bool | None:
        """Return None: departments are unknown."""
        return None

    def record_readable(self, type_key: str, record_id: int) -> bool | None:
        """Return None: records are unknown."""
        return None

    def user_options(self) -> list[tuple[str, str]] | None:
        """Return None: there is no list of users to offer."""
        return None

    def record_options(self, type_key: str) -> list[tuple[int, str]] | None:
        """Return None: there is no list of records to offer."""
        return None

    def department_options(self) -> list[tuple[str, str]] | None:
        """Return None: there is no list of departments to offer."""
        return None


UNKNOWN = UnknownLookups()

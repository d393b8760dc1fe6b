"""Who reports to whom: the organisation as assignment strategies see it.

`instances` must not import `org` (org imports instances), so the org package registers its
implementation at start-up with `set_directory` (see org.directory.install). Until one is
registered, a directory that knows nobody is used and every strategy finds nobody.
"""
from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from .errors import InvalidInput

MEMBER_KINDS = ("role", "department", "position", "group")


@runtime_checkable
class Directory(Protocol):
    """Answer organisation questions by user name; unknown users give None or []."""

    def superior(self, username: str) -> str | None:
        """Return the user's direct superior."""

    def department_leader(self, username: str) -> str | None:
        """Return the leader of the user's department; for that leader, the parent department's leader."""

    def superiors(self, username: str, levels: int) -> list[str]:
        """Return up to `levels` superiors, nearest first."""

    def leader_of(self, code: str) -> str | None:
        """Return the leader of the department with this code; for one without, the nearest above it."""

    def members(self, kind: str, code: str) -> list[str]:
        """Return the active members of a role, department, position or group."""

    def active_users(self, usernames: list[str]) -> set[str]:
        """Return the names among these that belong to active staff users (not portal accounts)."""

    def unable(self, usernames: list[str]) -> set[str]:
        """Return the names among these of known users who cannot be handed internal work: people who left and
        portal accounts. Names the directory does not know are not among them."""

    def working_due(self, person: str | None, start: datetime, duration: str) -> datetime | None:
        """Return start plus an ISO duration in working time of the person's business calendar.

        The calendar is the person's department's (its own or inherited), else the organisation's. None means
        the directory keeps no calendars, and the caller counts calendar time; a bad duration raises ValueError.
        """


class EmptyDirectory:
    """The default directory: it knows nobody."""

    def superior(self, username: str) -> str | None:
        return None

    def department_leader(self, username: str) -> str | None:
        return None

    def superiors(self, username: str, levels: int) -> list[str]:
        return []

    def leader_of(self, code: str) -> str | None:
        return None

    def members(self, kind: str, code: str) -> list[str]:
        return []

    def active_users(self, usernames: list[str]) -> set[str]:
        return set()

    def unable(self, usernames: list[str]) -> set[str]:
        return set()

    def working_due(self, person: str | None, start: datetime, duration: str) -> datetime | None:
        return None


_current: Directory = EmptyDirectory()


def set_directory(directory: Directory | None) -> None:
    """Register the directory assignment strategies use; None restores the empty one."""
    global _current
    _current = directory if directory is not None else EmptyDirectory()


def get_directory() -> Directory:
    """Return the registered directory."""
    return _current


def refuse_unable(usernames: list[str], field: str) -> None:
    """Refuse to hand work to someone who left or to a portal account, naming the field that named them."""
    unable = sorted(get_directory().unable(usernames)) if usernames else []
    if unable:
        raise InvalidInput(f"{', '.join(unable)} cannot take internal work (left, or a portal account)",
                           details={"field": field, "usernames": unable})

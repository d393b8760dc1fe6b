"""Who acts: a user name plus the groups (roles, departments, positions, teams) they belong to."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    """The person (or system) a command runs for."""

    username: str
    groups: frozenset[str] = field(default_factory=frozenset)
    is_admin: bool = False

    def may_work_on(self, *, assignee: str | None, candidate_users, candidate_groups) -> bool:
        """Tell whether this actor may act on a work item with these assignment fields."""
        if self.is_admin:
            return True
        if assignee:
            return assignee == self.username
        return self.username in (candidate_users or []) or bool(self.groups & set(candidate_groups or []))


SYSTEM = Actor("system", is_admin=True)

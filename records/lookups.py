"""The forms' lookups as the records domain answers them: dictionaries, people, departments and records."""
from __future__ import annotations

from sqlalchemy.orm import Session

from instances.actors import Actor
from org.permissions import org_index

from .dictionaries import dictionary_options


class RecordLookups:
    """Check dictionary, user, department and reference values of record data as `actor` may see them."""

    def __init__(self, session: Session, actor: Actor):
        self.session, self.actor = session, actor

    def dictionary_options(self, name: str) -> list[tuple[str, str]]:
        """Return a dictionary's active choices; an unknown dictionary offers none."""
        return dictionary_options(self.session, name) or []

    def user_exists(self, username: str) -> bool:
        """Tell whether an active user has this name."""
        user = org_index(self.session).users.get(username)
        return user is not None and user.status == "active"

    def department_exists(self, code: str) -> bool:
        """Tell whether a department has this code."""
        return code in org_index(self.session).departments

    def record_readable(self, type_key: str, record_id: int) -> bool:
        """Tell whether a live record of the type exists and the actor may read it."""
        from .records import record_readable
        return record_readable(session=self.session, actor=self.actor, type_key=type_key, record_id=record_id)

    def user_options(self) -> None:
        """Offer no list: records are checked here, not drawn."""
        return None

    def record_options(self, type_key: str) -> None:
        """Offer no list: records are checked here, not drawn."""
        return None

    def department_options(self) -> None:
        """Offer no list: records are checked here, not drawn."""
        return None

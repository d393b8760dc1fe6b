"""The signed-in user as the web app holds it: plain values, loaded once per request."""
from __future__ import annotations

from dataclasses import dataclass

from flask_login import UserMixin
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from instances.actors import Actor
from org import service as org
from org.models import User


@dataclass
class SessionUser(UserMixin):
    """What pages need to know about the signed-in user."""

    id: int
    username: str
    display_name: str
    language: str | None
    department: str
    roles: frozenset[str]
    actor: Actor
    superior: str | None
    kind: str = "staff"
    portal_record_id: int | None = None
    portal_modules: tuple[str, ...] = ()

    def get_id(self) -> str:
        """Return the id Flask-Login keeps in the session."""
        return str(self.id)

    @property
    def is_portal(self) -> bool:
        """Tell whether this is a customer's or partner's portal account (records of their company only)."""
        return self.kind != "staff"

    @property
    def files_complaints(self) -> bool:
        """Tell whether this is a customer's portal account whose admin enabled complaints (register and follow)."""
        return self.kind == "customer" and self.portal_record_id is not None and "complaint" in self.portal_modules

    @property
    def is_admin(self) -> bool:
        """Tell whether the user administers Flowdesk."""
        return "admin" in self.roles

    @property
    def is_designer(self) -> bool:
        """Tell whether the user may upload and publish process models."""
        return bool({"designer", "admin"} & self.roles)

    @property
    def is_manager(self) -> bool:
        """Tell whether the user may watch instances beyond their own."""
        return bool({"manager", "admin"} & self.roles)


def load(session, user_id: int) -> SessionUser | None:
    """Load an active user's session view by id."""
    user = session.scalar(select(User).where(User.id == user_id).options(
        selectinload(User.roles), selectinload(User.groups), selectinload(User.department),
        selectinload(User.position), selectinload(User.superior)))
    if user is None or not user.active:
        return None
    return from_model(user)


def from_model(user: User) -> SessionUser:
    """Build the session view of a loaded user."""
    return SessionUser(id=user.id, username=user.username, display_name=user.display_name,
                       language=user.language,
                       department=user.department.name if user.department else "",
                       roles=frozenset(r.code for r in user.roles), actor=org.actor_for(user),
                       superior=user.superior.username if user.superior else None, kind=user.kind or "staff",
                       portal_record_id=user.portal_record_id, portal_modules=tuple(user.portal_modules or ()))

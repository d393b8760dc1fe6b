"""Turn what a sender addressed (users, departments, groups) into the active people it means now."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from org.models import Department, Position, Role, User, WorkGroup, group_member, user_role

from .errors import InvalidInput, NotFound

UNIT_KINDS = ("department", "group", "role", "position")
PREFIXES = {"dept": "department", "department": "department", "group": "group", "role": "role",
            "position": "position"}


def members(session: Session, kind: str, code: str) -> list[str]:
    """Return the active user names of a department, work group, role or position."""
    query = select(User.username).where(User.status == "active")
    if kind == "department":
        query = query.join(Department, Department.id == User.department_id).where(Department.code == code)
    elif kind == "group":
        query = query.join(group_member, group_member.c.user_id == User.id)\
            .join(WorkGroup, WorkGroup.id == group_member.c.group_id).where(WorkGroup.code == code)
    elif kind == "role":
        query = query.join(user_role, user_role.c.user_id == User.id)\
            .join(Role, Role.id == user_role.c.role_id).where(Role.code == code)
    elif kind == "position":
        query = query.join(Position, Position.id == User.position_id).where(Position.code == code)
    else:
        return []
    return list(session.scalars(query.order_by(User.username)))


def expand_address(session: Session, address: str) -> list[str]:
    """Expand a notice address: a user name, or "group:<code>" / "group:<kind>:<code>" for a unit."""
    if not address.startswith("group:"):
        return [address]
    rest = address[len("group:"):]
    kind, _sep, code = rest.partition(":")
    if code and kind in PREFIXES:
        return members(session, PREFIXES[kind], code)
    # A bare candidate group may name a role, department, work group or position (as Actor.groups does).
    found: set[str] = set()
    for unit in UNIT_KINDS:
        found.update(members(session, unit, rest))
    return sorted(found)


def active_users(session: Session, names) -> dict[str, User]:
    """Return the active users among the names, by user name."""
    names = list(dict.fromkeys(n for n in names if n))
    if not names:
        return {}
    rows = session.scalars(select(User).where(User.username.in_(names), User.status == "active"))
    return {user.username: user for user in rows}


def resolve(session: Session, *, users=(), departments=(), groups=()) -> list[str]:
    """Return the people a message reaches; an unknown name or code is refused, naming the field."""
    found = active_users(session, users)
    missing = [name for name in users if name not in found]
    if missing:
        raise NotFound(f"no active user {missing[0]}", details={"field": "to_users", "value": missing[0]})
    people = set(found)
    for field, kind, model, codes in (("to_departments", "department", Department, departments),
                                      ("to_groups", "group", WorkGroup, groups)):
        for code in codes:
            if session.scalar(select(model.id).where(model.code == code)) is None:
                raise NotFound(f"no {kind} {code}", details={"field": field, "value": code})
            people.update(members(session, kind, code))
    if not people:
        raise InvalidInput("the message reaches nobody: name at least one person, department or group",
                           details={"field": "to_users"})
    return sorted(people)

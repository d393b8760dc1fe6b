"""Whose calendar a person may read in full: the permission model's "calendar" view grants and rules.

A person always reads their own calendar. Role grants and access rules on the resource "calendar"
decide the rest, with a person's calendar as the object (owner = that person, department = theirs):
by default a project group reads each other's, a manager the department tree's, an admin everyone's.
Everyone else sees only when a person is busy, which is what planning a meeting needs.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from instances.actors import Actor
from org.permissions import Access, RecordFacts, access_for, org_index

RESOURCE = "calendar"


def calendar_access(session: Session, actor: Actor) -> Access:
    """Return the actor's resolved permission to read calendars, cached for the session."""
    key = ("flowdesk.access", RESOURCE, actor.username, actor.is_admin)
    cached = session.info.get(key)
    if cached is None:
        cached = access_for(session=session, actor=actor, resource=RESOURCE, action="view")
        session.info[key] = cached
    return cached


def may_read(session: Session, actor: Actor, person: str) -> bool:
    """Tell whether the actor may read a person's events in full (titles, places, notes)."""
    if person == actor.username or actor.is_admin:
        return True
    user = org_index(session).users.get(person)
    if user is None:
        return False
    facts = RecordFacts(id=user.id, owner=person, department_id=user.department_id, created_by=person)
    return calendar_access(session, actor).allows(facts)


def readable(session: Session, actor: Actor, people) -> set[str]:
    """Return the people among the names whose calendars the actor may read in full."""
    return {p for p in people if may_read(session, actor, p)}


def staff_names(session: Session) -> list[str]:
    """Return every active staff member's user name (portal users have no calendar)."""
    return sorted(u.username for u in org_index(session).users.values()
                  if u.status == "active" and u.kind == "staff")

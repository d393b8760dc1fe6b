"""The permission model applied to process instances: who may watch instances they take no part in.

Taking part (a task, a candidacy, a copy, starting it) always shows an instance; grants on the
`instances` resource add instances by their initiator: their own, their department's or department
tree's, their subordinates' or everyone's. Deny rules take watched instances away again.
"""
from __future__ import annotations

from sqlalchemy import and_, false, not_, or_, select, true
from sqlalchemy.orm import Session

from instances.actors import Actor
from instances.models import ProcessInstance

from .models import User
from .permissions import Predicate, access_for

RESOURCE = "instances"


def _sql(predicate: Predicate):
    if predicate.all:
        return true()
    parts = []
    people = predicate.owners | predicate.authors
    if people:
        parts.append(ProcessInstance.initiator.in_(sorted(people)))
    if predicate.departments:
        parts.append(ProcessInstance.initiator.in_(
            select(User.username).where(User.department_id.in_(sorted(predicate.departments)))))
    return or_(*parts) if parts else false()


def watch_clause(session: Session, actor: Actor):
    """Return the SQL condition on process_instance rows the actor may watch beyond their own part in them."""
    resolved = access_for(session=session, actor=actor, resource=RESOURCE, action="view")
    if resolved.admin:
        return true()
    allowed = _sql(resolved.grant)
    return and_(allowed, not_(_sql(resolved.deny))) if not resolved.deny.empty else allowed

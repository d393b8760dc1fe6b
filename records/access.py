"""Who may read, create, change, delete and export records: the organisation's permission model as SQL on `record`.

`org.permissions` resolves grants and rules into a predicate of atoms; this module maps the atoms to
columns of `record` (owner, department, author), to process participation (a work item on an instance
that touched the record) and to a portal company (the company record itself and everything referring
to it). Single-record checks run the same condition with the record's id, so a list and a page can
never disagree.
"""
from __future__ import annotations

from sqlalchemy import and_, exists, false, not_, or_, select, true
from sqlalchemy.orm import Session, aliased

from instances.actors import Actor
from instances.models import WorkItem
from org.permissions import Access, Predicate, RecordFacts, access_for

from .models import Record, RecordLink, RecordProcess


def resource_of(type_key: str) -> str:
    """Name the permission resource of a record type."""
    return f"records:{type_key}"


def access(session: Session, actor: Actor, type_key: str, action: str) -> Access:
    """Resolve an actor's access to an action on a record type, cached for the session."""
    key = ("flowdesk.access", actor, type_key, action)
    cached = session.info.get(key)
    if cached is None:
        cached = access_for(session=session, actor=actor, resource=resource_of(type_key), action=action)
        session.info[key] = cached
    return cached


def _participated(session: Session, username: str) -> list[int]:
    """Return the ids of records touched by processes in which the person has or had a task (once per session)."""
    key = ("flowdesk.participated", username)
    if key not in session.info:
        session.info[key] = sorted(session.scalars(
            select(RecordProcess.record_id).distinct()
            .join(WorkItem, WorkItem.instance_id == RecordProcess.instance_id)
            .where(or_(WorkItem.assignee == username, WorkItem.completed_by == username))))
    return session.info[key]


def _sql(session: Session, predicate: Predicate):
    if predicate.all:
        return true()
    parts = []
    if predicate.owners:
        parts.append(Record.owner.in_(sorted(predicate.owners)))
    if predicate.departments:
        parts.append(Record.department_id.in_(sorted(predicate.departments)))
    if predicate.authors:
        parts.append(Record.created_by.in_(sorted(predicate.authors)))
    if predicate.participant:
        # Looked up first, so the condition stays a list of ids: with OR-ed owner and department lists the
        # database combines three index scans instead of walking the whole type.
        touched = _participated(session, predicate.participant)
        if touched:
            parts.append(Record.id.in_(touched))
    if predicate.company is not None:
        link = aliased(RecordLink)  # keeps the subquery whole when the outer query joins record_link too
        parts.append(or_(Record.id == predicate.company,
                         exists().where(link.source_id == Record.id, link.target_id == predicate.company)))
    return or_(*parts) if parts else false()


def clause(session: Session, actor: Actor, type_key: str, action: str = "view"):
    """Return the SQL condition on `record` rows of a type the actor may act on."""
    resolved = access(session, actor, type_key, action)
    if resolved.admin:
        return true()
    allowed = _sql(session, resolved.grant)
    return and_(allowed, not_(_sql(session, resolved.deny))) if not resolved.deny.empty else allowed


def may(session: Session, actor: Actor, record: Record, type_key: str, action: str) -> bool:
    """Tell whether the actor may do an action on one record, by the same SQL as the lists."""
    if access(session, actor, type_key, action).admin:
        return True
    return bool(session.scalar(select(exists().where(Record.id == record.id,
                                                     clause(session, actor, type_key, action)))))


def may_create(session: Session, actor: Actor, type_key: str) -> bool:
    """Tell whether any grant lets the actor create records of a type."""
    return not access(session, actor, type_key, "create").grant.empty


def facts(session: Session, record: Record) -> RecordFacts:
    """Gather what the permission model looks at on one record, to explain a decision about it."""
    participants = session.execute(select(WorkItem.assignee, WorkItem.completed_by)
                                   .join(RecordProcess, RecordProcess.instance_id == WorkItem.instance_id)
                                   .where(RecordProcess.record_id == record.id))
    refers_to = session.scalars(select(RecordLink.target_id).where(RecordLink.source_id == record.id))
    return RecordFacts(int(record.id), record.owner, record.department_id, record.created_by,
                       frozenset(name for pair in participants for name in pair if name), frozenset(refers_to))

"""Who may see an instance: the people who take part in it, those copied, those granted to watch it, admins."""
from __future__ import annotations

from sqlalchemy import exists, or_, select, true
from sqlalchemy.orm import Session

from .actors import Actor
from .models import InstanceCopy, ProcessInstance, WorkItem, WorkItemCandidate


def may_view(*, session: Session, actor: Actor, instance: ProcessInstance, watch=None) -> bool:
    """Tell whether the actor may see an instance; `watch` is an SQL condition of instances they may watch."""
    if actor.is_admin or instance.initiator == actor.username:
        return True
    if watch is not None and session.scalar(select(exists().where(ProcessInstance.id == instance.id, watch))):
        return True
    took_part = exists().where(WorkItem.instance_id == instance.id,
                               or_(WorkItem.assignee == actor.username, WorkItem.completed_by == actor.username))
    candidate = (exists().where(WorkItemCandidate.work_item_id == WorkItem.id, WorkItem.instance_id == instance.id,
                                WorkItem.status == "open",
                                or_(WorkItemCandidate.value == actor.username,
                                    WorkItemCandidate.value.in_(sorted(actor.groups) or [""]))))
    copied = exists().where(InstanceCopy.instance_id == instance.id, InstanceCopy.username == actor.username)
    return bool(session.scalar(select(or_(took_part, candidate, copied))))


def visible_clause(actor: Actor):
    """Return a condition on ProcessInstance matching the instances may_view shows the actor (no watcher right)."""
    if actor.is_admin:
        return true()
    took_part = exists().where(WorkItem.instance_id == ProcessInstance.id,
                               or_(WorkItem.assignee == actor.username, WorkItem.completed_by == actor.username))
    candidate = exists().where(WorkItemCandidate.work_item_id == WorkItem.id,
                               WorkItem.instance_id == ProcessInstance.id, WorkItem.status == "open",
                               or_(WorkItemCandidate.value == actor.username,
                                   WorkItemCandidate.value.in_(sorted(actor.groups) or [""])))
    copied = exists().where(InstanceCopy.instance_id == ProcessInstance.id, InstanceCopy.username == actor.username)
    return or_(ProcessInstance.initiator == actor.username, took_part, candidate, copied)


def visible_ids(*, session: Session, actor: Actor, ids, watch=None) -> set[int]:
    """Return which of the instance ids the actor may see, in one query (links to the rest would be refused)."""
    wanted = sorted({i for i in ids if isinstance(i, int)})[:1000]
    if not wanted:
        return set()
    seen = visible_clause(actor) if watch is None else or_(visible_clause(actor), watch)
    return set(session.scalars(select(ProcessInstance.id).where(ProcessInstance.id.in_(wanted), seen)))

"""Approval verbs on one work item or instance: transfer, delegate and hand back, carbon copy, urge."""
from __future__ import annotations

from datetime import datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from database.base import utcnow
from definitions import service as definitions
from engine import policies

from . import mentions, notices, visibility
from .actors import Actor
from .directory import refuse_unable
from .errors import Conflict, InstanceNotFound, InvalidInput, NotAllowed, WorkItemNotFound
from .models import InstanceCopy, ProcessInstance, WorkItem, WorkItemCandidate
from .service import _history, lock_instance
from .work_items import _lock_work_item

MAX_USER_CHARS = 150
MAX_COMMENT_CHARS = 2000
MAX_COPY_RECIPIENTS = 50
URGE_INTERVAL = timedelta(hours=1)


def _user_name(value, field: str) -> str:
    name = value.strip() if isinstance(value, str) else ""
    if not name or len(name) > MAX_USER_CHARS:
        raise InvalidInput(f"{field} must be a user name of 1 to {MAX_USER_CHARS} characters",
                           details={"field": field})
    return name


def _comment(value, field: str = "comment") -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", details={"field": field})
    if len(value.strip()) > MAX_COMMENT_CHARS:
        raise InvalidInput(f"{field} must be at most {MAX_COMMENT_CHARS} characters", details={"field": field})
    return value.strip() or None


def _open_item_for(session: Session, work_item_id: int, actor: Actor) -> tuple[WorkItem, ProcessInstance]:
    """Lock an item the actor works on; someone who may not see it gets not-found, a closed item a conflict."""
    item, instance, _open = _lock_work_item(session, work_item_id)
    if not actor.may_work_on(assignee=item.assignee, candidate_users=item.candidate_users,
                             candidate_groups=item.candidate_groups):
        if item.status == "open" and item.assignee:
            raise NotAllowed(f"task {work_item_id} is not assigned to {actor.username}",
                             details={"id": work_item_id})
        raise WorkItemNotFound(f"no task {work_item_id} for {actor.username}", details={"id": work_item_id})
    if item.status != "open":
        raise Conflict(f"task {work_item_id} is already {item.status}",
                       details={"id": work_item_id, "status": item.status})
    _require_running(instance)
    return item, instance


def _require_running(instance: ProcessInstance) -> None:
    # A suspended, withdrawn or terminated process keeps its open rows but takes no work on them; during an
    # incident (a failed timer or message step) people's tasks stay workable, as for completing them.
    if instance.status not in ("running", "incident"):
        raise Conflict(f"the process is {instance.status}: its tasks cannot be handed on or urged now",
                       details={"id": int(instance.id), "status": instance.status})


def _make_personal(session: Session, item: WorkItem, assignee: str) -> None:
    """Give an item to one person: its group offer ends, so it leaves the group inbox for good."""
    item.assignee = assignee
    item.candidate_users, item.candidate_groups = [], []
    session.execute(delete(WorkItemCandidate).where(WorkItemCandidate.work_item_id == item.id))


def _refuse_while_delegated(item: WorkItem) -> None:
    if item.owner:
        raise Conflict(f"task {item.id} was delegated by {item.owner} to {item.assignee}; it must be handed "
                       "back first", details={"id": item.id, "owner": item.owner, "assignee": item.assignee})


def _notify(session: Session, instance: ProcessInstance, to: str, subject: str, kind: str, **extra) -> None:
    """Queue a notification in this transaction, to be sent after commit by the messaging worker."""
    notices.notify(session, to=to, kind=kind, subject=subject, instance_id=int(instance.id), **extra)


def transfer_task(*, session: Session, work_item_id: int, actor: Actor, to_user: str,
                  comment: str | None = None) -> WorkItem:
    """Hand an open work item over to another person, who then decides it (转办)."""
    to_user = _user_name(to_user, "to_user")
    comment = _comment(comment)
    item, instance = _open_item_for(session, work_item_id, actor)
    if item.owner and not actor.is_admin:
        _refuse_while_delegated(item)
    if to_user in (actor.username, item.assignee):
        raise InvalidInput(f"task {work_item_id} is already with {to_user}", details={"field": "to_user"})
    refuse_unable([to_user], "to_user")
    previous = item.assignee
    item.owner = None
    _make_personal(session, item, to_user)
    now = utcnow()
    _history(session, instance, "task_transferred", actor=actor.username, element_id=item.element_id,
             work_item=item, details={"from": previous or actor.username, "to": to_user, "comment": comment},
             at=now)
    _notify(session, instance, to_user, item.name, "transferred", work_item_id=int(item.id),
            comment=comment)
    mentions.notify_mentions(session, instance=instance, writer=actor.username, text=comment, item=item,
                             exclude=[to_user])
    session.flush()
    return item


def delegate_task(*, session: Session, work_item_id: int, actor: Actor, to_user: str,
                  comment: str | None = None) -> WorkItem:
    """Ask another person for their opinion on a work item; it comes back to the owner to decide (委派)."""
    to_user = _user_name(to_user, "to_user")
    comment = _comment(comment)
    item, instance = _open_item_for(session, work_item_id, actor)
    _refuse_while_delegated(item)
    owner = item.assignee or actor.username
    if to_user in (actor.username, owner):
        raise InvalidInput(f"task {work_item_id} cannot be delegated to {to_user}", details={"field": "to_user"})
    refuse_unable([to_user], "to_user")
    item.owner = owner
    _make_personal(session, item, to_user)
    _history(session, instance, "task_delegated", actor=actor.username, element_id=item.element_id,
             work_item=item, details={"owner": owner, "to": to_user, "comment": comment})
    _notify(session, instance, to_user, item.name, "delegated", work_item_id=int(item.id),
            comment=comment)
    mentions.notify_mentions(session, instance=instance, writer=actor.username, text=comment, item=item,
                             exclude=[to_user])
    session.flush()
    return item


def resolve_delegation(*, session: Session, work_item_id: int, actor: Actor,
                       comment: str | None = None) -> WorkItem:
    """Hand a delegated work item back to its owner with the delegate's opinion."""
    comment = _comment(comment)
    item, instance = _open_item_for(session, work_item_id, actor)
    if not item.owner:
        raise Conflict(f"task {work_item_id} is not delegated", details={"id": work_item_id})
    delegate, owner = item.assignee, item.owner
    item.assignee, item.owner = owner, None
    _history(session, instance, "delegation_resolved", actor=actor.username, element_id=item.element_id,
             work_item=item, details={"from": delegate, "to": owner, "comment": comment})
    _notify(session, instance, owner, item.name, "delegated", work_item_id=int(item.id),
            comment=comment)
    mentions.notify_mentions(session, instance=instance, writer=actor.username, text=comment, item=item,
                             exclude=[owner])
    session.flush()
    return item


def copy_instance(*, session: Session, instance_id: int, actor: Actor, to_users: list[str],
                  note: str | None = None, watch=None) -> list[InstanceCopy]:
    """Send a carbon copy of an instance to people; an unread copy to the same person is not repeated (抄送)."""
    if not isinstance(to_users, list) or not to_users:
        raise InvalidInput("to_users must be a non-empty list of user names", details={"field": "to_users"})
    if len(to_users) > MAX_COPY_RECIPIENTS:
        raise InvalidInput(f"to_users may name at most {MAX_COPY_RECIPIENTS} people", details={"field": "to_users"})
    names = list(dict.fromkeys(_user_name(name, "to_users") for name in to_users))
    note = _comment(note, "note")
    instance = lock_instance(session=session, instance_id=instance_id)
    if not visibility.may_view(session=session, actor=actor, instance=instance, watch=watch):
        raise InstanceNotFound(f"no process instance {instance_id}", details={"id": instance_id})
    unread = set(session.scalars(select(InstanceCopy.username).where(
        InstanceCopy.instance_id == instance.id, InstanceCopy.username.in_(names), InstanceCopy.read_at.is_(None))))
    now = utcnow()
    copies = [InstanceCopy(instance_id=instance.id, username=name, sent_by=actor.username, note=note, created_at=now)
              for name in names if name not in unread]
    session.add_all(copies)
    for copy in copies:
        _notify(session, instance, copy.username, instance.title, "copied", note=note)
    mentions.notify_mentions(session, instance=instance, writer=actor.username, text=note,
                             exclude=names)
    _history(session, instance, "copied", actor=actor.username, at=now,
             details={"to": [c.username for c in copies], "skipped": sorted(unread), "note": note})
    session.flush()
    return copies


def list_copies(*, session: Session, instance_id: int) -> list[InstanceCopy]:
    """Return an instance's carbon copies, oldest first, with who read them and when."""
    return list(session.scalars(select(InstanceCopy).where(InstanceCopy.instance_id == instance_id)
                                .order_by(InstanceCopy.created_at, InstanceCopy.id)))


def may_urge(*, actor: Actor, instance: ProcessInstance) -> bool:
    """Tell whether the actor may urge the open items of an instance: its initiator or an admin."""
    return actor.is_admin or instance.initiator == actor.username


def urge_interval(elements: dict, element_id: str) -> timedelta:
    """Return how long after an urge a step may be urged again: its flowdesk.urgeInterval, else an hour."""
    value = str(((elements.get(element_id) or {}).get("properties") or {}).get(policies.URGE_INTERVAL) or "").strip()
    if not value:
        return URGE_INTERVAL
    parsed = TimerEventDefinition.parse_iso_duration(value.upper())
    return TimerEventDefinition.get_timedelta_from_start(parsed, utcnow())


def urge_task(*, session: Session, work_item_id: int, actor: Actor, comment: str | None = None,
              now: datetime | None = None, interval: timedelta | None = None) -> WorkItem:
    """Remind whoever holds an open work item to act on it, at most once per interval (催办).

    The interval is the step's flowdesk.urgeInterval (an ISO duration), an hour when it has none.
    """
    comment = _comment(comment)
    item, instance, _open = _lock_work_item(session, work_item_id)
    if interval is None:
        interval = urge_interval(definitions.elements_for(session=session, definition_id=instance.definition_id),
                                 item.element_id)
    if not may_urge(actor=actor, instance=instance):
        if visibility.may_view(session=session, actor=actor, instance=instance):
            raise NotAllowed(f"only the initiator of instance {instance.id} may urge its tasks",
                             details={"id": work_item_id})
        raise WorkItemNotFound(f"no task {work_item_id} for {actor.username}", details={"id": work_item_id})
    if item.status != "open":
        raise Conflict(f"task {work_item_id} is already {item.status}",
                       details={"id": work_item_id, "status": item.status})
    _require_running(instance)
    now = now or utcnow()
    if item.last_urged_at is not None and item.last_urged_at + interval > now:
        next_at = item.last_urged_at + interval
        raise Conflict(f"task {work_item_id} was urged at {item.last_urged_at.isoformat()}; urge again after "
                       f"{next_at.isoformat()}", details={"id": work_item_id, "next_urge_at": next_at.isoformat()})
    item.last_urged_at = now
    recipients = [item.assignee] if item.assignee else list(item.candidate_users or [])
    for name in recipients:
        _notify(session, instance, name, item.name, "urged", work_item_id=int(item.id),
                comment=comment)
    for group in [] if item.assignee else list(item.candidate_groups or []):
        _notify(session, instance, f"group:{group}", item.name,
                "urged", work_item_id=int(item.id), comment=comment)
    mentions.notify_mentions(session, instance=instance, writer=actor.username, text=comment, item=item,
                             exclude=recipients)
    _history(session, instance, "task_urged", actor=actor.username, element_id=item.element_id, work_item=item,
             details={"to": recipients or list(item.candidate_groups or []), "comment": comment}, at=now)
    session.flush()
    return item

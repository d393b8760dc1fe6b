"""Queue notices about work items in the command's transaction; the collab worker fans them out after commit."""
from __future__ import annotations

from sqlalchemy.orm import Session

from engine.jsonsafe import to_json_safe

from . import batch
from .models import OutboxMessage, ProcessInstance, WorkItem


def _payload(*, to: str, kind: str, subject: str, instance_id: int | None, **extra) -> dict:
    return to_json_safe({"to": to, "kind": kind, "subject": subject, "instance_id": instance_id, **extra})


def notify(session: Session, *, to: str, kind: str, subject: str, instance_id: int | None = None,
           **extra) -> OutboxMessage:
    """Queue one notice for a user name, or "group:<code>" for every member of a group."""
    message = OutboxMessage(instance_id=instance_id, kind="notification",
                            payload=_payload(to=to, kind=kind, subject=subject, instance_id=instance_id, **extra))
    session.add(message)
    return message


def notify_item_people(session: Session, instance: ProcessInstance, item: WorkItem, kind: str, subject: str,
                       *, exclude: str | None = None, **extra) -> None:
    """Queue a notice to whoever holds a work item: its assignee, else its candidate users and groups."""
    people = [item.assignee] if item.assignee else list(item.candidate_users or [])
    groups = [] if item.assignee else list(item.candidate_groups or [])
    deferred = batch.collecting(session)

    def send(to: str, **more) -> None:
        if deferred is None:
            notify(session, to=to, kind=kind, subject=subject, instance_id=instance.id, work_item_id=item.id,
                   **more, **extra)
            return
        # Inside a save the item may have no id yet: the row is written at the save's end, id filled in.
        deferred.notices.append((instance, item, _payload(to=to, kind=kind, subject=subject,
                                                          instance_id=instance.id, work_item_id=None,
                                                          **more, **extra)))

    for name in people:
        if name and name != exclude:
            send(name)
    for group in groups:
        send(f"group:{group}", exclude=[exclude] if exclude else [])


def notify_outcome(session: Session, instance: ProcessInstance, item: WorkItem, actor: str) -> None:
    """Tell the initiator how their request ended, or that a rejection sent it back to them."""
    if not instance.initiator or instance.initiator == actor or item.decision not in ("approved", "rejected"):
        return
    if instance.status == "completed":
        notify(session, to=instance.initiator, kind=item.decision, instance_id=instance.id,
               subject=instance.title, actor=actor, comment=item.comment)
    elif item.decision == "rejected" and instance.status == "running":
        notify(session, to=instance.initiator, kind="returned", instance_id=instance.id,
               subject=f"{instance.title} · {item.name}", actor=actor, comment=item.comment)

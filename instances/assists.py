"""Assist (协办): the holder of a task asks colleagues for their input; they answer, the holder decides.

A helper's task hangs off the holder's (like an added signer's) and ends with the task: a return, a jump or
the holder's decision withdraws open requests for help. The holder decides only once every helper asked has
answered, or after withdrawing the request, so the decision is taken with the input in view.
"""
from __future__ import annotations

from uuid import uuid4

from sqlalchemy.orm import Session

from database.base import utcnow
from engine.jsonsafe import to_json_safe

from . import mentions, notices
from .actors import Actor
from .directory import refuse_unable
from .errors import Conflict, InvalidInput, NotAllowed
from .models import ProcessInstance, WorkItem
from .service import _history
from .signers import _users, attached
from .verbs import _comment, _open_item_for, _require_running
from .work_items import _lock_work_item


def helpers(session: Session, item: WorkItem, *, answered: bool = True) -> list[WorkItem]:
    """Return who was asked to help with a task: still open, and (with `answered`) those who answered."""
    return attached(session, item, ("assist",), ("open", "completed") if answered else ("open",))


def ask_for_help(*, session: Session, work_item_id: int, actor: Actor, users, comment: str | None = None
                 ) -> list[WorkItem]:
    """Ask colleagues for their input on a task (协办); the holder still decides it."""
    users = _users(users)
    comment = _comment(comment)
    item, instance = _open_item_for(session, work_item_id, actor)
    if item.owner or item.kind != "task":
        raise Conflict(f"task {work_item_id} cannot ask for help now", details={"id": work_item_id})
    if item.assignee in users or actor.username in users:
        raise InvalidInput("ask other people than the task's holder", details={"field": "users"})
    refuse_unable(users, "users")
    asked = {h.assignee for h in helpers(session, item, answered=False)}
    doubles = [u for u in users if u in asked]
    if doubles:
        raise InvalidInput(f"{', '.join(doubles)} already {'was' if len(doubles) == 1 else 'were'} asked",
                           details={"field": "users"})
    now = utcnow()
    added = [WorkItem(instance_id=item.instance_id, task_guid=str(uuid4()), element_id=item.element_id,
                      name=item.name, lane=item.lane, status="open", kind="assist", assignee=user,
                      candidate_users=[], candidate_groups=[], priority=item.priority, due_at=item.due_at,
                      item={"of": int(item.id), "of_guid": item.task_guid, "added_by": actor.username,
                            "note": comment},
                      created_at=now) for user in users]
    session.add_all(added)
    _history(session, instance, "assist_requested", actor=actor.username, element_id=item.element_id,
             work_item=item, details={"users": users, "comment": comment}, at=now)
    session.flush()
    for helper in added:
        notices.notify_item_people(session, instance, helper, "task_assigned", helper.name, comment=comment)
    mentions.notify_mentions(session, instance=instance, writer=actor.username, text=comment, item=item)
    return added


def give_help(*, session: Session, item: WorkItem, instance: ProcessInstance, actor: Actor, data: dict,
              comment: str | None) -> ProcessInstance:
    """Record a helper's input; the task's holder sees it and decides."""
    comment = _comment(comment)
    if not comment:
        raise InvalidInput("write your input for the holder (a comment is required)", details={"field": "comment"})
    now = utcnow()
    item.status = "completed"
    item.completed_at = now
    item.completed_by = actor.username
    item.decision = "assisted"
    item.comment = comment
    item.submitted = to_json_safe({k: v for k, v in data.items() if k != "decision"})
    holder = session.get(WorkItem, int((item.item or {}).get("of")))
    _history(session, instance, "task_assisted", actor=actor.username, element_id=item.element_id, work_item=item,
             details={"comment": comment, "of": int(holder.id)}, at=now)
    if holder.assignee and holder.assignee != actor.username:
        notices.notify(session, to=holder.assignee, kind="assisted", subject=holder.name, instance_id=instance.id,
                       work_item_id=int(holder.id), actor=actor.username, comment=comment)
    mentions.notify_mentions(session, instance=instance, writer=actor.username, text=comment, item=item)
    session.flush()
    return instance


def withdraw_help(*, session: Session, work_item_id: int, actor: Actor, users) -> ProcessInstance:
    """Withdraw requests for help that have not been answered yet."""
    users = _users(users)
    item, instance, _ = _lock_work_item(session, work_item_id)
    if item.status != "open" or item.kind != "task" or not (item.assignee == actor.username or actor.is_admin):
        raise NotAllowed(f"only who holds task {work_item_id} may withdraw its requests for help",
                         details={"id": work_item_id})
    _require_running(instance)
    asked = {h.assignee: h for h in helpers(session, item, answered=False)}
    unknown = [u for u in users if u not in asked]
    if unknown:
        raise InvalidInput(f"{', '.join(unknown)} {'has' if len(unknown) == 1 else 'have'} no open request for help",
                           details={"field": "users"})
    now = utcnow()
    for user in users:
        helper = asked[user]
        helper.status, helper.completed_at = "cancelled", now
        _history(session, instance, "task_cancelled", element_id=helper.element_id, work_item=helper, at=now,
                 details={"by": "assist_withdrawn", "actor": actor.username})
    session.flush()
    return instance


def refuse_while_waiting(item: WorkItem, hanging: list[WorkItem]) -> None:
    """Refuse the holder's decision while people asked for their input (in `hanging`) have not answered."""
    waiting = [h.assignee for h in hanging if h.kind == "assist" and h.status == "open"]
    if waiting:
        raise Conflict(f"waiting for the input of {', '.join(waiting)}: decide once they have answered, or "
                       "withdraw the request for help", details={"id": int(item.id), "waiting_for": waiting})

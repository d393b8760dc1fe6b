"""Adding signers (加签) and removing them (减签) while a task waits.

On a countersign node the added people become members: they vote under the node's rule, in parallel or, in a
countersign taken in turn, right before or after the member who added them. On a single task they co-sign it:
before me (they decide first, then the task comes back), after me (they decide once I approve) or in parallel.
Every co-signer must approve; one rejection rejects the task at once, whoever gives it, so an added signer
never stands in the way of a rejection.
"""
from __future__ import annotations

from datetime import datetime
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.orm import Session

from database.base import utcnow
from definitions import service as definitions
from engine.errors import EngineError
from engine.jsonsafe import to_json_safe
from engine.specs import classify_decision

from . import mentions, notices
from .actors import Actor
from .context import engine_command
from .directory import refuse_unable
from .errors import Conflict, InvalidInput, NotAllowed
from .models import ProcessInstance, WorkItem
from .service import _failure, _history, _load, _runtime, _save
from .verbs import MAX_USER_CHARS, _comment, _open_item_for, _require_running
from .work_items import LIVE, _lock_work_item

POSITIONS = ("before", "after", "parallel")
MAX_SIGNERS = 20


def _users(users) -> list[str]:
    if not isinstance(users, list) or not users or len(users) > MAX_SIGNERS:
        raise InvalidInput(f"users must be a list of 1 to {MAX_SIGNERS} user names", details={"field": "users"})
    out: list[str] = []
    for value in users:
        name = value.strip() if isinstance(value, str) else ""
        if not name or len(name) > MAX_USER_CHARS:
            raise InvalidInput(f"users: each must be a user name of 1 to {MAX_USER_CHARS} characters",
                               details={"field": "users"})
        if name not in out:
            out.append(name)
    return out


def attached(session: Session, item: WorkItem, kinds: tuple[str, ...] = ("cosign", "assist"),
             statuses: tuple[str, ...] = LIVE) -> list[WorkItem]:
    """Return the items hanging off a task (co-signers, helpers), in the order they were added."""
    rows = session.scalars(select(WorkItem).where(WorkItem.instance_id == item.instance_id,
                                                  WorkItem.kind.in_(kinds), WorkItem.status.in_(statuses))
                           .order_by(WorkItem.id))
    return [row for row in rows if (row.item or {}).get("of") == item.id]


def attached_among(items: list[WorkItem], item: WorkItem, kinds: tuple[str, ...] = ("cosign", "assist")
                   ) -> list[WorkItem]:
    """Return the items hanging off a task among an instance's live items already loaded, in the order added."""
    return sorted((i for i in items if i.kind in kinds and i.status in LIVE and (i.item or {}).get("of") == item.id),
                  key=lambda i: i.id)


def cosigners(session: Session, item: WorkItem) -> list[WorkItem]:
    """Return the live co-signers added to a single task, in the order they were added."""
    return attached(session, item, ("cosign",))


def _open_turn(session: Session, instance: ProcessInstance, item: WorkItem) -> None:
    item.status = "open"
    notices.notify_item_people(session, instance, item, "task_assigned", item.name)


def _cosign_item(main: WorkItem, user: str, position: str, actor: str, status: str, now: datetime) -> WorkItem:
    return WorkItem(instance_id=main.instance_id, task_guid=str(uuid4()), element_id=main.element_id,
                    name=main.name, lane=main.lane, status=status, kind="cosign", assignee=user,
                    candidate_users=[], candidate_groups=[], priority=main.priority, due_at=main.due_at,
                    item={"of": int(main.id), "of_guid": main.task_guid, "mode": position, "added_by": actor},
                    created_at=now)


def add_signers(*, session: Session, work_item_id: int, actor: Actor, users, position: str,
                comment: str | None = None) -> ProcessInstance:
    """Add people who must also decide this task (加签): before, after or in parallel with its holder."""
    users = _users(users)
    comment = _comment(comment)
    if position not in POSITIONS:
        raise InvalidInput(f"position must be one of {', '.join(POSITIONS)}", details={"field": "position"})
    item, instance = _open_item_for(session, work_item_id, actor)
    if item.owner or item.kind != "task":
        raise Conflict(f"task {work_item_id} cannot take added signers now: "
                       + ("it waits for an opinion" if item.owner else "it is not a step of the process"),
                       details={"id": work_item_id})
    if item.assignee in users or actor.username in users:
        raise InvalidInput("the task's holder already decides it: add other people", details={"field": "users"})
    refuse_unable(users, "users")
    _, _, open_items = _lock_work_item(session, work_item_id)
    now = utcnow()
    details = {"users": users, "position": position, "comment": comment}
    if item.item is not None:  # a countersign member: the people join the node's members
        runtime = _runtime(session, instance)
        workflow = _load(runtime, instance)
        try:
            with engine_command(session, actor, instance.id) as command:
                report = runtime.add_signers(workflow, item.task_guid, users, position)
        except EngineError as exc:
            raise InvalidInput(str(exc), details={"field": "position", **exc.to_dict()}) from None
        report.cancelled[item.task_guid] = {"by": "add_sign", "before": users}
        _history(session, instance, "signers_added", actor=actor.username, element_id=item.element_id,
                 work_item=item, details={**details, "countersign": True}, at=now)
        _save(session, instance, runtime, workflow, report, actor=actor.username, now=now, open_items=open_items)
        command.finish(instance)
    else:
        present = {c.assignee for c in cosigners(session, item)}
        doubles = [u for u in users if u in present]
        if doubles:
            raise InvalidInput(f"{', '.join(doubles)} already sign this task", details={"field": "users"})
        added = []
        for index, user in enumerate(users):
            opens = position == "parallel" or (position == "before" and index == 0)
            added.append(_cosign_item(item, user, position, actor.username, "open" if opens else "pending", now))
        session.add_all(added)
        if position == "before":
            item.status = "waiting"  # the holder decides once the people added before them have approved
        _history(session, instance, "signers_added", actor=actor.username, element_id=item.element_id,
                 work_item=item, details=details, at=now)
        session.flush()
        for cosign in added:
            if cosign.status == "open":
                notices.notify_item_people(session, instance, cosign, "task_assigned", cosign.name)
    mentions.notify_mentions(session, instance=instance, writer=actor.username, text=comment, item=item)
    session.flush()
    return instance


def _main_of(session: Session, cosign: WorkItem) -> WorkItem:
    return session.get(WorkItem, int((cosign.item or {}).get("of")))


def _complete_main(session: Session, instance: ProcessInstance, main: WorkItem, data: dict, actor: Actor,
                   open_items: list[WorkItem], now: datetime) -> None:
    """Complete the engine task the co-signers were deciding, with `data` (the holder's or a rejection)."""
    from .work_items import _open_items

    runtime = _runtime(session, instance)
    workflow = _load(runtime, instance)
    try:
        with engine_command(session, actor, instance.id) as command:
            report = runtime.complete(workflow, main.task_guid, data)
    except EngineError as exc:
        raise _failure(exc) from None
    _save(session, instance, runtime, workflow, report, actor=actor.username, now=now,
          open_items=open_items or _open_items(session, instance.id))
    command.finish(instance)


def _advance(session: Session, instance: ProcessInstance, main: WorkItem, actor: Actor,
             open_items: list[WorkItem], now: datetime) -> None:
    """Move the co-signing of a task on: open the next turn, give the task back to its holder, or finish it."""
    live = cosigners(session, main)
    if any(c.status == "open" for c in live):
        return
    if main.status == "waiting" and main.decision is None:  # the people added before the holder
        waiting_before = [c for c in live if (c.item or {}).get("mode") == "before"]
        if waiting_before:
            _open_turn(session, instance, waiting_before[0])
        else:
            _open_turn(session, instance, main)
        return
    if main.status == "waiting" and main.decision == "approved":  # the holder approved: after-signers, then done
        if live:
            _open_turn(session, instance, live[0])
            return
        main.status = "completed"
        _complete_main(session, instance, main, dict(main.submitted or {}), actor, open_items, now)


def decide(*, session: Session, item: WorkItem, instance: ProcessInstance, open_items: list[WorkItem],
           actor: Actor, data: dict, comment: str | None) -> ProcessInstance:
    """Record an added signer's decision; a rejection rejects the task they sign at once."""
    verdict = classify_decision(data)
    if verdict is None:
        raise InvalidInput("decide: approve or reject", details={"field": "decision"})
    if verdict == "rejected" and not comment:
        raise InvalidInput("say why you reject the request (a comment is required)", details={"field": "comment"})
    now = utcnow()
    item.status = "completed"
    item.completed_at = now
    item.completed_by = actor.username
    item.decision = verdict
    item.comment = comment
    item.submitted = to_json_safe(data)
    main = _main_of(session, item)
    _history(session, instance, "task_cosigned", actor=actor.username, element_id=item.element_id, work_item=item,
             details={"decision": verdict, "comment": comment, "of": int(main.id),
                      "mode": (item.item or {}).get("mode")}, at=now)
    mentions.notify_mentions(session, instance=instance, writer=actor.username, text=comment, item=item)
    if verdict == "rejected":
        from . import returns  # returns imports the service module too: bind late

        elements = definitions.elements_for(session=session, definition_id=instance.definition_id)
        policy = returns.reject_policy(elements, main)
        if policy != "route":  # the step's flowdesk.onReject applies whoever rejects it
            rejection = {**(main.submitted or {}), "decision": "reject"}
            returns.reject(session=session, item=main, instance=instance, open_items=open_items, actor=actor,
                           policy=policy, comment=comment, data=rejection)
            session.flush()
            return instance
        decided_by_holder = main.decision == "approved"
        main.status = "completed" if decided_by_holder else "cancelled"
        if not decided_by_holder:
            main.completed_at = now
            _history(session, instance, "task_cancelled", element_id=main.element_id, work_item=main, at=now,
                     details={"by": "cosign", "rejected_by": actor.username})
        rejection = {**(main.submitted or {}), "decision": "reject"}
        _complete_main(session, instance, main, rejection, actor, open_items, now)
        notices.notify_outcome(session, instance, item, actor.username)
    else:
        _advance(session, instance, main, actor, open_items, now)
    session.flush()
    return instance


def holder_approved(*, session: Session, item: WorkItem, instance: ProcessInstance, open_items: list[WorkItem],
                    actor: Actor, data: dict, comment: str | None) -> ProcessInstance:
    """The holder approved a task that has co-signers: it finishes once they have all approved too."""
    now = utcnow()
    item.status = "waiting"
    item.completed_at = now
    item.completed_by = actor.username
    item.decision = "approved"
    item.comment = comment
    item.submitted = to_json_safe(data)
    _history(session, instance, "task_completed", actor=actor.username, element_id=item.element_id,
             work_item=item, details={"decision": "approved", "comment": comment, "data": data,
                                      "waiting_for_signers": True}, at=now)
    mentions.notify_mentions(session, instance=instance, writer=actor.username, text=comment, item=item)
    _advance(session, instance, item, actor, open_items, now)
    session.flush()
    return instance


def remove_signers(*, session: Session, work_item_id: int, actor: Actor, users,
                   comment: str | None = None) -> ProcessInstance:
    """Take added signers or countersign members who have not decided yet off a task (减签)."""
    users = _users(users)
    comment = _comment(comment)
    item, instance, open_items = _lock_work_item(session, work_item_id)
    holder = item.assignee == actor.username or actor.is_admin
    if item.status not in ("open", "waiting") or item.kind != "task" or not holder:
        raise NotAllowed(f"only who holds task {work_item_id} may remove its signers", details={"id": work_item_id})
    _require_running(instance)
    now = utcnow()
    if item.item is not None:
        runtime = _runtime(session, instance)
        workflow = _load(runtime, instance)
        try:
            with engine_command(session, actor, instance.id) as command:
                report = runtime.remove_signers(workflow, item.task_guid, users)
        except EngineError as exc:
            raise InvalidInput(str(exc), details={"field": "users", **exc.to_dict()}) from None
        for other in open_items:
            report.cancelled.setdefault(other.task_guid, {"by": "remove_sign", "actor": actor.username})
        _history(session, instance, "signers_removed", actor=actor.username, element_id=item.element_id,
                 work_item=item, details={"users": users, "comment": comment, "countersign": True}, at=now)
        _save(session, instance, runtime, workflow, report, actor=actor.username, now=now, open_items=open_items)
        command.finish(instance)
        return instance
    live = {c.assignee: c for c in cosigners(session, item)}
    unknown = [u for u in users if u not in live]
    if unknown:
        raise InvalidInput(f"{', '.join(unknown)} {'does' if len(unknown) == 1 else 'do'} not wait to sign this task",
                           details={"field": "users"})
    for user in users:
        cosign = live[user]
        cosign.status = "cancelled"
        cosign.completed_at = now
        _history(session, instance, "task_cancelled", element_id=cosign.element_id, work_item=cosign, at=now,
                 details={"by": "remove_sign", "actor": actor.username})
    _history(session, instance, "signers_removed", actor=actor.username, element_id=item.element_id,
             work_item=item, details={"users": users, "comment": comment}, at=now)
    session.flush()
    _advance(session, instance, item, actor, open_items, now)
    session.flush()
    return instance

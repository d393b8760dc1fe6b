"""Internal messages: send to people, departments or groups, read, reply in threads, remind later."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from attachments.models import Attachment
from database.base import utcnow
from database.session import is_postgres
from instances import notices
from instances.models import OutboxMessage

from . import audience
from .checks import checked_text
from .errors import Conflict, InvalidInput, NotFound
from .models import Message, MessageRecipient

MAX_SUBJECT = 300
MAX_BODY = 20_000
MAX_ADDRESSES = 100
MAX_ATTACHMENTS = 20
MAX_PAGE_SIZE = 200
MAX_REMIND_AHEAD = timedelta(days=366)


def _names(value, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_ADDRESSES:
        raise InvalidInput(f"{field} must be a list of at most {MAX_ADDRESSES} names", details={"field": field})
    if any(not isinstance(v, str) or not v.strip() or len(v) > 150 for v in value):
        raise InvalidInput(f"{field} must hold non-empty names", details={"field": field})
    return list(dict.fromkeys(v.strip() for v in value))


def _attachments(session: Session, ids, sender: str) -> list[int]:
    if ids is None:
        return []
    if not isinstance(ids, list) or len(ids) > MAX_ATTACHMENTS or \
            any(not isinstance(i, int) or isinstance(i, bool) or not 0 < i < 2**63 for i in ids):
        raise InvalidInput(f"attachment_ids must be a list of at most {MAX_ATTACHMENTS} ids",
                           details={"field": "attachment_ids"})
    ids = list(dict.fromkeys(ids))
    own = set(session.scalars(select(Attachment.id).where(Attachment.id.in_(ids),
                                                          Attachment.created_by == sender))) if ids else set()
    # Only files the sender uploaded: a message must not become a way to read someone else's upload.
    missing = [i for i in ids if i not in own]
    if missing:
        raise NotFound(f"no attachment {missing[0]} uploaded by {sender}", details={"field": "attachment_ids"})
    return ids


def _remind_at(value, now: datetime) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInput("remind_at must be a time with a time zone", details={"field": "remind_at"})
    if value <= now or value > now + MAX_REMIND_AHEAD:
        raise InvalidInput("remind_at must be in the future, within a year", details={"field": "remind_at"})
    return value


def participants(session: Session, message: Message) -> set[str]:
    """Return everyone who sent or received a message of the message's thread."""
    thread = message.thread_id or message.id
    ids = select(Message.id).where(or_(Message.id == thread, Message.thread_id == thread))
    people = set(session.scalars(select(Message.sender).where(Message.id.in_(ids))))
    people.update(session.scalars(select(MessageRecipient.username).where(MessageRecipient.message_id.in_(ids))))
    return people


def get_message_or_raise(*, session: Session, message_id: int, username: str) -> Message:
    """Return a message its sender or one of its recipients asks for; anyone else gets not found."""
    message = session.get(Message, message_id) if isinstance(message_id, int) and 0 < message_id < 2**63 else None
    if message is None or (message.sender != username and not any(r.username == username
                                                                   for r in message.recipients)):
        raise NotFound(f"no message {message_id}", details={"id": message_id})
    return message


def send_message(*, session: Session, sender: str, subject: str | None = None, body: str | None = None,
                 to_users=None, to_departments=None, to_groups=None, attachment_ids=None,
                 reply_to: int | None = None, remind_at: datetime | None = None, remind: str = "me",
                 now: datetime | None = None) -> Message:
    """Send a message; groups and departments expand to their members now; a reply goes to the thread."""
    now = now or utcnow()
    users, departments, groups = (_names(to_users, "to_users"), _names(to_departments, "to_departments"),
                                  _names(to_groups, "to_groups"))
    body = checked_text(body, "body", MAX_BODY, required=True)
    parent = None
    if reply_to is not None:
        parent = get_message_or_raise(session=session, message_id=reply_to, username=sender)
    subject = checked_text(subject, "subject", MAX_SUBJECT, required=parent is None) or \
        (f"Re: {parent.subject}"[:MAX_SUBJECT] if parent else "")
    if remind not in ("me", "them"):
        raise InvalidInput("remind must be me or them", details={"field": "remind"})
    when = _remind_at(remind_at, now)
    attached = _attachments(session, attachment_ids, sender)
    if parent is not None and not (users or departments or groups):
        people = sorted(participants(session, parent) - {sender})
        people = sorted(audience.active_users(session, people)) or [parent.sender]
    else:
        people = [p for p in audience.resolve(session, users=users, departments=departments, groups=groups)
                  if p != sender] or [sender]
    message = Message(sender=sender, subject=subject, body=body, created_at=now, attachment_ids=attached,
                      audience={"users": users, "departments": departments, "groups": groups},
                      parent_id=parent.id if parent else None,
                      thread_id=(parent.thread_id or parent.id) if parent else None)
    message.recipients = [MessageRecipient(username=name) for name in people]
    session.add(message)
    session.flush()
    for name in people:  # email or chat copies go out by each recipient's preferences, after commit
        notices.notify(session, to=name, kind="message", subject=subject, actor=sender, message_id=message.id,
                       body=body[:500])
    if when is not None:
        for name in ([sender] if remind == "me" else people):
            row = notices.notify(session, to=name, kind="reminder", subject=subject, actor=sender,
                                 message_id=message.id, body=body[:500])
            row.next_attempt_at = when  # the worker turns it into a notice only once this time comes
    session.flush()
    return message


def _page(page: int, page_size: int) -> tuple[int, int]:
    return max(1, page), min(MAX_PAGE_SIZE, max(1, page_size))


def list_inbox(*, session: Session, username: str, unread_only: bool = False, page: int = 1,
               page_size: int = 25) -> tuple[list[tuple[Message, MessageRecipient]], int]:
    """Return one page of messages a person received, newest first, with their read state."""
    page, page_size = _page(page, page_size)
    where = [MessageRecipient.username == username]
    if unread_only:
        where.append(MessageRecipient.read_at.is_(None))
    total = session.scalar(select(func.count()).select_from(MessageRecipient).where(*where)) or 0
    rows = session.execute(select(Message, MessageRecipient).join(MessageRecipient,
                                                                  MessageRecipient.message_id == Message.id)
                           .where(*where).order_by(Message.id.desc())
                           .offset((page - 1) * page_size).limit(page_size))
    return [(m, r) for m, r in rows], total


def list_sent(*, session: Session, username: str, page: int = 1, page_size: int = 25) -> tuple[list[Message], int]:
    """Return one page of messages a person sent, newest first."""
    page, page_size = _page(page, page_size)
    total = session.scalar(select(func.count()).select_from(Message).where(Message.sender == username)) or 0
    rows = session.scalars(select(Message).where(Message.sender == username).order_by(Message.id.desc())
                           .offset((page - 1) * page_size).limit(page_size))
    return list(rows), total


def get_thread(*, session: Session, message_id: int, username: str) -> list[Message]:
    """Return the messages of a thread the person took part in, oldest first, marking theirs read."""
    message = get_message_or_raise(session=session, message_id=message_id, username=username)
    root = message.thread_id or message.id
    thread = list(session.scalars(select(Message).where(or_(Message.id == root, Message.thread_id == root))
                                  .order_by(Message.id)))
    # Someone added to a later reply sees that reply onward, not the earlier private exchange.
    visible = [m for m in thread if m.sender == username or any(r.username == username for r in m.recipients)]
    now = utcnow()
    for row in (r for m in visible for r in m.recipients if r.username == username and r.read_at is None):
        row.read_at = now
    session.flush()
    return visible


def mark_read(*, session: Session, username: str, message_ids: list[int]) -> int:
    """Mark messages read for one recipient; return how many changed."""
    if not message_ids:
        return 0
    result = session.execute(update(MessageRecipient).where(
        MessageRecipient.username == username, MessageRecipient.message_id.in_(message_ids),
        MessageRecipient.read_at.is_(None)).values(read_at=utcnow()).execution_options(synchronize_session=False))
    return result.rowcount or 0


def unread_count(*, session: Session, username: str) -> int:
    """Count a person's unread messages."""
    return session.scalar(select(func.count()).select_from(MessageRecipient).where(
        MessageRecipient.username == username, MessageRecipient.read_at.is_(None))) or 0


@dataclass(frozen=True)
class Reminder:
    """A reminder still to come: which message, for whom, when, and who set it (the message's sender)."""

    id: int
    message_id: int
    subject: str
    to: str
    set_by: str
    remind_at: datetime | None


def _reminder(row: OutboxMessage) -> Reminder:
    payload = row.payload or {}
    return Reminder(id=row.id, message_id=int(payload.get("message_id") or 0),
                    subject=str(payload.get("subject") or ""), to=str(payload.get("to") or ""),
                    set_by=str(payload.get("actor") or ""), remind_at=row.next_attempt_at)


def _reminder_rows():
    # A reminder is a "notification" row of the outbox, due at the reminder's time (see send_message).
    return select(OutboxMessage).where(OutboxMessage.kind == "notification",
                                       OutboxMessage.payload["kind"].as_string() == "reminder")


def list_reminders(*, session: Session, username: str, page: int = 1,
                   page_size: int = 25) -> tuple[list[Reminder], int]:
    """Return one page of the pending reminders a person set or will receive, soonest first, and the total."""
    page, page_size = _page(page, page_size)
    mine = _reminder_rows().where(OutboxMessage.status == "pending",
                                  or_(OutboxMessage.payload["actor"].as_string() == username,
                                      OutboxMessage.payload["to"].as_string() == username))
    total = session.scalar(select(func.count()).select_from(mine.subquery())) or 0
    rows = session.scalars(mine.order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                           .offset((page - 1) * page_size).limit(page_size))
    return [_reminder(row) for row in rows], total


def cancel_reminder(*, session: Session, reminder_id: int, username: str,
                    now: datetime | None = None) -> Reminder:
    """Cancel a pending reminder the person set, so it never fires; a delivered one cannot be cancelled."""
    found = isinstance(reminder_id, int) and not isinstance(reminder_id, bool) and 0 < reminder_id < 2**63
    query = _reminder_rows().where(OutboxMessage.id == reminder_id)
    if is_postgres(session):
        # Wait for a worker expanding this very row: then it is delivered, and the answer below says so.
        query = query.with_for_update()
    row = session.scalars(query.execution_options(populate_existing=True)).first() if found else None
    # Only the sender who set it may cancel; to anyone else it does not exist (recipients only see it coming).
    if row is None or (row.payload or {}).get("actor") != username:
        raise NotFound(f"no reminder {reminder_id} set by {username}", details={"id": reminder_id})
    if row.status == "sent":
        delivered = row.sent_at.isoformat() if row.sent_at else None
        when = f" at {delivered}" if delivered else ""
        raise Conflict(f"reminder {reminder_id} was already delivered{when}; it cannot be cancelled",
                       details={"id": reminder_id, "status": "sent", "sent_at": delivered})
    if row.status != "pending":
        raise Conflict(f"reminder {reminder_id} is {row.status}; only a pending reminder can be cancelled",
                       details={"id": reminder_id, "status": row.status})
    # Fan-out and delivery only pick "pending" rows and an admin's resend only failed, dead, uncertain or
    # discarded ones, so a cancelled row never fires; it stays for the outbox page, with who cancelled it.
    row.status = "cancelled"
    row.payload = {**(row.payload or {}), "cancelled_by": username,
                   "cancelled_at": (now or utcnow()).isoformat()}
    session.flush()
    return _reminder(row)

"""Notifications (list, mark read), internal messages (send, list, thread) and their reminders (list, cancel)
for the signed-in user."""
from __future__ import annotations

from datetime import datetime

from flask import jsonify
from flask_babel import gettext as _

from collab import notices
from collab import service as messages

from ..db import command, query
from . import bp
from .common import MAX_ID, bad_input, bool_arg, choice_arg, iso, json_body, me, page_args, page_json

MESSAGE_FIELDS = {"to_users", "to_departments", "to_groups", "subject", "body", "attachment_ids", "reply_to",
                  "remind_at", "remind"}


def notification_json(notice) -> dict:
    """Describe a notification."""
    return {"id": notice.id, "kind": notice.kind, "title": notice.title, "body": notice.body, "link": notice.link,
            "actor": notice.actor, "instance_id": notice.instance_id, "work_item_id": notice.work_item_id,
            "created_at": iso(notice.created_at), "read_at": iso(notice.read_at)}


def message_json(message, username: str) -> dict:
    """Describe a message with its recipients' read state (the sender sees all, a recipient sees their own)."""
    recipients = [{"username": r.username, "read_at": iso(r.read_at)} for r in message.recipients
                  if message.sender == username or r.username == username]
    return {"id": message.id, "sender": message.sender, "subject": message.subject, "body": message.body,
            "thread_id": message.thread_id or message.id, "parent_id": message.parent_id,
            "audience": message.audience, "attachment_ids": list(message.attachment_ids or []),
            "recipients": recipients, "created_at": iso(message.created_at)}


@bp.get("/notifications")
def list_notifications():
    """List the caller's notifications, newest first; unread=true for the unread ones only."""
    page, page_size = page_args()
    username = me().username
    with query() as session:
        rows, total = notices.list_notifications(session=session, username=username, unread_only=bool_arg("unread"),
                                                 page=page, page_size=page_size)
        body = page_json([notification_json(n) for n in rows], total, page, page_size)
        body["unread"] = notices.unread_count(session=session, username=username)
    return jsonify(body)


@bp.post("/notifications/read")
def read_notifications():
    """Mark the listed notifications read, or all of them with {"all": true}."""
    body = json_body({"ids", "all"})
    if body.get("all") is not True and "ids" not in body:
        raise bad_input("ids", _("Give ids, or all: true."))
    ids = None if body.get("all") is True else body.get("ids")
    if ids is not None and (not isinstance(ids, list) or len(ids) > 1000
                            or any(not isinstance(i, int) or isinstance(i, bool) or not 0 < i <= MAX_ID for i in ids)):
        raise bad_input("ids", _("ids must be a list of at most 1000 notification ids."))
    username = me().username
    with command() as session:
        changed = notices.mark_read(session=session, username=username, ids=ids)
        unread = notices.unread_count(session=session, username=username)
    return jsonify(marked=changed, unread=unread)


def _remind_at(value) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise bad_input("remind_at", _("remind_at must be an ISO-8601 time with a zone, like 2026-12-01T09:00+08:00."))
    return moment


@bp.post("/messages")
def send_message():
    """Send a message to people, departments or groups, or reply to one (reply_to)."""
    body = json_body(MESSAGE_FIELDS)
    reply_to = body.get("reply_to")
    if reply_to is not None and (not isinstance(reply_to, int) or isinstance(reply_to, bool)
                                 or not 0 < reply_to <= MAX_ID):
        raise bad_input("reply_to", _("reply_to must be a message id."))
    username = me().username
    with command() as session:
        message = messages.send_message(
            session=session, sender=username, subject=body.get("subject"), body=body.get("body"),
            to_users=body.get("to_users"), to_departments=body.get("to_departments"), to_groups=body.get("to_groups"),
            attachment_ids=body.get("attachment_ids"), reply_to=reply_to, remind_at=_remind_at(body.get("remind_at")),
            remind=body.get("remind", "me"))
        result = message_json(message, username)
    return jsonify(result), 201


@bp.get("/messages")
def list_messages():
    """List the messages the caller received (box=inbox, with read state) or sent (box=sent)."""
    box = choice_arg("box", ("inbox", "sent"), "inbox")
    page, page_size = page_args()
    username = me().username
    with query() as session:
        if box == "sent":
            rows, total = messages.list_sent(session=session, username=username, page=page, page_size=page_size)
            items = [message_json(m, username) for m in rows]
        else:
            pairs, total = messages.list_inbox(session=session, username=username, unread_only=bool_arg("unread"),
                                               page=page, page_size=page_size)
            items = [message_json(m, username) for m, _r in pairs]
        body = page_json(items, total, page, page_size)
        body["unread"] = messages.unread_count(session=session, username=username)
    return jsonify(body)


@bp.get("/messages/<int:message_id>")
def message_thread(message_id: int):
    """Return the thread of a message the caller sent or received, marking it read for them."""
    username = me().username
    with command() as session:
        thread = messages.get_thread(session=session, message_id=min(message_id, MAX_ID), username=username)
        items = [message_json(m, username) for m in thread]
    return jsonify(thread_id=items[0]["thread_id"], messages=items)


def reminder_json(reminder, username: str, status: str = "pending") -> dict:
    """Describe a reminder; may_cancel: the caller set it and it is still pending."""
    return {"id": reminder.id, "message_id": reminder.message_id, "subject": reminder.subject,
            "to": reminder.to, "set_by": reminder.set_by, "remind_at": iso(reminder.remind_at),
            "status": status,
            "may_cancel": status == "pending" and reminder.set_by == username}


@bp.get("/messages/reminders")
def list_reminders():
    """List the pending reminders the caller set or will receive, soonest first."""
    page, page_size = page_args()
    username = me().username
    with query() as session:
        rows, total = messages.list_reminders(session=session, username=username, page=page,
                                              page_size=page_size)
        body = page_json([reminder_json(r, username) for r in rows], total, page, page_size)
    return jsonify(body)


@bp.post("/messages/reminders/<int:reminder_id>/cancel")
def cancel_reminder(reminder_id: int):
    """Cancel a pending reminder the caller set; 404 for anyone else, 409 once it was delivered."""
    json_body(set())
    username = me().username
    with command() as session:
        reminder = messages.cancel_reminder(session=session, reminder_id=reminder_id, username=username)
        out = reminder_json(reminder, username, status="cancelled")
    return jsonify(out)

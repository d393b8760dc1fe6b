"""The OpenAPI paths of notifications, internal messages and their reminders."""
from __future__ import annotations

from .openapi import FLAG, INTEGER, PAGE, STRING, _body, _ok, _op, _path, _query


def collab_paths() -> dict:
    """Document notifications, internal messages and their reminders."""
    stamp = {"type": ["string", "null"], "format": "date-time"}
    notice = {"type": "object", "required": ["id", "kind", "title", "link", "created_at", "read_at"],
              "properties": {"id": INTEGER, "kind": STRING, "title": STRING, "body": STRING, "link": STRING,
                             "actor": {"type": ["string", "null"]}, "instance_id": {"type": ["integer", "null"]},
                             "work_item_id": {"type": ["integer", "null"]}, "created_at": STRING, "read_at": stamp}}
    message = {"type": "object", "required": ["id", "sender", "subject", "body", "thread_id", "recipients"],
               "properties": {"id": INTEGER, "sender": STRING, "subject": STRING, "body": STRING,
                              "thread_id": INTEGER, "parent_id": {"type": ["integer", "null"]},
                              "audience": {"type": "object"}, "attachment_ids": {"type": "array", "items": INTEGER},
                              "created_at": STRING,
                              "recipients": {"type": "array", "description": "All of them for the sender; only "
                                                                             "themselves for a recipient",
                                             "items": {"type": "object", "properties": {"username": STRING,
                                                                                         "read_at": stamp}}}}}

    def page_of(item: dict, description: str) -> dict:
        return _ok(description, {"type": "object", "required": ["items", "total", "page", "page_size", "unread"],
                                 "properties": {"items": {"type": "array", "items": item}, "total": INTEGER,
                                                "page": INTEGER, "page_size": INTEGER, "pages": INTEGER,
                                                "unread": INTEGER}})
    names = {"type": "array", "maxItems": 100, "items": {"type": "string", "minLength": 1, "maxLength": 150}}
    send = {"type": "object", "additionalProperties": False, "required": ["body"], "properties": {
        "to_users": names, "to_departments": {**names, "description": "Department codes, sent to their members now"},
        "to_groups": {**names, "description": "Work group codes, sent to their members now"},
        "subject": {"type": "string", "maxLength": 300, "description": "Required unless reply_to is given"},
        "body": {"type": "string", "minLength": 1, "maxLength": 20000},
        "attachment_ids": {"type": "array", "maxItems": 20, "items": INTEGER,
                           "description": "Files the caller uploaded"},
        "reply_to": {"type": "integer", "description": "Reply in this message's thread (to all its participants "
                                                       "unless recipients are given)"},
        "remind_at": {"type": "string", "format": "date-time", "description": "A notice at this time, with a zone"},
        "remind": {"type": "string", "enum": ["me", "them"], "default": "me"}}}
    reminder = {"type": "object",
                "required": ["id", "message_id", "subject", "to", "set_by", "remind_at", "status",
                             "may_cancel"],
                "properties": {"id": INTEGER, "message_id": INTEGER, "subject": STRING,
                               "to": {**STRING, "description": "Who gets reminded"},
                               "set_by": {**STRING, "description": "The message's sender, who alone may "
                                                                   "cancel it"},
                               "remind_at": stamp, "may_cancel": {"type": "boolean"},
                               "status": {"type": "string", "enum": ["pending", "cancelled"]}}}
    reminders = {"type": "object", "required": ["items", "total", "page", "page_size"],
                 "properties": {"items": {"type": "array", "items": reminder}, "total": INTEGER,
                                "page": INTEGER, "page_size": INTEGER, "pages": INTEGER}}
    reminder_id = _path("reminder_id", "The reminder id.", {"type": "integer", "minimum": 0})
    return {
        "/messages/reminders": {"get": _op(
            "collab", "List the pending reminders the caller set on messages they sent (remind me or "
                      "them) or will receive, soonest first.",
            _ok("A page of reminders.", reminders), errors="400", params=PAGE)},
        "/messages/reminders/{reminder_id}/cancel": {"post": _op(
            "collab", "Cancel a pending reminder the caller set, so it never fires; 404 for anyone but its "
                      "setter, 409 when it was already delivered (details.status is sent) or cancelled.",
            _ok("The cancelled reminder.", reminder), errors="400 404 409", params=[reminder_id],
            body=_body({"type": "object", "additionalProperties": False}, required=False))},
        "/notifications": {"get": _op(
            "collab", "List the caller's notifications, newest first, with the unread count.",
            page_of(notice, "A page of notifications."), errors="400",
            params=[_query("unread", "Only unread ones.", FLAG), *PAGE])},
        "/notifications/read": {"post": _op(
            "collab", "Mark notifications read: the ids given, or all with {\"all\": true}.",
            _ok("How many changed and how many stay unread.",
                {"type": "object", "properties": {"marked": INTEGER, "unread": INTEGER}}), errors="400",
            body=_body({"type": "object", "additionalProperties": False, "properties": {
                "ids": {"type": "array", "maxItems": 1000, "items": INTEGER}, "all": {"type": "boolean"}}}))},
        "/messages": {
            "get": _op("collab", "List messages the caller received (box=inbox) or sent (box=sent).",
                       page_of(message, "A page of messages."), errors="400",
                       params=[_query("box", "Which list.", {"type": "string", "enum": ["inbox", "sent"],
                                                             "default": "inbox"}),
                               _query("unread", "Only unread ones (inbox).", FLAG), *PAGE]),
            "post": _op("collab", "Send a message, or reply in a thread; 404 with details.field for an unknown "
                                  "user, department, group, attachment or message.",
                        _ok("The message as sent.", message), status="201", errors="400 404", body=_body(send))},
        "/messages/{message_id}": {"get": _op(
            "collab", "Return the thread of a message the caller sent or received, oldest first; marks it read.",
            _ok("The thread.", {"type": "object", "properties": {"thread_id": INTEGER,
                                                                 "messages": {"type": "array", "items": message}}}),
            errors="404", params=[_path("message_id", "The message id.", {"type": "integer", "minimum": 0})])},
    }

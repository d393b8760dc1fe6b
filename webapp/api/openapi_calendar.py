"""The OpenAPI paths of the calendar: events and invitations, conflict checks, calendar queries, feeds."""
from __future__ import annotations

from collab.calendar.events import MAX_ATTENDEES, MAX_REMINDER_MINUTES, MAX_REMINDERS, MAX_TEXT, MAX_TITLE
from collab.calendar.models import EVENT_KINDS
from collab.calendar.recurrence import FREQUENCIES, MAX_COUNT, MAX_INTERVAL, WEEKDAYS

from .openapi import INTEGER, STRING, _body, _ok, _op, _path, _query

TAG = "calendar"
STAMP = {"type": "string", "format": "date-time"}
MAYBE_STAMP = {"type": ["string", "null"], "format": "date-time"}
MAYBE_TEXT = {"type": ["string", "null"]}
WHEN = {"type": "string",
        "description": "An ISO-8601 time (without an offset: in the event's zone); a date like 2026-12-01 "
                       "for an all-day event, whose ends_at is its last day"}
REPEAT = {"type": ["object", "null"], "additionalProperties": False,
          "description": "How the event repeats; null or {} for a single event. count and until exclude "
                         "each other.",
          "properties": {"freq": {"type": "string", "enum": [*FREQUENCIES, "none"]},
                         "interval": {"type": "integer", "minimum": 1, "maximum": MAX_INTERVAL, "default": 1},
                         "weekdays": {"type": "array", "items": {"type": "string", "enum": list(WEEKDAYS)},
                                      "description": "Weekly repeats only"},
                         "monthday": {"type": "string", "enum": ["same", "last"], "default": "same",
                                      "description": "last: the last day of each month (monthly repeats)"},
                         "count": {"type": "integer", "minimum": 1, "maximum": MAX_COUNT},
                         "until": {"type": "string", "format": "date",
                                   "description": "The last day, in the event's zone"}}}
TIMING = {
    "starts_at": WHEN, "ends_at": WHEN, "all_day": {"type": "boolean", "default": False},
    "timezone": {"type": "string", "maxLength": 64,
                 "description": "The zone its repeats follow, like Asia/Shanghai; default the caller's"},
    "repeat": REPEAT}
ATTENDEES = {"type": "array", "maxItems": MAX_ATTENDEES, "items": {"type": "string", "maxLength": 150},
             "description": "User names of active colleagues (404 with details.field attendees for an "
                            "unknown one)"}
FIELDS = {
    "title": {"type": "string", "minLength": 1, "maxLength": MAX_TITLE},
    "kind": {"type": "string", "enum": list(EVENT_KINDS), "default": "meeting"}, **TIMING,
    "location": {"type": ["string", "null"], "maxLength": MAX_TITLE},
    "description": {"type": ["string", "null"], "maxLength": MAX_TEXT}, "attendees": ATTENDEES,
    "reminders": {"type": "array", "maxItems": MAX_REMINDERS,
                  "items": {"type": "integer", "minimum": 0, "maximum": MAX_REMINDER_MINUTES},
                  "description": "Minutes before each occurrence starts"},
    "project": {"type": ["string", "null"], "description": "A project (work group) code"},
    "record_id": {"type": ["integer", "null"], "description": "A record the event is about"}}
EVENT = {"type": "object", "required": ["id", "title", "kind", "starts_at", "ends_at", "all_day", "timezone",
                                        "organizer", "attendees", "repeat", "status", "lock_version"],
         "properties": {
             "id": INTEGER, "title": STRING, "kind": {"type": "string", "enum": list(EVENT_KINDS)},
             "starts_at": STAMP,
             "ends_at": {**STAMP, "description": "Exclusive: the midnight after an all-day event's last day"},
             "all_day": {"type": "boolean"}, "timezone": STRING, "location": STRING, "description": STRING,
             "organizer": STRING,
             "attendees": {"type": "array", "description": "The organiser first", "items": {
                 "type": "object", "required": ["username", "response"],
                 "properties": {"username": STRING, "response": {"type": "string", "enum": [
                     "pending", "accepted", "tentative", "declined"]}, "responded_at": MAYBE_STAMP}}},
             "repeat": {"type": "object", "description": "The repeat choice; {} for a single event"},
             "rrule": MAYBE_TEXT,
             "exdates": {"type": "array", "items": STRING,
                         "description": "Local starts of skipped occurrences"},
             "reminders": {"type": "array", "items": INTEGER}, "project": MAYBE_TEXT,
             "record_id": {"type": ["integer", "null"]},
             "status": {"type": "string", "enum": ["confirmed", "cancelled"]}, "lock_version": INTEGER,
             "created_at": STAMP, "updated_at": STAMP}}
CLASH = {"type": "object", "required": ["person", "title", "starts_at", "ends_at", "source", "event_id"],
         "properties": {"person": STRING,
                        "title": {**MAYBE_TEXT,
                                  "description": "null when the caller may not read that calendar"},
                        "starts_at": STAMP, "ends_at": STAMP,
                        "source": {"type": "string", "enum": ["event", "away"]},
                        "event_id": {"type": ["integer", "null"]}}}
CLASHES = {"type": "array", "items": CLASH}
ENTRY = {"type": "object",
         "required": ["source", "title", "starts_at", "ends_at", "all_day", "people", "busy_only", "link"],
         "properties": {
             "source": {"type": "string", "enum": ["event", "task", "away", "activity"]},
             "title": {**MAYBE_TEXT, "description": "null for a busy-only entry"}, "starts_at": STAMP,
             "ends_at": STAMP, "all_day": {"type": "boolean"}, "people": {"type": "array", "items": STRING},
             "busy_only": {"type": "boolean",
                           "description": "The caller may only see that these people are busy"},
             "link": {**MAYBE_TEXT, "description": "The page of the entry; null for a busy-only entry"},
             "event_id": {"type": ["integer", "null"]},
             "occurrence": {**MAYBE_TEXT, "description": "The occurrence's local start, to skip it"},
             "kind": MAYBE_TEXT, "location": MAYBE_TEXT, "organizer": MAYBE_TEXT,
             "response": {**MAYBE_TEXT, "description": "The caller's answer when invited"},
             "repeating": {"type": "boolean"}, "declined": {"type": "array", "items": STRING}}}
FEED = {"type": "object", "required": ["id", "created_at", "last_used_at", "revoked_at"],
        "properties": {"id": INTEGER, "created_at": STAMP, "last_used_at": MAYBE_STAMP,
                       "revoked_at": MAYBE_STAMP,
                       "url": {"type": "string",
                               "description": "The secret link, only in the answer that made it"}}}
EVENT_ID = _path("event_id", "The event id.", {"type": "integer", "minimum": 0})


def calendar_paths() -> dict:
    """Document the calendar: entries, events, invitations, conflict checks and subscription links."""
    created = {"allOf": [EVENT, {"type": "object", "required": ["conflicts"],
                                 "properties": {"conflicts": CLASHES}}]}
    changed = {"allOf": [EVENT, {"type": "object", "properties": {"conflicts": CLASHES}}]}
    checked = {"type": "object", "required": ["conflicts", "saved"],
               "properties": {"conflicts": CLASHES, "saved": {"const": False}}}
    full = {"type": "boolean", "description": "The caller reads this calendar in full"}
    people = {"type": "array", "items": {"type": "object", "required": ["username", "display_name", "full"],
                                         "properties": {"username": STRING, "display_name": STRING,
                                                        "full": full}}}
    entries = {"type": "object", "required": ["start", "end", "timezone", "people", "items"],
               "properties": {"start": STAMP, "end": STAMP, "timezone": STRING, "people": people,
                              "items": {"type": "array", "items": ENTRY}}}
    bound = {"type": "string",
             "description": "A date (the whole day, in the caller's zone) or an ISO-8601 time with an offset"}
    codes = {"type": "string", "maxLength": 64}
    return {
        "/calendar/entries": {"get": _op(
            TAG, "List the entries (events, tasks due, time away, customer activities) of the chosen people "
                 "in a range of at most a year; without filters the caller's own. Entries of calendars the "
                 "caller may not read are busy-only, without title or link.",
            _ok("The people covered and their entries in time order.", entries), errors="400 404",
            params=[{**_query("start", "Start of the range.", bound), "required": True},
                    {**_query("end", "End of the range (a date: that whole day included).", bound),
                     "required": True},
                    _query("members", "User names, separated by commas."),
                    _query("department", "A department code (with its sub-departments).", codes),
                    _query("group", "A work group code.", codes),
                    _query("project", "Only events of this project group.", codes),
                    _query("sources", "Any of event, task, away, activity, separated by commas; "
                                      "default all.")])},
        "/calendar/events": {"post": _op(
            TAG, "Create an event organised by the caller and invite its attendees. The answer lists the "
                 "clashes of the organiser and attendees, computed before saving: a warning, not a refusal. "
                 "With check_only the timing and attendees are checked and the clashes answered, nothing "
                 "saved.",
            _ok("The new event with its conflicts.", created), status="201", errors="400 404",
            extra={"200": _ok("check_only: the clashes; nothing was saved.", checked)},
            body=_body({"type": "object", "additionalProperties": False, "required": ["title", "starts_at"],
                        "properties": {**FIELDS, "check_only": {"type": "boolean", "default": False}}}))},
        "/calendar/events/{event_id}": {
            "get": _op(TAG, "Describe an event the caller organises or attends, or may read through an "
                            "attendee's calendar; 404 for anyone else.", _ok("The event.", EVENT),
                       errors="404", params=[EVENT_ID]),
            "patch": _op(TAG, "Change an event (its organiser or an admin) with the lock version loaded; "
                              "fields left out keep their values. Attendees are told; 409 when it changed "
                              "meanwhile or was cancelled. A change of time or attendees lists the clashes "
                              "(a warning).", _ok("The event after the change.", changed),
                         errors="400 404 409", params=[EVENT_ID],
                         body=_body({"type": "object", "additionalProperties": False,
                                     "required": ["lock_version"],
                                     "properties": {**FIELDS, "lock_version": INTEGER}})),
            "delete": _op(TAG, "Cancel an event (its organiser or an admin), or with occurrence only that "
                               "occurrence of a series. Attendees are told.",
                          _ok("The event: cancelled, or with the occurrence in exdates.", EVENT),
                          errors="400 404 409",
                          params=[EVENT_ID, _query("occurrence", "The local start of the occurrence to skip, "
                                                                 "like 2026-12-01T09:00:00."),
                                  _query("lock_version", "The lock version loaded; 409 when it changed.",
                                         {"type": "integer", "minimum": 0})])},
        "/calendar/events/{event_id}/response": {"post": _op(
            TAG, "Answer an invitation; the organiser is told. 404 when the caller is not invited.",
            _ok("The event with the answers.", EVENT), errors="400 404 409", params=[EVENT_ID],
            body=_body({"type": "object", "additionalProperties": False, "required": ["response"],
                        "properties": {"response": {"type": "string",
                                                    "enum": ["accepted", "tentative", "declined"]}}}))},
        "/calendar/conflicts": {"post": _op(
            TAG, "Tell who among the attendees is busy (events they have not declined, approved time away) "
                 "during the planned event's occurrences (repeats: the first 180 days). Titles the caller "
                 "may not read are null.",
            _ok("The clashes, by person and time.", {"type": "object", "required": ["conflicts"],
                                                     "properties": {"conflicts": CLASHES}}),
            errors="400 404",
            body=_body({"type": "object", "additionalProperties": False, "required": ["starts_at"],
                        "properties": {"attendees": ATTENDEES, **TIMING,
                                       "exclude_event": {
                                           "type": ["integer", "null"],
                                           "description": "The event being changed, left out"}}}))},
        "/calendar/feeds": {
            "get": _op(TAG, "List the caller's live subscription links (their secret URLs are never shown "
                            "again).",
                       _ok("The links, newest first.",
                           {"type": "object", "required": ["items"],
                            "properties": {"items": {"type": "array", "items": FEED}}})),
            "post": _op(TAG, "Make a secret link a calendar app can subscribe to (read-only .ics of the "
                             "caller's calendar). The url is answered this once; at most 10 live links, the "
                             "oldest goes.",
                        _ok("The new link with its url.", {**FEED, "required": [*FEED["required"], "url"]}),
                        status="201", errors="400",
                        body=_body({"type": "object", "additionalProperties": False}, required=False))},
        "/calendar/feeds/{feed_id}": {"delete": _op(
            TAG, "Revoke one of the caller's subscription links.", _ok("The revoked link.", FEED),
            errors="404",
            params=[_path("feed_id", "The link id.", {"type": "integer", "minimum": 0})])},
    }

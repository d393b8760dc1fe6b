"""The OpenAPI paths for moving requests: return targets, return, take back and jump."""
from __future__ import annotations

from instances.returns import RESUBMIT_POLICIES
from instances.signers import MAX_SIGNERS, POSITIONS

from .openapi import INSTANCE_ID, STRING, TASK_ID, _body, _ok, _op, ref

TEXT = {"type": "string", "minLength": 1, "maxLength": 2000}
MOVED = _ok("The instance after the move and its open tasks.",
            {"type": "object", "required": ["instance", "open_tasks"],
             "properties": {"instance": ref("Instance"), "open_tasks": {"type": "array", "items": ref("Task")}}})
STOP = {"type": "object", "required": ["id", "name", "kind"],
        "properties": {"id": {**STRING, "description": "The node id to send in `to`"}, "name": STRING,
                       "kind": {"type": "string", "enum": ["task", "countersign", "stage", "start"],
                                "description": "start: the initiator revises and resubmits; stage: a finished "
                                               "sub-process, run again whole"}}}


PEOPLE = {"type": "array", "minItems": 1, "maxItems": MAX_SIGNERS,
          "items": {"type": "string", "minLength": 1, "maxLength": 150}}


def move_paths() -> dict:
    """Document return (退回), take back (撤回), jump (跳转) and adding or removing signers (加签/减签)."""
    return {
        "/tasks/{task_id}/add-signers": {"post": _op(
            "tasks", "Add people who must also decide a task (加签). On a single task they sign before the "
                     "holder, after the holder approves, or alongside; every one must approve and one rejection "
                     "rejects the step. On a countersign they become members: alongside in a parallel one, "
                     "before or after the caller in one taken in turn.",
            MOVED, errors="400 403 404 409", params=[TASK_ID],
            body=_body({"type": "object", "required": ["users", "position"], "additionalProperties": False,
                        "properties": {"users": PEOPLE, "position": {"type": "string", "enum": list(POSITIONS)},
                                       "comment": {"type": ["string", "null"], "maxLength": 2000}}}))},
        "/tasks/{task_id}/ask-help": {"post": _op(
            "tasks", "Ask colleagues for their input on a task (协办): each gets a task of kind assist, which they "
                     "complete with a comment; the caller can decide only once they answered.",
            _ok("The helpers' tasks.", {"type": "object", "required": ["helpers"], "properties": {
                "helpers": {"type": "array", "items": ref("Task")}}}),
            errors="400 403 404 409", params=[TASK_ID],
            body=_body({"type": "object", "required": ["users"], "additionalProperties": False,
                        "properties": {"users": PEOPLE, "comment": {"type": ["string", "null"], "maxLength": 2000}}}))},
        "/tasks/{task_id}/withdraw-help": {"post": _op(
            "tasks", "Withdraw requests for help that nobody has answered yet.",
            MOVED, errors="400 403 404 409", params=[TASK_ID],
            body=_body({"type": "object", "required": ["users"], "additionalProperties": False,
                        "properties": {"users": PEOPLE}}))},
        "/tasks/{task_id}/remove-signers": {"post": _op(
            "tasks", "Take added signers, or countersign members, who have not decided off a task (减签); "
                     "the step is decided again at once.",
            MOVED, errors="400 403 404 409", params=[TASK_ID],
            body=_body({"type": "object", "required": ["users"], "additionalProperties": False,
                        "properties": {"users": PEOPLE,
                                       "comment": {"type": ["string", "null"], "maxLength": 2000}}}))},
        "/tasks/{task_id}/return-targets": {"get": _op(
            "tasks", "Where an open task may be returned to (nearest first, as the node's flowdesk.returnTo "
                     "allows) and the node's flowdesk.onResubmit policy.",
            _ok("The places and the policy.", {"type": "object", "required": ["stops", "resubmit"], "properties": {
                "stops": {"type": "array", "items": STOP},
                "resubmit": {"type": "string", "enum": list(RESUBMIT_POLICIES),
                             "description": "ask: the caller chooses with `resume` when returning"}}}),
            errors="403 404 409", params=[TASK_ID])},
        "/tasks/{task_id}/return": {"post": _op(
            "tasks", "Return (退回) a request from an open task to `previous`, `initiator` or an earlier node's id, "
                     "with a comment. Open tasks below the target (other branches, other countersign members) "
                     "are cancelled; returned to the initiator, a task of kind resubmit waits for them.",
            MOVED, errors="400 403 404 409 422", params=[TASK_ID],
            body=_body({"type": "object", "required": ["to", "comment"], "additionalProperties": False,
                        "properties": {"to": {"type": "string", "minLength": 1, "maxLength": 200},
                                       "comment": TEXT,
                                       "resume": {"type": ["boolean", "null"],
                                                  "description": "With flowdesk.onResubmit=ask: once the target "
                                                                 "is done again, go straight back to this node"}}}))},
        "/tasks/{task_id}/take-back": {"post": _op(
            "tasks", "Take back (撤回) the caller's decision on a task while nobody after it has acted; "
                     "409 names the step that already acted.",
            MOVED, errors="400 403 404 409", params=[TASK_ID],
            body=_body({"type": "object", "additionalProperties": False,
                        "properties": {"reason": {"type": ["string", "null"], "maxLength": 2000}}}, required=False))},
        "/instances/{instance_id}/jump": {"post": _op(
            "instances", "Move a request to any step (跳转, administrators) with a reason; when several steps "
                         "wait, from_task names the task whose token moves.",
            MOVED, errors="400 403 404 409", params=[INSTANCE_ID],
            body=_body({"type": "object", "required": ["to", "reason"], "additionalProperties": False,
                        "properties": {"to": {"type": "string", "minLength": 1, "maxLength": 200,
                                              "description": "The target node id"},
                                       "reason": TEXT, "from_task": {"type": ["integer", "null"]}}}))},
    }

"""The OpenAPI paths for moving requests: return targets, return, take back and jump."""
from __future__ import annotations

from instances.returns import RESUBMIT_POLICIES

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


def move_paths() -> dict:
    """Document return (退回), take back (撤回) and jump (跳转)."""
    return {
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

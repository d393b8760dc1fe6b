"""The per-node policy properties Flowdesk reads (flowdesk.* extension properties) and their allowed values.

Checked when a model is deployed, so a misspelt name or value is refused with the element named, instead of
surfacing when a task of that node first becomes ready. The modules that act on a policy take the values
from here.
"""
from __future__ import annotations

import re

from .moves import JUMP_TYPES

ON_NO_ASSIGNEE = "flowdesk.onNoAssignee"
ON_SELF_APPROVAL = "flowdesk.onSelfApproval"
ON_OVERDUE = "flowdesk.onOverdue"
ASSIGNMENT = "flowdesk.assignment"
PICK_COUNT = "flowdesk.pickCount"
PICKS_FOR = "flowdesk.picksFor"
RETURN_TO = "flowdesk.returnTo"
ON_RESUBMIT = "flowdesk.onResubmit"
ON_REJECT = "flowdesk.onReject"
COUNTERSIGN = "flowdesk.countersign"
REMIND_BEFORE = "flowdesk.remindBefore"
URGE_INTERVAL = "flowdesk.urgeInterval"
OUTCOME = "flowdesk.outcome"  # on an end event: "rejected" ends the request with the status rejected
JUMP_PREFIX = "jump:"  # flowdesk.onOverdue="jump:<node id>" moves the request to that node

# The first value is the default.
CHOICES: dict[str, tuple[str, ...]] = {
    ON_NO_ASSIGNEE: ("initiator", "admin", "leader", "skip", "error"),
    ON_SELF_APPROVAL: ("allow", "skip", "superior"),
    ON_OVERDUE: ("notify", "approve", "reject", "escalate"),
    ASSIGNMENT: ("initiatorPicks", "approverPicks"),
    PICK_COUNT: ("one", "many"),
    RETURN_TO: ("any", "previous", "initiator", "none"),
    ON_RESUBMIT: ("rerun", "backToReturner", "ask"),
    ON_REJECT: ("route", "end", "initiator"),
    OUTCOME: ("completed", "rejected"),
}
# Checked by their own code: the countersign rule (engine.specs) and node lists.
FREE_FORM = (COUNTERSIGN, PICKS_FOR)
DURATION = re.compile(r"P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?")


def problem(name: str, value, elements: dict) -> str | None:
    """Say what is wrong with one flowdesk.* property of a node, or None when it is fine."""
    if name in FREE_FORM:
        return None
    if name in (REMIND_BEFORE, URGE_INTERVAL):
        if str(value or "").strip() and not DURATION.fullmatch(str(value).strip().upper()):
            return f"{name} must be an ISO 8601 duration such as PT4H or P1D, not {value!r}"
        return None
    allowed = CHOICES.get(name)
    if allowed is None:
        known = ", ".join(sorted([*CHOICES, *FREE_FORM, REMIND_BEFORE, URGE_INTERVAL]))
        return f"{name} is not a Flowdesk property; the known ones are {known}"
    text = str(value or "").strip()
    if not text:  # an empty value means the default, as leaving the property out does
        return None
    if name == ON_OVERDUE and text.startswith(JUMP_PREFIX):
        target = text[len(JUMP_PREFIX):].strip()
        info = elements.get(target)
        if info is None or info.get("type") not in JUMP_TYPES:
            return f"{name} '{text}': there is no task, sub-process or event '{target}' to move the request to"
        return None
    if text not in allowed:
        return f"{name} must be one of {', '.join(allowed)}, not {text!r}"
    return None


def problems(elements: dict) -> list[tuple[str, str]]:
    """Return (element id, reason) for every flowdesk.* property of the model that would be refused."""
    out = []
    for element_id, info in elements.items():
        for name, value in (info.get("properties") or {}).items():
            if str(name).startswith("flowdesk."):
                reason = problem(name, value, elements)
                if reason:
                    out.append((element_id, reason))
    return out

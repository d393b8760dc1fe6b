"""Service operations of the instances domain: the copy node (抄送节点), which copies the request and moves on.

A service task naming `instance.copy` resolves its people while the engine runs (so a bad parameter fails
the step, naming the element), and the copies are written with the command's state, when the instance row
and the element that copied are both known.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from definitions.service import OPERATIONS
from engine.errors import EngineError, ServiceError
from engine.runtime import ProcessRuntime, StepReport

from . import assignment, notices
from .context import current_command
from .directory import get_directory
from .models import InstanceCopy, ProcessInstance
from .service import _history

COPY = "instance.copy"
PARAMETERS = ("users", "groups", "expression", "note")
GROUP_KINDS = {"role": "role", "department": "department", "dept": "department", "position": "position",
               "group": "group"}
MAX_RECIPIENTS = 500
MAX_NOTE_CHARS = 2000
_PENDING = "flowdesk.pending_copies"  # in Session.info: copies resolved by this transaction's engine steps


@dataclass
class PendingCopy:
    """The people one pass through a copy node named: active users to copy, and names nobody answers to."""

    people: list[str]
    unknown: list[str]
    note: str | None


def _split(value, name: str) -> list[str]:
    """Return a parameter's entries: a list, or text split on commas outside `${...}`."""
    if value in (None, ""):
        return []
    if isinstance(value, list | tuple):
        if not all(isinstance(v, str) for v in value):
            raise ServiceError(f"{COPY}: '{name}' must list names as text")
        return [v.strip() for v in value if v.strip()]
    if not isinstance(value, str):
        raise ServiceError(f"{COPY}: '{name}' must be text or a list of names, not {type(value).__name__}")
    parts, depth, current = [], 0, ""
    for char in value:
        depth += (char == "{") - (char == "}")
        if char == "," and depth <= 0:
            parts.append(current)
            current, depth = "", 0
        else:
            current += char
    return [part.strip() for part in [*parts, current] if part.strip()]


def _group_members(entries: list[str]) -> list[str]:
    found = get_directory()
    out: list[str] = []
    for entry in entries:
        kind, _, code = entry.partition(":")
        if kind.strip() not in GROUP_KINDS or not code.strip():
            raise ServiceError(f"{COPY}: group '{entry}' must be written kind:code with kind one of "
                               f"{', '.join(GROUP_KINDS)} (e.g. role:finance)")
        out.extend(found.members(GROUP_KINDS[kind.strip()], code.strip()))
    return out


def _note(value) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value.strip()) > MAX_NOTE_CHARS:
        raise ServiceError(f"{COPY}: 'note' must be text of at most {MAX_NOTE_CHARS} characters")
    return value.strip() or None


def resolve_people(params: dict, data: dict) -> PendingCopy:
    """Return who a copy node's parameters name; raise ServiceError for a parameter it cannot use."""
    extra = sorted(set(params) - set(PARAMETERS))
    if extra:
        raise ServiceError(f"{COPY}: unknown parameter '{extra[0]}' (it takes {', '.join(PARAMETERS)})")
    expression = params.get("expression")
    if expression not in (None, "") and not isinstance(expression, str):
        raise ServiceError(f"{COPY}: 'expression' must be the text of an expression, e.g. 'superior(initiator)'")
    # Names are taken as written, never evaluated: they may come from a form, and only the model's own
    # `expression` may call the strategies.
    users = _split(params.get("users"), "users")
    groups = _split(params.get("groups"), "groups")
    text = expression.strip() if isinstance(expression, str) else ""
    if not users and not groups and not text:
        raise ServiceError(f"{COPY} needs 'users', 'groups' or an 'expression' naming who gets the copy")
    try:
        named = assignment.people([text if text.startswith(("${", "#{")) else "${" + text + "}"], data) if text else []
    except EngineError as exc:
        raise ServiceError(f"{COPY}: expression {text!r}: {exc.reason}") from None
    names = list(dict.fromkeys([*users, *named, *_group_members(groups)]))
    if len(names) > MAX_RECIPIENTS:
        raise ServiceError(f"{COPY}: {len(names)} people named, at most {MAX_RECIPIENTS} may be copied at once")
    active = get_directory().active_users(names) if names else set()
    return PendingCopy(people=[n for n in names if n in active], unknown=[n for n in names if n not in active],
                       note=_note(params.get("note")))


@OPERATIONS.register(COPY)
def copy(*, params: dict, data: dict) -> dict:
    """Copy the request to `users`, `groups` (kind:code) and whom an `expression` names, with a `note` (抄送)."""
    command = current_command()
    if command is None:
        raise ServiceError(f"{COPY} runs only inside a Flowdesk command (start, task, timer or message)")
    pending = resolve_people(params, data)
    command.session.info.setdefault(_PENDING, []).append(pending)
    return {}


def _copy_elements(runtime: ProcessRuntime) -> set[str]:
    model = runtime.model
    out = set()
    for pid in model.process_ids:
        for spec in [model.specs[pid], *model.subprocess_specs.get(pid, {}).values()]:
            out.update(t.bpmn_id for t in spec.task_specs.values() if getattr(t, "operation_name", None) == COPY)
    return out


def write_copies(*, session: Session, instance: ProcessInstance, runtime: ProcessRuntime, report: StepReport,
                 now: datetime) -> list[InstanceCopy]:
    """Write the copies the command's copy nodes made: a row and a "copied" notice per person, one history entry."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return []
    nodes = _copy_elements(runtime)
    elements = [entry["element_id"] for entry in report.completed if entry["element_id"] in nodes]
    # A copy node's operation runs just before the node completes, so the calls pair with the completions in
    # order. Pair from the end: calls left by a step refused earlier in this session (a savepoint) come first.
    pairs = list(zip(reversed(elements), reversed(pending), strict=False))[::-1]
    written: list[InstanceCopy] = []
    for element_id, found in pairs:
        unread = set(session.scalars(select(InstanceCopy.username).where(
            InstanceCopy.instance_id == instance.id, InstanceCopy.username.in_(found.people or [""]),
            InstanceCopy.read_at.is_(None))))
        copies = [InstanceCopy(instance_id=instance.id, username=name, sent_by="system", element_id=element_id,
                               note=found.note, created_at=now) for name in found.people if name not in unread]
        session.add_all(copies)
        for made in copies:
            notices.notify(session, to=made.username, kind="copied", subject=instance.title,
                           instance_id=int(instance.id), note=found.note)
        _history(session, instance, "copied", actor="system", element_id=element_id, at=now,
                 details={"to": [c.username for c in copies], "skipped": sorted(unread), "unknown": found.unknown,
                          "note": found.note})
        session.flush()  # the next pass in this command sees these copies as unread
        written.extend(copies)
    return written

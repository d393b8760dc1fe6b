"""What a save writes at its end: its changes to held rows and the rows it appends, sent together.

A completion changes its instance and work item, appends four or five history rows, a candidate row per
person or group a new task is offered to, and a notice per new holder. As ORM objects each costs more than
the statement that carries it, and each statement cost a round trip to the database. Collected here, they
are written once the rows they name have ids: one statement per table or changed row, and on PostgreSQL all
of them in one pipeline, one round trip. Nothing in a save reads these rows back, so holding them until its
end changes no answer.

Changes to an instance and its work items are taken out of the ORM's flush only while this transaction
holds the instance's row (hold(): locked FOR UPDATE on PostgreSQL, the database's write lock on SQLite, or
created by this transaction). The lock already gives what the ORM's version check would, and a pipeline
cannot answer that check; an instance changed without its lock is still written by the ORM, checked.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import bindparam, insert, inspect, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from database.session import execute_together

from .models import HistoryEvent, OutboxMessage, ProcessInstance, WorkItem, WorkItemCandidate

COLLECTOR = "flowdesk.deferred_rows"
HELD = "flowdesk.held_instances"

# Built once; inline() keeps SQLAlchemy from asking for the new ids, which a pipeline cannot answer.
_INSERT_HISTORY = insert(HistoryEvent.__table__).inline()
_INSERT_CANDIDATES = insert(WorkItemCandidate.__table__).inline()
_INSERT_NOTICES = insert(OutboxMessage.__table__).inline()
# The SET clause is the changed columns, named by the parameters; the row by row_id.
_UPDATES = {model: update(model.__table__).where(model.__table__.c.id == bindparam("row_id"))
            for model in (ProcessInstance, WorkItem)}


@dataclass
class DeferredRows:
    """The rows of one save; instances and work items are named by object, their ids read at the end."""

    history: list[tuple[ProcessInstance, WorkItem | None, dict]] = field(default_factory=list)
    candidates: list[tuple[WorkItem, str, str]] = field(default_factory=list)
    notices: list[tuple[ProcessInstance, WorkItem, dict]] = field(default_factory=list)

    def statements(self) -> list[tuple]:
        """Return (statement, parameter rows) per table with rows, in the order they are written."""
        out = []
        if self.candidates:
            out.append((_INSERT_CANDIDATES, [{"work_item_id": item.id, "kind": kind, "value": value}
                                             for item, kind, value in self.candidates]))
        if self.notices:
            # The other columns take the model's defaults (pending, no attempts, created now).
            out.append((_INSERT_NOTICES, [{"instance_id": instance.id, "kind": "notification",
                                           "payload": {**payload, "work_item_id": item.id}}
                                          for instance, item, payload in self.notices]))
        if self.history:
            out.append((_INSERT_HISTORY, [{**row, "instance_id": instance.id,
                                           "work_item_id": item.id if item is not None else None}
                                          for instance, item, row in self.history]))
        return out


def hold(session: Session, instance_id: int) -> None:
    """Note that this transaction holds an instance's row (locked, or created by it) and so its items'."""
    transaction = session.get_transaction()
    held = session.info.get(HELD)
    if held is None or held[0] is not transaction:
        held = session.info[HELD] = (transaction, set())
    held[1].add(instance_id)


def _held(session: Session) -> set[int]:
    held = session.info.get(HELD)
    return held[1] if held is not None and held[0] is session.get_transaction() else set()


def _take_updates(session: Session) -> list[tuple]:
    """Turn the pending changes of held instances and their work items into UPDATE statements.

    The ORM is told the new values are what the database holds, so its flush writes these rows no more;
    an instance's lock_version moves on as the ORM's own update would have moved it."""
    held = _held(session)
    if not held:
        return []
    out = []
    for obj in list(session.dirty):
        if isinstance(obj, ProcessInstance):
            instance_id = obj.id
        elif isinstance(obj, WorkItem):
            instance_id = obj.instance_id
        else:
            continue
        state = inspect(obj)
        if instance_id not in held or any(state.attrs[rel.key].history.has_changes()
                                          for rel in state.mapper.relationships):
            continue
        changed = {}  # column attribute -> new value
        for prop in state.mapper.column_attrs:
            history = state.attrs[prop.key].history
            if history.has_changes():
                changed[prop] = history.added[0] if history.added else None
        if not changed:
            continue
        if isinstance(obj, ProcessInstance):
            changed[state.mapper.attrs["lock_version"]] = (obj.lock_version or 0) + 1
        out.append((_UPDATES[type(obj)], {"row_id": obj.id,
                                           **{prop.columns[0].key: value for prop, value in changed.items()}}))
        for prop, value in changed.items():
            set_committed_value(obj, prop.key, value)
    return out


def collecting(session: Session) -> DeferredRows | None:
    """Return the rows the session's current save collects, or None outside a save."""
    return session.info.get(COLLECTOR)


@contextmanager
def deferred_rows(session: Session):
    """Collect the appended rows of a save and write them at its end (nested saves share the outer one's)."""
    if COLLECTOR in session.info:
        yield session.info[COLLECTOR]
        return
    rows = session.info[COLLECTOR] = DeferredRows()
    try:
        yield rows
    finally:
        del session.info[COLLECTOR]
    write(session, rows)


def write(session: Session, rows: DeferredRows) -> None:
    """Take out the held rows' changes, flush the rest (new items get their ids), then write it all."""
    updates = _take_updates(session)
    session.flush()
    statements = updates + rows.statements()
    if not statements:
        return
    execute_together(session.connection(), statements)

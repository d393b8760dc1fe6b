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

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import ColumnProperty, Session, make_transient_to_detached
from sqlalchemy.orm.attributes import NO_VALUE, instance_state

from database.driver import default_value, execute_together, insert_returning

from .models import HistoryEvent, OutboxMessage, ProcessInstance, WorkItem, WorkItemCandidate

COLLECTOR = "flowdesk.deferred_rows"
HELD = "flowdesk.held_instances"

# Built once; inline() keeps SQLAlchemy from asking for the new ids, which a pipeline cannot answer.
_INSERT_HISTORY = insert(HistoryEvent.__table__).inline()
_INSERT_CANDIDATES = insert(WorkItemCandidate.__table__).inline()
_INSERT_NOTICES = insert(OutboxMessage.__table__).inline()
# New work items come back with their ids, for the rows that name them, matched by their unique task guids:
# asked to return rows in the order given, SQLAlchemy sends one statement per row on PostgreSQL (no sentinel).
_INSERT_ITEMS = insert(WorkItem.__table__).returning(WorkItem.__table__.c.task_guid, WorkItem.__table__.c.id)
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


def _changed_columns(state) -> dict | None:
    """Return {column: new value} of a loaded row's changed column attributes, or None to leave the row to the
    ORM (a relationship changed, or an attribute was expired or deleted). Read from the state's committed
    values, as the ORM's own flush reads them: walking every attribute's history cost more than the UPDATE."""
    changed = {}
    props = state.mapper.attrs
    for key, old in state.committed_state.items():
        prop = props.get(key)
        new = state.dict.get(key, NO_VALUE)
        if not isinstance(prop, ColumnProperty) or new is NO_VALUE:
            return None
        column = prop.columns[0]
        if old is not NO_VALUE and column.type.compare_values(old, new):
            continue  # set to the value it had: the ORM would write nothing either
        changed[column.key] = new
    return changed


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
        state = instance_state(obj)
        changed = _changed_columns(state) if instance_id in held else None
        if changed is None:
            continue
        if changed:
            if isinstance(obj, ProcessInstance):
                obj.lock_version = (obj.lock_version or 0) + 1
                changed["lock_version"] = obj.lock_version
            out.append((_UPDATES[type(obj)], {"row_id": obj.id, **changed}))
        # What the object holds is now what the database will hold: clean, as a flush leaves a row it wrote
        # (attributes set to the value they had included), so later flushes pass it by instead of looking
        # through it again. SQLAlchemy's public set_committed_value does this one attribute at a time.
        state._commit_all(state.dict, session.identity_map)
    return out


def _new_row(state) -> dict | None:
    """Return {attribute: value} for every column of a new row but its id, its Python defaults filled in as the
    ORM's insert would fill them; None to leave the row to the ORM (it holds related objects, or a column takes
    a default only the database knows)."""
    if any(state.dict.get(rel.key) for rel in state.mapper.relationships):
        return None
    values = {}
    for prop in state.mapper.column_attrs:
        column = prop.columns[0]
        if column.primary_key:
            continue
        value = state.dict.get(prop.key, NO_VALUE)
        if value is NO_VALUE:
            default = column.default
            if default is None and column.server_default is None:
                value = None
            elif default is not None and (default.is_scalar or default.is_callable):
                value = default_value(default)
            else:
                return None
        values[prop.key] = value
    return values


def _take_inserts(session: Session) -> None:
    """Insert the new work items of held instances in one statement that returns their ids, and make them
    persistent as if flushed: the ORM's flush of one new row cost several times the statement."""
    held = _held(session)
    if not held:
        return
    taken = []
    for obj in session.new:
        if isinstance(obj, WorkItem) and obj.instance_id in held:
            state = instance_state(obj)
            values = _new_row(state)
            if values is not None:
                taken.append((state.insert_order, obj, values))
    if not taken:
        return
    taken.sort(key=lambda row: row[0])  # the order the ORM would insert them in: ids follow creation
    columns = {prop.key: prop.columns[0].key for prop in instance_state(taken[0][1]).mapper.column_attrs}
    ids = dict(insert_returning(session.connection(), _INSERT_ITEMS,
                                [{columns[key]: value for key, value in values.items()} for _, _, values in taken]))
    for _, obj, values in taken:
        row_id = ids[obj.task_guid]
        session.expunge(obj)
        # make_transient_to_detached takes what the object holds as loaded from the database; added back, the
        # session holds it as a row it read, with nothing to write.
        instance_state(obj).dict.update(values, id=row_id)
        make_transient_to_detached(obj)
        session.add(obj)


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
    """Take out the held rows' changes, insert their new work items (they get their ids), flush the rest, then
    write it all."""
    updates = _take_updates(session)
    _take_inserts(session)
    session.flush()
    statements = updates + rows.statements()
    if not statements:
        return
    execute_together(session.connection(), statements)

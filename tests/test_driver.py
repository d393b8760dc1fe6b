"""Statements sent together at a save's end: driver-level execution on PostgreSQL, same rows as SQLAlchemy's."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.exc import IntegrityError

from database.driver import execute_together, insert_returning, scalar
from instances.models import OutboxMessage

OUTBOX = OutboxMessage.__table__
_INSERT = insert(OUTBOX).inline()
_UPDATE = update(OUTBOX).where(OUTBOX.c.id == bindparam("row_id"))


def _events(db):
    seen = []

    def log(conn, _cursor, statement, parameters, context, executemany):
        driver = conn.connection.driver_connection
        piped = db.dialect == "postgresql" and driver.pgconn.pipeline_status != 0
        seen.append((statement.split()[0].lower(), context is None, piped, parameters))

    event.listen(db.engine, "before_cursor_execute", log)
    return seen, lambda: event.remove(db.engine, "before_cursor_execute", log)


def _rows(db):
    with db.query() as session:
        return session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_rows_get_the_models_defaults_and_types_and_every_statement_is_seen(db):
    naive = datetime(2026, 11, 28, 9, 30)  # taken as UTC, as the column type does everywhere else
    seen, stop = _events(db)
    try:
        with db.command() as session:
            execute_together(session.connection(), [
                (_INSERT, [{"instance_id": 7, "kind": "notification", "payload": {"to": "张伟", "n": 1}},
                           {"instance_id": 8, "kind": "notification", "payload": {"to": "bob", "n": 2}}]),
                (_INSERT, {"instance_id": 9, "kind": "mail", "payload": {"to": "eve"}, "created_at": naive}),
            ])
    finally:
        stop()
    rows = _rows(db)
    assert [(r.instance_id, r.kind, r.payload, r.status, r.attempts) for r in rows] == [
        (7, "notification", {"to": "张伟", "n": 1}, "pending", 0),
        (8, "notification", {"to": "bob", "n": 2}, "pending", 0),
        (9, "mail", {"to": "eve"}, "pending", 0)]
    assert rows[2].created_at == naive.replace(tzinfo=timezone.utc)
    assert abs(rows[0].created_at - datetime.now(timezone.utc)) < timedelta(minutes=5)
    inserts = [e for e in seen if e[0] == "insert"]
    if db.dialect == "postgresql":
        assert len(inserts) == 2  # the two rows of the first in one statement, each announced to listeners
        # Sent in the pipeline by the driver, without an execution context of SQLAlchemy's.
        assert all(context_free and piped for _, context_free, piped, _ in inserts)
    else:
        assert len(inserts) == 2 and not any(context_free for _, context_free, _, _ in inserts)


def test_many_rows_of_a_table_go_in_few_statements_in_their_order(db, monkeypatch):
    import database.driver as driver

    monkeypatch.setattr(driver, "MAX_ROWS_PER_INSERT", 4)
    rows = [{"instance_id": n, "kind": "notification", "payload": {"n": n, "名": "张伟"}} for n in range(10)]
    seen, stop = _events(db)
    try:
        with db.command() as session:
            execute_together(session.connection(), [(_INSERT, rows), (_INSERT, rows[:1])])
    finally:
        stop()
    stored = _rows(db)
    # Ids follow the rows' order, chunk after chunk, and every value went through its column's type.
    assert [(r.instance_id, r.payload, r.status) for r in stored] == [
        *((n, {"n": n, "名": "张伟"}, "pending") for n in range(10)), (0, {"n": 0, "名": "张伟"}, "pending")]
    assert [r.id for r in stored] == sorted(r.id for r in stored)
    inserts = [parameters for kind, _, _, parameters in seen if kind == "insert"]
    if db.dialect == "postgresql":
        # 10 rows in statements of 4, 4 and 2 rows (each row's 3 values and 3 defaults), then the single row.
        assert [len(p) for p in inserts] == [4 * 6, 4 * 6, 2 * 6, 6], inserts
    else:
        assert len(inserts) == 2


def test_updates_name_only_the_columns_given_and_a_statement_needing_a_context_still_runs(db):
    with db.command() as session:
        execute_together(session.connection(), [
            (_INSERT, [{"instance_id": n, "kind": "notification", "payload": {}} for n in (1, 2, 3)])])
    first, second, third = (r.id for r in _rows(db))
    expanding = update(OUTBOX).where(OUTBOX.c.id.in_(bindparam("ids", expanding=True))).values(status="held")
    with db.command() as session:
        execute_together(session.connection(), [
            (_UPDATE, {"row_id": first, "status": "sent", "attempts": 1}),
            (_UPDATE, {"row_id": second, "payload": {"retry": True}}),
            (expanding, {"ids": [third]}),
        ])
    assert [(r.status, r.attempts, r.payload) for r in _rows(db)] == [
        ("sent", 1, {}), ("pending", 0, {"retry": True}), ("held", 0, {})]


def test_a_failing_row_fails_the_transaction_as_an_sqlalchemy_error_and_the_connection_recovers(db):
    with pytest.raises(IntegrityError, match="(?i)null"):
        with db.command() as session:
            execute_together(session.connection(), [
                (_INSERT, {"instance_id": 1, "kind": "notification", "payload": {}}),
                (_INSERT, {"instance_id": 2, "kind": None, "payload": {}}),  # kind is NOT NULL
            ])
    assert _rows(db) == []
    with db.command() as session:
        execute_together(session.connection(), [
            (_INSERT, {"instance_id": 3, "kind": "notification", "payload": {}}),
            (_INSERT, {"instance_id": 4, "kind": "notification", "payload": {}})])
    assert [r.instance_id for r in _rows(db)] == [3, 4]


def test_an_insert_returns_its_new_rows_for_one_row_and_for_several(db):
    returning = insert(OUTBOX).returning(OUTBOX.c.instance_id, OUTBOX.c.id)
    seen, stop = _events(db)
    try:
        with db.command() as session:
            [(one, first)] = insert_returning(session.connection(), returning,
                                              [{"instance_id": 1, "kind": "notification", "payload": {"n": 1}}])
            more = insert_returning(session.connection(), returning,
                                    [{"instance_id": n, "kind": "notification", "payload": {}} for n in (2, 3)])
    finally:
        stop()
    rows = _rows(db)
    assert (one, first) == (1, rows[0].id) and rows[0].payload == {"n": 1} and rows[0].status == "pending"
    assert sorted(more) == [(r.instance_id, r.id) for r in rows[1:]]
    inserts = [context_free for kind, context_free, _, _ in seen if kind == "insert"]
    # One row goes to the driver's cursor on PostgreSQL; several go in one statement of SQLAlchemy's.
    assert inserts == ([True, False] if db.dialect == "postgresql" else [False, False])


def test_a_one_value_read_goes_to_the_driver_unless_its_value_needs_converting(db):
    with db.command() as session:
        execute_together(session.connection(), [
            (_INSERT, {"instance_id": 5, "kind": "mail", "payload": {}, "created_at": datetime(2026, 1, 2, 3, 4)}),
            (_INSERT, {"instance_id": 6, "kind": "mail", "payload": {}})])
    by_instance = select(OUTBOX.c.kind).where(OUTBOX.c.instance_id == bindparam("instance_id"))
    created = select(OUTBOX.c.created_at).where(OUTBOX.c.instance_id == 5)
    seen, stop = _events(db)
    try:
        with db.query() as session:
            connection = session.connection()
            assert scalar(connection, by_instance, {"instance_id": 5}) == "mail"
            assert scalar(connection, by_instance, {"instance_id": 404}) is None
            # A stored timestamp comes back through its column type: aware, in UTC, on every database.
            assert scalar(connection, created) == datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc)
    finally:
        stop()
    reads = [context_free for kind, context_free, _, _ in seen if kind == "select"]
    assert reads == ([True, True, False] if db.dialect == "postgresql" else [False, False, False])


def test_driver_values_are_what_sqlalchemy_would_send():
    from psycopg.types.json import Jsonb
    from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect

    from database.driver import _driver_rows
    from instances import batch
    from org.revision import _READ

    dialect = psycopg_dialect()

    def plain(value):
        return ("jsonb", value.obj) if isinstance(value, Jsonb) else value

    when = datetime(2026, 11, 28, 8, 0)  # naive: both make it UTC
    cases = [
        (batch._INSERT_HISTORY, [{"instance_id": 1, "work_item_id": None, "type": "note", "element_id": "a",
                                  "actor": "李娜", "at": when, "details": {"k": [1, 2]}}]),
        (batch._UPDATES[batch.ProcessInstance], [{"row_id": 7, "state": "{}", "data": {"x": 1}, "updated_at": when,
                                                 "lock_version": 3}]),
        (_UPDATE, [{"row_id": 9, "status": "sent", "attempts": 2}]),
        (_READ, [{}]),
    ]
    for statement, rows in cases:
        sql, values = _driver_rows(dialect, statement, rows)
        compiled = statement.compile(dialect=dialect, column_keys=sorted(rows[0]))
        assert sql == compiled.string
        for row, sent in zip(rows, values, strict=True):
            expected = {}
            for name, value in compiled.construct_params(row).items():
                processor = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                expected[name] = processor(value) if processor else value
            assert {k: plain(v) for k, v in sent.items()} == {k: plain(v) for k, v in expected.items()}
    # A value the statement computes when it runs, or one left out, is SQLAlchemy's to handle.
    assert _driver_rows(dialect, _UPDATE, [{"status": "sent"}]) is None

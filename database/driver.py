"""Hot statements run at the driver: a save's writes sent together (on PostgreSQL in one psycopg pipeline, one
round trip), the INSERT that returns a new row's id, and one-value reads made on nearly every request.

SQLAlchemy's execution of one statement (an execution context, a fresh driver cursor and a result object)
cost more CPU than psycopg's own execution of it: for the five statements that end a task's completion,
0.33 against 0.22 ms, about 4.5 % of a REST completion's CPU measured in process. So here each statement is
compiled by SQLAlchemy once per set of parameter names, and its rows go to one driver cursor through the
connection's cursor-level path, which still fires SQLAlchemy's statement events (tests that count
statements, tracing) and logs as SQLAlchemy's echo does. A statement whose values only an execution
context can produce (a default computed in the database's round trip) goes the usual way instead.

Several rows for one table (a completion's four or five history rows) go as one multi-row INSERT, so the
database parses, plans and runs one statement for them, not one per row.
"""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import bindparam, exc
from sqlalchemy.sql.dml import Insert

# Rows of one table past this go in several statements: a bounded number of statement shapes to compile
# and prepare, well inside PostgreSQL's 65,535 parameters per statement.
MAX_ROWS_PER_INSERT = 50


class Rendered(NamedTuple):
    """A statement compiled for one set of parameter names: its SQL, and per bind parameter its name in the SQL,
    the parameter that gives its value (None for a value written into the statement), that value and the
    function that turns a value into what the driver takes (None when it takes it as it is)."""

    sql: str
    binds: tuple[tuple[str, str | None, object, object], ...]


@lru_cache(maxsize=512)
def _render(dialect, statement, keys: frozenset) -> Rendered | None:
    compiled = statement.compile(dialect=dialect, column_keys=sorted(keys))
    if compiled.insert_prefetch or compiled.update_prefetch or compiled.post_compile_params:
        return None  # values an execution context fills in: SQLAlchemy's own path
    binds = []
    for bind, name in compiled.bind_names.items():
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if bind.key in keys:
            binds.append((name, bind.key, None, processor))
        elif bind.callable is None and not bind.required:
            binds.append((name, None, bind.value, processor))
        else:
            return None  # a value computed at execution or missing: SQLAlchemy says what is wrong
    return Rendered(compiled.string, tuple(binds))


@lru_cache(maxsize=64)
def _python_defaults(table) -> tuple:
    """(column key, default) for a table's columns whose default Python computes (a value or a function)."""
    return tuple((column.key, column.default) for column in table.columns
                 if column.default is not None and (column.default.is_scalar or column.default.is_callable))


def default_value(default):
    """Return the value a column's Python-side default (a value or a function) gives a new row."""
    # SQLAlchemy wraps a default function so it takes the execution context; ours never read it.
    return default.arg if default.is_scalar else default.arg(None)


def _with_defaults(statement, rows: list[dict]) -> list[dict]:
    """Fill in the Python-side defaults an INSERT leaves out, as SQLAlchemy's own execution would."""
    missing = [(key, default) for key, default in _python_defaults(statement.table) if key not in rows[0]]
    if not missing:
        return rows
    return [{**row, **{key: default_value(default) for key, default in missing}} for row in rows]


@lru_cache(maxsize=256)
def _multi_row(statement, keys: tuple, count: int):
    """Return the INSERT of count rows in one VALUES list, the parameter of row i's column k named k__i."""
    columns = statement.table.c
    # Typed: SQLAlchemy gives only the first row's parameters their column's type (and its JSON encoding).
    return statement.values([{key: bindparam(f"{key}__{i}", type_=columns[key].type) for key in keys}
                             for i in range(count)])


def _multi_row_rows(dialect, statement, rows: list[dict]) -> list[tuple[str, list[dict]]] | None:
    """Return (SQL, [one parameter row]) per chunk of an INSERT's rows, each chunk one multi-row statement that
    the database parses, plans and runs once instead of once per row; None when the rows name different
    columns or a chunk must go SQLAlchemy's way."""
    rows = _with_defaults(statement, rows)
    keys = tuple(sorted(rows[0]))
    if any(row.keys() != rows[0].keys() for row in rows):
        return None
    out = []
    for start in range(0, len(rows), MAX_ROWS_PER_INSERT):
        chunk = rows[start:start + MAX_ROWS_PER_INSERT]
        flat = {f"{key}__{i}": row[key] for i, row in enumerate(chunk) for key in keys}
        prepared = _driver_rows(dialect, _multi_row(statement, keys, len(chunk)), flat, defaults=False)
        if prepared is None:
            return None
        out.append(prepared)
    return out


def _driver_rows(dialect, statement, params, defaults: bool = True) -> tuple[str, list[dict]] | None:
    """Return (SQL, parameter rows ready for the driver), or None to leave the statement to SQLAlchemy."""
    rows = params if isinstance(params, list) else [params]
    if not rows:
        return None
    if defaults and isinstance(statement, Insert):
        rows = _with_defaults(statement, rows)
    keys = frozenset(rows[0])
    if any(row.keys() != keys for row in rows):
        return None
    rendered = _render(dialect, statement, keys)
    if rendered is None:
        return None
    binds, out = rendered.binds, []
    for row in rows:
        values = {}
        for name, key, value, processor in binds:
            if key is not None:
                value = row[key]
            values[name] = processor(value) if processor is not None else value
        out.append(values)
    return rendered.sql, out


def insert_returning(connection, statement, rows: list[dict]) -> list[tuple]:
    """Run an INSERT ... RETURNING for rows and return the rows it returns. One row on PostgreSQL goes to the
    driver's cursor as above; several go as SQLAlchemy sends them (one statement for all of them)."""
    prepared = _driver_rows(connection.dialect, statement, rows) \
        if connection.dialect.name == "postgresql" and len(rows) == 1 else None
    if prepared is None:
        return [tuple(row) for row in connection.execute(statement, rows)]
    sql, [params] = prepared
    return _fetch(connection, sql, params)


@lru_cache(maxsize=64)
def _plain_result(dialect, statement) -> bool:
    """Tell whether a SELECT's first column comes from the driver as it is (no conversion of SQLAlchemy's)."""
    column_type = statement.selected_columns[0].type
    return column_type.dialect_impl(dialect).result_processor(dialect, None) is None


def scalar(connection, statement, params: dict | None = None):
    """Return the first column of the first row a SELECT gives, or None when it gives no row."""
    dialect = connection.dialect
    prepared = _driver_rows(dialect, statement, params or {}) \
        if dialect.name == "postgresql" and _plain_result(dialect, statement) else None
    if prepared is None:
        return connection.scalar(statement, params or {})
    sql, [values] = prepared
    rows = _fetch(connection, sql, values)
    return rows[0][0] if rows else None


def _fetch(connection, sql: str, params: dict) -> list[tuple]:
    """Run one statement on a driver cursor through SQLAlchemy's cursor-level path and return its rows."""
    with connection.connection.driver_connection.cursor() as cursor:
        # SQLAlchemy's cursor-level execution: statement events, echo and error wrapping, no context.
        connection._cursor_execute(cursor, sql, params)
        return cursor.fetchall()


def execute_together(connection, statements: list[tuple]) -> None:
    """Run (statement, parameters) pairs that return no rows, in order. On PostgreSQL they go out in one
    psycopg pipeline, one round trip, where libpq supports it (14+); a failing one fails the transaction."""
    if connection.dialect.name == "postgresql" and len(statements) > 1:
        import psycopg

        if psycopg.Pipeline.is_supported():
            _pipelined(connection, statements)
            return
    for statement, params in statements:
        connection.execute(statement, params)


def _pipelined(connection, statements: list[tuple]) -> None:
    dialect = connection.dialect
    dbapi_error = dialect.loaded_dbapi.Error
    driver = connection.connection.driver_connection
    try:
        with driver.pipeline(), driver.cursor() as cursor:
            for statement, params in statements:
                many = isinstance(statement, Insert) and isinstance(params, list) and len(params) > 1
                prepared = _multi_row_rows(dialect, statement, params) if many else None
                if prepared is None:
                    one = _driver_rows(dialect, statement, params)
                    prepared = [one] if one is not None else None
                if prepared is None:
                    connection.execute(statement, params)
                    continue
                for sql, rows in prepared:
                    for row in rows:
                        connection._cursor_execute(cursor, sql, row)  # as in _fetch
    except dbapi_error as error:  # raised by the pipeline itself: wrap it as SQLAlchemy wraps the rest
        raise exc.DBAPIError.instance(None, None, error, dbapi_error) from error

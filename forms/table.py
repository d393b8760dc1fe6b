"""The one detail table a form may have: rows posted as `lines-2-amount`, errors keyed `lines[2].amount`."""
from __future__ import annotations

from .errors import FieldError
from .kinds import columns, kind_of
from .values import normalize, parse_posted

MAX_ROWS = 500  # a hard cap whatever maxItems says: one post must not make the server check millions of cells
TRUE = ("on", "true", "1", "yes")


def key(table: str, index: int, column: str | None = None) -> str:
    """Return the error key of a row, or of one cell: `lines[2]`, `lines[2].amount` (rows count from 0)."""
    return f"{table}[{index}]" + (f".{column}" if column else "")


def input_name(table: str, index: int, column: str) -> str:
    """Return the HTML input name of a cell: `lines-2-amount`."""
    return f"{table}-{index}-{column}"


def row_limit(prop: dict) -> int:
    """Return the most rows the table accepts."""
    limit = prop.get("maxItems")
    return min(limit, MAX_ROWS) if isinstance(limit, int) and not isinstance(limit, bool) else MAX_ROWS


def _blank(row: dict) -> bool:
    return all((v if isinstance(v, str) else "".join(map(str, v))).strip() == "" for v in row.values())


def posted_rows(name: str, prop: dict, posted: dict) -> list[dict]:
    """Gather the posted cells of a table into rows of raw text, in row order, leaving out empty rows."""
    cols = columns(prop)
    rows: dict[int, dict] = {}
    prefix = name + "-"
    for field_name, raw in posted.items():
        if not field_name.startswith(prefix):
            continue
        index, sep, column = field_name[len(prefix):].partition("-")
        # Row numbers come from the browser and may have gaps after rows were removed: only their order counts.
        if sep and index.isdigit() and len(index) <= 6 and column in cols:
            rows.setdefault(int(index), {})[column] = raw
    return [rows[i] for i in sorted(rows) if not _blank(rows[i])]


def coerce_rows(name: str, prop: dict, posted: dict) -> tuple[list[dict] | None, dict[str, FieldError]]:
    """Read a table's posted rows into typed rows; return (rows, errors keyed by row and column)."""
    raw_rows = posted_rows(name, prop, posted)
    if len(raw_rows) > row_limit(prop):
        return None, {name: FieldError("maxItems", row_limit(prop))}
    cols = columns(prop)
    rows, errors = [], {}
    for index, raw_row in enumerate(raw_rows):
        row = {}
        for column, cprop in cols.items():
            if "x-computed" in cprop:
                continue
            kind = kind_of(cprop)
            raw = raw_row.get(column)
            if kind == "boolean":
                row[column] = (raw[0] if isinstance(raw, list) and raw else raw) in TRUE
                continue
            if raw is None or (isinstance(raw, str) and raw.strip() == ""):
                continue
            value, error = parse_posted(kind, cprop, raw)
            if error:
                errors[key(name, index, column)] = error
            else:
                row[column] = value
        rows.append(row)
    return rows, errors


def normalize_rows(name: str, prop: dict, value) -> tuple[list | None, dict[str, FieldError]]:
    """Check a table's JSON rows cell by cell with each column's kind; unknown columns are refused."""
    if not isinstance(value, list):
        return None, {name: FieldError("type", "array")}
    if len(value) > row_limit(prop):
        return None, {name: FieldError("maxItems", row_limit(prop))}
    cols = columns(prop)
    rows, errors = [], {}
    for index, row in enumerate(value):
        clean = {}
        if not isinstance(row, dict):
            errors[key(name, index)] = FieldError("row")
            rows.append(clean)  # kept, so the rows after it keep their numbers
            continue
        for column, cell in row.items():
            cprop = cols.get(column)
            if cprop is None:
                errors[key(name, index, str(column))] = FieldError("unknown")
            elif cell is not None and "x-computed" not in cprop:
                cell, error = normalize(kind_of(cprop), cprop, cell)
                if error:
                    errors[key(name, index, column)] = error
                else:
                    clean[column] = cell
        rows.append(clean)
    return rows, errors


def row_required(name: str, prop: dict, rows: list) -> dict[str, FieldError]:
    """Report the required columns each row lacks (a computed one that could not be computed says so)."""
    items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
    required = [c for c in items.get("required", []) if isinstance(c, str)]
    errors = {}
    for index, row in enumerate(rows):
        for column in required:
            if row.get(column) in (None, ""):
                computed = "x-computed" in columns(prop).get(column, {})
                errors[key(name, index, column)] = FieldError("computed" if computed else "required")
    return errors

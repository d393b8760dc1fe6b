"""The CSV import of business calendar exceptions (holidays and make-up workdays): every line or none."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from audit import service as audit

from .errors import Invalid
from .workcal import _check_exception, _invalid
from .workcal_store import _own_or_raise, _put

MAX_IMPORT_BYTES = 1_000_000
MAX_IMPORT_LINES = 5_000
HEADER = ("date", "日期")
_RANGE = re.compile(r"\s*(?:\.\.|~|～|至)\s*")


@dataclass
class LineError:
    """Why one line of an exceptions file was refused."""

    line: int
    field: str
    code: str
    params: dict = field(default_factory=dict)


@dataclass
class ImportReport:
    """What an exceptions import did, or would have done: nothing at all when any line is wrong."""

    lines: int = 0
    days: int = 0
    errors: list[LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Tell whether every line was right (and so was saved)."""
        return not self.errors


def _decode(data: bytes) -> str:
    if not data.strip():
        raise _invalid("file", "empty", "the file is empty")
    if len(data) > MAX_IMPORT_BYTES:
        raise _invalid("file", "too_large", f"the file is larger than {MAX_IMPORT_BYTES:,} bytes")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _invalid("file", "encoding", "the file is neither UTF-8 nor GBK/GB18030 text")


def import_exceptions(*, session: Session, department: str | None, data: bytes) -> ImportReport:
    """Add the exceptions of a CSV file (date,kind,name; a date may be a range a..b): every line or none."""
    row = _own_or_raise(session, department)
    report, wanted, seen = ImportReport(), [], {}
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        for cells in reader:
            line = reader.line_num
            if line > MAX_IMPORT_LINES:
                raise _invalid("file", "too_many_lines", f"the file has more than {MAX_IMPORT_LINES} lines",
                               limit=MAX_IMPORT_LINES)
            cells = [c.strip() for c in cells]
            if not any(cells) or cells[0].startswith("#") or (not report.lines and cells[0].lower() in HEADER):
                continue
            report.lines += 1
            first, _sep, last = _RANGE.sub("..", cells[0]).partition("..")
            try:
                days, kind, name = _check_exception(first, last, cells[1] if len(cells) > 1 else "",
                                                    cells[2] if len(cells) > 2 else "", row.weekdays)
            except Invalid as exc:
                field_name = {"first": "date", "last": "date"}.get(exc.details["field"], exc.details["field"])
                report.errors.append(LineError(line, field_name, exc.details["reason"], exc.details))
                continue
            clash = next((d for d in days if d in seen), None)
            if clash is not None:
                report.errors.append(LineError(line, "date", "duplicate_in_file",
                                               {"value": clash.isoformat(), "other": seen[clash]}))
                continue
            seen.update({d: line for d in days})
            wanted.append((days, kind, name))
    except csv.Error:
        report.errors.append(LineError(reader.line_num, "file", "bad_csv", {}))
    if not report.lines and not report.errors:
        raise _invalid("file", "no_rows", "the file has no lines with dates")
    if report.ok:
        for days, kind, name in wanted:
            _put(session, row, days, kind, name)
            report.days += len(days)
        session.flush()
        audit.log(session, action="work_calendar.imported", object_type="work_calendar", object_id=row.owner,
                  after={"lines": report.lines, "days": report.days})
    return report

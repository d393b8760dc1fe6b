"""Bulk import of users from CSV or Excel (.xlsx): check every row first, then write all rows or none."""
from __future__ import annotations

import csv
import io
import re
import secrets
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from .errors import Invalid
from .models import LANGUAGES, USER_STATUSES, Department, Position, Role, User, WorkGroup
from .passwords import MIN_LENGTH
from .service import _EMAIL, _USERNAME, save_user

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
MAX_LINES = 5 * MAX_ROWS  # blank lines are skipped, but a sheet of a million formatted blanks is refused
MAX_COLUMNS = 50
MAX_UNPACKED = 100 * 1024 * 1024  # an .xlsx is a zip: bound what it may inflate to
FIELDS = ("username", "display_name", "email", "phone", "department", "position", "superior", "roles",
          "groups", "status", "language", "password")
HEADERS_ZH = dict(zip(FIELDS, ("用户名", "姓名", "邮箱", "电话", "部门", "职务", "上级", "角色", "项目组", "状态",
                               "语言", "密码"), strict=True))
_ALIASES = {
    "username": ("username", "user", "login", "account", "用户名", "账号", "帐号", "登录名"),
    "display_name": ("displayname", "name", "fullname", "姓名", "显示名", "显示名称"),
    "email": ("email", "mail", "emailaddress", "邮箱", "电子邮箱", "电子邮件", "邮件"),
    "phone": ("phone", "mobile", "tel", "telephone", "电话", "手机", "手机号", "联系电话"),
    "department": ("department", "dept", "departmentcode", "部门", "部门编码", "部门代码"),
    "position": ("position", "positioncode", "职务", "职位"),
    "superior": ("superior", "manager", "supervisor", "上级", "直属上级", "直接上级"),
    "roles": ("roles", "role", "角色"),
    "groups": ("groups", "group", "projectgroups", "项目组", "群组", "小组"),
    "status": ("status", "状态"),
    "language": ("language", "lang", "locale", "语言"),
    "password": ("password", "密码"),
}
_HEADER_FIELD = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
# Spreadsheets written in Chinese use full-width commas and 、 as often as ASCII commas.
_LIST_SEPARATORS = re.compile(r"[,，、;；\s]+")
_HEADER_NOISE = re.compile(r"[(（\[【].*?[)）\]】]|[\s*＊_\-:：]")
_STATUS = {"active": "active", "在职": "active", "正常": "active", "left": "left", "离职": "left", "已离职": "left"}
_LANGUAGE = {"zh_cn": "zh_CN", "zh-cn": "zh_CN", "zh": "zh_CN", "中文": "zh_CN", "简体中文": "zh_CN",
             "en": "en", "english": "en", "英文": "en", "英语": "en"}
# A generated password is 192 random bits nobody ever sees, so key stretching adds nothing; cheap
# parameters keep a 10,000-user import from spending an hour in Argon2. Real passwords use the default.
_UNGUESSABLE = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
_DTD_MARKUP = re.compile(rb"<!(DOCTYPE|ENTITY)\b", re.IGNORECASE)


@dataclass(frozen=True)
class RowError:
    """Why one row cannot be imported: its number in the file, the column and the reason."""

    row: int
    field: str
    code: str
    message: str
    params: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.message}"


@dataclass
class ImportReport:
    """What an import did, or would do on a dry run; with errors nothing was written."""

    file_name: str
    dry_run: bool
    rows: int = 0
    columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    needs_password: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Tell whether every row passed."""
        return not self.errors

    @property
    def written(self) -> bool:
        """Tell whether the rows were saved."""
        return not self.errors and not self.dry_run


@dataclass
class _Row:
    number: int
    cells: dict[str, str]
    key: str = ""  # the lower-case user name, once it passed its checks
    user: User | None = None
    superior: str | None = None  # the lower-case user name of the superior after the import
    values: dict = field(default_factory=dict)


def _refuse(message: str, reason: str, **details) -> Invalid:
    # The reason lets the web page say it in the reader's language; the message is for logs and the API.
    return Invalid(message, details={"field": "file", "reason": reason, **details})


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores phone numbers typed as numbers as floats
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    return str(value).strip()


def _decode(data: bytes) -> str:
    if b"\x00" in data or data.startswith(b"PK\x03\x04"):
        raise _refuse("the file is not a CSV text file (is it an .xlsx saved with a .csv name?)", "not_csv")
    # Excel on Chinese Windows saves CSV in GBK; GB18030 is its superset.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _refuse("the CSV file is neither UTF-8 nor GBK/GB18030 text", "encoding")


def _csv_lines(data: bytes) -> list[list[str]]:
    text = _decode(data)
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = "," if "," in first else "\t" if "\t" in first else ";" if ";" in first else ","
    lines = []
    try:
        for cells in csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter):
            lines.append([c.strip() for c in cells[:MAX_COLUMNS]])
            if len(lines) > MAX_LINES:
                break
    except csv.Error as exc:
        raise _refuse(f"line {len(lines) + 1} cannot be read as CSV: {exc}", "bad_csv",
                      line=len(lines) + 1) from None
    return lines


def _check_package(data: bytes) -> None:
    # openpyxl parses the parts with its own XML parser, so refuse bombs and DTDs before it sees them,
    # as engine.xmlsafe does for models. Excel never writes a DTD into a workbook.
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise _refuse("the file is not an Excel .xlsx workbook", "not_xlsx") from None
    with package:
        members = package.infolist()
        if sum(m.file_size for m in members) > MAX_UNPACKED:
            raise _refuse("the workbook unpacks to more than 100 MB", "unpacked_too_large")
        for member in members:
            if member.filename.endswith((".xml", ".rels")):
                with package.open(member) as part:
                    head = part.read(64 * 1024)
                    tag = re.search(rb"<[A-Za-z_]", head)
                    if _DTD_MARKUP.search(head, 0, tag.start() if tag else len(head)):
                        raise _refuse("the workbook contains DTD declarations, which are not allowed",
                                      "dtd")


def _xlsx_lines(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        _check_package(data)
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Invalid:
        raise
    except Exception as exc:  # zipfile and openpyxl raise many kinds (KeyError, ValueError...) for damage
        raise _refuse(f"the workbook cannot be read: {exc}", "bad_xlsx") from None
    lines = []
    try:
        sheet = book.worksheets[0]  # the template keeps the table on the first sheet
        for values in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
            lines.append([_cell(v) for v in values])
            if len(lines) > MAX_LINES:
                break
    except Exception as exc:
        raise _refuse(f"the workbook cannot be read: {exc}", "bad_xlsx") from None
    finally:
        book.close()
    return lines


def _lines(rows_or_file, file_name: str) -> list[list[str]]:
    if isinstance(rows_or_file, (bytes, bytearray, memoryview)) or hasattr(rows_or_file, "read"):
        data = rows_or_file.read(MAX_BYTES + 1) if hasattr(rows_or_file, "read") else bytes(rows_or_file)
        if isinstance(data, str):
            data = data.encode("utf-8")
        if len(data) > MAX_BYTES:
            raise _refuse("the file is larger than 5 MB; split it into smaller files", "too_large",
                          limit=MAX_BYTES)
        if not data.strip():
            raise _refuse("the file is empty", "empty")
        suffix = file_name.lower().rsplit(".", 1)[-1] if "." in file_name else ""
        if suffix == "csv":
            return _csv_lines(data)
        if suffix == "xlsx":
            return _xlsx_lines(data)
        if suffix == "xls":
            raise _refuse("old Excel .xls files are not supported; save the sheet as .xlsx or CSV",
                          "old_xls")
        raise _refuse("the file is neither CSV nor Excel .xlsx", "wrong_type", file_name=file_name)
    rows = list(rows_or_file)
    if rows and isinstance(rows[0], Mapping):
        header = list(dict.fromkeys(key for row in rows for key in row))
        return [header] + [[_cell(row.get(key)) for key in header] for row in rows]
    return [[_cell(v) for v in row] for row in rows]


def _split(value: str) -> list[str]:
    return list(dict.fromkeys(code for code in _LIST_SEPARATORS.split(value) if code))


def _read_rows(lines: list[list[str]], report: ImportReport) -> list[_Row]:
    if len(lines) > MAX_LINES:
        raise _refuse(f"the file has more than {MAX_LINES:,} lines; remove empty rows or split it",
                      "too_many_lines", limit=MAX_LINES)
    start = next((i for i, line in enumerate(lines) if any(line)), None)
    if start is None:
        raise _refuse("the file has no header row", "no_header")
    columns: dict[int, str] = {}
    for index, title in enumerate(lines[start]):
        name = _HEADER_FIELD.get(_HEADER_NOISE.sub("", title.lower()))
        if name is None:
            if title:
                report.ignored_columns.append(title)
        elif name in columns.values():
            raise _refuse(f"two columns mean {name} (the second is '{title}')", "duplicate_column",
                          column=title, name=name)
        else:
            columns[index] = name
    if "username" not in columns.values():
        raise _refuse(f"the header (row {start + 1}) has no username (用户名) column", "no_username",
                      row=start + 1)
    report.columns = [name for name in FIELDS if name in columns.values()]
    rows = []
    for number, line in enumerate(lines[start + 1:], start=start + 2):
        if not any(line):
            continue
        rows.append(_Row(number, {name: line[i] if i < len(line) else "" for i, name in columns.items()}))
    if len(rows) > MAX_ROWS:
        raise _refuse(f"the file has {len(rows):,} rows; at most {MAX_ROWS:,} can be imported at once",
                      "too_many_rows", rows=len(rows), limit=MAX_ROWS)
    if not rows:
        raise _refuse("the file has a header but no rows", "no_rows")
    report.rows = len(rows)
    return rows


def _existing_users(session: Session, names: Iterable[str]) -> dict[str, User]:
    names, found = sorted(set(names)), {}
    for start in range(0, len(names), 500):  # keep IN lists well below every driver's parameter limit
        chunk = names[start:start + 500]
        for user in session.scalars(select(User).where(func.lower(User.username).in_(chunk))):
            found[user.username.lower()] = user
    return found


class _Checker:
    """Checks rows against the database and each other, collecting every error rather than the first."""

    def __init__(self, session: Session, rows: list[_Row], report: ImportReport):
        self.report = report
        self.codes = {kind: set(session.scalars(select(model.code)))
                      for kind, model in (("department", Department), ("position", Position),
                                          ("roles", Role), ("groups", WorkGroup))}
        names = [row.cells.get("username", "").lower() for row in rows]
        self.existing = _existing_users(session, [n for n in names if n])
        self.in_file: dict[str, int] = {}
        self.session = session

    def error(self, row: _Row, name: str, code: str, message: str, **params) -> None:
        self.report.errors.append(RowError(row.number, name, code, message, params))

    def username(self, row: _Row) -> None:
        name = row.cells.get("username", "")
        if not name:
            return self.error(row, "username", "required", "a user name is required")
        if not _USERNAME.match(name):
            return self.error(row, "username", "invalid_username",
                              "use 2-150 letters, digits, '_', '.', '@' or '-'", value=name)
        if name.lower() in self.in_file:
            return self.error(row, "username", "duplicate_in_file",
                              f"'{name}' is already on row {self.in_file[name.lower()]}",
                              value=name, other=self.in_file[name.lower()])
        self.in_file[name.lower()] = row.number
        row.key, row.user = name.lower(), self.existing.get(name.lower())

    def fields(self, row: _Row) -> None:
        cells, user, values = row.cells, row.user, row.values
        values["display_name"] = cells.get("display_name") or (user.display_name if user else "")
        if not values["display_name"]:
            self.error(row, "display_name", "required", "a name is required for a new user")
        elif len(values["display_name"]) > 200:
            self.error(row, "display_name", "too_long", "at most 200 characters", limit=200)
        for name, limit in (("email", 254), ("phone", 50)):
            values[name] = cells.get(name) or (getattr(user, name) if user else "")
            if len(values[name]) > limit:
                self.error(row, name, "too_long", f"at most {limit} characters", limit=limit)
        if cells.get("email") and not _EMAIL.match(cells["email"]):
            self.error(row, "email", "invalid_email", f"'{cells['email']}' is not an email address",
                       value=cells["email"])
        for name in ("department", "position"):
            code = cells.get(name)
            current = getattr(user, name) if user else None
            values[name] = code or (current.code if current else None)
            if code and code not in self.codes[name]:
                self.error(row, name, "unknown_code", f"no {name} with code '{code}'", value=code)
        for name in ("roles", "groups"):
            codes = _split(cells.get(name, ""))
            values[name] = codes if codes or not user else None  # None keeps what the user has
            for code in codes:
                if code not in self.codes[name]:
                    self.error(row, name, "unknown_code", f"no {name[:-1]} with code '{code}'", value=code)
        self.choice(row, "status", _STATUS, USER_STATUSES, user.status if user else "active")
        self.choice(row, "language", _LANGUAGE, LANGUAGES, user.language if user else None)
        password = cells.get("password", "")
        values["password"] = password or None
        if password and len(password) < MIN_LENGTH:
            self.error(row, "password", "password_too_short", f"at least {MIN_LENGTH} characters",
                       limit=MIN_LENGTH)

    def choice(self, row: _Row, name: str, aliases: dict, allowed: tuple, current) -> None:
        raw = row.cells.get(name, "")
        row.values[name] = aliases.get(raw.lower(), raw) if raw else current
        if raw and row.values[name] not in allowed:
            self.error(row, name, f"invalid_{name}", f"'{raw}' is not one of {', '.join(allowed)}", value=raw)

    def superiors(self, rows: list[_Row]) -> None:
        """Check superiors once every row is known, so a row may name someone defined further down."""
        boss = aliased(User)  # who reports to whom today, by lower-case user name
        chart = dict(self.session.execute(select(func.lower(User.username), func.lower(boss.username))
                                          .outerjoin(boss, User.superior_id == boss.id)).all())
        known = set(chart) | set(self.in_file)
        for row in rows:
            name = row.cells.get("superior", "")
            if name and name.lower() == row.key:
                self.error(row, "superior", "own_superior", "a user cannot be their own superior")
                name = ""
            elif name and name.lower() not in known:
                self.error(row, "superior", "unknown_user",
                           f"no user '{name}' in the system or in this file", value=name)
                name = ""
            row.superior = name.lower() if name else (chart.get(row.key) if row.user else None)
            if row.key:
                chart[row.key] = row.superior
        for row in rows:
            seen, step = [], row.superior
            while step and step != row.key and step not in seen:
                seen.append(step)
                step = chart.get(step)
            if row.key and step == row.key and row.cells.get("superior"):
                chain = " → ".join([row.key, *seen, row.key])
                self.error(row, "superior", "superior_loop", f"superiors would go round in a circle: {chain}",
                           chain=chain)


def _write(session: Session, rows: list[_Row]) -> None:
    new = {row.key for row in rows if row.user is None}
    saved: dict[str, User] = {}
    for row in rows:
        # A superior this file creates does not exist yet: the second pass links it.
        boss = row.superior if row.superior not in new else None
        user = save_user(session=session, user=row.user, superior=boss,
                         username=row.user.username if row.user else row.cells["username"], **row.values)
        if row.user is None and row.values["password"] is None:
            user.password_hash = _UNGUESSABLE.hash(secrets.token_urlsafe(24))
        saved[row.key] = user
    for row in rows:
        if row.superior in new:
            saved[row.key].superior = saved[row.superior]
    session.flush()


def import_users(*, session: Session, rows_or_file, file_name: str, dry_run: bool = False) -> ImportReport:
    """Check every row of a CSV/.xlsx file (bytes, a binary file or rows) and save all of them or none."""
    report = ImportReport(file_name=file_name, dry_run=dry_run)
    rows = _read_rows(_lines(rows_or_file, file_name), report)
    checker = _Checker(session, rows, report)
    for row in rows:
        checker.username(row)
    for row in rows:
        checker.fields(row)
    checker.superiors(rows)
    report.errors.sort(key=lambda e: (e.row, FIELDS.index(e.field) if e.field in FIELDS else 99))
    failed = {error.row for error in report.errors}
    for row in rows:
        if row.number in failed:
            continue
        if row.user is not None:
            report.updated.append(row.user.username)
            continue
        report.created.append(row.cells["username"])
        if row.values["password"] is None:
            report.needs_password.append(row.cells["username"])
    if report.ok and not dry_run:
        _write(session, rows)
    return report


def template(*, file_format: str, language: str = "en") -> bytes:
    """Return an empty import file (CSV or xlsx) whose header is in the given language."""
    header = [HEADERS_ZH[name] if language == "zh_CN" else name for name in FIELDS]
    if file_format == "csv":
        return ("\ufeff" + ",".join(header) + "\r\n").encode("utf-8")  # the BOM makes Excel read UTF-8
    if file_format != "xlsx":
        raise Invalid(f"unknown template format '{file_format}'", details={"field": "format"})
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "用户" if language == "zh_CN" else "users"
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        sheet.column_dimensions[cell.column_letter].width = 16
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()

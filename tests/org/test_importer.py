"""Bulk user import: CSV in UTF-8 and GB18030, xlsx, Chinese headers, forward references, all-or-nothing."""
from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from org import importer, service
from org.errors import Invalid
from org.models import User
from org.passwords import verify_password


def _org(db) -> None:
    """A small organisation without password hashing, so these tests stay fast."""
    with db.command() as session:
        for kind, code, name in [("department", "sales", "销售部"), ("department", "finance", "财务部"),
                                 ("position", "staff", "专员"), ("position", "manager", "经理"),
                                 ("role", "employee", "员工"), ("role", "manager", "主管"),
                                 ("group", "crm_rollout", "CRM 项目组")]:
            service.save_unit(session=session, kind=kind, code=code, name=name)
        service.save_user(session=session, username="li.na", display_name="李娜", email="li.na@example.com",
                          department="sales", position="manager", roles=["manager"], language="zh_CN")


def _run(db, content: bytes | list, name: str = "users.csv", dry_run: bool = False):
    with db.command() as session:
        return importer.import_users(session=session, rows_or_file=content, file_name=name, dry_run=dry_run)


def _users(db) -> dict[str, User]:
    with db.query() as session:
        users = session.query(User).all()
        for user in users:  # load what the assertions read before the session closes
            _ = (user.department, user.position, user.superior, user.roles, user.groups)
        return {u.username: u for u in users}


GOOD_CSV = (
    "\ufeffusername,display_name,email,phone,department,position,superior,roles,groups,status,language,password\r\n"
    "wang.fang,王芳,wang.fang@example.com,13800000001,sales,staff,zhou.min,employee、manager,crm_rollout,,zh_CN,\r\n"
    "\r\n"
    ",,,,,,,,,,,\r\n"
    "zhou.min,周敏,,,finance,manager,li.na,\"employee, manager\",,active,en,secret-pass-1\r\n"
    "li.na,,,,,,,,,,,\r\n"
)


def test_utf8_csv_dry_run_then_import_with_forward_superiors(db):
    _org(db)
    report = _run(db, GOOD_CSV.encode("utf-8"), dry_run=True)
    assert report.ok and report.dry_run and not report.written
    assert report.rows == 3 and report.created == ["wang.fang", "zhou.min"] and report.updated == ["li.na"]
    assert report.needs_password == ["wang.fang"]
    assert set(_users(db)) == {"li.na"}  # a dry run writes nothing

    report = _run(db, GOOD_CSV.encode("utf-8"))
    assert report.written
    users = _users(db)
    wang, zhou, li = users["wang.fang"], users["zhou.min"], users["li.na"]
    assert wang.superior.username == "zhou.min"  # defined two rows further down
    assert zhou.superior.username == "li.na" and zhou.department.code == "finance"
    assert sorted(r.code for r in wang.roles) == ["employee", "manager"]
    assert [g.code for g in wang.groups] == ["crm_rollout"] and wang.phone == "13800000001"
    assert wang.status == "active" and wang.language == "zh_CN" and zhou.language == "en"
    assert verify_password(zhou.password_hash, "secret-pass-1")
    # No password in the file: a random one nobody knows, so the admin must set one.
    assert wang.password_hash and not verify_password(wang.password_hash, "")
    # Blank cells keep what an existing user has.
    assert li.display_name == "李娜" and li.email == "li.na@example.com" and li.department.code == "sales"
    assert [r.code for r in li.roles] == ["manager"] and li.language == "zh_CN"


def test_gb18030_csv_with_chinese_headers(db):
    _org(db)
    text = ("用户名,姓名,邮箱,电话,部门,职务,上级,角色,项目组,状态,语言,密码\n"
            "sun.li,孙丽,sun.li@example.com,,finance,staff,li.na,员工,,离职,中文,long-password\n"
            "zhao.lei,赵磊,,,finance,manager,,employee；manager,crm_rollout,在职,英文,\n")
    text = text.replace("员工", "employee")
    report = _run(db, text.encode("gb18030"))
    assert report.written and report.created == ["sun.li", "zhao.lei"]
    users = _users(db)
    assert users["sun.li"].display_name == "孙丽" and users["sun.li"].status == "left"
    assert users["sun.li"].language == "zh_CN" and users["zhao.lei"].language == "en"
    assert sorted(r.code for r in users["zhao.lei"].roles) == ["employee", "manager"]
    # GBK bytes are not UTF-8, so the fallback decoded them.
    with pytest.raises(UnicodeDecodeError):
        text.encode("gb18030").decode("utf-8")


def test_xlsx_made_with_openpyxl(db):
    _org(db)
    book = Workbook()
    sheet = book.active
    sheet.append(["用户名（必填）", "Display name", "E-mail", "手机", "部门", "position", "上级", "roles", "备注"])
    sheet.append(["gao.yu", "高宇", "gao.yu@example.com", 13800000002, "sales", "staff", "he.jun", "employee", "x"])
    sheet.append([None, None, None, None, None, None, None, None, None])
    sheet.append(["he.jun", "何军", None, None, "sales", "manager", "li.na", "manager", None])
    buffer = io.BytesIO()
    book.save(buffer)
    report = _run(db, io.BytesIO(buffer.getvalue()), name="People.XLSX")
    assert report.written, report.errors
    assert report.columns == ["username", "display_name", "email", "phone", "department", "position",
                              "superior", "roles"]
    assert report.ignored_columns == ["备注"]
    users = _users(db)
    assert users["gao.yu"].phone == "13800000002" and users["gao.yu"].superior.username == "he.jun"


def test_row_errors_are_all_reported_and_nothing_is_written(db):
    _org(db)
    rows = [
        ["username", "display_name", "email", "department", "position", "superior", "roles", "groups", "status",
         "language", "password"],
        ["ok.user", "OK", "", "sales", "", "", "", "", "", "", ""],          # row 2 is fine on its own
        ["bad name", "X", "", "", "", "", "", "", "", "", ""],               # 3
        ["no.name", "", "", "", "", "", "", "", "", "", ""],                 # 4
        ["bad.mail", "X", "not-mail", "", "", "", "", "", "", "", ""],       # 5
        ["bad.pos", "X", "", "", "ceo", "", "", "", "", "", ""],             # 6
        ["bad.dept", "X", "", "salse", "", "", "", "", "", "", ""],          # 7
        ["bad.role", "X", "", "", "", "", "employee, boss", "", "", "", ""],  # 8
        ["bad.group", "X", "", "", "", "", "", "nope", "", "", ""],          # 9
        ["bad.boss", "X", "", "", "", "nobody", "", "", "", "", ""],         # 10
        ["self.boss", "X", "", "", "", "SELF.boss", "", "", "", "", ""],     # 11
        ["bad.status", "X", "", "", "", "", "", "", "gone", "", ""],         # 12
        ["bad.lang", "X", "", "", "", "", "", "", "", "fr", ""],             # 13
        ["short.pw", "X", "", "", "", "", "", "", "", "", "short"],          # 14
        ["OK.user", "Again", "", "", "", "", "", "", "", "", ""],            # 15
        ["loop.a", "A", "", "", "", "loop.b", "", "", "", "", ""],           # 16
        ["loop.b", "B", "", "", "", "loop.a", "", "", "", "", ""],           # 17
        ["", "Nameless", "", "", "", "", "", "", "", "", ""],                # 18
    ]
    report = _run(db, rows, name="rows")
    found = {(e.row, e.field, e.code) for e in report.errors}
    assert found == {
        (3, "username", "invalid_username"), (4, "display_name", "required"), (5, "email", "invalid_email"),
        (6, "position", "unknown_code"), (7, "department", "unknown_code"), (8, "roles", "unknown_code"),
        (9, "groups", "unknown_code"), (10, "superior", "unknown_user"), (11, "superior", "own_superior"),
        (12, "status", "invalid_status"), (13, "language", "invalid_language"),
        (14, "password", "password_too_short"), (15, "username", "duplicate_in_file"),
        (16, "superior", "superior_loop"), (17, "superior", "superior_loop"), (18, "username", "required"),
    }
    by_row = {e.row: e for e in report.errors}
    assert str(by_row[7]) == "row 7, department: no department with code 'salse'"
    assert by_row[15].params["other"] == 2 and by_row[8].params["value"] == "boss"
    assert not report.ok and not report.written and "ok.user" in report.created
    assert set(_users(db)) == {"li.na"}  # not even the good row was written


def test_a_loop_through_an_existing_user_is_refused(db):
    _org(db)
    _run(db, [["username", "display_name", "superior"], ["boss", "Boss", "li.na"]])
    report = _run(db, [["username", "superior"], ["li.na", "boss"]])
    assert [(e.field, e.code, e.params["chain"]) for e in report.errors] == [
        ("superior", "superior_loop", "li.na → boss → li.na")]


@pytest.mark.parametrize("content, name, reason", [
    (b"username\nx.y\n", "users.pdf", "neither CSV nor Excel"),
    (b"username\nx.y\n", "users", "neither CSV nor Excel"),
    (b"\xd0\xcf\x11\xe0 old excel", "users.xls", ".xls files are not supported"),
    (b"PK\x03\x04 zipped", "users.csv", "not a CSV text file"),
    (b"not a zip", "users.xlsx", "not an Excel .xlsx workbook"),
    (b"", "users.csv", "empty"),
    (b"name,email\nX,x@example.com\n", "users.csv", "no username"),
    ("\n\n姓名,邮箱\n王芳,a@b.cn\n".encode("gb18030"), "users.csv", "no username"),
    (b"username,user\nx,y\n", "users.csv", "two columns mean username"),
    (b"username,display_name\n", "users.csv", "no rows"),
    (b"username\n" + b"x" * importer.MAX_BYTES, "users.csv", "larger than 5 MB"),
    (b"username\n" + b"user.n\n" * (importer.MAX_ROWS + 1), "users.csv", "at most 10,000 can be imported"),
])
def test_unreadable_files_are_refused_with_a_reason(content, name, reason):
    with pytest.raises(Invalid) as caught:
        importer.import_users(session=None, rows_or_file=content, file_name=name)
    assert reason in caught.value.message and caught.value.details["field"] == "file"


def test_a_workbook_with_a_dtd_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><Types/>')
    with pytest.raises(Invalid, match="DTD"):
        importer.import_users(session=None, rows_or_file=buffer.getvalue(), file_name="bomb.xlsx")


def test_templates_have_the_header_in_either_language():
    csv_text = importer.template(file_format="csv", language="zh_CN").decode("utf-8-sig")
    assert csv_text.startswith("用户名,姓名,邮箱")
    book = load_workbook(io.BytesIO(importer.template(file_format="xlsx")))
    assert [c.value for c in book.worksheets[0][1]] == list(importer.FIELDS)
    with pytest.raises(Invalid, match="no rows"):  # the empty template reads, with nothing to import
        importer.import_users(session=None, rows_or_file=importer.template(file_format="xlsx"),
                              file_name="template.xlsx")

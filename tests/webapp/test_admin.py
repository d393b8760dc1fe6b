"""The admin area: admins only, departments, positions, roles, groups, users and the bulk import."""
from __future__ import annotations

import io
import re

from openpyxl import Workbook, load_workbook

from org import service
from org.models import User

USER_FORM = {"username": "zhou.jie", "display_name": "周杰", "email": "zhou.jie@example.com", "phone": "139",
             "department": "sales", "position": "staff", "superior": "li.na", "roles": ["employee"],
             "groups": ["crm_rollout"], "status": "active", "language": "zh_CN", "password": "first-pass-1"}


def _concrete(rule: str, ids: dict) -> str:
    ids = {**ids, "code": "admin"} if "<plural>" in rule else ids  # the roles page edits a role code
    return re.sub(r"<(?:int:)?([^>]+)>", lambda m: str(ids.get(m.group(1), "x")), rule)


def _user(app, username: str) -> User:
    with app.extensions["flowdesk.database"].query() as session:
        user = service.get_user_by_name(session=session, username=username)
        if user is not None:
            _ = (user.department, user.position, user.superior, user.roles, user.groups)
        return user


def _html(response) -> str:
    return response.get_data(as_text=True)


def _listed(html: str) -> list[str]:
    return re.findall(r'<tr data-testid="user-([^"]+)"', html)


def test_every_admin_page_and_action_is_for_admins_only(app, login):
    wang_id = _user(app, "wang.fang").id
    ids = {"user_id": wang_id, "code": "sales", "plural": "roles", "file_format": "csv"}
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("admin.")]
    assert len(rules) >= 14
    for username in ("li.na", "wang.fang"):
        client = login(username)
        for rule in rules:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(_concrete(rule.rule, ids), method=method, data={"name": "x"})
                assert response.status_code == 403, (username, method, rule.rule, response.status_code)
    assert _user(app, "wang.fang").active  # the refused POSTs changed nothing
    admin = login("admin")
    for rule in rules:
        if "GET" in rule.methods:
            response = admin.get(_concrete(rule.rule, ids))
            assert response.status_code == 200, (rule.rule, response.status_code)
    nav = _html(admin.get("/admin/"))
    assert 'href="/admin/"' in nav and 'data-testid="admin-nav"' in nav  # the main menu links here now


def test_overview_tree_and_user_list(login):
    admin = login("admin")
    page = _html(admin.get("/admin/"))
    assert re.search(r'data-testid="count-active".*?>\s*20<', page, re.S)
    assert re.search(r'data-testid="count-department".*?>\s*7<', page, re.S)
    tree = _html(admin.get("/admin/departments"))
    office, sales = tree.index('data-testid="department-office"'), tree.index('data-testid="department-sales"')
    assert office < sales and "padding-left: 1.5rem" in tree[sales:sales + 300]
    row = tree[sales:tree.index("</tr>", sales)]
    assert "销售部" in row and "李娜" in row and ">4</a>" in row  # leader and active members
    users = _html(admin.get("/admin/users?q=WANG"))
    assert 'data-testid="user-wang.fang"' in users and 'data-testid="user-li.na"' not in users
    sales_users = _html(admin.get("/admin/users?department=sales"))
    assert len(_listed(sales_users)) == 4
    assert 'data-testid="no-users"' in _html(admin.get("/admin/users?status=left"))
    assert "No user matches" in _html(admin.get("/admin/users?q=nobody-at-all"))
    roles = _html(admin.get("/admin/roles"))
    assert 'data-testid="unit-admin"' in roles and "系统管理员" in roles


def test_user_list_pages(app, login):
    with app.extensions["flowdesk.database"].command() as session:
        for n in range(30):
            service.save_user(session=session, username=f"temp.{n:02d}", display_name=f"Temp {n}")
    admin = login("admin")
    first = _html(admin.get("/admin/users"))
    assert len(_listed(first)) == 25 and "50 in total" in first
    assert 'href="/admin/users?page=2' in first
    second = _html(admin.get("/admin/users?page=2"))
    assert len(_listed(second)) == 25 and 'data-testid="user-zhou.min"' in second
    assert len(_listed(_html(admin.get("/admin/users?page=99")))) == 25  # last page


def test_departments_create_edit_and_errors_next_to_fields(login):
    admin = login("admin")
    form = {"code": "bad code", "name": "", "name_en": "", "parent": "", "leader": "", "sort": "x"}
    response = admin.post("/admin/departments/new", data=form)
    assert response.status_code == 422 and 'data-testid="error-sort"' in _html(response)
    response = admin.post("/admin/departments/new", data={**form, "sort": "1"})
    assert response.status_code == 422 and 'data-testid="error-code"' in _html(response)
    response = admin.post("/admin/departments/new", data={**form, "code": "sales", "name": "Dup", "sort": "1"})
    assert response.status_code == 422 and "This code is already used." in _html(response)
    response = admin.post("/admin/departments/new", data={**form, "code": "legal", "name": "", "sort": "1"})
    assert response.status_code == 422 and 'data-testid="error-name"' in _html(response)
    response = admin.post("/admin/departments/new", data={**form, "code": "legal", "name": "法务部",
                                                          "leader": "nobody", "sort": "1"})
    assert response.status_code == 422 and 'data-testid="error-leader"' in _html(response)
    assert 'value="法务部"' in _html(response)  # what was typed stays in the form
    response = admin.post("/admin/departments/new", data={**form, "code": "legal", "name": "法务部",
                                                          "name_en": "Legal", "parent": "office",
                                                          "leader": "zhou.min", "sort": "9"})
    assert response.status_code == 302
    tree = _html(admin.get("/admin/departments"))
    assert 'data-testid="department-legal"' in tree and "周敏" in tree
    edit = _html(admin.get("/admin/departments/office/edit"))
    assert 'value="office"' in edit and "readonly" in edit
    assert '<option value="sales"' not in edit  # a department cannot move under its own sub-department
    response = admin.post("/admin/departments/office/edit", data={**form, "code": "ignored", "name": "总经办",
                                                                  "parent": "legal", "sort": "0"})
    assert response.status_code == 422 and 'data-testid="error-parent"' in _html(response)
    response = admin.post("/admin/departments/legal/edit", data={**form, "code": "ignored", "name": "法务与合规",
                                                                 "parent": "office", "leader": "", "sort": "2"})
    assert response.status_code == 302
    row = _html(admin.get("/admin/departments"))
    assert "法务与合规" in row and 'data-testid="department-ignored"' not in row
    assert admin.get("/admin/departments/nope/edit").status_code == 404


def test_positions_roles_and_groups(login):
    admin = login("admin")
    response = admin.post("/admin/positions/new", data={"code": "vp", "name": "副总裁", "level": "high"})
    assert response.status_code == 422 and 'data-testid="error-level"' in _html(response)
    assert admin.post("/admin/positions/new", data={"code": "vp", "name": "副总裁", "name_en": "VP",
                                                    "level": "2"}).status_code == 302
    assert "副总裁" in _html(admin.get("/admin/positions"))
    response = admin.post("/admin/roles/new", data={"code": "admin", "name": "Again"})
    assert response.status_code == 422 and 'data-testid="error-code"' in _html(response)
    response = admin.post("/admin/groups/new", data={"code": "a b", "name": "X"})
    assert response.status_code == 422 and "letters, digits" in _html(response)
    assert admin.post("/admin/groups/new", data={"code": "erp", "name": "ERP 项目组"}).status_code == 302
    assert admin.post("/admin/groups/erp/edit", data={"code": "x", "name": "ERP 二期"}).status_code == 302
    groups = _html(admin.get("/admin/groups"))
    assert "ERP 二期" in groups and 'data-testid="unit-x"' not in groups
    assert admin.get("/admin/teams").status_code == 404
    assert admin.get("/admin/roles/nope/edit").status_code == 404


def test_user_create_edit_leave_round_trip(app, login):
    admin = login("admin")
    page = _html(admin.get("/admin/users/new"))
    assert 'name="password"' in page and 'id="role-employee"' in page
    response = admin.post("/admin/users/new", data={**USER_FORM, "username": "wang.fang", "password": ""})
    html = _html(response)  # the form's own check and the domain's show together
    assert response.status_code == 422 and 'data-testid="error-password"' in html
    assert "This user name is taken." in html and 'value="wang.fang"' in html
    for field, value in [("username", "wang.fang"), ("email", "not-mail"), ("superior", "nobody"),
                         ("display_name", ""), ("superior", "zhou.jie"), ("password", "short")]:
        response = admin.post("/admin/users/new", data={**USER_FORM, field: value})
        html = _html(response)
        assert response.status_code == 422 and f'data-testid="error-{field}"' in html, field
        assert "first-pass-1" not in html  # a typed password is never sent back
    assert admin.post("/admin/users/new", data=USER_FORM).status_code == 302
    user = _user(app, "zhou.jie")
    assert user.department.code == "sales" and user.superior.username == "li.na" and user.language == "zh_CN"
    assert [g.code for g in user.groups] == ["crm_rollout"] and [r.code for r in user.roles] == ["employee"]
    newcomer = app.test_client()
    assert newcomer.post("/login", data={"username": "zhou.jie", "password": "first-pass-1"}).status_code == 302

    edit = _html(admin.get(f"/admin/users/{user.id}/edit"))
    assert 'value="zhou.jie"' in edit and 'value="li.na"' in edit and "checked" in edit
    changes = {**USER_FORM, "department": "finance", "superior": "zhao.lei", "roles": ["employee", "manager"],
               "groups": [], "password": ""}
    assert admin.post(f"/admin/users/{user.id}/edit", data=changes).status_code == 302
    user = _user(app, "zhou.jie")
    assert user.department.code == "finance" and user.superior.username == "zhao.lei" and not user.groups
    assert sorted(r.code for r in user.roles) == ["employee", "manager"]
    assert app.test_client().post("/login", data={"username": "zhou.jie",
                                                  "password": "first-pass-1"}).status_code == 302  # kept

    confirm = _html(admin.get(f"/admin/users/{user.id}/leave"))
    assert 'data-testid="confirm-leave"' in confirm and "nothing is deleted" in confirm
    assert admin.post(f"/admin/users/{user.id}/leave").status_code == 302
    assert _user(app, "zhou.jie").status == "left"
    assert newcomer.get("/").status_code == 302  # the open session ends with the account
    assert app.test_client().post("/login", data={"username": "zhou.jie",
                                                  "password": "first-pass-1"}).status_code == 401
    left = _html(admin.get("/admin/users?status=left"))
    assert 'data-testid="user-zhou.jie"' in left  # the user and their history stay
    assert admin.post(f"/admin/users/{user.id}/reactivate").status_code == 302
    assert _user(app, "zhou.jie").active
    assert admin.get("/admin/users/99999/edit").status_code == 404


def test_leaving_warns_about_open_tasks_and_led_departments(login, app):
    employee = login("wang.fang")
    response = employee.post("/processes/leave_request/start", data={
        "leave_type": "annual", "start_date": "2026-12-01", "end_date": "2026-12-03", "days": "3",
        "reason": "事假", "manager": "li.na"})
    assert response.status_code == 302
    admin = login("admin")
    page = _html(admin.get(f"/admin/users/{_user(app, 'li.na').id}/leave"))
    assert 'data-testid="open-tasks"' in page and 'data-testid="leads"' in page and "销售部" in page


def test_admins_cannot_lock_themselves_out(app, login):
    admin = login("admin")
    me = _user(app, "admin")
    form = {"username": "admin", "display_name": "系统管理员", "department": "office", "status": "left",
            "roles": ["employee"], "language": "en"}
    response = admin.post(f"/admin/users/{me.id}/edit", data=form)
    html = _html(response)
    assert response.status_code == 422 and 'data-testid="error-status"' in html and 'data-testid="error-roles"' in html
    assert admin.post(f"/admin/users/{me.id}/leave").status_code == 302
    assert _user(app, "admin").active and _user(app, "admin").has_role("admin")


GOOD_CSV = ("用户名,姓名,部门,职务,上级,角色,密码\n"
            "new.one,新人一,sales,staff,new.two,employee,\n"
            "new.two,新人二,sales,manager,li.na,employee、manager,second-pass-2\n")


def test_import_check_then_confirm(app, login):
    admin = login("admin")
    page = _html(admin.get("/admin/import"))
    assert 'data-testid="template-xlsx"' in page and "用户名" in page
    csv_template = admin.get("/admin/import/template.csv")
    assert csv_template.headers["Content-Disposition"].startswith("attachment")
    assert csv_template.data.decode("utf-8-sig").startswith("username,display_name")
    book = load_workbook(io.BytesIO(admin.get("/admin/import/template.xlsx").data))
    assert book.worksheets[0]["A1"].value == "username"
    zh = login("admin", lang="zh_CN")
    assert zh.get("/admin/import/template.csv").data.decode("utf-8-sig").startswith("用户名,姓名")

    def check(content: bytes, name: str):
        return admin.post("/admin/import", data={"file": (io.BytesIO(content), name)},
                          content_type="multipart/form-data")

    response = admin.post("/admin/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and 'data-testid="error-file"' in _html(response)
    response = check(b"%PDF-1.4", "users.pdf")
    assert response.status_code == 422 and "Upload a CSV or Excel .xlsx file." in _html(response)
    response = check(b"name,email\nX,x@example.com\n", "users.csv")
    assert response.status_code == 422 and "no username" in _html(response)
    bad = GOOD_CSV + "bad.dept,坏部门,salse,,,,\n"
    response = check(bad.encode("gb18030"), "users.csv")
    html = _html(response)
    assert response.status_code == 422 and 'data-testid="row-error-4-department"' in html
    assert "No department with code “salse”." in html and "Nothing was imported" in html
    assert _user(app, "new.one") is None

    response = check(GOOD_CSV.encode("gb18030"), "users.csv")
    html = _html(response)
    assert response.status_code == 200 and 'data-testid="confirm-import"' in html
    assert "New users: 2" in html and 'data-testid="preview-needs-password"' in html
    assert _user(app, "new.one") is None  # checking wrote nothing
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    assert admin.post("/admin/import/confirm", data={"token": "../../etc", "file_name": "users.csv"}
                      ).status_code == 302
    done = admin.post("/admin/import/confirm", data={"token": token, "file_name": "users.csv"})
    html = _html(done)
    assert done.status_code == 200 and 'data-testid="needs-password"' in html and "new.one" in html
    assert _user(app, "new.one").superior.username == "new.two"
    assert sorted(r.code for r in _user(app, "new.two").roles) == ["employee", "manager"]
    again = admin.post("/admin/import/confirm", data={"token": token, "file_name": "users.csv"})
    assert again.status_code == 302  # a checked file is imported once


def test_import_confirm_rechecks_what_changed_since(app, login):
    admin = login("admin")
    response = admin.post("/admin/import", data={"file": (io.BytesIO(GOOD_CSV.encode()), "users.csv")},
                          content_type="multipart/form-data")
    token = re.search(r'name="token" value="([^"]+)"', _html(response)).group(1)
    with app.extensions["flowdesk.database"].command() as session:
        service.save_user(session=session, username="new.one", display_name="Already here",
                          department="finance")
    with app.extensions["flowdesk.database"].command() as session:
        session.execute(User.__table__.update().where(User.username == "li.na").values(username="li.na.old"))
    response = admin.post("/admin/import/confirm", data={"token": token, "file_name": "users.csv"})
    assert response.status_code == 422 and 'data-testid="row-error-3-superior"' in _html(response)
    assert _user(app, "new.two") is None and _user(app, "new.one").display_name == "Already here"


def test_import_reads_excel_and_speaks_chinese(login):
    admin = login("admin", lang="zh_CN")
    book = Workbook()
    book.active.append(["用户名", "姓名", "邮箱", "部门"])
    book.active.append(["xlsx.user", "表格用户", "bad-mail", "sales"])
    buffer = io.BytesIO()
    book.save(buffer)
    response = admin.post("/admin/import", data={"file": (io.BytesIO(buffer.getvalue()), "用户.xlsx")},
                          content_type="multipart/form-data")
    html = _html(response)
    assert response.status_code == 422 and 'data-testid="row-error-2-email"' in html
    assert "没有导入任何数据" in html and "不是有效的邮箱地址" in html
    page = _html(admin.get("/admin/departments"))
    assert "部门" in page and "新建部门" in page

"""Pages: sign-in, inbox views, starting and completing a leave request, permissions, errors."""
from __future__ import annotations

import re

LEAVE_FORM = {"leave_type": "annual", "start_date": "2026-12-01", "end_date": "2026-12-03", "days": "3",
              "reason": "家里有事", "manager": "li.na"}


def _start_leave(client, **overrides) -> int:
    response = client.post("/processes/leave_request/start", data={**LEAVE_FORM, **overrides})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[-1])


def _task_id(client, view="mine") -> int:
    html = client.get(f"/?view={view}").get_data(as_text=True)
    ids = re.findall(r'data-testid="task-(\d+)"', html)
    assert ids, html
    return int(ids[0])


def test_pages_need_sign_in(client):
    for path in ("/", "/processes/", "/tasks/1", "/instances/1", "/account/tokens", "/instances/"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_wrong_password_then_throttle(client):
    for _ in range(5):
        response = client.post("/login", data={"username": "wang.fang", "password": "nope-nope"})
        assert response.status_code == 401 and "Wrong user name or password" in response.get_data(as_text=True)
    response = client.post("/login", data={"username": "wang.fang", "password": "flowdesk-demo"})
    assert response.status_code == 401 and "Too many failed attempts" in response.get_data(as_text=True)


def test_open_redirect_is_refused(app):
    client = app.test_client()
    response = client.post("/login?next=https://evil.example/", data={"username": "wang.fang",
                                                                       "password": "flowdesk-demo"})
    assert response.headers["Location"] == "/"


def test_leave_request_from_start_to_approval(login):
    employee = login("wang.fang")
    assert "Leave request" in employee.get("/processes/").get_data(as_text=True)
    form = employee.get("/processes/leave_request/start").get_data(as_text=True)
    assert 'value="li.na"' in form  # the manager field defaults to the superior
    instance_id = _start_leave(employee)
    page = employee.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "Manager approval" in page and "家里有事" in page
    manager = login("li.na")
    task_id = _task_id(manager)
    task_page = manager.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "家里有事" in task_page and 'data-testid="approve"' in task_page
    response = manager.post(f"/tasks/{task_id}/complete", data={"decision": "approve", "comment": "同意"})
    assert response.status_code == 302
    hr = login("wu.qiang")
    hr_task = _task_id(hr, "group")
    assert hr.post(f"/tasks/{hr_task}/claim").status_code == 302
    assert hr.post(f"/tasks/{hr_task}/complete", data={"decision": "approve"}).status_code == 302
    page = employee.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert 'data-testid="status"' in page and "Completed" in page and "同意" in page
    done = manager.get("/?view=done").get_data(as_text=True)
    assert "Leave request" in done and "Approved" in done
    started = employee.get("/?view=started").get_data(as_text=True)
    assert f'data-testid="instance-{instance_id}"' in started


def test_start_form_errors_are_shown_next_to_fields(login):
    employee = login("wang.fang")
    response = employee.post("/processes/leave_request/start",
                             data={**LEAVE_FORM, "days": "0.1", "start_date": "not-a-date", "leave_type": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-testid="error-days"' in html and "at least 0.5" in html
    assert 'data-testid="error-start_date"' in html
    assert 'data-testid="error-leave_type"' in html


def test_reject_needs_a_comment(login):
    employee = login("wang.fang")
    _start_leave(employee)
    manager = login("li.na")
    task_id = _task_id(manager)
    response = manager.post(f"/tasks/{task_id}/complete", data={"decision": "reject"})
    assert response.status_code == 422 and 'data-testid="error-comment"' in response.get_data(as_text=True)
    assert manager.post(f"/tasks/{task_id}/complete",
                        data={"decision": "reject", "comment": "人手不够"}).status_code == 302


def test_other_departments_cannot_see_or_act_on_a_task(login):
    employee = login("wang.fang")
    instance_id = _start_leave(employee)
    manager = login("li.na")
    task_id = _task_id(manager)
    outsider = login("gao.yu")
    assert outsider.get(f"/tasks/{task_id}").status_code == 404
    assert outsider.post(f"/tasks/{task_id}/complete", data={"decision": "approve"}).status_code in (403, 404)
    assert outsider.get(f"/instances/{instance_id}").status_code == 404
    assert outsider.get(f"/instances/{instance_id}/diagram.svg").status_code == 404
    assert outsider.get("/instances/").status_code == 403
    assert manager.get(f"/tasks/{task_id}").status_code == 200


def test_inbox_filters_and_saved_filters(login):
    employee = login("wang.fang")
    _start_leave(employee)
    manager = login("li.na")
    assert 'data-testid="task-' in manager.get("/?view=mine&process=leave_request&f.leave_type=annual").get_data(
        as_text=True)
    assert 'data-testid="empty-inbox"' in manager.get("/?view=mine&f.leave_type=sick").get_data(as_text=True)
    assert manager.get("/?view=mine&created_from=31-12-2026").status_code == 400
    assert manager.get("/?view=nope").status_code == 400
    response = manager.post("/filters", data={"view": "mine", "name": "年假", "f.leave_type": "annual"})
    assert response.status_code == 302
    assert "年假" in manager.get("/").get_data(as_text=True)


def test_language_switch_and_chinese_pages(login):
    employee = login("wang.fang", lang=None)  # the demo user's setting is Chinese
    html = employee.get("/").get_data(as_text=True)
    assert "我的待办" in html
    employee.post("/language", data={"lang": "en", "next": "/"})
    assert "My tasks" in employee.get("/").get_data(as_text=True)


def test_security_headers_and_error_pages(login):
    client = login("wang.fang")
    response = client.get("/")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    missing = client.get("/instances/999999")
    assert missing.status_code == 404 and "Back to my inbox" in missing.get_data(as_text=True) or \
        "返回我的待办" in missing.get_data(as_text=True)


def test_diagram_is_served_as_svg(login):
    employee = login("wang.fang")
    instance_id = _start_leave(employee)
    response = employee.get(f"/instances/{instance_id}/diagram.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert b"manager_approval" in response.data


def test_attachments_are_stored_once_limited_and_permission_checked(login, app):
    import io
    employee = login("wang.fang")
    pdf = b"%PDF-1.4 sick note" + b"x" * 100
    response = employee.post("/processes/leave_request/start", data={
        **LEAVE_FORM, "documents": [(io.BytesIO(pdf), "病假条.pdf"), (io.BytesIO(pdf), "copy.pdf")]},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    instance_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    page = employee.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "病假条.pdf" in page and "copy.pdf" in page
    ids = [int(i) for i in re.findall(r"/instances/attachments/(\d+)", page)]
    download = employee.get(f"/instances/attachments/{ids[0]}")
    assert download.status_code == 200 and download.data == pdf
    assert "attachment" in download.headers["Content-Disposition"]
    blobs = [p for p in (app.extensions["flowdesk.settings"].var_dir / "files").rglob("*") if p.is_file()]
    assert len(blobs) == 1  # identical bytes are stored once
    assert login("gao.yu").get(f"/instances/attachments/{ids[0]}").status_code == 404
    assert login("li.na").get(f"/instances/attachments/{ids[0]}").status_code == 200
    fake = employee.post("/processes/leave_request/start", data={
        **LEAVE_FORM, "documents": [(io.BytesIO(b"MZ not a pdf"), "virus.pdf")]}, content_type="multipart/form-data")
    assert fake.status_code == 422 and "does not look like a .pdf file" in fake.get_data(as_text=True)
    exe = employee.post("/processes/leave_request/start", data={
        **LEAVE_FORM, "documents": [(io.BytesIO(b"MZ"), "tool.exe")]}, content_type="multipart/form-data")
    assert exe.status_code == 422 and "are not accepted" in exe.get_data(as_text=True)
    page = employee.get("/?view=started").get_data(as_text=True)
    assert page.count('data-testid="instance-') == 1  # the refused forms started nothing


def test_a_task_form_can_hide_instance_fields_from_its_node(login, app, db):
    import json as _json

    from definitions import service as definitions
    from definitions.bundle import read_path
    from tests.conftest import ROOT
    files = read_path(ROOT / "bpmn" / "leave_request")
    form = _json.loads(files["approval_form.json"])
    form["x-hidden-fields"] = ["reason"]
    files["approval_form.json"] = _json.dumps(form).encode()
    with db.command() as session:
        definitions.deploy(session=session, files=files)
    employee = login("wang.fang")
    _start_leave(employee)
    manager = login("li.na")
    task_id = _task_id(manager)
    page = manager.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "家里有事" not in page and "Working days" in page
    token = manager.post("/api/v1/auth/token", json={"username": "li.na", "password": "flowdesk-demo"}).get_json()
    task = manager.get(f"/api/v1/tasks/{task_id}", headers={"Authorization": f"Bearer {token['token']}"}).get_json()
    assert "reason" not in task["instance"]["data"] and task["instance"]["data"]["days"] == 3


def test_group_tasks_name_the_department_not_its_code(login):
    employee = login("wang.fang")
    instance_id = _start_leave(employee)
    manager = login("li.na")
    manager.post(f"/tasks/{_task_id(manager)}/complete", data={"decision": "approve"})
    page = employee.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "Human resources" in page


def test_the_catalogue_and_start_page_describe_a_process_in_the_readers_language(login):
    english, chinese = login("wang.fang"), login("wang.fang", lang="zh_CN")
    en_catalogue = english.get("/processes/").get_data(as_text=True)
    zh_catalogue = chinese.get("/processes/").get_data(as_text=True)
    assert "An employee asks for leave" in en_catalogue and "员工申请休假" not in en_catalogue
    assert "员工申请休假" in zh_catalogue and "An employee asks for leave" not in zh_catalogue
    assert "员工申请休假" in chinese.get("/processes/leave_request/start").get_data(as_text=True)
    # The search box finds a process by either description.
    assert "leave_request" in chinese.get("/processes/?q=假期余额").get_data(as_text=True)


def test_every_shipped_process_describes_itself_in_chinese_too():
    import json

    from tests.conftest import ROOT

    for path in sorted((ROOT / "bpmn").glob("*/process.json")):
        metadata = json.loads(path.read_text(encoding="utf-8"))
        assert metadata.get("description"), path
        assert re.search(r"[\u4e00-\u9fff]{10}", metadata.get("description_zh") or ""), path

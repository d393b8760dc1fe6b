"""The API's contract: every route is in the OpenAPI document, and garbage never gives a server error."""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from jsonschema import Draft202012Validator

from tests.conftest import DATA

from .test_api import LEAVE, ApiClient, sign_in, start_leave

PREFIX = "/api/v1"
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _routes(app) -> list[tuple[str, str, list[str]]]:
    """Return (OpenAPI path, method, parameter names) of every API route."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        path = re.sub(r"<(?:[^<>:]+:)?(\w+)>", r"{\1}", rule.rule)[len(PREFIX):]
        for method in sorted(rule.methods - IGNORED_METHODS):
            out.append((path, method, sorted(rule.arguments)))
    return out


def _resolve(document: dict, pointer: str) -> dict:
    node = document
    for part in pointer.lstrip("#/").split("/"):
        node = node[part]
    return node


def test_every_route_is_documented(app, client):
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.") and document["servers"] == [{"url": PREFIX}]
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "A personal API token (fd_...)."}
    routes = _routes(app)
    assert len(routes) >= 20
    documented = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    assert {(path, method) for path, method, _ in routes} == documented
    for path, method, arguments in routes:
        operation = document["paths"][path][method.lower()]
        assert operation["summary"] and "200" in operation["responses"] or "201" in operation["responses"]
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == set(arguments), (path, method)
        if operation.get("security") != []:
            assert "401" in operation["responses"], (path, method)
        if method == "POST" and path != "/tasks/{task_id}/claim" and path != "/tasks/{task_id}/unclaim":
            assert "requestBody" in operation, (path, method)
    # Every $ref points at something, and errors use the one error shape.
    text = response.get_data(as_text=True)
    for pointer in set(re.findall(r'"\$ref":\s*"([^"]+)"', text)):
        assert _resolve(document, pointer), pointer
    for name, answer in document["components"]["responses"].items():
        assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, name


def _documented_schema(document: dict, template: str, method: str, status: int) -> dict:
    answer = document["paths"][template][method.lower()]["responses"][str(status)]
    if "$ref" in answer:
        answer = _resolve(document, answer["$ref"])
    return answer["content"]["application/json"]["schema"]


def test_responses_match_the_document(app, client):
    document = client.get(f"{PREFIX}/openapi.json").get_json()
    seen = set()

    def call(api: ApiClient | None, method: str, template: str, status: int, path: str | None = None, **kwargs):
        url = PREFIX + (path or template)
        response = (api.client if api else client).open(url, method=method, headers=api.headers if api else {},
                                                          **kwargs)
        assert response.status_code == status, (url, response.get_data(as_text=True))
        schema = {"components": document["components"], **_documented_schema(document, template, method, status)}
        errors = [e.message for e in Draft202012Validator(schema).iter_errors(response.get_json())]
        assert errors == [], (url, errors[:3])
        seen.add((template, method))
        return response.get_json()

    call(None, "POST", "/auth/token", 401, json={"username": "wang.fang", "password": "wrong-one"})
    call(None, "GET", "/me", 401)
    employee, manager, hr = sign_in(client, "wang.fang"), sign_in(client, "li.na"), sign_in(client, "wu.qiang")
    call(employee, "GET", "/me", 200)
    call(employee, "GET", "/users", 200, "/users?page_size=3")
    call(employee, "GET", "/users/{username}", 200, "/users/li.na")
    call(employee, "GET", "/users/{username}", 404, "/users/nobody")
    call(employee, "GET", "/departments", 200)
    call(employee, "GET", "/definitions", 200)
    call(employee, "GET", "/definitions/{key}", 200, "/definitions/leave_request")
    call(employee, "POST", "/definitions/{key}/instances", 422, "/definitions/leave_request/instances", json={})
    started = call(employee, "POST", "/definitions/{key}/instances", 201, "/definitions/leave_request/instances",
                   json={"data": LEAVE, "business_key": "HR-1"})
    call(employee, "GET", "/instances", 200)
    call(employee, "GET", "/instances/{instance_id}", 200, f"/instances/{started['id']}")
    call(employee, "GET", "/tasks", 200, "/tasks?view=started")
    call(employee, "GET", "/tasks", 400, "/tasks?view=nope")
    task = call(manager, "GET", "/tasks", 200, "/tasks?view=mine")["items"][0]
    call(manager, "GET", "/tasks/{task_id}", 200, f"/tasks/{task['id']}")
    call(manager, "POST", "/tasks/{task_id}/complete", 200, f"/tasks/{task['id']}/complete",
         json={"decision": "approve"})
    group_task = call(hr, "GET", "/tasks", 200, "/tasks?view=group")["items"][0]
    call(hr, "POST", "/tasks/{task_id}/claim", 200, f"/tasks/{group_task['id']}/claim")
    call(hr, "POST", "/tasks/{task_id}/unclaim", 200, f"/tasks/{group_task['id']}/unclaim")
    call(hr, "POST", "/tasks/{task_id}/unclaim", 409, f"/tasks/{group_task['id']}/unclaim")
    call(hr, "POST", "/tasks/{task_id}/complete", 200, f"/tasks/{group_task['id']}/complete",
         json={"decision": "reject", "comment": "no"})
    call(hr, "GET", "/tasks", 200, "/tasks?view=done")
    call(employee, "GET", "/instances/{instance_id}", 200, f"/instances/{started['id']}")
    call(employee, "POST", "/definitions", 403, data={}, content_type="multipart/form-data")
    designer = sign_in(client, "luo.bin")
    upload = (DATA / "bpmn" / "countersign.bpmn").read_bytes()
    call(designer, "POST", "/definitions", 201, data={"file": (io.BytesIO(upload), "countersign.bpmn")},
         content_type="multipart/form-data")
    call(designer, "POST", "/definitions", 400, data={"file": (io.BytesIO(b"<x"), "x.bpmn")},
         content_type="multipart/form-data")
    call(designer, "POST", "/definitions/{key}/versions/{number}/status", 200,
         "/definitions/leave_request/versions/1/status", json={"status": "published"})
    admin = sign_in(client, "admin")
    call(employee, "POST", "/users", 403, json={})
    call(admin, "POST", "/users", 201, json={"username": "new.one", "display_name": "New",
                                             "password": "a-long-password"})
    call(admin, "POST", "/users", 409, json={"username": "new.one", "display_name": "New",
                                             "password": "a-long-password"})
    call(admin, "PATCH", "/users/{username}", 200, "/users/new.one", json={"phone": "1"})
    call(admin, "PATCH", "/users/{username}", 422, "/users/admin", json={"status": "left"})
    call(admin, "POST", "/departments", 201, json={"code": "legal", "name": "Legal", "parent": "office"})
    call(admin, "POST", "/departments", 404, json={"code": "legal2", "name": "Legal", "parent": "nowhere"})
    call(admin, "PATCH", "/departments/{code}", 200, "/departments/legal", json={"sort": 2})
    for plural in ("positions", "roles", "groups"):
        call(employee, "GET", f"/{plural}", 200)
        call(admin, "POST", f"/{plural}", 201, json={"code": "new", "name": "New"})
        call(admin, "POST", f"/{plural}", 400, json={"code": "new", "name": "New", "x": 1})
        call(admin, "PATCH", f"/{plural}/{{code}}", 200, f"/{plural}/new", json={"name_en": "New"})
    # Approval verbs: transfer, delegate and hand back, urge, carbon copy.
    verb_iid = start_leave(employee)["id"]
    verb_task = call(manager, "GET", "/tasks", 200, "/tasks?view=mine")["items"][0]["id"]
    on_task = f"/tasks/{verb_task}"
    call(manager, "POST", "/tasks/{task_id}/transfer", 404, f"{on_task}/transfer", json={"to_user": "nobody"})
    call(employee, "POST", "/tasks/{task_id}/transfer", 403, f"{on_task}/transfer", json={"to_user": "li.na"})
    call(manager, "POST", "/tasks/{task_id}/transfer", 200, f"{on_task}/transfer", json={"to_user": "zhang.wei"})
    boss = sign_in(client, "zhang.wei")
    call(boss, "POST", "/tasks/{task_id}/delegate", 400, f"{on_task}/delegate", json={"to_user": "zhang.wei"})
    call(boss, "POST", "/tasks/{task_id}/delegate", 200, f"{on_task}/delegate", json={"to_user": "li.na"})
    call(manager, "POST", "/tasks/{task_id}/complete", 409, f"{on_task}/complete", json={"decision": "approve"})
    call(manager, "POST", "/tasks/{task_id}/resolve", 200, f"{on_task}/resolve", json={"comment": "fine"})
    call(employee, "POST", "/tasks/{task_id}/urge", 200, f"{on_task}/urge", json={})
    call(employee, "POST", "/tasks/{task_id}/urge", 409, f"{on_task}/urge", json={})
    call(employee, "POST", "/instances/{instance_id}/cc", 200, f"/instances/{verb_iid}/cc",
         json={"to_users": ["sun.li"], "note": "fyi"})
    call(employee, "POST", "/instances/{instance_id}/cc", 400, f"/instances/{verb_iid}/cc", json={"to_users": []})
    # Moving requests: return (退回) and resubmit, take back (撤回), jump (跳转).
    call(boss, "GET", "/tasks/{task_id}/return-targets", 200, f"{on_task}/return-targets")
    call(boss, "POST", "/tasks/{task_id}/return", 400, f"{on_task}/return", json={"to": "nowhere", "comment": "x"})
    moved = call(boss, "POST", "/tasks/{task_id}/return", 200, f"{on_task}/return",
                 json={"to": "initiator", "comment": "dates?"})
    call(employee, "POST", "/tasks/{task_id}/complete", 200, f"/tasks/{moved['open_tasks'][0]['id']}/complete",
         json={})
    again = next(t["id"] for t in call(manager, "GET", "/tasks", 200, "/tasks?view=mine")["items"]
                 if t["instance_id"] == verb_iid)
    call(manager, "POST", "/tasks/{task_id}/complete", 200, f"/tasks/{again}/complete", json={"decision": "approve"})
    taken = call(manager, "POST", "/tasks/{task_id}/take-back", 200, f"/tasks/{again}/take-back",
                 json={"reason": "oops"})
    reopened = taken["open_tasks"][0]["id"]
    call(manager, "POST", "/tasks/{task_id}/take-back", 409, f"/tasks/{again}/take-back", json={})
    signed = call(manager, "POST", "/tasks/{task_id}/add-signers", 200, f"/tasks/{reopened}/add-signers",
                  json={"users": ["zhang.wei"], "position": "after"})
    assert signed["open_tasks"][0]["status"] == "open"
    call(manager, "POST", "/tasks/{task_id}/add-signers", 400, f"/tasks/{reopened}/add-signers",
         json={"users": ["zhang.wei"], "position": "sideways"})
    call(manager, "POST", "/tasks/{task_id}/remove-signers", 200, f"/tasks/{reopened}/remove-signers",
         json={"users": ["zhang.wei"]})
    call(manager, "POST", "/tasks/{task_id}/remove-signers", 400, f"/tasks/{reopened}/remove-signers",
         json={"users": ["zhang.wei"]})
    helped = call(manager, "POST", "/tasks/{task_id}/ask-help", 200, f"/tasks/{reopened}/ask-help",
                  json={"users": ["zhang.wei"], "comment": "ok?"})
    assert helped["helpers"][0]["kind"] == "assist"
    call(manager, "POST", "/tasks/{task_id}/complete", 409, f"/tasks/{reopened}/complete",
         json={"decision": "approve"})
    call(manager, "POST", "/tasks/{task_id}/withdraw-help", 200, f"/tasks/{reopened}/withdraw-help",
         json={"users": ["zhang.wei"]})
    call(manager, "POST", "/tasks/{task_id}/reject", 400, f"/tasks/{reopened}/reject", json={})
    call(manager, "POST", "/tasks/{task_id}/approve", 200, f"/tasks/{reopened}/approve", json={"comment": "ok"})
    call(employee, "POST", "/instances/{instance_id}/jump", 403, f"/instances/{verb_iid}/jump",
         json={"to": "hr_approval", "reason": "x"})
    call(admin, "POST", "/instances/{instance_id}/jump", 200, f"/instances/{verb_iid}/jump",
         json={"to": "hr_approval", "reason": "urgent"})
    # Lifecycle verbs and standing proxies.
    fresh = call(employee, "POST", "/definitions/{key}/instances", 201, "/definitions/leave_request/instances",
                 json={"data": LEAVE})
    verb = "/instances/{instance_id}/%s"
    path = f"/instances/{fresh['id']}/%s"
    call(employee, "POST", verb % "suspend", 403, path % "suspend")
    call(admin, "POST", verb % "suspend", 200, path % "suspend", json={"reason": "audit"})
    call(admin, "POST", verb % "resume", 200, path % "resume")
    call(employee, "POST", verb % "withdraw", 400, path % "withdraw", json={})
    call(employee, "POST", verb % "withdraw", 200, path % "withdraw", json={"reason": "dates changed"})
    call(admin, "POST", verb % "terminate", 409, path % "terminate", json={"reason": "gone"})
    other = call(employee, "POST", "/definitions/{key}/instances", 201, "/definitions/leave_request/instances",
                 json={"data": LEAVE})
    call(admin, "POST", verb % "terminate", 200, f"/instances/{other['id']}/terminate", json={"reason": "duplicate"})
    today = datetime.now(timezone.utc)
    window = {"starts_at": today.date().isoformat(), "ends_at": (today + timedelta(days=7)).isoformat()}
    proxy = call(manager, "POST", "/me/proxies", 201, json={"proxy": "wu.qiang", **window})
    call(manager, "POST", "/me/proxies", 404, json={"proxy": "nobody", **window})
    call(manager, "POST", "/me/proxies", 400, json={"proxy": "li.na", **window})
    call(manager, "GET", "/me/proxies", 200)
    call(employee, "POST", "/me/proxies/{proxy_id}/revoke", 404, f"/me/proxies/{proxy['id']}/revoke")
    call(manager, "POST", "/me/proxies/{proxy_id}/revoke", 200, f"/me/proxies/{proxy['id']}/revoke")
    call(manager, "POST", "/me/proxies/{proxy_id}/revoke", 409, f"/me/proxies/{proxy['id']}/revoke")
    # Notifications and messages.
    sent = call(employee, "POST", "/messages", 201, json={"to_users": ["li.na"], "subject": "Hi", "body": "there"})
    call(employee, "POST", "/messages", 404, json={"to_users": ["nobody"], "subject": "Hi", "body": "x"})
    call(employee, "POST", "/messages", 400, json={"to_users": ["li.na"], "subject": "Hi"})
    call(manager, "GET", "/messages", 200, "/messages?box=inbox&unread=1")
    call(manager, "GET", "/messages/{message_id}", 200, f"/messages/{sent['id']}")
    call(boss, "GET", "/messages/{message_id}", 404, f"/messages/{sent['id']}")
    call(manager, "GET", "/notifications", 200)
    call(manager, "POST", "/notifications/read", 200, json={"all": True})
    call(manager, "POST", "/notifications/read", 400, json={"ids": ["x"]})
    call(employee, "POST", "/messages", 201, json={"to_users": ["li.na"], "subject": "Later", "body": "x",
                                                   "remind_at": (today + timedelta(days=1)).isoformat()})
    reminder = call(employee, "GET", "/messages/reminders", 200)["items"][0]
    cancel = "/messages/reminders/{reminder_id}/cancel"
    call(manager, "POST", cancel, 404, f"/messages/reminders/{reminder['id']}/cancel")
    call(employee, "POST", cancel, 200, f"/messages/reminders/{reminder['id']}/cancel")
    call(employee, "POST", cancel, 409, f"/messages/reminders/{reminder['id']}/cancel")
    # Templates, copies and process categories.
    template = "/definitions/{key}/template"
    call(employee, "POST", template, 403, "/definitions/leave_request/template", json={})
    call(designer, "POST", template, 201, "/definitions/leave_request/template", json={"description": "Absences"})
    call(designer, "POST", template, 200, "/definitions/leave_request/template", json={"description": "All"})
    call(designer, "POST", template, 404, "/definitions/nothing/template", json={})
    call(designer, "POST", template, 400, "/definitions/leave_request/template", json={"x": 1})
    call(designer, "GET", "/process-templates", 200)
    call(employee, "GET", "/process-templates", 403)
    copy = "/definitions/{key}/copy"
    call(designer, "POST", copy, 201, "/definitions/leave_request/copy", json={"key": "annual", "name": "Annual"})
    call(designer, "POST", copy, 409, "/definitions/leave_request/copy", json={"key": "annual", "name": "Annual"})
    call(designer, "POST", copy, 400, "/definitions/leave_request/copy", json={"key": "annual2"})
    call(designer, "POST", copy, 404, "/definitions/nothing/copy", json={"key": "annual2", "name": "A"})
    call(employee, "POST", copy, 403, "/definitions/leave_request/copy", json={"key": "annual2", "name": "A"})
    call(designer, "DELETE", template, 200, "/definitions/leave_request/template")
    call(designer, "DELETE", template, 404, "/definitions/leave_request/template")
    call(employee, "DELETE", template, 403, "/definitions/leave_request/template")
    call(employee, "GET", "/process-categories", 200)
    call(employee, "POST", "/process-categories", 403, json={"code": "legal", "name": "法务"})
    call(admin, "POST", "/process-categories", 201, json={"code": "legal", "name": "法务", "name_en": "Legal"})
    call(admin, "POST", "/process-categories", 409, json={"code": "legal", "name": "法务"})
    call(admin, "POST", "/process-categories", 400, json={"code": "9", "name": "法务"})
    one = "/process-categories/{code}"
    call(admin, "PATCH", one, 200, "/process-categories/legal", json={"name_en": "Legal affairs", "sort": 1})
    call(admin, "PATCH", one, 400, "/process-categories/legal", json={"name": ""})
    call(admin, "PATCH", one, 404, "/process-categories/nope", json={"name": "x"})
    call(employee, "PATCH", one, 403, "/process-categories/legal", json={"name": "x"})
    call(admin, "DELETE", one, 409, "/process-categories/hr")
    call(admin, "DELETE", one, 200, "/process-categories/legal")
    call(admin, "DELETE", one, 404, "/process-categories/legal")
    call(employee, "DELETE", one, 403, "/process-categories/office")
    call(None, "POST", "/auth/token", 200, json={"username": "wang.fang", "password": "flowdesk-demo"})
    call(employee, "GET", "/search", 200, "/search?q=leave&kind=record&from=2026-01-01")
    call(employee, "GET", "/search", 400, "/search?q=" + "x" * 201)
    # Record routes need the core record types; test_api_records checks them against the document.
    json_routes = {(path, method) for path, method, _ in _routes(app) if not path.endswith((".svg", ".json"))
                   and not path.startswith(("/record-types", "/records/", "/dictionaries", "/calendar/"))}
    assert seen == json_routes


INT_VALUES = ["1", "abc", "-1", "99999999999999999999999"]
TEXT_VALUES = ["leave_request", "%00", "x" * 300, "%F0%9F%98%80", "..%2F..%2Fetc"]
QUERIES = ["", "page=-1", "page=0", "page_size=100000", "page_size=-5", "page=abc", "page=99999999999999999999",
           "page=1e3", "started_from=2026-99-99", "started_to=garbage", "created_from=0001-01-01",
           "due_to=9999-12-31", "view=nope", "view=cc", "view=started&status=nope", "overdue=maybe", "overdue=1",
           "status=nope", "priority_min=99999999999999999999", "priority_min=x", "text=%00", "text=%25_%25",
           "f.bad-name=1", "f.leave_type=annual", "version=abc", "version=99999999999", "sort=bad", "desc=1",
           "q=%25", "department=nope", "startable=perhaps", "process=" + "p" * 500, "initiator=%FF"]
BODIES = [None, b"", b"not json", b"[1, 2]", b"null", b"42", b'"text"', b'{"data": "x"}', b'{"data": []}',
          b'{"data": {"days": "many", "leave_type": 5}, "decision": 5}', b'{"unknown": 1}',
          b'{"data": {"a": NaN}}', b'{"data": {"days": 1e400}}', b"[" * 5000 + b"]" * 5000,
          b'{"data": ' + b'{"a": ' * 100 + b"1" + b"}" * 100 + b"}",
          b'{"business_key": "\\u0000"}', b'{"comment": "\\ud800", "decision": "reject"}',
          b'{"status": ["published"]}', b'{"status": "published"}', b'{"username": 1, "password": []}',
          b'{"username": "wang.fang", "password": "\\u0000"}', b'{"data": {"\\ud800": 1}}',
          b'{"data": {"manager": "' + b"m" * 30000 + b'"}}', b'{"decision": "approve", "data": {"files": [1, 2]}}',
          b'{"data": {"_secret": 1, "1x": 2}}', b"\xff\xfe garbage", b'{"business_key": 12}']


def _paths(template: str) -> list[str]:
    """Return the path with real-looking values first, then with garbage in each parameter."""
    names = re.findall(r"{(\w+)}", template)
    values = {n: INT_VALUES if n.endswith("id") or n == "number" else TEXT_VALUES for n in names}
    good = template
    for name in names:
        good = good.replace("{" + name + "}", values[name][0])
    out = [good]
    for name in names:
        for bad in values[name][1:]:
            path = template.replace("{" + name + "}", bad)
            for other in names:
                path = path.replace("{" + other + "}", values[other][0])
            out.append(path)
    return out


def _uploads() -> list[dict]:
    return [{}, {"file": (io.BytesIO(b""), "empty.bpmn")}, {"file": (io.BytesIO(b"<x/>"), "x.bpmn20.xml")},
            {"file": (io.BytesIO(b"PK\x03\x04junk"), "junk.zip")}, {"file": (io.BytesIO(b"\xff" * 100), "bin.bpmn")},
            {"file": (io.BytesIO(b"<a>"), "../../etc/passwd.bpmn"), "key": "x" * 300},
            {"file": (io.BytesIO(b"<a/>"), "a.bpmn"), "key": "\x00", "publish": "true"}]


@pytest.mark.parametrize("username", ["admin", "wang.fang"])
def test_garbage_never_gives_a_server_error(app, client, username):
    employee = sign_in(client, "wang.fang")
    start_leave(employee)
    start_leave(employee, leave_type="sick")
    api = sign_in(client, username)
    failures = []

    def check(method: str, path: str, response) -> None:
        if response.status_code >= 500:
            failures.append((method, path, response.status_code, response.get_data(as_text=True)[:200]))
        elif response.status_code >= 400 and response.mimetype == "application/json":
            assert set(response.get_json()["error"]) == {"code", "message", "details"}, (method, path)

    for template, method, _ in _routes(app):
        good, *bad_paths = _paths(template)
        for path in bad_paths:
            check(method, path, api.get(path) if method == "GET" else
                  api.client.open(PREFIX + path, method=method, headers=api.headers, json={}))
        if method == "GET":
            for query in QUERIES:
                url = f"{good}?{query}" if query else good
                check(method, url, api.get(url))
        elif template == "/definitions":
            for form in _uploads():
                check(method, good, api.post(good, data=form, content_type="multipart/form-data"))
        elif template == "/tasks/{task_id}/approve":  # an empty body is a valid approval: garbage only in the path
            continue
        else:
            for body in BODIES:
                kwargs = {} if body is None else {"data": body, "content_type": "application/json"}
                check(method, good, api.client.open(PREFIX + good, method=method, headers=api.headers, **kwargs))
    assert failures == []
    # The garbage changed nothing it should not have: the two requests are still waiting for li.na.
    assert sign_in(client, "li.na").get("/tasks?view=mine").get_json()["total"] == 2

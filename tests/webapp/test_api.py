"""The JSON API: tokens, a leave request from start to end, validation and permissions."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from org import demo
from org import service as org

LEAVE = {"leave_type": "annual", "start_date": "2026-12-01", "end_date": "2026-12-03", "days": 3, "manager": "li.na"}


class ApiClient:
    """A test client that sends a bearer token with every request."""

    def __init__(self, client, token: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **kwargs):
        """Send a GET with the token."""
        return self.client.get(f"/api/v1{path}", headers=self.headers, **kwargs)

    def post(self, path: str, **kwargs):
        """Send a POST with the token."""
        return self.client.post(f"/api/v1{path}", headers=self.headers, **kwargs)


def sign_in(client, username: str) -> ApiClient:
    """Get a token for a demo user and return a client that uses it."""
    response = client.post("/api/v1/auth/token", json={"username": username, "password": demo.DEMO_PASSWORD})
    assert response.status_code == 200, response.get_data(as_text=True)
    return ApiClient(client, response.get_json()["token"])


def start_leave(api: ApiClient, **overrides) -> dict:
    """Start a leave request and return the new instance."""
    response = api.post("/definitions/leave_request/instances", json={"data": {**LEAVE, **overrides}})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def only_task(api: ApiClient, view: str = "mine") -> dict:
    """Return the single task of an inbox view."""
    body = api.get(f"/tasks?view={view}").get_json()
    assert body["total"] == 1, body
    return body["items"][0]


def assert_error(response, status: int, code: str | None = None) -> dict:
    """Check a response is an error of the API's shape and return its error part."""
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "details"} and error["message"]
    if code is not None:
        assert error["code"] == code, error
    return error


def make_portal_account(app, username: str) -> int:
    """Turn a demo user into the portal account of a new customer company; return the company's record id."""
    from instances.actors import Actor
    from records import service as records

    with app.extensions["flowdesk.database"].command() as session:
        records.install_core_types(session=session)
        company = records.create_record(session=session, type_key="customer", actor=Actor("wang.fang"),
                                        data={"name": "远航物流"})
        user = org.get_user_by_name(session=session, username=username)
        org.save_user(session=session, user=user, username=username, display_name=user.display_name,
                      kind="customer", portal_record_id=company.id, portal_modules=["customer"])
        return company.id


def test_token_login_gives_a_token_for_thirty_days(client):
    response = client.post("/api/v1/auth/token", json={"username": "wang.fang", "password": demo.DEMO_PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert body["token"].startswith("fd_") and body["token_type"] == "Bearer"
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(days=29) < expires - datetime.now(timezone.utc) <= timedelta(days=30)
    me = ApiClient(client, body["token"]).get("/me").get_json()
    assert me["username"] == "wang.fang" and me["superior"] == "li.na" and me["department"]["code"] == "sales"
    assert me["is_manager"] is False and me["counts"] == {"mine": 0, "group": 0, "overdue": 0, "cc": 0}


def test_wrong_password_is_401_then_throttled_429(client):
    for _ in range(5):
        response = client.post("/api/v1/auth/token", json={"username": "wang.fang", "password": "nope-nope"})
        assert_error(response, 401, "sign_in_refused")
    response = client.post("/api/v1/auth/token", json={"username": "wang.fang", "password": demo.DEMO_PASSWORD})
    assert_error(response, 429, "too_many_attempts")
    assert response.headers["Retry-After"] == "900"
    assert_error(client.post("/api/v1/auth/token", json={"username": "wang.fang"}), 400, "invalid_input")
    assert_error(client.post("/api/v1/auth/token", data="{nope", content_type="application/json"), 400,
                 "invalid_json")


def test_requests_need_a_valid_bearer_token(app, client):
    for headers in ({}, {"Authorization": "Bearer fd_not-a-token"}, {"Authorization": "Basic d2FuZzpmYW5n"},
                    {"Authorization": "Bearer"}):
        for path in ("/api/v1/me", "/api/v1/tasks", "/api/v1/instances/1", "/api/v1/users"):
            response = client.get(path, headers=headers)
            assert_error(response, 401, "unauthorized")
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(client.post("/api/v1/tasks/1/complete", json={}), 401)
    assert client.get("/api/v1/openapi.json").status_code == 200
    chinese = client.get("/api/v1/me", headers={"Authorization": "Bearer fd_x", "Accept-Language": "zh-CN"})
    assert "令牌" in assert_error(chinese, 401)["message"]
    # A token made on the account page works too, until it is revoked.
    database = app.extensions["flowdesk.database"]
    with database.command() as session:
        user = org.get_user_by_name(session=session, username="li.na")
        token, secret = org.create_token(session=session, user=user, name="script")
        token_id = token.id
    api = ApiClient(client, secret)
    assert api.get("/me").get_json()["username"] == "li.na"
    with database.command() as session:
        org.revoke_token(session=session, user=org.get_user_by_name(session=session, username="li.na"),
                         token_id=token_id)
    assert_error(api.get("/me"), 401)


def test_leave_request_from_start_to_approval(client):
    employee = sign_in(client, "wang.fang")
    catalogue = employee.get("/definitions?startable=true").get_json()
    assert [d["key"] for d in catalogue["items"]] == ["leave_request"]
    [leave] = catalogue["items"]
    assert leave["description"].startswith("An employee asks") and leave["description_zh"].startswith("员工申请休假")
    started = start_leave(employee)
    assert started["status"] == "running" and started["initiator"] == "wang.fang"
    assert started["data"]["days"] == 3 and started["data"]["initiator_superior"] == "li.na"
    instance_id = started["id"]

    manager = sign_in(client, "li.na")
    task = only_task(manager)
    assert task["instance_id"] == instance_id and task["assignee"] == "li.na" and task["instance"]["process"] == \
        "leave_request"
    detail = manager.get(f"/tasks/{task['id']}").get_json()
    assert detail["form"]["required"] == ["decision"] and detail["instance"]["data"]["leave_type"] == "annual"
    done = manager.post(f"/tasks/{task['id']}/complete", json={"decision": "approve", "comment": "同意"})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json()["status"] == "completed" and done.get_json()["decision"] == "approved"
    assert manager.get("/tasks?view=done").get_json()["total"] == 1

    hr = sign_in(client, "wu.qiang")
    assert hr.get("/tasks?view=mine").get_json()["total"] == 0
    group_task = only_task(hr, "group")
    claimed = hr.post(f"/tasks/{group_task['id']}/claim").get_json()
    assert claimed["assignee"] == "wu.qiang"
    assert hr.post(f"/tasks/{group_task['id']}/unclaim").get_json()["assignee"] is None
    hr.post(f"/tasks/{group_task['id']}/claim")
    assert_error(sign_in(client, "zhou.min").post(f"/tasks/{group_task['id']}/claim"), 404)  # taken: gone
    assert_error(sign_in(client, "admin").post(f"/tasks/{group_task['id']}/unclaim"), 409, "conflict")
    response = hr.post(f"/tasks/{group_task['id']}/complete", json={"decision": "approve"})
    assert response.status_code == 200 and response.get_json()["instance"]["status"] == "completed"
    assert_error(hr.post(f"/tasks/{group_task['id']}/complete", json={"decision": "approve"}), 409)

    instance = employee.get(f"/instances/{instance_id}").get_json()
    assert instance["status"] == "completed" and instance["active_tasks"] == []
    assert instance["ended_at"] and datetime.fromisoformat(instance["ended_at"]).tzinfo is not None
    events = [(e["type"], e["actor"]) for e in instance["history"]]
    assert events[0] == ("instance_started", "wang.fang") and ("task_completed", "li.na") in events
    assert ("task_claimed", "wu.qiang") in events and events[-1][0] == "instance_completed"
    comments = [e["details"].get("comment") for e in instance["history"] if e["type"] == "task_completed"]
    assert comments == ["同意", None]
    started_view = employee.get("/tasks?view=started").get_json()
    assert [i["id"] for i in started_view["items"]] == [instance_id]
    svg = employee.get(f"/instances/{instance_id}/diagram.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"manager_approval" in svg.data


def test_start_form_errors_are_422_by_field(client):
    employee = sign_in(client, "wang.fang")
    response = employee.post("/definitions/leave_request/instances", json={"data": {
        **LEAVE, "days": 0.1, "start_date": "not-a-date", "leave_type": None, "initiator_superior": "zhang.wei"}})
    error = assert_error(response, 422, "invalid_form")
    assert set(error["details"]) == {"days", "start_date", "leave_type", "initiator_superior"}
    assert "0.5" in error["details"]["days"]
    missing = assert_error(employee.post("/definitions/leave_request/instances", json={}), 422)
    assert set(missing["details"]) == {"leave_type", "start_date", "end_date", "manager"}  # days are counted
    wrong_type = assert_error(employee.post("/definitions/leave_request/instances",
                                            json={"data": {**LEAVE, "days": "3"}}), 422)
    assert list(wrong_type["details"]) == ["days"]
    assert_error(employee.post("/definitions/leave_request/instances", json={"data": [1]}), 400, "invalid_input")
    assert_error(employee.post("/definitions/leave_request/instances", json={"data": LEAVE, "extra": 1}), 400)
    assert_error(employee.post("/definitions/leave_request/instances",
                               json={"data": LEAVE, "business_key": "x" * 201}), 400)
    assert_error(employee.post("/definitions/nope/instances", json={"data": LEAVE}), 404, "definition_not_found")
    assert employee.get("/tasks?view=started").get_json()["total"] == 0


def test_task_form_errors_are_422_and_a_rejection_needs_a_comment(client):
    employee = sign_in(client, "wang.fang")
    instance_id = start_leave(employee)["id"]
    manager = sign_in(client, "li.na")
    task_id = only_task(manager)["id"]
    error = assert_error(manager.post(f"/tasks/{task_id}/complete", json={"decision": "reject"}), 422)
    assert list(error["details"]) == ["comment"]
    error = assert_error(manager.post(f"/tasks/{task_id}/complete", json={}), 422)
    assert list(error["details"]) == ["decision"]
    error = assert_error(manager.post(f"/tasks/{task_id}/complete",
                                      json={"decision": "maybe", "data": {"days": 9, "decision": "approve"}}), 422)
    assert set(error["details"]) == {"decision", "days"}
    assert_error(manager.post(f"/tasks/{task_id}/complete", json={"decision": 1}), 400)
    assert_error(manager.post(f"/tasks/{task_id}/complete", json={"comment": "x" * 2001, "decision": "approve"}),
                 422)
    response = manager.post(f"/tasks/{task_id}/complete", json={"decision": "reject", "comment": "人手不够"})
    assert response.status_code == 200, response.get_data(as_text=True)
    instance = employee.get(f"/instances/{instance_id}").get_json()
    assert instance["status"] == "completed" and instance["data"]["decision"] == "reject"


def test_outsiders_cannot_see_or_act(client):
    employee = sign_in(client, "wang.fang")
    instance_id = start_leave(employee)["id"]
    manager = sign_in(client, "li.na")
    task_id = only_task(manager)["id"]
    outsider = sign_in(client, "gao.yu")
    assert_error(outsider.get(f"/tasks/{task_id}"), 404, "task_not_found")
    assert_error(outsider.post(f"/tasks/{task_id}/complete", json={"decision": "approve"}), 404)
    assert_error(outsider.post(f"/tasks/{task_id}/claim"), 404)
    assert_error(outsider.get(f"/instances/{instance_id}"), 404, "instance_not_found")
    assert_error(outsider.get(f"/instances/{instance_id}/diagram.svg"), 404)
    assert outsider.get("/instances").get_json()["total"] == 0
    assert outsider.get("/tasks?view=mine").get_json()["total"] == 0
    assert [i["id"] for i in employee.get("/instances").get_json()["items"]] == [instance_id]
    assert manager.get("/instances?status=running").get_json()["total"] == 1  # managers watch all
    assert manager.get("/instances?department=tech").get_json()["total"] == 0
    assert manager.get(f"/instances/{instance_id}").status_code == 200
    # The HR group sees the instance once its task reaches them, not before.
    hr = sign_in(client, "wu.qiang")
    assert_error(hr.get(f"/instances/{instance_id}"), 404)
    manager.post(f"/tasks/{task_id}/complete", json={"decision": "approve"})
    assert hr.get(f"/instances/{instance_id}").status_code == 200
    assert [i["id"] for i in hr.get("/instances").get_json()["items"]] == [instance_id]


def test_users_departments_and_me(client):
    api = sign_in(client, "gao.yu")
    first = api.get("/users?page_size=5").get_json()
    assert first["total"] == len(demo.USERS) and len(first["items"]) == 5 and first["pages"] == 4
    assert [u["username"] for u in api.get("/users?department=sales").get_json()["items"]] == \
        ["emma.chen", "li.na", "liu.yang", "wang.fang"]
    assert api.get("/users?q=wang").get_json()["total"] == 1
    assert_error(api.get("/users?status=gone"), 400, "invalid_input")
    li_na = api.get("/users/li.na").get_json()
    assert li_na["roles"] == ["employee", "manager"] and li_na["superior"] == "zhang.wei"
    assert "password_hash" not in li_na
    assert_error(api.get("/users/nobody"), 404, "not_found")
    tree = api.get("/departments").get_json()["items"]
    assert [d["code"] for d in tree] == ["office"] and tree[0]["leader"]["username"] == "zhang.wei"
    children = {d["code"]: d for d in tree[0]["children"]}
    assert children["sales"]["leader"]["username"] == "li.na" and len(children) == 6
    me = api.get("/me").get_json()
    assert me["username"] == "gao.yu" and "dept:tech" in me["groups"] and me["is_designer"] is False


def test_inbox_filters_and_pages(client):
    employee = sign_in(client, "wang.fang")
    for leave_type in ("annual", "sick", "annual"):
        start_leave(employee, leave_type=leave_type)
    manager = sign_in(client, "li.na")
    assert manager.get("/tasks?view=mine&process=leave_request&f.leave_type=annual").get_json()["total"] == 2
    assert manager.get("/tasks?f.leave_type=maternity").get_json()["total"] == 0
    page = manager.get("/tasks?page_size=2&page=2&sort=created&desc=true").get_json()
    assert (page["total"], page["pages"], len(page["items"])) == (3, 2, 1)
    assert manager.get("/tasks?overdue=yes").get_json()["total"] == 0
    assert_error(manager.get("/tasks?created_from=31-12-2026"), 400, "invalid_input")
    assert_error(manager.get("/tasks?page_size=201"), 400)
    assert_error(manager.get("/tasks?view=everything"), 400)
    started = employee.get("/tasks?view=started&page_size=1").get_json()
    assert started["total"] == 3 and started["items"][0]["copy"] is None
    assert employee.get("/instances?started_from=2000-01-01&status=running").get_json()["total"] == 3
    assert_error(employee.get("/instances?started_to=yesterday"), 400)

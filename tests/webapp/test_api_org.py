"""The API's organisation administration: users, departments, positions, roles and groups."""
from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from .test_api import assert_error, sign_in

PREFIX = "/api/v1"
NEW_USER = {"username": "zhao.min", "display_name": "赵敏", "email": "zhao.min@example.com", "phone": "123",
            "department": "sales", "position": "staff", "superior": "li.na", "roles": ["employee"],
            "groups": [], "language": "en", "password": "a-long-password"}


def patch(api, path: str, **kwargs):
    """Send a PATCH with the token."""
    return api.client.patch(f"{PREFIX}{path}", headers=api.headers, **kwargs)


def _valid(client, response, template: str, method: str) -> dict:
    """Check a response against the schema the OpenAPI document gives for it."""
    document = client.get(f"{PREFIX}/openapi.json").get_json()
    answer = document["paths"][template][method]["responses"][str(response.status_code)]
    if "$ref" in answer:
        answer = document["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    schema = {"components": document["components"], **answer["content"]["application/json"]["schema"]}
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(response.get_json())]
    assert errors == [], errors[:3]
    return response.get_json()


@pytest.fixture
def admin(client):
    return sign_in(client, "admin")


@pytest.fixture
def manager(client):
    return sign_in(client, "li.na")


def test_create_and_patch_a_user(client, admin):
    created = _valid(client, admin.post("/users", json=NEW_USER), "/users", "post")
    assert created["username"] == "zhao.min" and created["department"]["code"] == "sales"
    assert created["superior"] == "li.na" and created["roles"] == ["employee"] and created["status"] == "active"
    # The new user can sign in with the first password.
    response = client.post(f"{PREFIX}/auth/token", json={"username": "zhao.min", "password": "a-long-password"})
    assert response.status_code == 200
    # A partial change keeps everything not named.
    changed = _valid(client, patch(admin, "/users/zhao.min", json={"phone": "456", "groups": [],
                                                                    "roles": ["employee", "manager", "manager"]}),
                     "/users/{username}", "patch")
    assert changed["phone"] == "456" and changed["roles"] == ["employee", "manager"]
    assert changed["email"] == "zhao.min@example.com" and changed["department"]["code"] == "sales"
    assert changed["superior"] == "li.na" and changed["language"] == "en"
    cleared = patch(admin, "/users/zhao.min", json={"superior": None, "position": "", "status": "left"}).get_json()
    assert cleared["superior"] is None and cleared["position"] is None and cleared["status"] == "left"
    assert admin.get("/users/zhao.min").get_json() == cleared
    # A user who left cannot sign in.
    response = client.post(f"{PREFIX}/auth/token", json={"username": "zhao.min", "password": "a-long-password"})
    assert response.status_code == 401
    # An empty body changes nothing.
    assert patch(admin, "/users/zhao.min").get_json() == cleared


def test_patch_sets_a_new_password(client, admin):
    patch(admin, "/users/wang.fang", json={"password": "another-password"})
    response = client.post(f"{PREFIX}/auth/token", json={"username": "wang.fang", "password": "another-password"})
    assert response.status_code == 200


def test_user_validation_names_the_field(client, admin):
    cases = [
        ({k: v for k, v in NEW_USER.items() if k != "password"}, 400, "password"),
        ({**NEW_USER, "password": ""}, 400, "password"),
        ({**NEW_USER, "password": "short"}, 400, "password"),
        ({**NEW_USER, "username": "li.na"}, 409, "username"),
        ({**NEW_USER, "username": "LI.NA"}, 409, "username"),
        ({**NEW_USER, "username": "x"}, 400, "username"),
        ({**NEW_USER, "email": "not-an-email"}, 400, "email"),
        ({**NEW_USER, "status": "gone"}, 400, "status"),
        ({**NEW_USER, "language": "fr"}, 400, "language"),
        ({**NEW_USER, "department": "nowhere"}, 404, "department"),
        ({**NEW_USER, "position": "nothing"}, 404, "position"),
        ({**NEW_USER, "superior": "nobody"}, 404, "superior"),
        ({**NEW_USER, "roles": ["employee", "nope"]}, 404, "roles"),
        ({**NEW_USER, "groups": ["nope"]}, 404, "groups"),
        ({**NEW_USER, "roles": "employee"}, 400, "roles"),
        ({**NEW_USER, "roles": [1]}, 400, "roles"),
        ({**NEW_USER, "roles": [""]}, 400, "roles"),
        ({**NEW_USER, "display_name": 5}, 400, "display_name"),
        ({**NEW_USER, "display_name": "x" * 201}, 400, "display_name"),
        ({**NEW_USER, "email": "a@b.c" + "x" * 300}, 400, "email"),
        ({**NEW_USER, "password": ["x"]}, 400, "password"),
        ({**NEW_USER, "is_admin": True}, 400, "is_admin"),
    ]
    for body, status, field in cases:
        error = assert_error(admin.post("/users", json=body), status)
        assert error["details"]["field"] == field, (body, error)
    assert assert_error(admin.get("/users/zhao.min"), 404)
    error = assert_error(patch(admin, "/users/wang.fang", json={"superior": "wang.fang"}), 400)
    assert error["details"]["field"] == "superior"
    # User names are fixed once created: tasks and history refer to people by them.
    for new_name in ("li.na", "wang.fang2"):
        error = assert_error(patch(admin, "/users/wang.fang", json={"username": new_name}), 400)
        assert error["details"]["field"] == "username" and "cannot be changed" in error["message"]
    error = assert_error(patch(admin, "/users/wang.fang", json={"display_name": None}), 400)
    assert error["details"]["field"] == "display_name"
    assert_error(patch(admin, "/users/nobody", json={"phone": "1"}), 404, "not_found")
    # Nothing was changed by the refusals.
    assert admin.get("/users/wang.fang").get_json()["superior"] == "li.na"


def test_an_admin_cannot_lock_themselves_out(admin):
    error = assert_error(patch(admin, "/users/admin", json={"status": "left"}), 422, "self_lockout")
    assert error["details"]["field"] == "status"
    error = assert_error(patch(admin, "/users/admin", json={"roles": ["employee"]}), 422, "self_lockout")
    assert error["details"]["field"] == "roles"
    me = admin.get("/me").get_json()
    assert me["is_admin"] and me["status"] == "active"
    # Other changes to oneself are fine.
    assert patch(admin, "/users/admin", json={"phone": "789"}).get_json()["phone"] == "789"


def test_create_and_patch_a_department(client, admin):
    created = _valid(client, admin.post("/departments", json={"code": "legal", "name": "法务部",
                                                               "name_en": "Legal", "parent": "office",
                                                               "leader": "li.na", "sort": 7}),
                     "/departments", "post")
    assert created["parent"] == "office" and created["leader"]["username"] == "li.na" and created["sort"] == 7
    changed = _valid(client, patch(admin, "/departments/legal", json={"name_en": "Legal affairs", "code": "legal"}),
                     "/departments/{code}", "patch")
    assert changed["name_en"] == "Legal affairs" and changed["name"] == "法务部"
    assert changed["parent"] == "office" and changed["leader"]["username"] == "li.na" and changed["sort"] == 7
    moved = patch(admin, "/departments/legal", json={"parent": None, "leader": None, "sort": 1}).get_json()
    assert moved["parent"] is None and moved["leader"] is None and moved["sort"] == 1
    tree = admin.get("/departments").get_json()["items"]
    assert "legal" in {d["code"] for d in tree}


def test_department_validation_names_the_field(admin):
    base = {"code": "legal", "name": "Legal"}
    cases = [
        ({"code": "office", "name": "Again"}, 409, "code"),
        ({**base, "code": "bad code"}, 400, "code"),
        ({"name": "No code"}, 400, "code"),
        ({"code": "legal"}, 400, "name"),
        ({**base, "parent": "nowhere"}, 404, "parent"),
        ({**base, "leader": "nobody"}, 404, "leader"),
        ({**base, "sort": "1"}, 400, "sort"),
        ({**base, "sort": True}, 400, "sort"),
        ({**base, "sort": 2**40}, 400, "sort"),
        ({**base, "level": 1}, 400, "level"),
    ]
    for body, status, field in cases:
        error = assert_error(admin.post("/departments", json=body), status)
        assert error["details"]["field"] == field, (body, error)
    assert "legal" not in {d["code"] for d in admin.get("/departments").get_json()["items"]}
    error = assert_error(patch(admin, "/departments/office", json={"code": "office2"}), 400)
    assert error["details"]["field"] == "code"
    error = assert_error(patch(admin, "/departments/office", json={"name": ""}), 400)
    assert error["details"]["field"] == "name"
    assert_error(patch(admin, "/departments/nowhere", json={"name": "x"}), 404, "not_found")
    # A department cannot move inside its own sub-department.
    admin.post("/departments", json={"code": "office-sub", "name": "Sub", "parent": "office"})
    error = assert_error(patch(admin, "/departments/office", json={"parent": "office-sub"}), 400)
    assert error["details"]["field"] == "parent"


@pytest.mark.parametrize("plural", ["positions", "roles", "groups"])
def test_create_list_and_patch_units(client, admin, manager, plural):
    listed = _valid(client, manager.get(f"/{plural}"), f"/{plural}", "get")
    assert listed["items"] and all(set(u) >= {"id", "code", "name", "name_en"} for u in listed["items"])
    body = {"code": "new-unit", "name": "新", "name_en": "New", **({"level": 3} if plural == "positions" else {})}
    created = _valid(client, admin.post(f"/{plural}", json=body), f"/{plural}", "post")
    assert created["code"] == "new-unit" and created["name_en"] == "New"
    changed = _valid(client, patch(admin, f"/{plural}/new-unit", json={"name": "更新"}), f"/{plural}/{{code}}",
                     "patch")
    assert changed["name"] == "更新" and changed["name_en"] == "New"
    if plural == "positions":
        assert changed["level"] == 3
        assert patch(admin, "/positions/new-unit", json={"level": 5}).get_json()["level"] == 5
    else:
        assert "level" not in changed
        error = assert_error(admin.post(f"/{plural}", json={**body, "code": "other", "level": 1}), 400)
        assert error["details"]["field"] == "level"
    assert "new-unit" in {u["code"] for u in manager.get(f"/{plural}").get_json()["items"]}
    error = assert_error(admin.post(f"/{plural}", json=body), 409, "duplicate")
    assert error["details"]["field"] == "code"
    error = assert_error(patch(admin, f"/{plural}/new-unit", json={"code": "renamed"}), 400)
    assert error["details"]["field"] == "code"
    assert_error(patch(admin, f"/{plural}/missing", json={"name": "x"}), 404)
    error = assert_error(admin.post(f"/{plural}", json={"code": "x", "name": 7}), 400)
    assert error["details"]["field"] == "name"


def test_non_admins_cannot_write(client, manager):
    writes = [("post", "/users", NEW_USER), ("patch", "/users/wang.fang", {"phone": "1"}),
              ("patch", "/users/li.na", {"roles": ["admin"]}),
              ("post", "/departments", {"code": "legal", "name": "Legal"}),
              ("patch", "/departments/sales", {"name": "x"})]
    for plural in ("positions", "roles", "groups"):
        writes += [("post", f"/{plural}", {"code": "x", "name": "x"}), ("patch", f"/{plural}/x", {"name": "x"})]
    for method, path, body in writes:
        send = manager.post if method == "post" else (lambda p, **kw: patch(manager, p, **kw))
        for payload in (body, {"garbage": 1}):
            assert_error(send(path, json=payload), 403, "forbidden")
    assert manager.get("/me").get_json()["roles"] == ["employee", "manager"]
    assert manager.get("/users/wang.fang").get_json()["phone"] != "1"
    # Without a token: 401.
    assert client.post(f"{PREFIX}/users", json=NEW_USER).status_code == 401
    assert client.patch(f"{PREFIX}/departments/sales", json={"name": "x"}).status_code == 401


def test_the_new_routes_are_documented(client):
    document = client.get(f"{PREFIX}/openapi.json").get_json()
    paths = document["paths"]
    for path, methods in {"/users": {"get", "post"}, "/users/{username}": {"get", "patch"},
                          "/departments": {"get", "post"}, "/departments/{code}": {"patch"},
                          "/positions": {"get", "post"}, "/positions/{code}": {"patch"},
                          "/roles": {"get", "post"}, "/roles/{code}": {"patch"},
                          "/groups": {"get", "post"}, "/groups/{code}": {"patch"}}.items():
        assert set(paths[path]) == methods, path
        for method in methods - {"get"}:
            operation = paths[path][method]
            assert "requestBody" in operation and "403" in operation["responses"], (path, method)
            body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
            assert document["components"]["schemas"][body]["additionalProperties"] is False


def test_garbage_sent_to_the_patch_routes_never_gives_a_server_error(admin):
    from .test_api_contract import BODIES, TEXT_VALUES

    targets = ["/users/wang.fang", "/departments/sales"]
    targets += [f"/{plural}/{admin.get(f'/{plural}').get_json()['items'][0]['code']}"
                for plural in ("positions", "roles", "groups")]
    targets += [f"/{kind}/{bad}" for kind in ("users", "departments", "roles") for bad in TEXT_VALUES]
    before = admin.get("/users/li.na").get_json()
    failures = []
    for path in targets + ["/users", "/departments", "/positions", "/roles", "/groups"]:
        for body in BODIES:
            kwargs = {} if body is None else {"data": body, "content_type": "application/json"}
            response = patch(admin, path, **kwargs)
            if response.status_code >= 500:
                failures.append((path, body[:40] if body else body, response.status_code))
            elif response.status_code >= 400:
                assert set(response.get_json()["error"]) == {"code", "message", "details"}
    assert failures == []
    assert admin.get("/users/li.na").get_json() == before


def test_changes_made_through_the_api_are_audited_as_the_tokens_holder(app, client, admin):
    from audit import service as audit

    assert admin.post("/users", json=NEW_USER).status_code == 201
    assert patch(admin, "/users/zhao.min", json={"status": "left"}).status_code == 200
    with app.extensions["flowdesk.database"].query() as session:
        entries, _total = audit.search(session=session, object_type="user", object_id="zhao.min")
    assert {e.action for e in entries} == {"user.created", "user.changed"}
    assert {e.actor for e in entries} == {"admin"}, [(e.action, e.actor) for e in entries]
    assert all(e.ip == "127.0.0.1" for e in entries)

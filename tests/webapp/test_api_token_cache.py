"""Bearer tokens checked once per organisation revision: later calls skip the token read, yet every change
that would refuse or change the caller (revocation, leaving, roles, expiry) takes effect on the next call."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event

from database.base import utcnow
from org import service as org
from org.models import ApiToken
from tests.webapp.test_api import ApiClient, assert_error, make_portal_account, sign_in, start_leave
from webapp.api import common


@contextmanager
def statements(app):
    """Collect the SQL statements the app runs inside the block."""
    seen: list[str] = []
    engine = app.extensions["flowdesk.database"].engine

    def log(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()).lower())

    event.listen(engine, "before_cursor_execute", log)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", log)


def _token(app, username: str, days: int | None = None) -> tuple[int, str]:
    with app.extensions["flowdesk.database"].command() as session:
        token, secret = org.create_token(session=session, user=org.get_user_by_name(session=session,
                                                                                      username=username),
                                         name="script", days=days)
        return token.id, secret


def _last_used(app, token_id: int):
    with app.extensions["flowdesk.database"].query() as session:
        return session.get(ApiToken, token_id).last_used_at


def test_a_checked_token_is_not_read_again_while_nothing_changes(app, client):
    api = sign_in(client, "li.na")
    assert api.get("/me").status_code == 200
    with statements(app) as seen:
        me = api.get("/me")
        tasks = api.get("/tasks?view=mine")
    assert me.status_code == 200 and me.get_json()["username"] == "li.na"
    assert tasks.status_code == 200
    assert seen and not any("api_token" in s for s in seen), seen
    # Each call confirms the revision it relies on, inside the transaction it uses anyway.
    assert sum("from org_revision" in s for s in seen) == 2, seen


def test_a_revoked_token_is_refused_on_the_next_call(app, client):
    token_id, secret = _token(app, "li.na")
    api = ApiClient(client, secret)
    assert api.get("/me").status_code == 200 and api.get("/me").status_code == 200
    with app.extensions["flowdesk.database"].command() as session:
        org.revoke_token(session=session, user=org.get_user_by_name(session=session, username="li.na"),
                         token_id=token_id)
    assert_error(api.get("/me"), 401, "unauthorized")
    assert_error(api.post("/tasks/1/complete", json={"decision": "approve"}), 401, "unauthorized")


def test_a_user_who_left_is_refused_on_the_next_call(app, client):
    api = sign_in(client, "zhao.lei")
    assert api.get("/tasks?view=mine").status_code == 200
    with app.extensions["flowdesk.database"].command() as session:
        org.set_status(session=session, user=org.get_user_by_name(session=session, username="zhao.lei"),
                       status="left")
    response = api.get("/tasks?view=mine")
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_changed_roles_and_groups_apply_on_the_next_call(app, client):
    api = sign_in(client, "wang.fang")
    before = api.get("/me").get_json()
    assert before["is_admin"] is False
    assert_error(api.get("/process-templates"), 403, "forbidden")
    with app.extensions["flowdesk.database"].command() as session:
        user = org.get_user_by_name(session=session, username="wang.fang")
        user.roles = [*user.roles, org.get_unit(session=session, kind="role", code="admin")]
    after = api.get("/me").get_json()
    assert after["is_admin"] is True
    assert api.get("/process-templates").status_code == 200  # a designer's read now passes


def test_an_expired_token_is_refused_without_asking_the_database(app, client, monkeypatch):
    _token_id, secret = _token(app, "li.na", days=1)
    api = ApiClient(client, secret)
    assert api.get("/me").status_code == 200
    later = utcnow() + timedelta(days=2)
    monkeypatch.setattr(common, "utcnow", lambda: later)
    monkeypatch.setattr(org, "utcnow", lambda: later)
    assert_error(api.get("/me"), 401, "unauthorized")


def test_token_use_is_still_noted_once_a_minute(app, client, monkeypatch):
    token_id, secret = _token(app, "li.na")
    api = ApiClient(client, secret)
    assert api.get("/me").status_code == 200
    first = _last_used(app, token_id)
    assert first is not None
    assert api.get("/me").status_code == 200
    assert _last_used(app, token_id) == first  # cached: no write
    later = utcnow() + timedelta(minutes=2)
    monkeypatch.setattr(common, "utcnow", lambda: later)
    monkeypatch.setattr(org, "utcnow", lambda: later)
    assert api.get("/me").status_code == 200
    assert _last_used(app, token_id) == later


def test_a_new_token_does_not_move_the_organisation_on(app, client):
    api = sign_in(client, "li.na")
    assert api.get("/me").status_code == 200
    _token(app, "li.na")  # issuing another token leaves every checked token (and cached calendar) standing
    sign_in(client, "zhao.lei")
    with statements(app) as seen:
        assert api.get("/me").status_code == 200
    assert not any("api_token" in s for s in seen), seen


def test_an_account_made_a_portal_account_meets_the_portal_door_on_the_next_call(app, client):
    api = sign_in(client, "zhao.lei")
    assert api.get("/tasks?view=mine").status_code == 200
    make_portal_account(app, "zhao.lei")
    assert_error(api.get("/tasks?view=mine"), 403, "forbidden")
    assert api.get("/records/customer").status_code == 200


@contextmanager
def transactions(app):
    """Count the database transactions the app begins inside the block."""
    began: list[int] = []
    engine = app.extensions["flowdesk.database"].engine

    def count(_conn):
        began.append(1)

    event.listen(engine, "begin", count)
    try:
        yield began
    finally:
        event.remove(engine, "begin", count)


def test_a_checked_caller_reads_and_completes_in_one_transaction_each(app, client):
    employee = sign_in(client, "wang.fang")
    start_leave(employee)
    manager = sign_in(client, "li.na")
    assert manager.get("/me").status_code == 200
    for path in ("/me", "/tasks?view=mine"):
        with transactions(app) as began:
            assert manager.get(path).status_code == 200
        assert len(began) == 1, path
    task = manager.get("/tasks?view=mine").get_json()["items"][0]
    with transactions(app) as began, statements(app) as seen:
        done = manager.post(f"/tasks/{task['id']}/complete", json={"decision": "approve"})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert len(began) == 1
    # The instance is locked and read once, the item read with its instance's live items once.
    assert sum(s.startswith("select process_instance.") for s in seen) == 1, seen
    assert sum(s.startswith("select work_item.") for s in seen) == 1, seen
    # The history rows are written together at the end, in one statement.
    assert sum(s.startswith("insert into history_event") for s in seen) == 1, seen
    # The manager's task was personal: it never had candidate rows, so none are deleted.
    assert not any(s.startswith("delete from work_item_candidate") for s in seen), seen

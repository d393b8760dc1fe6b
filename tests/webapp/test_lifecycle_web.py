"""Terminate, suspend, resume and withdraw from the instance page and the API; the standing proxy page."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from .test_api import assert_error, only_task, sign_in, start_leave


def _status(api, iid: int) -> str:
    return api.get(f"/instances/{iid}").get_json()["status"]


def test_initiator_sees_and_uses_withdraw_on_the_page(client, login):
    iid = start_leave(sign_in(client, "wang.fang"))["id"]
    employee = login("wang.fang")
    page = employee.get(f"/instances/{iid}").get_data(as_text=True)
    assert 'data-testid="lifecycle-actions"' in page and "/withdraw" in page and "/terminate" not in page
    assert "/withdraw" not in login("li.na").get(f"/instances/{iid}").get_data(as_text=True)
    response = employee.post(f"/instances/{iid}/withdraw", data={"reason": " "}, follow_redirects=True)
    assert "Say why." in response.get_data(as_text=True)
    response = employee.post(f"/instances/{iid}/withdraw", data={"reason": "plans changed"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Your request was withdrawn." in page and "Withdrawn" in page and "lifecycle-actions" not in page


def test_withdraw_button_disappears_and_is_refused_after_the_manager_approved(client, login):
    api = sign_in(client, "wang.fang")
    iid = start_leave(api)["id"]
    manager = sign_in(client, "li.na")
    task = only_task(manager)
    assert manager.post(f"/tasks/{task['id']}/complete", json={"decision": "approve"}).status_code == 200
    employee = login("wang.fang")
    assert "/withdraw" not in employee.get(f"/instances/{iid}").get_data(as_text=True)
    response = employee.post(f"/instances/{iid}/withdraw", data={"reason": "late"}, follow_redirects=True)
    assert "li.na already acted" in response.get_data(as_text=True)
    error = assert_error(api.post(f"/instances/{iid}/withdraw", json={"reason": "late"}), 409, "conflict")
    assert error["details"]["acted"] == ["li.na"]
    assert _status(api, iid) == "running"


def test_admin_suspends_resumes_and_terminates_on_the_page(client, login):
    api = sign_in(client, "wang.fang")
    iid = start_leave(api)["id"]
    admin = login("admin")
    page = admin.get(f"/instances/{iid}").get_data(as_text=True)
    assert "/terminate" in page and "/suspend" in page and "/withdraw" not in page
    # Non-admins may not, even by posting the form by hand.
    assert login("li.na").post(f"/instances/{iid}/suspend").status_code == 403
    assert login("wang.fang").post(f"/instances/{iid}/terminate", data={"reason": "x"}).status_code == 403
    page = admin.post(f"/instances/{iid}/suspend", follow_redirects=True).get_data(as_text=True)
    assert "The process is suspended." in page and 'data-testid="suspended"' in page and "/resume" in page
    manager = sign_in(client, "li.na")
    task = only_task(manager)
    error = assert_error(manager.post(f"/tasks/{task['id']}/complete", json={"decision": "approve"}), 409)
    assert "suspended" in error["message"]
    assert "The process runs again." in admin.post(f"/instances/{iid}/resume",
                                                     follow_redirects=True).get_data(as_text=True)
    assert "Say why." in admin.post(f"/instances/{iid}/terminate", data={}, follow_redirects=True).get_data(
        as_text=True)
    page = admin.post(f"/instances/{iid}/terminate", data={"reason": "duplicate"},
                      follow_redirects=True).get_data(as_text=True)
    assert "The process was terminated." in page and "Terminated" in page
    assert _status(api, iid) == "terminated"
    assert manager.get("/tasks?view=mine").get_json()["total"] == 0


def test_lifecycle_api_permissions_and_errors(client):
    employee, manager, admin = sign_in(client, "wang.fang"), sign_in(client, "li.na"), sign_in(client, "admin")
    iid = start_leave(employee)["id"]
    assert_error(manager.post(f"/instances/{iid}/suspend"), 403, "forbidden")
    assert_error(manager.post(f"/instances/{iid}/withdraw", json={"reason": "x"}), 403, "forbidden")
    assert_error(sign_in(client, "wu.qiang").post(f"/instances/{iid}/terminate", json={"reason": "x"}), 404)
    assert_error(admin.post(f"/instances/{iid}/terminate", json={}), 400)
    assert_error(admin.post(f"/instances/{iid}/terminate", json={"reason": 5}), 400)
    assert_error(admin.post(f"/instances/{iid}/resume"), 409, "conflict")
    assert admin.post(f"/instances/{iid}/suspend", json={"reason": "audit"}).get_json()["status"] == "suspended"
    assert admin.post(f"/instances/{iid}/resume").get_json()["status"] == "running"
    body = admin.post(f"/instances/{iid}/terminate", json={"reason": "stop"}).get_json()
    assert body["status"] == "terminated" and body["ended_at"]
    history = employee.get(f"/instances/{iid}").get_json()["history"]
    assert [h["type"] for h in history if h["type"].startswith("instance_")][-3:] == [
        "instance_suspended", "instance_resumed", "instance_terminated"]


def test_proxy_page_creates_lists_and_revokes(client, login):
    manager = login("li.na")
    page = manager.get("/account/proxies").get_data(as_text=True)
    assert "You have no proxies." in page and "/account/proxies" in manager.get("/").get_data(as_text=True)
    today = date.today()
    form = {"proxy": "WU.QIANG", "starts": today.isoformat(), "ends": (today + timedelta(days=3)).isoformat(),
            "keys": ["leave_request"]}
    response = manager.post("/account/proxies", data=form, follow_redirects=True)
    assert response.status_code == 200 and "your new tasks go to wu.qiang" in response.get_data(as_text=True)
    # The proxy now receives li.na's new direct tasks, and sees whom they act for.
    iid = start_leave(sign_in(client, "wang.fang"))["id"]
    proxy = sign_in(client, "wu.qiang")
    assert only_task(proxy)["instance_id"] == iid
    history = proxy.get(f"/instances/{iid}").get_json()["history"]
    assert [h["details"] for h in history if h["type"] == "task_proxied"] == [{"for": "li.na", "to": "wu.qiang"}]
    assert 'data-testid="acting-for"' in login("wu.qiang").get("/account/proxies").get_data(as_text=True)
    listed = sign_in(client, "li.na").get("/me/proxies").get_json()["items"]
    assert [(p["proxy"], p["state"], p["definition_keys"]) for p in listed] == [
        ("wu.qiang", "active", ["leave_request"])]
    response = manager.post("/account/proxies", data={"revoke": str(listed[0]["id"])}, follow_redirects=True)
    assert "The proxy was revoked." in response.get_data(as_text=True)
    response = manager.post("/account/proxies", data={"revoke": str(listed[0]["id"])}, follow_redirects=True)
    assert "already revoked" in response.get_data(as_text=True)


def test_proxy_page_refuses_bad_input(login):
    manager = login("li.na")
    today = date.today()
    good = {"proxy": "wu.qiang", "starts": today.isoformat(), "ends": (today + timedelta(days=3)).isoformat()}
    for changes, text in [({"proxy": "nobody"}, "No active user nobody."),
                          ({"proxy": "li.na"}, "you cannot be your own proxy"),
                          ({"ends": "garbage"}, "Enter a date."),
                          ({"starts": (today + timedelta(days=5)).isoformat()}, "the end must come after the start"),
                          ({"ends": (today + timedelta(days=400)).isoformat()}, "at most a year")]:
        response = manager.post("/account/proxies", data={**good, **changes})
        assert response.status_code == 400 and text in response.get_data(as_text=True), changes
    assert manager.post("/account/proxies", data={"revoke": "abc"}).status_code == 400
    assert "You have no proxies." in manager.get("/account/proxies").get_data(as_text=True)
    # Someone else's proxy cannot be revoked.
    other = login("wu.qiang")
    other.post("/account/proxies", data={**good, "proxy": "li.na"})
    assert manager.post("/account/proxies", data={"revoke": "1"}).status_code == 404


def test_proxy_api_happy_path_and_refusals(client):
    manager = sign_in(client, "li.na")
    now = datetime.now(timezone.utc)
    window = {"starts_at": (now - timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(days=2)).isoformat()}
    response = manager.post("/me/proxies", json={"proxy": "wu.qiang", **window, "definition_keys": None})
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    assert (created["proxy"], created["state"], created["definition_keys"]) == ("wu.qiang", "active", None)
    assert sign_in(client, "wu.qiang").get("/me/proxies").get_json()["acting_for"][0]["username"] == "li.na"
    assert_error(manager.post("/me/proxies", json={"proxy": "wu.qiang"}), 400)
    assert_error(manager.post("/me/proxies", json={"proxy": "wu.qiang", **window, "extra": 1}), 400)
    assert_error(manager.post("/me/proxies", json={"proxy": "wu.qiang", "starts_at": "soon",
                                                    "ends_at": window["ends_at"]}), 400)
    assert_error(manager.post("/me/proxies", json={"proxy": "wu.qiang", **window, "definition_keys": "x"}), 400)
    assert_error(manager.post("/me/proxies", json={"proxy": "ghost", **window}), 404)
    assert_error(sign_in(client, "wang.fang").post(f"/me/proxies/{created['id']}/revoke"), 404, "proxy_not_found")
    assert manager.post(f"/me/proxies/{created['id']}/revoke").get_json()["state"] == "revoked"
    assert_error(manager.post(f"/me/proxies/{created['id']}/revoke"), 409)

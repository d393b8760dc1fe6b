"""Approval verbs on the pages and in the API: transfer, delegate and hand back, urge, carbon copy."""
from __future__ import annotations

from .test_api import assert_error, make_portal_account, only_task, sign_in, start_leave
from .test_pages import _start_leave, _task_id


def test_transfer_from_the_task_page(login):
    employee, manager = login("wang.fang"), login("li.na")
    _start_leave(employee)
    task_id = _task_id(manager)
    html = manager.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'data-testid="transfer-form"' in html and 'data-testid="delegate-form"' in html
    response = manager.post(f"/tasks/{task_id}/transfer", data={"to_user": "nobody.here"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{task_id}")
    assert "There is no user nobody.here" in manager.get(f"/tasks/{task_id}").get_data(as_text=True)
    response = manager.post(f"/tasks/{task_id}/transfer", data={"to_user": "Zhang.Wei", "comment": "away"})
    assert response.status_code == 302
    assert manager.get(f"/tasks/{task_id}").status_code == 404
    boss = login("zhang.wei")
    assert _task_id(boss) == task_id
    # Someone who is not the assignee cannot transfer it.
    assert login("gao.yu").post(f"/tasks/{task_id}/transfer", data={"to_user": "gao.yu"}).status_code in (403, 404)


def test_delegate_and_hand_back_on_the_task_page(login):
    employee, manager = login("wang.fang"), login("li.na")
    _start_leave(employee)
    task_id = _task_id(manager)
    assert manager.post(f"/tasks/{task_id}/delegate", data={"to_user": "zhang.wei", "comment": "?"}).status_code == 302
    boss = login("zhang.wei")
    html = boss.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'data-testid="delegated-to-me"' in html and 'data-testid="resolve-form"' in html
    assert 'data-testid="approve"' not in html and 'data-testid="transfer-form"' not in html
    assert boss.post(f"/tasks/{task_id}/complete", data={"decision": "approve"}).status_code == 409
    response = boss.post(f"/tasks/{task_id}/resolve", data={"comment": "approve it"})
    assert response.status_code == 302
    html = manager.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'data-testid="approve"' in html
    assert manager.post(f"/tasks/{task_id}/complete", data={"decision": "approve"}).status_code == 302


def test_urge_and_copy_on_the_instance_page(login, app):
    employee, manager = login("wang.fang"), login("li.na")
    instance_id = _start_leave(employee)
    task_id = _task_id(manager)
    html = employee.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert f'data-testid="urge-{task_id}"' in html and 'data-testid="cc-form"' in html
    assert 'data-testid="urge-card"' not in manager.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert employee.post(f"/tasks/{task_id}/urge", data={"comment": "please"}).status_code == 302
    employee.post(f"/tasks/{task_id}/urge")
    assert "urged recently" in employee.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert manager.post(f"/tasks/{task_id}/urge").status_code == 403
    response = employee.post(f"/tasks/instances/{instance_id}/cc", data={"to_users": "sun.li, zhou.min",
                                                                          "note": "fyi"})
    assert response.status_code == 302
    assert login("sun.li").get(f"/instances/{instance_id}").status_code == 200
    html = employee.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert 'data-testid="copies"' in html and html.count("text-bg-success") >= 1 and "unread" in html
    assert login("gao.yu").post(f"/tasks/instances/{instance_id}/cc", data={"to_users": "sun.li"}).status_code == 404


def test_verbs_in_the_api(client):
    employee, manager = sign_in(client, "wang.fang"), sign_in(client, "li.na")
    instance = start_leave(employee)
    task = only_task(manager)
    error = assert_error(manager.post(f"/tasks/{task['id']}/transfer", json={"to_user": "nobody"}), 404)
    assert error["details"]["field"] == "to_user"
    assert_error(manager.post(f"/tasks/{task['id']}/transfer", json={"to_user": "li.na"}), 400)
    assert_error(manager.post(f"/tasks/{task['id']}/transfer", json={}), 400)
    assert_error(employee.post(f"/tasks/{task['id']}/delegate", json={"to_user": "sun.li"}), 403, "forbidden")
    body = manager.post(f"/tasks/{task['id']}/delegate", json={"to_user": "zhang.wei", "comment": "?"}).get_json()
    assert (body["assignee"], body["owner"]) == ("zhang.wei", "li.na")
    boss = sign_in(client, "zhang.wei")
    assert_error(boss.post(f"/tasks/{task['id']}/complete", json={"decision": "approve"}), 409, "conflict")
    body = boss.post(f"/tasks/{task['id']}/resolve", json={"comment": "ok"}).get_json()
    assert (body["assignee"], body["owner"]) == ("li.na", None)
    body = manager.post(f"/tasks/{task['id']}/transfer", json={"to_user": "zhang.wei"}).get_json()
    assert body["assignee"] == "zhang.wei"
    assert_error(manager.post(f"/tasks/{task['id']}/urge", json={}), 404)
    assert employee.post(f"/tasks/{task['id']}/urge", json={"comment": "soon?"}).get_json()["last_urged_at"]
    error = assert_error(employee.post(f"/tasks/{task['id']}/urge", json={}), 409)
    assert "next_urge_at" in error["details"]
    body = employee.post(f"/instances/{instance['id']}/cc", json={"to_users": ["sun.li", "sun.li"]}).get_json()
    assert body["sent"] == ["sun.li"] and body["copies"][0]["read_at"] is None
    sun = sign_in(client, "sun.li")
    assert sun.get(f"/instances/{instance['id']}").status_code == 200
    body = employee.post(f"/instances/{instance['id']}/cc", json={"to_users": ["sun.li"]}).get_json()
    assert body["sent"] == ["sun.li"] and body["copies"][0]["read_at"] is not None
    assert_error(sign_in(client, "gao.yu").post(f"/instances/{instance['id']}/cc", json={"to_users": ["sun.li"]}),
                 404)
    assert_error(employee.post(f"/instances/{instance['id']}/cc", json={"to_users": "sun.li"}), 400)


def test_work_is_not_handed_to_a_portal_account_or_someone_who_left(app, client):
    from org import service as org

    make_portal_account(app, "zhao.lei")
    with app.extensions["flowdesk.database"].command() as session:
        org.set_status(session=session, user=org.get_user_by_name(session=session, username="sun.li"), status="left")
    employee, manager = sign_in(client, "wang.fang"), sign_in(client, "li.na")
    start_leave(employee)
    task = only_task(manager)
    for path, body in (("transfer", {"to_user": "zhao.lei"}), ("delegate", {"to_user": "zhao.lei"}),
                       ("add-signers", {"users": ["zhao.lei"], "position": "parallel"})):
        error = assert_error(manager.post(f"/tasks/{task['id']}/{path}", json=body), 400)
        assert error["details"]["username"] == "zhao.lei" and "portal account" in error["message"]
    error = assert_error(client.post(f"/api/v1/tasks/{task['id']}/transfer", json={"to_user": "sun.li"},
                                     headers={**manager.headers, "Accept-Language": "zh-CN"}),
                         400)
    assert error["details"] == {"field": "to_user", "username": "sun.li"} and "已离职" in error["message"]
    assert only_task(manager)["id"] == task["id"]  # still with its holder

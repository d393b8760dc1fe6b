"""Return (退回), resubmission, take back (撤回) and jump (跳转) on the pages and in the API."""
from __future__ import annotations

from .test_api import assert_error, only_task, sign_in, start_leave
from .test_pages import LEAVE_FORM, _start_leave, _task_id


def test_return_to_the_requester_and_resubmit_on_the_pages(login):
    employee, manager = login("wang.fang"), login("li.na")
    instance_id = _start_leave(employee)
    task_id = _task_id(manager)
    html = manager.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'data-testid="return-form"' in html and "The requester (revise and resubmit)" in html
    response = manager.post(f"/tasks/{task_id}/return", data={"to": "initiator", "comment": ""})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{task_id}")
    assert "comment is required" in manager.get(f"/tasks/{task_id}").get_data(as_text=True)
    response = manager.post(f"/tasks/{task_id}/return", data={"to": "initiator", "comment": "请补充请假原因"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/instances/{instance_id}")
    assert 'data-testid="task-state"' in manager.get(f"/tasks/{task_id}").get_data(as_text=True)
    back_id = _task_id(employee)
    html = employee.get(f"/tasks/{back_id}").get_data(as_text=True)
    assert 'data-testid="returned-to-me"' in html and "请补充请假原因" in html and 'data-testid="resubmit"' in html
    assert 'data-testid="approve"' not in html and 'name="leave_type"' in html  # the start form, to revise
    response = employee.post(f"/tasks/{back_id}/complete", data={**LEAVE_FORM, "reason": "陪家人看病"})
    assert response.status_code == 302, response.get_data(as_text=True)
    again = _task_id(manager)
    assert again != task_id
    timeline = employee.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "Returned" in timeline and "Resubmitted" in timeline and "陪家人看病" in timeline


def test_take_back_a_decision_on_the_task_page(login):
    employee, manager = login("wang.fang"), login("li.na")
    instance_id = _start_leave(employee)
    task_id = _task_id(manager)
    assert manager.post(f"/tasks/{task_id}/complete", data={"decision": "approve"}).status_code == 302
    html = manager.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'data-testid="take-back-form"' in html
    response = manager.post(f"/tasks/{task_id}/take-back", data={"reason": "wrong dates"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/instances/{instance_id}")
    assert _task_id(manager) != task_id
    assert "Decision taken back" in employee.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert login("gao.yu").post(f"/tasks/{task_id}/take-back").status_code in (403, 404)


def test_an_administrator_moves_a_request_on_the_instance_page(login):
    employee, admin = login("wang.fang"), login("admin")
    instance_id = _start_leave(employee)
    html = admin.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert 'data-testid="jump-form"' in html and 'data-testid="jump-form"' not in employee.get(
        f"/instances/{instance_id}").get_data(as_text=True)
    response = admin.post(f"/instances/{instance_id}/jump", data={"to": "hr_approval", "reason": ""})
    assert response.status_code == 302
    assert "a reason is required" in admin.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert admin.post(f"/instances/{instance_id}/jump", data={"to": "hr_approval",
                                                               "reason": "manager on leave"}).status_code == 302
    html = admin.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "Moved by an administrator" in html and "manager on leave" in html
    assert employee.post(f"/instances/{instance_id}/jump", data={"to": "manager_approval",
                                                                 "reason": "x"}).status_code in (302, 403)
    assert "Moved by an administrator" in html


def test_return_take_back_and_jump_through_the_api(client):
    employee, manager, admin = sign_in(client, "wang.fang"), sign_in(client, "li.na"), sign_in(client, "admin")
    instance = start_leave(employee)
    task = only_task(manager)
    targets = manager.get(f"/tasks/{task['id']}/return-targets").get_json()
    assert targets == {"stops": [{"id": "submitted", "name": targets["stops"][0]["name"], "kind": "start"}],
                       "resubmit": "rerun"}
    error = assert_error(manager.post(f"/tasks/{task['id']}/return", json={"to": "hr_approval", "comment": "x"}),
                         400, "invalid_input")
    assert error["details"]["field"] == "to"
    assert_error(manager.post(f"/tasks/{task['id']}/return", json={"to": "submitted"}), 400)
    moved = manager.post(f"/tasks/{task['id']}/return", json={"to": "initiator", "comment": "dates?"})
    assert moved.status_code == 200, moved.get_data(as_text=True)
    [back] = moved.get_json()["open_tasks"]
    assert (back["kind"], back["assignee"]) == ("resubmit", "wang.fang")
    done = employee.post(f"/tasks/{back['id']}/complete", json={"data": {"days": 2}})
    assert done.status_code == 200, done.get_data(as_text=True)
    task = only_task(manager)
    assert manager.post(f"/tasks/{task['id']}/complete", json={"decision": "approve"}).status_code == 200
    again = manager.post(f"/tasks/{task['id']}/take-back", json={"reason": "oops"})
    assert again.status_code == 200 and again.get_json()["open_tasks"][0]["element_id"] == "manager_approval"
    task = only_task(manager)
    assert_error(employee.post(f"/instances/{instance['id']}/jump", json={"to": "hr_approval", "reason": "x"}), 403)
    error = assert_error(admin.post(f"/instances/{instance['id']}/jump", json={"to": "nowhere", "reason": "x"}),
                         400)
    assert error["details"]["field"] == "to"
    jumped = admin.post(f"/instances/{instance['id']}/jump", json={"to": "hr_approval", "reason": "urgent"})
    assert jumped.status_code == 200
    assert [t["element_id"] for t in jumped.get_json()["open_tasks"]] == ["hr_approval"]
    assert_error(manager.post(f"/tasks/{task['id']}/take-back", json={}), 403)  # moved away, never decided


def test_add_and_remove_signers_on_the_task_page(login):
    employee, manager = login("wang.fang"), login("li.na")
    instance_id = _start_leave(employee)
    task_id = _task_id(manager)
    html = manager.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'data-testid="add-signers-form"' in html and "before me" in html and "alongside me" in html
    response = manager.post(f"/tasks/{task_id}/add-signers", data={"users": "nobody.here", "position": "after"})
    assert response.status_code == 302
    assert "There is no user nobody.here" in manager.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert manager.post(f"/tasks/{task_id}/add-signers", data={"users": "zhang.wei，sun.li", "position": "before",
                                                               "comment": "请先看"}).status_code == 302
    html = manager.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'data-testid="cosigners"' in html and "waiting for the signers you added" in html
    boss = login("zhang.wei")
    cosign_id = _task_id(boss)
    html = boss.get(f"/tasks/{cosign_id}").get_data(as_text=True)
    assert 'data-testid="cosign-note"' in html and 'data-testid="add-signers-form"' not in html
    assert boss.post(f"/tasks/{cosign_id}/complete", data={"decision": "approve"}).status_code == 302
    assert manager.post(f"/tasks/{task_id}/remove-signers", data={"users": "sun.li"}).status_code == 302
    assert _task_id(manager) == task_id  # back with the holder
    timeline = employee.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "Signers added" in timeline and "Co-signed" in timeline and "Signers removed" in timeline
    assert manager.post(f"/tasks/{task_id}/complete", data={"decision": "approve"}).status_code == 302


def test_ask_for_help_and_answer_on_the_task_page(login):
    employee, manager = login("wang.fang"), login("li.na")
    instance_id = _start_leave(employee)
    task_id = _task_id(manager)
    assert 'data-testid="ask-help-form"' in manager.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert manager.post(f"/tasks/{task_id}/ask-help", data={"users": "zhang.wei", "comment": "能批吗？"}
                        ).status_code == 302
    assert manager.post(f"/tasks/{task_id}/complete", data={"decision": "approve"}).status_code == 409
    boss = login("zhang.wei")
    help_id = _task_id(boss)
    html = boss.get(f"/tasks/{help_id}").get_data(as_text=True)
    assert 'data-testid="assist-note"' in html and "能批吗？" in html and 'data-testid="give-help"' in html
    assert 'data-testid="approve"' not in html
    assert boss.post(f"/tasks/{help_id}/complete", data={}).status_code == 422  # input needs words
    assert boss.post(f"/tasks/{help_id}/complete", data={"comment": "可以批准"}).status_code == 302
    html = manager.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'data-testid="helpers"' in html and "可以批准" in html
    assert manager.post(f"/tasks/{task_id}/complete", data={"decision": "approve"}).status_code == 302
    assert "Input given" in employee.get(f"/instances/{instance_id}").get_data(as_text=True)

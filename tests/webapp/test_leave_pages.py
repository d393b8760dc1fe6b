"""Leave on the pages: the balance refusal next to its field, and the My leave and attendance page."""
from __future__ import annotations

import re

from sqlalchemy import select

from instances.actors import Actor
from records import service as records
from records.models import Record, RecordType

FORM = {"leave_type": "annual", "start_date": "2026-12-01", "end_date": "2026-12-03", "start_part": "full",
        "end_part": "full", "reason": "回家探亲", "manager": "li.na"}


def _balance(db, employee: str, **fields) -> int:
    with db.command() as session:
        found = session.scalar(select(Record).join(RecordType, RecordType.id == Record.type_id).where(
            RecordType.key == "leave_balance", Record.data["employee"].as_string() == employee,
            Record.data["year"].as_integer() == 2026))
        records.update_record(session=session, record_id=found.id, data=fields, actor=Actor("admin", is_admin=True),
                              lock_version=None)
        return found.id


def _approve_all(login, instance_id: int) -> None:
    for who in ("li.na", "zhou.min"):
        client = login(who)
        page = client.get("/?view=mine").get_data(as_text=True) + client.get("/?view=group").get_data(as_text=True)
        [task] = re.findall(r'data-testid="task-(\d+)"', page)[:1]
        if who == "zhou.min":
            client.post(f"/tasks/{task}/claim")
        response = client.post(f"/tasks/{task}/complete", data={"decision": "approve", "comment": "同意"})
        assert response.status_code == 302, response.get_data(as_text=True)


def test_the_start_form_counts_days_and_shows_the_balance_refusal_next_to_the_field(login, db):
    _balance(db, "wang.fang", entitled_days=2)
    employee = login("wang.fang")
    form = employee.get("/processes/leave_request/start").get_data(as_text=True)
    # The half-day choices start on their defaults (the whole day).
    assert re.search(r'name="start_part" value="full"\s+checked', form)
    assert re.search(r'name="end_part" value="full"\s+checked', form)
    assert not re.search(r'name="end_part" value="am"\s+checked', form)
    refused = employee.post("/processes/leave_request/start", data=FORM)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'data-testid="error-end_date"' in html
    assert "3 working days of Annual leave in 2026, but only 2 are left (2 entitled, 0 used" in html
    assert 'value="回家探亲"' in html or "回家探亲" in html  # what was typed is kept
    started = employee.post("/processes/leave_request/start", data={**FORM, "end_date": "2026-12-02"})
    assert started.status_code == 302, started.get_data(as_text=True)
    page = employee.get(started.headers["Location"]).get_data(as_text=True)
    assert "Working days" in page


def test_a_refused_leave_is_explained_in_the_readers_language(login, db):
    _balance(db, "wang.fang", entitled_days=2.5)
    employee = login("wang.fang", lang="zh_CN")
    short = employee.post("/processes/leave_request/start", data=FORM).get_data(as_text=True)
    assert "2026 年年假需 3 个工作日，但仅剩 2.5 天（额度 2.5 天，已用 0 天" in short
    assert "working days of" not in short
    weekend = employee.post("/processes/leave_request/start",
                            data={**FORM, "start_date": "2026-12-05", "end_date": "2026-12-06"})
    assert weekend.status_code == 422
    text = weekend.get_data(as_text=True)
    assert "2026-12-05 至 2026-12-06 在业务日历上没有工作日。" in text and "holds no working day" not in text


def test_my_leave_page_shows_balances_waiting_days_and_attendance(login, db):
    _balance(db, "wang.fang", entitled_days=10, used_days=1)
    employee = login("wang.fang")
    empty = employee.get("/account/leave?year=2026").get_data(as_text=True)
    assert re.search(r"\b9 <span[^>]*>days left", empty) and 'data-testid="no-attendance"' in empty
    started = employee.post("/processes/leave_request/start", data={**FORM, "start_part": "pm"})
    assert started.status_code == 302
    waiting = employee.get("/account/leave?year=2026").get_data(as_text=True)
    assert "2.5 awaiting approval" in waiting and "6.5" in waiting
    _approve_all(login, int(started.headers["Location"].rsplit("/", 1)[-1]))
    done = employee.get("/account/leave?year=2026").get_data(as_text=True)
    assert "3.5 used" in done and "0 awaiting approval" in done and 'data-testid="attendance"' in done
    assert "2026-12-01" in done and "Annual leave" in done
    other = login("liu.yang").get("/account/leave?year=2026").get_data(as_text=True)
    assert 'data-testid="no-attendance"' in other  # one's own attendance only
    assert 'data-testid="nav-my-leave"' in done
    chinese = login("wang.fang", lang="zh_CN").get("/account/leave?year=2026").get_data(as_text=True)
    assert "我的假期与考勤" in chinese


def test_the_api_refuses_a_leave_beyond_the_balance_by_field(login, db):
    _balance(db, "wang.fang", entitled_days=1)
    client = login("wang.fang")
    token = client.post("/api/v1/auth/token", json={"username": "wang.fang", "password": "flowdesk-demo"}).get_json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    data = {"leave_type": "annual", "start_date": "2026-12-01", "end_date": "2026-12-02", "manager": "li.na"}
    refused = client.post("/api/v1/definitions/leave_request/instances", json={"data": data}, headers=headers)
    assert refused.status_code == 422
    assert "2 working days of annual leave in 2026, but only 1 are left" in refused.get_json()["error"]["details"][
        "end_date"]
    started = client.post("/api/v1/definitions/leave_request/instances",
                          json={"data": {**data, "end_date": "2026-12-01", "days": 5}}, headers=headers)
    assert started.status_code == 201 and started.get_json()["data"]["days"] == 1  # counted, not taken as typed


def test_my_leave_page_lists_overtime_in_hours_and_trips_in_days(login, db):
    # Overtime is written in hours only and a trip in days only: a row lacking one shows an empty cell.
    with db.command() as session:
        for data in ({"title": "王芳 · 加班 Overtime", "employee": "wang.fang", "kind": "overtime",
                      "start_date": "2026-11-21", "end_date": "2026-11-21", "hours": 3.5, "compensation": "pay"},
                     {"title": "王芳 · 出差 Trip", "employee": "wang.fang", "kind": "business_trip",
                      "start_date": "2026-11-23", "end_date": "2026-11-25", "days": 3.0}):
            records.create_record(session=session, type_key="attendance", data=data,
                                  actor=Actor("admin", is_admin=True), owner="wang.fang")
    response = login("wang.fang").get("/account/leave?year=2026")
    assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
    rows = re.findall(r"<tr><td>(.*?)</tr>", response.get_data(as_text=True), re.S)
    cells = [re.findall(r'<td class="text-end">([^<]*)</td>', row) for row in rows]
    assert cells == [["3", ""], ["", "3.5"]]  # newest first: the trip's days, the overtime's hours

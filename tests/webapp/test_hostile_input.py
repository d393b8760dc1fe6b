"""Numbers, dates and time zones past what the database or the calendar holds get a clear answer, never a 500."""
from __future__ import annotations

import pytest

from instances.models import MAX_PRIORITY
from org.demo import DEMO_PASSWORD

HUGE = str(10**20)  # past 64 bits: SQLite cannot bind it, PostgreSQL cannot compare it with an id
INT32_PAST = str(3_000_000_000)  # past the 32-bit id columns of PostgreSQL (users, departments, versions)


@pytest.mark.parametrize("path", [
    f"/?page={HUGE}", f"/?view=group&page={HUGE}", f"/?view=done&page={HUGE}", f"/?view=cc&page={HUGE}",
    f"/instances/?page={HUGE}", f"/admin/access/audit?page={HUGE}", f"/records/customer/?page={HUGE}",
    f"/notifications?page={HUGE}", f"/messages?page={HUGE}", f"/admin/users?page={HUGE}",
    f"/admin/outbox?page={HUGE}", "/?page=%EF%BC%93", "/?page=+3", "/?page=1_000",
])
def test_a_page_number_past_the_end_shows_an_empty_page(login, path):
    page = login("admin").get(path)
    assert page.status_code == 200, (path, page.status_code)


def test_a_priority_past_the_column_is_refused_naming_the_field(login):
    for value in (str(MAX_PRIORITY + 1), HUGE):
        page = login("li.na").get(f"/?priority_min={value}")
        assert page.status_code == 400 and "priority_min" in page.get_data(as_text=True)
    assert login("li.na").get(f"/?priority_min={MAX_PRIORITY}").status_code == 200


@pytest.mark.parametrize("number", [HUGE, str(2**63), INT32_PAST, str(2**63 - 1)])
def test_an_id_no_column_holds_is_not_found(login, number):
    admin = login("admin")
    for path in (f"/admin/users/{number}/edit", f"/records/customer/{number}", f"/records/customer/{number}/edit",
                 f"/instances/{number}", f"/instances/{number}/diagram.svg", f"/tasks/{number}",
                 f"/documents/folders/{number}", f"/documents/files/{number}", f"/calendar/events/{number}",
                 f"/designer/leave_request/versions/{number}/download"):
        assert admin.get(path).status_code == 404, path


def test_the_access_explainer_names_a_record_no_column_holds_as_missing(login):
    page = login("admin").get(f"/admin/access/explain?user=wang.fang&record={HUGE}")
    assert page.status_code == 200 and "No record with this number." in page.get_data(as_text=True)


@pytest.mark.parametrize("path", [
    "/calendar?date=9999-12-31", "/calendar?date=0001-01-01", "/calendar?view=month&date=9999-12-31",
    "/calendar?view=day&date=0001-01-01", "/calendar?view=agenda&date=9999-12-31",
    "/calendar/events/new?date=9999-12-31&start=23:30",
])
def test_calendar_days_at_the_ends_of_the_date_range_fall_back_to_today(login, path):
    assert login("li.na").get(path).status_code == 200, path


def test_a_search_date_past_the_calendar_is_a_field_error(login):
    page = login("li.na").get("/search/?q=leave&to=9999-12-31")
    assert page.status_code in (200, 400)
    assert "Use a date between the years 1900 and 2200." in page.get_data(as_text=True)


def test_a_proxy_ending_on_the_last_day_there_is_asks_for_a_date(login):
    page = login("li.na").post("/account/proxies", data={"proxy": "zhang.wei", "starts": "2026-12-01",
                                                         "ends": "9999-12-31"})
    assert page.status_code == 400 and "Enter a date." in page.get_data(as_text=True)


def _bearer(client, username: str) -> dict:
    token = client.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD}).get_json()
    return {"Authorization": f"Bearer {token['token']}"}


def test_an_event_occurrence_at_the_end_of_time_is_simply_not_there(login):
    client = login("li.na")
    made = client.post("/api/v1/calendar/events", headers=_bearer(client, "li.na"), json={
        "title": "Stand-up", "starts_at": "2026-12-01T09:00:00+08:00", "ends_at": "2026-12-01T09:15:00+08:00",
        "timezone": "Asia/Shanghai", "repeat": {"freq": "daily"}})
    assert made.status_code == 201, made.get_data(as_text=True)
    event_id = made.get_json()["id"]
    for key in ("9999-12-31T23:00:00", "0001-01-01T00:00:00"):
        assert client.get(f"/calendar/events/{event_id}?occurrence={key}").status_code == 200


@pytest.mark.parametrize("zone", ["America", "Asia", "Etc", "posixrules/../America", "Z" * 5000])
def test_a_time_zone_that_is_a_folder_or_too_long_is_refused(login, zone):
    client = login("li.na")
    conflicts = client.get("/calendar/conflicts", query_string={
        "start_date": "2026-11-30", "start_time": "10:00", "end_date": "2026-11-30", "end_time": "11:00",
        "timezone": zone})
    assert conflicts.status_code == 400, conflicts.get_data(as_text=True)[:300]
    api = client.post("/api/v1/calendar/events", headers=_bearer(client, "li.na"), json={
        "title": "Review", "starts_at": "2026-12-01T09:00:00+08:00", "ends_at": "2026-12-01T10:00:00+08:00",
        "timezone": zone})
    assert api.status_code == 400 and api.get_json()["error"]["details"]["field"] == "timezone"
    settings = client.post("/account/notifications", data={"timezone": zone, "channels": "in_app"})
    assert settings.status_code in (200, 400)
    assert client.get("/account/notifications").status_code == 200


LONG = "9" * 5000  # past the 4,300 digits int() reads: it refuses them with an error of its own


def test_numbers_longer_than_int_reads_are_refused_in_forms(login, app):
    from tests.webapp.test_calendar_pages import MEETING

    manager = login("li.na")
    for extra in ({"repeat": "weekly", "interval": LONG}, {"repeat": "daily", "ends": "count", "count": LONG},
                  {"reminders": [LONG]}, {"record_id": LONG}):
        made = manager.post("/calendar/events/new", data={**MEETING, **extra})
        assert made.status_code == 400, (extra, made.status_code)
    made = manager.post("/calendar/events/new", data=MEETING)
    assert made.status_code == 302
    event_id = int(made.headers["Location"].split("/events/")[1].split("?")[0].split("/")[0])
    stale = manager.post(f"/calendar/events/{event_id}/edit", data={**MEETING, "lock_version": LONG})
    assert stale.status_code in (400, 409)
    conflicts = manager.get("/calendar/conflicts", query_string={
        "start_date": "2026-11-30", "start_time": "10:00", "end_date": "2026-11-30", "end_time": "11:00",
        "event": LONG})
    assert conflicts.status_code in (200, 400, 404)
    admin = login("admin")
    for path in (f"/admin/access/explain?user=admin&record={LONG}", f"/admin/calendars/org?year={LONG}",
                 f"/search/?q=leave&page={LONG}", f"/admin/users?q={'张' * 60000}"):
        assert admin.get(path).status_code == 200, path[:60]


def test_a_stale_record_edit_with_a_huge_lock_version_is_a_conflict(login, app):
    from tests.webapp.test_api import make_portal_account

    company = make_portal_account(app, "emma.chen")
    edited = login("admin").post(f"/records/customer/{company}/edit", data={"name": "远航物流", "lock_version": LONG})
    assert edited.status_code == 409


def test_a_document_moved_to_a_folder_number_past_any_id_is_refused(login, app):
    admin = login("admin")
    for target in (str(2**63), LONG):
        assert admin.post("/documents/files/1/move", data={"target_id": target}).status_code in (400, 404)


@pytest.mark.parametrize("field, value", [("sort", str(2**63)), ("sort", str(2**31)), ("sort", LONG)])
def test_a_department_sort_past_its_column_is_a_field_error(login, field, value):
    page = login("admin").post("/admin/departments/sales/edit", data={
        "code": "sales", "name": "销售部", "name_en": "Sales", "parent": "", "leader": "li.na", field: value})
    assert page.status_code in (400, 422) and "Enter a whole number" in page.get_data(as_text=True)


def test_a_position_level_past_its_column_is_a_field_error(login):
    page = login("admin").post("/admin/positions/new", data={"code": "chief", "name": "总监", "name_en": "Chief",
                                                              "level": str(2**63)})
    assert page.status_code in (400, 422) and "Enter a whole number" in page.get_data(as_text=True)


def test_the_calendar_api_refuses_numbers_longer_than_int_reads(login):
    client = login("li.na")
    headers = _bearer(client, "li.na")
    base = {"title": "api", "starts_at": "2026-12-01T10:00:00+08:00", "ends_at": "2026-12-01T11:00:00+08:00",
            "timezone": "Asia/Shanghai"}
    for extra in ({"reminders": [LONG]}, {"repeat": {"freq": "daily", "interval": LONG}},
                  {"repeat": {"freq": "daily", "count": LONG}}, {"record_id": LONG}):
        made = client.post("/api/v1/calendar/events", headers=headers, json={**base, **extra})
        assert made.status_code == 400, (list(extra), made.status_code)

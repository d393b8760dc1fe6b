"""Organisation → Business calendars: list, settings, holidays and make-up days, the year preview, CSV import."""
from __future__ import annotations

import io
import re
from datetime import date

from org import workcal, workcal_store

CSV = ("date,kind,name\n"
       "2026-10-01..2026-10-07,holiday,国庆节\n"
       "2026-09-27,workday,国庆节调休\n"
       "2026-10-10,补班,国庆节调休\n")
BAD_CSV = ("date,kind,name\n"
           "2026-10-01..2026-10-07,holiday,国庆节\n"
           "2026-10-32,holiday,x\n"
           "2026-10-02,holiday,again\n"
           "2026-10-12,workday,\n"
           "2026-10-20,party,x\n")


def _html(response) -> str:
    return response.get_data(as_text=True)


def _state(html: str, day: str) -> str:
    match = re.search(rf'data-testid="day-{day}" data-state="(\w+)"', html)
    assert match, day
    return match.group(1)


def _calendar(app, department=None) -> workcal.WorkingCalendar:
    with app.extensions["flowdesk.database"].query() as session:
        return workcal_store.calendar_for(session=session, department=department)


def _upload(client, url: str, text: str, name: str = "holidays.csv"):
    return client.post(url, data={"file": (io.BytesIO(text.encode()), name)}, content_type="multipart/form-data")


def test_calendar_pages_are_for_admins_only(app, login):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("admin_workcal.")]
    assert len(rules) >= 12
    client = login("li.na")
    for rule in rules:
        url = re.sub(r"<[^>]+>", "sales", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            assert client.open(url, method=method, data={"zone": "UTC"}).status_code == 403, (method, url)
    assert login("admin").get("/admin/calendars/dept/nope").status_code == 404
    assert _calendar(app, "sales").source == ""  # the refused posts changed nothing


def test_list_and_navigation(login):
    admin = login("admin")
    nav = _html(admin.get("/admin/"))
    assert 'href="/admin/calendars/"' in nav and "Business calendars" in nav
    html = _html(admin.get("/admin/calendars/"))
    assert 'data-testid="calendar-organisation"' in html and "Asia/Shanghai" in html and "09:00–12:00" in html
    assert 'data-testid="inherits-sales"' in html


def test_organisation_settings_errors_then_save(app, login):
    admin = login("admin")
    html = _html(admin.get("/admin/calendars/org?year=2026"))
    assert 'value="09:00-12:00, 13:00-18:00"' in html and 'value="Asia/Shanghai"' in html
    assert _state(html, "2026-10-03") == "off" and _state(html, "2026-10-05") == "work"
    response = admin.post("/admin/calendars/org/settings?year=2026",
                          data={"zone": "Asia/Shanghai", "periods": "09:00-12:00"})
    assert response.status_code == 422 and 'data-testid="error-weekdays"' in _html(response)
    response = admin.post("/admin/calendars/org/settings", data={"zone": "Mars/Base", "weekdays": ["1"],
                                                                 "periods": "18:00-09:00"})
    assert response.status_code == 422 and 'data-testid="error-zone"' in _html(response)
    assert _calendar(app).weekdays == {1, 2, 3, 4, 5}
    response = admin.post("/admin/calendars/org/settings?year=2026",
                          data={"zone": "Asia/Shanghai", "weekdays": ["1", "2", "3", "4", "5", "6"],
                                "periods": "08:30-12:00，13:30-17:30"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/calendars/org?year=2026")
    calendar = _calendar(app)
    assert calendar.weekdays == {1, 2, 3, 4, 5, 6} and calendar.periods == ((510, 720), (810, 1050))
    assert _state(_html(admin.get("/admin/calendars/org?year=2026")), "2026-10-03") == "work"


def test_exceptions_range_make_up_days_preview_and_removal(app, login):
    admin = login("admin")
    response = admin.post("/admin/calendars/org/exceptions?year=2026",
                          data={"first": "2026-10-01", "last": "2026-10-07", "kind": "holiday", "name": "国庆节"})
    assert response.status_code == 302
    for day in ("2026-09-27", "2026-10-10"):
        admin.post("/admin/calendars/org/exceptions", data={"first": day, "kind": "workday", "name": "国庆节调休"})
    response = admin.post("/admin/calendars/org/exceptions",
                          data={"first": "2026-10-12", "kind": "workday", "name": ""})  # a Monday
    assert response.status_code == 422 and 'data-testid="error-first"' in _html(response)
    response = admin.post("/admin/calendars/org/exceptions", data={"first": "2026-10-20", "kind": "holiday"})
    assert response.status_code == 422 and 'data-testid="error-name"' in _html(response)
    html = _html(admin.get("/admin/calendars/org?year=2026"))
    assert _state(html, "2026-10-01") == "holiday" and _state(html, "2026-10-07") == "holiday"
    assert _state(html, "2026-09-27") == "workday" and _state(html, "2026-10-10") == "workday"
    assert _state(html, "2026-10-08") == "work" and 'data-testid="exception-2026-10-04"' in html
    assert "国庆节" in html
    response = admin.post("/admin/calendars/org/exceptions/remove?year=2026", data={"first": "2026-10-10"})
    assert response.status_code == 302
    calendar = _calendar(app)
    assert not workcal.is_working_day(calendar, date(2026, 10, 10)) and len(calendar.exceptions) == 8


def test_a_department_gets_its_own_calendar_and_inherits_holidays(app, login):
    admin = login("admin")
    admin.post("/admin/calendars/org/exceptions", data={"first": "2026-10-01", "last": "2026-10-07",
                                                        "kind": "holiday", "name": "国庆节"})
    html = _html(admin.get("/admin/calendars/dept/sales?year=2026"))
    assert 'data-testid="inherited"' in html and 'data-testid="add-exception"' not in html
    assert admin.post("/admin/calendars/dept/sales/own").status_code == 302
    response = admin.post("/admin/calendars/dept/sales/settings?year=2026",
                          data={"zone": "Asia/Shanghai", "weekdays": ["1", "2", "3", "4", "5", "6"],
                                "periods": "10:00-19:00", "inherit": "1"})
    assert response.status_code == 302
    admin.post("/admin/calendars/dept/sales/exceptions", data={"first": "2026-10-04", "kind": "workday",
                                                               "name": "值班"})
    html = _html(admin.get("/admin/calendars/dept/sales?year=2026"))
    assert _state(html, "2026-10-03") == "holiday" and _state(html, "2026-10-04") == "workday"
    assert _state(html, "2026-10-10") == "work"  # Saturdays are worked in sales
    assert 'data-testid="day-2026-10-02" data-state="holiday" title="国庆节"><u>2</u>' in html  # inherited
    assert 'data-testid="exception-2026-10-04"' in html and 'data-testid="exception-2026-10-02"' not in html
    listing = _html(admin.get("/admin/calendars/"))
    assert 'data-testid="inherits-sales"' not in listing and "10:00–19:00" in listing
    assert _calendar(app, "sales").source == "sales"
    assert admin.post("/admin/calendars/dept/sales/remove").status_code == 302
    assert _calendar(app, "sales").source == ""


def test_csv_import_reports_every_bad_line_and_changes_nothing(app, login):
    admin = login("admin")
    response = _upload(admin, "/admin/calendars/org/import?year=2026", BAD_CSV)
    assert response.status_code == 422
    html = _html(response)
    assert 'data-testid="import-errors"' in html and "Nothing was imported" in html
    for line in (3, 4, 5, 6):
        assert f'data-testid="line-error-{line}"' in html
    assert "line-error-2" not in html
    assert "“2026-10-32” is not a date such as 2026-10-01." in html
    assert "2026-10-02 is already on line 2." in html
    assert "2026-10-12 is a working weekday already" in html
    assert "“party” is neither holiday nor workday" in html
    assert _calendar(app).exceptions == {}
    response = _upload(admin, "/admin/calendars/org/import", "")
    assert response.status_code == 422 and 'data-testid="error-file"' in _html(response)
    response = admin.post("/admin/calendars/org/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose a CSV file." in _html(response)
    response = _upload(admin, "/admin/calendars/org/import?year=2026", CSV)
    assert response.status_code == 302
    calendar = _calendar(app)
    assert len(calendar.exceptions) == 9 and workcal.is_working_day(calendar, date(2026, 10, 10))
    html = _html(admin.get("/admin/calendars/org?year=2026"))
    assert _state(html, "2026-09-27") == "workday" and "Imported 3 lines (9 days)." in html


def test_pages_speak_chinese_where_translated(login):
    admin = login("admin", lang="zh_CN")
    response = admin.get("/admin/calendars/org?year=2026")
    assert response.status_code == 200 and "十月" in _html(response)  # month names come from the locale

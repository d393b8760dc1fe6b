"""Business calendars: working days and hours, holidays and make-up workdays (调休), department calendars, DST."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from org import demo, workcal, workcal_import, workcal_store
from org.errors import Invalid, NotFound
from org.workcal_models import WorkCalendar, WorkCalendarException

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")


def at(*parts, zone=SH) -> datetime:
    return datetime(*parts, tzinfo=zone)


@pytest.fixture
def org_db(db):
    """The demo organisation (office > sales, finance, tech ...) with no calendar stored yet."""
    with db.command() as session:
        demo.load_demo(session=session)
    return db


def national_days(db, department=None) -> None:
    """国庆 2026: 10-01..10-07 off; Sunday 09-27 and Saturday 10-10 are worked (调休)."""
    with db.command() as session:
        assert workcal_store.add_exceptions(session=session, department=department, first="2026-10-01",
                                      last="2026-10-07", kind="holiday", name="国庆节") == 7
        workcal_store.add_exceptions(session=session, department=department, first=date(2026, 9, 27), kind="workday",
                               name="国庆节调休")
        workcal_store.add_exceptions(session=session, department=department, first="2026-10-10", kind="补班")


def due(db, start: datetime, duration: str, department: str | None = None) -> datetime:
    with db.query() as session:
        calendar = workcal_store.calendar_for(session=session, department=department)
    return workcal.add_working_time(calendar, start, duration)


def test_the_organisation_calendar_is_created_once_with_the_defaults(org_db):
    with org_db.query() as session:  # reading before anyone saved one counts with the defaults
        calendar = workcal_store.calendar_for(session=session)
        assert session.scalar(select(func.count()).select_from(WorkCalendar)) == 0
    assert calendar.zone == SH and calendar.weekdays == {1, 2, 3, 4, 5}
    assert calendar.periods == ((540, 720), (780, 1080))
    with org_db.command() as session:
        first = workcal_store.organisation_calendar(session=session)
        assert workcal_store.organisation_calendar(session=session) is first
    with org_db.command() as session:
        assert workcal_store.organisation_calendar(session=session).id == first.id
        assert session.scalar(select(func.count()).select_from(WorkCalendar)) == 1
        assert first.periods == [["09:00", "12:00"], ["13:00", "18:00"]] and first.weekdays == "12345"


def test_working_days_skip_the_weekend_and_keep_the_time(org_db):
    assert due(org_db, at(2026, 9, 10, 10), "P2D") == at(2026, 9, 14, 10)  # Thursday -> Monday
    assert due(org_db, at(2026, 9, 11, 10), "P1D") == at(2026, 9, 14, 10)  # Friday -> Monday
    assert due(org_db, at(2026, 9, 11, 18), "P1D") == at(2026, 9, 15, 9)  # after hours: from Monday 09:00
    assert due(org_db, at(2026, 9, 12, 10), "P1D") == at(2026, 9, 15, 9)  # Saturday: from Monday 09:00
    assert due(org_db, at(2026, 9, 14, 12, 30), "P1D") == at(2026, 9, 15, 13)  # lunch: from 13:00
    assert due(org_db, at(2026, 9, 14, 10), "P5D") == at(2026, 9, 21, 10)
    assert due(org_db, at(2026, 9, 14, 10), "P1W") == at(2026, 9, 21, 10)  # weeks are calendar weeks
    assert due(org_db, at(2026, 1, 31, 10), "P1M") == at(2026, 3, 2, 9)  # Feb 28 is a Saturday
    # The UTC start of the same moment gives the same answer.
    assert due(org_db, at(2026, 9, 10, 2, zone=timezone.utc), "P2D") == at(2026, 9, 14, 10)


def test_national_day_week_and_make_up_workdays(org_db):
    national_days(org_db)
    with org_db.query() as session:
        calendar = workcal_store.calendar_for(session=session)
    working = {d: workcal.is_working_day(calendar, d) for d in (date(2026, 9, 26) + timedelta(days=n)
                                                                 for n in range(17))}
    assert [d.day for d, yes in working.items() if yes] == [27, 28, 29, 30, 8, 9, 10, 12]
    assert calendar.exceptions[date(2026, 10, 1)] == ("holiday", "国庆节", "")
    assert calendar.exceptions[date(2026, 10, 10)][0] == "workday"
    assert due(org_db, at(2026, 9, 25, 10), "P1D") == at(2026, 9, 27, 10)  # Friday -> the worked Sunday
    assert due(org_db, at(2026, 9, 30, 10), "P1D") == at(2026, 10, 8, 10)  # over the whole holiday
    assert due(org_db, at(2026, 9, 30, 10), "P3D") == at(2026, 10, 10, 10)  # the worked Saturday
    assert due(org_db, at(2026, 9, 30, 10), "P4D") == at(2026, 10, 12, 10)
    assert due(org_db, at(2026, 10, 3, 10), "PT2H") == at(2026, 10, 8, 11)  # asked on a holiday
    assert due(org_db, at(2026, 9, 30, 16), "PT4H") == at(2026, 10, 8, 11)
    with org_db.command() as session:  # adding a range again replaces what those days had
        workcal_store.add_exceptions(session=session, department=None, first="2026-10-06", last="2026-10-07",
                               kind="holiday", name="National Day")
        assert workcal_store.remove_exceptions(session=session, department=None, first="2026-10-10") == 1
        assert session.scalar(select(func.count()).select_from(WorkCalendarException)) == 8
    with org_db.query() as session:
        calendar = workcal_store.calendar_for(session=session)
    assert calendar.exceptions[date(2026, 10, 7)][1] == "National Day"
    assert not workcal.is_working_day(calendar, date(2026, 10, 10))


def test_working_hours_across_lunch_overnight_and_exact_ends(org_db):
    assert due(org_db, at(2026, 9, 14, 11), "PT2H") == at(2026, 9, 14, 14)  # an hour, lunch, an hour
    assert due(org_db, at(2026, 9, 14, 17), "PT2H") == at(2026, 9, 15, 10)  # overnight
    assert due(org_db, at(2026, 9, 14, 12, 30), "PT1H") == at(2026, 9, 14, 14)
    assert due(org_db, at(2026, 9, 14, 17), "PT1H") == at(2026, 9, 14, 18)  # ends at 18:00, not next morning
    assert due(org_db, at(2026, 9, 14, 9), "PT8H") == at(2026, 9, 14, 18)
    assert due(org_db, at(2026, 9, 11, 16), "PT4H") == at(2026, 9, 14, 11)  # Friday -> Monday
    assert due(org_db, at(2026, 9, 14, 10), "PT90M") == at(2026, 9, 14, 11, 30)
    assert due(org_db, at(2026, 9, 14, 10), "PT1.5H") == at(2026, 9, 14, 11, 30)
    assert due(org_db, at(2026, 9, 11, 17), "P1DT2H") == at(2026, 9, 15, 10)  # days first, then hours
    assert due(org_db, at(2026, 9, 14, 22), "PT0H") == at(2026, 9, 15, 9)  # nothing to add: next working moment


def test_a_department_calendar_overrides_and_is_inherited(org_db):
    national_days(org_db)
    with org_db.command() as session:  # office works Saturdays 08:00-17:00; sales and tech are under office
        workcal_store.save_calendar(session=session, department="office", zone="Asia/Shanghai", weekdays=[1, 2, 3, 4, 5, 6],
                              periods="08:00-12:00，13:00~17:00")
        workcal_store.own_calendar(session=session, department="tech")  # starts as a copy of office's
        workcal_store.add_exceptions(session=session, department="office", first="2026-10-04", kind="workday",
                               name="值班")
    with org_db.query() as session:
        sales = workcal_store.calendar_for_user(session=session, username="wang.fang")
        tech = workcal_store.calendar_for(session=session, department="tech")
        nobody = workcal_store.calendar_for_user(session=session, username=None)
        rows = {(r["department"].code if r["department"] else ""): r for r in workcal_store.list_calendars(session=session)}
    assert sales.source == "office" and sales.weekdays == {1, 2, 3, 4, 5, 6} and sales.periods[0] == (480, 720)
    assert tech.source == "tech" and tech.periods == sales.periods
    assert nobody.source == "" and nobody.weekdays == {1, 2, 3, 4, 5}
    # The organisation's holidays reach the departments; office's own exception for a date wins.
    assert not workcal.is_working_day(sales, date(2026, 10, 3)) and workcal.is_working_day(sales, date(2026, 10, 4))
    assert sales.exceptions[date(2026, 10, 4)] == ("workday", "值班", "office")
    assert tech.exceptions[date(2026, 10, 4)][2] == "office"  # tech inherits office's, which inherits the org's
    assert due(org_db, at(2026, 9, 12, 10), "P1D", "sales") == at(2026, 9, 14, 10)  # Saturday is worked
    assert due(org_db, at(2026, 9, 14, 16), "PT2H", "sales") == at(2026, 9, 15, 9)
    assert due(org_db, at(2026, 9, 30, 10), "P1D", "sales") == at(2026, 10, 4, 10)
    assert rows[""]["own"] is not None and rows["office"]["own"] is not None
    assert rows["sales"]["own"] is None and rows["sales"]["from"].code == "office"
    assert rows["tech"]["own"] is not None and rows["finance"]["uses"] is rows["office"]["own"]
    with org_db.command() as session:  # tech stops using inherited exceptions; office goes back to the org's
        workcal_store.save_calendar(session=session, department="tech", zone="Asia/Shanghai", weekdays="12345",
                              periods=[["09:00", "18:00"]], inherit_exceptions=False)
        workcal_store.remove_calendar(session=session, department="office")
    with org_db.query() as session:
        tech = workcal_store.calendar_for(session=session, department="tech")
        sales = workcal_store.calendar_for(session=session, department="sales")
    assert tech.exceptions == {} and workcal.is_working_day(tech, date(2026, 10, 1))
    assert sales.source == "" and not workcal.is_working_day(sales, date(2026, 10, 4))


def test_daylight_saving_changes(org_db):
    with org_db.command() as session:
        workcal_store.save_calendar(session=session, department=None, zone="America/New_York", weekdays="12345",
                              periods="09:00-17:00")
    # 2026-03-08 the clocks go forward: working days keep the wall-clock time, working hours are real hours.
    assert due(org_db, at(2026, 3, 6, 10, zone=NY), "P1D") == at(2026, 3, 9, 10, zone=NY)
    end = due(org_db, at(2026, 3, 6, 16, zone=NY), "PT2H")
    assert end == at(2026, 3, 9, 10, zone=NY) and end.utcoffset() == timedelta(hours=-4)
    round_the_clock = workcal.WorkingCalendar(zone=NY, weekdays=frozenset(range(1, 8)), periods=((0, 1440),))
    spring = workcal.add_working_time(round_the_clock, at(2026, 3, 7, 22, zone=NY), "PT6H")
    assert spring == at(2026, 3, 8, 5, zone=NY)  # 22:00 EST + 6 real hours = 05:00 EDT
    autumn = workcal.add_working_time(round_the_clock, at(2026, 10, 31, 22, zone=NY), "PT6H")
    assert autumn == at(2026, 11, 1, 3, zone=NY)  # 22:00 EDT + 6 real hours = 03:00 EST, 5 on the wall clock
    assert autumn.astimezone(timezone.utc) - at(2026, 10, 31, 22, zone=NY).astimezone(timezone.utc) == \
        timedelta(hours=6)
    assert workcal.add_working_time(round_the_clock, at(2026, 3, 7, 2, 30, zone=NY), "P1D") == \
        at(2026, 3, 8, 3, 30, zone=NY)  # 02:30 does not exist that day: the same moment an hour on


@pytest.mark.parametrize("kwargs, field", [
    ({"zone": "Mars/Olympus"}, "zone"),
    ({"zone": "../../etc/passwd"}, "zone"),
    ({"weekdays": []}, "weekdays"),
    ({"weekdays": ["8"]}, "weekdays"),
    ({"periods": ""}, "periods"),
    ({"periods": "18:00-09:00"}, "periods"),
    ({"periods": "09:00-12:00, 11:00-13:00"}, "periods"),
    ({"periods": "9-12"}, "periods"),
    ({"periods": "09:00-24:30"}, "periods"),
])
def test_bad_calendar_settings_name_the_field_and_change_nothing(org_db, kwargs, field):
    values = {"zone": "Asia/Shanghai", "weekdays": "12345", "periods": "09:00-18:00", **kwargs}
    with org_db.command() as session, pytest.raises(Invalid) as caught:
        workcal_store.save_calendar(session=session, department="sales", **values)
    assert caught.value.details["field"] == field
    with org_db.query() as session:
        assert workcal_store.get_calendar(session=session, department="sales") is None


@pytest.mark.parametrize("kwargs, field", [
    ({"kind": "party"}, "kind"),
    ({"name": ""}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"first": "2026-02-30"}, "first"),
    ({"last": "2026-09-30"}, "last"),
    ({"last": "2027-10-02"}, "last"),  # 367 days
    ({"first": "2026-10-05", "kind": "workday"}, "first"),  # a Monday is worked anyway: no make-up day
])
def test_bad_exceptions_name_the_field(org_db, kwargs, field):
    values = {"first": "2026-10-01", "last": None, "kind": "holiday", "name": "国庆节", **kwargs}
    with org_db.command() as session, pytest.raises(Invalid) as caught:
        workcal_store.add_exceptions(session=session, department=None, **values)
    assert caught.value.details["field"] == field


def test_bad_durations_unknown_departments_and_calendars_without_working_time(org_db):
    with org_db.query() as session:
        calendar = workcal_store.calendar_for(session=session)
        with pytest.raises(NotFound) as caught:
            workcal_store.calendar_for(session=session, department="nope")
        assert caught.value.details["field"] == "department"
    for text in ("3 days", "P", "PT", "P1.5D", "P2DT", "-P1D", "P" + "9" * 50 + "D"):
        with pytest.raises(Invalid) as caught:
            workcal.add_working_time(calendar, at(2026, 9, 14, 10), text)
        assert caught.value.details == {"field": "duration", "reason": "not_iso", "value": text[:40]}, text
    for text in ("P751D", "PT6001H", "P37M", "P4Y", "P157W"):
        with pytest.raises(Invalid) as caught:
            workcal.parse_duration(text)
        assert caught.value.details["reason"] == "too_long", text
    assert workcal.parse_duration("p750d").days == 750
    with org_db.command() as session, pytest.raises(NotFound):
        workcal_store.add_exceptions(session=session, department="sales", first="2026-10-01", kind="holiday", name="x")
    with org_db.command() as session, pytest.raises(Invalid) as caught:
        workcal_store.remove_calendar(session=session, department="")
    # Only Mondays are worked, and a year of them are holidays: the count stops with a clear error.
    mondays = {date(2026, 1, 5) + timedelta(weeks=n): ("holiday", "x", "") for n in range(60)}
    closed = workcal.WorkingCalendar(zone=SH, weekdays=frozenset({1}), periods=((540, 600),), exceptions=mondays)
    for text in ("P1D", "PT1H"):
        with pytest.raises(Invalid) as caught:
            workcal.add_working_time(closed, at(2026, 1, 1, 10), text)
        assert caught.value.details["field"] == "calendar"


def test_importing_exceptions_is_all_or_nothing(org_db):
    good = "date,kind,name\n2026-10-01..2026-10-07,holiday,国庆节\n2026-09-27,调休,国庆节调休\n\n" \
           "2026/10/10,workday,\n".encode()
    bad = ("日期,类型,名称\n2026-10-01~2026-10-07,假日,国庆节\n2026-13-01,holiday,x\n2026-10-02,holiday,again\n"
           "2026-10-12,workday,\n2026-10-20,party,x\n2026-10-21,holiday,\n").encode("gb18030")
    with org_db.command() as session:
        report = workcal_import.import_exceptions(session=session, department=None, data=bad)
    assert not report.ok and report.lines == 6
    assert [(e.line, e.field, e.code) for e in report.errors] == [
        (3, "date", "bad_date"), (4, "date", "duplicate_in_file"), (5, "date", "already_working"),
        (6, "kind", "bad_kind"), (7, "name", "name_required")]
    assert report.errors[1].params == {"value": "2026-10-02", "other": 2}
    with org_db.query() as session:
        assert session.scalar(select(func.count()).select_from(WorkCalendarException)) == 0
    with org_db.command() as session:
        report = workcal_import.import_exceptions(session=session, department=None, data=good)
    assert report.ok and (report.lines, report.days) == (3, 9)
    assert due(org_db, at(2026, 9, 30, 10), "P3D") == at(2026, 10, 10, 10)
    for data, reason in ((b"", "empty"), (b"\xff\xfe\x00" * 10, "encoding"), (b"date,kind,name\n", "no_rows"),
                         (b"x" * (workcal_import.MAX_IMPORT_BYTES + 1), "too_large")):
        with org_db.command() as session, pytest.raises(Invalid) as caught:
            workcal_import.import_exceptions(session=session, department=None, data=data)
        assert caught.value.details["field"] == "file" and caught.value.details["reason"] == reason


def test_a_person_s_cached_calendar_follows_every_change(org_db):
    """calendar_for_user is cached by organisation revision: each kind of change must still be seen at once."""
    def day_off(day: date) -> bool:
        with org_db.query() as session:
            return not workcal.is_working_day(workcal_store.calendar_for_user(session=session, username="gao.yu",
                                                                              since=date(2026, 9, 1)), day)

    assert not day_off(date(2026, 10, 5))
    national_days(org_db)  # exceptions added
    assert day_off(date(2026, 10, 5)) and not day_off(date(2026, 10, 10))
    with org_db.command() as session:  # exceptions removed in bulk
        assert workcal_store.remove_exceptions(session=session, department=None, first="2026-10-05",
                                               last="2026-10-05") == 1
    assert not day_off(date(2026, 10, 5))
    with org_db.command() as session:  # the person's department gets a calendar of its own, six days a week
        workcal_store.save_calendar(session=session, department="tech", zone="Asia/Shanghai", weekdays="123456",
                                    periods=[["09:00", "18:00"]], inherit_exceptions=False)
    assert not day_off(date(2026, 10, 3)) and day_off(date(2026, 10, 4))
    with org_db.command() as session:  # the person moves to a department on the organisation's calendar
        from org import service as org
        org.save_user(session=session, user=org.get_user_or_raise(session=session, username="gao.yu"),
                      username="gao.yu", display_name="高宇", department="sales")
    assert day_off(date(2026, 10, 3)) and day_off(date(2026, 10, 2))

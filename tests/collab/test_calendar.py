"""The calendar: events and invitations, repeats across month ends and DST, conflicts, permissions, overlays."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from icalendar import Calendar
from sqlalchemy import select

from collab.calendar import agenda, events, feeds, ics, recurrence
from collab.calendar.events import Series
from collab.calendar.models import CalendarEvent
from collab.calendar.reminders import scan_reminders
from collab.config import DeliveryConfig
from collab.errors import Conflict, InvalidInput, NotFound
from collab.fanout import fan_out
from collab.models import Notification
from instances import service
from instances.models import OutboxMessage, WorkItem
from org import grants
from org import service as org
from records import records as record_service
from records import service as record_types

UTC = timezone.utc
SH = "Asia/Shanghai"
NO_MAIL = DeliveryConfig()


@pytest.fixture
def cal_db(org_db):
    """The demo organisation with its default grants (managers read their department tree's calendars)."""
    with org_db.command() as session:
        grants.install_default_grants(session=session)
        record_types.install_core_types(session=session)
    return org_db


def actor(db, name):
    with db.query() as session:
        return org.actor_for(org.get_user_by_name(session=session, username=name))


def create(db, who, **fields):
    fields.setdefault("timezone", SH)
    with db.command() as session:
        return events.create_event(session=session, actor=actor(db, who), fields=fields).id


def notices_of(db, username, kind=None):
    fan_out(db, config=NO_MAIL)
    with db.query() as session:
        query = select(Notification).where(Notification.username == username)
        if kind:
            query = query.where(Notification.kind == kind)
        return list(session.scalars(query.order_by(Notification.id)))


def shanghai(y, m, d, h=0, mi=0):
    return datetime(y, m, d, h, mi, tzinfo=recurrence.zone_of(SH))


# --- recurrence -------------------------------------------------------------------------------------------


def test_monthly_on_the_31st_skips_short_months_and_last_day_lands_on_each_month_end():
    start = datetime(2027, 1, 31, 9, tzinfo=recurrence.zone_of(SH))
    zone = recurrence.zone_of(SH)
    same = Series(start.astimezone(UTC), (start + timedelta(hours=1)).astimezone(UTC), SH,
                  rrule=recurrence.build_rule({"freq": "monthly", "count": 4}, starts_at=start, zone=zone))
    days = [o.starts_at.astimezone(zone).date() for o in recurrence.occurrences(
        same, datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))]
    assert days == [date(2027, 1, 31), date(2027, 3, 31), date(2027, 5, 31), date(2027, 7, 31)]
    last = Series(same.starts_at, same.ends_at, SH, rrule=recurrence.build_rule(
        {"freq": "monthly", "monthday": "last", "until": "2028-04-30"}, starts_at=start, zone=zone))
    days = [o.starts_at.astimezone(zone).date() for o in recurrence.occurrences(
        last, datetime(2027, 12, 1, tzinfo=UTC), datetime(2028, 6, 1, tzinfo=UTC))]
    assert days == [date(2027, 12, 31), date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31), date(2028, 4, 30)]
    assert recurrence.last_end(last) == datetime(2028, 4, 30, 10, tzinfo=zone).astimezone(UTC)


def test_a_weekly_meeting_keeps_its_local_time_across_daylight_saving_changes():
    zone = recurrence.zone_of("America/New_York")
    start = datetime(2027, 3, 1, 9, tzinfo=zone)  # DST starts on 14 March 2027 and ends on 7 November
    series = Series(start.astimezone(UTC), (start + timedelta(minutes=30)).astimezone(UTC), "America/New_York",
                    rrule=recurrence.build_rule({"freq": "weekly"}, starts_at=start, zone=zone))
    found = recurrence.occurrences(series, datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 3, 23, tzinfo=UTC))
    assert [o.starts_at.astimezone(zone).hour for o in found] == [9, 9, 9, 9]
    assert [o.starts_at.hour for o in found] == [14, 14, 13, 13]  # UTC moves, the wall clock does not
    autumn = recurrence.occurrences(series, datetime(2027, 11, 1, tzinfo=UTC), datetime(2027, 11, 9, 23, tzinfo=UTC))
    assert [(o.starts_at.astimezone(zone).hour, o.starts_at.hour) for o in autumn] == [(9, 13), (9, 14)]
    assert all(o.ends_at - o.starts_at == timedelta(minutes=30) for o in found + autumn)


def test_an_all_day_series_spans_whole_local_days_even_on_the_short_dst_day():
    zone = recurrence.zone_of("Europe/Berlin")
    start = datetime(2027, 3, 27, tzinfo=zone)
    series = Series(start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC), "Europe/Berlin",
                    all_day=True, rrule="FREQ=DAILY;COUNT=3")
    found = recurrence.occurrences(series, datetime(2027, 3, 26, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC))
    lengths = [o.ends_at - o.starts_at for o in found]
    assert lengths == [timedelta(hours=24), timedelta(hours=23), timedelta(hours=24)]


@pytest.mark.parametrize("repeat, field", [
    ({"freq": "hourly"}, "repeat.freq"), ({"freq": "weekly", "interval": 0}, "repeat.interval"),
    ({"freq": "daily", "weekdays": ["MO"]}, "repeat.weekdays"), ({"freq": "weekly", "weekdays": ["XX"]},
                                                                 "repeat.weekdays"),
    ({"freq": "daily", "count": 3, "until": "2027-01-01"}, "repeat.until"), ({"freq": "daily", "count": 9999},
                                                                              "repeat.count"),
    ({"freq": "daily", "until": "someday"}, "repeat.until"), ({"freq": "weekly", "monthday": "last"},
                                                              "repeat.monthday"),
    ({"freq": "daily", "bysecond": 1}, "repeat"), ("weekly", "repeat")])
def test_a_wrong_repeat_is_refused_naming_the_part(repeat, field):
    with pytest.raises(InvalidInput) as caught:
        recurrence.build_rule(repeat, starts_at=shanghai(2026, 12, 1, 9), zone=recurrence.zone_of(SH))
    assert caught.value.details["field"] == field


def test_describe_reads_back_what_build_rule_wrote():
    choice = {"freq": "weekly", "interval": 2, "weekdays": ["MO", "TH"], "monthday": "same", "until": "2027-06-30"}
    rule = recurrence.build_rule(choice, starts_at=shanghai(2026, 12, 1, 9), zone=recurrence.zone_of(SH))
    assert recurrence.describe(rule) == choice


# --- events and invitations -------------------------------------------------------------------------------


def test_an_invitation_reaches_attendees_and_their_answer_reaches_the_organiser(cal_db):
    eid = create(cal_db, "li.na", title="季度复盘", starts_at="2026-12-02T10:00", ends_at="2026-12-02T11:00",
                 attendees=["wang.fang", "liu.yang"], location="3 楼会议室", reminders=[15])
    [invite] = notices_of(cal_db, "wang.fang", "invited")
    assert invite.link == f"/calendar/events/{eid}" and "季度复盘" in invite.title and "3 楼会议室" in invite.body
    assert "2026-12-02 10:00" in invite.body
    assert notices_of(cal_db, "li.na", "invited") == []
    with cal_db.command() as session:
        events.respond(session=session, actor=actor(cal_db, "wang.fang"), event_id=eid, response="declined")
    [reply] = notices_of(cal_db, "li.na", "invitation_reply")
    assert "wang.fang" in reply.body and "declined" in reply.body
    with cal_db.command() as session, pytest.raises(NotFound):
        events.respond(session=session, actor=actor(cal_db, "he.jun"), event_id=eid, response="accepted")
    with cal_db.command() as session, pytest.raises(InvalidInput):
        events.respond(session=session, actor=actor(cal_db, "liu.yang"), event_id=eid, response="maybe")


def test_moving_an_event_tells_attendees_and_keeps_its_length_and_only_the_organiser_may(cal_db):
    eid = create(cal_db, "li.na", title="Demo", starts_at="2026-12-02T10:00", ends_at="2026-12-02T11:30",
                 attendees=["wang.fang"])
    with cal_db.command() as session, pytest.raises(Conflict) as refused:
        events.update_event(session=session, actor=actor(cal_db, "wang.fang"), event_id=eid,
                            fields={"starts_at": "2026-12-03T10:00"})
    assert refused.value.details["reason"] == "not_organiser"
    with cal_db.command() as session:
        event = events.update_event(session=session, actor=actor(cal_db, "li.na"), event_id=eid,
                                    fields={"starts_at": "2026-12-03T14:00", "attendees": ["liu.yang"]},
                                    lock_version=1)
        assert event.starts_at == shanghai(2026, 12, 3, 14) and event.ends_at == shanghai(2026, 12, 3, 15, 30)
    assert [n.kind for n in notices_of(cal_db, "wang.fang")] == ["invited", "event_cancelled"]
    assert [n.kind for n in notices_of(cal_db, "liu.yang")] == ["invited"]
    with cal_db.command() as session, pytest.raises(Conflict) as stale:
        events.update_event(session=session, actor=actor(cal_db, "li.na"), event_id=eid,
                            fields={"title": "Demo 2"}, lock_version=1)
    assert "reload" in stale.value.message and stale.value.details["reason"] == "stale"
    with cal_db.query() as session:
        assert session.get(CalendarEvent, eid).title == "Demo"


@pytest.mark.parametrize("fields, field", [
    ({"title": "", "starts_at": "2026-12-02T10:00", "ends_at": "2026-12-02T11:00"}, "title"),
    ({"title": "x", "starts_at": "tomorrow", "ends_at": "2026-12-02T11:00"}, "starts_at"),
    ({"title": "x", "starts_at": "2026-12-02T10:00", "ends_at": "2026-12-02T09:00"}, "ends_at"),
    ({"title": "x", "starts_at": "2026-12-02T10:00", "ends_at": "2027-02-02T09:00"}, "ends_at"),
    ({"title": "x", "starts_at": "2026-12-02T10:00", "ends_at": "2026-12-02T11:00", "timezone": "Mars/Base"},
     "timezone"),
    ({"title": "x", "starts_at": "2026-12-02T10:00", "ends_at": "2026-12-02T11:00", "attendees": ["nobody"]},
     "attendees"),
    ({"title": "x", "starts_at": "2026-12-02T10:00", "ends_at": "2026-12-02T11:00", "reminders": [-5]},
     "reminders"),
    ({"title": "x", "starts_at": "2026-12-02T10:00", "ends_at": "2026-12-02T11:00", "kind": "party"}, "kind"),
    ({"title": "x", "starts_at": "2026-12-02T10:00", "ends_at": "2026-12-02T11:00", "project": "nope"}, "project"),
    ({"title": "x", "starts_at": "2026-12-02T10:00", "ends_at": "2026-12-02T11:00", "colour": "red"}, "colour"),
    ({"title": "x", "starts_at": "2026-12-02T10:00", "ends_at": "2026-12-02T11:00", "record_id": 987654},
     "record_id"),
    ({"title": "x", "starts_at": "2026-12-02T10:00", "ends_at": "2026-12-02T11:00", "record_id": "abc"},
     "record_id"),
    ({"title": "x", "starts_at": "0001-01-01T00:00", "ends_at": "0001-01-01T01:00"}, "starts_at"),
    ({"title": "x", "starts_at": "9999-12-31", "ends_at": "9999-12-31", "all_day": True}, "starts_at"),
    ({"title": "x", "starts_at": "2026-12-02T10:00", "ends_at": "2026-12-02T11:00",
      "repeat": {"freq": "yearly", "until": "9999-12-31"}}, "repeat.until"),
])
def test_bad_event_input_names_the_field_and_saves_nothing(cal_db, fields, field):
    with cal_db.command() as session, pytest.raises((InvalidInput, NotFound)) as caught:
        events.create_event(session=session, actor=actor(cal_db, "li.na"), fields=dict(fields))
    assert caught.value.details["field"] == field
    with cal_db.query() as session:
        assert session.scalar(select(CalendarEvent.id)) is None
        assert session.scalar(select(OutboxMessage.id)) is None


def test_an_event_links_only_a_record_its_organiser_may_read(cal_db):
    with cal_db.command() as session:
        mine = record_service.create_record(session=session, type_key="activity", actor=actor(cal_db, "wang.fang"),
                                            data={"subject": "回访", "kind": "call"}).id
    eid = create(cal_db, "wang.fang", title="回访准备", starts_at="2026-12-02T10:00", ends_at="2026-12-02T11:00",
                 record_id=mine)
    with cal_db.command() as session, pytest.raises(NotFound) as hidden:
        events.create_event(session=session, actor=actor(cal_db, "sun.li"), fields={
            "title": "x", "starts_at": "2026-12-02T10:00", "ends_at": "2026-12-02T11:00", "record_id": mine})
    assert hidden.value.details["field"] == "record_id"
    with cal_db.query() as session:
        assert session.get(CalendarEvent, eid).record_id == mine


def test_cancelling_one_occurrence_of_a_series_leaves_the_rest(cal_db):
    eid = create(cal_db, "li.na", title="Stand-up", starts_at="2026-11-30T09:00", ends_at="2026-11-30T09:15",
                 attendees=["wang.fang"], repeat={"freq": "daily", "count": 5})
    with cal_db.command() as session:
        events.cancel_event(session=session, actor=actor(cal_db, "li.na"), event_id=eid,
                            occurrence="2026-12-02T09:00:00")
    with cal_db.query() as session:
        found = agenda.entries(session, actor(cal_db, "wang.fang"), ["wang.fang"], shanghai(2026, 11, 30),
                               shanghai(2026, 12, 7), sources=["event"])
        assert [e.starts_at.astimezone(recurrence.zone_of(SH)).day for e in found] == [30, 1, 3, 4]
    with cal_db.command() as session, pytest.raises(InvalidInput):
        events.cancel_event(session=session, actor=actor(cal_db, "li.na"), event_id=eid,
                            occurrence="2026-12-02T10:00:00")
    with cal_db.command() as session:
        events.cancel_event(session=session, actor=actor(cal_db, "li.na"), event_id=eid)
    with cal_db.query() as session:
        assert agenda.entries(session, actor(cal_db, "wang.fang"), ["wang.fang"], shanghai(2026, 11, 30),
                              shanghai(2026, 12, 7), sources=["event"]) == []


# --- conflicts and permissions ----------------------------------------------------------------------------


def test_the_conflict_check_lists_each_attendees_clashes_and_hides_what_the_planner_may_not_read(cal_db):
    create(cal_db, "he.jun", title="Architecture review", starts_at="2026-12-02T10:30",
           ends_at="2026-12-02T12:00", attendees=["gao.yu"])
    create(cal_db, "wang.fang", title="Client call", starts_at="2026-12-02T09:00", ends_at="2026-12-02T10:15")
    declined = create(cal_db, "liu.yang", title="Lunch", starts_at="2026-12-02T10:00", ends_at="2026-12-02T11:00",
                      attendees=["wang.fang"])
    with cal_db.command() as session:
        events.respond(session=session, actor=actor(cal_db, "wang.fang"), event_id=declined, response="declined")
    planned = Series(shanghai(2026, 12, 2, 10).astimezone(UTC), shanghai(2026, 12, 2, 11).astimezone(UTC), SH)
    with cal_db.query() as session:
        clashes = agenda.conflicts(session, actor(cal_db, "li.na"), ["wang.fang", "gao.yu", "sun.li"], planned)
    assert [(c.person, c.title) for c in clashes] == [("gao.yu", None), ("wang.fang", "Client call")]
    with cal_db.query() as session:  # gao.yu's manager reads his calendar
        clashes = agenda.conflicts(session, actor(cal_db, "he.jun"), ["gao.yu"], planned)
    assert [(c.person, c.title) for c in clashes] == [("gao.yu", "Architecture review")]


def test_a_repeating_plan_is_checked_over_its_occurrences_and_the_event_itself_is_left_out(cal_db):
    other = create(cal_db, "wang.fang", title="Training", starts_at="2026-12-09T10:00", ends_at="2026-12-09T12:00")
    planned = Series(shanghai(2026, 12, 2, 11).astimezone(UTC), shanghai(2026, 12, 2, 11, 30).astimezone(UTC), SH,
                     rrule="FREQ=WEEKLY;COUNT=4")
    with cal_db.query() as session:
        clashes = agenda.conflicts(session, actor(cal_db, "wang.fang"), ["wang.fang"], planned)
        assert [(c.title, c.starts_at) for c in clashes] == [("Training", shanghai(2026, 12, 9, 10))]
        assert agenda.conflicts(session, actor(cal_db, "wang.fang"), ["wang.fang"], planned, exclude_event=other) == []


def test_who_reads_whose_calendar_follows_the_permission_model(cal_db):
    create(cal_db, "gao.yu", title="Dentist", starts_at="2026-12-02T15:00", ends_at="2026-12-02T16:00")
    window = (shanghai(2026, 12, 1), shanghai(2026, 12, 8))
    with cal_db.query() as session:
        for viewer, full in (("gao.yu", True), ("he.jun", True), ("zhang.wei", True), ("admin", True),
                             ("luo.bin", False), ("li.na", False)):
            [entry] = agenda.entries(session, actor(cal_db, viewer), ["gao.yu"], *window)
            assert (entry.title == "Dentist") is full and entry.busy_only is not full, viewer
            assert (entry.link != "") is full
    create(cal_db, "luo.bin", title="Rollout check", starts_at="2026-12-03T10:00", ends_at="2026-12-03T11:00")
    with cal_db.query() as session:  # crm_rollout members read each other's calendars
        [entry] = agenda.entries(session, actor(cal_db, "wang.fang"), ["luo.bin"], *window)
        assert entry.title == "Rollout check"
    eid = create(cal_db, "gao.yu", title="Private", starts_at="2026-12-04T10:00", ends_at="2026-12-04T11:00")
    with cal_db.query() as session, pytest.raises(NotFound):
        events.get_event(session=session, actor=actor(cal_db, "li.na"), event_id=eid)


def test_filters_by_department_group_member_and_project_combine(cal_db):
    with cal_db.command() as session:
        org.save_unit(session=session, kind="group", code="expo", name="展会项目组", name_en="Expo project")
    create(cal_db, "li.na", title="Expo prep", starts_at="2026-12-02T10:00", ends_at="2026-12-02T11:00",
           attendees=["wang.fang"], project="expo")
    create(cal_db, "li.na", title="Pipeline", starts_at="2026-12-03T10:00", ends_at="2026-12-03T11:00")
    manager = actor(cal_db, "li.na")
    with cal_db.query() as session:
        assert agenda.people_for(session, manager) == ["li.na"]
        sales = agenda.people_for(session, manager, department="sales")
        assert sales == ["emma.chen", "li.na", "liu.yang", "wang.fang"]
        assert agenda.people_for(session, manager, department="sales", group="crm_rollout") == ["li.na", "wang.fang"]
        assert agenda.people_for(session, manager, members=["wang.fang", "sun.li"], department="sales") == \
            ["wang.fang"]
        assert len(agenda.people_for(session, actor(cal_db, "zhang.wei"), department="office")) == 20
        found = agenda.entries(session, manager, sales, shanghai(2026, 12, 1), shanghai(2026, 12, 8), project="expo")
        assert [(e.title, e.people) for e in found] == [("Expo prep", ["li.na", "wang.fang"])]
        for kwargs, field in (({"department": "nope"}, "department"), ({"group": "nope"}, "group"),
                              ({"members": ["ghost"]}, "members")):
            with pytest.raises(NotFound) as caught:
                agenda.people_for(session, manager, **kwargs)
            assert caught.value.details["field"] == field
        with pytest.raises(InvalidInput):
            agenda.entries(session, manager, sales, shanghai(2026, 12, 8), shanghai(2026, 12, 1))


# --- what the calendar borrows ----------------------------------------------------------------------------


def test_task_due_dates_approved_leave_and_customer_activities_show_without_being_copied(cal_db):
    leave = {"leave_type": "annual", "start_date": "2026-12-07", "end_date": "2026-12-08", "days": 2,
             "manager": "li.na"}
    with cal_db.command() as session:
        iid = service.start_instance(session=session, key="leave_request", actor=actor(cal_db, "wang.fang"),
                                     data=leave).id
    for who in ("li.na", "zhou.min"):
        with cal_db.command() as session:
            [item] = service.list_open_work_items(session=session, instance_id=iid)
            if item.assignee is None:
                service.claim_task(session=session, work_item_id=item.id, actor=actor(cal_db, who))
            service.complete_task(session=session, work_item_id=item.id, actor=actor(cal_db, who), decision="approve")
    with cal_db.command() as session:  # a task of li.na's due in the week, and a visit wang.fang logged
        other = service.start_instance(session=session, key="leave_request", actor=actor(cal_db, "liu.yang"),
                                       data={**leave, "start_date": "2026-12-21", "end_date": "2026-12-21"})
        item = session.scalar(select(WorkItem).where(WorkItem.instance_id == other.id))
        item.due_at = shanghai(2026, 12, 4, 18)
    with cal_db.command() as session:
        record_service.create_record(session=session, type_key="activity", actor=actor(cal_db, "wang.fang"),
                                     data={"subject": "拜访华东客户", "kind": "visit", "at": "2026-12-03T14:00",
                                           "duration_minutes": 90})
    week = (shanghai(2026, 11, 30), shanghai(2026, 12, 14))
    with cal_db.query() as session:
        found = agenda.entries(session, actor(cal_db, "li.na"), ["li.na", "wang.fang"], *week)
        summary = [(e.source, e.people, e.starts_at.astimezone(recurrence.zone_of(SH)).date()) for e in found]
    assert ("away", ["wang.fang"], date(2026, 12, 7)) in summary
    assert ("task", ["li.na"], date(2026, 12, 4)) in summary
    assert ("activity", ["wang.fang"], date(2026, 12, 3)) in summary
    [away] = [e for e in found if e.source == "away"]
    assert away.all_day and away.ends_at == shanghai(2026, 12, 9) and away.link == f"/instances/{iid}"
    with cal_db.query() as session:  # someone who may not read wang.fang's calendar sees none of it
        found = agenda.entries(session, actor(cal_db, "sun.li"), ["wang.fang"], *week)
        assert [e.source for e in found] == []
    with cal_db.query() as session:  # leave counts in the conflict check
        clashes = agenda.conflicts(session, actor(cal_db, "li.na"), ["wang.fang"], Series(
            shanghai(2026, 12, 8, 10).astimezone(UTC), shanghai(2026, 12, 8, 11).astimezone(UTC), SH))
        assert [c.source for c in clashes] == ["away"]


# --- reminders ---------------------------------------------------------------------------------------------


def test_a_reminder_is_raised_once_per_occurrence_to_everyone_still_coming(cal_db):
    eid = create(cal_db, "li.na", title="Weekly sync", starts_at="2026-12-02T10:00", ends_at="2026-12-02T11:00",
                 attendees=["wang.fang", "liu.yang"], reminders=[60, 15], repeat={"freq": "weekly", "count": 3})
    with cal_db.command() as session:
        events.respond(session=session, actor=actor(cal_db, "liu.yang"), event_id=eid, response="declined")
    assert scan_reminders(cal_db, now=shanghai(2026, 12, 2, 8)) == 0
    assert scan_reminders(cal_db, now=shanghai(2026, 12, 2, 9, 1)) == 2  # li.na and wang.fang, 60 minutes ahead
    assert scan_reminders(cal_db, now=shanghai(2026, 12, 2, 9, 2)) == 0
    assert scan_reminders(cal_db, now=shanghai(2026, 12, 2, 9, 46)) == 2  # the 15-minute one
    assert scan_reminders(cal_db, now=shanghai(2026, 12, 2, 10, 5)) == 0  # started: nothing late
    # A worker that was down past both lead times raises one reminder, not two.
    assert scan_reminders(cal_db, now=shanghai(2026, 12, 9, 9, 50)) == 2
    assert scan_reminders(cal_db, now=shanghai(2026, 12, 9, 9, 55)) == 0
    reminders = notices_of(cal_db, "wang.fang", "event_reminder")
    assert len(reminders) == 3 and all(n.link == f"/calendar/events/{eid}" for n in reminders)
    assert notices_of(cal_db, "liu.yang", "event_reminder") == []


# --- iCalendar ---------------------------------------------------------------------------------------------


def test_the_ics_export_keeps_series_attendees_alarms_and_zones(cal_db):
    eid = create(cal_db, "li.na", title="周会", starts_at="2026-12-07T09:00", ends_at="2026-12-07T10:00",
                 attendees=["wang.fang"], reminders=[10], repeat={"freq": "weekly", "until": "2027-01-31"},
                 location="会议室 A")
    with cal_db.command() as session:
        events.cancel_event(session=session, actor=actor(cal_db, "li.na"), event_id=eid,
                            occurrence="2026-12-14T09:00:00")
    create(cal_db, "li.na", title="年会", starts_at="2027-01-20", ends_at="2027-01-20", all_day=True)
    with cal_db.query() as session:
        raw = ics.export(session, username="wang.fang", host="flowdesk.test")
    parsed = Calendar.from_ical(raw)
    [event] = [c for c in parsed.walk("VEVENT")]
    assert str(event["summary"]) == "周会" and str(event["location"]) == "会议室 A"
    assert event["dtstart"].dt == shanghai(2026, 12, 7, 9) and event["dtstart"].params["TZID"] == SH
    assert event["rrule"]["FREQ"] == ["WEEKLY"]
    assert event["rrule"]["UNTIL"][0] == datetime(2027, 1, 31, 15, 59, 59, tzinfo=UTC)
    assert [d.dt for d in event["exdate"].dts] == [shanghai(2026, 12, 14, 9)]
    partstats = sorted(str(a.params["PARTSTAT"]) for a in event.get("attendee"))
    assert partstats == ["ACCEPTED", "NEEDS-ACTION"]
    [alarm] = event.walk("VALARM")
    assert alarm["trigger"].dt == timedelta(minutes=-10)
    assert any(tz["tzid"] == SH for tz in parsed.walk("VTIMEZONE"))
    with cal_db.query() as session:
        mine = Calendar.from_ical(ics.export(session, username="li.na"))
    [day] = [e for e in mine.walk("VEVENT") if str(e["summary"]) == "年会"]
    assert day["dtstart"].dt == date(2027, 1, 20) and day["dtend"].dt == date(2027, 1, 21)


def test_a_feed_link_opens_one_calendar_until_it_is_revoked(cal_db):
    with cal_db.command() as session:
        feed, token = feeds.create_feed(session=session, username="wang.fang")
    with cal_db.command() as session:
        assert feeds.owner_of(session=session, token=token) == "wang.fang"
        assert feeds.owner_of(session=session, token=token[:-2] + "xx") is None
    with cal_db.command() as session, pytest.raises(NotFound):
        feeds.revoke_feed(session=session, username="li.na", feed_id=feed.id)
    with cal_db.command() as session:
        feeds.revoke_feed(session=session, username="wang.fang", feed_id=feed.id)
    with cal_db.command() as session:
        assert feeds.owner_of(session=session, token=token) is None
        assert feeds.list_feeds(session=session, username="wang.fang") == []


def test_the_demo_week_loads_once_and_fills_the_calendars(cal_db):
    from collab.calendar.demo import EVENTS, load_demo_events

    with cal_db.command() as session:
        assert load_demo_events(session=session, today=date(2026, 11, 27)) == len(EVENTS)
    with cal_db.command() as session:
        assert load_demo_events(session=session, today=date(2026, 11, 27)) == 0
    with cal_db.query() as session:
        found = agenda.entries(session, actor(cal_db, "wang.fang"), ["wang.fang"], shanghai(2026, 11, 23),
                               shanghai(2026, 12, 7), sources=["event"])
    mondays = [e.starts_at.astimezone(recurrence.zone_of(SH)) for e in found if e.title.startswith("销售周例会")]
    assert [(m.day, m.hour) for m in mondays] == [(23, 10), (30, 10)]

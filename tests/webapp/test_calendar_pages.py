"""Calendar pages: the four views with filters, the event form with its conflict warning, the event page."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import lxml.html
import pytest
from sqlalchemy import func, select

from collab.calendar import events
from collab.calendar.models import CalendarEvent
from collab.config import DeliveryConfig
from collab.fanout import fan_out
from collab.models import Notification
from org import service as org

SH = "Asia/Shanghai"
MEETING = {"title": "Pipeline review", "kind": "meeting", "start_date": "2026-12-02", "start_time": "10:00",
           "end_date": "2026-12-02", "end_time": "11:30", "timezone": SH, "location": "Room 3",
           "repeat": "none", "interval": "1", "ends": "never", "reminders": ["15"]}


def database(app):
    return app.extensions["flowdesk.database"]


def actor(app, name):
    with database(app).query() as session:
        return org.actor_for(org.get_user_by_name(session=session, username=name))


def create(app, who, **fields):
    """Create an event straight through the service, as another page or the API would."""
    fields.setdefault("timezone", SH)
    with database(app).command() as session:
        return events.create_event(session=session, actor=actor(app, who), fields=fields).id


def page(response):
    assert response.status_code in (200, 400, 409), response.status_code
    return lxml.html.fromstring(response.get_data(as_text=True))


def one(tree, testid):
    found = tree.xpath(f".//*[@data-testid='{testid}']")
    assert len(found) == 1, (testid, len(found))
    return found[0]


def text(node) -> str:
    return " ".join(node.text_content().split())


def event_count(app) -> int:
    with database(app).query() as session:
        return session.scalar(select(func.count()).select_from(CalendarEvent))


def test_the_week_view_puts_each_entry_on_its_day_and_hour(app, login):
    create(app, "li.na", title="Pipeline review", starts_at="2026-12-02T10:00", ends_at="2026-12-02T11:30",
           attendees=["wang.fang"])
    create(app, "li.na", title="Budget check", starts_at="2026-12-02T10:30", ends_at="2026-12-02T11:00")
    create(app, "li.na", title="Sales offsite", starts_at="2026-12-03", ends_at="2026-12-04", all_day=True)
    create(app, "li.na", title="Early call", kind="call", starts_at="2026-12-01T06:00", ends_at="2026-12-01T06:30")
    create(app, "li.na", title="Next week", starts_at="2026-12-09T10:00", ends_at="2026-12-09T11:00")
    manager = login("li.na")
    tree = page(manager.get("/calendar?view=week&date=2026-12-02"))
    assert text(one(tree, "range-title")) == "Nov 30 – Dec 6, 2026"
    wednesday = one(tree, "col-2026-12-02")
    blocks = {text(b.xpath(".//*[@class='fd-cal-title']")[0]): b for b in wednesday.xpath(".//*[@data-testid='block']")}
    assert set(blocks) == {"Pipeline review", "Budget check"}
    review, check = blocks["Pipeline review"], blocks["Budget check"]
    assert review.get("data-start") == "10:00" and "fd-cal-meeting" in review.get("class")
    assert review.get("href").endswith("/calendar/events/1")
    # Overlapping: side by side, each half the column.
    assert "left: 0.000%; width: 80.000%; z-index: 1" in review.get("style")
    assert "left: 50.000%; width: 50.000%; z-index: 2" in check.get("style")
    for day in ("2026-12-03", "2026-12-04"):
        assert "Sales offsite" in text(one(tree, f"allday-{day}"))
    assert "Sales offsite" not in text(one(tree, "allday-2026-12-05"))
    # An entry before 07:00 stretches the grid to show its hour.
    hours = [text(h) for h in tree.xpath("//*[contains(@class, 'fd-cal-hour')]")]
    assert hours[0] == "06:00" and hours[-1] == "21:00"
    assert "Next week" not in text(tree.xpath("//*[@data-testid='timegrid']")[0])
    assert one(tree, "next").get("href") == "/calendar?view=week&date=2026-12-09"
    day = page(manager.get("/calendar?view=day&date=2026-12-01"))
    assert [c.get("data-testid") for c in day.xpath("//*[starts-with(@data-testid, 'col-')]")] == ["col-2026-12-01"]
    assert "Early call" in text(one(day, "col-2026-12-01")) and "fd-cal-call" in day.xpath(
        "//*[@data-testid='block']")[0].get("class")


def test_the_month_view_highlights_today_folds_a_full_day_and_the_agenda_groups_by_day(app, login):
    for n in range(6):
        create(app, "li.na", title=f"Visit {n}", kind="visit", starts_at=f"2026-12-08T{9 + n:02d}:00",
               ends_at=f"2026-12-08T{9 + n:02d}:30")
    create(app, "li.na", title="Quarter close", starts_at="2026-12-30T15:00", ends_at="2026-12-30T16:00")
    manager = login("li.na")
    tree = page(manager.get("/calendar?view=month&date=2026-12-15"))
    assert text(one(tree, "range-title")) == "December 2026"
    full = one(tree, "day-2026-12-08")
    assert len(full.xpath(".//*[@data-testid='entry']")) == 3 and text(one(full, "more")) == "+3 more"
    assert one(full, "more").get("href") == "/calendar?view=day&date=2026-12-08"
    assert "15:00 Quarter close" in text(one(tree, "day-2026-12-30"))
    assert "fd-cal-weekend" in one(tree, "day-2026-12-12").get("class")  # a Saturday
    assert "fd-cal-outside" in one(tree, "day-2026-11-30").get("class")  # the grid starts on Monday
    today = datetime.now(ZoneInfo(SH)).date()
    this_month = page(manager.get("/calendar?view=month"))
    assert "fd-cal-today" in one(this_month, f"day-{today.isoformat()}").get("class")
    agenda = page(manager.get("/calendar?view=agenda&date=2026-12-07"))
    days = [s.get("data-testid") for s in agenda.xpath("//section")]
    assert days == ["agenda-2026-12-08", "agenda-2026-12-30"]
    assert "09:00–09:30 Visit 0" in text(one(agenda, "agenda-2026-12-08"))


def test_filters_combine_and_entries_of_several_people_name_them(app, login):
    create(app, "wang.fang", title="Client lunch", starts_at="2026-12-02T12:00", ends_at="2026-12-02T13:00")
    create(app, "liu.yang", title="Demo prep", starts_at="2026-12-02T15:00", ends_at="2026-12-02T16:00")
    manager = login("li.na")
    tree = page(manager.get("/calendar?view=week&date=2026-12-02&department=sales&group=crm_rollout"))
    assert "2 people: 李娜, 王芳" in text(one(tree, "showing"))
    column = text(one(tree, "col-2026-12-02"))
    assert "Client lunch" in column and "王芳" in column and "Demo prep" not in column
    # Navigation keeps the filters.
    assert "department=sales" in one(tree, "next").get("href") and "group=crm_rollout" in one(tree, "next").get("href")
    tree = page(manager.get("/calendar?view=agenda&date=2026-12-01&members=wang.fang&members=liu.yang"))
    assert "Client lunch" in text(tree) and "Demo prep" in text(tree)
    assert len(tree.xpath("//input[@name='members'][@checked]")) == 2
    wrong = manager.get("/calendar?department=nowhere")
    assert wrong.status_code == 400 and "No such department." in text(one(page(wrong), "filter-problem"))


def test_a_declined_invitation_is_faded_and_an_unanswered_one_marked(app, login):
    declined = create(app, "li.na", title="Lunch talk", starts_at="2026-12-02T12:00", ends_at="2026-12-02T13:00",
                      attendees=["wang.fang"])
    create(app, "li.na", title="Kick-off", starts_at="2026-12-03T09:00", ends_at="2026-12-03T10:00",
           attendees=["wang.fang"])
    invitee = login("wang.fang")
    invitee.post(f"/calendar/events/{declined}/respond", data={"response": "declined"})
    tree = page(invitee.get("/calendar?view=agenda&date=2026-12-01"))
    [lunch] = one(tree, "agenda-2026-12-02").xpath(".//*[@data-testid='entry']")
    [kickoff] = one(tree, "agenda-2026-12-03").xpath(".//*[@data-testid='entry']")
    assert "fd-cal-declined" in lunch.get("class") and "Declined" in text(lunch)
    assert "fd-cal-pending" in kickoff.get("class") and "Invited" in text(kickoff)
    # The organiser sees her own events plainly.
    mine = page(login("li.na").get("/calendar?view=agenda&date=2026-12-01"))
    assert not mine.xpath("//*[contains(@class, 'fd-cal-declined') or contains(@class, 'fd-cal-pending')]"
                          "[@data-testid='entry']")


def test_the_month_view_shows_only_a_busy_block_of_a_calendar_the_viewer_may_not_read(app, login):
    create(app, "gao.yu", title="Dentist", location="Clinic", starts_at="2026-12-02T15:00",
           ends_at="2026-12-02T16:00")
    outsider = login("li.na")
    response = outsider.get("/calendar?view=month&date=2026-12-02&members=gao.yu")
    body = response.get_data(as_text=True)
    [entry] = page(response).xpath("//*[@data-testid='day-2026-12-02']//*[@data-testid='entry']")
    assert entry.tag == "div" and entry.get("data-busy") == "1" and "fd-cal-busy" in entry.get("class")
    assert "Busy" in text(entry) and "Dentist" not in body and "Clinic" not in body
    manager = login("he.jun")  # gao.yu's manager reads his calendar
    [entry] = page(manager.get("/calendar?view=month&date=2026-12-02&members=gao.yu")).xpath(
        "//*[@data-testid='day-2026-12-02']//*[@data-testid='entry']")
    assert entry.tag == "a" and "Dentist" in text(entry)


def test_creating_an_event_with_attendees_saves_it_and_invites_them(app, login):
    manager = login("li.na")
    form = page(manager.get("/calendar/events/new?date=2026-12-02&start=14:00"))
    assert form.xpath("//input[@name='start_date']")[0].get("value") == "2026-12-02"
    assert form.xpath("//input[@name='start_time']")[0].get("value") == "14:00"
    assert form.xpath("//input[@name='end_time']")[0].get("value") == "15:00"
    assert form.xpath("//input[@name='timezone']")[0].get("value") == SH
    assert form.xpath("//input[@name='attendees'][@value='wang.fang']") and \
        not form.xpath("//input[@name='attendees'][@value='li.na']")
    response = manager.post("/calendar/events/new", data={**MEETING, "attendees": ["wang.fang", "liu.yang"],
                                                          "repeat": "weekly", "weekdays": ["WE", "FR"],
                                                          "ends": "count", "count": "4", "project": "crm_rollout"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with database(app).query() as session:
        event = session.scalar(select(CalendarEvent))
        assert response.headers["Location"].endswith(f"/calendar/events/{event.id}")
        assert {(a.username, a.response) for a in event.attendees} == {
            ("li.na", "accepted"), ("wang.fang", "pending"), ("liu.yang", "pending")}
        assert event.rrule == "FREQ=WEEKLY;BYDAY=WE,FR;COUNT=4" and event.reminders == [15]
        assert event.starts_at == datetime(2026, 12, 2, 10, tzinfo=ZoneInfo(SH)) and event.project == "crm_rollout"
    fan_out(database(app), config=DeliveryConfig())
    with database(app).query() as session:
        [invite] = session.scalars(select(Notification).where(Notification.username == "wang.fang"))
        assert invite.kind == "invited" and invite.link == f"/calendar/events/{event.id}"
    shown = page(manager.get(response.headers["Location"]))
    assert text(one(shown, "event-title")) == "Pipeline review"
    assert text(one(shown, "repeat")) == "Every week, on Wed, Fri, 4 times in all"
    assert "10:00 – 11:30 (Asia/Shanghai)" in text(one(shown, "when"))
    assert text(one(shown, "answer-wang.fang")) == "Not answered yet" and text(one(shown, "project")) == \
        "CRM roll-out team"
    invitee = page(login("wang.fang").get("/calendar?view=week&date=2026-12-02"))
    [block] = one(invitee, "col-2026-12-02").xpath(".//*[@data-testid='block']")
    assert "fd-cal-pending" in block.get("class") and text(one(block, "pending")) == "Invited"
    assert block.get("href") == f"/calendar/events/{event.id}?occurrence=2026-12-02T10:00:00"


def test_a_whole_day_event_from_the_form_covers_its_days_inclusive(app, login):
    manager = login("li.na")
    response = manager.post("/calendar/events/new", data={**MEETING, "title": "Trade fair", "all_day": "1",
                                                          "start_date": "2026-12-03", "end_date": "2026-12-04",
                                                          "start_time": "", "end_time": ""})
    assert response.status_code == 302
    tree = page(manager.get("/calendar?view=week&date=2026-12-02"))
    assert [d for d in ("2026-12-02", "2026-12-03", "2026-12-04", "2026-12-05")
            if "Trade fair" in text(one(tree, f"allday-{d}"))] == ["2026-12-03", "2026-12-04"]
    shown = page(manager.get(response.headers["Location"]))
    assert text(one(shown, "when")) == "Thursday, December 3, 2026 – Friday, December 4, 2026 · All day"
    form = page(manager.get(response.headers["Location"] + "/edit"))
    assert form.xpath("//input[@name='all_day']")[0].get("checked") is not None
    assert form.xpath("//input[@name='end_date']")[0].get("value") == "2026-12-04"


def test_a_clash_shows_a_warning_and_saves_nothing_until_confirmed(app, login):
    create(app, "he.jun", title="Architecture review", starts_at="2026-12-02T10:30", ends_at="2026-12-02T12:00",
           attendees=["gao.yu"])
    create(app, "wang.fang", title="Client call", starts_at="2026-12-02T09:00", ends_at="2026-12-02T10:15")
    manager = login("li.na")
    data = {**MEETING, "attendees": ["wang.fang", "gao.yu"], "description": "Bring the numbers"}
    response = manager.post("/calendar/events/new", data=data)
    assert response.status_code == 200 and event_count(app) == 2
    tree = page(response)
    clashes = [text(li) for li in one(tree, "clash-warning").xpath(".//*[@data-testid='clash']")]
    assert clashes == ["高宇 — Busy · 2026-12-02 10:30 – 12:00", "王芳 — Client call · 2026-12-02 09:00 – 10:15"]
    assert "Architecture review" not in response.get_data(as_text=True)
    assert one(tree, "save-anyway").get("name") == "confirm" and one(tree, "change-time") is not None
    # What was typed is still there.
    assert tree.xpath("//input[@name='title']")[0].get("value") == "Pipeline review"
    assert tree.xpath("//textarea[@name='description']")[0].text == "Bring the numbers"
    assert len(tree.xpath("//input[@name='attendees'][@checked]")) == 2
    assert text(one(tree, "chosen")) == "Invited: 高宇, 王芳"
    confirmed = manager.post("/calendar/events/new", data={**data, "confirm": "1"})
    assert confirmed.status_code == 302 and event_count(app) == 3
    # A time with nobody busy saves at once.
    assert manager.post("/calendar/events/new", data={**data, "start_time": "16:00", "end_time": "17:00"}
                        ).status_code == 302


@pytest.mark.parametrize("change, field", [
    ({"title": ""}, "title"),
    ({"end_time": "09:00"}, "ends_at"),
    ({"start_date": "someday"}, "starts_at"),
    ({"timezone": "Mars/Base"}, "timezone"),
    ({"repeat": "weekly", "ends": "count", "count": "abc"}, "repeat-count"),
    ({"record_id": "999999"}, "record_id"),
])
def test_bad_input_is_shown_next_to_the_field_and_nothing_is_saved(app, login, change, field):
    response = login("li.na").post("/calendar/events/new", data={**MEETING, **change})
    assert response.status_code == 400
    tree = page(response)
    assert one(tree, f"error-{field}").text.strip()
    assert tree.xpath("//input[@name='location']")[0].get("value") == "Room 3"
    assert event_count(app) == 0


def test_the_live_conflict_check_answers_json_without_saving(app, login):
    busy = create(app, "he.jun", title="Architecture review", starts_at="2026-12-02T10:30",
                  ends_at="2026-12-02T12:00", attendees=["gao.yu"])
    manager = login("li.na")
    query = {**MEETING, "attendees": ["gao.yu", "wang.fang"]}
    response = manager.get("/calendar/conflicts", query_string=query)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {"count": 1, "clashes": [{
        "person": "gao.yu", "name": "高宇", "title": None, "label": "Busy", "busy": True,
        "when": "2026-12-02 10:30 – 12:00", "source": "event"}]}
    assert manager.get("/calendar/conflicts", query_string={**query, "start_time": "13:00", "end_time": "14:00"}
                       ).get_json()["count"] == 0
    wrong = manager.get("/calendar/conflicts", query_string={**query, "end_time": "08:00"})
    assert wrong.status_code == 400 and wrong.get_json()["error"]["field"] == "ends_at"
    # Editing an event leaves the event itself out; its organiser's other events still count.
    organiser = login("he.jun")
    mine = organiser.get("/calendar/conflicts", query_string={**query, "event": busy})
    assert mine.get_json()["count"] == 0
    assert event_count(app) == 1
    assert app.test_client().get("/calendar/conflicts", query_string=query).status_code == 302



def test_whole_days_keep_the_days_they_were_planned_on_and_a_clash_says_so(app, login):
    create(app, "li.na", title="Thanksgiving", starts_at="2026-12-02", ends_at="2026-12-02", all_day=True,
           timezone="America/New_York")
    tree = page(login("li.na").get("/calendar?view=week&date=2026-12-02"))
    assert [d for d in ("2026-12-01", "2026-12-02", "2026-12-03")
            if "Thanksgiving" in text(one(tree, f"allday-{d}"))] == ["2026-12-02"]
    create(app, "wang.fang", title="Fair", starts_at="2026-12-02", ends_at="2026-12-03", all_day=True)
    create(app, "wang.fang", title="Night shift", starts_at="2026-12-02T00:00", ends_at="2026-12-03T00:00")
    # 1 December in New York is still going on at 10:00 on the 2nd in Shanghai: it says its own day.
    create(app, "wang.fang", title="Remote fair", starts_at="2026-12-01", ends_at="2026-12-01", all_day=True,
           timezone="America/New_York")
    rows = login("li.na").get("/calendar/conflicts", query_string={**MEETING, "attendees": ["wang.fang"]}
                              ).get_json()["clashes"]
    assert {r["title"]: r["when"] for r in rows} == {"Fair": "2026-12-02 – 2026-12-03",
                                                     "Night shift": "2026-12-02 00:00 – 2026-12-03 00:00",
                                                     "Remote fair": "2026-12-01"}

def test_invitees_answer_and_the_organiser_skips_an_occurrence_or_cancels(app, login):
    eid = create(app, "li.na", title="Stand-up", starts_at="2026-11-30T09:00", ends_at="2026-11-30T09:15",
                 attendees=["wang.fang"], repeat={"freq": "daily", "count": 5})
    invitee = login("wang.fang")
    tree = page(invitee.get(f"/calendar/events/{eid}"))
    assert text(one(tree, "my-answer")) == "Not answered yet" and not tree.xpath("//*[@data-testid='edit']")
    response = invitee.post(f"/calendar/events/{eid}/respond", data={"response": "accepted"})
    assert response.status_code == 302
    tree = page(invitee.get(response.headers["Location"]))
    assert text(one(tree, "my-answer")) == "Accepted" and "You accepted the invitation." in text(tree)
    assert invitee.post(f"/calendar/events/{eid}/cancel").status_code == 403
    organiser = login("li.na")
    tree = page(organiser.get(f"/calendar/events/{eid}?occurrence=2026-12-02T09:00:00"))
    assert "Wednesday, December 2, 2026 09:00 – 09:15" in text(one(tree, "when"))
    assert not tree.xpath("//*[@data-testid='answer']") and one(tree, "edit") is not None
    assert not page(organiser.get(f"/calendar/events/{eid}")).xpath("//*[@data-testid='skip']")
    skip = organiser.post(f"/calendar/events/{eid}/cancel", data={"occurrence": "2026-12-02T09:00:00"})
    assert skip.status_code == 302 and "date=2026-12-02" in skip.headers["Location"]
    week = page(organiser.get("/calendar?view=week&date=2026-12-02"))
    assert "Stand-up" not in text(one(week, "col-2026-12-02")) and "Stand-up" in text(one(week, "col-2026-12-03"))
    assert organiser.post(f"/calendar/events/{eid}/cancel").status_code == 302
    tree = page(organiser.get(f"/calendar/events/{eid}"))
    assert one(tree, "cancelled") is not None and not tree.xpath("//*[@data-testid='organiser-actions']")
    assert "Stand-up" not in text(page(organiser.get("/calendar?view=week&date=2026-12-02")))
    assert "already cancelled" in organiser.get(organiser.post(f"/calendar/events/{eid}/cancel").headers[
        "Location"]).get_data(as_text=True)
    assert organiser.get(f"/calendar/events/{eid}/edit").status_code == 302
    answer = invitee.post(f"/calendar/events/{eid}/respond", data={"response": "declined"})
    assert "can no longer be answered" in invitee.get(answer.headers["Location"]).get_data(as_text=True)


def test_editing_keeps_its_version_and_refuses_to_overwrite_a_change_made_meanwhile(app, login):
    eid = create(app, "li.na", title="Demo", starts_at="2026-12-02T10:00", ends_at="2026-12-02T11:00",
                 attendees=["wang.fang"], repeat={"freq": "weekly", "until": "2027-01-31"})
    organiser = login("li.na")
    form = page(organiser.get(f"/calendar/events/{eid}/edit"))
    values = {i.get("name"): i.get("value") for i in form.xpath("//input[@type!='checkbox' and @type!='radio']")
              if i.get("name")}
    assert values["lock_version"] == "1" and values["until"] == "2027-01-31"
    assert form.xpath("//select[@name='repeat']/option[@selected]")[0].get("value") == "weekly"
    assert form.xpath("//input[@name='ends'][@checked]")[0].get("value") == "until"
    assert login("wang.fang").get(f"/calendar/events/{eid}/edit").status_code == 403
    data = {**MEETING, "title": "Demo, moved", "attendees": ["wang.fang"], "lock_version": "1",
            "start_time": "14:00", "end_time": "15:00"}
    with database(app).command() as session:
        events.update_event(session=session, actor=actor(app, "li.na"), event_id=eid, fields={"location": "Lab"})
    stale = organiser.post(f"/calendar/events/{eid}/edit", data=data)
    assert stale.status_code == 409 and "Someone changed this event" in text(one(page(stale), "stale"))
    with database(app).query() as session:
        assert session.get(CalendarEvent, eid).title == "Demo"
    saved = organiser.post(f"/calendar/events/{eid}/edit", data={**data, "lock_version": "2"})
    assert saved.status_code == 302
    with database(app).query() as session:
        event = session.get(CalendarEvent, eid)
        assert event.title == "Demo, moved" and event.rrule is None
        assert event.starts_at == datetime(2026, 12, 2, 14, tzinfo=ZoneInfo(SH))



def test_an_event_cancelled_while_its_form_was_open_says_so_rather_than_stale(app, login, monkeypatch):
    eid = create(app, "li.na", title="Demo", starts_at="2026-12-02T10:00", ends_at="2026-12-02T11:00")
    real = events.update_event

    def cancelled_meanwhile(*, session, **kwargs):
        session.get(CalendarEvent, eid).status = "cancelled"  # after the page looked, before the service saves
        return real(session=session, **kwargs)

    monkeypatch.setattr(events, "update_event", cancelled_meanwhile)
    organiser = login("li.na")
    response = organiser.post(f"/calendar/events/{eid}/edit", data={**MEETING, "lock_version": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/calendar/events/{eid}")
    assert "can no longer be changed" in organiser.get(response.headers["Location"]).get_data(as_text=True)

def test_someone_who_may_not_see_an_event_gets_404(app, login):
    eid = create(app, "gao.yu", title="Private", starts_at="2026-12-04T10:00", ends_at="2026-12-04T11:00")
    outsider = login("li.na")
    assert outsider.get(f"/calendar/events/{eid}").status_code == 404
    assert outsider.get(f"/calendar/events/{eid}/edit").status_code == 404
    assert outsider.post(f"/calendar/events/{eid}/respond", data={"response": "accepted"}).status_code == 404
    assert outsider.post(f"/calendar/events/{eid}/cancel").status_code == 404
    assert outsider.get("/calendar/events/999999").status_code == 404
    assert login("he.jun").get(f"/calendar/events/{eid}").status_code == 200  # his manager reads it
    assert login("gao.yu").get(f"/calendar/events/{eid}").status_code == 200


def test_the_navigation_links_the_calendar(app, login):
    tree = page(login("wang.fang").get("/calendar"))
    link = one(tree, "nav-calendar")
    assert link.get("href") == "/calendar" and "active" in link.get("class")
    assert one(tree, "view-week").get("aria-current") == "page"
    zh = page(login("wang.fang", lang="zh_CN").get("/calendar?view=month&date=2026-12-01"))
    assert text(one(zh, "range-title")) == "2026年12月"
    now = datetime.now(ZoneInfo(SH)) + timedelta(days=1)
    assert page(login("wang.fang").get(f"/calendar/events/new?date={now:%Y-%m-%d}")).xpath(
        "//input[@name='start_time']")[0].get("value") == "09:00"

"""The calendar API: events with conflicts, changes and cancellations, answers, calendar queries and feeds."""
from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from collab.calendar.models import CalendarEvent, CalendarFeed
from instances.actors import Actor
from instances.models import OutboxMessage
from org import demo
from org import service as org
from records import service as records

from .test_api import assert_error, sign_in

MEETING = {"title": "Pipeline review", "starts_at": "2026-12-02T10:00", "ends_at": "2026-12-02T11:00",
           "timezone": "Asia/Shanghai"}
WEEK = "start=2026-11-30&end=2026-12-06"


class Api:
    """A signed-in API caller with every verb the calendar uses."""

    def __init__(self, client, username: str):
        self.api = sign_in(client, username)

    def call(self, method: str, path: str, **kwargs):
        """Send a request with the caller's token."""
        return self.api.client.open(f"/api/v1{path}", method=method, headers=self.api.headers, **kwargs)

    def create(self, **fields) -> dict:
        """Create an event and return its JSON."""
        response = self.call("POST", "/calendar/events", json={"timezone": "Asia/Shanghai", **fields})
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()


@pytest.fixture
def people(client):
    """API callers: li.na (sales manager), wang.fang (her report), gao.yu (tech), sun.li (finance)."""
    return {name: Api(client, name) for name in ("li.na", "wang.fang", "gao.yu", "sun.li", "luo.bin")}


def counts(app) -> tuple[int, int]:
    with app.extensions["flowdesk.database"].query() as session:
        return (session.scalar(select(func.count()).select_from(CalendarEvent)),
                session.scalar(select(func.count()).select_from(OutboxMessage)))


def check_schema(app, template: str, method: str, status: int, body) -> None:
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    answer = document["paths"][template][method]["responses"][str(status)]
    if "$ref" in answer:
        answer = document["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    schema = {"components": document["components"], **answer["content"]["application/json"]["schema"]}
    assert [e.message for e in Draft202012Validator(schema).iter_errors(body)] == [], (template, method)


# --- creating, with conflicts -------------------------------------------------------------------------------


def test_create_answers_the_event_with_the_clashes_of_its_people_as_a_warning(app, people):
    people["wang.fang"].create(title="Client call", starts_at="2026-12-02T09:00", ends_at="2026-12-02T10:15")
    people["gao.yu"].create(title="Dentist", starts_at="2026-12-02T10:30", ends_at="2026-12-02T11:30")
    people["li.na"].create(title="Old habit", starts_at="2026-12-02T10:45", ends_at="2026-12-02T12:00")
    response = people["li.na"].call("POST", "/calendar/events", json={
        **MEETING, "attendees": ["wang.fang", "gao.yu", "sun.li"], "location": "Room A", "reminders": [15],
        "repeat": {"freq": "weekly", "count": 3}, "kind": "meeting"})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    check_schema(app, "/calendar/events", "post", 201, body)
    assert (body["title"], body["organizer"], body["location"]) == ("Pipeline review", "li.na", "Room A")
    assert body["starts_at"] == "2026-12-02T02:00:00+00:00" and body["timezone"] == "Asia/Shanghai"
    assert body["repeat"] == {"freq": "weekly", "interval": 1, "monthday": "same", "count": 3}
    assert body["rrule"] == "FREQ=WEEKLY;COUNT=3" and body["reminders"] == [15] and body["exdates"] == []
    assert [(a["username"], a["response"]) for a in body["attendees"]] == [
        ("li.na", "accepted"), ("wang.fang", "pending"), ("gao.yu", "pending"), ("sun.li", "pending")]
    assert body["status"] == "confirmed" and isinstance(body["lock_version"], int)
    # li.na reads her own and her report's calendar, not gao.yu's: his clash has no title.
    assert [(c["person"], c["title"], c["source"]) for c in body["conflicts"]] == [
        ("gao.yu", None, "event"), ("li.na", "Old habit", "event"), ("wang.fang", "Client call", "event")]
    assert all(c["event_id"] and c["starts_at"] and c["ends_at"] for c in body["conflicts"])
    assert counts(app)[0] == 4  # the clashes warned; the event was saved all the same


def test_check_only_answers_the_clashes_and_saves_nothing(app, people):
    people["wang.fang"].create(title="Client call", starts_at="2026-12-02T09:00", ends_at="2026-12-02T10:15")
    before = counts(app)
    response = people["li.na"].call("POST", "/calendar/events",
                                    json={**MEETING, "attendees": ["wang.fang"], "check_only": True})
    assert response.status_code == 200
    body = response.get_json()
    check_schema(app, "/calendar/events", "post", 200, body)
    assert body["saved"] is False and [c["title"] for c in body["conflicts"]] == ["Client call"]
    assert counts(app) == before


BAD_EVENTS = [
    ({k: v for k, v in MEETING.items() if k != "title"}, "title", 400),
    ({**MEETING, "title": "x" * 301}, "title", 400),
    ({**MEETING, "starts_at": "next tuesday"}, "starts_at", 400),
    ({**MEETING, "starts_at": None}, "starts_at", 400),
    ({**MEETING, "starts_at": "0001-01-01T00:00", "ends_at": "0001-01-01T01:00"}, "starts_at", 400),
    ({**MEETING, "ends_at": "2026-12-02T09:00"}, "ends_at", 400),
    ({**MEETING, "ends_at": "2027-02-02T09:00"}, "ends_at", 400),
    ({**MEETING, "timezone": "Mars/Base"}, "timezone", 400),
    ({**MEETING, "timezone": 8}, "timezone", 400),
    ({**MEETING, "attendees": ["nobody"]}, "attendees", 404),
    ({**MEETING, "attendees": "wang.fang"}, "attendees", 400),
    ({**MEETING, "attendees": [1]}, "attendees", 400),
    ({**MEETING, "reminders": [-5]}, "reminders", 400),
    ({**MEETING, "kind": "party"}, "kind", 400),
    ({**MEETING, "project": "nope"}, "project", 404),
    ({**MEETING, "record_id": "abc"}, "record_id", 400),
    ({**MEETING, "location": ["Room A"]}, "location", 400),
    ({**MEETING, "description": "x" * 10_001}, "description", 400),
    ({**MEETING, "repeat": "weekly"}, "repeat", 400),
    ({**MEETING, "repeat": {"freq": "hourly"}}, "repeat.freq", 400),
    ({**MEETING, "repeat": {"freq": "weekly", "count": 3, "until": "2027-01-01"}}, "repeat.until", 400),
    ({**MEETING, "repeat": {"freq": "daily", "until": "9999-12-31"}}, "repeat.until", 400),
    ({**MEETING, "colour": "red"}, "colour", 400),
    ({**MEETING, "check_only": "yes"}, "check_only", 400),
]


@pytest.mark.parametrize(("fields", "field", "status"), BAD_EVENTS)
def test_bad_event_input_names_the_field_and_saves_nothing(app, client, fields, field, status):
    api = Api(client, "li.na")
    before = counts(app)
    error = assert_error(api.call("POST", "/calendar/events", json=fields), status)
    assert error["details"]["field"] == field, error
    assert counts(app) == before
    # A check refuses bad timing, attendees and unknown fields the same way; the rest waits for the save.
    response = api.call("POST", "/calendar/events", json={**fields, "check_only": True})
    if field.split(".")[0] in ("starts_at", "ends_at", "timezone", "attendees", "repeat", "colour"):
        assert assert_error(response, status)["details"]["field"] == field
    else:
        assert response.status_code == 200, response.get_data(as_text=True)
    assert counts(app) == before


def test_non_json_bodies_are_refused(client):
    api = Api(client, "li.na")
    for raw in (b"[1]", b"not json", b'"x"'):
        assert_error(api.call("POST", "/calendar/events", data=raw, content_type="application/json"), 400,
                     "invalid_json")


# --- reading, changing, cancelling, answering ---------------------------------------------------------------


def test_an_event_is_read_by_its_people_and_their_readers_and_is_404_for_an_outsider(app, people):
    event = people["gao.yu"].create(title="Dentist", starts_at="2026-12-02T15:00", ends_at="2026-12-02T16:00")
    path = f"/calendar/events/{event['id']}"
    body = people["gao.yu"].call("GET", path).get_json()
    check_schema(app, "/calendar/events/{event_id}", "get", 200, body)
    assert body["title"] == "Dentist" and body["organizer"] == "gao.yu" and "conflicts" not in body
    he_jun = Api(people["li.na"].api.client, "he.jun")  # his manager reads his calendar
    assert he_jun.call("GET", path).get_json()["title"] == "Dentist"
    for outsider in ("li.na", "sun.li", "luo.bin"):
        assert_error(people[outsider].call("GET", path), 404, "not_found")
    assert_error(people["gao.yu"].call("GET", "/calendar/events/999999"), 404)
    assert_error(people["gao.yu"].call("GET", "/calendar/events/99999999999999999999"), 404)


def test_only_the_organiser_changes_an_event_with_the_lock_version_loaded(app, people):
    event = people["li.na"].create(**MEETING, attendees=["wang.fang"])
    path = f"/calendar/events/{event['id']}"
    version = event["lock_version"]
    move = {"title": "Pipeline review (moved)", "lock_version": version, "starts_at": "2026-12-03T14:00"}
    changed = people["li.na"].call("PATCH", path, json=move)
    assert changed.status_code == 200, changed.get_data(as_text=True)
    body = changed.get_json()
    check_schema(app, "/calendar/events/{event_id}", "patch", 200, body)
    assert body["title"] == "Pipeline review (moved)" and body["lock_version"] > version
    assert (body["starts_at"], body["ends_at"]) == ("2026-12-03T06:00:00+00:00", "2026-12-03T07:00:00+00:00")
    assert body["conflicts"] == []
    busy = people["wang.fang"].create(**{**MEETING, "title": "Dentist", "starts_at": "2026-12-04T14:00",
                                         "ends_at": "2026-12-04T15:00"})
    version = body["lock_version"]
    moved = people["li.na"].call("PATCH", path, json={"starts_at": "2026-12-04T14:30", "lock_version": version})
    body = moved.get_json()
    check_schema(app, "/calendar/events/{event_id}", "patch", 200, body)
    assert [(c["person"], c["event_id"]) for c in body["conflicts"]] == [("wang.fang", busy["id"])]
    retitled = people["li.na"].call("PATCH", path, json={"title": "Pipeline review (moved)",
                                                          "lock_version": body["lock_version"]}).get_json()
    assert "conflicts" not in retitled
    body, version = retitled, retitled["lock_version"] - 1
    # Someone else's change in between: the stale version is refused, nothing is lost.
    stale = assert_error(people["li.na"].call("PATCH", path, json={"title": "Lost", "lock_version": version}),
                         409, "conflict")
    assert stale["details"]["lock_version"] == body["lock_version"]
    check_schema(app, "/calendar/events/{event_id}", "patch", 409, {"error": stale})
    missing = assert_error(people["li.na"].call("PATCH", path, json={"title": "No version"}), 400)
    assert missing["details"]["field"] == "lock_version"
    current = body["lock_version"]
    for bad, field in (({"lock_version": "1"}, "lock_version"),
                       ({"title": "", "lock_version": current}, "title"),
                       ({"ends_at": "2026-12-01T00:00", "lock_version": current}, "ends_at"),
                       ({"organizer": "wang.fang", "lock_version": current}, "organizer")):
        error = assert_error(people["li.na"].call("PATCH", path, json=bad), 400)
        assert error["details"]["field"] == field
    mine = {"title": "Mine", "lock_version": current}
    assert_error(people["wang.fang"].call("PATCH", path, json=mine), 409)  # an attendee answers, not changes
    assert_error(people["sun.li"].call("PATCH", path, json=mine), 404)
    assert people["li.na"].call("GET", path).get_json()["title"] == "Pipeline review (moved)"


def test_deleting_one_occurrence_skips_it_and_deleting_the_event_cancels_it(app, people):
    event = people["li.na"].create(title="Stand-up", starts_at="2026-11-30T09:00", ends_at="2026-11-30T09:15",
                                   attendees=["wang.fang"], repeat={"freq": "daily", "count": 5})
    path = f"/calendar/events/{event['id']}"
    days = lambda: [e["occurrence"][:10] for e in people["wang.fang"].call(  # noqa: E731
        "GET", f"/calendar/entries?{WEEK}&sources=event").get_json()["items"]]
    assert days() == ["2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"]
    skipped = people["li.na"].call("DELETE", f"{path}?occurrence=2026-12-02T09:00:00")
    assert skipped.status_code == 200
    check_schema(app, "/calendar/events/{event_id}", "delete", 200, skipped.get_json())
    assert skipped.get_json()["exdates"] == ["2026-12-02T09:00:00"]
    assert skipped.get_json()["status"] == "confirmed"
    assert days() == ["2026-11-30", "2026-12-01", "2026-12-03", "2026-12-04"]
    for query in ("occurrence=2026-12-02T10:00:00", "occurrence=someday", "occurrence=0001-01-01T00:00:00"):
        error = assert_error(people["li.na"].call("DELETE", f"{path}?{query}"), 400)
        assert error["details"]["field"] == "occurrence"
    assert_error(people["li.na"].call("DELETE", f"{path}?lock_version=x"), 400)
    assert_error(people["li.na"].call("DELETE", f"{path}?lock_version={event['lock_version']}"), 409)
    assert_error(people["wang.fang"].call("DELETE", path), 409)
    assert_error(people["sun.li"].call("DELETE", path), 404)
    assert days() == ["2026-11-30", "2026-12-01", "2026-12-03", "2026-12-04"]
    cancelled = people["li.na"].call("DELETE", f"{path}?lock_version={skipped.get_json()['lock_version']}")
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert days() == []
    assert_error(people["li.na"].call("DELETE", path), 409)


def test_an_invitee_answers_and_others_cannot(app, people):
    event = people["li.na"].create(**MEETING, attendees=["wang.fang"])
    path = f"/calendar/events/{event['id']}/response"
    answered = people["wang.fang"].call("POST", path, json={"response": "tentative"})
    assert answered.status_code == 200
    check_schema(app, "/calendar/events/{event_id}/response", "post", 200, answered.get_json())
    mine = [a for a in answered.get_json()["attendees"] if a["username"] == "wang.fang"][0]
    assert mine["response"] == "tentative" and mine["responded_at"]
    for bad in ({"response": "maybe"}, {"response": "pending"}, {"response": 1}, {},
                {"response": "accepted", "x": 1}):
        error = assert_error(people["wang.fang"].call("POST", path, json=bad), 400)
        assert error["details"]["field"] in ("response", "x")
    assert_error(people["sun.li"].call("POST", path, json={"response": "accepted"}), 404)
    assert people["wang.fang"].call("GET", f"/calendar/events/{event['id']}").get_json()["attendees"][1][
        "response"] == "tentative"


# --- calendar queries and conflict checks -------------------------------------------------------------------


def test_entries_show_what_the_viewer_may_read_and_busy_blocks_for_the_rest(app, people):
    people["gao.yu"].create(title="Dentist", starts_at="2026-12-02T15:00", ends_at="2026-12-02T16:00")
    people["wang.fang"].create(title="Client call", starts_at="2026-12-03T09:00", ends_at="2026-12-03T10:00")
    response = people["li.na"].call("GET", f"/calendar/entries?{WEEK}&members=gao.yu,wang.fang")
    assert response.status_code == 200
    body = response.get_json()
    check_schema(app, "/calendar/entries", "get", 200, body)
    assert body["timezone"] == "Asia/Shanghai" and body["start"] == "2026-11-30T00:00:00+08:00"
    assert body["end"] == "2026-12-07T00:00:00+08:00"  # a date as the end: that whole day
    assert [(p["username"], p["display_name"], p["full"]) for p in body["people"]] == [
        ("gao.yu", "高宇", False), ("wang.fang", "王芳", True)]
    busy, call = body["items"]
    assert busy["busy_only"] is True and busy["title"] is None and busy["link"] is None
    assert busy["people"] == ["gao.yu"]
    assert busy["location"] is None and busy["organizer"] is None
    assert call["busy_only"] is False and call["title"] == "Client call" and call["link"].endswith(
        f"/calendar/events/{call['event_id']}")
    # gao.yu's own view, his manager's view: in full.
    def entries(api, query=""):
        return api.call("GET", f"/calendar/entries?{WEEK}{query}").get_json()

    assert entries(people["gao.yu"])["items"][0]["title"] == "Dentist"
    he_jun = Api(people["li.na"].api.client, "he.jun")
    assert entries(he_jun, "&department=tech")["items"][0]["title"] == "Dentist"
    # Without filters, the caller's own calendar; sources narrow it.
    assert [p["username"] for p in entries(people["li.na"])["people"]] == ["li.na"]
    assert entries(people["wang.fang"], "&sources=task,away")["items"] == []
    by_time = people["wang.fang"].call(
        "GET", "/calendar/entries?start=2026-12-03T09:30%2B08:00&end=2026-12-03T09:45Z").get_json()["items"]
    assert [e["title"] for e in by_time] == ["Client call"]


@pytest.mark.parametrize(("query", "field", "status"), [
    ("end=2026-12-06", "start", 400),
    ("start=2026-11-30", "end", 400),
    ("start=2026-11-30T00:00&end=2026-12-06", "start", 400),
    ("start=yesterday&end=2026-12-06", "start", 400),
    ("start=0001-01-01&end=0001-01-02", "start", 400),
    ("start=2026-12-06&end=2026-11-30", "end", 400),
    ("start=2026-01-01&end=2027-06-01", "end", 400),
    (f"{WEEK}&sources=event,mail", "sources", 400),
    (f"{WEEK}&members=ghost", "members", 404),
    (f"{WEEK}&department=nope", "department", 404),
    (f"{WEEK}&department=" + "d" * 65, "department", 400),
    (f"{WEEK}&group=nope", "group", 404),
    (f"{WEEK}&project=nope", "project", 404),
])
def test_bad_entry_queries_name_the_field(client, query, field, status):
    error = assert_error(Api(client, "li.na").call("GET", f"/calendar/entries?{query}"), status)
    assert error["details"]["field"] == field, error


def test_the_conflict_check_lists_clashes_hides_unreadable_titles_and_leaves_out_the_event(app, people):
    people["gao.yu"].create(title="Architecture review", starts_at="2026-12-02T10:30",
                            ends_at="2026-12-02T12:00")
    call = people["wang.fang"].create(title="Client call", starts_at="2026-12-02T09:00",
                                      ends_at="2026-12-02T10:15")
    plan = {"attendees": ["wang.fang", "gao.yu", "sun.li"], "starts_at": "2026-12-02T10:00",
            "ends_at": "2026-12-02T11:00", "timezone": "Asia/Shanghai"}
    response = people["li.na"].call("POST", "/calendar/conflicts", json=plan)
    assert response.status_code == 200
    check_schema(app, "/calendar/conflicts", "post", 200, response.get_json())
    assert [(c["person"], c["title"]) for c in response.get_json()["conflicts"]] == [
        ("gao.yu", None), ("wang.fang", "Client call")]
    weekly = {**plan, "attendees": ["wang.fang"], "starts_at": "2026-11-25T09:30",
              "ends_at": "2026-11-25T09:45", "repeat": {"freq": "weekly", "count": 2}}
    assert [c["title"] for c in people["li.na"].call("POST", "/calendar/conflicts", json=weekly)
            .get_json()["conflicts"]] == ["Client call"]
    excluded = people["li.na"].call("POST", "/calendar/conflicts",
                                    json={**weekly, "exclude_event": call["id"]})
    assert excluded.get_json()["conflicts"] == []
    all_day = {"attendees": ["wang.fang"], "starts_at": "2026-12-02", "all_day": True}
    assert len(people["li.na"].call("POST", "/calendar/conflicts", json=all_day).get_json()["conflicts"]) == 1
    for bad, field, status in (({**plan, "exclude_event": "x"}, "exclude_event", 400),
                               ({**plan, "attendees": ["ghost"]}, "attendees", 404),
                               ({**plan, "attendees": "gao.yu"}, "attendees", 400),
                               ({**plan, "starts_at": None}, "starts_at", 400),
                               ({**plan, "title": "x"}, "title", 400),
                               ({**plan, "repeat": {"freq": "daily", "interval": 0}}, "repeat.interval",
                                400)):
        error = assert_error(people["li.na"].call("POST", "/calendar/conflicts", json=bad), status)
        assert error["details"]["field"] == field


# --- subscription links -------------------------------------------------------------------------------------


def test_feed_links_are_made_listed_used_and_revoked_through_the_api(app, client, people):
    made = people["wang.fang"].call("POST", "/calendar/feeds")
    assert made.status_code == 201
    link = made.get_json()
    check_schema(app, "/calendar/feeds", "post", 201, link)
    assert link["url"].startswith("http://localhost/calendar/feed/") and link["url"].endswith(".ics")
    assert_error(people["wang.fang"].call("POST", "/calendar/feeds", json={"name": "phone"}), 400)
    listed = people["wang.fang"].call("GET", "/calendar/feeds").get_json()
    check_schema(app, "/calendar/feeds", "get", 200, listed)
    assert [f["id"] for f in listed["items"]] == [link["id"]] and "url" not in listed["items"][0]
    assert people["li.na"].call("GET", "/calendar/feeds").get_json()["items"] == []
    feed = app.test_client().get(link["url"].removeprefix("http://localhost"))
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    assert people["wang.fang"].call("GET", "/calendar/feeds").get_json()["items"][0]["last_used_at"]
    assert_error(people["li.na"].call("DELETE", f"/calendar/feeds/{link['id']}"), 404)
    revoked = people["wang.fang"].call("DELETE", f"/calendar/feeds/{link['id']}")
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"]
    check_schema(app, "/calendar/feeds/{feed_id}", "delete", 200, revoked.get_json())
    assert_error(people["wang.fang"].call("DELETE", f"/calendar/feeds/{link['id']}"), 404)
    assert app.test_client().get(link["url"].removeprefix("http://localhost")).status_code == 404
    with app.extensions["flowdesk.database"].query() as session:
        stored = session.scalars(select(CalendarFeed.token_hash)).all()
    assert stored and all(link["url"].rsplit("/", 1)[1].removesuffix(".ics") not in h for h in stored)


# --- who may call -------------------------------------------------------------------------------------------


def test_portal_accounts_are_refused_every_calendar_endpoint(app, db, client):
    with db.command() as session:
        records.install_core_types(session=session)
        company = records.create_record(session=session, type_key="customer", actor=Actor("wang.fang"),
                                        data={"name": "远航物流"})
        org.save_user(session=session, username="yuanhang", display_name="远航物流 王经理",
                      password=demo.DEMO_PASSWORD, kind="customer", portal_record_id=company.id,
                      portal_modules=["customer"])
    portal = Api(client, "yuanhang")
    before = counts(app)
    for method, path, body in (("GET", f"/calendar/entries?{WEEK}", None),
                               ("POST", "/calendar/events", MEETING),
                               ("GET", "/calendar/events/1", None), ("PATCH", "/calendar/events/1", {}),
                               ("DELETE", "/calendar/events/1", None),
                               ("POST", "/calendar/events/1/response", {"response": "accepted"}),
                               ("POST", "/calendar/conflicts", MEETING), ("GET", "/calendar/feeds", None),
                               ("POST", "/calendar/feeds", None), ("DELETE", "/calendar/feeds/1", None)):
        assert_error(portal.call(method, path, json=body), 403, "forbidden")
    assert counts(app) == before


def test_the_openapi_document_lists_every_calendar_path(client):
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    assert set(paths["/calendar/entries"]) == {"get"}
    assert set(paths["/calendar/events"]) == {"post"}
    assert set(paths["/calendar/events/{event_id}"]) == {"get", "patch", "delete"}
    assert set(paths["/calendar/events/{event_id}/response"]) == {"post"}
    assert set(paths["/calendar/conflicts"]) == {"post"}
    assert set(paths["/calendar/feeds"]) == {"get", "post"}
    assert set(paths["/calendar/feeds/{feed_id}"]) == {"delete"}
    create = paths["/calendar/events"]["post"]
    assert {"201", "200", "400", "401", "404"} <= set(create["responses"])
    fields = create["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert {"title", "starts_at", "ends_at", "attendees", "repeat", "check_only"} <= set(fields)
    assert "lock_version" in paths["/calendar/events/{event_id}"]["patch"]["requestBody"]["content"][
        "application/json"]["schema"]["required"]

"""Calendar export: the .ics download, the public feed, and the page that makes and revokes its links."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

from collab.calendar import events
from collab.calendar.models import CalendarFeed
from instances.actors import Actor
from org import demo
from org import service as org
from records import service as records

SH = ZoneInfo("Asia/Shanghai")


def create_event(db, who: str, **fields) -> int:
    with db.command() as session:
        actor = org.actor_for(org.get_user_by_name(session=session, username=who))
        fields = {"timezone": "Asia/Shanghai", **fields}
        return events.create_event(session=session, actor=actor, fields=fields).id


@pytest.fixture
def planned(db):
    """A weekly meeting li.na organises with wang.fang, and an all-day event of li.na's own."""
    create_event(db, "li.na", title="周会", starts_at="2026-12-07T09:00", ends_at="2026-12-07T10:00",
                 attendees=["wang.fang"], repeat={"freq": "weekly", "count": 4}, location="会议室 A")
    create_event(db, "li.na", title="年会", starts_at="2027-01-20", ends_at="2027-01-20", all_day=True)
    return db


def make_link(client) -> str:
    """Create a subscription link on the page and return its path (the page shows the full URL once)."""
    page = client.post("/calendar/subscribe")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    found = re.search(r'value="(http://localhost/calendar/feed/[^"]+\.ics)"[^>]*data-testid="new-link-url"',
                      text)
    assert found is not None, text
    return found.group(1).removeprefix("http://localhost")


def summaries(raw: bytes) -> list[str]:
    return sorted(str(e["summary"]) for e in Calendar.from_ical(raw).walk("VEVENT"))


def test_the_signed_in_person_downloads_their_calendar_as_ics(login, client, planned):
    response = login("li.na").get("/calendar/export.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert 'filename="flowdesk-calendar.ics"' in response.headers["Content-Disposition"]
    parsed = Calendar.from_ical(response.data)
    weekly = [e for e in parsed.walk("VEVENT") if str(e["summary"]) == "周会"][0]
    assert weekly["dtstart"].dt == datetime(2026, 12, 7, 9, tzinfo=SH) and weekly["rrule"]["COUNT"] == [4]
    assert str(weekly["location"]) == "会议室 A" and str(weekly["uid"]).endswith("@localhost")
    assert summaries(response.data) == ["周会", "年会"]
    assert summaries(login("wang.fang").get("/calendar/export.ics").data) == ["周会"]
    assert summaries(login("sun.li").get("/calendar/export.ics").data) == []
    anonymous = client.get("/calendar/export.ics")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_a_feed_link_works_without_signing_in_until_it_is_revoked(app, login, planned):
    owner = login("wang.fang")
    path = make_link(owner)
    stranger = app.test_client()  # a calendar app: no session cookie
    response = stranger.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, max-age=300"
    assert summaries(response.data) == ["周会"]
    with planned.query() as session:
        [feed] = session.scalars(select(CalendarFeed)).all()
    assert feed.username == "wang.fang" and feed.last_used_at is not None
    assert feed.last_used_at > datetime(2020, 1, 1, tzinfo=timezone.utc)
    token = path.removeprefix("/calendar/feed/").removesuffix(".ics")
    for wrong in (token[:-2] + ("xx" if not token.endswith("xx") else "yy"), "short", "x" * 200):
        assert stranger.get(f"/calendar/feed/{wrong}.ics").status_code == 404
    assert stranger.get(f"/calendar/feed/{token}").status_code == 404
    revoked = owner.post(f"/calendar/subscribe/{feed.id}/revoke", follow_redirects=True)
    assert revoked.status_code == 200 and "The link was revoked" in revoked.get_data(as_text=True)
    gone = stranger.get(path)
    assert gone.status_code == 404
    unknown = stranger.get("/calendar/feed/" + "a" * 43 + ".ics")
    # No hint: a revoked link and one that never existed look the same.
    assert gone.get_data(as_text=True) == unknown.get_data(as_text=True)
    assert "revoked" not in gone.get_data(as_text=True).lower()


def test_a_feed_of_someone_who_left_opens_nothing(app, login, planned):
    path = make_link(login("wang.fang"))
    with planned.command() as session:
        user = org.get_user_by_name(session=session, username="wang.fang")
        user.status = "left"
    assert app.test_client().get(path).status_code == 404


def test_the_portal_fence_does_not_block_a_feed_but_does_block_the_page(app, login, planned, db):
    path = make_link(login("li.na"))
    with db.command() as session:
        records.install_core_types(session=session)
        company = records.create_record(session=session, type_key="customer", actor=Actor("wang.fang"),
                                        data={"name": "远航物流"})
        org.save_user(session=session, username="yuanhang", display_name="远航物流 王经理",
                      password=demo.DEMO_PASSWORD, kind="customer", portal_record_id=company.id,
                      portal_modules=["customer"])
    portal = login("yuanhang")
    assert portal.get(path).status_code == 200
    assert portal.get("/calendar/subscribe").status_code == 403
    assert portal.post("/calendar/subscribe").status_code == 403
    assert portal.get("/calendar/export.ics").status_code == 403


def test_the_subscribe_page_creates_shows_once_and_revokes_links(app, login, db):
    client = login("li.na")
    page = client.get("/calendar/subscribe").get_data(as_text=True)
    assert "Subscribe in your calendar app" in page and 'data-testid="no-links"' in page
    assert 'href="/calendar/export.ics"' in page and 'data-testid="create-link"' in page
    path = make_link(client)
    made = client.post("/calendar/subscribe").get_data(as_text=True)
    assert "It is shown only this once" in made and 'data-testid="copy-link"' in made
    page = client.get("/calendar/subscribe").get_data(as_text=True)
    assert page.count('data-testid="link"') == 2 and "/calendar/feed/" not in page  # never shown again
    assert 'data-confirm="' in page and page.count('data-testid="revoke-link"') == 2
    assert "Never" in page
    app.test_client().get(path)
    assert "Never" in client.get("/calendar/subscribe").get_data(as_text=True)  # the other one
    with db.query() as session:
        ids = sorted(session.scalars(select(CalendarFeed.id)))
    assert login("wang.fang").post(f"/calendar/subscribe/{ids[0]}/revoke").status_code == 404
    assert client.post(f"/calendar/subscribe/{ids[0]}/revoke").status_code == 302
    assert client.post(f"/calendar/subscribe/{ids[0]}/revoke").status_code == 404
    assert client.post("/calendar/subscribe/99999999999999999999/revoke").status_code == 404
    page = client.get("/calendar/subscribe").get_data(as_text=True)
    assert page.count('data-testid="link"') == 1
    assert app.test_client().get(path).status_code == 404
    anonymous = app.test_client()
    assert anonymous.get("/calendar/subscribe").status_code == 302
    assert anonymous.post(f"/calendar/subscribe/{ids[1]}/revoke").status_code == 302
    with db.query() as session:
        assert session.get(CalendarFeed, ids[1]).revoked_at is None

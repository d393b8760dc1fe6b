"""The calendar in headless Chromium: plan a meeting over a colleague's busy time, invite, and answer."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from collab.calendar import events
from collab.calendar.models import CalendarEvent
from collab.config import DeliveryConfig
from collab.fanout import fan_out
from org import service as org
from org.demo import DEMO_PASSWORD
from tests.e2e import require_browser

require_browser()

from playwright.sync_api import Page, expect  # noqa: E402

from tests.e2e.conftest import VIEWPORT  # noqa: E402
from tests.e2e.test_leave_flow import sign_in  # noqa: E402

pytestmark = pytest.mark.e2e


def event_count(live_server) -> int:
    with live_server.database.query() as session:
        return session.scalar(select(func.count()).select_from(CalendarEvent))


def plan(live_server, who: str, **fields) -> int:
    """Put an event in someone's calendar straight through the service."""
    with live_server.database.command() as session:
        actor = org.actor_for(org.get_user_by_name(session=session, username=who))
        return events.create_event(session=session, actor=actor, fields={"timezone": "Asia/Shanghai", **fields}).id


def fill_meeting(page: Page, title: str) -> None:
    page.fill("#title", title)
    page.fill("#start_date", "2026-12-02")
    page.fill("#start_time", "10:00")
    page.fill("#end_date", "2026-12-02")
    page.fill("#end_time", "11:00")
    page.fill("#location", "3F Room A")


def test_a_meeting_over_a_busy_colleague_is_saved_anyway_and_the_invitee_accepts(live_server, new_context,
                                                                                  artifacts):
    base = live_server.url
    plan(live_server, "gao.yu", title="Dentist", starts_at="2026-12-02T10:30", ends_at="2026-12-02T11:30")
    before = event_count(live_server)

    # 1. li.na opens the calendar from the navigation and plans a meeting with two colleagues.
    organiser = new_context().new_page()
    console = []
    organiser.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    sign_in(organiser, base, "li.na")
    organiser.get_by_test_id("nav-calendar").click()
    organiser.wait_for_url(re.compile(r"/calendar$"))
    expect(organiser.get_by_test_id("view-week")).to_have_attribute("aria-current", "page")
    organiser.get_by_test_id("new-event").click()
    organiser.wait_for_url(re.compile(r"/calendar/events/new"))
    fill_meeting(organiser, "Roadmap planning")
    organiser.fill("#fd-cal-attendee-search", "wang")
    expect(organiser.locator("input[name=attendees][value='gao.yu']")).to_be_hidden()
    organiser.check("input[name=attendees][value='wang.fang']")
    organiser.fill("#fd-cal-attendee-search", "")
    organiser.check("input[name=attendees][value='gao.yu']")
    expect(organiser.get_by_test_id("chosen")).to_contain_text("高宇, 王芳")

    # 2. The live check warns before saving: gao.yu is busy (li.na may not read his calendar).
    live = organiser.get_by_test_id("live-clash-warning")
    expect(live).to_be_visible()
    expect(live.get_by_test_id("live-clash")).to_have_count(1)
    expect(live).to_contain_text("高宇")
    expect(live).to_contain_text("Busy")
    expect(live).not_to_contain_text("Dentist")

    # 3. Saving without confirming shows the warning from the server and keeps nothing.
    organiser.get_by_test_id("save").click()
    warning = organiser.get_by_test_id("clash-warning")
    expect(warning).to_be_visible()
    expect(warning.get_by_test_id("clash")).to_have_text(re.compile(r"高宇 — Busy · 2026-12-02 10:30 – 11:30"))
    expect(organiser.locator("#title")).to_have_value("Roadmap planning")
    assert event_count(live_server) == before
    organiser.screenshot(path=str(artifacts / "e2e_calendar_conflict.png"), full_page=True)

    # 4. Save anyway.
    organiser.get_by_test_id("save-anyway").click()
    organiser.wait_for_url(re.compile(r"/calendar/events/\d+$"))
    event_id = int(organiser.url.rsplit("/", 1)[1])
    expect(organiser.locator(".alert-success")).to_contain_text("Event saved.")
    expect(organiser.get_by_test_id("event-title")).to_have_text("Roadmap planning")
    expect(organiser.get_by_test_id("answer-gao.yu")).to_have_text("Not answered yet")
    assert event_count(live_server) == before + 1
    organiser.goto(f"{base}/calendar?view=month&date=2026-12-02")
    expect(organiser.get_by_test_id("day-2026-12-02")).to_contain_text("Roadmap planning")
    organiser.screenshot(path=str(artifacts / "e2e_calendar_month.png"), full_page=True)
    assert not [line for line in console if "Content Security Policy" in line or "error" in line], console

    # 5. The worker fans the invitation out; gao.yu finds it behind the bell and opens it.
    fan_out(live_server.database, config=DeliveryConfig())
    invitee = new_context().new_page()
    sign_in(invitee, base, "gao.yu")
    expect(invitee.locator("[data-fd-unread=notifications]")).to_have_text("1")
    invitee.get_by_test_id("bell").click()
    notice = invitee.get_by_test_id("notification").filter(has_text="Roadmap planning")
    expect(notice).to_have_count(1)
    notice.get_by_role("button").click()
    invitee.wait_for_url(re.compile(rf"/calendar/events/{event_id}$"))
    expect(invitee.get_by_test_id("my-answer")).to_have_text("Not answered yet")
    expect(invitee.get_by_test_id("decline")).to_be_visible()
    expect(invitee.get_by_test_id("edit")).to_have_count(0)

    # 6. Accepting shows on the page and in the organiser's view of the attendees.
    invitee.get_by_test_id("accept").click()
    expect(invitee.locator(".alert-success")).to_contain_text("You accepted the invitation.")
    expect(invitee.get_by_test_id("my-answer")).to_have_text("Accepted")
    organiser.goto(f"{base}/calendar/events/{event_id}")
    expect(organiser.get_by_test_id("answer-gao.yu")).to_have_text("Accepted")
    expect(organiser.get_by_test_id("answer-wang.fang")).to_have_text("Not answered yet")


def test_without_javascript_the_conflict_warning_comes_from_the_server(live_server, browser):
    plan(live_server, "li.na", title="Client call", starts_at="2026-12-09T14:00", ends_at="2026-12-09T15:00")
    context = browser.new_context(viewport=VIEWPORT, locale="en-US", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/login")
        page.fill("#username", "li.na")
        page.fill("#password", DEMO_PASSWORD)
        page.locator("form:has(#password) button[type=submit]").click()
        page.goto(f"{live_server.url}/calendar/events/new?date=2026-12-09&start=14:30")
        page.fill("#title", "Quote review")
        page.check("input[name=attendees][value='wang.fang']")
        before = event_count(live_server)
        page.get_by_test_id("save").click()
        expect(page.get_by_test_id("live-conflicts")).to_be_hidden()
        # The organiser's own calendar counts too, and she reads what the clash is.
        expect(page.get_by_test_id("clash")).to_have_text(re.compile(r"李娜 — Client call · 2026-12-09 14:00 – 15:00"))
        assert event_count(live_server) == before
        page.get_by_test_id("save-anyway").click()
        page.wait_for_url(re.compile(r"/calendar/events/\d+$"))
        assert event_count(live_server) == before + 1
    finally:
        context.close()

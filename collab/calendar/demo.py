"""Demo events so a fresh installation's calendars are not empty: team meetings, a project, visits, calls."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from instances.actors import Actor

from . import events
from .models import CalendarEvent

ZONE = "Asia/Shanghai"
# organiser, title, kind, weekday offset from this Monday, start, minutes, attendees, repeat, project, place
EVENTS = [
    ("li.na", "销售周例会 / Weekly sales meeting", "meeting", 0, time(10), 60,
     ["wang.fang", "liu.yang", "emma.chen"], {"freq": "weekly", "weekdays": ["MO"]}, None, "3F 会议室 A"),
    ("li.na", "CRM 上线项目周会 / CRM roll-out sync", "meeting", 2, time(15), 45,
     ["wang.fang", "luo.bin", "xu.hui"], {"freq": "weekly", "count": 8}, "crm_rollout", "线上 / Online"),
    ("wang.fang", "拜访华东客户 / Customer visit", "visit", 1, time(14), 120, [], None, None, "上海浦东"),
    ("emma.chen", "Call with distributor", "call", 3, time(9, 30), 30, ["li.na"], None, None, ""),
    ("zhang.wei", "月度全员会 / Monthly all-hands", "meeting", 4, time(16), 60,
     ["li.na", "zhao.lei", "zhou.min", "xu.hui", "guo.tao", "he.jun"],
     {"freq": "monthly", "monthday": "last"}, None, "大会议室"),
    ("he.jun", "架构评审 / Architecture review", "meeting", 1, time(10), 90, ["luo.bin", "gao.yu"], None, None,
     "5F 技术部"),
]


def load_demo_events(*, session: Session, today: date | None = None) -> int:
    """Create the demo events around this week, once; return how many were created."""
    if session.scalar(select(func.count()).select_from(CalendarEvent)):
        return 0
    today = today or date.today()
    monday = today - timedelta(days=today.weekday())
    for organizer, title, kind, offset, start, minutes, attendees, repeat, project, place in EVENTS:
        day = monday + timedelta(days=offset)
        begins = datetime.combine(day, start)
        fields = {"title": title, "kind": kind, "starts_at": begins.isoformat(),
                  "ends_at": (begins + timedelta(minutes=minutes)).isoformat(), "timezone": ZONE,
                  "attendees": attendees, "repeat": repeat, "project": project, "location": place,
                  "reminders": [15]}
        events.create_event(session=session, actor=Actor(organizer), fields=fields)
    return len(EVENTS)

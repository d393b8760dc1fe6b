"""Demo requests so a fresh installation's inboxes are not empty."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from instances import service
from instances.models import ProcessInstance

from . import service as org
from . import workcal
from .workcal_store import calendar_for_user

LEAVES = [  # who asks, type, first and last day (weeks and weekdays from now), reason, what happens next
    ("wang.fang", "annual", (2, 0), (2, 2), "陪家人旅行", None),
    ("liu.yang", "sick", (0, 3), (0, 3), "感冒发烧，需要休息一天", "approve"),
    ("emma.chen", "personal", (3, 0), (3, 4), "Moving to a new flat", "reject"),
    ("lin.xue", "annual", (2, 3), (2, 4), "参加朋友婚礼", None),
    ("gao.yu", "annual", (-1, 0), (-1, 1), "回老家办理房产手续", "approved"),  # approved by HR: in attendance
]
HR_CONFIRMS = "wu.qiang"


def _working_day(calendar, weeks: int, weekday: int, *, not_before: date | None = None) -> date:
    """Return the first working day from a weekday (0 = Monday) some weeks from this one (never a holiday)."""
    today = date.today()
    day = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks, days=weekday)
    day = max(day, not_before or day)
    return day if workcal.is_working_day(calendar, day) else workcal.next_working_day(calendar, day)


def load_demo_requests(*, session: Session) -> int:
    """Start a few leave requests in different states, once; return how many were started."""
    if session.scalar(select(func.count()).select_from(ProcessInstance)):
        return 0
    started = 0
    for username, kind, first, last, reason, outcome in LEAVES:
        user = org.get_user_or_raise(session=session, username=username)
        actor = org.actor_for(user)
        manager = user.superior.username if user.superior else "zhang.wei"
        calendar = calendar_for_user(session=session, username=username)
        first_day = _working_day(calendar, *first)
        last_day = _working_day(calendar, *last, not_before=first_day)
        instance = service.start_instance(session=session, key="leave_request", actor=actor, data={
            "leave_type": kind, "start_date": first_day.isoformat(), "end_date": last_day.isoformat(),
            "reason": reason, "manager": manager, "initiator_superior": manager})
        started += 1
        if outcome:
            boss = org.actor_for(org.get_user_or_raise(session=session, username=manager))
            [item] = service.list_open_work_items(session=session, instance_id=instance.id)
            comment = "Not this month, sorry: the launch is on." if outcome == "reject" else "同意，注意休息"
            service.complete_task(session=session, work_item_id=item.id, actor=boss,
                                  decision="reject" if outcome == "reject" else "approve", comment=comment)
        if outcome == "approved":
            hr = org.actor_for(org.get_user_or_raise(session=session, username=HR_CONFIRMS))
            [item] = service.list_open_work_items(session=session, instance_id=instance.id)
            service.claim_task(session=session, work_item_id=item.id, actor=hr)
            service.complete_task(session=session, work_item_id=item.id, actor=hr, decision="approve",
                                  comment="已核对假期余额")
    return started

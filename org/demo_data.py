"""Demo requests so a fresh installation's inboxes are not empty."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from instances import service
from instances.models import ProcessInstance

from . import service as org

LEAVES = [  # who asks, days, type, reason, what happens next
    ("wang.fang", 3, "annual", "陪家人旅行", None),
    ("liu.yang", 1, "sick", "感冒发烧，需要休息一天", "approve"),
    ("emma.chen", 5, "personal", "Moving to a new flat", "reject"),
    ("lin.xue", 2, "annual", "参加朋友婚礼", None),
]


def load_demo_requests(*, session: Session) -> int:
    """Start a few leave requests in different states, once; return how many were started."""
    if session.scalar(select(func.count()).select_from(ProcessInstance)):
        return 0
    started = 0
    for username, days, kind, reason, outcome in LEAVES:
        user = org.get_user_or_raise(session=session, username=username)
        actor = org.actor_for(user)
        manager = user.superior.username if user.superior else "zhang.wei"
        instance = service.start_instance(session=session, key="leave_request", actor=actor, data={
            "leave_type": kind, "start_date": "2026-12-14", "end_date": "2026-12-18", "days": days,
            "reason": reason, "manager": manager, "initiator_superior": manager})
        started += 1
        if outcome:
            boss = org.actor_for(org.get_user_or_raise(session=session, username=manager))
            [item] = service.list_open_work_items(session=session, instance_id=instance.id)
            comment = "同意，注意休息" if outcome == "approve" else "Not this month, sorry: the launch is on."
            service.complete_task(session=session, work_item_id=item.id, actor=boss, decision=outcome,
                                  comment=comment)
    return started

"""System notices: raised by the engine and the verbs, fanned out by each person's channels and quiet period."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from collab import notices
from collab.config import DeliveryConfig
from collab.errors import InvalidInput
from collab.fanout import fan_out
from collab.jobs import scan_due
from collab.models import NoticeSettings, Notification
from database.base import utcnow
from instances import service, verbs
from instances.models import OutboxMessage, WorkItem
from org import service as org

NO_MAIL = DeliveryConfig()
LEAVE = {"leave_type": "annual", "start_date": "2026-12-01", "end_date": "2026-12-03", "days": 3, "manager": "li.na"}


def actor(db, name):
    with db.query() as session:
        return org.actor_for(org.get_user_by_name(session=session, username=name))


def start(db, who="wang.fang"):
    with db.command() as session:
        return service.start_instance(session=session, key="leave_request", actor=actor(db, who), data=dict(LEAVE)).id


def open_item(db, iid):
    with db.query() as session:
        [item] = service.list_open_work_items(session=session, instance_id=iid)
        return item


def kinds_for(db, username):
    fan_out(db, config=NO_MAIL)
    with db.query() as session:
        return [n.kind for n in session.scalars(select(Notification).where(Notification.username == username)
                                                .order_by(Notification.id))]


def test_a_new_task_notifies_its_assignee_and_a_group_task_its_members(org_db):
    iid = start(org_db)
    assert kinds_for(org_db, "li.na") == ["task_assigned"]
    item = open_item(org_db, iid)
    with org_db.command() as session:
        service.complete_task(session=session, work_item_id=item.id, actor=actor(org_db, "li.na"),
                              decision="approve")
    hr_item = open_item(org_db, iid)
    assert hr_item.assignee is None and hr_item.candidate_groups
    assert kinds_for(org_db, "zhou.min") == ["task_assigned"] and kinds_for(org_db, "wu.qiang") == ["task_assigned"]
    with org_db.query() as session:
        notice = session.scalar(select(Notification).where(Notification.username == "zhou.min"))
        assert notice.link == f"/tasks/{hr_item.id}" and notice.instance_id == iid
    with org_db.command() as session:  # zhou.min claims: wu.qiang hears it is gone, zhou.min does not
        service.claim_task(session=session, work_item_id=hr_item.id, actor=actor(org_db, "zhou.min"))
    assert kinds_for(org_db, "wu.qiang") == ["task_assigned", "task_claimed"]
    assert kinds_for(org_db, "zhou.min") == ["task_assigned"]
    with org_db.command() as session:
        service.complete_task(session=session, work_item_id=hr_item.id, actor=actor(org_db, "zhou.min"),
                              decision="approve")
    assert kinds_for(org_db, "wang.fang") == ["approved"]


def test_rejection_ends_with_a_rejected_notice(org_db):
    iid = start(org_db)
    with org_db.command() as session:
        service.complete_task(session=session, work_item_id=open_item(org_db, iid).id,
                              actor=actor(org_db, "li.na"), decision="reject", comment="busy month")
    with org_db.query() as session:
        status = service.get_instance_or_raise(session=session, instance_id=iid).status
    assert kinds_for(org_db, "wang.fang") == (["rejected"] if status == "completed" else ["returned"])
    with org_db.query() as session:
        assert session.scalar(select(Notification.body).where(Notification.username == "wang.fang")) == "busy month"


def test_verbs_notify_with_their_kinds(org_db):
    iid = start(org_db)
    item = open_item(org_db, iid)
    with org_db.command() as session:
        verbs.urge_task(session=session, work_item_id=item.id, actor=actor(org_db, "wang.fang"), comment="please")
        verbs.copy_instance(session=session, instance_id=iid, actor=actor(org_db, "wang.fang"), to_users=["liu.yang"])
        verbs.transfer_task(session=session, work_item_id=item.id, actor=actor(org_db, "li.na"), to_user="zhang.wei")
    assert kinds_for(org_db, "li.na") == ["task_assigned", "urged"]
    assert kinds_for(org_db, "liu.yang") == ["copied"]
    assert kinds_for(org_db, "zhang.wei") == ["transferred"]


def test_nothing_is_queued_for_a_transaction_that_rolled_back(org_db):
    with pytest.raises(RuntimeError), org_db.command() as session:
        service.start_instance(session=session, key="leave_request", actor=actor(org_db, "wang.fang"),
                               data=dict(LEAVE))
        raise RuntimeError("the request failed after the change")
    with org_db.query() as session:
        assert session.scalars(select(OutboxMessage)).all() == []
    assert fan_out(org_db, config=NO_MAIL) == 0 and kinds_for(org_db, "li.na") == []


def test_overdue_and_due_soon_are_raised_once_per_item(org_db):
    iid = start(org_db)
    item = open_item(org_db, iid)
    now = utcnow()
    with org_db.command() as session:
        session.execute(update(WorkItem).where(WorkItem.id == item.id).values(due_at=now + timedelta(hours=3)))
    assert scan_due(org_db, config=NO_MAIL, now=now) == 1
    assert scan_due(org_db, config=NO_MAIL, now=now) == 0
    assert scan_due(org_db, config=NO_MAIL, now=now + timedelta(hours=4)) == 1
    assert scan_due(org_db, config=NO_MAIL, now=now + timedelta(hours=5)) == 0
    assert kinds_for(org_db, "li.na") == ["task_assigned", "due_soon", "overdue"]
    # A day past due it goes up to li.na's superior, once; li.na hears nothing more.
    assert scan_due(org_db, config=NO_MAIL, now=now + timedelta(hours=26)) == 0
    assert scan_due(org_db, config=NO_MAIL, now=now + timedelta(hours=28)) == 1
    assert scan_due(org_db, config=NO_MAIL, now=now + timedelta(hours=29)) == 0
    assert kinds_for(org_db, "zhang.wei") == ["escalated"]
    assert kinds_for(org_db, "li.na") == ["task_assigned", "due_soon", "overdue"]
    with org_db.query() as session:
        notice = session.scalar(select(Notification).where(Notification.username == "zhang.wei"))
        assert notice.link == f"/tasks/{item.id}" and notice.body == "li.na"


def test_channels_per_kind_and_bad_preferences(org_db):
    with org_db.command() as session:
        chosen = notices.save_preferences(session=session, username="li.na", channels={"urged": [],
                                                                                        "copied": ["app", "chat"]},
                                          quiet_start="22:00", quiet_end="08:00", timezone="Asia/Shanghai")
        assert chosen["urged"] == [] and chosen["copied"] == ["app", "chat"] and chosen["approved"] == ["app", "email"]
        for kw, field in (({"channels": {"urged": ["sms"]}}, "channels"), ({"channels": {"nope": []}}, "channels"),
                          ({"quiet_start": "25:00", "quiet_end": "08:00"}, "quiet_start"),
                          ({"quiet_start": "22:00"}, "quiet_end"), ({"timezone": "Mars/Base"}, "timezone")):
            with pytest.raises(InvalidInput) as refused:
                notices.save_preferences(session=session, username="li.na", **kw)
            assert refused.value.details["field"] == field
    iid = start(org_db)
    with org_db.command() as session:
        verbs.urge_task(session=session, work_item_id=open_item(org_db, iid).id, actor=actor(org_db, "wang.fang"))
    assert kinds_for(org_db, "li.na") == ["task_assigned"]  # urged: no channel chosen, nothing arrives


@pytest.mark.parametrize("utc_clock, expected", [
    ("2026-11-27T15:00:00", "2026-11-28T00:00:00"),   # 23:00 in Shanghai: wait until 08:00 local
    ("2026-11-27T23:30:00", "2026-11-28T00:00:00"),   # 07:30 local, after midnight
    ("2026-11-27T04:00:00", None),                     # noon local: no wait
])
def test_quiet_period_wraps_past_midnight_in_the_users_time_zone(utc_clock, expected):
    settings = NoticeSettings(username="x", timezone="Asia/Shanghai", quiet_start="22:00", quiet_end="08:00")
    now = datetime.fromisoformat(utc_clock).replace(tzinfo=timezone.utc)
    ends = notices.quiet_until(settings, "task_assigned", now)
    assert (ends.astimezone(timezone.utc).replace(tzinfo=None).isoformat() if ends else None) == expected
    assert notices.quiet_until(settings, "overdue", now) is None  # urgent kinds do not wait


def test_mark_read_one_and_all(org_db):
    start(org_db)
    start(org_db)
    fan_out(org_db, config=NO_MAIL)
    with org_db.command() as session:
        rows, total = notices.list_notifications(session=session, username="li.na")
        assert total == 2 and notices.unread_count(session=session, username="li.na") == 2
        assert notices.mark_read(session=session, username="li.na", ids=[rows[0].id]) == 1
        assert notices.mark_read(session=session, username="wang.fang", ids=[rows[1].id]) == 0  # not theirs
    with org_db.command() as session:
        assert notices.unread_count(session=session, username="li.na") == 1
        assert notices.mark_read(session=session, username="li.na") == 1
        assert notices.list_notifications(session=session, username="li.na", unread_only=True)[1] == 0
        with pytest.raises(InvalidInput):
            notices.mark_read(session=session, username="li.na", ids=["1"])


def test_notice_titles_speak_the_readers_language_only():
    from collab import wording
    assert wording.title("task_assigned", "Manager approval / 主管审批", "zh_CN") == "新任务: 主管审批"
    label = wording.kind_label("returned", "en")
    assert wording.title("returned", "Leave request / 请假申请 · Manager approval / 主管审批", "en") == \
        f"{label}: Leave request · Manager approval"
    assert wording.title("copied", "Plain title", "en").endswith(": Plain title")


def test_a_record_notice_links_to_the_record():
    from collab.fanout import link_for
    assert link_for({"kind": "record_assigned", "record_id": 7, "record_type": "customer"}) == "/records/customer/7"


def test_a_follow_up_moment_reminds_the_holder_once_before_the_due_time(org_db):
    iid = start(org_db)
    item = open_item(org_db, iid)
    now = utcnow()
    with org_db.command() as session:
        session.execute(update(WorkItem).where(WorkItem.id == item.id).values(
            due_at=now + timedelta(days=3), follow_up_at=now + timedelta(days=1)))
    assert scan_due(org_db, config=NO_MAIL, now=now) == 0
    assert scan_due(org_db, config=NO_MAIL, now=now + timedelta(days=1, minutes=1)) == 1
    assert scan_due(org_db, config=NO_MAIL, now=now + timedelta(days=1, hours=2)) == 0
    assert kinds_for(org_db, "li.na") == ["task_assigned", "due_soon"]
    # Past the due time the follow-up is not sent any more: the overdue notice says more.
    other = open_item(org_db, start(org_db))
    with org_db.command() as session:
        session.execute(update(WorkItem).where(WorkItem.id == other.id).values(
            due_at=now + timedelta(hours=1), follow_up_at=now))
    assert scan_due(org_db, config=NO_MAIL, now=now + timedelta(hours=2)) == 1  # overdue only

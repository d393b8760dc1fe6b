"""Internal messages: people, departments and groups, read state, threads, attachments, reminders."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from attachments import service as attachments
from collab import service
from collab.config import DeliveryConfig
from collab.errors import InvalidInput, NotFound
from collab.fanout import fan_out
from collab.models import Notification
from database.base import utcnow
from instances.models import OutboxMessage

NO_MAIL = DeliveryConfig()


def send(db, **kw):
    with db.command() as session:
        return service.send_message(session=session, **kw).id


def inbox(db, username):
    with db.query() as session:
        rows, total = service.list_inbox(session=session, username=username)
        return [(m.subject, r.read_at is not None) for m, r in rows], total


def unread(db, username):
    with db.query() as session:
        return service.unread_count(session=session, username=username)


def test_one_to_one_message_with_read_state(org_db):
    mid = send(org_db, sender="wang.fang", to_users=["li.na"], subject="Visit ACME", body="Tomorrow 10:00?")
    assert inbox(org_db, "li.na") == ([("Visit ACME", False)], 1)
    assert unread(org_db, "li.na") == 1 and unread(org_db, "wang.fang") == 0
    with org_db.command() as session:
        [message] = service.get_thread(session=session, message_id=mid, username="li.na")
        assert message.body == "Tomorrow 10:00?"
    assert inbox(org_db, "li.na") == ([("Visit ACME", True)], 1)
    assert unread(org_db, "li.na") == 0
    with org_db.query() as session:
        sent, total = service.list_sent(session=session, username="wang.fang")
        assert [m.subject for m in sent] == ["Visit ACME"] and total == 1


def test_department_and_group_expand_to_their_members_at_send_time(org_db):
    mid = send(org_db, sender="admin", to_departments=["hr"], to_groups=["crm_rollout"], subject="Kick-off",
               body="Monday")
    with org_db.query() as session:
        message = service.get_message_or_raise(session=session, message_id=mid, username="admin")
        assert sorted(r.username for r in message.recipients) == [
            "li.na", "luo.bin", "wang.fang", "wu.qiang", "xu.hui", "zhou.min"]
        assert message.audience == {"users": [], "departments": ["hr"], "groups": ["crm_rollout"]}


def test_only_sender_and_recipients_see_a_message(org_db):
    mid = send(org_db, sender="wang.fang", to_users=["li.na"], subject="Private", body="x")
    with org_db.query() as session, pytest.raises(NotFound):
        service.get_thread(session=session, message_id=mid, username="liu.yang")


def test_replies_form_a_thread_that_reaches_every_participant(org_db):
    first = send(org_db, sender="wang.fang", to_users=["li.na", "liu.yang"], subject="Pricing", body="10%?")
    reply = send(org_db, sender="li.na", reply_to=first, body="8% max")
    again = send(org_db, sender="wang.fang", reply_to=reply, body="OK")
    with org_db.command() as session:
        thread = service.get_thread(session=session, message_id=again, username="liu.yang")
        assert [(m.sender, m.body) for m in thread] == [("wang.fang", "10%?"), ("li.na", "8% max"),
                                                        ("wang.fang", "OK")]
        assert {m.thread_id for m in thread[1:]} == {first} and thread[1].subject == "Re: Pricing"
        assert sorted(r.username for r in thread[1].recipients) == ["liu.yang", "wang.fang"]


def test_attachments_are_the_senders_uploads_only(org_db, tmp_path):
    with org_db.command() as session:
        mine = attachments.store(session=session, store_dir=tmp_path, stream=io.BytesIO(b"quote"),
                                 file_name="quote.txt", actor="wang.fang", max_bytes=1000).id
        theirs = attachments.store(session=session, store_dir=tmp_path, stream=io.BytesIO(b"secret"),
                                   file_name="salary.txt", actor="zhou.min", max_bytes=1000).id
    mid = send(org_db, sender="wang.fang", to_users=["li.na"], subject="Quote", body="see file", attachment_ids=[mine])
    with org_db.query() as session:
        assert service.get_message_or_raise(session=session, message_id=mid, username="li.na").attachment_ids == [mine]
    with org_db.command() as session, pytest.raises(NotFound) as refused:
        service.send_message(session=session, sender="wang.fang", to_users=["li.na"], subject="x", body="y",
                             attachment_ids=[theirs])
    assert refused.value.details["field"] == "attachment_ids"


@pytest.mark.parametrize("kw, field", [
    ({"to_users": ["nobody"]}, "to_users"), ({"to_departments": ["nope"]}, "to_departments"),
    ({"to_groups": "crm_rollout"}, "to_groups"), ({"to_users": ["li.na"], "subject": ""}, "subject"),
    ({"to_users": ["li.na"], "body": 5}, "body"), ({"to_users": ["li.na"], "attachment_ids": ["1"]}, "attachment_ids"),
    ({"to_users": ["li.na"], "remind_at": "tomorrow"}, "remind_at"), ({}, "to_users"),
])
def test_bad_messages_are_refused_naming_the_field(org_db, kw, field):
    args = {"subject": "s", "body": "b", **kw}
    with org_db.command() as session, pytest.raises((InvalidInput, NotFound)) as refused:
        service.send_message(session=session, sender="wang.fang", **args)
    assert refused.value.details["field"] == field


def test_a_reminder_becomes_a_notice_when_its_time_comes(org_db):
    now = utcnow()
    send(org_db, sender="wang.fang", to_users=["li.na"], subject="Call ACME", body="about the renewal",
         remind_at=now + timedelta(hours=2), remind="me", now=now)
    fan_out(org_db, config=NO_MAIL, now=now + timedelta(minutes=5))
    with org_db.query() as session:
        assert session.scalars(select(Notification).where(Notification.kind == "reminder")).all() == []
    fan_out(org_db, config=NO_MAIL, now=now + timedelta(hours=2, seconds=1))
    with org_db.query() as session:
        [notice] = session.scalars(select(Notification).where(Notification.kind == "reminder")).all()
        assert (notice.username, notice.title) == ("wang.fang", "提醒: Call ACME")  # wang.fang reads Chinese
        assert notice.link.startswith("/messages/")
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "notification")).all()
        assert {r.status for r in rows} == {"sent"}


def test_reminding_them_reaches_every_recipient(org_db):
    now = utcnow()
    send(org_db, sender="admin", to_departments=["hr"], subject="Forms", body="due Friday",
         remind_at=now + timedelta(days=1), remind="them", now=now)
    fan_out(org_db, config=NO_MAIL, now=now + timedelta(days=1, seconds=1))
    with org_db.query() as session:
        assert sorted(session.scalars(select(Notification.username).where(Notification.kind == "reminder"))) == [
            "wu.qiang", "zhou.min"]

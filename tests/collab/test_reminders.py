"""Message reminders: who sees which pending ones, who may cancel, and that a cancelled one never fires."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from collab import service
from collab.config import DeliveryConfig
from collab.errors import Conflict, NotFound
from collab.fanout import fan_out
from collab.models import Notification
from database.base import utcnow
from instances.models import OutboxMessage

NO_MAIL = DeliveryConfig()


def send(db, **kw) -> int:
    with db.command() as session:
        return service.send_message(session=session, **kw).id


def reminders(db, username):
    with db.query() as session:
        rows, total = service.list_reminders(session=session, username=username)
        assert total == len(rows)
        return [(r.subject, r.to, r.set_by) for r in rows]


def reminder_ids(db, username) -> list[int]:
    with db.query() as session:
        return [r.id for r in service.list_reminders(session=session, username=username)[0]]


def cancel(db, reminder_id, username):
    with db.command() as session:
        return service.cancel_reminder(session=session, reminder_id=reminder_id, username=username)


def reminder_notices(db) -> list[str]:
    with db.query() as session:
        return sorted(session.scalars(select(Notification.username).where(Notification.kind == "reminder")))


def test_the_sender_sees_every_reminder_they_set_and_a_recipient_those_coming_to_them(org_db):
    now = utcnow()
    mine = send(org_db, sender="wang.fang", to_users=["li.na"], subject="Call ACME", body="renewal",
                remind_at=now + timedelta(hours=3), remind="me", now=now)
    send(org_db, sender="wang.fang", to_users=["li.na", "liu.yang"], subject="Forms", body="due Friday",
         remind_at=now + timedelta(hours=1), remind="them", now=now)
    send(org_db, sender="li.na", to_users=["liu.yang"], subject="Unrelated", body="x",
         remind_at=now + timedelta(hours=2), remind="me", now=now)
    # Soonest first; a "remind them" reminder is one per recipient.
    assert reminders(org_db, "wang.fang") == [("Forms", "li.na", "wang.fang"), ("Forms", "liu.yang", "wang.fang"),
                                              ("Call ACME", "wang.fang", "wang.fang")]
    assert reminders(org_db, "li.na") == [("Forms", "li.na", "wang.fang"), ("Unrelated", "li.na", "li.na")]
    assert reminders(org_db, "liu.yang") == [("Forms", "liu.yang", "wang.fang")]
    assert reminders(org_db, "emma.chen") == []
    with org_db.query() as session:
        [first, *_] = service.list_reminders(session=session, username="wang.fang")[0]
        assert first.remind_at == now + timedelta(hours=1)
        later = service.list_reminders(session=session, username="wang.fang")[0][-1]
        assert later.message_id == mine
        page, total = service.list_reminders(session=session, username="wang.fang", page=2, page_size=2)
        assert [r.subject for r in page] == ["Call ACME"] and total == 3


def test_a_cancelled_reminder_is_not_delivered_when_the_worker_runs_after_its_time(org_db):
    now = utcnow()
    send(org_db, sender="wang.fang", to_users=["li.na"], subject="Call ACME", body="renewal",
         remind_at=now + timedelta(hours=2), remind="me", now=now)
    send(org_db, sender="wang.fang", to_users=["li.na"], subject="Keep this", body="x",
         remind_at=now + timedelta(hours=2), remind="me", now=now)
    fan_out(org_db, config=NO_MAIL, now=now)  # the message notices themselves go now
    [to_cancel, to_keep] = reminder_ids(org_db, "wang.fang")
    cancelled = cancel(org_db, to_cancel, "wang.fang")
    assert (cancelled.subject, cancelled.to) == ("Call ACME", "wang.fang")
    assert reminder_ids(org_db, "wang.fang") == [to_keep]
    assert fan_out(org_db, config=NO_MAIL, now=now + timedelta(hours=2, seconds=1)) == 1
    with org_db.query() as session:
        [notice] = session.scalars(select(Notification).where(Notification.kind == "reminder")).all()
        assert notice.title.endswith("Keep this")
        row = session.get(OutboxMessage, to_cancel)
        assert row.status == "cancelled" and row.sent_at is None and row.payload["cancelled_by"] == "wang.fang"
    assert fan_out(org_db, config=NO_MAIL, now=now + timedelta(days=2)) == 0  # and never later either
    with pytest.raises(Conflict) as again:
        cancel(org_db, to_cancel, "wang.fang")
    assert again.value.details == {"id": to_cancel, "status": "cancelled"}


def test_only_the_sender_may_cancel_even_a_reminder_for_the_recipients(org_db):
    now = utcnow()
    send(org_db, sender="wang.fang", to_users=["li.na"], subject="Forms", body="due Friday",
         remind_at=now + timedelta(hours=1), remind="them", now=now)
    [reminder_id] = reminder_ids(org_db, "wang.fang")
    assert reminder_ids(org_db, "li.na") == [reminder_id]  # li.na sees it coming ...
    for someone_else in ("li.na", "liu.yang", "admin"):  # ... but neither she nor anyone else may cancel it
        with pytest.raises(NotFound) as refused:
            cancel(org_db, reminder_id, someone_else)
        assert refused.value.details == {"id": reminder_id}
    fan_out(org_db, config=NO_MAIL, now=now + timedelta(hours=1, seconds=1))
    assert reminder_notices(org_db) == ["li.na"]


def test_a_delivered_reminder_cannot_be_cancelled_and_says_so(org_db):
    now = utcnow()
    send(org_db, sender="wang.fang", to_users=["li.na"], subject="Call ACME", body="renewal",
         remind_at=now + timedelta(hours=1), remind="me", now=now)
    [reminder_id] = reminder_ids(org_db, "wang.fang")
    fan_out(org_db, config=NO_MAIL, now=now + timedelta(hours=1, seconds=1))
    assert reminder_notices(org_db) == ["wang.fang"] and reminder_ids(org_db, "wang.fang") == []
    with pytest.raises(Conflict) as refused:
        cancel(org_db, reminder_id, "wang.fang")
    assert "already delivered" in refused.value.message
    assert refused.value.details["status"] == "sent" and refused.value.details["sent_at"]


@pytest.mark.parametrize("bad", [0, -1, 2**63, True, "1", None])
def test_nonsense_ids_and_other_outbox_rows_are_not_reminders(org_db, bad):
    send(org_db, sender="wang.fang", to_users=["li.na"], subject="No reminder", body="x")
    with org_db.query() as session:
        message_notice = session.scalar(select(OutboxMessage.id).where(OutboxMessage.kind == "notification"))
    for reminder_id in (bad, message_notice):  # a message's own notice is no reminder, even for its sender
        with pytest.raises(NotFound):
            cancel(org_db, reminder_id, "wang.fang")

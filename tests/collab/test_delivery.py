"""Delivery through the outbox: real SMTP, retries with backoff, dead letters, resend, uncertain rows."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from audit.models import AuditEntry
from collab import delivery, service
from collab.errors import Conflict
from collab.fanout import fan_out
from database.base import utcnow
from instances.models import OutboxMessage


def rows(db, kind):
    with db.query() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


def send_message(db, **kw):
    with db.command() as session:
        return service.send_message(session=session, **kw).id


def urge_prefs(db, username, channels):
    from collab import notices
    with db.command() as session:
        notices.save_preferences(session=session, username=username, channels=channels)


def test_email_arrives_in_the_recipients_language_with_both_parts(org_db, smtp, config):
    inbox, _port = smtp
    urge_prefs(org_db, "li.na", {"message": ["email"]})
    urge_prefs(org_db, "emma.chen", {"message": ["email"]})
    send_message(org_db, sender="wang.fang", to_users=["li.na", "emma.chen"], subject="合同 ACME",
                 body="请看一下报价。\nThanks")
    assert fan_out(org_db, config=config) == 2
    assert [r.status for r in rows(org_db, "email")] == ["pending", "pending"]
    assert inbox.messages == []  # nothing leaves before the worker's delivery step
    assert delivery.deliver(org_db, config=config) == 2
    received = {to[0]: message for to, message in inbox.messages}
    assert set(received) == {"li.na@flowdesk.example", "emma.chen@flowdesk.example"}
    chinese, english = received["li.na@flowdesk.example"], received["emma.chen@flowdesk.example"]
    assert chinese["Subject"] == "[Flowdesk] 新消息: 合同 ACME" and english["Subject"] == "[Flowdesk] New message: 合同 ACME"
    assert chinese["From"] == "Flowdesk <noreply@flowdesk.test>" and chinese["Message-ID"].startswith("<outbox-")
    text = chinese.get_body(("plain",)).get_content()
    html = chinese.get_body(("html",)).get_content()
    assert "请看一下报价。" in text and "来自: wang.fang" in text and "https://flowdesk.test/messages/" in text
    assert "请看一下报价。<br>Thanks" in html and "在 Flowdesk 中打开" in html
    assert "Open in Flowdesk" in english.get_body(("plain",)).get_content()
    assert [r.status for r in rows(org_db, "email")] == ["sent", "sent"]
    assert delivery.deliver(org_db, config=config) == 0 and len(inbox.messages) == 2


def test_quiet_period_holds_email_until_it_ends(org_db, smtp, config):
    from collab import notices
    with org_db.command() as session:
        notices.save_preferences(session=session, username="li.na", channels={"message": ["email"]},
                                 quiet_start="00:00", quiet_end="23:59", timezone="UTC")
    send_message(org_db, sender="wang.fang", to_users=["li.na"], subject="Late", body="x")
    fan_out(org_db, config=config)
    [row] = rows(org_db, "email")
    assert row.next_attempt_at is not None and row.next_attempt_at > utcnow()
    assert delivery.deliver(org_db, config=config) == 0 and smtp[0].messages == []
    assert delivery.deliver(org_db, config=config, now=row.next_attempt_at + timedelta(seconds=1)) == 1


def test_a_refusing_server_is_retried_with_backoff_then_dead_lettered_and_resent(org_db, smtp, config):
    urge_prefs(org_db, "li.na", {"message": ["email"]})
    send_message(org_db, sender="wang.fang", to_users=["li.na"], subject="Hello", body="x")
    fan_out(org_db, config=config)
    down = replace(config, smtp_port=smtp[1] + 1 if smtp[1] < 65535 else 1)  # nobody listens there
    now = utcnow()
    assert delivery.deliver(org_db, config=down, now=now, max_attempts=3) == 0
    [row] = rows(org_db, "email")
    assert (row.status, row.attempts) == ("pending", 1) and row.next_attempt_at == now + timedelta(seconds=2)
    assert "Error" in row.last_error
    assert delivery.deliver(org_db, config=down, now=now + timedelta(seconds=1), max_attempts=3) == 0
    assert rows(org_db, "email")[0].attempts == 1  # backing off: not tried again yet
    delivery.deliver(org_db, config=down, now=now + timedelta(seconds=3), max_attempts=3)
    [row] = rows(org_db, "email")
    assert (row.attempts, row.next_attempt_at) == (2, now + timedelta(seconds=3 + 4))
    delivery.deliver(org_db, config=down, now=now + timedelta(seconds=8), max_attempts=3)
    [row] = rows(org_db, "email")
    assert row.status == "dead"
    with org_db.query() as session:
        dead, total = delivery.list_outbox(session=session, status="dead")
        assert [r.id for r in dead] == [row.id] and total == 1
    with org_db.command() as session:
        delivery.resend(session=session, row_id=row.id, actor="admin")
    with org_db.command() as session, pytest.raises(Conflict):
        delivery.resend(session=session, row_id=row.id, actor="admin")  # already pending
    assert delivery.deliver(org_db, config=config) == 1 and len(smtp[0].messages) == 1
    with org_db.query() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "outbox.resend")).all()
        assert (entry.actor, entry.object_id, entry.before) == ("admin", str(row.id), {"status": "dead"})


def test_a_row_left_sending_becomes_uncertain_not_resent(org_db, smtp, config):
    urge_prefs(org_db, "li.na", {"message": ["email"]})
    send_message(org_db, sender="wang.fang", to_users=["li.na"], subject="Once", body="x")
    fan_out(org_db, config=config)
    [row] = rows(org_db, "email")
    past = utcnow() - timedelta(hours=1)
    with org_db.command() as session:  # what a worker killed after its claim leaves behind
        session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id)
                        .values(status="sending", claimed_at=past, attempts=1))
    assert delivery.deliver(org_db, config=config) == 0 and smtp[0].messages == []
    [row] = rows(org_db, "email")
    assert row.status == "uncertain" and "may or may not" in row.last_error
    with org_db.command() as session:
        delivery.discard(session=session, row_id=row.id, actor="admin")
    assert rows(org_db, "email")[0].status == "discarded"
    with org_db.query() as session:
        assert session.scalar(select(AuditEntry.action).where(AuditEntry.object_type == "outbox")) == "outbox.discard"


def test_no_email_rows_without_an_smtp_server_or_an_address(org_db):
    from collab.config import DeliveryConfig
    urge_prefs(org_db, "li.na", {"message": ["email"]})
    send_message(org_db, sender="wang.fang", to_users=["li.na"], subject="x", body="y")
    fan_out(org_db, config=DeliveryConfig())
    assert rows(org_db, "email") == []

"""Chat robots: the JSON and signatures of WeCom, DingTalk, Feishu and Slack, posted to a local server."""
from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse

import pytest
from sqlalchemy import select

from audit.models import AuditEntry
from collab import delivery, notices, service, webhooks
from collab.errors import InvalidInput, NotFound
from collab.fanout import fan_out
from instances.models import OutboxMessage


def hook(db, **kw):
    with db.command() as session:
        return webhooks.save_webhook(session=session, actor="admin", **kw).id


def chat_message(db, config, to="li.na"):
    with db.command() as session:
        notices.save_preferences(session=session, username=to, channels={"message": ["chat"]})
        service.send_message(session=session, sender="wang.fang", to_users=[to], subject="报价 ACME", body="8% max")
    fan_out(db, config=config)
    return delivery.deliver(db, config=config)


def test_wecom_markdown(org_db, robot, config):
    hook(org_db, kind="wecom", name="Sales chat", url=f"{robot.url}/cgi-bin/webhook/send?key=abc")
    assert chat_message(org_db, config) == 1
    [post] = robot.received
    assert post["path"] == "/cgi-bin/webhook/send?key=abc"
    assert post["json"]["msgtype"] == "markdown"
    content = post["json"]["markdown"]["content"]
    assert "**New message / 新消息: 报价 ACME**" in content and "@li.na" in content
    assert "https://flowdesk.test/messages/" in content


def test_dingtalk_signs_timestamp_and_secret_in_the_query(org_db, robot, config):
    hook(org_db, kind="dingtalk", name="DT", url=f"{robot.url}/robot/send?access_token=t", secret="SECdd")
    chat_message(org_db, config)
    [post] = robot.received
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(post["path"]).query)
    stamp, sign = query["timestamp"][0], query["sign"][0]
    expected = base64.b64encode(hmac.new(b"SECdd", f"{stamp}\nSECdd".encode(), hashlib.sha256).digest()).decode()
    assert query["access_token"] == ["t"] and sign == expected and len(stamp) == 13
    assert post["json"]["msgtype"] == "markdown" and post["json"]["markdown"]["title"].startswith("New message")


def test_feishu_signs_in_the_body(org_db, robot, config):
    hook(org_db, kind="feishu", name="FS", url=f"{robot.url}/open-apis/bot/v2/hook/x", secret="fsecret")
    chat_message(org_db, config)
    body = robot.received[0]["json"]
    expected = base64.b64encode(hmac.new(f"{body['timestamp']}\nfsecret".encode(), b"",
                                         hashlib.sha256).digest()).decode()
    assert body["sign"] == expected and body["msg_type"] == "text" and "8% max" in body["content"]["text"]


def test_slack_text_with_a_verifiable_signature(org_db, robot, config):
    hook(org_db, kind="slack", name="Slack", url=f"{robot.url}/services/T/B/X", secret="slk")
    chat_message(org_db, config)
    [post] = robot.received
    stamp = post["headers"]["X-Slack-Request-Timestamp"]
    digest = hmac.new(b"slk", b"v0:" + stamp.encode() + b":" + post["raw"], hashlib.sha256).hexdigest()
    assert post["headers"]["X-Slack-Signature"] == f"v0={digest}" and "报价 ACME" in post["json"]["text"]


def test_a_department_robot_wins_over_the_organisations(org_db, robot, config):
    hook(org_db, kind="slack", name="Everyone", url=f"{robot.url}/org")
    hook(org_db, kind="slack", name="Sales", url=f"{robot.url}/sales", department_code="sales")
    chat_message(org_db, config, to="li.na")      # sales
    chat_message(org_db, config, to="zhou.min")   # hr: no robot of its own
    assert [p["path"] for p in robot.received] == ["/sales", "/org"]


def test_a_robot_error_is_retried_then_dead(org_db, robot, config):
    hook(org_db, kind="wecom", name="W", url=f"{robot.url}/w")
    robot.answers = [(200, b'{"errcode": 93000, "errmsg": "invalid webhook url"}'), (500, b"{}")]
    assert chat_message(org_db, config) == 0
    with org_db.query() as session:
        [row] = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "webhook")).all()
        assert row.status == "pending" and "93000" in row.last_error


def test_bad_webhooks_are_refused_and_changes_audited(org_db):
    for kw, field in (({"kind": "teams", "url": "https://x", "name": "n"}, "kind"),
                      ({"kind": "slack", "url": "ftp://x", "name": "n"}, "url"),
                      ({"kind": "slack", "url": "https://x", "name": ""}, "name")):
        with org_db.command() as session, pytest.raises(InvalidInput) as refused:
            webhooks.save_webhook(session=session, actor="admin", **kw)
        assert refused.value.details["field"] == field
    with org_db.command() as session, pytest.raises(NotFound):
        webhooks.save_webhook(session=session, actor="admin", kind="slack", url="https://x", name="n",
                              department_code="nope")
    hook_id = hook(org_db, kind="slack", name="S", url="https://hooks.slack.test/x", secret="s1")
    with org_db.command() as session:
        webhooks.delete_webhook(session=session, actor="admin", webhook_id=hook_id)
    with org_db.query() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "webhook")
                                       .order_by(AuditEntry.id)))
        assert actions == ["webhook.save", "webhook.delete"]
        assert "s1" not in str(session.scalars(select(AuditEntry.after)).all())

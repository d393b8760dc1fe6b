"""Notification and message pages, the unread counts the navigation polls, the admin outbox and webhooks."""
from __future__ import annotations

import io

from sqlalchemy import select, update

from audit.models import AuditEntry
from collab.config import DeliveryConfig
from collab.fanout import fan_out
from collab.models import Webhook
from instances.models import OutboxMessage

from .test_api import sign_in, start_leave


def counts(client):
    response = client.get("/notifications/counts.json")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def test_bell_badge_counts_update_without_a_page_reload(app, login):
    manager, employee = login("li.na"), login("wang.fang")
    page = manager.get("/notifications").get_data(as_text=True)
    assert 'data-testid="bell"' in page and "js/unread.js" in page and "<script>" not in page
    assert counts(manager) == {"notifications": 0, "messages": 0}
    start_leave(sign_in(app.test_client(), "wang.fang"))
    fan_out(app.extensions["flowdesk.database"], config=DeliveryConfig())
    response = employee.post("/messages/new", data={"to_users": ["li.na"], "subject": "Lunch?", "body": "12:00"})
    assert response.status_code == 302
    assert counts(manager) == {"notifications": 1, "messages": 1}
    page = manager.get("/notifications").get_data(as_text=True)
    # Written in li.na's language (English here): the kind's label and the task's own name, nothing mixed in.
    assert "<div>New task: Manager approval</div>" in page and "主管审批" not in page
    assert 'data-fd-unread="notifications">1<' in page
    thread = manager.get(response.headers["Location"]).get_data(as_text=True)
    assert "Lunch?" in thread and "12:00" in thread
    assert counts(manager)["messages"] == 0
    assert manager.post("/notifications/read", data={}).status_code == 302
    assert counts(manager) == {"notifications": 0, "messages": 0}


def test_open_a_notification_marks_it_read_and_follows_only_local_links(app, login):
    manager = login("li.na")
    start_leave(sign_in(app.test_client(), "wang.fang"))
    fan_out(app.extensions["flowdesk.database"], config=DeliveryConfig())
    api = sign_in(app.test_client(), "li.na")
    [notice] = api.get("/notifications").get_json()["items"]
    response = manager.post("/notifications/read", data={"id": notice["id"], "next": notice["link"]})
    assert response.headers["Location"].endswith(notice["link"]) and notice["link"].startswith("/tasks/")
    assert manager.post("/notifications/read", data={"id": "1", "next": "//evil.example"}).headers[
        "Location"].endswith("/notifications")
    assert manager.post("/notifications/read", data={"id": "abc"}).status_code == 302
    assert api.get("/notifications?unread=1").get_json()["total"] == 0


def test_messages_pages_compose_reply_and_attachments(app, login):
    employee, manager, stranger = login("wang.fang"), login("li.na"), login("liu.yang")
    page = employee.get("/messages/new").get_data(as_text=True)
    assert "李娜 (li.na)" in page and 'name="to_departments"' in page and 'name="to_groups"' in page
    response = employee.post("/messages/new", data={"to_users": ["li.na"], "subject": "Quote", "body": "attached",
                                                     "files": (io.BytesIO(b"price list"), "prices.txt")},
                             content_type="multipart/form-data")
    thread_url = response.headers["Location"]
    page = manager.get(thread_url).get_data(as_text=True)
    assert "prices.txt" in page
    link = page.split('href="')[[i for i, part in enumerate(page.split('href="')) if "/files/" in part][0]]
    download = link.split('"')[0]
    assert manager.get(download).data == b"price list"
    assert stranger.get(download).status_code == 404 and stranger.get(thread_url).status_code == 404
    reply = manager.post(thread_url, data={"body": "thanks"})
    assert reply.status_code == 302
    assert "thanks" in employee.get(reply.headers["Location"]).get_data(as_text=True)
    assert "Quote" in employee.get("/messages/sent").get_data(as_text=True)
    assert "Re: Quote" in employee.get("/messages").get_data(as_text=True)


def test_bad_message_forms_show_errors_not_server_errors(login):
    employee = login("wang.fang")
    for data, text in (({"subject": "x", "body": "y"}, "Name at least one"),
                       ({"to_users": ["nobody"], "subject": "x", "body": "y"}, "Name at least one"),
                       ({"to_users": ["li.na"], "subject": "", "body": "y"}, "Enter a subject"),
                       ({"to_users": ["li.na"], "subject": "x", "body": "y", "remind_at": "garbage"}, "future"),
                       ({"to_departments": ["nope"], "subject": "x", "body": "y"}, "No such department")):
        response = employee.post("/messages/new", data=data)
        assert response.status_code == 400 and text in response.get_data(as_text=True), data
    assert employee.get("/messages/999999999999999999999").status_code == 404
    assert employee.get("/messages?page=abc").status_code == 200
    assert employee.get("/notifications?page=-3").status_code == 200


def test_notification_settings_page(login):
    manager = login("li.na")
    page = manager.get("/account/notifications").get_data(as_text=True)
    assert 'name="urged.email"' in page and "Asia/Shanghai" in page
    response = manager.post("/account/notifications", data={"urged.app": "1", "quiet_start": "22:00",
                                                             "quiet_end": "08:00", "timezone": "Europe/Berlin"})
    assert response.status_code == 302
    page = manager.get("/account/notifications").get_data(as_text=True)
    assert 'value="22:00"' in page and "Europe/Berlin" in page
    assert 'name="urged.email" value="1" aria-label="Reminder from the requester – Email">' in page  # unchecked now
    bad = manager.post("/account/notifications", data={"quiet_start": "22:00", "timezone": "UTC"})
    assert bad.status_code == 400 and "Enter both times" in bad.get_data(as_text=True)
    assert login("zhou.min", lang="zh").get("/account/notifications").get_data(as_text=True).count("催办") >= 1


def test_admin_outbox_filters_resend_and_audit(app, login):
    database = app.extensions["flowdesk.database"]
    with database.command() as session:
        session.add(OutboxMessage(kind="email", status="dead", attempts=5, last_error="SMTPRecipientsRefused",
                                  payload={"to": "x@example.com", "subject": "Hello there"}))
        session.add(OutboxMessage(kind="email", status="sent", payload={"to": "y@example.com", "subject": "Fine"}))
    assert login("wang.fang").get("/admin/outbox").status_code == 403
    admin = login("admin")
    page = admin.get("/admin/outbox?status=dead").get_data(as_text=True)
    assert "Hello there" in page and "Fine" not in page and "SMTPRecipientsRefused" in page
    assert admin.get("/admin/outbox?status=bogus&kind=x&page=zz").status_code == 200
    chinese = login("admin", lang="zh_CN").get("/admin/outbox").get_data(as_text=True)
    for label in ("待发送", "已放弃", "不确定", "流程消息", "通知"):  # statuses and kinds by name, not code
        assert label in chinese, label
    assert ">dead<" not in chinese and ">bpmn_message<" not in chinese
    with database.query() as session:
        row_id = session.scalar(select(OutboxMessage.id).where(OutboxMessage.status == "dead"))
    assert admin.post(f"/admin/outbox/{row_id}/resend", data={}).status_code == 302
    assert admin.post(f"/admin/outbox/{row_id}/resend", data={}).status_code == 302  # conflict: flashed, not 5xx
    assert admin.post("/admin/outbox/99999/discard", data={}).status_code == 302
    with database.query() as session:
        assert session.get(OutboxMessage, row_id).status == "pending"
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "outbox.resend")).all()
        assert entry.actor == "admin"
    with database.command() as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(status="uncertain"))
    assert admin.post(f"/admin/outbox/{row_id}/discard", data={}).status_code == 302
    with database.query() as session:
        assert session.get(OutboxMessage, row_id).status == "discarded"


def test_admin_webhooks_page(app, login):
    admin = login("admin")
    assert login("li.na").get("/admin/webhooks").status_code == 403
    assert "WeCom" in admin.get("/admin/webhooks").get_data(as_text=True)
    response = admin.post("/admin/webhooks", data={"name": "Sales robot", "kind": "dingtalk", "enabled": "1",
                                                   "url": "https://oapi.dingtalk.com/robot/send?access_token=x",
                                                   "secret": "SEC1", "department_code": "sales"})
    assert response.status_code == 302
    page = admin.get("/admin/webhooks").get_data(as_text=True)
    assert "Sales robot" in page and "SEC1" not in page
    bad = admin.post("/admin/webhooks", data={"name": "x", "kind": "teams", "url": "https://x"})
    assert bad.status_code == 400
    with app.extensions["flowdesk.database"].query() as session:
        hook_id = session.scalar(select(Webhook.id))
    assert admin.post(f"/admin/webhooks/{hook_id}/delete").status_code == 302
    assert admin.post("/admin/webhooks/424242/delete").status_code == 302


def test_messages_and_notifications_api(app, client):
    employee, manager = sign_in(client, "wang.fang"), sign_in(app.test_client(), "li.na")
    first = employee.post("/messages", json={"to_departments": ["sales"], "subject": "Team",
                                                    "body": "Friday"}).get_json()
    assert sorted(r["username"] for r in first["recipients"]) == ["emma.chen", "li.na", "liu.yang"]
    listed = manager.get("/messages").get_json()
    assert listed["unread"] == 1 and listed["items"][0]["recipients"] == [{"username": "li.na", "read_at": None}]
    reply = manager.post("/messages", json={"reply_to": first["id"], "body": "OK",
                                                   "remind_at": "2099-01-01T09:00:00+08:00"})
    assert reply.status_code == 400 and reply.get_json()["error"]["details"]["field"] == "remind_at"
    reply = manager.post("/messages", json={"reply_to": first["id"], "body": "OK"}).get_json()
    thread = employee.get(f"/messages/{reply['id']}").get_json()
    assert [m["body"] for m in thread["messages"]] == ["Friday", "OK"] and thread["thread_id"] == first["id"]
    assert employee.get("/messages?box=sent").get_json()["total"] == 1
    for body in ({"to_users": "li.na", "subject": "x", "body": "y"}, {"reply_to": "1", "body": "y"},
                 {"to_users": ["li.na"], "subject": "x", "body": "y", "attachment_ids": [True]},
                 {"to_users": ["li.na"], "subject": "x", "body": "y", "remind": "everyone"}):
        response = employee.post("/messages", json=body)
        assert response.status_code == 400, body
    assert employee.post("/messages", json={"reply_to": 987654, "body": "y"}).status_code == 404
    assert employee.post("/notifications/read", json={}).status_code == 400
    assert employee.post("/notifications/read", json={"ids": []}).get_json() == {"marked": 0, "unread": 0}

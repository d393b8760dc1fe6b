"""My reminders: the page with its cancel buttons and the API, checked against the OpenAPI document."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from jsonschema import Draft202012Validator
from sqlalchemy import select

from collab.config import DeliveryConfig
from collab.fanout import fan_out
from collab.models import Notification

from .test_api import sign_in

LATER = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=2)


def send_with_reminder(api, remind: str = "me", subject: str = "Quote for ACME", to=("li.na",)) -> dict:
    response = api.post("/messages", json={"to_users": list(to), "subject": subject, "body": "see attached",
                                           "remind_at": LATER.isoformat(), "remind": remind})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def reminder_notices(app) -> list[str]:
    with app.extensions["flowdesk.database"].query() as session:
        return sorted(session.scalars(select(Notification.username).where(Notification.kind == "reminder")))


def run_worker_after_the_reminder(app) -> None:
    fan_out(app.extensions["flowdesk.database"], config=DeliveryConfig(), now=LATER + timedelta(seconds=1))


def check_against_document(app, template: str, method: str, status: int, body) -> None:
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    answer = document["paths"][template][method]["responses"][str(status)]
    if "$ref" in answer:
        answer = document["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    schema = {"components": document["components"], **answer["content"]["application/json"]["schema"]}
    assert [e.message for e in Draft202012Validator(schema).iter_errors(body)] == []


def test_the_page_lists_reminders_and_only_their_setter_can_cancel(app, login):
    sender_api = sign_in(app.test_client(), "wang.fang")
    send_with_reminder(sender_api, remind="me", subject="Call ACME back")
    send_with_reminder(sender_api, remind="them", subject="Sign the contract")
    sender, recipient, stranger = login("wang.fang"), login("li.na"), login("liu.yang")
    assert 'data-testid="reminders-link"' in sender.get("/messages").get_data(as_text=True)
    page = sender.get("/messages/reminders").get_data(as_text=True)
    assert page.count('data-testid="reminder"') == 2 and page.count('data-testid="cancel-reminder"') == 2
    assert "Call ACME back" in page and "Sign the contract" in page and "李娜" in page  # whom, by name
    page = recipient.get("/messages/reminders").get_data(as_text=True)
    assert "Sign the contract" in page and "Call ACME back" not in page
    assert 'data-testid="cancel-reminder"' not in page  # she sees it coming but cannot cancel it
    assert 'data-testid="no-reminders"' in stranger.get("/messages/reminders").get_data(as_text=True)
    ids = [r["id"] for r in sender_api.get("/messages/reminders").get_json()["items"]]
    contract = [r["id"] for r in sender_api.get("/messages/reminders").get_json()["items"]
                if r["subject"] == "Sign the contract"][0]
    assert recipient.post(f"/messages/reminders/{contract}/cancel").status_code == 404
    assert stranger.post(f"/messages/reminders/{contract}/cancel").status_code == 404
    assert sender.post("/messages/reminders/987654321/cancel").status_code == 404
    response = sender.post(f"/messages/reminders/{contract}/cancel")
    assert response.status_code == 302 and response.headers["Location"].endswith("/messages/reminders")
    page = sender.get("/messages/reminders").get_data(as_text=True)
    assert "Reminder cancelled" in page and "Sign the contract" not in page and len(ids) == 2
    run_worker_after_the_reminder(app)
    assert reminder_notices(app) == ["wang.fang"]  # the cancelled one never reached li.na
    response = sender.post(f"/messages/reminders/{[i for i in ids if i != contract][0]}/cancel",
                           follow_redirects=True)
    assert "already delivered" in response.get_data(as_text=True)


def test_reminders_api_lists_cancels_and_refuses_clearly(app, client):
    sender, recipient = sign_in(client, "wang.fang"), sign_in(app.test_client(), "li.na")
    message = send_with_reminder(sender, remind="them")
    listed = sender.get("/messages/reminders").get_json()
    check_against_document(app, "/messages/reminders", "get", 200, listed)
    [reminder] = listed["items"]
    assert reminder == {"id": reminder["id"], "message_id": message["id"], "subject": "Quote for ACME",
                        "to": "li.na", "set_by": "wang.fang", "remind_at": reminder["remind_at"],
                        "status": "pending", "may_cancel": True}
    assert datetime.fromisoformat(reminder["remind_at"]) == LATER
    assert recipient.get("/messages/reminders").get_json()["items"][0]["may_cancel"] is False
    url = f"/messages/reminders/{reminder['id']}/cancel"
    refused = recipient.post(url, json={})
    assert refused.status_code == 404 and refused.get_json()["error"]["code"] == "not_found"
    check_against_document(app, "/messages/reminders/{reminder_id}/cancel", "post", 404, refused.get_json())
    assert sender.post(url, json={"why": "x"}).status_code == 400
    cancelled = sender.post(url)
    assert cancelled.status_code == 200, cancelled.get_data(as_text=True)
    check_against_document(app, "/messages/reminders/{reminder_id}/cancel", "post", 200, cancelled.get_json())
    assert cancelled.get_json()["status"] == "cancelled" and cancelled.get_json()["may_cancel"] is False
    assert sender.get("/messages/reminders").get_json()["total"] == 0
    again = sender.post(url)
    assert again.status_code == 409 and again.get_json()["error"]["details"]["status"] == "cancelled"
    run_worker_after_the_reminder(app)
    assert reminder_notices(app) == []


def test_a_delivered_reminder_cannot_be_cancelled_through_the_api(app, client):
    sender = sign_in(client, "wang.fang")
    send_with_reminder(sender, remind="me")
    [reminder] = sender.get("/messages/reminders").get_json()["items"]
    run_worker_after_the_reminder(app)
    assert reminder_notices(app) == ["wang.fang"]
    response = sender.post(f"/messages/reminders/{reminder['id']}/cancel")
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert "already delivered" in error["message"] and error["details"]["status"] == "sent"
    check_against_document(app, "/messages/reminders/{reminder_id}/cancel", "post", 409, response.get_json())

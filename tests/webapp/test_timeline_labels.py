"""The history timeline names every kind of entry the engine writes, including self-approval outcomes."""
from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

WHEN = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)


def render(app, *entries) -> str:
    history = [SimpleNamespace(element_id="approve", actor="system", at=WHEN, **entry) for entry in entries]
    with app.test_request_context("/"):
        return app.jinja_env.get_template("instances/_timeline.html").render(history=history)


def test_a_skipped_and_a_redirected_approval_are_named(app):
    html = render(app, {"type": "task_skipped", "details": {"policy": "skip", "approver": "alice",
                                                            "decision": "approved"}},
                  {"type": "task_redirected", "details": {"for": "alice", "to": "bob", "via": "superior"}})
    assert "Skipped: the approver is the requester" in html and "Approved" in html
    assert "Sent to the superior: the approver is the requester" in html and "alice → bob" in html

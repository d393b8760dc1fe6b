"""Exactly once under a crash: a real worker process killed between its send and its mark."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from collab import notices, service
from collab.fanout import fan_out
from instances.models import OutboxMessage
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def _worker(db, smtp_port, tmp_path, **env):
    environment = {**os.environ, "DATABASE_URL": db.url, "FLOWDESK_VAR_DIR": str(tmp_path),
                   "FLOWDESK_SMTP_HOST": "127.0.0.1", "FLOWDESK_SMTP_PORT": str(smtp_port), **env}
    return subprocess.Popen([sys.executable, "-c", "from webapp.cli import main; main()", "worker", "--once"],
                            cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _emails(db):
    with db.query() as session:
        return [(r.id, r.status) for r in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email")
                                                          .order_by(OutboxMessage.id))]


def test_a_worker_killed_after_sending_does_not_send_twice(org_db, smtp, config, tmp_path):
    inbox, port = smtp
    with org_db.command() as session:
        notices.save_preferences(session=session, username="li.na", channels={"message": ["email"]})
        service.send_message(session=session, sender="wang.fang", to_users=["li.na"], subject="first", body="1")
        service.send_message(session=session, sender="wang.fang", to_users=["li.na"], subject="second", body="2")
    fan_out(org_db, config=config)
    first, second = [row_id for row_id, _ in _emails(org_db)]

    doomed = _worker(org_db, port, tmp_path, FLOWDESK_TEST_PAUSE_AFTER_SEND="60")
    deadline = time.monotonic() + 30
    while len(inbox.messages) < 1 and time.monotonic() < deadline and doomed.poll() is None:
        time.sleep(0.05)
    assert len(inbox.messages) == 1, doomed.communicate(timeout=5)[0] if doomed.poll() is not None else "no mail"
    assert _emails(org_db) == [(first, "sending"), (second, "pending")]  # claimed and committed before the send
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    assert doomed.returncode == -signal.SIGKILL

    survivor = _worker(org_db, port, tmp_path, FLOWDESK_OUTBOX_LEASE_SECONDS="0")
    output = survivor.communicate(timeout=60)[0].decode()
    assert survivor.returncode == 0, output
    assert _emails(org_db) == [(first, "uncertain"), (second, "sent")]
    ids = sorted(message["Message-ID"] for _to, message in inbox.messages)
    assert ids == sorted([f"<outbox-{first}@flowdesk>", f"<outbox-{second}@flowdesk>"])  # each arrived once

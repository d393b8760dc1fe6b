"""Collaboration fixtures: the demo organisation, leave_request, a local SMTP server and a robot server."""
from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from collab.config import DeliveryConfig
from definitions import service as definitions
from definitions.bundle import read_path
from org import demo
from records import service as records
from records.demo import load_demo_leave_balances
from tests.conftest import LEAVE_YEARS, ROOT
from tests.snapshots import prepared


@pytest.fixture
def org_db(db):
    """The test database with the demo organisation and leave_request deployed."""
    prepared(db, "collab", _org_data)
    return db


def _org_data(db) -> None:
    with db.command() as session:
        demo.load_demo(session=session)
        records.install_core_types(session=session)  # the leave request writes attendance records
        # Annual leave is checked against a balance: enough for the many requests of one person in these tests.
        load_demo_leave_balances(session=session, years=LEAVE_YEARS, days=200)
        definitions.deploy(session=session, files=read_path(ROOT / "bpmn" / "leave_request"), actor="admin")


def free_port() -> int:
    """Return a TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """What a local SMTP server received, parsed."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp():
    """A real SMTP server on 127.0.0.1 for this test; yields (inbox, port)."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def config(smtp):
    """Delivery settings pointing at the local SMTP server."""
    return DeliveryConfig(smtp_host="127.0.0.1", smtp_port=smtp[1], mail_from="Flowdesk <noreply@flowdesk.test>",
                          base_url="https://flowdesk.test", timeout=5)


class Robot(BaseHTTPRequestHandler):
    """Record every POST; answer with the configured status and body."""

    def do_POST(self):  # noqa: N802 (http.server's hook name)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append({"path": self.path, "headers": dict(self.headers), "raw": body,
                                     "json": json.loads(body)})
        status, answer = self.server.answers.pop(0) if self.server.answers else (200, b'{"errcode": 0}')
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def robot():
    """A local HTTP server standing in for chat robots; .received lists the posts."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Robot)
    server.received, server.answers = [], []
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()

"""Email over TLS against a real local SMTP server: STARTTLS and implicit TLS, login only when encrypted,
certificates always verified (a private CA bundle is how an internal mail server is trusted)."""
from __future__ import annotations

import os
import shutil
import smtplib
import ssl
import subprocess
from dataclasses import replace
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select

from collab import delivery, mail, notices, service
from collab.config import DeliveryConfig
from collab.fanout import fan_out
from database.base import utcnow
from instances.models import OutboxMessage

from .conftest import Inbox, free_port

# The implicit-TLS server below cannot set auth_require_tls (aiosmtpd only counts STARTTLS), so aiosmtpd warns;
# there the authenticator checks the encryption itself.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
USER, PASSWORD = "flowdesk-mailer", "s3cret-pass"
SUBJECT = "合同审批：ACME 续约"
TEXT = "请在周五前审批。\n谢谢！"
HTML = "<p>请在<b>周五</b>前审批。</p>"


def _make_certificate(folder, name: str) -> tuple[str, str]:
    """Write a self-signed certificate for "localhost" and its key; return (cert path, key path)."""
    if shutil.which("openssl") is None:  # `cryptography` is not in the venv; the openssl command line is
        if os.environ.get("CI") == "true":
            pytest.fail("the openssl command is needed to make the test certificates")
        pytest.skip("the openssl command is not installed")
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2",
                    "-subj", f"/CN=localhost/O=Flowdesk test {name}", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    return str(cert), str(key)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """The server's certificate and a second, unrelated one (a CA bundle that does not vouch for the server)."""
    folder = tmp_path_factory.mktemp("tls")
    return _make_certificate(folder, "server"), _make_certificate(folder, "stranger")


class Logins:
    """An aiosmtpd authenticator that accepts one user and records whether each login was encrypted."""

    def __init__(self):
        self.seen = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ssl_object = server.transport.get_extra_info("ssl_object")
        self.seen.append({"mechanism": mechanism, "tls": ssl_object.version() if ssl_object else None,
                          "login": auth_data.login if isinstance(auth_data, LoginPassword) else None})
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            USER.encode(), PASSWORD.encode())
        return AuthResult(success=ok, handled=False)


def _server_context(certificates) -> ssl.SSLContext:
    (cert, key), _stranger = certificates
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture(params=["starttls", "tls"])
def tls_server(request, certificates):
    """A local SMTP server requiring STARTTLS (port 587 style) or speaking TLS at once (port 465 style), with a
    login that it only accepts over TLS; yields (mode, inbox, logins, port)."""
    inbox, logins, port = Inbox(), Logins(), free_port()
    context = _server_context(certificates)
    if request.param == "starttls":
        controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                                authenticator=logins, auth_required=True, auth_require_tls=True)
    else:
        # aiosmtpd only counts STARTTLS as TLS for auth_require_tls, so on an implicit-TLS port the check that
        # the login was encrypted is the authenticator's (it records the TLS version of the connection).
        controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=context,
                                authenticator=logins, auth_required=True, auth_require_tls=False)
    controller.start()
    yield request.param, inbox, logins, port
    controller.stop()


def _config(port: int, mode: str, ca_file: str = "", **kw) -> DeliveryConfig:
    return DeliveryConfig(smtp_host="localhost", smtp_port=port, smtp_security=mode, smtp_ca_file=ca_file,
                          smtp_user=USER, smtp_password=PASSWORD, mail_from="Flowdesk <noreply@flowdesk.test>",
                          timeout=5, **kw)


def _message(config: DeliveryConfig):
    return mail.build(config=config, to="li.na@flowdesk.example", subject=SUBJECT, text=TEXT, html=HTML,
                      message_id="<outbox-1@flowdesk>")


def test_mail_arrives_intact_over_tls_with_an_encrypted_login(tls_server, certificates):
    mode, inbox, logins, port = tls_server
    (cert, _key), _stranger = certificates
    config = _config(port, mode, ca_file=cert)
    mail.send(config=config, message=_message(config))
    [(to, received)] = inbox.messages
    assert to == ["li.na@flowdesk.example"]
    assert received["Subject"] == SUBJECT and received["Message-ID"] == "<outbox-1@flowdesk>"
    assert received.get_content_type() == "multipart/alternative"
    plain, html = received.get_body(("plain",)), received.get_body(("html",))
    assert plain.get_content_charset() == "utf-8" and html.get_content_charset() == "utf-8"
    # Line ends arrive as the wire's CRLF; the words are byte for byte what was sent.
    assert plain.get_content().replace("\r\n", "\n") == TEXT + "\n"
    assert html.get_content().replace("\r\n", "\n") == HTML + "\n"
    # One login, accepted, and the connection was already encrypted when the password crossed it.
    assert [(s["login"], s["tls"] is not None) for s in logins.seen] == [(USER.encode(), True)]
    assert logins.seen[0]["tls"] in ("TLSv1.2", "TLSv1.3")


def test_an_untrusted_certificate_is_refused_before_anything_is_sent(tls_server, certificates):
    mode, inbox, logins, port = tls_server
    _server, (stranger, _key) = certificates
    for ca_file in ("", stranger):  # the system's CAs, then a private bundle that does not vouch for the server
        config = _config(port, mode, ca_file=ca_file)
        with pytest.raises(ssl.SSLCertVerificationError) as refused:
            mail.send(config=config, message=_message(config))
        assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value)
    assert inbox.messages == [] and logins.seen == []


def test_the_name_on_the_certificate_must_match_the_host(tls_server, certificates):
    mode, inbox, logins, port = tls_server
    (cert, _key), _stranger = certificates
    config = replace(_config(port, mode, ca_file=cert), smtp_host="127.0.0.1")  # the certificate names localhost
    with pytest.raises(ssl.SSLCertVerificationError, match="127.0.0.1"):
        mail.send(config=config, message=_message(config))
    assert inbox.messages == [] and logins.seen == []


def test_a_missing_ca_file_is_an_error_not_a_silent_fallback(tls_server, tmp_path):
    mode, inbox, _logins, port = tls_server
    config = _config(port, mode, ca_file=str(tmp_path / "no-such-ca.pem"))
    with pytest.raises(OSError):
        mail.send(config=config, message=_message(config))
    assert inbox.messages == []


def test_a_server_that_requires_starttls_gets_no_password_and_no_mail_in_the_clear(certificates):
    inbox, logins, port = Inbox(), Logins(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=_server_context(certificates),
                            require_starttls=True, authenticator=logins, auth_required=True, auth_require_tls=True)
    controller.start()
    try:
        config = _config(port, "none")
        with pytest.raises(smtplib.SMTPNotSupportedError):  # AUTH is not even offered before STARTTLS
            mail.send(config=config, message=_message(config))
        anonymous = replace(config, smtp_user="", smtp_password="")
        with pytest.raises(smtplib.SMTPSenderRefused, match="STARTTLS"):
            mail.send(config=anonymous, message=_message(anonymous))
    finally:
        controller.stop()
    assert inbox.messages == [] and logins.seen == []


def _email_rows(db):
    with db.query() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email")))


def test_the_delivery_job_retries_an_untrusted_server_and_sends_once_it_is_trusted(org_db, tls_server,
                                                                                   certificates):
    mode, inbox, logins, port = tls_server
    (cert, _key), (stranger, _skey) = certificates
    with org_db.command() as session:
        notices.save_preferences(session=session, username="li.na", channels={"message": ["email"]})
        service.send_message(session=session, sender="wang.fang", to_users=["li.na"], subject="合同 ACME",
                             body="请看一下报价。")
    trusted = _config(port, mode, ca_file=cert, base_url="https://flowdesk.test")
    untrusted = replace(trusted, smtp_ca_file=stranger)
    assert fan_out(org_db, config=trusted) == 1
    now = utcnow()
    assert delivery.deliver(org_db, config=untrusted, now=now) == 0
    [row] = _email_rows(org_db)
    assert (row.status, row.attempts, row.sent_at) == ("pending", 1, None)
    assert row.next_attempt_at > now and "CERTIFICATE_VERIFY_FAILED" in row.last_error
    assert inbox.messages == [] and logins.seen == []
    assert delivery.deliver(org_db, config=trusted, now=row.next_attempt_at + timedelta(seconds=1)) == 1
    [row] = _email_rows(org_db)
    assert row.status == "sent" and row.attempts == 2
    [(to, received)] = inbox.messages
    assert to == ["li.na@flowdesk.example"] and received["Subject"] == "[Flowdesk] 新消息: 合同 ACME"
    assert "请看一下报价。" in received.get_body(("plain",)).get_content()
    assert "请看一下报价。" in received.get_body(("html",)).get_content()
    assert len(logins.seen) == 1 and logins.seen[0]["tls"] is not None

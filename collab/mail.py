"""Email over SMTP with the standard library: a plain-text part and an HTML alternative."""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from .config import DeliveryConfig


def build(*, config: DeliveryConfig, to: str, subject: str, text: str, html: str,
          message_id: str | None = None) -> EmailMessage:
    """Build a multipart/alternative email; UTF-8 headers and bodies keep Chinese intact."""
    message = EmailMessage()
    message["From"] = config.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    if message_id:
        # A stable id per outbox row lets a mail system drop a duplicate an admin resent on purpose.
        message["Message-ID"] = message_id
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message


def tls_context(config: DeliveryConfig) -> ssl.SSLContext:
    """Return a TLS context that checks the server's certificate and name, against the private CAs if set."""
    # Verification is never switched off: a server that cannot prove its name gets neither the password
    # nor the mail. A private bundle replaces the system's CAs, as curl's --cacert does; list both if needed.
    return ssl.create_default_context(cafile=config.smtp_ca_file or None)


def send(*, config: DeliveryConfig, message: EmailMessage) -> None:
    """Hand one email to the configured SMTP server; raise OSError (ssl.SSLError too) or smtplib errors."""
    context = tls_context(config) if config.smtp_security in ("starttls", "tls") else None
    if config.smtp_security == "tls":
        client = smtplib.SMTP_SSL(config.smtp_host, config.smtp_port, timeout=config.timeout, context=context)
    else:
        client = smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.timeout)
    with client:
        if config.smtp_security == "starttls":
            # Raises when the server does not offer STARTTLS: never fall back to sending in the clear.
            client.starttls(context=context)
        if config.smtp_user:
            client.login(config.smtp_user, config.smtp_password)
        client.send_message(message)

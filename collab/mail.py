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


def send(*, config: DeliveryConfig, message: EmailMessage) -> None:
    """Hand one email to the configured SMTP server; raise OSError or smtplib errors when it refuses."""
    context = ssl.create_default_context()
    if config.smtp_security == "tls":
        client = smtplib.SMTP_SSL(config.smtp_host, config.smtp_port, timeout=config.timeout, context=context)
    else:
        client = smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.timeout)
    with client:
        if config.smtp_security == "starttls":
            client.starttls(context=context)
        if config.smtp_user:
            client.login(config.smtp_user, config.smtp_password)
        client.send_message(message)

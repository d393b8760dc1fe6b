"""What delivery needs from the settings: SMTP, the site address, the worker's lease and time limits."""
from __future__ import annotations

from dataclasses import dataclass

SECURITY = ("none", "starttls", "tls")


@dataclass(frozen=True)
class DeliveryConfig:
    """Delivery settings; webapp.config.Settings builds one from the environment."""

    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_security: str = "none"
    # PEM bundle of the CAs that sign the mail server's certificate (a company's own); empty: the system's.
    smtp_ca_file: str = ""
    mail_from: str = "Flowdesk <flowdesk@localhost>"
    base_url: str = "http://127.0.0.1:5000"
    # A row claimed longer ago than this, still "sending", belongs to a worker that died mid-send.
    lease_seconds: float = 300.0
    timeout: float = 20.0
    due_soon_hours: int = 24

    @property
    def email_enabled(self) -> bool:
        """Tell whether an SMTP server is configured."""
        return bool(self.smtp_host)

    def link(self, path: str) -> str:
        """Return an absolute address for a path of the app."""
        return self.base_url.rstrip("/") + path if path else ""

"""Every setting of Flowdesk, with its environment override."""
from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'flowdesk.db'}"


def _secret_key(var_dir: Path) -> str:
    """Return SECRET_KEY from the environment, else a key kept in var/ so sessions survive restarts."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


class ConfigError(ValueError):
    """A setting from the environment is unusable; the message names the variable."""


def parse_store_key(value: str, variable: str = "FLOWDESK_STORE_KEY") -> bytes:
    """Decode a 32-byte store key written as 64 hex digits or base64, or raise ConfigError naming the variable."""
    text = value.strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        return bytes.fromhex(text)
    try:
        key = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ConfigError(f"{variable} must be a 32-byte key written as 64 hex digits or base64 (44 characters); "
                          "make one with: python -c \"import os, base64; print(base64.b64encode(os.urandom(32))"
                          ".decode())\"")
    return key


@dataclass
class Settings:
    """Flowdesk's settings; from_env reads the environment."""

    database_url: str = field(default_factory=_default_database_url)
    host: str = "127.0.0.1"
    port: int = 5000
    var_dir: Path = PROJECT_ROOT / "var"
    bpmn_dir: Path = PROJECT_ROOT / "bpmn"
    worker_interval: float = 1.0
    worker_max_attempts: int = 5
    script_time_limit: float = 2.0
    script_memory_mb: int = 256
    secret_key: str = ""
    testing: bool = False
    secure_cookies: bool = False
    csrf_enabled: bool = True
    max_upload_mb: int = 20
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_security: str = "none"
    smtp_ca_file: str = ""
    mail_from: str = "Flowdesk <flowdesk@localhost>"
    base_url: str = "http://127.0.0.1:5000"
    outbox_lease_seconds: float = 300.0
    # The department (code) whose leader dispatches complaints customers register on the portal.
    portal_complaint_department: str = "service"
    # The file store's at-rest key (hex or base64 of 32 bytes) and older keys kept only to decrypt while rotating.
    store_key: str = ""
    store_previous_keys: tuple[str, ...] = ()

    @property
    def store_dir(self) -> Path:
        """Return the folder of the file store (attachments and documents)."""
        return self.var_dir / "files"

    def install_store_key(self):
        """Make this process read (and, when switched on, write) the file store with the configured keys."""
        from documents import atrest
        key = parse_store_key(self.store_key) if self.store_key else None
        previous = [parse_store_key(k, "FLOWDESK_STORE_PREVIOUS_KEYS") for k in self.store_previous_keys]
        return atrest.install(self.store_dir, key, previous_keys=previous)

    def delivery(self):
        """Return what the outbox delivery needs of these settings."""
        from collab.config import DeliveryConfig
        return DeliveryConfig(smtp_host=self.smtp_host, smtp_port=self.smtp_port, smtp_user=self.smtp_user,
                              smtp_password=self.smtp_password, smtp_security=self.smtp_security,
                              smtp_ca_file=self.smtp_ca_file,
                              mail_from=self.mail_from, base_url=self.base_url,
                              lease_seconds=self.outbox_lease_seconds)

    def make_worker(self, database):
        """Return the background worker with every job: timers, BPMN messages, notices and their delivery."""
        from collab.jobs import make_jobs
        from documents.jobs import make_jobs as document_jobs
        from instances.worker import Worker
        from search import sources
        sources.install()  # text extracted by the worker reaches the index in the same transaction
        self.install_store_key()  # extraction reads sealed blobs; the at-rest job seals and unseals them
        return Worker(database, interval=self.worker_interval, max_attempts=self.worker_max_attempts,
                      jobs=[*make_jobs(self.delivery()), *document_jobs(self.store_dir)])

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """Build settings from FLOWDESK_* / DATABASE_URL / PORT variables, then explicit overrides."""
        env = os.environ
        var_dir = Path(env.get("FLOWDESK_VAR_DIR", PROJECT_ROOT / "var"))
        settings = cls(
            database_url=env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'flowdesk.db'}",
            host=env.get("HOST", "127.0.0.1"),
            port=int(env.get("PORT", "5000")),
            var_dir=var_dir,
            worker_interval=float(env.get("FLOWDESK_WORKER_INTERVAL", "1.0")),
            worker_max_attempts=int(env.get("FLOWDESK_WORKER_MAX_ATTEMPTS", "5")),
            # Behind HTTPS set FLOWDESK_SECURE_COOKIES=1; the embedded setup serves plain HTTP on 127.0.0.1.
            secure_cookies=env.get("FLOWDESK_SECURE_COOKIES", "0") in ("1", "true", "yes"),
            max_upload_mb=int(env.get("FLOWDESK_MAX_UPLOAD_MB", "20")),
            smtp_host=env.get("FLOWDESK_SMTP_HOST", ""),
            smtp_port=int(env.get("FLOWDESK_SMTP_PORT", "25")),
            smtp_user=env.get("FLOWDESK_SMTP_USER", ""),
            smtp_password=env.get("FLOWDESK_SMTP_PASSWORD", ""),
            # none, starttls (upgrade a plain connection, usually port 587) or tls (implicit TLS, port 465).
            smtp_security=env.get("FLOWDESK_SMTP_SECURITY", "none").lower(),
            # PEM file of the CAs that sign the mail server's certificate (a company's own); always checked.
            smtp_ca_file=env.get("FLOWDESK_SMTP_CA_FILE", ""),
            mail_from=env.get("FLOWDESK_MAIL_FROM", "Flowdesk <flowdesk@localhost>"),
            base_url=env.get("FLOWDESK_BASE_URL", f"http://127.0.0.1:{env.get('PORT', '5000')}"),
            outbox_lease_seconds=float(env.get("FLOWDESK_OUTBOX_LEASE_SECONDS", "300")),
            portal_complaint_department=env.get("FLOWDESK_PORTAL_COMPLAINT_DEPARTMENT", "").strip() or "service",
            store_key=env.get("FLOWDESK_STORE_KEY", "").strip(),
            store_previous_keys=tuple(k.strip() for k in env.get("FLOWDESK_STORE_PREVIOUS_KEYS", "").split(",")
                                      if k.strip()),
        )
        for key, value in overrides.items():
            setattr(settings, key, value)
        if not settings.secret_key:
            settings.secret_key = _secret_key(settings.var_dir)
        # Checked at startup, so a mistyped key stops the process with the variable's name, not a later upload.
        if settings.store_key:
            parse_store_key(settings.store_key)
        for key in settings.store_previous_keys:
            parse_store_key(key, "FLOWDESK_STORE_PREVIOUS_KEYS")
        return settings

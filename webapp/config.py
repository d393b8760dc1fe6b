"""Every setting of Flowdesk, with its environment override."""
from __future__ import annotations

import os
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
        )
        for key, value in overrides.items():
            setattr(settings, key, value)
        if not settings.secret_key:
            settings.secret_key = _secret_key(settings.var_dir)
        return settings

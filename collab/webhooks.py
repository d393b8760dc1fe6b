"""Chat robots: the JSON each one accepts, its signature, the POST, and the admin's list of them."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import service as audit

from .errors import InvalidInput, NotFound
from .models import WEBHOOK_KINDS, Webhook


class WebhookRefused(Exception):
    """The robot answered with an error."""


def _b64_hmac(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def build_request(*, kind: str, url: str, secret: str, title: str, text: str,
                  now: float | None = None) -> tuple[str, bytes, dict[str, str]]:
    """Return the address, JSON body and headers of a post in the format the robot accepts."""
    now = time.time() if now is None else now
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if kind == "wecom":
        body = {"msgtype": "markdown", "markdown": {"content": text}}
    elif kind == "dingtalk":
        body = {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
        if secret:
            stamp = str(int(now * 1000))
            sign = _b64_hmac(secret.encode(), f"{stamp}\n{secret}".encode())
            joiner = "&" if urllib.parse.urlsplit(url).query else "?"
            url = f"{url}{joiner}timestamp={stamp}&sign={urllib.parse.quote_plus(sign)}"
    elif kind == "feishu":
        body = {"msg_type": "text", "content": {"text": text}}
        if secret:
            stamp = str(int(now))
            # Feishu keys the HMAC with "timestamp\nsecret" and signs an empty message.
            body = {"timestamp": stamp, "sign": _b64_hmac(f"{stamp}\n{secret}".encode(), b""), **body}
    elif kind == "slack":
        body = {"text": text}
    else:
        raise InvalidInput(f"unknown webhook kind {kind}", details={"field": "kind"})
    data = json.dumps(body, ensure_ascii=False).encode()
    if kind == "slack" and secret:
        stamp = str(int(now))
        digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + data, hashlib.sha256).hexdigest()
        headers.update({"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"})
    return url, data, headers


def post(*, url: str, data: bytes, headers: dict[str, str], timeout: float) -> None:
    """POST the body; raise WebhookRefused on an HTTP error or a robot's error code in a 200 answer."""
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (admins set http(s) URLs only)
            answer = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise WebhookRefused(f"HTTP {exc.code} from the robot") from None
    try:
        parsed = json.loads(answer or b"{}")
    except ValueError:
        return  # Slack answers a plain "ok"
    code = parsed.get("errcode", parsed.get("code", 0)) if isinstance(parsed, dict) else 0
    if code not in (0, None):
        raise WebhookRefused(f"robot error {code}: {str(parsed.get('errmsg') or parsed.get('msg') or '')[:200]}")


def _check(kind, url, secret, name, department_code) -> None:
    if kind not in WEBHOOK_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(WEBHOOK_KINDS)}", details={"field": "kind"})
    if not isinstance(url, str) or not url.startswith(("https://", "http://")) or len(url) > 1000:
        raise InvalidInput("url must be an http(s) address", details={"field": "url"})
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise InvalidInput("name is required (at most 100 characters)", details={"field": "name"})
    if not isinstance(secret, str) or len(secret) > 300:
        raise InvalidInput("secret must be text of at most 300 characters", details={"field": "secret"})
    if department_code is not None and (not isinstance(department_code, str) or len(department_code) > 64):
        raise InvalidInput("department must be a department code", details={"field": "department_code"})


def save_webhook(*, session: Session, actor: str, kind: str, url: str, name: str, secret: str = "",
                 department_code: str | None = None, enabled: bool = True, webhook_id: int | None = None) -> Webhook:
    """Create or change a robot for the organisation (no department) or one department; audited."""
    department_code = (department_code or "").strip() or None
    _check(kind, url, secret, name, department_code)
    if department_code:
        from org.models import Department
        if session.scalar(select(Department.id).where(Department.code == department_code)) is None:
            raise NotFound(f"no department {department_code}", details={"field": "department_code"})
    hook = get_webhook_or_raise(session=session, webhook_id=webhook_id) if webhook_id else Webhook(created_by=actor)
    before = describe(hook) if webhook_id else None
    hook.kind, hook.url, hook.name, hook.department_code, hook.enabled = kind, url, name.strip(), \
        department_code, bool(enabled)
    if secret or not webhook_id:  # an empty secret on edit keeps the stored one (it is never shown)
        hook.secret = secret
    session.add(hook)
    session.flush()
    audit.log(session, action="webhook.save", actor=actor, object_type="webhook", object_id=hook.id,
              summary=f"{hook.kind} webhook {hook.name}", before=before, after=describe(hook))
    return hook


def delete_webhook(*, session: Session, actor: str, webhook_id: int) -> None:
    """Remove a robot; audited."""
    hook = get_webhook_or_raise(session=session, webhook_id=webhook_id)
    audit.log(session, action="webhook.delete", actor=actor, object_type="webhook", object_id=hook.id,
              summary=f"{hook.kind} webhook {hook.name}", before=describe(hook))
    session.delete(hook)
    session.flush()


def get_webhook_or_raise(*, session: Session, webhook_id: int) -> Webhook:
    """Return a robot by id."""
    hook = session.get(Webhook, webhook_id) if isinstance(webhook_id, int) and 0 < webhook_id < 2**31 else None
    if hook is None:
        raise NotFound(f"no webhook {webhook_id}", details={"id": webhook_id})
    return hook


def list_webhooks(*, session: Session) -> list[Webhook]:
    """Return every robot, organisation-wide first."""
    return list(session.scalars(select(Webhook).order_by(Webhook.department_code.is_not(None),
                                                         Webhook.department_code, Webhook.id)))


def describe(hook: Webhook) -> dict:
    """Describe a robot without its secret."""
    return {"id": hook.id, "name": hook.name, "kind": hook.kind, "url": hook.url,
            "department_code": hook.department_code, "enabled": hook.enabled, "has_secret": bool(hook.secret)}

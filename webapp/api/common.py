"""What every API module shares: bearer-token sign-in, request parsing, paging and JSON shapes."""
from __future__ import annotations

import json
import math
from datetime import datetime, time, timezone

from flask import current_app, g, request
from flask_babel import gettext as _

from audit import service as audit
from database.base import MAX_ID, MAX_PAGE, utcnow
from diagrams.errors import DiagramError
from forms import schema as forms
from forms.kinds import kind_of, properties
from forms.schema import FieldError, FormError, SchemaProblem
from instances.errors import InvalidInput
from org import revision
from org import service as org

from .. import users
from ..db import FIRST_SESSION_CHECK, command, query
from ..errors import error_response
from ..form_lookups import FormLookups
from . import bp
from .tokens import CheckedToken, TokenCache

MAX_VERSION = 2**31 - 1
MAX_PAGE_SIZE = 200
MAX_DEPTH = 32
EMPTY_FORM = {"type": "object", "properties": {}}


class ApiError(Exception):
    """An API refusal with its status, code, message and details."""

    def __init__(self, status: int, code: str, message: str, details: dict | None = None):
        self.status, self.code, self.message, self.details = status, code, message, dict(details or {})
        super().__init__(message)


def public(view):
    """Mark a view as reachable without a bearer token."""
    view.api_public = True
    return view


def bad_input(field: str, message: str):
    """Return the 400 error for one bad request field."""
    return InvalidInput(message, details={"field": field})


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return error_response(exc.status, exc.code, exc.message, exc.details)


@bp.errorhandler(DiagramError)
def _diagram_error(exc: DiagramError):
    return error_response(422, exc.code, str(exc), exc.to_dict())


@bp.errorhandler(SchemaProblem)
def _schema_problem(exc: SchemaProblem):
    return error_response(422, "invalid_form_schema", str(exc))


def _unauthorized(message: str):
    response = error_response(401, "unauthorized", message)
    response[0].headers["WWW-Authenticate"] = 'Bearer realm="flowdesk"'
    return response


class TokenRefused(Exception):
    """A bearer token found revoked, expired or its user gone when checked again."""


@bp.errorhandler(TokenRefused)
def _token_refused(_exc: TokenRefused):
    return _unauthorized(_("The token is invalid, expired or revoked."))


def _tokens() -> TokenCache:
    return current_app.extensions.setdefault("flowdesk.api_tokens", TokenCache())


def _check_token(session, secret: str, digest: str, now: datetime) -> CheckedToken | None:
    """Check a token in a session and remember it at the revision read first; None when it is refused."""
    # The revision is read before the token: a revocation committed after this read moves the revision past
    # the one remembered, so the next call checks again.
    seen = revision.session_revision(session)
    token = org.check_token(session=session, secret=secret)
    if token is None:
        _tokens().forget(digest)
        return None
    checked = CheckedToken(seen, users.from_model(token.user), token.expires_at, token.last_used_at)
    if seen is not None:
        _tokens().keep(digest, checked)
    return checked


def _recheck(secret: str, digest: str, cached: CheckedToken, session) -> None:
    """Run by the call's first database session: check the token again if the organisation changed since."""
    if revision.session_revision(session) == cached.revision:
        return
    checked = _check_token(session, secret, digest, utcnow())
    if checked is None:
        raise TokenRefused()
    g.api_user = checked.user
    _audit_as(checked.user.username)
    if checked.user.is_portal and not portal_may_call(request.path, request.method):
        forbid_unless(False)  # the account became a portal account since: its narrower door applies now


def _audit_as(username: str) -> None:
    """Name the token's holder in the audit entries this call writes (the app named nobody: no one signs in)."""
    tokens = g.pop("audit_tokens", None)
    if tokens is not None:
        audit.reset_origin(tokens)  # back to before the request, so the app's teardown resets ours
    g.audit_tokens = audit.set_origin(request.remote_addr or "", username)


@bp.before_request
def _authenticate():
    # NUL cannot be stored in PostgreSQL text: refuse it at the door rather than fail in the database.
    if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
        raise bad_input("query", _("The request contains a NUL character."))
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "api_public", False):
        return None
    scheme, _sep, secret = request.headers.get("Authorization", "").strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        return _unauthorized(_("Send a token in the header Authorization: Bearer <token>."))
    digest, now = org.token_digest(secret), utcnow()
    cached = _tokens().usable(digest, now)
    if cached is not None:  # checked before: the call's first session confirms nothing changed since
        g.api_user = cached.user
        g.setdefault(FIRST_SESSION_CHECK, lambda session: _recheck(secret, digest, cached, session))
    else:
        with query() as session:
            checked = _check_token(session, secret, digest, now)
            touched = bool(session.dirty)
        if checked is None:
            g.api_user = None
            return _unauthorized(_("The token is invalid, expired or revoked."))
        g.api_user = checked.user
        if touched:  # the token's last use is recorded at most once a minute, so most requests only read
            with command() as session:
                org.check_token(session=session, secret=secret)
            if checked.revision is not None:
                _tokens().keep(digest, checked._replace(used_at=now))
    _audit_as(g.api_user.username)
    if g.api_user.is_portal and not portal_may_call(request.path, request.method):
        forbid_unless(False)
    limits = {"number": MAX_VERSION}
    for name, value in (request.view_args or {}).items():
        # A number beyond the id columns' range names nothing; the database would refuse to compare it.
        if isinstance(value, int) and value > limits.get(name, MAX_ID):
            raise ApiError(404, "not_found", _("This page does not exist, or you cannot see it."),
                           {"field": name})
    return None


@bp.after_request
def _confirm_token(response):
    """A call that never opened a database session still has its cached token confirmed before it answers."""
    check = g.pop(FIRST_SESSION_CHECK, None)
    if check is not None:
        try:
            with query() as session:
                check(session)
        except TokenRefused:
            return _unauthorized(_("The token is invalid, expired or revoked."))[0]
    return response


PORTAL_API = ("/api/v1/records/", "/api/v1/auth/")


def portal_may_call(path: str, method: str) -> bool:
    """Tell whether a portal account may call an API path: its records, reading record types, its own tokens."""
    if path.startswith(PORTAL_API) or path.rstrip("/") in ("/api/v1/records", "/api/v1/openapi.json"):
        return True
    return path.startswith("/api/v1/record-types") and method == "GET"


def me() -> users.SessionUser:
    """Return the user the bearer token belongs to (confirming a cached token first if nothing has yet)."""
    check = g.pop(FIRST_SESSION_CHECK, None)
    if check is not None:
        with query() as session:
            check(session)
    return g.api_user


def forbid_unless(allowed: bool) -> None:
    """Refuse with 403 unless the caller holds the right."""
    if not allowed:
        raise ApiError(403, "forbidden", _("You do not have permission to do this. "
                                           "Ask your administrator if you need it."))


def _check_value(value, where: str) -> None:
    """Refuse JSON values the database cannot keep: NUL, lone surrogates, NaN, infinities, deep nesting."""
    stack = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise bad_input(path, _("%(field)s is nested too deeply.", field=path))
        if isinstance(item, dict):
            for key, child in item.items():
                _check_text(key, path)
                stack.append((child, f"{path}.{key}", depth + 1))
        elif isinstance(item, list):
            stack.extend((child, path, depth + 1) for child in item)
        elif isinstance(item, str):
            _check_text(item, path)
        elif isinstance(item, float) and not math.isfinite(item):
            raise bad_input(path, _("%(field)s must be a finite number.", field=path))


def _check_text(text: str, field: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise bad_input(field, _("%(field)s is not valid text.", field=field)) from None
    if "\x00" in text:
        raise bad_input(field, _("%(field)s is not valid text.", field=field))


def _no_constants(name: str):
    raise ValueError(f"{name} is not allowed")


def json_body(allowed: set[str], required: tuple[str, ...] = ()) -> dict:
    """Parse the body as a JSON object with only the allowed keys; an empty body is {}."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        body = {}
    else:
        try:
            body = json.loads(raw, parse_constant=_no_constants)
        except (ValueError, RecursionError):
            raise ApiError(400, "invalid_json", _("The request body is not valid JSON.")) from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", _("The request body must be a JSON object."))
    for key in body:
        if key not in allowed:
            raise bad_input(key, _("Unknown field %(field)s; allowed: %(allowed)s.", field=key,
                                   allowed=", ".join(sorted(allowed))))
    for key in required:
        if body.get(key) in (None, ""):
            raise bad_input(key, _("%(field)s is required.", field=key))
    _check_value(body, "body")
    return body


def text_field(body: dict, name: str, *, limit: int = forms.MAX_TEXT) -> str | None:
    """Return a body field that must be text (or null), stripped, at most `limit` characters."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_input(name, _("%(field)s must be text.", field=name))
    value = value.strip()
    if len(value) > limit:
        raise bad_input(name, _("%(field)s must be at most %(limit)s characters.", field=name, limit=limit))
    return value or None


def object_field(body: dict, name: str) -> dict:
    """Return a body field that must be a JSON object (missing or null gives {})."""
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_input(name, _("%(field)s must be a JSON object.", field=name))
    return value


def int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    """Read a whole-number query argument within [low, high]."""
    raw = request.args.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise bad_input(name, _("%(field)s must be a whole number from %(low)s to %(high)s.",
                                field=name, low=low, high=high))
    return value


def bool_arg(name: str) -> bool:
    """Read a yes/no query argument."""
    raw = (request.args.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise bad_input(name, _("%(field)s must be true or false.", field=name))


def choice_arg(name: str, choices, default: str | None = None) -> str | None:
    """Read a query argument that must be one of the choices."""
    raw = request.args.get(name) or default
    if raw is not None and raw not in choices:
        raise bad_input(name, _("%(field)s must be one of %(choices)s.", field=name, choices=", ".join(choices)))
    return raw


def date_arg(name: str, end: bool = False) -> datetime | None:
    """Read a date (YYYY-MM-DD, the whole day) or an ISO-8601 timestamp; naive times are UTC."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = datetime.strptime(raw, "%Y-%m-%d").date()
            return datetime.combine(day, time.max if end else time.min, tzinfo=timezone.utc)
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise bad_input(name, _("%(field)s must be a date like 2026-12-31", field=name)) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def page_args() -> tuple[int, int]:
    """Read page (1 or more) and page_size (1 to 200)."""
    return int_arg("page", 1, 1, MAX_PAGE), int_arg("page_size", 25, 1, MAX_PAGE_SIZE)


def page_json(items: list, total: int, page: int, page_size: int) -> dict:
    """Wrap one page of items with its counts."""
    return {"items": items, "total": total, "page": page, "page_size": page_size,
            "pages": max(1, -(-total // page_size))}


def check_form(schema: dict | None, data: dict, *, extra: dict[str, FieldError] | None = None, session=None,
               locked: set[str] | frozenset = frozenset(), context: dict | None = None) -> dict:
    """Check JSON data against a form and return it checked (computed fields filled); raise FormError by field.

    Unknown fields and files are refused; so is a field the task may not change (`locked`). `context` is the
    instance data computed and conditional fields may use; `session` answers the lookups (one is opened if None).
    """
    schema = schema or EMPTY_FORM
    kinds = {name: kind_of(prop) for name, prop in properties(schema).items()}
    errors: dict[str, FieldError] = {}
    for name, value in data.items():
        if name not in kinds:
            errors[name] = FieldError("readonly" if name in locked else "unknown")
        elif kinds[name] == "attachments" and value:
            errors[name] = FieldError("invalid", detail="files cannot be attached through the API")
        elif isinstance(value, str) and len(value) > forms.MAX_TEXT:
            errors[name] = FieldError("too_long", forms.MAX_TEXT)
    if session is None:
        with query() as reading:
            checked, more = forms.clean(schema, data, lookups=FormLookups(reading, me().actor), context=context)
    else:
        checked, more = forms.clean(schema, data, lookups=FormLookups(session, me().actor), context=context)
    errors = {**more, **errors, **(extra or {})}
    if errors:
        raise FormError(errors)
    return {name: value for name, value in checked.items() if name in kinds}


def iso(moment: datetime | None) -> str | None:
    """Format a timestamp as ISO-8601."""
    return moment.isoformat() if moment else None


def instance_json(instance) -> dict:
    """Describe an instance in a list."""
    return {"id": int(instance.id), "process": instance.definition_key, "definition_id": int(instance.definition_id),
            "title": instance.title, "business_key": instance.business_key, "status": instance.status,
            "initiator": instance.initiator, "started_at": iso(instance.started_at),
            "updated_at": iso(instance.updated_at), "ended_at": iso(instance.ended_at)}


def task_json(item, instance=None, now: datetime | None = None) -> dict:
    """Describe a work item, with a summary of its instance when given."""
    now = now or datetime.now(timezone.utc)
    out = {"id": int(item.id), "instance_id": int(item.instance_id), "name": item.name,
           "element_id": item.element_id, "kind": item.kind, "status": item.status, "assignee": item.assignee,
           "candidate_users": list(item.candidate_users or []), "candidate_groups": list(item.candidate_groups or []),
           "priority": item.priority, "due_at": iso(item.due_at),
           "overdue": bool(item.status == "open" and item.due_at and item.due_at < now),
           "form_key": item.form_key, "created_at": iso(item.created_at), "completed_at": iso(item.completed_at),
           "completed_by": item.completed_by, "decision": item.decision, "comment": item.comment,
           "item": item.item}
    if instance is not None:
        out["instance"] = instance_json(instance)
    return out


def history_json(event) -> dict:
    """Describe a history event."""
    return {"id": int(event.id), "type": event.type, "element_id": event.element_id, "actor": event.actor,
            "at": iso(event.at), "work_item_id": int(event.work_item_id) if event.work_item_id else None,
            "details": event.details or {}}

"""Sign in for a bearer token; who am I."""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _

from instances import inbox
from org import service as org
from org.errors import OrgError, Throttled

from ..db import command, query
from ..errors import error_response
from . import bp
from .common import bad_input, iso, json_body, me, public, text_field
from .org import user_json

TOKEN_DAYS = 30
TOKEN_NAME = "api login"


@bp.post("/auth/token")
@public
def token():
    """Exchange a user name and password for a personal bearer token valid for 30 days."""
    body = json_body({"username", "password"}, required=("username", "password"))
    username = text_field(body, "username", limit=150) or ""
    password = body["password"]
    if not isinstance(password, str):
        raise bad_input("password", _("%(field)s must be text.", field="password"))
    failure, secret, expires_at = None, None, None
    with command() as session:
        # The refusal is caught inside the transaction so the failed attempt is kept for throttling.
        try:
            user = org.authenticate(session=session, username=username, password=password,
                                    ip=request.remote_addr or "")
            row, secret = org.create_token(session=session, user=user, name=TOKEN_NAME, days=TOKEN_DAYS)
            expires_at = row.expires_at
        except OrgError as exc:
            failure = exc
    if isinstance(failure, Throttled):
        response = error_response(429, failure.code, _("Too many failed attempts. Wait 15 minutes and try again."),
                                  failure.details)
        response[0].headers["Retry-After"] = str(15 * 60)
        return response
    if failure is not None:
        return error_response(401, failure.code, _("Wrong user name or password."), failure.details)
    return jsonify(token=secret, token_type="Bearer", expires_at=iso(expires_at))


@bp.get("/me")
def whoami():
    """Describe the signed-in user with their rights and inbox counts."""
    with query() as session:  # opened first: it confirms a remembered token in the same transaction
        current = me()
        user = org.get_user(session=session, user_id=current.id)
        out = user_json(user)
        counts = inbox.counts(session=session, actor=current.actor)
    out.update(is_admin=current.is_admin, is_manager=current.is_manager, is_designer=current.is_designer,
               groups=sorted(current.actor.groups), counts=counts)
    return jsonify(out)

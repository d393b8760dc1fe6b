"""Sign in and out, language, and personal API tokens."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from org import service as org
from org.errors import OrgError, Throttled

from .. import users
from ..db import command, query
from ..i18n import LANGUAGES

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an absolute or scheme-relative URL would be an open redirect.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("inbox.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form and sign the user in."""
    if current_user.is_authenticated:
        return redirect(url_for("inbox.index"))
    error, username = None, ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        failure = None
        with command() as db_session:
            # The refusal is caught inside the transaction so the failed attempt is kept for throttling.
            try:
                user = org.authenticate(session=db_session, username=username, password=password,
                                        ip=request.remote_addr or "")
                session_user = users.from_model(user)
            except OrgError as exc:
                failure = exc
        if isinstance(failure, Throttled):
            error = _("Too many failed attempts. Wait 15 minutes and try again.")
        elif failure is not None:
            error = _("Wrong user name or password.")
        else:
            session.clear()
            login_user(session_user, remember=bool(request.form.get("remember")))
            if session_user.language:
                session["lang"] = session_user.language
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error, username=username), (401 if error else 200)


@bp.post("/logout")
@login_required
def logout():
    """Sign out."""
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language():
    """Switch the interface language, and remember it for a signed-in user."""
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
        if current_user.is_authenticated:
            with command() as db_session:
                user = org.get_user(session=db_session, user_id=current_user.id)
                user.language = lang
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """List, create and revoke personal API tokens; a new token is shown once."""
    new_secret = None
    if request.method == "POST":
        with command() as db_session:
            user = org.get_user(session=db_session, user_id=current_user.id)
            if request.form.get("revoke"):
                org.revoke_token(session=db_session, user=user, token_id=int(request.form["revoke"]))
                flash(_("The token was revoked."), "success")
            else:
                _token, new_secret = org.create_token(session=db_session, user=user,
                                                      name=request.form.get("name", "").strip() or "API")
    with query() as db_session:
        user = org.get_user(session=db_session, user_id=current_user.id)
        rows = org.list_tokens(session=db_session, user=user)
    return render_template("auth/tokens.html", tokens=rows, new_secret=new_secret)

"""The standing proxy page (代理): who receives my new tasks while I am away."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from instances import inbox, lifecycle
from instances.errors import Conflict, InvalidInput
from org import service as org

from ..db import command, query

bp = Blueprint("proxies", __name__, url_prefix="/account")


def _day(raw: str | None, *, end: bool = False) -> datetime | None:
    """Read a YYYY-MM-DD field as the start of that day, or with end the start of the next day (UTC)."""
    try:
        day = datetime.strptime((raw or "").strip(), "%Y-%m-%d").date()
    except ValueError:
        return None
    if not 1900 <= day.year <= 2200:  # the end is the start of the next day: 9999-12-31 has none
        return None
    moment = datetime.combine(day, time.min, tzinfo=timezone.utc)
    return moment + timedelta(days=1) if end else moment


def _page(errors: dict | None = None, values: dict | None = None, status: int = 200):
    with query() as session:
        rows = lifecycle.list_proxies(session=session, actor=current_user.actor)
        acting_for = [p for p in lifecycle.list_proxies(session=session, actor=current_user.actor, acting_for=True)
                      if lifecycle.proxy_state(p) in ("active", "scheduled")]
        processes = inbox.process_choices(session=session)
    return render_template("auth/proxies.html", proxies=rows, acting_for=acting_for, processes=processes,
                           state=lifecycle.proxy_state, errors=errors or {}, values=values or {}), status


def _create():
    form = request.form
    values = {"proxy": (form.get("proxy") or "").strip(), "starts": form.get("starts") or "",
              "ends": form.get("ends") or "", "keys": form.getlist("keys")}
    starts, ends = _day(values["starts"]), _day(values["ends"], end=True)
    errors = {}
    if starts is None:
        errors["starts"] = _("Enter a date.")
    if ends is None:
        errors["ends"] = _("Enter a date.")
    if errors:
        return _page(errors, values, 400)
    try:
        with command() as session:
            user = org.get_user_by_name(session=session, username=values["proxy"]) if values["proxy"] else None
            if values["proxy"] and (user is None or not user.active):
                raise InvalidInput(_("No active user %(name)s.", name=values["proxy"]), details={"field": "proxy"})
            lifecycle.set_proxy(session=session, actor=current_user.actor, proxy_user=user.username if user else "",
                                starts_at=starts, ends_at=ends, definition_keys=values["keys"] or None)
    except InvalidInput as exc:
        field = {"ends_at": "ends", "starts_at": "starts"}.get(exc.details.get("field"), "proxy")
        return _page({field: exc.message}, values, 400)
    flash(_("From %(start)s, your new tasks go to %(name)s.", start=values["starts"], name=user.username),
          "success")
    return redirect(url_for("proxies.index"))


@bp.route("/proxies", methods=["GET", "POST"])
@login_required
def index():
    """List, create and revoke the signed-in user's standing proxies."""
    if request.method == "GET":
        return _page()
    if not request.form.get("revoke"):
        return _create()
    try:
        proxy_id = int(request.form["revoke"])
    except ValueError:
        return _page({}, {}, 400)
    try:
        with command() as session:
            lifecycle.revoke_proxy(session=session, actor=current_user.actor, proxy_id=proxy_id)
    except Conflict as exc:
        flash(exc.message, "danger")
    else:
        flash(_("The proxy was revoked."), "success")
    return redirect(url_for("proxies.index"))

"""Notification pages: the list, mark read, channel settings, and the unread counts the navigation polls."""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from collab import notices
from collab.errors import InvalidInput
from collab.models import CHANNELS, NOTICE_KINDS
from collab.wording import kind_label

from ..db import command, query
from ..i18n import select_locale
from ..paging import page_arg

bp = Blueprint("notices", __name__)
PAGE_SIZE = 25


def _int(raw, default: int = 1, high: int = 100_000) -> int:
    try:
        return min(high, max(1, int(raw)))
    except (TypeError, ValueError):
        return default


@bp.get("/notifications")
@login_required
def index():
    """List the signed-in user's notifications, newest first."""
    unread_only = request.args.get("unread") == "1"
    page = page_arg()
    with query() as session:
        rows, total = notices.list_notifications(session=session, username=current_user.username,
                                                 unread_only=unread_only, page=page, page_size=PAGE_SIZE)
    return render_template("collab/notifications.html", rows=rows, total=total, page=page, page_size=PAGE_SIZE,
                           unread_only=unread_only, label=lambda kind: kind_label(kind, select_locale()))


@bp.post("/notifications/read")
@login_required
def mark_read():
    """Mark one notification (id) or all of them read, then go back or follow the notice's link."""
    raw = request.form.get("id")
    with command() as session:
        if raw:
            notice_id = _int(raw, default=0, high=2**62)
            notices.mark_read(session=session, username=current_user.username, ids=[notice_id] if notice_id else [])
            target = request.form.get("next") or ""
        else:
            notices.mark_read(session=session, username=current_user.username)
            target = ""
    # Only paths inside the app: a form field must not become an open redirect.
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for("notices.index"))


@bp.get("/notifications/counts.json")
@login_required
def counts():
    """Return the unread notifications and messages, for the badge the navigation polls."""
    from ..app import unread_counts
    with query() as session:
        response = jsonify(unread_counts(session, current_user.username))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def settings():
    """Choose channels per kind of notice and a quiet period."""
    username = current_user.username
    errors = {}
    if request.method == "POST":
        form = request.form
        chosen = {kind: [c for c in CHANNELS if form.get(f"{kind}.{c}")] for kind in NOTICE_KINDS}
        try:
            with command() as session:
                notices.save_preferences(session=session, username=username, channels=chosen,
                                         quiet_start=form.get("quiet_start") or None,
                                         quiet_end=form.get("quiet_end") or None,
                                         timezone=(form.get("timezone") or "").strip() or "Asia/Shanghai")
            flash(_("Your notification settings are saved."), "success")
            return redirect(url_for("notices.settings"))
        except InvalidInput as exc:
            errors[exc.details.get("field", "form")] = {
                "quiet_start": _("Enter a time like 22:00."), "quiet_end": _("Enter both times, like 22:00 and 08:00."),
                "timezone": _("Enter a time zone like Asia/Shanghai."),
            }.get(exc.details.get("field"), exc.message)
    with query() as session:
        prefs = notices.preferences(session=session, username=username)
        current = notices.get_settings(session=session, username=username)
    language = select_locale()
    return render_template("collab/settings.html", prefs=prefs, kinds=NOTICE_KINDS, channels=CHANNELS,
                           current=current, errors=errors, label=lambda kind: kind_label(kind, language),
                           form=request.form if errors else None), 400 if errors else 200

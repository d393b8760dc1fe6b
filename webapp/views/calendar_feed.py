"""Calendar export: the signed-in person's .ics file, secret subscription links and the public feed."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from collab.calendar import feeds, ics

from ..db import command, query

bp = Blueprint("calendar_feed", __name__, url_prefix="/calendar")
ICS_TYPE = "text/calendar; charset=utf-8"


def _calendar(username: str) -> bytes:
    with query() as session:
        return ics.export(session, username=username, host=request.host.split(":", 1)[0] or "flowdesk")


@bp.get("/export.ics")
@login_required
def export():
    """Download the signed-in person's calendar as an .ics file."""
    response = Response(_calendar(current_user.username), content_type=ICS_TYPE)
    response.headers["Content-Disposition"] = 'attachment; filename="flowdesk-calendar.ics"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/feed/<token>.ics")
def feed(token: str):
    """Serve the calendar a secret link opens, to calendar apps that cannot sign in (public by design)."""
    with command() as session:  # owner_of notes when the link was last used
        owner = feeds.owner_of(session=session, token=token)
    if owner is None:
        abort(404)  # unknown, revoked or of someone who left: the same answer, no hint
    response = Response(_calendar(owner), content_type=ICS_TYPE)
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.route("/subscribe", methods=["GET", "POST"])
@login_required
def subscribe():
    """List the person's subscription links; a POST makes a new one and shows its URL this once."""
    new_url = None
    if request.method == "POST":
        with command() as session:
            _feed, token = feeds.create_feed(session=session, username=current_user.username)
        new_url = url_for("calendar_feed.feed", token=token, _external=True)
    with query() as session:
        rows = feeds.list_feeds(session=session, username=current_user.username)
    response = Response(render_template("calendar/feeds.html", feeds=rows, new_url=new_url))
    if new_url:  # the secret must not stay in a cache or the browser's back button
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/subscribe/<int:feed_id>/revoke")
@login_required
def revoke(feed_id: int):
    """Revoke one of the person's subscription links."""
    with command() as session:
        feeds.revoke_feed(session=session, username=current_user.username, feed_id=feed_id)
    flash(_("The link was revoked. Calendar apps that used it get nothing from now on."), "success")
    return redirect(url_for("calendar_feed.subscribe"))

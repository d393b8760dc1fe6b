"""The inbox: my tasks, group tasks, done by me, started by me, copied to me."""
from __future__ import annotations

from datetime import datetime, time, timezone

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from instances import inbox
from instances.errors import InvalidInput
from org import service as org

from ..db import command, query
from ..paging import page_arg

bp = Blueprint("inbox", __name__)
FILTER_KEYS = ("process", "status", "created_from", "created_to", "due_from", "due_to", "overdue",
               "priority_min", "initiator", "text", "sort", "desc", "page_size")


def _date(value: str | None, field: str, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise InvalidInput(_("%(field)s must be a date like 2026-12-31", field=field),
                           details={"field": field}) from None
    return datetime.combine(day.date(), time.max if end else time.min, tzinfo=timezone.utc)


def filter_from_args(args, view: str) -> inbox.InboxFilter:
    """Build an inbox filter from query-string arguments, refusing bad values by field."""
    try:
        page = page_arg()
        page_size = int(args.get("page_size", 25))
        priority = int(args["priority_min"]) if args.get("priority_min") else None
    except ValueError:
        raise InvalidInput(_("page, page size and priority must be whole numbers"),
                           details={"field": "page"}) from None
    fields = {key[2:]: value for key, value in args.items() if key.startswith("f.") and value}
    return inbox.InboxFilter(
        view=view, process=args.get("process") or None, status=args.get("status") or None,
        created_from=_date(args.get("created_from"), "created_from"),
        created_to=_date(args.get("created_to"), "created_to", end=True),
        due_from=_date(args.get("due_from"), "due_from"), due_to=_date(args.get("due_to"), "due_to", end=True),
        overdue=args.get("overdue") in ("1", "on", "true"), priority_min=priority,
        initiator=args.get("initiator") or None, fields=fields, text=args.get("text") or None,
        sort=args.get("sort") or "due", descending=args.get("desc") in ("1", "on", "true"),
        page=page, page_size=page_size).check()


@bp.get("/")
@login_required
def index():
    """Show one inbox view with filters, sorting and pagination."""
    view = request.args.get("view", "mine")
    flt = filter_from_args(request.args, view)
    with query() as session:
        page = inbox.list_inbox(session=session, actor=current_user.actor, flt=flt)
        processes = inbox.process_choices(session=session)
        saved = inbox.list_filters(session=session, actor=current_user.actor)
        people = org.display_names(session=session, usernames=[
            name for row in page.rows for obj in row if obj is not None
            for name in (getattr(obj, "initiator", None), getattr(obj, "sent_by", None))])
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("inbox/index.html", view=view, page=page, flt=flt, processes=processes,
                           saved=saved, args=args, views=inbox.VIEWS, people=people)


@bp.post("/filters")
@login_required
def save_filter():
    """Save the current filter under a name."""
    view = request.form.get("view", "mine")
    params = {k: v for k, v in request.form.items() if (k in FILTER_KEYS or k.startswith("f.")) and v}
    flt = filter_from_args(params, view)
    with command() as session:
        inbox.save_filter(session=session, actor=current_user.actor, name=request.form.get("name", ""), flt=flt,
                          query=params)
    flash(_("Filter saved."), "success")
    return redirect(url_for("inbox.index", view=view, **params))


@bp.post("/filters/<int:filter_id>/delete")
@login_required
def delete_filter(filter_id: int):
    """Delete a saved filter."""
    with command() as session:
        inbox.delete_filter(session=session, actor=current_user.actor, filter_id=filter_id)
    flash(_("Filter deleted."), "success")
    return redirect(url_for("inbox.index"))

"""Message pages: inbox, sent, a thread with replies, compose with a picker of people, departments, groups,
and the reminders still to come."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from attachments import service as attachments
from attachments.errors import AttachmentError, AttachmentRefused
from collab import notices
from collab import service as messages
from collab.errors import CollabError, Conflict, NotFound
from org import service as org

from ..db import command, query
from ..paging import page_arg
from ..uploads import store_dir

bp = Blueprint("messages", __name__, url_prefix="/messages")
PAGE_SIZE = 25


def _field_messages() -> dict[str, str]:
    return {"to_users": _("Name at least one active person, department or group."),
            "to_departments": _("No such department."), "to_groups": _("No such group."),
            "subject": _("Enter a subject of at most 300 characters."), "body": _("Write a message."),
            "remind_at": _("Choose a time in the future, within a year.")}


@bp.get("")
@login_required
def inbox():
    """List messages the signed-in user received."""
    page = page_arg()
    with query() as session:
        rows, total = messages.list_inbox(session=session, username=current_user.username, page=page,
                                          page_size=PAGE_SIZE)
    return render_template("collab/messages.html", box="inbox", rows=rows, total=total, page=page,
                           page_size=PAGE_SIZE)


@bp.get("/sent")
@login_required
def sent():
    """List messages the signed-in user sent."""
    page = page_arg()
    with query() as session:
        rows, total = messages.list_sent(session=session, username=current_user.username, page=page,
                                         page_size=PAGE_SIZE)
    return render_template("collab/messages.html", box="sent", rows=[(m, None) for m in rows], total=total,
                           page=page, page_size=PAGE_SIZE)


def _choices(session) -> dict:
    return {"users": [(u.username, u.display_name) for u in org.list_users(session=session, status="active", kind="staff", limit=5000)],
            "departments": [(d.code, d.name, d.name_en) for d, _depth in org.department_tree(session=session)],
            "groups": [(g.code, g.name, g.name_en) for g in org.list_units(session=session, kind="group")]}


def _remind_at(raw: str, username: str) -> datetime | None:
    """Read a datetime-local field in the user's time zone."""
    if not raw:
        return None
    try:
        local = datetime.fromisoformat(raw)
    except ValueError:
        return datetime(1970, 1, 1, tzinfo=timezone.utc)  # refused by the service, with the field named
    with query() as session:
        zone = notices.get_settings(session=session, username=username).timezone
    return local.replace(tzinfo=ZoneInfo(zone)) if local.tzinfo is None else local


def _send_form(reply_to: int | None = None):
    form = request.form
    values = {"to_users": form.getlist("to_users"), "to_departments": form.getlist("to_departments"),
              "to_groups": form.getlist("to_groups"), "subject": form.get("subject", ""),
              "body": form.get("body", ""), "remind_at": form.get("remind_at", ""),
              "remind": form.get("remind", "me")}
    try:
        with command() as session:
            ids = []
            for upload in request.files.getlist("files"):
                if upload and upload.filename:
                    ids.append(attachments.store(session=session, store_dir=store_dir(), stream=upload.stream,
                                                 file_name=upload.filename, actor=current_user.username,
                                                 max_bytes=20 * 2**20).id)
            message = messages.send_message(
                session=session, sender=current_user.username, subject=values["subject"], body=values["body"],
                to_users=[v for v in values["to_users"] if v] or None,
                to_departments=[v for v in values["to_departments"] if v] or None,
                to_groups=[v for v in values["to_groups"] if v] or None, attachment_ids=ids, reply_to=reply_to,
                remind_at=_remind_at(values["remind_at"], current_user.username),
                remind=values["remind"] if values["remind"] in ("me", "them") else "me")
            message_id = message.id
    except (CollabError, AttachmentRefused) as exc:
        field = exc.details.get("field", "files") if isinstance(exc, CollabError) else "files"
        text = _field_messages().get(field, exc.message)
        return None, {field: text}, values
    return message_id, {}, values


@bp.route("/new", methods=["GET", "POST"])
@login_required
def compose():
    """Write a new message."""
    errors, values = {}, {"to_users": request.args.getlist("to"), "remind": "me"}
    if request.method == "POST":
        message_id, errors, values = _send_form()
        if message_id:
            flash(_("Message sent."), "success")
            return redirect(url_for("messages.thread", message_id=message_id))
    with query() as session:
        choices = _choices(session)
    return render_template("collab/compose.html", choices=choices, errors=errors, values=values), \
        400 if errors else 200


@bp.route("/<int:message_id>", methods=["GET", "POST"])
@login_required
def thread(message_id: int):
    """Show a thread, marking it read; a POST replies to it."""
    errors, values = {}, {}
    if request.method == "POST":
        reply_id, errors, values = _send_form(reply_to=message_id)
        if reply_id:
            flash(_("Reply sent."), "success")
            return redirect(url_for("messages.thread", message_id=reply_id))
    try:
        with command() as session:
            rows = messages.get_thread(session=session, message_id=message_id, username=current_user.username)
            files = {}
            for message in rows:
                for attachment_id in message.attachment_ids or []:
                    try:
                        files[attachment_id] = attachments.get_or_raise(session=session, attachment_id=attachment_id)
                    except AttachmentError:
                        continue
            names = org.display_names(session=session, usernames={m.sender for m in rows}
                                      | {r.username for m in rows for r in m.recipients})
    except NotFound:
        abort(404)
    return render_template("collab/thread.html", rows=rows, files=files, names=names, current_id=message_id,
                           errors=errors, values=values), 400 if errors else 200


@bp.get("/<int:message_id>/files/<int:attachment_id>")
@login_required
def download(message_id: int, attachment_id: int):
    """Download a file of a message the signed-in user sent or received."""
    with query() as session:
        try:
            message = messages.get_message_or_raise(session=session, message_id=message_id,
                                                    username=current_user.username)
            if attachment_id not in (message.attachment_ids or []):
                abort(404)
            attachment = attachments.get_or_raise(session=session, attachment_id=attachment_id)
        except (NotFound, AttachmentError):
            abort(404)
    return send_file(attachments.blob_source(store_dir=store_dir(), attachment=attachment),
                     mimetype=attachment.content_type, as_attachment=True, download_name=attachment.file_name)


@bp.get("/reminders")
@login_required
def reminders():
    """List the pending reminders the signed-in user set or will receive, soonest first."""
    page = page_arg()
    with query() as session:
        rows, total = messages.list_reminders(session=session, username=current_user.username, page=page,
                                              page_size=PAGE_SIZE)
        names = org.display_names(session=session, usernames={r.to for r in rows} | {r.set_by for r in rows})
    return render_template("collab/reminders.html", rows=rows, total=total, page=page, page_size=PAGE_SIZE,
                           names=names)


@bp.post("/reminders/<int:reminder_id>/cancel")
@login_required
def cancel_reminder(reminder_id: int):
    """Cancel a reminder the signed-in user set; it will not fire."""
    try:
        with command() as session:
            messages.cancel_reminder(session=session, reminder_id=reminder_id, username=current_user.username)
    except NotFound:
        abort(404)
    except Conflict as exc:
        if exc.details.get("status") == "sent":
            flash(_("This reminder was already delivered, so it can no longer be cancelled."), "warning")
        else:
            flash(_("This reminder is no longer pending, so it cannot be cancelled."), "warning")
        return redirect(url_for("messages.reminders"))
    flash(_("Reminder cancelled. It will not be sent."), "success")
    return redirect(url_for("messages.reminders"))

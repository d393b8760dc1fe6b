"""Admin pages of the permission model: role grants, access rules, "why can X see this?" and the audit log."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, time, timezone

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from audit import service as audit
from database.base import MAX_ID
from instances.actors import SYSTEM
from org import grants
from org import service as org
from org.errors import OrgError
from org.permissions import ACTIONS, EFFECTS, SCOPES, WHICH_KINDS, WHO_KINDS, access_for
from records import access as record_access
from records import service as records
from records.errors import NotFound as RecordNotFound

from ..db import command, query
from ..paging import page_arg
from .admin_common import require_admin

bp = Blueprint("access_admin", __name__, url_prefix="/admin/access")
bp.before_request(require_admin)
AUDIT_PAGE = 50


def _resources(session) -> list[tuple[str, str]]:
    out = [("records:*", _("All record types")), ("instances", _("Process instances")),
           ("calendar", _("Calendars")), ("*", _("Everything"))]
    for view in records.list_types(session=session, include_inactive=True):
        out.append((f"records:{view.key}", view.type.name_en or view.type.name))
    return out


@bp.get("/")
def grants_page():
    """List role grants by role, with a form to add one."""
    with query() as session:
        rows = grants.list_grants(session=session)
        roles = org.list_units(session=session, kind="role")
        resources = _resources(session)
    by_role: dict[str, list] = {}
    for row in rows:
        by_role.setdefault(row.role_code, []).append(row)
    return render_template("access/grants.html", by_role=by_role, roles=roles, resources=resources,
                           actions=ACTIONS, scopes=SCOPES, section="access")


@bp.post("/grants")
def add_grant():
    """Add a role grant."""
    form = request.form
    try:
        with command() as session:
            grants.add_grant(session=session, role=form.get("role", ""), resource=form.get("resource", ""),
                             action=form.get("action", ""), scope=form.get("scope", ""),
                             actor=current_user.username)
    except OrgError as exc:
        flash(_("Not added: %(reason)s", reason=exc.message), "error")
    else:
        flash(_("Grant added."), "success")
    return redirect(url_for("access_admin.grants_page"))


@bp.post("/grants/<int:grant_id>/delete")
def remove_grant(grant_id: int):
    """Withdraw a role grant."""
    try:
        with command() as session:
            grants.remove_grant(session=session, grant_id=grant_id, actor=current_user.username)
    except OrgError as exc:
        flash(exc.message, "error")
    else:
        flash(_("Grant withdrawn."), "info")
    return redirect(url_for("access_admin.grants_page"))


@bp.get("/rules")
def rules_page():
    """List access rules with a form to add one."""
    with query() as session:
        rows = grants.list_rules(session=session)
        resources = _resources(session)
        units = {kind: org.list_units(session=session, kind=kind) for kind in ("role", "department", "position",
                                                                               "group")}
    return render_template("access/rules.html", rows=rows, resources=resources, actions=ACTIONS, effects=EFFECTS,
                           who_kinds=WHO_KINDS, which_kinds=WHICH_KINDS, units=units, values={},
                           section="rules")


@bp.post("/rules")
def add_rule():
    """Add a grant or deny rule."""
    form = request.form
    try:
        with command() as session:
            grants.add_rule(session=session, effect=form.get("effect", ""), resource=form.get("resource", ""),
                            actions=form.getlist("actions"), who_kind=form.get("who_kind", ""),
                            who=form.get("who", ""), which_kind=form.get("which_kind", ""),
                            which=form.get("which", ""), note=form.get("note", ""), actor=current_user.username)
    except OrgError as exc:
        flash(_("Not added: %(reason)s", reason=exc.message), "error")
    else:
        flash(_("Rule added."), "success")
    return redirect(url_for("access_admin.rules_page"))


@bp.post("/rules/<int:rule_id>/delete")
def remove_rule(rule_id: int):
    """Delete an access rule."""
    try:
        with command() as session:
            grants.remove_rule(session=session, rule_id=rule_id, actor=current_user.username)
    except OrgError as exc:
        flash(exc.message, "error")
    else:
        flash(_("Rule deleted."), "info")
    return redirect(url_for("access_admin.rules_page"))


@bp.get("/explain")
def explain():
    """Say, for one user and one record, which actions are allowed and which grants or rules decide it."""
    username = (request.args.get("user") or "").strip()
    raw_id = (request.args.get("record") or "").strip()
    result, problem = None, None
    with query() as session:
        if username and raw_id:
            result, problem = _explain(session, username, raw_id)
        types = records.list_types(session=session)
    return render_template("access/explain.html", username=username, record_id=raw_id, result=result,
                           problem=problem, types=types, section="explain")


def _explain(session, username: str, raw_id: str):
    user = org.get_user_by_name(session=session, username=username)
    if user is None:
        return None, _("No user with this user name.")
    if not raw_id.isdecimal():
        return None, _("Enter a record number.")
    if len(raw_id) > 19 or int(raw_id) > MAX_ID:  # no id column holds it: the database would refuse it
        return None, _("No record with this number.")
    try:
        record, view = records.get_record_or_raise(session=session, record_id=int(raw_id), actor=SYSTEM,
                                                   include_deleted=True)
    except RecordNotFound:
        return None, _("No record with this number.")
    actor = org.actor_for(user)
    facts = record_access.facts(session, record)
    decisions = []
    for action in ("view", "edit", "delete", "export"):
        resolved = access_for(session=session, actor=actor, resource=f"records:{view.key}", action=action)
        decisions.append((action, resolved.allows(facts), resolved.explain(facts)))
    return {"user": user, "record": record, "view": view, "decisions": decisions}, None


def _day(value: str | None, end: bool = False) -> datetime | None:
    try:
        day = datetime.strptime((value or "").strip(), "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(day, time.max if end else time.min, tzinfo=timezone.utc)


def _audit_filters() -> dict:
    args = request.args
    return {"kind": args.get("kind") if args.get("kind") in ("change", "access") else None,
            "actor": (args.get("actor") or "").strip() or None, "action": (args.get("action") or "").strip() or None,
            "object_type": (args.get("object_type") or "").strip() or None,
            "object_id": (args.get("object_id") or "").strip() or None,
            "since": _day(args.get("from")), "until": _day(args.get("to"), end=True)}


@bp.get("/audit")
def audit_page():
    """Search the audit log by kind, person, action, object and date."""
    page = page_arg()
    with query() as session:
        rows, total = audit.search(session, page=page, page_size=AUDIT_PAGE, **_audit_filters())
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("access/audit.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // AUDIT_PAGE)), args=args, section="audit")


@bp.get("/audit.csv")
def audit_export():
    """Export the matching audit entries as CSV (UTF-8 with BOM, so spreadsheet programs read Chinese)."""
    filters = _audit_filters()
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(["id", "at", "kind", "action", "actor", "ip", "object_type", "object_id", "summary", "before",
                     "after"])
    with query() as session:
        count = 0
        for entry in audit.iterate(session, **filters):
            writer.writerow([entry.id, entry.at.isoformat(), entry.kind, entry.action, entry.actor, entry.ip,
                             entry.object_type, entry.object_id, entry.summary,
                             json.dumps(entry.before, ensure_ascii=False) if entry.before is not None else "",
                             json.dumps(entry.after, ensure_ascii=False) if entry.after is not None else ""])
            count += 1
    with command() as session:
        audit.log(session, kind="access", action="export", object_type="audit_log",
                  summary=f"{count} entries", after={k: str(v) for k, v in filters.items() if v})
    return Response(buffer.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=flowdesk-audit.csv"})


@bp.route("/fields", methods=["GET", "POST"])
def field_rights():
    """Keep chosen fields of a record type visible or editable for chosen roles only."""
    key = request.values.get("type") or ""
    with query() as session:
        types = records.list_types(session=session)
        roles = org.list_units(session=session, kind="role")
        view = next((v for v in types if v.key == key), None)
        if view is None and (key or request.method == "POST"):
            abort(404)  # never save one type's rights under another's name
        view = view or (types[0] if types else None)
    if view is None:
        return render_template("access/fields.html", types=[], view=None, roles=roles, rights={},
                               section="fields")
    if request.method == "POST":
        known = {r.code for r in roles}
        rights = {}
        for name in view.schema["properties"]:
            see = [c for c in request.form.getlist(f"view-{name}") if c in known]
            change = [c for c in request.form.getlist(f"edit-{name}") if c in known]
            if see or change:
                rights[name] = {k: v for k, v in (("view", see), ("edit", change)) if v}
        meta = {**view.meta, "field_access": rights}
        with command() as session:
            records.change_type(session=session, key=view.key, schema=view.schema, meta=meta,
                                actor=current_user.username, note="field rights")
        flash(_("Field rights of %(type)s saved.", type=view.type.name_en or view.type.name), "success")
        return redirect(url_for("access_admin.field_rights", type=view.key))
    return render_template("access/fields.html", types=types, view=view, roles=roles,
                           rights=view.meta.get("field_access") or {}, section="fields")

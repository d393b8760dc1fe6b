"""Admin pages for users: search and filter, create and edit, mark as left or bring back."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from instances import inbox
from instances.actors import SYSTEM
from org import service as org
from org.errors import OrgError
from org.models import USER_STATUSES
from org.passwords import MIN_LENGTH
from records import service as records
from records.errors import NotFound as RecordNotFound

from ..db import command, query
from ..i18n import select_locale
from ..paging import page_arg
from .admin_common import PAGE_SIZE, Discard, field_errors

TEXT_FIELDS = ("username", "display_name", "email", "phone", "department", "position", "superior", "status",
               "language", "password", "kind", "portal_record_id")
PORTAL_COMPANY_TYPES = ("customer", "partner")


def users():
    """List users with search, department and status filters, a page at a time."""
    args = {"q": request.args.get("q", "").strip(), "department": request.args.get("department", "").strip(),
            "status": request.args.get("status", "") if request.args.get("status") in USER_STATUSES else ""}
    page = page_arg()
    filters = {"query": args["q"] or None, "department": args["department"] or None, "status": args["status"] or None}
    with query() as session:
        total = org.count_users(session=session, **filters)
        pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        page = min(page, pages)
        rows = org.list_users(session=session, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, **filters)
        return render_template("admin/users.html", rows=rows, total=total, page=page, pages=pages, args=args,
                               link_args={k: v for k, v in args.items() if v},
                               tree=org.department_tree(session=session))


def _label(unit) -> str:
    name = unit.name_en if select_locale() == "en" and unit.name_en else unit.name
    return f"{name} ({unit.code})"


def _choices(session) -> dict:
    tree = org.department_tree(session=session)
    return {"tree_options": [(d.code, "\u00a0\u00a0" * depth + _label(d)) for d, depth in tree],
            "position_options": [(p.code, _label(p)) for p in org.list_units(session=session, kind="position")],
            "roles": org.list_units(session=session, kind="role"),
            "groups": org.list_units(session=session, kind="group"),
            "people": org.list_users(session=session, status="active", kind="staff", limit=1000),
            "record_types": records.list_types(session=session)}


def _values(user) -> dict:
    return {"username": user.username, "display_name": user.display_name, "email": user.email,
            "phone": user.phone, "department": user.department.code if user.department else "",
            "position": user.position.code if user.position else "",
            "superior": user.superior.username if user.superior else "", "status": user.status,
            "language": user.language or "", "roles": [r.code for r in user.roles],
            "groups": [g.code for g in user.groups], "kind": user.kind or "staff",
            "portal_record_id": str(user.portal_record_id or ""), "portal_modules": list(user.portal_modules or [])}


def _render(user_id: int | None, values: dict | None, errors: dict, status: int = 200):
    with query() as session:
        user = org.get_user(session=session, user_id=user_id) if user_id else None
        if user_id and user is None:
            abort(404)
        if values is None:  # first view: the user as stored, or a new employee
            values = _values(user) if user else {"status": "active", "roles": ["employee"], "groups": []}
        return render_template("admin/user_form.html", user=user, values=values, errors=errors,
                               **_choices(session)), status


def user_form(user_id: int | None = None):
    """Create a user, or edit one: details, department, superior, roles, groups, status, password."""
    if request.method == "GET":
        return _render(user_id, None, {})
    values = {key: request.form.get(key, "").strip() for key in TEXT_FIELDS}
    values["password"] = request.form.get("password", "")  # spaces may be part of a password
    values["roles"], values["groups"] = request.form.getlist("roles"), request.form.getlist("groups")
    values["portal_modules"] = request.form.getlist("portal_modules")
    values["kind"] = values["kind"] or "staff"
    errors: dict[str, str] = {}
    company = _portal_company(values, errors)
    if user_id is None and not values["password"]:
        errors["password"] = _("Set a first password so the user can sign in.")
    elif values["password"] and len(values["password"]) < MIN_LENGTH:
        errors["password"] = _("Use at least %(n)s characters.", n=MIN_LENGTH)
    if user_id == current_user.id:  # an admin must not lock themselves out by accident
        if values["status"] != "active":
            errors["status"] = _("You cannot mark yourself as left.")
        if "admin" not in values["roles"]:
            errors["roles"] = _("You cannot remove your own admin role.")
    try:
        with command() as session:
            user = org.get_user(session=session, user_id=user_id) if user_id else None
            if user_id and user is None:
                abort(404)
            saved = org.save_user(
                session=session, user=user, username=values["username"], display_name=values["display_name"],
                email=values["email"], phone=values["phone"], department=values["department"] or None,
                position=values["position"] or None, superior=values["superior"] or None,
                roles=values["roles"], groups=values["groups"], status=values["status"],
                language=values["language"] or None, password=(values["password"] or None) if not errors else None,
                kind=values["kind"], portal_record_id=company, portal_modules=values["portal_modules"])
            name = saved.display_name
            if errors:
                raise Discard
    except Discard:
        pass
    except OrgError as exc:
        errors = {**field_errors(exc), **errors}
    if errors:
        values["password"] = ""  # never echo a password back into the page
        return _render(user_id, values, errors, 422)
    flash(_("Saved %(name)s.", name=name), "success")
    return redirect(url_for("admin.users"))


def _portal_company(values: dict, errors: dict) -> int | None:
    """Check the company record of a portal account: a live customer or partner record."""
    if values["kind"] == "staff":
        return None
    raw = values["portal_record_id"]
    if not raw.isdigit() or len(raw) > 18:
        errors["portal_record_id"] = _("Enter the number of the customer's or partner's record.")
        return None
    with query() as session:
        try:
            _record, view = records.get_record_or_raise(session=session, record_id=int(raw), actor=SYSTEM)
        except RecordNotFound:
            view = None
    if view is None or view.key not in PORTAL_COMPANY_TYPES:
        errors["portal_record_id"] = _("No customer or partner record has this number.")
        return None
    return int(raw)


def user_leave(user_id: int):
    """Ask before marking a user as left, then do it: they cannot sign in, their history stays."""
    if user_id == current_user.id:
        flash(_("You cannot mark yourself as left."), "danger")
        return redirect(url_for("admin.user_form", user_id=user_id))
    if request.method == "GET":
        with query() as session:
            user = org.get_user(session=session, user_id=user_id)
            if user is None:
                abort(404)
            open_tasks = inbox.counts(session=session, actor=org.actor_for(user))["mine"]
            leads = [dept for dept, _depth in org.department_tree(session=session) if dept.leader_id == user.id]
            return render_template("admin/user_leave.html", user=user, open_tasks=open_tasks, leads=leads)
    name = _set_status(user_id, "left")
    flash(_("%(name)s is marked as left. Their history is kept.", name=name), "success")
    return redirect(url_for("admin.user_form", user_id=user_id))


def user_reactivate(user_id: int):
    """Let a user who left sign in again."""
    name = _set_status(user_id, "active")
    flash(_("%(name)s is active again.", name=name), "success")
    return redirect(url_for("admin.user_form", user_id=user_id))


def _set_status(user_id: int, status: str) -> str:
    with command() as session:
        user = org.get_user(session=session, user_id=user_id)
        if user is None:
            abort(404)
        org.set_status(session=session, user=user, status=status)
        return user.display_name


def register(bp) -> None:
    """Add the user pages to the admin blueprint."""
    bp.add_url_rule("/users", "users", users)
    bp.add_url_rule("/users/new", "user_new", user_form, methods=["GET", "POST"])
    bp.add_url_rule("/users/<int:user_id>/edit", "user_form", user_form, methods=["GET", "POST"])
    bp.add_url_rule("/users/<int:user_id>/leave", "user_leave", user_leave, methods=["GET", "POST"])
    bp.add_url_rule("/users/<int:user_id>/reactivate", "user_reactivate", user_reactivate, methods=["POST"])

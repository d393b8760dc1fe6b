"""Administration of the organisation: departments, positions, roles, groups, users, imports."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from org import service as org
from org.errors import Duplicate, OrgError

from ..db import command, query
from . import admin_import, admin_users
from .admin_common import KINDS, Discard, field_errors, require_admin, whole_number

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(require_admin)


@bp.context_processor
def _navigation_needs():
    # base.html asks current_app which endpoints exist; Jinja has no current_app unless it is given one.
    return {"current_app": current_app}


@bp.get("/")
def index():
    """Show the organisation at a glance, with links to each part."""
    with query() as session:
        counts = {"active": org.count_users(session=session, status="active"),
                  "left": org.count_users(session=session, status="left"),
                  **{kind: len(org.list_units(session=session, kind=kind))
                     for kind in ("department", "position", "role", "group")}}
        unplaced = org.count_users(session=session, status="active") - sum(
            org.count_members(session=session, kind="department").values())
    return render_template("admin/index.html", counts=counts, unplaced=unplaced)


def _department_form(session, values: dict, errors: dict, code: str | None):
    tree = org.department_tree(session=session)
    if code:  # a department cannot move under itself or one of its own sub-departments
        start = next((i for i, (d, _depth) in enumerate(tree) if d.code == code), None)
        if start is not None:
            end = next((i for i in range(start + 1, len(tree)) if tree[i][1] <= tree[start][1]), len(tree))
            tree = tree[:start] + tree[end:]
    parents = [(d.code, "\u00a0\u00a0" * depth + f"{d.name} ({d.code})") for d, depth in tree]
    users = org.list_users(session=session, status="active", kind="staff", limit=1000)
    return render_template("admin/department_form.html", values=values, errors=errors, code=code,
                           parents=parents, users=users)


@bp.get("/departments")
def departments():
    """Show the department tree with leaders and member counts."""
    with query() as session:
        tree = org.department_tree(session=session)
        members = org.count_members(session=session, kind="department")
        return render_template("admin/departments.html", tree=tree, members=members)


@bp.route("/departments/new", methods=["GET", "POST"], defaults={"code": None})
@bp.route("/departments/<code>/edit", methods=["GET", "POST"])
def department_form(code: str | None):
    """Create a department, or edit one (its code stays)."""
    errors: dict[str, str] = {}
    if request.method == "GET":
        with query() as session:
            values = {"sort": "0"}
            if code:
                dept = org.get_unit_or_raise(session=session, kind="department", code=code)
                values = {"code": dept.code, "name": dept.name, "name_en": dept.name_en, "sort": str(dept.sort),
                          "parent": dept.parent.code if dept.parent else "",
                          "leader": dept.leader.username if dept.leader else ""}
            return _department_form(session, values, errors, code)
    values = {key: request.form.get(key, "").strip() for key in ("code", "name", "name_en", "parent", "leader", "sort")}
    sort = whole_number(values["sort"], "sort", errors)
    try:
        with command() as session:
            if code:
                org.get_unit_or_raise(session=session, kind="department", code=code)
            elif org.get_unit(session=session, kind="department", code=values["code"]):
                raise Duplicate("code taken", details={"field": "code"})
            dept = org.save_unit(session=session, kind="department", code=code or values["code"],
                                 name=values["name"], name_en=values["name_en"], parent=values["parent"] or None,
                                 leader=values["leader"] or None, sort=sort)
            name = dept.name
            if errors:
                raise Discard
    except Discard:
        pass
    except OrgError as exc:
        if not exc.details.get("field") or (exc.details.get("field") == "code" and code):
            raise  # nothing on the form to point at: the error page says what happened
        errors = {**field_errors(exc), **errors}
    if errors:
        with query() as session:
            return _department_form(session, values, errors, code), 422
    flash(_("Saved department %(name)s.", name=name), "success")
    return redirect(url_for("admin.departments"))


def _kind(plural: str) -> str:
    if plural not in KINDS:
        abort(404)
    return KINDS[plural]


@bp.get("/<plural>")
def units(plural: str):
    """List positions, roles or groups with how many active users each has."""
    kind = _kind(plural)
    with query() as session:
        rows = org.list_units(session=session, kind=kind)
        members = org.count_members(session=session, kind=kind)
    return render_template("admin/units.html", plural=plural, kind=kind, rows=rows, members=members)


@bp.route("/<plural>/new", methods=["GET", "POST"], defaults={"code": None})
@bp.route("/<plural>/<code>/edit", methods=["GET", "POST"])
def unit_form(plural: str, code: str | None):
    """Create or edit a position, role or group (its code stays)."""
    kind = _kind(plural)
    errors: dict[str, str] = {}
    if request.method == "GET":
        values = {"level": "0"}
        if code:
            with query() as session:
                unit = org.get_unit_or_raise(session=session, kind=kind, code=code)
                values = {"code": unit.code, "name": unit.name, "name_en": unit.name_en,
                          "level": str(getattr(unit, "level", 0))}
        return render_template("admin/unit_form.html", plural=plural, kind=kind, code=code, values=values,
                               errors=errors)
    values = {key: request.form.get(key, "").strip() for key in ("code", "name", "name_en", "level")}
    extra = {"level": whole_number(values["level"], "level", errors)} if kind == "position" else {}
    try:
        with command() as session:
            if code:
                org.get_unit_or_raise(session=session, kind=kind, code=code)
            elif org.get_unit(session=session, kind=kind, code=values["code"]):
                raise Duplicate("code taken", details={"field": "code"})
            unit = org.save_unit(session=session, kind=kind, code=code or values["code"], name=values["name"],
                                 name_en=values["name_en"], **extra)
            name = unit.name
            if errors:
                raise Discard
    except Discard:
        pass
    except OrgError as exc:
        if not exc.details.get("field") or (exc.details.get("field") == "code" and code):
            raise
        errors = {**field_errors(exc), **errors}
    if errors:
        return render_template("admin/unit_form.html", plural=plural, kind=kind, code=code, values=values,
                               errors=errors), 422
    flash(_("Saved %(name)s.", name=name), "success")
    return redirect(url_for("admin.units", plural=plural))


admin_users.register(bp)
admin_import.register(bp)

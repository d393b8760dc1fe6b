"""People and departments."""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _

from database.base import MAX_INT32
from org import service as org
from org.errors import Duplicate
from org.models import USER_STATUSES

from ..db import command, query
from . import bp
from .common import (
    ApiError,
    bad_input,
    choice_arg,
    forbid_unless,
    json_body,
    me,
    page_args,
    page_json,
    text_field,
)


def _unit(unit) -> dict | None:
    if unit is None:
        return None
    return {"id": int(unit.id), "code": unit.code, "name": unit.name, "name_en": unit.name_en}


def user_json(user) -> dict:
    """Describe a user as the directory shows them."""
    return {"id": int(user.id), "username": user.username, "display_name": user.display_name, "email": user.email,
            "phone": user.phone, "department": _unit(user.department), "position": _unit(user.position),
            "superior": user.superior.username if user.superior else None,
            "roles": sorted(r.code for r in user.roles), "groups": sorted(g.code for g in user.groups),
            "status": user.status, "language": user.language}


@bp.get("/users")
def list_users():
    """List users, filtered by department code, text and status, one page at a time."""
    page, page_size = page_args()
    filters = {"department": (request.args.get("department") or "").strip() or None,
               "query": (request.args.get("q") or "").strip() or None,
               "status": choice_arg("status", USER_STATUSES)}
    with query() as session:
        total = org.count_users(session=session, **filters)
        rows = org.list_users(session=session, limit=page_size, offset=(page - 1) * page_size, **filters)
        items = [user_json(u) for u in rows]
    return jsonify(page_json(items, total, page, page_size))


@bp.get("/users/<username>")
def get_user(username: str):
    """Describe one user."""
    with query() as session:
        return jsonify(user_json(org.get_user_or_raise(session=session, username=username)))


@bp.get("/departments")
def departments():
    """Return the department tree with each department's leader."""
    with query() as session:
        rows = org.list_units(session=session, kind="department")
        nodes = {d.id: {**_unit(d), "sort": d.sort, "parent_id": d.parent_id, "children": [],
                        "leader": {"username": d.leader.username, "display_name": d.leader.display_name}
                        if d.leader else None} for d in rows}
    roots = []
    for node in sorted(nodes.values(), key=lambda n: (n["sort"], n["code"])):
        parent = nodes.get(node["parent_id"])
        (parent["children"] if parent is not None else roots).append(node)
    return jsonify(items=roots)


# --- Administration: create and change people, departments, positions, roles and groups (admins only). ---

USER_FIELDS = {"username", "display_name", "email", "phone", "department", "position", "superior", "roles", "groups",
               "status", "language", "password"}
UNIT_FIELDS = {"code", "name", "name_en"}
DEPARTMENT_FIELDS = UNIT_FIELDS | {"parent", "leader", "sort"}
KINDS = {"positions": "position", "roles": "role", "groups": "group"}
MAX_INT = MAX_INT32  # sort and level are 32-bit columns
MAX_PASSWORD = 1000
MAX_LIST = 200


def _admin() -> None:
    forbid_unless(me().is_admin)


def _codes(body: dict, name: str) -> list[str]:
    """Return a body field that must be a list of codes, stripped and without repeats."""
    value = body.get(name)
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise bad_input(name, _("%(field)s must be a list of at most %(limit)s codes.", field=name, limit=MAX_LIST))
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip() or len(item.strip()) > 64:
            raise bad_input(name, _("%(field)s must be a list of codes.", field=name))
        if item.strip() not in out:
            out.append(item.strip())
    return out


def _whole(body: dict, name: str, default: int) -> int:
    """Return a body field that must be a 32-bit whole number (missing gives the default)."""
    if name not in body:
        return default
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int) or not -MAX_INT <= value <= MAX_INT:
        raise bad_input(name, _("%(field)s must be a whole number from %(low)s to %(high)s.",
                                field=name, low=-MAX_INT, high=MAX_INT))
    return value


def _password(body: dict) -> str | None:
    value = body.get("password")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_PASSWORD:
        raise bad_input("password", _("%(field)s must be text of at most %(limit)s characters.",
                                      field="password", limit=MAX_PASSWORD))
    return value or None


def _user_values(body: dict, current: dict) -> dict:
    """Merge the given user fields over the current values (a field given as null or "" is cleared)."""
    values = dict(current)
    limits = {"username": 150, "display_name": 200, "email": 254, "phone": 50, "department": 64, "position": 64,
              "superior": 150, "status": 20, "language": 10}
    for name, limit in limits.items():
        if name in body:
            values[name] = text_field(body, name, limit=limit)
    for name in ("roles", "groups"):
        if name in body:
            values[name] = _codes(body, name)
    values["email"], values["phone"] = values.get("email") or "", values.get("phone") or ""
    values["username"], values["display_name"] = values.get("username") or "", values.get("display_name") or ""
    values["status"] = values.get("status") or ""
    return values


def _refuse_self_lockout(values: dict) -> None:
    """An admin must not lock themselves out by accident: refuse leaving or dropping their own admin role."""
    if values["status"] != "active":
        raise ApiError(422, "self_lockout", _("You cannot mark yourself as left."), {"field": "status"})
    if "admin" not in values["roles"]:
        raise ApiError(422, "self_lockout", _("You cannot remove your own admin role."), {"field": "roles"})


@bp.post("/users")
def create_user():
    """Create a user (admins); a first password is required."""
    _admin()
    body = json_body(USER_FIELDS, required=("username", "display_name", "password"))
    values = _user_values(body, {"status": "active", "roles": [], "groups": []})
    password = _password(body)
    if password is None:
        raise bad_input("password", _("%(field)s is required.", field="password"))
    with command() as session:
        user = org.save_user(session=session, password=password, **values)
        out = user_json(user)
    return jsonify(out), 201


@bp.patch("/users/<username>")
def update_user(username: str):
    """Change a user (admins): fields left out keep their values."""
    _admin()
    body = json_body(USER_FIELDS)
    with command() as session:
        user = org.get_user_or_raise(session=session, username=username)
        current = {"username": user.username, "display_name": user.display_name, "email": user.email,
                   "phone": user.phone, "department": user.department.code if user.department else None,
                   "position": user.position.code if user.position else None,
                   "superior": user.superior.username if user.superior else None,
                   "roles": [r.code for r in user.roles], "groups": [g.code for g in user.groups],
                   "status": user.status, "language": user.language}
        values = _user_values(body, current)
        if user.id == me().id:
            _refuse_self_lockout(values)
        saved = org.save_user(session=session, user=user, password=_password(body), **values)
        out = user_json(saved)
    return jsonify(out)


def department_json(dept) -> dict:
    """Describe one department with its parent and leader."""
    return {**_unit(dept), "sort": dept.sort, "parent_id": dept.parent_id,
            "parent": dept.parent.code if dept.parent else None,
            "leader": {"username": dept.leader.username, "display_name": dept.leader.display_name}
            if dept.leader else None}


def _unit_texts(body: dict) -> dict:
    return {name: text_field(body, name, limit=200) for name in ("name", "name_en") if name in body}


def _same_code(body: dict, code: str) -> None:
    """Refuse a change of code: codes name units in processes and imports, so they stay."""
    if "code" in body and text_field(body, "code", limit=64) != code:
        raise bad_input("code", _("The code cannot be changed."))


@bp.post("/departments")
def create_department():
    """Create a department (admins)."""
    _admin()
    body = json_body(DEPARTMENT_FIELDS, required=("code", "name"))
    code = text_field(body, "code", limit=64) or ""
    texts = _unit_texts(body)
    parent, leader = text_field(body, "parent", limit=64), text_field(body, "leader", limit=150)
    sort = _whole(body, "sort", 0)
    with command() as session:
        if org.get_unit(session=session, kind="department", code=code) is not None:
            raise Duplicate(f"a department with code '{code}' exists", details={"field": "code"})
        dept = org.save_unit(session=session, kind="department", code=code, name=texts.get("name") or "",
                             name_en=texts.get("name_en") or "", parent=parent, leader=leader, sort=sort)
        out = department_json(dept)
    return jsonify(out), 201


@bp.patch("/departments/<code>")
def update_department(code: str):
    """Change a department (admins): fields left out keep their values; the code stays."""
    _admin()
    body = json_body(DEPARTMENT_FIELDS)
    texts = _unit_texts(body)
    with command() as session:
        dept = org.get_unit_or_raise(session=session, kind="department", code=code)
        _same_code(body, dept.code)
        parent = text_field(body, "parent", limit=64) if "parent" in body else \
            (dept.parent.code if dept.parent else None)
        leader = text_field(body, "leader", limit=150) if "leader" in body else \
            (dept.leader.username if dept.leader else None)
        dept = org.save_unit(session=session, kind="department", code=dept.code,
                             name=texts.get("name", dept.name) or "", name_en=texts.get("name_en", dept.name_en) or "",
                             parent=parent, leader=leader, sort=_whole(body, "sort", dept.sort))
        out = department_json(dept)
    return jsonify(out)


def unit_json(unit) -> dict:
    """Describe a position (with its level), role or group."""
    out = _unit(unit)
    if hasattr(unit, "level"):
        out["level"] = unit.level
    return out


def _unit_routes(plural: str, kind: str) -> None:
    fields = UNIT_FIELDS | ({"level"} if kind == "position" else set())

    def list_units():
        with query() as session:
            return jsonify(items=[unit_json(u) for u in org.list_units(session=session, kind=kind)])

    def create_unit():
        _admin()
        body = json_body(fields, required=("code", "name"))
        code = text_field(body, "code", limit=64) or ""
        texts = _unit_texts(body)
        extra = {"level": _whole(body, "level", 0)} if kind == "position" else {}
        with command() as session:
            if org.get_unit(session=session, kind=kind, code=code) is not None:
                raise Duplicate(f"a {kind} with code '{code}' exists", details={"field": "code"})
            unit = org.save_unit(session=session, kind=kind, code=code, name=texts.get("name") or "",
                                 name_en=texts.get("name_en") or "", **extra)
            out = unit_json(unit)
        return jsonify(out), 201

    def update_unit(code: str):
        _admin()
        body = json_body(fields)
        texts = _unit_texts(body)
        with command() as session:
            unit = org.get_unit_or_raise(session=session, kind=kind, code=code)
            _same_code(body, unit.code)
            extra = {"level": _whole(body, "level", unit.level)} if kind == "position" else {}
            unit = org.save_unit(session=session, kind=kind, code=unit.code, name=texts.get("name", unit.name) or "",
                                 name_en=texts.get("name_en", unit.name_en) or "", **extra)
            out = unit_json(unit)
        return jsonify(out)

    list_units.__doc__ = f"List the {plural} by code."
    create_unit.__doc__ = f"Create a {kind} (admins)."
    update_unit.__doc__ = f"Change a {kind} (admins): fields left out keep their values; the code stays."
    bp.add_url_rule(f"/{plural}", f"list_{plural}", list_units, methods=["GET"])
    bp.add_url_rule(f"/{plural}", f"create_{kind}", create_unit, methods=["POST"])
    bp.add_url_rule(f"/{plural}/<code>", f"update_{kind}", update_unit, methods=["PATCH"])


for _plural, _kind in KINDS.items():
    _unit_routes(_plural, _kind)

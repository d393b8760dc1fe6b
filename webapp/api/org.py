"""People and departments."""
from __future__ import annotations

from flask import jsonify, request

from org import service as org
from org.models import USER_STATUSES

from ..db import query
from . import bp
from .common import choice_arg, page_args, page_json


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

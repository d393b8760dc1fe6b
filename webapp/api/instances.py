"""Process instances: a filtered list, one instance with its tasks and history, its progress diagram."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Response, jsonify, request
from flask_babel import gettext as _

from definitions import service as definitions
from instances import inbox, lifecycle, monitor, service, visibility
from instances.errors import InstanceNotFound
from org import service as org
from org.instance_access import watch_clause

from ..db import command, query
from . import bp
from .common import (
    ApiError,
    bad_input,
    bool_arg,
    choice_arg,
    date_arg,
    history_json,
    instance_json,
    iso,
    json_body,
    me,
    page_args,
    page_json,
    task_json,
    text_field,
)

MAX_DEPARTMENT_USERS = 10_000


def visible_or_404(session, instance_id: int):
    """Return an instance the caller may see, or raise InstanceNotFound."""
    instance = service.get_instance_or_raise(session=session, instance_id=instance_id)
    current = me()
    if not visibility.may_view(session=session, actor=current.actor, instance=instance,
                               watch=watch_clause(session, current.actor)):
        raise InstanceNotFound(f"no process instance {instance_id}", details={"id": instance_id})
    return instance


@bp.get("/instances")
def list_instances():
    """List instances newest first: those the caller takes part in or, by the permission model, may watch."""
    page, page_size = page_args()
    current = me()
    status = choice_arg("status", monitor.STATUSES)
    started_from, started_to = date_arg("started_from"), date_arg("started_to", end=True)
    overdue = bool_arg("overdue")
    department = (request.args.get("department") or "").strip() or None
    with query() as session:
        initiators = None
        if department:
            initiators = [u.username for u in org.list_users(session=session, department=department,
                                                              limit=MAX_DEPARTMENT_USERS)]
        rows, total = monitor.list_instances(
            session=session, process=(request.args.get("process") or "").strip() or None, status=status,
            initiators=initiators, started_from=started_from, started_to=started_to, overdue=overdue,
            page=page, page_size=page_size, visible_to=current.actor, watch=watch_clause(session, current.actor))
        items = [instance_json(i) for i in rows]
    return jsonify(page_json(items, total, page, page_size))


@bp.get("/instances/<int:instance_id>")
def get_instance(instance_id: int):
    """Describe an instance: status, data, active tasks and history."""
    with query() as session:
        instance = visible_or_404(session, instance_id)
        version = definitions.get_version_or_raise(session=session, definition_id=instance.definition_id)
        out = {**instance_json(instance), "data": instance.data or {}, "incident": instance.incident,
               "definition": {"id": int(version.id), "key": version.key, "version": version.version,
                              "name": version.name},
               "active_tasks": [task_json(i) for i in service.list_open_work_items(session=session,
                                                                                  instance_id=instance.id)],
               "history": [history_json(h) for h in service.list_history(session=session, instance_id=instance.id)]}
    with command() as session:
        inbox.mark_copy_read(session=session, actor=me().actor, instance_id=instance_id)
    return jsonify(out)


@bp.get("/instances/<int:instance_id>/diagram.svg")
def instance_diagram(instance_id: int):
    """Draw the instance's progress on its model as SVG."""
    from ..diagrams import instance_svg

    with query() as session:
        instance = visible_or_404(session, instance_id)
        svg = instance_svg(session, instance)
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


def _reason_body(required: bool) -> str | None:
    body = json_body({"reason"}, required=("reason",) if required else ())
    return text_field(body, "reason", limit=lifecycle.MAX_REASON)


def _lifecycle(instance_id: int, verb, required: bool):
    reason = _reason_body(required)
    with command() as session:
        visible_or_404(session, instance_id)
        out = instance_json(verb(session=session, instance_id=instance_id, actor=me().actor, reason=reason))
    return jsonify(out)


@bp.post("/instances/<int:instance_id>/terminate")
def terminate_instance(instance_id: int):
    """End an instance for good with a reason, cancelling its open tasks (admins)."""
    return _lifecycle(instance_id, lifecycle.terminate_instance, True)


@bp.post("/instances/<int:instance_id>/suspend")
def suspend_instance(instance_id: int):
    """Pause a running instance (admins)."""
    return _lifecycle(instance_id, lifecycle.suspend_instance, False)


@bp.post("/instances/<int:instance_id>/resume")
def resume_instance(instance_id: int):
    """Let a suspended instance run again (admins)."""
    return _lifecycle(instance_id, lifecycle.resume_instance, False)


@bp.post("/instances/<int:instance_id>/withdraw")
def withdraw_instance(instance_id: int):
    """Take back one's own request with a reason while nobody else has acted on it."""
    return _lifecycle(instance_id, lifecycle.withdraw_instance, True)


def proxy_json(proxy) -> dict:
    """Describe a standing proxy."""
    return {"id": int(proxy.id), "username": proxy.username, "proxy": proxy.proxy,
            "starts_at": iso(proxy.starts_at), "ends_at": iso(proxy.ends_at),
            "definition_keys": proxy.definition_keys, "created_at": iso(proxy.created_at),
            "revoked_at": iso(proxy.revoked_at), "state": lifecycle.proxy_state(proxy)}


def _moment(body: dict, name: str) -> datetime:
    value = text_field(body, name, limit=40)
    try:
        moment = datetime.fromisoformat(value or "")
    except ValueError:
        raise bad_input(name, _("%(field)s must be an ISO-8601 date or timestamp.", field=name)) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@bp.get("/me/proxies")
def list_proxies():
    """List the caller's standing proxies, newest first, and those naming the caller."""
    with query() as session:
        mine = [proxy_json(p) for p in lifecycle.list_proxies(session=session, actor=me().actor)]
        acting = [proxy_json(p) for p in lifecycle.list_proxies(session=session, actor=me().actor, acting_for=True)]
    return jsonify({"items": mine, "acting_for": acting})


@bp.post("/me/proxies")
def create_proxy():
    """Have another user receive the caller's new direct tasks between two moments."""
    body = json_body({"proxy", "starts_at", "ends_at", "definition_keys"}, required=("proxy", "starts_at", "ends_at"))
    name = text_field(body, "proxy", limit=150)
    starts_at, ends_at = _moment(body, "starts_at"), _moment(body, "ends_at")
    with command() as session:
        user = org.get_user_by_name(session=session, username=name)
        if user is None or not user.active:
            raise ApiError(404, "not_found", _("No active user %(name)s.", name=name), {"field": "proxy"})
        proxy = lifecycle.set_proxy(session=session, actor=me().actor, proxy_user=user.username, starts_at=starts_at,
                                    ends_at=ends_at, definition_keys=body.get("definition_keys"))
        out = proxy_json(proxy)
    return jsonify(out), 201


@bp.post("/me/proxies/<int:proxy_id>/revoke")
def revoke_proxy(proxy_id: int):
    """End one of the caller's standing proxies now."""
    json_body(set())
    with command() as session:
        out = proxy_json(lifecycle.revoke_proxy(session=session, actor=me().actor, proxy_id=proxy_id))
    return jsonify(out)

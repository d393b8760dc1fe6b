"""Process instances: a filtered list, one instance with its tasks and history, its progress diagram."""
from __future__ import annotations

from flask import Response, jsonify, request

from definitions import service as definitions
from instances import inbox, monitor, service, visibility
from instances.errors import InstanceNotFound
from org import service as org

from ..db import command, query
from . import bp
from .common import (
    bool_arg,
    choice_arg,
    date_arg,
    history_json,
    instance_json,
    me,
    page_args,
    page_json,
    task_json,
)

MAX_DEPARTMENT_USERS = 10_000


def visible_or_404(session, instance_id: int):
    """Return an instance the caller may see, or raise InstanceNotFound."""
    instance = service.get_instance_or_raise(session=session, instance_id=instance_id)
    current = me()
    if not visibility.may_view(session=session, actor=current.actor, instance=instance, watcher=current.is_manager):
        raise InstanceNotFound(f"no process instance {instance_id}", details={"id": instance_id})
    return instance


@bp.get("/instances")
def list_instances():
    """List instances newest first: managers see all, others those they started or take part in."""
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
            page=page, page_size=page_size, visible_to=None if current.is_manager else current.actor)
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

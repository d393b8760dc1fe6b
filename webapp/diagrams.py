"""Glue between stored instances and the diagrams package."""
from __future__ import annotations

from flask_babel import get_locale

from definitions import service as definitions
from diagrams import progress_from_history, render_definition
from instances import service


def _event(h) -> dict:
    return {"type": h.type, "element_id": h.element_id, "actor": h.actor, "at": h.at, "details": h.details or {}}


def _item(i) -> dict:
    return {"element_id": i.element_id, "assignee": i.assignee, "candidate_users": i.candidate_users,
            "candidate_groups": i.candidate_groups, "created_at": i.created_at}


def instance_svg(session, instance) -> str:
    """Render an instance's model with its progress."""
    version = definitions.get_version_or_raise(session=session, definition_id=instance.definition_id)
    history = [_event(h) for h in service.list_history(session=session, instance_id=instance.id)]
    items = [_item(i) for i in service.list_open_work_items(session=session, instance_id=instance.id)]
    error = (instance.incident or {}).get("element_id") if instance.status == "incident" else None
    timers = []
    if instance.status == "running" and instance.next_wake_at is not None:
        runtime = definitions.runtime_for(session=session, version=version)
        timers = runtime.waiting_timer_elements(runtime.load(instance.state))
    progress = progress_from_history(history, items, {"timers": timers, "error": error})
    return render_definition(version.file_map(), version.primary_process_id, progress=progress,
                             lang=str(get_locale() or "en"))


def definition_svg(version, aggregate: dict | None = None) -> str:
    """Render a definition, optionally with active tokens and waiting times per node."""
    return render_definition(version.file_map(), version.primary_process_id, aggregate=aggregate,
                             lang=str(get_locale() or "en"))

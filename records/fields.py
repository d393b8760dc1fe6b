"""Field-level permissions: a record type can keep fields visible or editable for chosen roles only.

The type's metadata holds `field_access: {"credit_limit": {"view": ["finance"], "edit": ["finance"]}}`
(role codes). A field with a `view` list is hidden from everyone else, in pages, the API, filters and
sorting; a field with an `edit` list is read-only for everyone else. Admins see and change everything.
"""
from __future__ import annotations

from instances.actors import Actor


def _roles(actor: Actor) -> set[str]:
    return {g.split(":", 1)[1] for g in actor.groups if g.startswith("role:")}


def _allowed(view, actor: Actor, name: str, what: str) -> bool:
    rule = (view.meta.get("field_access") or {}).get(name) or {}
    roles = rule.get(what) if what == "view" else (rule.get("edit") or rule.get("view"))
    return actor.is_admin or not roles or bool(_roles(actor) & set(roles))


def hidden(view, actor: Actor) -> set[str]:
    """Name the fields the actor may not see."""
    return {name for name in view.schema["properties"] if not _allowed(view, actor, name, "view")}


def not_editable(view, actor: Actor) -> set[str]:
    """Name the fields the actor may not change."""
    return {name for name in view.schema["properties"] if not _allowed(view, actor, name, "edit")}


def visible_data(view, actor: Actor, data: dict | None) -> dict:
    """Return a record's data without the fields the actor may not see."""
    concealed = hidden(view, actor)
    return {k: v for k, v in (data or {}).items() if k not in concealed}

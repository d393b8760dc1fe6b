"""Who may read, create, change and delete records, as one place the finer permission rules will replace.

Until role scopes and row rules arrive, every staff member reads every record (a CRM's shared
customer base), anyone creates records of active types, the owner, the creator, managers and
admins change them, and the owner and admins delete and restore them. Lists apply `read_clause`
in SQL, so the rules never filter after loading.
"""
from __future__ import annotations

from sqlalchemy import true

from instances.actors import Actor

EDITOR_GROUPS = frozenset({"role:manager"})


def may_read(actor: Actor, record) -> bool:
    """Tell whether the actor may see a record."""
    return bool(actor.username)


def read_clause(actor: Actor):
    """Return the SQL condition on `record` rows the actor may see."""
    return true()


def may_create(actor: Actor, view) -> bool:
    """Tell whether the actor may create records of a type."""
    return bool(actor.username)


def may_edit(actor: Actor, record) -> bool:
    """Tell whether the actor may change a record."""
    return actor.is_admin or actor.username in (record.owner, record.created_by) or bool(actor.groups & EDITOR_GROUPS)


def may_delete(actor: Actor, record) -> bool:
    """Tell whether the actor may delete or restore a record."""
    return actor.is_admin or actor.username == record.owner

"""Share folders with people, departments, roles, groups and positions; set or reset a folder's own permissions."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from instances.actors import Actor
from org.models import Department, Position, Role, User, WorkGroup

from . import access
from .folders import retarget_acl
from .library import ACTIONS, ALL, READ, get_folder_or_raise, record
from .library_errors import InvalidInput, NotFound
from .models import DocFolder, DocPermission

# The share kinds people pick, and the prefix of the principal each becomes (Actor.groups uses the same).
KINDS = {"user": "user", "department": "dept", "department_tree": "dept_tree", "role": "role", "group": "group",
         "position": "position", "everyone": "everyone"}
_MODELS = {"department": Department, "department_tree": Department, "role": Role, "group": WorkGroup,
           "position": Position}


@dataclass(frozen=True)
class PermissionLine:
    """One permission row as the permissions page shows it: where it is set and whether it is inherited."""

    folder_id: int
    principal: str
    actions: list[str]
    inherited: bool


def mask_of(actions: list[str]) -> int:
    """Return the bit mask of action names: manage implies every action, any action implies read."""
    if not isinstance(actions, list | tuple | set) or not actions:
        raise InvalidInput("choose at least one action", details={"field": "actions"})
    mask = 0
    for name in actions:
        mask |= access.bit(name)
    return ALL if mask & ACTIONS["manage"] else mask | READ


def principal(session: Session, kind: str, code: str = "") -> str:
    """Return the principal for a share kind and code, checking the user or unit exists."""
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", details={"field": "kind"})
    if kind == "everyone":
        return "everyone"
    code = (code or "").strip()
    model = _MODELS.get(kind)
    found = session.scalar(select(User.id).where(User.username == code)) if model is None else \
        session.scalar(select(model.id).where(model.code == code))
    if found is None:
        raise NotFound(f"no {kind.replace('_tree', '')} '{code}'", details={"field": "code", "kind": kind})
    return f"{KINDS[kind]}:{code}"


def share_folder(*, session: Session, folder_id: int, kind: str, code: str = "", actions: list[str],
                 actor: Actor) -> DocPermission:
    """Give a user, department (tree), role, group, position or everyone actions on a folder and below."""
    folder = get_folder_or_raise(session, folder_id)
    access.require(session, actor, "manage", folder)
    who, mask = principal(session, kind, code), mask_of(actions)
    row = session.scalar(select(DocPermission).where(DocPermission.folder_id == folder.id,
                                                     DocPermission.principal == who))
    before = access.action_names(row.actions) if row else None
    if row is None:
        row = DocPermission(folder_id=folder.id, principal=who, actions=mask, created_by=actor.username)
        session.add(row)
    row.actions = mask
    session.flush()
    record(session, actor, "folder.shared", "doc_folder", folder.id, folder.name,
           before={"principal": who, "actions": before} if before else None,
           after={"principal": who, "actions": access.action_names(mask)})
    return row


def revoke_share(*, session: Session, folder_id: int, kind: str, code: str = "", actor: Actor) -> None:
    """Take a principal's row off a folder (what it inherits from above stays)."""
    folder = get_folder_or_raise(session, folder_id)
    access.require(session, actor, "manage", folder)
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", details={"field": "kind"})
    # No existence check: a share with someone who has since left must still be removable.
    who = "everyone" if kind == "everyone" else f"{KINDS[kind]}:{(code or '').strip()}"
    row = session.scalar(select(DocPermission).where(DocPermission.folder_id == folder.id,
                                                     DocPermission.principal == who))
    if row is None:
        raise NotFound(f"folder '{folder.name}' is not shared with {who}",
                       details={"folder_id": folder.id, "principal": who})
    record(session, actor, "folder.unshared", "doc_folder", folder.id, folder.name,
           before={"principal": who, "actions": access.action_names(row.actions)})
    session.delete(row)
    session.flush()


def set_folder_permissions(*, session: Session, folder_id: int, entries: list[tuple[str, str, list[str]]],
                           actor: Actor) -> list[DocPermission]:
    """Set a folder's own permissions (kind, code, actions): nothing from above applies to it any more."""
    folder = get_folder_or_raise(session, folder_id)
    access.require(session, actor, "manage", folder)
    rows: dict[str, int] = {}
    for kind, code, actions in entries:
        rows[principal(session, kind, code)] = mask_of(actions)
    before = _own(session, folder)
    session.execute(delete(DocPermission).where(DocPermission.folder_id == folder.id))
    session.add_all(DocPermission(folder_id=folder.id, principal=p, actions=m, created_by=actor.username)
                    for p, m in rows.items())
    if folder.inherit:
        folder.inherit = False
        retarget_acl(session, folder, folder.acl_root_id, folder.id)
    session.flush()
    record(session, actor, "folder.permissions_set", "doc_folder", folder.id, folder.name,
           before={"entries": before}, after={"entries": {p: access.action_names(m) for p, m in sorted(rows.items())}})
    return list(session.scalars(select(DocPermission).where(DocPermission.folder_id == folder.id)))


def restore_inheritance(*, session: Session, folder_id: int, actor: Actor) -> DocFolder:
    """Drop a folder's own permissions and shares so it takes its parent's again (not for a library root)."""
    folder = get_folder_or_raise(session, folder_id)
    access.require(session, actor, "manage", folder)
    if folder.parent_id is None:
        raise InvalidInput("a library's root folder always sets its own permissions", details={"field": "folder_id"})
    before = _own(session, folder)
    session.execute(delete(DocPermission).where(DocPermission.folder_id == folder.id))
    if not folder.inherit:
        parent = get_folder_or_raise(session, folder.parent_id, deleted=True)
        folder.inherit = True
        retarget_acl(session, folder, folder.id, parent.acl_root_id)
    session.flush()
    record(session, actor, "folder.inheritance_restored", "doc_folder", folder.id, folder.name,
           before={"entries": before})
    return folder


def _own(session: Session, folder: DocFolder) -> dict[str, list[str]]:
    return {p: access.action_names(m) for p, m in session.execute(
        select(DocPermission.principal, DocPermission.actions).where(DocPermission.folder_id == folder.id)
        .order_by(DocPermission.principal))}


def list_permissions(*, session: Session, folder_id: int, actor: Actor) -> list[PermissionLine]:
    """List the rows that apply to a folder, its own first, then those inherited from above; needs manage."""
    folder = get_folder_or_raise(session, folder_id)
    access.require(session, actor, "manage", folder)
    lines, current = [], folder
    while current is not None:
        for row in session.scalars(select(DocPermission).where(DocPermission.folder_id == current.id)
                                   .order_by(DocPermission.principal)):
            lines.append(PermissionLine(current.id, row.principal, access.action_names(row.actions),
                                        current.id != folder.id))
        if not current.inherit or current.parent_id is None:
            break
        current = session.get(DocFolder, current.parent_id)
    return lines

"""Who may do what on which folder: the actor's principals, the inheritance rule, checks and SQL predicates.

A folder's actions for an actor are the union of the permission rows naming one of the actor's principals
on the folder and on each ancestor up to and including the nearest folder that sets its own permissions
(`inherit` false; a library's root always does). Sharing adds rows; setting permissions on a subfolder
cuts what comes from above. Besides rows, some people hold every action on a whole library: the owner of
a personal drive, a department library's leader and library admins, and administrators on every library
except personal drives (which they reach only with `recovery=True`, audited).

`may` walks the tree through parent links; the SQL predicate uses the materialised ancestor table and
`acl_root_id` instead, so a search can filter thousands of folders in one query. Tests check that both agree.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from instances.actors import Actor
from org.models import Department, User

from .library import ACTIONS, ALL, record
from .library_errors import InvalidInput, NotAllowed
from .models import DocDocument, DocFolder, DocFolderAncestor, DocLibrary, DocLibraryAdmin, DocPermission

_GROUP_KINDS = ("role", "group", "dept", "position")


@dataclass(frozen=True)
class Viewer:
    """What permission checks need of one actor: their principals and the libraries they manage outright."""

    actor: Actor
    principals: frozenset[str]
    managed: frozenset[int]


def bit(action: str) -> int:
    """Return the bit of an action name, or raise InvalidInput."""
    if action not in ACTIONS:
        raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}", details={"field": "action"})
    return ACTIONS[action]


def action_names(mask: int) -> list[str]:
    """Return the names of the actions in a bit mask."""
    return [name for name, value in ACTIONS.items() if mask & value]


def principals_for(session: Session, actor: Actor) -> frozenset[str]:
    """Return the principals an actor matches: user, roles, groups, department, position, department tree."""
    out = {f"user:{actor.username}"}
    out.update(g for g in actor.groups if g.partition(":")[0] in _GROUP_KINDS and g.partition(":")[2])
    user = session.scalar(select(User).where(User.username == actor.username))
    departments = {g.partition(":")[2] for g in actor.groups if g.startswith("dept:")}
    if user is not None:
        if user.kind == "staff" and user.status == "active":
            out.add("everyone")  # the company's employees; portal customers and partners are not
        if user.department is not None:
            departments.add(user.department.code)
            out.add(f"dept:{user.department.code}")
    if departments:
        # A person in a sub-department belongs to every department above it (shares to a department tree).
        rows = session.execute(select(Department.id, Department.code, Department.parent_id)).all()
        by_code = {code: (dept_id, parent) for dept_id, code, parent in rows}
        by_id = {dept_id: (code, parent) for dept_id, code, parent in rows}
        for code in departments:
            current, seen = by_code.get(code, (None, None))[0], set()
            while current is not None and current not in seen:
                seen.add(current)
                out.add(f"dept_tree:{by_id[current][0]}")
                current = by_id[current][1]
    return frozenset(out)


def managed_libraries(actor: Actor) -> Select:
    """Return a SELECT of the ids of libraries where the actor holds every action without permission rows."""
    me = select(User.id).where(User.username == actor.username).scalar_subquery()
    conditions = [
        DocLibrary.owner == actor.username,
        DocLibrary.id.in_(select(DocLibraryAdmin.library_id).where(DocLibraryAdmin.username == actor.username)),
        DocLibrary.department_id.in_(select(Department.id).where(Department.leader_id == me)),
    ]
    if actor.is_admin:
        conditions.append(DocLibrary.kind != "personal")
    return select(DocLibrary.id).where(or_(*conditions))


def viewer(session: Session, actor: Actor) -> Viewer:
    """Return the actor's Viewer, computed once per session (changes to library admins reset it)."""
    cache = session.info.setdefault("documents.viewers", {})
    found = cache.get(actor)
    if found is None:
        found = Viewer(actor, principals_for(session, actor),
                       frozenset(session.scalars(managed_libraries(actor))))
        cache[actor] = found
    return found


def forget_viewers(session: Session) -> None:
    """Drop cached Viewers after something they depend on changed in this session."""
    session.info.pop("documents.viewers", None)


def actions_on(session: Session, actor: Actor, folder: DocFolder, *, recovery: bool = False) -> int:
    """Return the bit mask of actions the actor has on a folder, walking up through parent links."""
    seen = viewer(session, actor)
    if folder.library_id in seen.managed:
        return ALL
    if recovery and actor.is_admin and session.get(DocLibrary, folder.library_id).kind == "personal":
        return ALL
    chain, current = [], folder
    while current is not None and current.id not in chain:
        chain.append(current.id)
        if not current.inherit or current.parent_id is None:
            break
        current = session.get(DocFolder, current.parent_id)
    mask = 0
    for value in session.scalars(select(DocPermission.actions).where(DocPermission.folder_id.in_(chain),
                                                                     DocPermission.principal.in_(seen.principals))):
        mask |= value
    return mask


def may(session: Session, actor: Actor, action: str, folder: DocFolder, *, recovery: bool = False) -> bool:
    """Tell whether the actor may do an action (read, upload, edit, delete, manage) on a folder."""
    return bool(actions_on(session, actor, folder, recovery=recovery) & bit(action))


def require(session: Session, actor: Actor, action: str, folder: DocFolder, *, recovery: bool = False) -> None:
    """Raise NotAllowed unless the actor may do the action; audit an administrator's recovery access."""
    if may(session, actor, action, folder):
        return
    if recovery and may(session, actor, action, folder, recovery=True):
        record(session, actor, "document.recovery_access", "doc_folder", folder.id, folder.name,
               after={"action": action, "library_id": folder.library_id}, kind="access")
        return
    raise NotAllowed(f"you may not {action} in folder '{folder.name}'",
                     details={"action": action, "folder_id": folder.id})


def readable_folders(session: Session, actor: Actor, action: str = "read") -> Select:
    """Return a SELECT of the ids of live folders where the actor may do the action (default: read)."""
    wanted, seen = bit(action), viewer(session, actor)
    rows = select(DocPermission.folder_id).where(DocPermission.principal.in_(sorted(seen.principals)),
                                                 DocPermission.actions.op("&")(wanted) != 0)
    granting, reached, below = aliased(DocFolder), aliased(DocFolder), aliased(DocFolderAncestor)
    # A row on folder E reaches folder D when E is D or above it and no folder between sets its own
    # permissions, i.e. D shares E's acl root. A row on an acl root reaches exactly the folders naming it.
    at_roots = select(granting.id).where(granting.id.in_(rows), granting.acl_root_id == granting.id)
    # A row on an inheriting folder reaches its subtree (one indexed lookup) within the same acl root.
    inside = (select(below.folder_id).select_from(granting)
              .join(below, below.ancestor_id == granting.id)
              .join(reached, and_(reached.id == below.folder_id, reached.acl_root_id == granting.acl_root_id))
              .where(granting.id.in_(rows), granting.acl_root_id != granting.id))
    return select(DocFolder.id).where(DocFolder.deleted_at.is_(None),
                                      or_(DocFolder.library_id.in_(managed_libraries(actor)),
                                          DocFolder.acl_root_id.in_(at_roots), DocFolder.id.in_(inside)))


def folder_clause(session: Session, actor: Actor, column, action: str = "read") -> ColumnElement[bool]:
    """Return a condition on any folder-id column (e.g. SearchEntry.folder_id) true where the actor may read."""
    return column.in_(readable_folders(session, actor, action))


def document_clause(session: Session, actor: Actor, action: str = "read") -> ColumnElement[bool]:
    """Return a condition on DocDocument rows: live documents in folders where the actor may do the action."""
    return and_(DocDocument.deleted_at.is_(None), folder_clause(session, actor, DocDocument.folder_id, action))

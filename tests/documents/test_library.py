"""Document library permissions: library defaults, inheritance, overrides, sharing, and the SQL predicate.

The helpers here (an organisation, actors, uploads) serve the other test_library_* modules too.
"""
from __future__ import annotations

import io
import random

import pytest
from sqlalchemy import select

from audit.models import AuditEntry
from documents import access, folders, library, moves, recycle, sharing, versions
from documents.library_errors import InvalidInput, NotAllowed, NotFound
from documents.models import DocFolder
from instances.actors import Actor
from org.models import Department, Position, Role, User, WorkGroup
from org.service import actor_for


def seed_org(db) -> None:
    """Create departments hq > sales > sales_east and hq > it, roles, a group, a position and people."""
    with db.command() as s:
        roles = {code: Role(code=code, name=code) for code in ("admin", "employee", "finance")}
        group, position = WorkGroup(code="proj_x", name="Project X"), Position(code="mgr", name="Manager", level=5)
        hq = Department(code="hq", name="总部")
        sales = Department(code="sales", name="销售部", parent=hq)
        east = Department(code="sales_east", name="华东销售", parent=sales)
        it = Department(code="it", name="IT", parent=hq)
        s.add_all([*roles.values(), group, position, hq, sales, east, it])

        def person(name, department, *role_codes, **fields):
            user = User(username=name, display_name=name, department=department,
                        roles=[roles[c] for c in role_codes], **fields)
            s.add(user)
            return user

        boss, sally = person("boss", hq, "employee"), person("sally", sales, "employee")
        person("eve", east, "employee")
        person("ivan", it, "employee")
        person("fiona", sales, "employee", "finance")
        gary = person("gary", hq, "employee", position=position)
        person("dana", sales, "employee")
        person("root", it, "admin")
        person("cust", None, kind="customer")
        gary.groups = [group]
        s.flush()
        hq.leader, sales.leader = boss, sally


def actor_in(session, name: str) -> Actor:
    """Return the Actor of a seeded user, as the web layer builds it."""
    return actor_for(session.scalar(select(User).where(User.username == name)))


def dept_id(session, code: str) -> int:
    return session.scalar(select(Department.id).where(Department.code == code))


def company_root(db) -> int:
    with db.command() as s:
        return library.company_library(session=s).root_folder_id


def mkdir(db, parent_id: int, name: str, who: str = "root") -> int:
    with db.command() as s:
        return folders.create_folder(session=s, parent_id=parent_id, name=name, actor=actor_in(s, who)).id


def upload(db, store, folder_id: int, name: str, data: bytes, who: str = "root", **kw):
    """Upload bytes and return (document id, version number)."""
    with db.command() as s:
        version = versions.upload_file(session=s, store_dir=store, folder_id=folder_id, file_name=name,
                                       stream=io.BytesIO(data), actor=actor_in(s, who), **kw)
        return version.document_id, version.number


def can(db, who: str, folder_id: int, *, recovery: bool = False) -> set[str]:
    with db.query() as s:
        mask = access.actions_on(s, actor_in(s, who), s.get(DocFolder, folder_id), recovery=recovery)
        return set(access.action_names(mask))


READ_UPLOAD, EVERYTHING = {"read", "upload"}, {"read", "upload", "edit", "delete", "manage"}


def test_each_library_starts_with_its_defaults(db):
    seed_org(db)
    with db.command() as s:
        company = library.company_library(session=s).root_folder_id
        sales_library = library.department_library(session=s, department_id=dept_id(s, "sales"))
        sales = sales_library.root_folder_id
        drive = library.personal_drive(session=s, username="eve", quota_bytes=1000).root_folder_id
        library.set_library_admins(session=s, library_id=sales_library.id, usernames=["dana"], actor=actor_in(s, "sally"))
        with pytest.raises(NotAllowed):
            library.set_library_admins(session=s, library_id=sales_library.id, usernames=["eve"],
                                       actor=actor_in(s, "eve"))
    assert can(db, "eve", company) == {"read"} and can(db, "ivan", company) == {"read"}
    assert can(db, "cust", company) == set()  # a portal customer is not an employee
    assert can(db, "root", company) == EVERYTHING
    assert can(db, "eve", sales) == READ_UPLOAD  # a sub-department's member belongs to the department
    assert can(db, "fiona", sales) == READ_UPLOAD
    assert can(db, "sally", sales) == EVERYTHING and can(db, "dana", sales) == EVERYTHING
    assert can(db, "ivan", sales) == set() and can(db, "boss", sales) == set()
    assert can(db, "root", sales) == EVERYTHING
    assert can(db, "eve", drive) == EVERYTHING
    assert can(db, "ivan", drive) == set() and can(db, "root", drive) == set()
    assert can(db, "root", drive, recovery=True) == EVERYTHING
    with db.command() as s:
        with pytest.raises(NotAllowed):
            folders.list_folder(session=s, folder_id=drive, actor=actor_in(s, "root"))
        folders.list_folder(session=s, folder_id=drive, actor=actor_in(s, "root"), recovery=True)
        with pytest.raises(NotAllowed):
            folders.list_folder(session=s, folder_id=drive, actor=actor_in(s, "ivan"), recovery=True)
    with db.query() as s:
        audited = s.scalars(select(AuditEntry).where(AuditEntry.action == "document.recovery_access")).all()
        assert [(e.actor, e.kind, e.object_id) for e in audited] == [("root", "access", str(drive))]


def test_sharing_any_kind_of_principal_grants_the_subtree_and_revoking_takes_it_back(db):
    seed_org(db)
    root = company_root(db)
    a = mkdir(db, root, "A")
    b = mkdir(db, a, "B")
    c = mkdir(db, b, "C")
    d = mkdir(db, c, "D")
    with db.command() as s:
        sharing.set_folder_permissions(session=s, folder_id=b, entries=[("department", "it", ["upload"])],
                                       actor=actor_in(s, "root"))
    assert can(db, "eve", a) == {"read"} and can(db, "eve", b) == set() and can(db, "eve", d) == set()
    assert can(db, "ivan", b) == READ_UPLOAD and can(db, "ivan", d) == READ_UPLOAD
    cases = [("user", "eve", "eve", "fiona"), ("department", "sales_east", "eve", "fiona"),
             ("department", "sales", "fiona", "eve"),  # the department alone, not its sub-departments
             ("department_tree", "sales", "eve", "gary"), ("role", "finance", "fiona", "eve"),
             ("group", "proj_x", "gary", "eve"), ("position", "mgr", "gary", "fiona"),
             ("everyone", "", "eve", "cust")]
    for kind, code, gains, stays_out in cases:
        with db.command() as s:
            sharing.share_folder(session=s, folder_id=c, kind=kind, code=code, actions=["edit"],
                                 actor=actor_in(s, "root"))
        assert can(db, gains, c) == {"read", "edit"} and can(db, gains, d) == {"read", "edit"}, (kind, code)
        assert can(db, gains, b) == set() and can(db, stays_out, c) == set(), (kind, code)
        with db.command() as s:
            sharing.revoke_share(session=s, folder_id=c, kind=kind, code=code, actor=actor_in(s, "root"))
        assert can(db, gains, d) == set(), (kind, code)
    with db.command() as s:
        with pytest.raises(NotFound):
            sharing.share_folder(session=s, folder_id=c, kind="group", code="nope", actions=["read"],
                                 actor=actor_in(s, "root"))
        with pytest.raises(NotAllowed):
            sharing.share_folder(session=s, folder_id=c, kind="user", code="eve", actions=["read"],
                                 actor=actor_in(s, "ivan"))
        with pytest.raises(InvalidInput):
            sharing.share_folder(session=s, folder_id=c, kind="user", code="eve", actions=["fly"],
                                 actor=actor_in(s, "root"))


def test_a_subfolder_override_wins_until_inheritance_is_restored(db):
    seed_org(db)
    root = company_root(db)
    b = mkdir(db, root, "B")
    c = mkdir(db, b, "C")
    d = mkdir(db, c, "D")
    with db.command() as s:
        sharing.share_folder(session=s, folder_id=b, kind="department", code="it", actions=["delete"],
                             actor=actor_in(s, "root"))
        sharing.set_folder_permissions(session=s, folder_id=c, entries=[("user", "eve", ["manage"])],
                                       actor=actor_in(s, "root"))
    assert can(db, "ivan", b) == {"read", "delete"}
    assert can(db, "ivan", c) == set() and can(db, "ivan", d) == set()  # the override cuts the share above
    assert can(db, "fiona", d) == set()  # and the company-wide reading
    assert can(db, "eve", d) == EVERYTHING
    with db.command() as s:
        lines = sharing.list_permissions(session=s, folder_id=d, actor=actor_in(s, "eve"))
        assert [(line.folder_id, line.principal, line.inherited) for line in lines] == [(c, "user:eve", True)]
        with pytest.raises(InvalidInput):
            sharing.restore_inheritance(session=s, folder_id=root, actor=actor_in(s, "root"))
        sharing.restore_inheritance(session=s, folder_id=c, actor=actor_in(s, "eve"))
    assert can(db, "ivan", d) == {"read", "delete"} and can(db, "eve", d) == {"read"}


def _descendants(session, folder_id: int) -> set[int]:
    path = session.get(DocFolder, folder_id).path
    return set(session.scalars(select(DocFolder.id).where(DocFolder.path.startswith(path))))


def test_the_sql_predicate_agrees_with_the_per_folder_check_on_a_random_tree(db):
    seed_org(db)
    rng = random.Random(20261127)
    choices = [("user", "eve"), ("user", "ivan"), ("department", "it"), ("department_tree", "sales"),
               ("role", "finance"), ("group", "proj_x"), ("position", "mgr"), ("everyone", "")]
    actions = [["read"], ["upload"], ["edit"], ["delete"], ["manage"], ["read", "delete"]]
    with db.command() as s:
        admin = actor_in(s, "root")
        sales_library = library.department_library(session=s, department_id=dept_id(s, "sales"))
        roots = [library.company_library(session=s).root_folder_id, sales_library.root_folder_id]
        ids = list(roots)
        for number in range(300):
            parent = s.get(DocFolder, rng.choice(ids))
            if parent.depth >= 12:
                parent = s.get(DocFolder, rng.choice(roots))
            ids.append(folders.create_folder(session=s, parent_id=parent.id, name=f"f{number}", actor=admin).id)
        for folder_id in rng.sample(ids[2:], 45):
            entries = [(*rng.choice(choices), rng.choice(actions)) for _ in range(rng.randint(0, 2))]
            sharing.set_folder_permissions(session=s, folder_id=folder_id, entries=entries, actor=admin)
        for folder_id in rng.sample(ids, 60):
            kind, code = rng.choice(choices)
            sharing.share_folder(session=s, folder_id=folder_id, kind=kind, code=code, actions=rng.choice(actions),
                                 actor=admin)
        # Moves (within and across libraries) and restored inheritance must keep the materialised columns right.
        moved = 0
        while moved < 15:
            folder_id, target = rng.choice(ids[2:]), rng.choice(ids)
            if target in _descendants(s, folder_id) or s.get(DocFolder, target).depth > 10:
                continue
            moves.move_folder(session=s, folder_id=folder_id, target_id=target, actor=admin)
            moved += 1
        for folder_id in rng.sample(ids[2:], 10):
            sharing.restore_inheritance(session=s, folder_id=folder_id, actor=admin)
        recycle.delete_folder(session=s, folder_id=rng.choice(ids[2:]), actor=admin)
    sizes = []
    with db.query() as s:
        live = list(s.scalars(select(DocFolder).where(DocFolder.deleted_at.is_(None))))
        for name in ("eve", "ivan", "fiona", "gary", "sally", "cust"):
            who = actor_in(s, name)
            for action in ("read", "delete", "manage"):
                in_sql = set(s.scalars(access.readable_folders(s, who, action)))
                one_by_one = {f.id for f in live if access.may(s, who, action, f)}
                assert in_sql == one_by_one, (name, action)
                sizes.append(len(one_by_one))
    assert 0 in sizes and any(0 < size < len(live) for size in sizes)

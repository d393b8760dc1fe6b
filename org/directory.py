"""The organisation as a directory for assignment strategies (instances.directory.Directory)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from database import Database
from instances import directory
from instances.context import command_session

from . import workcal, workcal_store
from .errors import Invalid
from .models import Department, Position, Role, User, WorkGroup, group_member, user_role

MAX_LEVELS = 20
subordinate = aliased(User)


def _decides(user: User) -> bool:
    """Tell whether a user can be handed internal work: an active staff member (not gone, not a portal account)."""
    return _staff_at_work(user.status, user.kind)


def _staff_at_work(status: str | None, kind: str | None) -> bool:
    return status == "active" and (kind or "staff") == "staff"


class OrgDirectory:
    """Answer who-reports-to-whom from the org tables, inside the running command's transaction when there is one."""

    def __init__(self, database: Database):
        self.database = database

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        """Yield the running command's session (no autoflush: half-built rows stay unflushed), else a read session.

        Reading in the command's own transaction saves a connection and a BEGIN/ROLLBACK per lookup, and sees
        the organisation as the command itself does.
        """
        session = command_session()
        if session is not None:
            with session.no_autoflush:
                yield session
            return
        with self.database.query() as session:
            yield session

    def superior(self, username: str) -> str | None:
        # A superior who left (or a portal account set as one) decides nothing: the next one up takes the post,
        # else nobody, and the step's onNoAssignee applies. A task given to someone gone would wait forever.
        with self._reading() as session:
            boss = session.scalar(select(User).join(subordinate, subordinate.superior_id == User.id)
                                  .where(subordinate.username == username))
            seen = {None}
            while boss is not None and boss.id not in seen and boss.username != username:
                if _decides(boss):
                    return boss.username
                seen.add(boss.id)
                boss = boss.superior
            return None

    def department_leader(self, username: str) -> str | None:
        with self._reading() as session:
            user = session.scalar(select(User).where(User.username == username))
            department = user.department if user is not None else None
            seen: set[int] = set()
            while department is not None and department.id not in seen:
                seen.add(department.id)
                leader = department.leader
                # A leader who left, or the person asking, passes the question to the department above.
                if leader is not None and leader.id != user.id and _decides(leader):
                    return leader.username
                department = department.parent
            return None

    def leader_of(self, code: str) -> str | None:
        with self._reading() as session:
            department = session.scalar(select(Department).where(Department.code == code))
            seen: set[int] = set()
            while department is not None and department.id not in seen:
                seen.add(department.id)
                leader = department.leader
                if leader is not None and _decides(leader):
                    return leader.username
                department = department.parent
            return None

    def superiors(self, username: str, levels: int) -> list[str]:
        out: list[str] = []
        current = username
        for _ in range(max(0, min(int(levels), MAX_LEVELS))):
            current = self.superior(current)
            if current is None or current in out or current == username:
                break
            out.append(current)
        return out

    def members(self, kind: str, code: str) -> list[str]:
        query = select(User.username).where(User.status == "active")
        if kind == "role":
            query = query.join(user_role, user_role.c.user_id == User.id).join(Role, Role.id == user_role.c.role_id)\
                .where(Role.code == code)
        elif kind == "department":
            query = query.join(Department, Department.id == User.department_id).where(Department.code == code)
        elif kind == "position":
            query = query.join(Position, Position.id == User.position_id).where(Position.code == code)
        elif kind == "group":
            query = query.join(group_member, group_member.c.user_id == User.id)\
                .join(WorkGroup, WorkGroup.id == group_member.c.group_id).where(WorkGroup.code == code)
        else:
            raise ValueError(f"unknown member kind {kind!r} (use one of {', '.join(directory.MEMBER_KINDS)})")
        with self._reading() as session:
            return list(session.scalars(query.order_by(User.username)))

    def active_users(self, usernames: list[str]) -> set[str]:
        names = sorted({name for name in usernames if name})
        if not names:
            return set()
        with self._reading() as session:
            # Staff only: a customer or partner portal account never handles, is copied or mentioned on
            # internal work.
            return set(session.scalars(select(User.username).where(User.username.in_(names),
                                                                   User.status == "active",
                                                                   User.kind == "staff")))

    def unable(self, usernames: list[str]) -> set[str]:
        names = sorted({name for name in usernames if name})
        if not names:
            return set()
        with self._reading() as session:
            # Read as rows, not users: the command's session need not hold these people.
            rows = session.execute(select(User.username, User.status, User.kind).where(User.username.in_(names)))
            return {name for name, status, kind in rows if not _staff_at_work(status, kind)}

    def working_due(self, person: str | None, start: datetime, duration: str) -> datetime | None:
        try:
            spec = workcal.parse_duration(duration)
            # Exceptions before the start cannot matter; two days back cover any zone's date of the start.
            since = (start if start.tzinfo else start.replace(tzinfo=timezone.utc)).date() - timedelta(days=2)
            with self._reading() as session:
                calendar = workcal_store.calendar_for_user(session=session, username=person, since=since)
            return workcal.add_working_time(calendar, start, spec).astimezone(timezone.utc)
        except Invalid as exc:
            raise ValueError(f"due date {str(duration)[:40]!r}: {exc.message}") from None


def install(database: Database) -> OrgDirectory:
    """Register the org directory for assignment strategies and return it."""
    found = OrgDirectory(database)
    directory.set_directory(found)
    return found

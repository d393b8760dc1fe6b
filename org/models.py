"""People and the structures they work in."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from database.base import Base, JSONType, UTCDateTime, utcnow

USER_STATUSES = ("active", "left")
USER_KINDS = ("staff", "customer", "partner")  # customers and partners sign in to their portal only
LANGUAGES = ("zh_CN", "en")

user_role = Table(
    "user_role", Base.metadata,
    Column("user_id", ForeignKey("org_user.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("role.id", ondelete="CASCADE"), primary_key=True),
)
group_member = Table(
    "group_member", Base.metadata,
    Column("group_id", ForeignKey("work_group.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("org_user.id", ondelete="CASCADE"), primary_key=True),
)


class Department(Base):
    """A department in the company tree; its leader approves for it by default."""

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), nullable=True, index=True)
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", use_alter=True,
                                                             name="fk_department_leader_id_org_user"),
                                                  nullable=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)

    parent: Mapped[Department | None] = relationship(remote_side=[id])
    leader: Mapped[User | None] = relationship(foreign_keys=[leader_id], post_update=True)


class Position(Base):
    """A job position (职务), with a level for superior/subordinate rules."""

    __tablename__ = "position"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    level: Mapped[int] = mapped_column(Integer, default=0)


class Role(Base):
    """A role granting what a user may do (admin, process designer, manager, employee...)."""

    __tablename__ = "role"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")


class WorkGroup(Base):
    """A project team or any named group of people."""

    __tablename__ = "work_group"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")

    members: Mapped[list[User]] = relationship(secondary=group_member, back_populates="groups")


class User(Base):
    """A person who signs in."""

    __tablename__ = "org_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), nullable=True, index=True)
    position_id: Mapped[int | None] = mapped_column(ForeignKey("position.id"), nullable=True)
    superior_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id"), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    kind: Mapped[str] = mapped_column(String(20), default="staff")
    portal_record_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    portal_modules: Mapped[list] = mapped_column(JSONType, default=list)
    language: Mapped[str | None] = mapped_column(String(10), nullable=True)
    password_hash: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    department: Mapped[Department | None] = relationship(foreign_keys=[department_id])
    position: Mapped[Position | None] = relationship()
    superior: Mapped[User | None] = relationship(remote_side=[id])
    roles: Mapped[list[Role]] = relationship(secondary=user_role)
    groups: Mapped[list[WorkGroup]] = relationship(secondary=group_member, back_populates="members")

    @property
    def active(self) -> bool:
        """Tell whether the user may sign in."""
        return self.status == "active"

    def has_role(self, code: str) -> bool:
        """Tell whether the user holds a role."""
        return any(role.code == code for role in self.roles)


class LoginAttempt(Base):
    """A sign-in attempt, kept to throttle guessing."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_lookup", "username", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(150))
    ip: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    success: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiToken(Base):
    """A personal API token: shown once, stored as a hash, revocable."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("org_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship()


class RoleGrant(Base):
    """What a role may do on a resource (a record type, `records:*`, `instances`...) and over which records."""

    __tablename__ = "role_grant"
    __table_args__ = (Index("ix_role_grant_role", "role_code", "resource"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role_code: Mapped[str] = mapped_column(String(64))
    resource: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))
    scope: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(150), default="system")


class AccessRule(Base):
    """A finer rule that grants or denies actions to some people (who) on some records (which)."""

    __tablename__ = "access_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    effect: Mapped[str] = mapped_column(String(10))
    resource: Mapped[str] = mapped_column(String(100))
    actions: Mapped[list] = mapped_column(JSONType, default=list)
    who_kind: Mapped[str] = mapped_column(String(30))
    who: Mapped[str] = mapped_column(String(150), default="")
    which_kind: Mapped[str] = mapped_column(String(30))
    which: Mapped[str] = mapped_column(String(150), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(150), default="system")


class OrgRevision(Base):
    """One row counting changes to the organisation and permissions; permission caches compare it."""

    __tablename__ = "org_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


# Registers the flush hook that bumps OrgRevision. Imported here, after the models, because any session that
# changes people or rules has these models loaded; org/__init__ must stay free of imports (the standard
# library's copy module probes a package named "org" for Jython).
from . import revision as _revision  # noqa: E402,F401

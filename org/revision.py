"""A counter bumped by every change to the organisation or the permission rules, so caches know when to reload."""
from __future__ import annotations

import time

from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session

from database import driver

from .models import AccessRule, ApiToken, Department, OrgRevision, Position, Role, RoleGrant, User, WorkGroup

WATCHED: tuple[type, ...] = (User, Department, Position, Role, WorkGroup, RoleGrant, AccessRule, ApiToken)
MEMO = "flowdesk.org_revision"
# Signing in touches these on every login; they do not change who may see what.
USER_NOISE = frozenset({"last_login_at", "password_hash"})
# A token moves the revision on only when it stops working or changes hands, so bearer tokens checked
# earlier (cached per revision by the API) are checked again; issuing one or noting its use does not.
TOKEN_ENDS = frozenset({"revoked_at", "expires_at", "user_id", "token_hash"})


def watch(*models: type) -> None:
    """Have changes to more models move the revision on (business calendars register themselves)."""
    global WATCHED
    WATCHED = tuple(dict.fromkeys((*WATCHED, *models)))


_READ = select(OrgRevision.value).where(OrgRevision.id == 1)  # built once: read on nearly every request


def current_revision(session: Session) -> int | None:
    """Return the organisation's revision, or None when the counter row is missing (then nothing is cached)."""
    if session.new or session.dirty or session.deleted:  # a pending change may move it: the ORM flushes first
        return session.scalar(_READ)
    # Read on nearly every request, mostly as a transaction's first statement: neither the ORM nor SQLAlchemy's
    # execution adds anything here, and together they cost more than the read (database.driver).
    return driver.scalar(session.connection(), _READ)


def session_revision(session: Session) -> int | None:
    """Return the revision as this session last read it (read once per session; a change in it reads again)."""
    if MEMO not in session.info:
        session.info[MEMO] = current_revision(session)
    return session.info[MEMO]


def _changed(obj) -> set[str]:
    return {attr.key for attr in inspect(obj).attrs if attr.history.has_changes()}


def _changes_org(obj, *, new: bool = False) -> bool:
    if not isinstance(obj, WATCHED):
        return False
    if isinstance(obj, User):
        return bool(_changed(obj) - USER_NOISE)
    if isinstance(obj, ApiToken):
        return not new and bool(_changed(obj) & TOKEN_ENDS)
    return True


@event.listens_for(Session, "before_flush")
def _bump(session: Session, _context, _instances) -> None:
    """Bump the revision in the same transaction as any change to people, units, grants, rules or tokens."""
    touched = any(_changes_org(o, new=True) for o in session.new) \
        or any(isinstance(o, WATCHED) for o in session.deleted) \
        or any(_changes_org(o) for o in session.dirty if session.is_modified(o))
    if touched:
        bump(session)


def bump(session: Session) -> None:
    """Move the revision on, for a change the flush cannot see (a bulk statement)."""
    result = session.execute(update(OrgRevision).where(OrgRevision.id == 1).values(value=OrgRevision.value + 1))
    if result.rowcount == 0:
        # A counter created anew starts from the clock, so it never repeats a revision a cache still holds.
        session.execute(OrgRevision.__table__.insert().values(id=1, value=time.time_ns() // 1000 % 2_000_000_000))
    session.info.pop("flowdesk.org_index", None)
    session.info.pop(MEMO, None)

"""Manage people and structures; sign in; issue and check API tokens."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from audit import service as audit
from database.base import MAX_INT32, utcnow
from instances.actors import Actor

from .errors import Duplicate, Invalid, NotFound, SignInRefused, Throttled
from .models import (
    LANGUAGES,
    USER_KINDS,
    USER_STATUSES,
    ApiToken,
    Department,
    LoginAttempt,
    Position,
    Role,
    User,
    WorkGroup,
    group_member,
    user_role,
)
from .passwords import MIN_LENGTH, hash_password, needs_rehash, verify_password

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
TOKEN_PREFIX = "fd_"
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,150}$")
_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_MODULE = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def actor_for(user: User) -> Actor:
    """Return the Actor a user acts as: roles, department, position and groups, plain and prefixed."""
    groups: set[str] = set()
    for kind, code in ([("role", r.code) for r in user.roles] + [("group", g.code) for g in user.groups]
                       + ([("dept", user.department.code)] if user.department else [])
                       + ([("position", user.position.code)] if user.position else [])):
        groups.add(code)
        groups.add(f"{kind}:{code}")
    return Actor(user.username, frozenset(groups), is_admin=user.has_role("admin"))


def _check_code(value: str, field: str) -> str:
    value = (value or "").strip()
    if not _CODE.match(value):
        raise Invalid(f"{field} must be 1-64 letters, digits, '_', '.' or '-'", details={"field": field})
    return value


def _check_name(value: str, field: str = "name") -> str:
    value = (value or "").strip()
    if not value or len(value) > 200:
        raise Invalid(f"{field} is required (at most 200 characters)", details={"field": field})
    return value


def get_user(*, session: Session, user_id: int) -> User | None:
    """Return a user by id."""
    return session.get(User, user_id)


def get_user_by_name(*, session: Session, username: str) -> User | None:
    """Return a user by user name (case-insensitive)."""
    return session.scalar(select(User).where(func.lower(User.username) == (username or "").strip().lower()))


def get_user_or_raise(*, session: Session, username: str) -> User:
    """Return a user by user name or raise NotFound."""
    user = get_user_by_name(session=session, username=username)
    if user is None:
        raise NotFound(f"no user '{username}'", details={"username": username})
    return user


def _by_code(session: Session, model, code: str | None, field: str):
    if not code:
        return None
    found = session.scalar(select(model).where(model.code == code))
    if found is None:
        raise NotFound(f"{field}: no {model.__tablename__.replace('_', ' ')} with code '{code}'",
                       details={"field": field, "code": code})
    return found


def save_user(*, session: Session, username: str, display_name: str, email: str = "", phone: str = "",
              department: str | None = None, position: str | None = None, superior: str | None = None,
              roles: list[str] | None = None, groups: list[str] | None = None, status: str = "active",
              language: str | None = None, password: str | None = None, user: User | None = None,
              kind: str | None = None, portal_record_id: int | None = None,
              portal_modules: list[str] | None = None) -> User:
    """Create a user, or update one when `user` is given; codes name the department, position, roles.

    A user of kind customer or partner signs in to their portal only: they see the record types listed in
    `portal_modules`, and only their company's record (`portal_record_id`), what refers to it and their own.
    """
    username = (username or "").strip()
    if not _USERNAME.match(username):
        raise Invalid("username must be 2-150 letters, digits, '_', '.', '@' or '-'", details={"field": "username"})
    if user is not None and user.username and user.username != username:
        # Tasks, history and copies name people by user name; a rename would orphan them.
        raise Invalid("a user name cannot be changed once created; mark the user as left and create a new one",
                      details={"field": "username"})
    existing = get_user_by_name(session=session, username=username)
    if existing is not None and existing is not user:
        raise Duplicate(f"user name '{username}' is taken", details={"field": "username"})
    if email and not _EMAIL.match(email.strip()):
        raise Invalid(f"'{email}' is not an email address", details={"field": "email"})
    if status not in USER_STATUSES:
        raise Invalid(f"status must be one of {', '.join(USER_STATUSES)}", details={"field": "status"})
    if language and language not in LANGUAGES:
        raise Invalid(f"language must be one of {', '.join(LANGUAGES)}", details={"field": "language"})
    before = _snapshot(user) if user is not None else None
    target = user or User(username=username)
    target.username = username
    target.display_name = _check_name(display_name, "display_name")
    target.email, target.phone = (email or "").strip(), (phone or "").strip()[:50]
    target.department = _by_code(session, Department, department, "department")
    target.position = _by_code(session, Position, position, "position")
    boss = get_user_by_name(session=session, username=superior) if superior else None
    if superior and boss is None:
        raise NotFound(f"superior: no user '{superior}'", details={"field": "superior"})
    if boss is not None and boss is target:
        raise Invalid("a user cannot be their own superior", details={"field": "superior"})
    target.superior = boss
    if roles is not None:
        target.roles = [_by_code(session, Role, code, "roles") for code in roles]
    if groups is not None:
        target.groups = [_by_code(session, WorkGroup, code, "groups") for code in groups]
    target.status, target.language = status, language or None
    if kind is not None or user is None:
        _set_portal(target, kind or "staff", portal_record_id, portal_modules)
    if password is not None:
        set_password(user=target, password=password)
    session.add(target)
    session.flush()
    after = _snapshot(target)
    if before != after or password is not None:
        audit.log(session, action="user.created" if before is None else "user.changed", object_type="user",
                  object_id=username, summary=target.display_name, before=before,
                  after={**after, **({"password": "changed"} if password is not None else {})})
    return target


def _set_portal(user: User, kind: str, record_id, modules) -> None:
    if kind not in USER_KINDS:
        raise Invalid(f"kind must be one of {', '.join(USER_KINDS)}", details={"field": "kind"})
    if kind == "staff":
        user.kind, user.portal_record_id, user.portal_modules = "staff", None, []
        return
    if not isinstance(record_id, int) or isinstance(record_id, bool) or record_id < 1:
        raise Invalid("a portal account needs the number of its company's record", details={"field": "portal_record_id"})
    modules = sorted(set(modules or []))
    if not all(isinstance(m, str) and _MODULE.match(m) for m in modules):
        raise Invalid("portal modules are record type keys", details={"field": "portal_modules"})
    user.kind, user.portal_record_id, user.portal_modules = kind, record_id, modules


def _snapshot(user: User) -> dict:
    """Describe a user for the audit log (never the password hash)."""
    return {"display_name": user.display_name, "email": user.email, "phone": user.phone,
            "department": user.department.code if user.department else None,
            "position": user.position.code if user.position else None,
            "superior": user.superior.username if user.superior else None,
            "roles": sorted(r.code for r in user.roles), "groups": sorted(g.code for g in user.groups),
            "status": user.status, "language": user.language, "kind": user.kind or "staff",
            "portal_record_id": user.portal_record_id, "portal_modules": list(user.portal_modules or [])}


def set_password(*, user: User, password: str) -> None:
    """Set a user's password after checking its strength."""
    if len(password or "") < MIN_LENGTH:
        raise Invalid(f"password must have at least {MIN_LENGTH} characters", details={"field": "password"})
    user.password_hash = hash_password(password)


def save_unit(*, session: Session, kind: str, code: str, name: str, name_en: str = "", **fields):
    """Create or update a department, position, role or group identified by its code."""
    model = {"department": Department, "position": Position, "role": Role, "group": WorkGroup}.get(kind)
    if model is None:
        raise Invalid(f"unknown kind '{kind}'", details={"field": "kind"})
    code = _check_code(code, "code")
    unit = session.scalar(select(model).where(model.code == code))
    before = {"name": unit.name, "name_en": unit.name_en} if unit is not None else None
    unit = unit or model(code=code)
    unit.name, unit.name_en = _check_name(name), (name_en or "").strip()[:200]
    if model is Department:
        parent = _by_code(session, Department, fields.get("parent"), "parent")
        ancestor = parent
        while ancestor is not None:
            if ancestor is unit:
                raise Invalid("a department cannot be inside itself", details={"field": "parent"})
            ancestor = ancestor.parent
        unit.parent = parent
        if "leader" in fields:
            leader = get_user_by_name(session=session, username=fields["leader"]) if fields["leader"] else None
            if fields["leader"] and leader is None:
                raise NotFound(f"leader: no user '{fields['leader']}'", details={"field": "leader"})
            unit.leader = leader
        unit.sort = _small(fields.get("sort", unit.sort or 0), "sort")
    if model is Position:
        unit.level = _small(fields.get("level", unit.level or 0), "level")
    session.add(unit)
    session.flush()
    after = {"name": unit.name, "name_en": unit.name_en}
    if before != after or fields:
        audit.log(session, action=f"{kind}.saved", object_type=kind, object_id=code, summary=unit.name,
                  before=before, after={**after, **{k: v for k, v in fields.items() if isinstance(v, str | int)}})
    return unit


def list_units(*, session: Session, kind: str) -> list:
    """List departments, positions, roles or groups by code."""
    model = {"department": Department, "position": Position, "role": Role, "group": WorkGroup}[kind]
    return list(session.scalars(select(model).order_by(model.code)))


def _small(value, field: str) -> int:
    """Return a whole number a 32-bit column holds (a department's sort, a position's level), else refuse it."""
    try:
        number = int(value) if not isinstance(value, (bool, float)) and len(str(value)) <= 12 else None
    except (TypeError, ValueError):
        number = None
    if number is None or not -MAX_INT32 <= number <= MAX_INT32:
        raise Invalid(f"{field} must be a whole number from {-MAX_INT32} to {MAX_INT32}", details={"field": field})
    return number


def _users_query(department: str | None, query: str | None, status: str | None, kind: str | None = None):
    stmt = select(User)
    if kind:
        stmt = stmt.where(User.kind == kind)
    if department:
        stmt = stmt.join(Department, Department.id == User.department_id).where(Department.code == department)
    if query:
        # Bounded: a name, user name or email is short, and SQLite refuses a LIKE pattern past 50,000 bytes.
        like = f"%{query.strip().lower()[:200]}%"
        stmt = stmt.where(func.lower(User.username).like(like) | func.lower(User.display_name).like(like)
                          | func.lower(User.email).like(like))
    if status:
        stmt = stmt.where(User.status == status)
    return stmt


def list_users(*, session: Session, department: str | None = None, query: str | None = None,
               status: str | None = None, kind: str | None = None, limit: int = 200, offset: int = 0) -> list[User]:
    """List users, filtered by department code, text, status and kind (staff, or a portal's)."""
    stmt = _users_query(department, query, status, kind).order_by(User.username)
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def count_users(*, session: Session, department: str | None = None, query: str | None = None,
                status: str | None = None) -> int:
    """Count the users list_users would list without a limit."""
    return session.scalar(select(func.count()).select_from(_users_query(department, query, status).subquery())) or 0


def department_leader(*, session: Session, username: str) -> str | None:
    """Return the user name of the leader of a user's department (for assignment expressions)."""
    user = get_user_by_name(session=session, username=username)
    if user is None or user.department is None or user.department.leader is None:
        return None
    return user.department.leader.username


def _recent_failures(session: Session, username: str, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.username == username.lower(), LoginAttempt.success.is_(False),
        LoginAttempt.at > now - FAILURE_WINDOW)) or 0


def authenticate(*, session: Session, username: str, password: str, ip: str = "") -> User:
    """Check a user name and password; throttle after repeated failures; record the attempt."""
    now = utcnow()
    name = (username or "").strip().lower()[:150]
    if _recent_failures(session, name, now) >= MAX_FAILURES:
        raise Throttled("too many failed sign-in attempts; try again in 15 minutes", details={"field": "username"})
    user = get_user_by_name(session=session, username=name)
    ok = user is not None and user.active and verify_password(user.password_hash, password or "")
    session.add(LoginAttempt(username=name, ip=(ip or "")[:64], at=now, success=ok))
    audit.log(session, kind="access", actor=name or "?", action="sign_in" if ok else "sign_in_refused",
              object_type="user", object_id=name)
    if not ok:
        session.flush()
        raise SignInRefused("wrong user name or password", details={"field": "password"})
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    session.flush()
    return user


def token_digest(token: str) -> str:
    """Return the stored hash of a token secret, which also keys tokens checked earlier."""
    # Tokens are long random secrets, so a fast hash is enough; no KDF needed for 256-bit entropy.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(*, session: Session, user: User, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """Issue a personal API token; the secret is returned once and only its hash is kept."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=_check_name(name)[:100], prefix=secret[:10],
                     token_hash=token_digest(secret),
                     expires_at=utcnow() + timedelta(days=days) if days else None)
    session.add(token)
    session.flush()
    audit.log(session, actor=user.username, action="token.created", object_type="user", object_id=user.username,
              after={"name": token.name, "prefix": token.prefix, "expires_at": str(token.expires_at or "")})
    return token, secret


def check_token(*, session: Session, secret: str) -> ApiToken | None:
    """Return the live token a bearer secret names, with its active user loaded, or None; note its use."""
    if not secret or not secret.startswith(TOKEN_PREFIX):
        return None
    # One round trip for the token, its user and everything the caller's Actor is built from.
    user_options = joinedload(ApiToken.user)
    token = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_digest(secret)).options(
        user_options.joinedload(User.department), user_options.joinedload(User.position),
        user_options.joinedload(User.superior), user_options.joinedload(User.roles),
        user_options.joinedload(User.groups))).unique().first()
    now = utcnow()
    if token is None or token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        return None
    if not token.user.active:
        return None
    # Recording every use would make each API read a write; once a minute is precise enough to show.
    if token_use_due(token.last_used_at, now):
        token.last_used_at = now
    return token


def token_use_due(last_used_at: datetime | None, now: datetime) -> bool:
    """Tell whether a token's use should be recorded again (at most once a minute)."""
    return last_used_at is None or now - last_used_at >= TOKEN_TOUCH_INTERVAL


def user_for_token(*, session: Session, secret: str) -> User | None:
    """Return the active user a bearer token belongs to, or None."""
    token = check_token(session=session, secret=secret)
    return token.user if token is not None else None


def revoke_token(*, session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of a user's tokens."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(f"no token {token_id}", details={"id": token_id})
    token.revoked_at = token.revoked_at or utcnow()
    audit.log(session, actor=user.username, action="token.revoked", object_type="user", object_id=user.username,
              before={"name": token.name, "prefix": token.prefix})
    session.flush()
    return token


def list_tokens(*, session: Session, user: User) -> list[ApiToken]:
    """List a user's tokens, newest first."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.id.desc())))


_UNIT_MODELS = {"department": Department, "position": Position, "role": Role, "group": WorkGroup}


def get_unit(*, session: Session, kind: str, code: str):
    """Return a department, position, role or group by code, or None."""
    model = _UNIT_MODELS[kind]
    return session.scalar(select(model).where(model.code == (code or "").strip()))


def get_unit_or_raise(*, session: Session, kind: str, code: str):
    """Return a department, position, role or group by code or raise NotFound."""
    unit = get_unit(session=session, kind=kind, code=code)
    if unit is None:
        raise NotFound(f"no {kind} with code '{code}'", details={"field": "code", "code": code})
    return unit


def count_members(*, session: Session, kind: str, status: str | None = "active") -> dict[int, int]:
    """Count the users of each department, position, role or group, by unit id."""
    if kind in ("department", "position"):
        key = User.department_id if kind == "department" else User.position_id
        stmt = select(key, func.count()).where(key.is_not(None))
    else:
        link = user_role if kind == "role" else group_member
        key = link.c.role_id if kind == "role" else link.c.group_id
        stmt = select(key, func.count()).select_from(link).join(User, User.id == link.c.user_id)
    if status:
        stmt = stmt.where(User.status == status)
    return dict(session.execute(stmt.group_by(key)).all())


def department_tree(*, session: Session) -> list[tuple[Department, int]]:
    """List departments parents first, siblings by sort then code, each with its depth."""
    departments = list(session.scalars(select(Department).order_by(Department.sort, Department.code)))
    ids = {d.id for d in departments}
    children: dict[int | None, list[Department]] = {}
    for dept in departments:
        children.setdefault(dept.parent_id if dept.parent_id in ids else None, []).append(dept)
    ordered: list[tuple[Department, int]] = []
    stack = [(dept, 0) for dept in reversed(children.get(None, []))]
    while stack:  # a stack, not recursion: a deep tree must not hit Python's recursion limit
        dept, depth = stack.pop()
        ordered.append((dept, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(dept.id, [])))
    return ordered


def set_status(*, session: Session, user: User, status: str) -> User:
    """Mark a user active or left; one who left cannot sign in, and their history stays."""
    if status not in USER_STATUSES:
        raise Invalid(f"status must be one of {', '.join(USER_STATUSES)}", details={"field": "status"})
    before = user.status
    user.status = status
    audit.log(session, action="user.status", object_type="user", object_id=user.username,
              before={"status": before}, after={"status": status})
    session.flush()
    return user


def display_names(*, session: Session, usernames) -> dict[str, str]:
    """Map user names to display names in one query (unknown names are left out)."""
    wanted = sorted({u for u in usernames if u})
    if not wanted:
        return {}
    rows = session.execute(select(User.username, User.display_name).where(User.username.in_(wanted)))
    return {username: name for username, name in rows}


def group_labels(*, session: Session, codes, chinese: bool) -> dict[str, str]:
    """Name candidate-group codes (plain or 'dept:', 'role:', 'position:', 'group:' prefixed) for display."""
    wanted = {code for code in codes if code}
    if not wanted:
        return {}
    labels: dict[str, str] = {}
    for kind, model in (("dept", Department), ("role", Role), ("position", Position), ("group", WorkGroup)):
        bare = {code.split(":", 1)[1] if code.startswith(f"{kind}:") else code for code in wanted}
        for unit in session.scalars(select(model).where(model.code.in_(sorted(bare)))):
            name = unit.name if chinese or not unit.name_en else unit.name_en
            labels.setdefault(unit.code, name)
            labels[f"{kind}:{unit.code}"] = name
    return {code: labels[code] for code in wanted if code in labels}

"""Keep role grants and access rules: checked input, the shipped defaults, and lists for the admin pages."""
from __future__ import annotations

import re

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from audit import service as audit

from .errors import Invalid, NotFound
from .models import AccessRule, Department, Position, Role, RoleGrant, User, WorkGroup
from .permissions import ACTIONS, EFFECTS, SCOPES, WHICH_KINDS, WHO_KINDS, forget_org_index

RESOURCE = re.compile(r"^(\*|records:(\*|[a-z][a-z0-9_]{1,62})|instances|calendar)$")

# Everyday defaults: the company's customers, contacts, partners, campaigns and knowledge base are shared
# reading for all staff (service needs the customer that sales owns); leads, deals, money and tickets are
# seen within one's department, and managers see their department tree. Admins may change all of it.
DEFAULT_GRANTS = [
    ("employee", "records:*", "view", "department"),
    ("employee", "records:customer", "view", "all"),
    ("employee", "records:contact", "view", "all"),
    ("employee", "records:partner", "view", "all"),
    ("employee", "records:campaign", "view", "all"),
    ("employee", "records:*", "create", "own"),
    ("employee", "records:*", "edit", "own"),
    ("employee", "records:*", "delete", "own"),
    ("employee", "records:*", "export", "own"),
    ("employee", "records:knowledge_article", "view", "all"),
    ("manager", "records:*", "view", "department_tree"),
    ("manager", "records:*", "edit", "department_tree"),
    ("manager", "records:*", "export", "department_tree"),
    ("manager", "instances", "view", "department_tree"),
    # Calendars: a project team sees each other's schedule, a manager the department tree's; everyone
    # else sees only busy times, which is what planning a meeting needs.
    ("employee", "calendar", "view", "group"),
    ("manager", "calendar", "view", "department_tree"),
]


def _check(value, allowed: tuple[str, ...], field: str) -> str:
    if value not in allowed:
        raise Invalid(f"{field} must be one of {', '.join(allowed)}", details={"field": field})
    return value


def _check_resource(resource) -> str:
    if not isinstance(resource, str) or not RESOURCE.match(resource):
        raise Invalid("resource is records:<type>, records:* , instances, calendar or *", details={"field": "resource"})
    return resource


def add_grant(*, session: Session, role: str, resource: str, action: str, scope: str, actor: str) -> RoleGrant:
    """Let a role do an action on a resource within a scope (an existing identical grant is returned)."""
    if session.scalar(select(Role.id).where(Role.code == role)) is None:
        raise NotFound(f"no role '{role}'", details={"field": "role"})
    resource = _check_resource(resource)
    _check(action, ACTIONS, "action")
    _check(scope, SCOPES, "scope")
    existing = session.scalar(select(RoleGrant).where(RoleGrant.role_code == role, RoleGrant.resource == resource,
                                                      RoleGrant.action == action, RoleGrant.scope == scope))
    if existing is not None:
        return existing
    grant = RoleGrant(role_code=role, resource=resource, action=action, scope=scope, created_by=actor)
    session.add(grant)
    session.flush()
    audit.log(session, actor=actor, action="grant.added", object_type="role", object_id=role,
              after={"resource": resource, "action": action, "scope": scope})
    forget_org_index(session)
    return grant


def remove_grant(*, session: Session, grant_id: int, actor: str | None = None) -> None:
    """Withdraw a role grant."""
    grant = session.get(RoleGrant, grant_id)
    if grant is None:
        raise NotFound(f"no grant {grant_id}", details={"field": "id"})
    audit.log(session, actor=actor, action="grant.removed", object_type="role", object_id=grant.role_code,
              before={"resource": grant.resource, "action": grant.action, "scope": grant.scope})
    session.execute(delete(RoleGrant).where(RoleGrant.id == grant_id))
    forget_org_index(session)


_WHO_MODELS = {"role": Role, "department": Department, "department_tree": Department, "position": Position,
               "group": WorkGroup}


def add_rule(*, session: Session, effect: str, resource: str, actions: list[str], who_kind: str, who: str = "",
             which_kind: str, which: str = "", note: str = "", actor: str) -> AccessRule:
    """Add a grant or deny rule for some people on some records, checking every name it uses exists."""
    _check(effect, EFFECTS, "effect")
    resource = _check_resource(resource)
    if not isinstance(actions, list) or not actions:
        raise Invalid("choose at least one action", details={"field": "actions"})
    for action in actions:
        _check(action, ACTIONS, "actions")
    _check(who_kind, WHO_KINDS, "who_kind")
    _check(which_kind, WHICH_KINDS, "which_kind")
    who, which = (who or "").strip(), (which or "").strip()
    if who_kind in _WHO_MODELS:
        model = _WHO_MODELS[who_kind]
        if session.scalar(select(model.id).where(model.code == who)) is None:
            raise NotFound(f"no {who_kind.replace('_tree', '')} '{who}'", details={"field": "who"})
    elif who_kind == "user":
        if session.scalar(select(User.id).where(User.username == who)) is None:
            raise NotFound(f"no user '{who}'", details={"field": "who"})
    else:
        who = ""
    if which_kind in ("department", "department_tree"):
        if session.scalar(select(Department.id).where(Department.code == which)) is None:
            raise NotFound(f"no department '{which}'", details={"field": "which"})
    else:
        which = ""
    rule = AccessRule(effect=effect, resource=resource, actions=sorted(set(actions)), who_kind=who_kind, who=who,
                      which_kind=which_kind, which=which, note=(note or "")[:500], created_by=actor)
    session.add(rule)
    session.flush()
    audit.log(session, actor=actor, action="rule.added", object_type="access_rule", object_id=rule.id,
              after=_rule_dict(rule))
    forget_org_index(session)
    return rule


def _rule_dict(rule: AccessRule) -> dict:
    return {"effect": rule.effect, "resource": rule.resource, "actions": rule.actions, "who_kind": rule.who_kind,
            "who": rule.who, "which_kind": rule.which_kind, "which": rule.which, "note": rule.note}


def remove_rule(*, session: Session, rule_id: int, actor: str | None = None) -> None:
    """Delete an access rule."""
    rule = session.get(AccessRule, rule_id)
    if rule is None:
        raise NotFound(f"no rule {rule_id}", details={"field": "id"})
    audit.log(session, actor=actor, action="rule.removed", object_type="access_rule", object_id=rule_id,
              before=_rule_dict(rule))
    session.execute(delete(AccessRule).where(AccessRule.id == rule_id))
    forget_org_index(session)


def list_grants(*, session: Session) -> list[RoleGrant]:
    """List role grants by role, resource and action."""
    return list(session.scalars(select(RoleGrant).order_by(RoleGrant.role_code, RoleGrant.resource,
                                                           RoleGrant.action)))


def list_rules(*, session: Session) -> list[AccessRule]:
    """List access rules, newest first."""
    return list(session.scalars(select(AccessRule).order_by(AccessRule.id.desc())))


def install_default_grants(*, session: Session) -> int:
    """Give the shipped roles their everyday grants, once: nothing is added when any grant exists."""
    if session.scalar(select(func.count()).select_from(RoleGrant)):
        return 0
    for role, resource, action, scope in DEFAULT_GRANTS:
        # By role code: the grants apply as soon as a role of that code exists.
        session.add(RoleGrant(role_code=role, resource=resource, action=action, scope=scope))
    session.flush()
    forget_org_index(session)
    return len(DEFAULT_GRANTS)

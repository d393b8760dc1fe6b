"""The permission model: role grants with scopes plus finer grant/deny rules, resolved into record predicates.

A role grants an action on a resource (`records:customer`, `records:*`, `instances`) with a scope:
own, department, department_tree, subordinates, group or all. Rules add or take away access for some
people (everyone, a role, a department with or without its sub-departments, a position, a group, one
user) on some records (all, those owned in a department or department tree, those they wrote, own,
or touched by a process they took part in). Grants add up; a matching deny wins. The result is a
`Predicate` of plain atoms that each domain turns into a SQL condition on its own table, so lists,
counts, searches and exports are filtered in the query, never after loading.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from database.session import database_key
from instances.actors import Actor

from .models import (
    AccessRule,
    Department,
    Position,
    Role,
    RoleGrant,
    User,
    WorkGroup,
    group_member,
    user_role,
)
from .revision import current_revision

ACTIONS = ("view", "create", "edit", "delete", "export", "admin")
SCOPES = ("own", "department", "department_tree", "subordinates", "group", "all")
WHO_KINDS = ("everyone", "role", "department", "department_tree", "position", "group", "user")
WHICH_KINDS = ("all", "department", "department_tree", "authored", "owned", "participated")
EFFECTS = ("grant", "deny")
PORTAL_ACTIONS = ("view", "create")
# Record types a portal account reads but never creates itself. A complaint is registered on the portal's
# complaint page, which starts complaint handling (a bare record would reach nobody); a customer or partner
# record is the portal's own company, which the company's account sees, not a list it adds other companies to.
PORTAL_NEVER_CREATES = frozenset({"complaint", "customer", "partner"})


@dataclass(frozen=True)
class Predicate:
    """Which objects an action reaches, as atoms: everything, owners, departments, authors, participation, company."""

    all: bool = False
    owners: frozenset[str] = frozenset()
    departments: frozenset[int] = frozenset()
    authors: frozenset[str] = frozenset()
    participant: str | None = None
    company: int | None = None

    def __or__(self, other: Predicate) -> Predicate:
        return Predicate(self.all or other.all, self.owners | other.owners, self.departments | other.departments,
                         self.authors | other.authors, self.participant or other.participant,
                         self.company if self.company is not None else other.company)

    @property
    def empty(self) -> bool:
        """Tell whether the predicate matches nothing."""
        return not (self.all or self.owners or self.departments or self.authors or self.participant
                    or self.company is not None)

    def matches(self, facts: RecordFacts) -> bool:
        """Evaluate the predicate on one object's facts (the SQL form must agree; tests check both)."""
        return bool(self.all or facts.owner in self.owners or facts.department_id in self.departments
                    or facts.created_by in self.authors
                    or (self.participant and self.participant in facts.participants)
                    or (self.company is not None and (facts.id == self.company or self.company in facts.refers_to)))


@dataclass(frozen=True)
class RecordFacts:
    """What the predicate looks at on one object."""

    id: int
    owner: str
    department_id: int | None
    created_by: str
    participants: frozenset[str] = frozenset()
    refers_to: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Reason:
    """One grant or rule that applies to a user and an action, for the "why can X see this?" page."""

    kind: str
    effect: str
    text: str
    predicate: Predicate


@dataclass(frozen=True)
class Access:
    """The resolved permission of one user for one action on one resource."""

    grant: Predicate
    deny: Predicate
    reasons: tuple[Reason, ...] = ()
    admin: bool = False

    def allows(self, facts: RecordFacts) -> bool:
        """Tell whether the action is allowed on one object."""
        return self.grant.matches(facts) and not self.deny.matches(facts)

    def explain(self, facts: RecordFacts) -> list[Reason]:
        """Return the reasons that match an object (grants and denies)."""
        return [r for r in self.reasons if r.predicate.matches(facts)]


@dataclass(frozen=True)
class UserFacts:
    """What permission checks need of a user, detached from any session so it can be cached."""

    id: int
    username: str
    department_id: int | None
    position_id: int | None
    status: str
    kind: str
    portal_record_id: int | None
    portal_modules: tuple[str, ...]


@dataclass(frozen=True)
class GrantFacts:
    """A role grant, detached."""

    role_code: str
    resource: str
    action: str
    scope: str


@dataclass(frozen=True)
class RuleFacts:
    """An access rule, detached."""

    id: int
    effect: str
    resource: str
    actions: tuple[str, ...]
    who_kind: str
    who: str
    which_kind: str
    which: str


@dataclass
class OrgIndex:
    """The organisation as permission checks see it: people, superiors, department tree, groups, roles, rules."""

    users: dict[str, UserFacts] = field(default_factory=dict)
    by_id: dict[int, str] = field(default_factory=dict)
    reports: dict[int, list[int]] = field(default_factory=dict)
    children: dict[int, list[int]] = field(default_factory=dict)
    departments: dict[str, int] = field(default_factory=dict)
    positions: dict[int, str] = field(default_factory=dict)
    groups_of: dict[int, set[str]] = field(default_factory=dict)
    members: dict[str, set[str]] = field(default_factory=dict)
    roles_of: dict[int, set[str]] = field(default_factory=dict)
    grants: list[GrantFacts] = field(default_factory=list)
    rules: list[RuleFacts] = field(default_factory=list)

    def subtree(self, department_id: int | None) -> frozenset[int]:
        """Return a department and every department below it."""
        if department_id is None:
            return frozenset()
        out, stack = set(), [department_id]
        while stack:
            current = stack.pop()
            if current not in out:
                out.add(current)
                stack.extend(self.children.get(current, ()))
        return frozenset(out)

    def subordinates(self, user_id: int) -> frozenset[str]:
        """Return the user names below a person along the superior chain, at every level."""
        out, stack = set(), list(self.reports.get(user_id, ()))
        while stack:
            current = stack.pop()
            name = self.by_id.get(current)
            if name and name not in out:
                out.add(name)
                stack.extend(self.reports.get(current, ()))
        return frozenset(out)


_CACHE: dict[str, tuple[int, OrgIndex]] = {}


def org_index(session: Session) -> OrgIndex:
    """Return the organisation index: per session, and across requests while the organisation is unchanged.

    Every change to people, units, grants or rules bumps `org_revision` in its own transaction, so a
    cached index is reused only while the revision it was built at is still the current one.
    """
    cached = session.info.get("flowdesk.org_index")
    if cached is not None:
        return cached
    revision = current_revision(session)
    key = database_key(session)
    hit = _CACHE.get(key)
    if revision is not None and hit is not None and hit[0] == revision:
        index = hit[1]
    else:
        index = _load_index(session)
        if revision is not None:
            _CACHE[key] = (revision, index)
    session.info["flowdesk.org_index"] = index
    return index


def _load_index(session: Session) -> OrgIndex:
    index = OrgIndex()
    for user in session.scalars(select(User)):
        index.users[user.username] = UserFacts(user.id, user.username, user.department_id, user.position_id,
                                               user.status, user.kind, user.portal_record_id,
                                               tuple(user.portal_modules or ()))
        index.by_id[user.id] = user.username
        if user.superior_id:
            index.reports.setdefault(user.superior_id, []).append(user.id)
    for dept_id, code, parent in session.execute(select(Department.id, Department.code, Department.parent_id)):
        index.departments[code] = dept_id
        if parent:
            index.children.setdefault(parent, []).append(dept_id)
    index.positions = dict(session.execute(select(Position.id, Position.code)).all())
    for user_id, code in session.execute(select(group_member.c.user_id, WorkGroup.code)
                                         .join(WorkGroup, WorkGroup.id == group_member.c.group_id)):
        index.groups_of.setdefault(user_id, set()).add(code)
        if user_id in index.by_id:
            index.members.setdefault(code, set()).add(index.by_id[user_id])
    for user_id, code in session.execute(select(user_role.c.user_id, Role.code)
                                         .join(Role, Role.id == user_role.c.role_id)):
        index.roles_of.setdefault(user_id, set()).add(code)
    index.grants = [GrantFacts(g.role_code, g.resource, g.action, g.scope) for g in session.scalars(select(RoleGrant))]
    index.rules = [RuleFacts(r.id, r.effect, r.resource, tuple(r.actions or ()), r.who_kind, r.who, r.which_kind,
                             r.which) for r in session.scalars(select(AccessRule))]
    return index


def clear_cache() -> None:
    """Forget every cached organisation index (tests empty databases under the same address)."""
    _CACHE.clear()


def forget_org_index(session: Session) -> None:
    """Drop the session's cached organisation after the organisation or the rules changed in it."""
    session.info.pop("flowdesk.org_index", None)
    for key in [k for k in session.info if isinstance(k, tuple) and k and k[0] == "flowdesk.access"]:
        session.info.pop(key, None)


def _covers(pattern: str, resource: str) -> bool:
    if pattern == "*" or pattern == resource:
        return True
    return pattern.endswith(":*") and resource.startswith(pattern[:-1])


def access_for(*, session: Session, actor: Actor, resource: str, action: str) -> Access:
    """Resolve what an actor may do: the union of role grants and grant rules, minus deny rules."""
    if actor.is_admin:
        return Access(Predicate(all=True), Predicate(), (Reason("admin", "grant", "administrator", Predicate(all=True)),),
                      admin=True)
    index = org_index(session)
    user = index.users.get(actor.username)
    if user is not None and user.status != "active":
        return Access(Predicate(), Predicate())
    if user is not None and user.kind != "staff":
        return _portal_access(user, resource, action)
    me = actor.username
    roles = set(index.roles_of.get(user.id, ())) if user else set()
    roles |= {g.split(":", 1)[1] for g in actor.groups if g.startswith("role:")}
    grant, deny, reasons = Predicate(), Predicate(), []
    for row in index.grants:
        if row.role_code in roles and row.action == action and _covers(row.resource, resource):
            predicate = _scope(index, user, me, row.scope)
            grant = grant | predicate
            reasons.append(Reason("role", "grant", f"role {row.role_code}: {row.action} {row.resource} "
                                                   f"({row.scope})", predicate))
    for rule in index.rules:
        if action in rule.actions and _covers(rule.resource, resource) and _is_who(index, user, roles, rule):
            predicate = _which(index, me, rule)
            text = f"rule {rule.id}: {rule.effect} {action} {rule.resource} to {rule.who_kind} {rule.who}".rstrip()
            reasons.append(Reason("rule", rule.effect, f"{text} on {rule.which_kind} {rule.which}".rstrip(),
                                  predicate))
            if rule.effect == "deny":
                deny = deny | predicate
            else:
                grant = grant | predicate
    if action == "view":
        # Taking part in a process lets a person read what that process touches.
        participation = Predicate(participant=me)
        grant = grant | participation
        reasons.append(Reason("participant", "grant", "took part in a process on it", participation))
    return Access(grant, deny, tuple(reasons))


def _portal_access(user: UserFacts, resource: str, action: str) -> Access:
    enabled = set(user.portal_modules or [])
    if action not in PORTAL_ACTIONS or resource not in {f"records:{m}" for m in enabled} or user.portal_record_id is None:
        return Access(Predicate(), Predicate())
    if action == "create" and resource in {f"records:{key}" for key in PORTAL_NEVER_CREATES}:
        return Access(Predicate(), Predicate())
    predicate = Predicate(owners=frozenset({user.username}), company=int(user.portal_record_id))
    return Access(predicate, Predicate(), (Reason("portal", "grant", f"portal of record {user.portal_record_id}",
                                                  predicate),))


def _scope(index: OrgIndex, user: UserFacts | None, me: str, scope: str) -> Predicate:
    own = frozenset({me})
    if scope == "all":
        return Predicate(all=True)
    if user is None or scope == "own":
        return Predicate(owners=own)
    if scope == "department":
        return Predicate(owners=own, departments=frozenset({user.department_id}) if user.department_id else frozenset())
    if scope == "department_tree":
        return Predicate(owners=own, departments=index.subtree(user.department_id))
    if scope == "subordinates":
        return Predicate(owners=own | index.subordinates(user.id))
    if scope == "group":
        team = set()
        for code in index.groups_of.get(user.id, ()):
            team |= index.members.get(code, set())
        return Predicate(owners=own | frozenset(team))
    return Predicate()


def _is_who(index: OrgIndex, user: UserFacts | None, roles: set[str], rule: RuleFacts) -> bool:
    kind, value = rule.who_kind, rule.who
    if kind == "everyone":
        return True
    if kind == "role":
        return value in roles
    if user is None:
        return False
    if kind == "user":
        return user.username == value
    if kind == "department":
        return user.department_id is not None and index.departments.get(value) == user.department_id
    if kind == "department_tree":
        return user.department_id in index.subtree(index.departments.get(value))
    if kind == "position":
        return user.position_id is not None and index.positions.get(user.position_id) == value
    if kind == "group":
        return value in index.groups_of.get(user.id, set())
    return False


def _which(index: OrgIndex, me: str, rule: RuleFacts) -> Predicate:
    kind, value = rule.which_kind, rule.which
    if kind == "all":
        return Predicate(all=True)
    if kind == "department":
        return Predicate(departments=frozenset({index.departments[value]}) if value in index.departments
                         else frozenset())
    if kind == "department_tree":
        return Predicate(departments=index.subtree(index.departments.get(value)))
    if kind == "authored":
        return Predicate(authors=frozenset({me}))
    if kind == "owned":
        return Predicate(owners=frozenset({me}))
    if kind == "participated":
        return Predicate(participant=me)
    return Predicate()

"""The inbox: views and filters over work items, as queries (never by loading engine state)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, any_, func, or_, select
from sqlalchemy.orm import Session, defer, load_only

from database.base import MAX_PAGE, utcnow
from definitions.models import ROUTE_STATUS, DefinitionVersion

from .actors import Actor
from .errors import InvalidInput
from .models import (
    MAX_PRIORITY,
    MIN_PRIORITY,
    InstanceCopy,
    ProcessInstance,
    SavedFilter,
    WorkItem,
    WorkItemCandidate,
)

VIEWS = ("mine", "group", "done", "started", "cc")
SORTS = {"due": (WorkItem.due_at,), "priority": (WorkItem.priority,), "created": (WorkItem.created_at,)}
MAX_PAGE_SIZE = 200


@dataclass
class InboxFilter:
    """What the user narrowed the inbox to."""

    view: str = "mine"
    process: str | None = None
    status: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    due_from: datetime | None = None
    due_to: datetime | None = None
    overdue: bool = False
    priority_min: int | None = None
    initiator: str | None = None
    fields: dict = field(default_factory=dict)
    text: str | None = None
    sort: str = "due"
    descending: bool = False
    page: int = 1
    page_size: int = 25

    def check(self) -> InboxFilter:
        """Refuse values the queries cannot use, naming the field."""
        if self.view not in VIEWS:
            raise InvalidInput(f"view must be one of {', '.join(VIEWS)}", details={"field": "view"})
        if self.sort not in SORTS:
            raise InvalidInput(f"sort must be one of {', '.join(SORTS)}", details={"field": "sort"})
        if not 1 <= self.page <= MAX_PAGE or not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise InvalidInput(f"page must be 1 to {MAX_PAGE} and page_size 1 to {MAX_PAGE_SIZE}",
                               details={"field": "page"})
        if self.priority_min is not None and not MIN_PRIORITY <= self.priority_min <= MAX_PRIORITY:
            raise InvalidInput(f"priority_min must be from {MIN_PRIORITY} to {MAX_PRIORITY}",
                               details={"field": "priority_min"})
        for name in self.fields:
            if not str(name).isidentifier():
                raise InvalidInput(f"'{name}' is not a form field name", details={"field": f"fields.{name}"})
        return self


def _claimable(actor: Actor):
    """Select the ids of open items offered to the actor (candidate rows exist only for open items)."""
    match = and_(WorkItemCandidate.kind == "user", WorkItemCandidate.value == actor.username)
    if actor.groups:
        match = or_(match, and_(WorkItemCandidate.kind == "group", WorkItemCandidate.value.in_(sorted(actor.groups))))
    return select(WorkItemCandidate.work_item_id).where(match)


def _needs_instance(flt: InboxFilter) -> bool:
    return bool(flt.process or flt.initiator or flt.text or flt.fields or flt.status)


def _offered(actor: Actor, dialect: str):
    """Match the items offered to the actor, looked up by id from the actor's candidate rows."""
    if dialect == "postgresql":
        # id = ANY(ARRAY(...)) probes the primary key for the few thousand offered ids; a plain IN lets the
        # planner, which underestimates open unclaimed items, scan all of them and hash-join instead.
        return WorkItem.id == any_(func.array(_claimable(actor).scalar_subquery()))
    return WorkItem.id.in_(_claimable(actor))


def _base(actor: Actor, view: str, join_instance: bool, dialect: str):
    query = select(WorkItem)
    if join_instance:
        query = query.join(ProcessInstance, ProcessInstance.id == WorkItem.instance_id)
    if view == "mine":
        return query.where(WorkItem.status == "open", WorkItem.assignee == actor.username)
    if view == "group":
        return query.where(_offered(actor, dialect), WorkItem.status == "open", WorkItem.assignee.is_(None))
    if view == "done":
        return query.where(WorkItem.status == "completed", WorkItem.completed_by == actor.username)
    raise InvalidInput(f"view {view} lists instances, not tasks", details={"field": "view"})


def _field_filter(query, fields: dict):
    for name, value in fields.items():
        query = query.where(ProcessInstance.data[name].as_string() == str(value))
    return query


def _narrow(query, flt: InboxFilter, dialect: str, now: datetime):
    if flt.process:
        query = query.where(ProcessInstance.definition_key == flt.process)
    if flt.status and flt.view in ("started", "cc"):
        query = query.where(ProcessInstance.status == flt.status)
    if flt.initiator:
        query = query.where(ProcessInstance.initiator == flt.initiator)
    if flt.text:
        like = f"%{flt.text.strip()}%"
        query = query.where(or_(ProcessInstance.title.ilike(like), ProcessInstance.business_key.ilike(like)))
    if flt.fields:
        query = _field_filter(query, flt.fields)
    if flt.view in ("mine", "group", "done"):
        if flt.created_from:
            query = query.where(WorkItem.created_at >= flt.created_from)
        if flt.created_to:
            query = query.where(WorkItem.created_at <= flt.created_to)
        if flt.due_from:
            query = query.where(WorkItem.due_at >= flt.due_from)
        if flt.due_to:
            query = query.where(WorkItem.due_at <= flt.due_to)
        if flt.overdue:
            query = query.where(WorkItem.due_at < now, WorkItem.status == "open")
        if flt.priority_min is not None:
            query = query.where(WorkItem.priority >= flt.priority_min)
    else:
        if flt.created_from:
            query = query.where(ProcessInstance.started_at >= flt.created_from)
        if flt.created_to:
            query = query.where(ProcessInstance.started_at <= flt.created_to)
    return query


@dataclass
class Page:
    """One page of inbox rows with the total count."""

    rows: list
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        """Return how many pages there are."""
        return max(1, -(-self.total // self.page_size))


# A page lists summaries. The engine state (kilobytes per instance), the process data and a work item's
# submitted values stay in the database: reading and decoding them for 25 rows cost more than the query.
# raiseload: code that wants them from a listed row must read the instance or item itself.
_INSTANCE_SUMMARY = load_only(ProcessInstance.id, ProcessInstance.definition_id, ProcessInstance.definition_key,
                              ProcessInstance.process_id, ProcessInstance.status, ProcessInstance.business_key,
                              ProcessInstance.title, ProcessInstance.initiator, ProcessInstance.lock_version,
                              ProcessInstance.started_at, ProcessInstance.updated_at, ProcessInstance.ended_at,
                              ProcessInstance.next_wake_at, raiseload=True)
_ITEM_SUMMARY = (defer(WorkItem.submitted, raiseload=True), defer(WorkItem.overdue_outcome, raiseload=True))


def list_inbox(*, session: Session, actor: Actor, flt: InboxFilter) -> Page:
    """Return one page of the actor's inbox view; rows are (work item, instance) or (instance, copy)."""
    flt.check()
    dialect = session.get_bind().dialect.name
    now = utcnow()
    if flt.view == "started":
        query = select(ProcessInstance, None).where(ProcessInstance.initiator == actor.username)
        order = [ProcessInstance.started_at.desc(), ProcessInstance.id.desc()]
    elif flt.view == "cc":
        query = (select(ProcessInstance, InstanceCopy)
                 .join(InstanceCopy, InstanceCopy.instance_id == ProcessInstance.id)
                 .where(InstanceCopy.username == actor.username))
        order = [InstanceCopy.read_at.is_not(None), InstanceCopy.created_at.desc()]
    else:
        query = _base(actor, flt.view, _needs_instance(flt), dialect)
        column = SORTS[flt.sort][0]
        if flt.view == "done" and flt.sort == "due":
            column = WorkItem.completed_at
            flt.descending = True
        if dialect == "postgresql":
            # Same order as below (empty dates last), but in a form a (due_at, id) index can serve.
            order = [column.desc().nulls_last() if flt.descending else column.asc().nulls_last(), WorkItem.id]
        else:
            order = [column.is_(None), column.desc() if flt.descending else column, WorkItem.id]
    query = _narrow(query, flt, dialect, now)
    page = query.order_by(*order).limit(flt.page_size).offset((flt.page - 1) * flt.page_size)
    if flt.view == "group" and dialect == "postgresql":
        # Sort and cut the offered ids inside ix_work_item_offered, then read only the page's rows: sorting
        # whole rows read a row for each of the thousands of items a large group is offered. The same pass
        # counts them (a window count sees every row before the limit), instead of a second look-up of the
        # actor's candidate rows and offered ids for the total.
        found = session.execute(page.with_only_columns(WorkItem.id, func.count().over())).all()
        total = found[0][1] if found else (0 if flt.page == 1 else _count(session, query))
        page = select(WorkItem).where(WorkItem.id.in_([row[0] for row in found] or [-1])).order_by(*order)
    else:
        total = _count(session, query)
    if flt.view in ("started", "cc"):
        rows = [tuple(r) for r in session.execute(page.options(_INSTANCE_SUMMARY)).all()]
    else:
        # Page the work items first and fetch only their instances: joining every matching item to its
        # instance before the sort and limit costs one instance lookup per match.
        items = list(session.scalars(page.options(*_ITEM_SUMMARY)))
        owners = {i.id: i for i in session.scalars(select(ProcessInstance).options(_INSTANCE_SUMMARY).where(
            ProcessInstance.id.in_({item.instance_id for item in items} or {-1})))}
        rows = [(item, owners[item.instance_id]) for item in items]
    return Page(rows=rows, total=total or 0, page=flt.page, page_size=flt.page_size)


def _count(session: Session, query) -> int:
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def counts(*, session: Session, actor: Actor) -> dict[str, int]:
    """Count open tasks, claimable tasks, overdue tasks and unread copies for the navigation."""
    now = utcnow()
    mine = session.scalar(select(func.count()).select_from(WorkItem).where(
        WorkItem.status == "open", WorkItem.assignee == actor.username)) or 0
    group = session.scalar(select(func.count()).select_from(WorkItem).where(
        _offered(actor, session.get_bind().dialect.name), WorkItem.status == "open",
        WorkItem.assignee.is_(None))) or 0
    overdue = session.scalar(select(func.count()).select_from(WorkItem).where(
        WorkItem.status == "open", WorkItem.assignee == actor.username, WorkItem.due_at < now)) or 0
    cc = session.scalar(select(func.count()).select_from(InstanceCopy).where(
        InstanceCopy.username == actor.username, InstanceCopy.read_at.is_(None))) or 0
    return {"mine": mine, "group": group, "overdue": overdue, "cc": cc}


def process_choices(*, session: Session) -> list[tuple[str, str]]:
    """List (key, name) of every process with stored versions, for the filter menu."""
    rows = session.execute(select(DefinitionVersion.key, func.max(DefinitionVersion.name))
                           .where(DefinitionVersion.status != ROUTE_STATUS)  # free-flow routes run as their process
                           .group_by(DefinitionVersion.key).order_by(DefinitionVersion.key)).all()
    return [(key, name) for key, name in rows]


def save_filter(*, session: Session, actor: Actor, name: str, flt: InboxFilter, query: dict) -> SavedFilter:
    """Store a named filter for the actor, replacing one of the same name."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("a saved filter needs a name of at most 100 characters", details={"field": "name"})
    flt.check()
    saved = session.scalar(select(SavedFilter).where(SavedFilter.username == actor.username,
                                                     SavedFilter.name == name))
    saved = saved or SavedFilter(username=actor.username, name=name)
    saved.view, saved.query = flt.view, dict(query)
    session.add(saved)
    session.flush()
    return saved


def list_filters(*, session: Session, actor: Actor) -> list[SavedFilter]:
    """List the actor's saved filters by name."""
    return list(session.scalars(select(SavedFilter).where(SavedFilter.username == actor.username)
                                .order_by(SavedFilter.name)))


def delete_filter(*, session: Session, actor: Actor, filter_id: int) -> None:
    """Delete one of the actor's saved filters."""
    saved = session.get(SavedFilter, filter_id)
    if saved is None or saved.username != actor.username:
        raise InvalidInput(f"no saved filter {filter_id}", details={"field": "id"})
    session.delete(saved)


def mark_copy_read(*, session: Session, actor: Actor, instance_id: int) -> None:
    """Mark the actor's copies of an instance as read."""
    for copy in session.scalars(select(InstanceCopy).where(InstanceCopy.instance_id == instance_id,
                                                           InstanceCopy.username == actor.username,
                                                           InstanceCopy.read_at.is_(None))):
        copy.read_at = utcnow()

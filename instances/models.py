"""Process instances, work items (the inbox), history events and outgoing messages."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from database.base import MAX_INT32, Base, JSONType, UTCDateTime, utcnow

INSTANCE_STATUSES = ("running", "completed", "rejected", "incident", "cancelled", "suspended", "withdrawn",
                     "terminated")
WORK_ITEM_STATUSES = ("open", "completed", "cancelled")
MIN_PRIORITY, MAX_PRIORITY = -MAX_INT32, MAX_INT32  # what the work item's 32-bit priority column holds
BigId = BigInteger().with_variant(Integer, "sqlite")


class ProcessInstance(Base):
    """A running or finished process instance, pinned to one definition version."""

    __tablename__ = "process_instance"
    __table_args__ = (
        Index("ix_process_instance_wake", "next_wake_at"),
        Index("ix_process_instance_key_status", "definition_key", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id"), index=True)
    definition_key: Mapped[str] = mapped_column(String(200))
    process_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="running", index=True)
    business_key: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    initiator: Mapped[str | None] = mapped_column(String(150), nullable=True, index=True)
    state: Mapped[str] = mapped_column(Text)
    state_format: Mapped[str] = mapped_column(String(20), default="flowdesk-1")
    data: Mapped[dict] = mapped_column(JSONType, default=dict)
    next_wake_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    wake_attempts: Mapped[int] = mapped_column(Integer, default=0)
    waiting_messages: Mapped[list] = mapped_column(JSONType, default=list)
    incident: Mapped[dict | None] = mapped_column(JSONType, nullable=True)
    lock_version: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __mapper_args__ = {"version_id_col": lock_version}


class WorkItem(Base):
    """One human task: the row the inbox lists."""

    __tablename__ = "work_item"
    __table_args__ = (
        Index("ix_work_item_assignee_status", "assignee", "status"),
        Index("ix_work_item_instance_status", "instance_id", "status"),
        # The group-tasks view and its count: open, unclaimed items in due order (partial, stays small).
        Index("ix_work_item_open_unassigned", "due_at", "id", "instance_id",
              postgresql_where=text("status = 'open' AND assignee IS NULL"),
              sqlite_where=text("status = 'open' AND assignee IS NULL")),
        Index("ix_work_item_offered", "id", postgresql_include=["due_at", "priority", "created_at"],
              postgresql_where=text("status = 'open' AND assignee IS NULL"),
              sqlite_where=text("status = 'open' AND assignee IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    task_guid: Mapped[str] = mapped_column(String(36), unique=True)
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    # "task": a human task of the model; "resubmit": the request was returned to its initiator to revise it.
    kind: Mapped[str] = mapped_column(String(20), default="task", server_default="task")
    assignee: Mapped[str | None] = mapped_column(String(150), nullable=True)
    candidate_users: Mapped[list] = mapped_column(JSONType, default=list)
    candidate_groups: Mapped[list] = mapped_column(JSONType, default=list)
    priority: Mapped[int] = mapped_column(Integer, default=50)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    form_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    form_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    item: Mapped[dict | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_by: Mapped[str | None] = mapped_column(String(150), nullable=True)
    decision: Mapped[str | None] = mapped_column(String(50), nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    submitted: Mapped[dict | None] = mapped_column(JSONType, nullable=True)
    # Delegation (委派): the owner decides; the assignee works on it until they hand it back.
    owner: Mapped[str | None] = mapped_column(String(150), nullable=True)
    last_urged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # flowdesk.onOverdue: set once the worker handled the item past its due time ({"policy", "outcome", ...}).
    overdue_handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    overdue_outcome: Mapped[dict | None] = mapped_column(JSONType, nullable=True)

    candidates: Mapped[list[WorkItemCandidate]] = relationship(cascade="all, delete-orphan")


class WorkItemCandidate(Base):
    """Who may claim an unassigned work item: one row per user, role, department, position or group."""

    __tablename__ = "work_item_candidate"
    __table_args__ = (Index("ix_work_item_candidate_lookup", "kind", "value", "work_item_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_item.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(150))


class HistoryEvent(Base):
    """An append-only record of what happened in an instance."""

    __tablename__ = "history_event"
    __table_args__ = (Index("ix_history_event_instance", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    work_item_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    type: Mapped[str] = mapped_column(String(40))
    element_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    actor: Mapped[str | None] = mapped_column(String(150), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    details: Mapped[dict] = mapped_column(JSONType, default=dict)

    # Lets one flush insert a new work item and the events that point at it.
    work_item: Mapped[WorkItem | None] = relationship(
        primaryjoin="foreign(HistoryEvent.work_item_id) == WorkItem.id")


class OutboxMessage(Base):
    """A side effect leaving the system, written in the command's transaction and sent after commit."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set in its own committed transaction before a send leaves the system: a row still "sending" after
    # a crash may or may not have arrived, so it is never retried blindly.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class MessageSubscription(Base):
    """A message an instance waits for: how an incoming message finds its receivers."""

    __tablename__ = "message_subscription"
    __table_args__ = (Index("ix_message_subscription_name", "name", "instance_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))


class InstanceCopy(Base):
    """A carbon copy (抄送) of an instance to a person, with when they read it."""

    __tablename__ = "instance_cc"
    __table_args__ = (Index("ix_instance_cc_user", "username", "read_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(String(150))
    sent_by: Mapped[str | None] = mapped_column(String(150), nullable=True)
    element_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SavedFilter(Base):
    """An inbox filter a user saved under a name."""

    __tablename__ = "saved_filter"
    __table_args__ = (Index("ix_saved_filter_user", "username", "name", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(150))
    name: Mapped[str] = mapped_column(String(100))
    view: Mapped[str] = mapped_column(String(20))
    query: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TaskProxy(Base):
    """A standing proxy: one person's new tasks go to another between two dates."""

    __tablename__ = "task_proxy"
    __table_args__ = (Index("ix_task_proxy_user", "username", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(150))
    proxy: Mapped[str] = mapped_column(String(150))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    definition_keys: Mapped[list | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

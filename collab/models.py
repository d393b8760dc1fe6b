"""Messages, their recipients, in-app notifications, delivery preferences and chat webhooks."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from database.base import Base, JSONType, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")
NOTICE_KINDS = ("task_assigned", "task_claimed", "urged", "copied", "returned", "approved", "rejected",
                "due_soon", "overdue", "escalated", "mentioned", "record_assigned", "transferred",
                "delegated", "assisted", "reminder", "message", "invited", "invitation_reply", "event_changed",
                "event_cancelled", "event_reminder")
CHANNELS = ("app", "email", "chat")
WEBHOOK_KINDS = ("wecom", "dingtalk", "feishu", "slack")
# Kinds that may break a quiet period: waiting until morning defeats their purpose.
URGENT_KINDS = ("overdue", "escalated")


class Message(Base):
    """An internal message from one user; a reply points at the first message of its thread."""

    __tablename__ = "collab_message"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sender: Mapped[str] = mapped_column(String(150), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    thread_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    parent_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    # What the sender addressed (users, departments, groups), kept because membership changes later.
    audience: Mapped[dict] = mapped_column(JSONType, default=dict)
    attachment_ids: Mapped[list] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Loaded with the message: every page that lists messages shows their recipients or read state.
    recipients: Mapped[list[MessageRecipient]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                              order_by="MessageRecipient.username")


class MessageRecipient(Base):
    """One person a message reached, with when they read it."""

    __tablename__ = "collab_message_recipient"
    __table_args__ = (UniqueConstraint("message_id", "username"),
                      Index("ix_collab_message_recipient_unread", "username", "read_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("collab_message.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(String(150))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Notification(Base):
    """An in-app notice for one person: what happened, where to look, whether they read it."""

    __tablename__ = "collab_notification"
    __table_args__ = (Index("ix_collab_notification_unread", "username", "read_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(150))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(300), default="")
    actor: Mapped[str | None] = mapped_column(String(150), nullable=True)
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    work_item_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    outbox_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class NoticePreference(Base):
    """The channels one person wants for one kind of notice; no row means the defaults."""

    __tablename__ = "collab_notice_preference"
    __table_args__ = (UniqueConstraint("username", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(150))
    kind: Mapped[str] = mapped_column(String(40))
    channels: Mapped[list] = mapped_column(JSONType, default=list)


class NoticeSettings(Base):
    """A person's quiet period (local wall-clock times) and time zone."""

    __tablename__ = "collab_notice_settings"

    username: Mapped[str] = mapped_column(String(150), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    quiet_start: Mapped[str | None] = mapped_column(String(5), nullable=True)
    quiet_end: Mapped[str | None] = mapped_column(String(5), nullable=True)


class Webhook(Base):
    """A chat robot that receives notices: for the whole organisation or one department."""

    __tablename__ = "collab_webhook"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(String(1000))
    secret: Mapped[str] = mapped_column(String(300), default="")
    department_code: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(150), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NoticeOnce(Base):
    """A notice that must be raised once only, such as a work item becoming overdue."""

    __tablename__ = "collab_notice_once"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    ref_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

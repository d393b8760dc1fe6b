"""Calendar events, their attendees, subscription feeds and the marks of reminders already raised."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from database.base import Base, JSONType, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")
EVENT_KINDS = ("meeting", "call", "visit", "reminder", "other")
RESPONSES = ("pending", "accepted", "tentative", "declined")


class CalendarEvent(Base):
    """One event or a recurring series, kept in UTC with the wall-clock zone its repeats follow."""

    __tablename__ = "calendar_event"
    __table_args__ = (Index("ix_calendar_event_span", "starts_at", "last_ends_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    organizer: Mapped[str] = mapped_column(String(150), index=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20), default="meeting")
    location: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    # Repeats keep their local time across daylight-saving changes, so the zone is part of the event.
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    rrule: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # Local start times (ISO, no zone) of occurrences taken out of a series.
    exdates: Mapped[list] = mapped_column(JSONType, default=list)
    # When the last occurrence ends; None for a series without an end. Range queries use it.
    last_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reminders: Mapped[list] = mapped_column(JSONType, default=list)
    project: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    record_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(20), default="confirmed")
    lock_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    attendees: Mapped[list[EventAttendee]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                          order_by="EventAttendee.id")

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def duration(self):
        """Return how long each occurrence lasts."""
        return self.ends_at - self.starts_at

    def attendee(self, username: str) -> EventAttendee | None:
        """Return one person's attendance, or None when they are not invited."""
        return next((a for a in self.attendees if a.username == username), None)


class EventAttendee(Base):
    """One person invited to an event (the organiser too) and their answer."""

    __tablename__ = "calendar_attendee"
    __table_args__ = (UniqueConstraint("event_id", "username"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("calendar_event.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(String(150), index=True)
    response: Mapped[str] = mapped_column(String(20), default="pending")
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CalendarFeed(Base):
    """A secret subscription link to one person's calendar; only the hash of its token is kept."""

    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(150), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ReminderMark(Base):
    """A reminder already raised for one occurrence, so a worker restart never raises it twice."""

    __tablename__ = "calendar_reminder_mark"

    event_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    occurs_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    minutes: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

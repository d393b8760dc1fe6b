"""Business calendars: the organisation's, departments' own, and their dated exceptions (holidays, 调休)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from database.base import Base, JSONType, UTCDateTime, utcnow

from . import revision
from .models import Department

EXCEPTION_KINDS = ("holiday", "workday")


class WorkCalendar(Base):
    """Working weekdays and working periods in a time zone: the organisation's, or one department's own."""

    __tablename__ = "work_calendar"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "organisation" for the one organisation calendar, "department:<id>" for a department's own: the unique
    # owner is what keeps the organisation to exactly one calendar (a NULL department would not).
    owner: Mapped[str] = mapped_column(String(80), unique=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"),
                                                      nullable=True, unique=True)
    zone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # ISO weekday numbers of working days, e.g. "12345" for Monday to Friday.
    weekdays: Mapped[str] = mapped_column(String(7), default="12345")
    # Wall-clock working periods of a day, [["09:00", "12:00"], ["13:00", "18:00"]]; "24:00" may end one.
    periods: Mapped[list] = mapped_column(JSONType, default=list)
    # A department calendar also uses the exceptions of the calendar it would otherwise inherit.
    inherit_exceptions: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped[Department | None] = relationship()
    exceptions: Mapped[list[WorkCalendarException]] = relationship(
        back_populates="calendar", cascade="all, delete-orphan", passive_deletes=True,
        order_by="WorkCalendarException.day")


class WorkCalendarException(Base):
    """One dated exception: a holiday (a day off, with a name) or a make-up workday (调休)."""

    __tablename__ = "work_calendar_exception"
    __table_args__ = (UniqueConstraint("calendar_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("work_calendar.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100), default="")

    calendar: Mapped[WorkCalendar] = relationship(back_populates="exceptions")


# The working calendars counted from these are cached by organisation revision: a change must move it on.
revision.watch(WorkCalendar, WorkCalendarException)

"""The attachment row and the file store's state; the bytes live in the file store under their SHA-256."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from database.base import Base, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")


class Attachment(Base):
    """One uploaded file as a person named it; identical bytes share one stored blob."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigId)
    content_type: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(255))
    created_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id", ondelete="SET NULL"),
                                                    nullable=True, index=True)
    work_item_id: Mapped[int | None] = mapped_column(BigId, nullable=True)


class FileStoreState(Base):
    """The one row (id 1) of the store's at-rest setting and the progress of the job that applies it."""

    # It lives with the attachments because they own the store's layout and write to it without documents.
    __tablename__ = "file_store_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    encrypt: Mapped[bool] = mapped_column(Boolean, default=False)
    key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="idle")
    target: Mapped[str] = mapped_column(String(10), default="plain")
    run: Mapped[int] = mapped_column(Integer, default=0)
    cursor: Mapped[str] = mapped_column(String(64), default="")
    total: Mapped[int | None] = mapped_column(BigId, nullable=True)
    done: Mapped[int] = mapped_column(BigId, default=0)
    failed: Mapped[int] = mapped_column(BigId, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_by: Mapped[str | None] = mapped_column(String(150), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

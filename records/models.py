"""Record types (versioned JSON schemas), records, their links, change history and admin dictionaries."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from database.base import Base, JSONType, UTCDateTime, utcnow
from instances.models import BigId


class RecordType(Base):
    """A kind of record (customer, contract, ...): its key and the version of its schema in force."""

    __tablename__ = "record_type"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    core: Mapped[bool] = mapped_column(Boolean, default=False)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecordTypeVersion(Base):
    """One immutable version of a record type: the JSON schema plus list and search metadata."""

    __tablename__ = "record_type_version"
    __table_args__ = (UniqueConstraint("type_id", "version", name="uq_record_type_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("record_type.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    schema: Mapped[dict] = mapped_column(JSONType)
    meta: Mapped[dict] = mapped_column(JSONType, default=dict)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(150), default="system")


class Record(Base):
    """One record: JSON data valid against its type, with owner, department, audit stamps and a lock version."""

    __tablename__ = "record"
    __table_args__ = (
        Index("ix_record_type_live", "type_id", "deleted_at", "updated_at"),
        Index("ix_record_type_title", "type_id", "title"),
        # Equality filters on any field become JSONB containment on PostgreSQL, which this index serves.
        Index("ix_record_data", "data", postgresql_using="gin", postgresql_ops={"data": "jsonb_path_ops"},
              info={"postgresql_only": True}),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("record_type.id"))
    type_version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict] = mapped_column(JSONType, default=dict)
    title: Mapped[str] = mapped_column(String(300), default="")
    search_text: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(150), index=True)
    department_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(150))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(150))
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_by: Mapped[str | None] = mapped_column(String(150), nullable=True)

    __mapper_args__ = {"version_id_col": lock_version}


class RecordLink(Base):
    """A reference from one record's field to another record, indexed both ways for related lists."""

    __tablename__ = "record_link"
    __table_args__ = (
        Index("ix_record_link_target", "target_id", "source_type_id"),
        UniqueConstraint("source_id", "field", "target_id", name="uq_record_link"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("record.id", ondelete="CASCADE"), index=True)
    source_type_id: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(200))
    target_id: Mapped[int] = mapped_column(ForeignKey("record.id", ondelete="CASCADE"))


class RecordProcess(Base):
    """A process instance that created, updated or linked a record: the record page lists them."""

    __tablename__ = "record_process"
    __table_args__ = (UniqueConstraint("record_id", "instance_id", name="uq_record_process"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id", ondelete="CASCADE"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    relation: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecordChange(Base):
    """One entry of a record's field-level change history: who, when, what, before and after."""

    __tablename__ = "record_change"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(150))
    action: Mapped[str] = mapped_column(String(20))
    changes: Mapped[dict] = mapped_column(JSONType, default=dict)
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)


class Dictionary(Base):
    """An admin-kept list of choices (数据字典) that form fields pick from by name."""

    __tablename__ = "dictionary"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200), default="")
    items: Mapped[list] = mapped_column(JSONType, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(150), default="system")
    note: Mapped[str] = mapped_column(Text, default="")

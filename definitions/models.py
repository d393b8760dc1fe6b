"""Stored process definitions: immutable, content-hashed versions of a BPMN model with its forms, the keys
marked as templates, and the process categories admins manage."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from database.base import Base, JSONType, UTCDateTime, utcnow

STATUSES = ("draft", "published", "deprecated")
ROUTE_STATUS = "route"  # the generated model of one free-flow route: never listed, started or changed by hand
MODEL_TYPES = ("fixed", "predefined", "custom")


class DefinitionVersion(Base):
    """One immutable version of a process definition."""

    __tablename__ = "definition_version"
    __table_args__ = (
        UniqueConstraint("key", "version", name="uq_definition_version_key_version"),
        UniqueConstraint("key", "sha256", name="uq_definition_version_key_sha256"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(100), default="general")
    model_type: Mapped[str] = mapped_column(String(20), default="custom")
    status: Mapped[str] = mapped_column(String(20), default="published", index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    executable: Mapped[bool] = mapped_column(Boolean, default=True)
    primary_process_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    report: Mapped[dict] = mapped_column(JSONType, default=dict)
    elements: Mapped[dict] = mapped_column(JSONType, default=dict)
    metadata_: Mapped[dict] = mapped_column("metadata", JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(150), nullable=True)

    files: Mapped[list[DefinitionFile]] = relationship(
        back_populates="definition", cascade="all, delete-orphan", order_by="DefinitionFile.name")

    @property
    def startable(self) -> bool:
        """Tell whether new instances may start on this version."""
        blocking = [i for i in (self.report or {}).get("issues", []) if i.get("severity") == "error"]
        return self.executable and self.status == "published" and not blocking

    @property
    def description_zh(self) -> str | None:
        """Return the Chinese description process.json gives (description_zh), or None."""
        chinese = (self.metadata_ or {}).get("description_zh")
        return chinese.strip() if isinstance(chinese, str) and chinese.strip() else None

    def description_in(self, lang: str) -> str:
        """Return the description in a language: the Chinese one for Chinese, where the process has one."""
        if str(lang).lower().startswith("zh") and self.description_zh:
            return self.description_zh
        return self.description or ""

    def file_map(self) -> dict[str, bytes]:
        """Return the version's files as name -> bytes."""
        return {f.name: f.content.encode("utf-8") for f in self.files}


class DefinitionFile(Base):
    """One file (BPMN, DMN or JSON form) of a definition version."""

    __tablename__ = "definition_file"
    __table_args__ = (UniqueConstraint("definition_id", "name", name="uq_definition_file_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)

    definition: Mapped[DefinitionVersion] = relationship(back_populates="files")


class ProcessTemplate(Base):
    """A definition key marked as a template: designers copy it to start a new process."""

    __tablename__ = "process_template"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(150), nullable=True)


class ProcessCategory(Base):
    """A category the start catalogue groups processes by, with its names and place in the order."""

    __tablename__ = "process_category"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # As wide as definition_version.category, so every category stored before the table existed fits.
    code: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    sort: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

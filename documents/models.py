"""The document centre's tables: libraries, folders with permissions, documents, versions, links, recycle bin.

Bytes live in the shared file store under their SHA-256 (see documents/store.py); these rows are the metadata.
Each folder materialises its place in the tree: `path` lists the ids from the root ("/1/5/17/"), the
ancestor table holds one row per (folder, ancestor-or-self), and `acl_root_id` names the nearest folder at
or above it whose permissions are set on it (not inherited), so permission checks and the search predicate
never walk the tree row by row.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from database.base import Base, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")
LIBRARY_KINDS = ("company", "department", "personal")
EXTRACTION_STATUSES = ("pending", "ok", "empty", "unreadable", "unsupported", "encrypted")
LINK_KINDS = ("instance", "record")


class DocLibrary(Base):
    """The company library, one library per department, or one person's drive (with an optional quota)."""

    __tablename__ = "doc_library"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "company", "department:<id>" or "personal:<username>": one unique key keeps each library single.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(255))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="SET NULL"),
                                                      nullable=True, index=True)
    owner: Mapped[str | None] = mapped_column(String(150), nullable=True, index=True)
    quota_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    root_folder_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(150), default="system")


class DocLibraryAdmin(Base):
    """A person who manages a whole library (a department's document admins)."""

    __tablename__ = "doc_library_admin"

    library_id: Mapped[int] = mapped_column(ForeignKey("doc_library.id", ondelete="CASCADE"), primary_key=True)
    username: Mapped[str] = mapped_column(String(150), primary_key=True, index=True)


class DocFolder(Base):
    """A folder; the root folder of a library has no parent and always sets its own permissions."""

    __tablename__ = "doc_folder"
    __table_args__ = (Index("uq_doc_folder_live_name", "parent_id", "name_key", unique=True,
                            postgresql_where=text("deleted_at IS NULL"), sqlite_where=text("deleted_at IS NULL")),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("doc_library.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("doc_folder.id", ondelete="CASCADE"),
                                                  nullable=True, index=True)
    name: Mapped[str] = mapped_column(String(255))
    name_key: Mapped[str] = mapped_column(String(255))  # NFC + casefold: "Report" and "report" clash
    path: Mapped[str] = mapped_column(String(2000), default="")
    depth: Mapped[int] = mapped_column(Integer, default=0)
    inherit: Mapped[bool] = mapped_column(Boolean, default=True)
    acl_root_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    created_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_by: Mapped[str | None] = mapped_column(String(150), nullable=True)
    trash_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)


class DocFolderAncestor(Base):
    """One (folder, ancestor) pair, the folder itself included: a subtree is one indexed lookup, never a walk."""

    __tablename__ = "doc_folder_ancestor"
    __table_args__ = (Index("ix_doc_folder_ancestor_ancestor", "ancestor_id", "folder_id"),)

    folder_id: Mapped[int] = mapped_column(ForeignKey("doc_folder.id", ondelete="CASCADE"), primary_key=True)
    ancestor_id: Mapped[int] = mapped_column(ForeignKey("doc_folder.id", ondelete="CASCADE"), primary_key=True)


class DocPermission(Base):
    """Actions (a bit mask) one principal gets on a folder and, unless a subfolder sets its own, below it."""

    __tablename__ = "doc_permission"
    __table_args__ = (UniqueConstraint("folder_id", "principal", name="uq_doc_permission_folder_principal"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    folder_id: Mapped[int] = mapped_column(ForeignKey("doc_folder.id", ondelete="CASCADE"))
    # "user:<name>", "role:<code>", "dept:<code>", "dept_tree:<code>", "group:<code>", "position:<code>", "everyone"
    principal: Mapped[str] = mapped_column(String(200), index=True)
    actions: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DocDocument(Base):
    """A document in a folder: its name, lock, encryption, and the version it shows."""

    __tablename__ = "doc_document"
    # Names are unique among live documents of a folder; the service says so first, the index settles races.
    __table_args__ = (Index("uq_doc_document_live_name", "folder_id", "name_key", unique=True,
                            postgresql_where=text("deleted_at IS NULL"), sqlite_where=text("deleted_at IS NULL")),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("doc_library.id"), index=True)
    folder_id: Mapped[int] = mapped_column(ForeignKey("doc_folder.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    name_key: Mapped[str] = mapped_column(String(255))
    current_version_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    encrypted: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    locked_by: Mapped[str | None] = mapped_column(String(150), nullable=True)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lock_reason: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(150))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_by: Mapped[str | None] = mapped_column(String(150), nullable=True)
    trash_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)


class DocVersion(Base):
    """One stored version: the fingerprint of the stored bytes (ciphertext if encrypted) and its extraction."""

    __tablename__ = "doc_version"
    __table_args__ = (UniqueConstraint("document_id", "number", name="uq_doc_version_document_number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("doc_document.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    crc32: Mapped[int] = mapped_column(BigInteger)  # unsigned 32 bits do not fit PostgreSQL's integer
    size: Mapped[int] = mapped_column(BigInteger)
    encrypted: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(20), default="upload")  # upload, zip, restore, attachment
    source_ref: Mapped[str | None] = mapped_column(String(100), nullable=True)
    restored_from: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    extraction: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    extraction_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    text_format: Mapped[str | None] = mapped_column(String(20), nullable=True)
    extracted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class DocText(Base):
    """The extracted text of a version, kept apart so listing versions never loads it."""

    __tablename__ = "doc_text"

    version_id: Mapped[int] = mapped_column(ForeignKey("doc_version.id", ondelete="CASCADE"), primary_key=True)
    text: Mapped[str] = mapped_column(Text, default="")
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)


class DocLink(Base):
    """A document attached to a process instance or a record."""

    __tablename__ = "doc_link"
    __table_args__ = (
        UniqueConstraint("document_id", "target_kind", "target_id", name="uq_doc_link_document_target"),
        Index("ix_doc_link_target", "target_kind", "target_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("doc_document.id", ondelete="CASCADE"))
    target_kind: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DocTrash(Base):
    """A recycle bin entry: one deleted folder (with what was in it) or one deleted document."""

    __tablename__ = "doc_trash"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("doc_library.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # folder or document
    item_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(255))
    parent_id: Mapped[int] = mapped_column(BigInteger)
    deleted_by: Mapped[str] = mapped_column(String(150))
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DocBlobRelease(Base):
    """A blob that may have lost its last reference; the worker deletes it after a grace period if so."""

    __tablename__ = "doc_blob_release"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    released_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

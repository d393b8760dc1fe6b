"""Previews in the browser: PDFs, images and text served inline from a sandboxed route.

Only types a browser shows without running anything are previewed. The bytes must also look like what
the name says (a "photo.png" holding HTML is not served), every answer carries `nosniff` and a
`sandbox` Content-Security-Policy, and text is always sent as text/plain. HTML and SVG can carry
scripts, so they are never shown inline: those are downloaded.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from flask import Blueprint, Response, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required

from documents import versions
from documents.errors import DocumentError
from documents.extract import decode_text
from documents.library_errors import LibraryError
from documents.models import DocDocument, DocVersion
from documents.store import BlobStore

from ..db import query
from ..errors import error_response
from .documents_common import content_disposition, human_size, install, me, store_dir

bp = Blueprint("documents_preview", __name__, url_prefix="/documents/files")
install(bp)

TEXT_LIMIT = 1 << 20  # a preview, not a reader: beyond this the text is cut with a note
HEAD = 1024
TEXT_TYPES = {"text/plain", "text/csv", "text/markdown", "text/tab-separated-values", "application/json"}
TEXT_EXTENSIONS = {"txt", "text", "csv", "tsv", "md", "markdown", "log", "json", "yaml", "yml", "ini", "cfg",
                   "conf"}
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
# Types that run scripts or pull in other content when a browser renders them.
UNSAFE_TYPES = {"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml"}
UNSAFE_EXTENSIONS = {"html", "htm", "xhtml", "shtml", "svg", "svgz", "xml", "xsl", "xslt", "mht", "mhtml"}
# The PDF viewer needs its own inline styles; the other previews need nothing at all.
CSP_PDF = "sandbox; frame-ancestors 'self'"
CSP_STRICT = "sandbox; default-src 'none'; frame-ancestors 'self'"


@dataclass(frozen=True)
class Preview:
    """How the document page previews a version: the kind shown (or None) and why not."""

    kind: str | None  # pdf, image, text
    reason: str | None = None  # encrypted, unsafe, unsupported, mismatch, missing
    url: str | None = None
    truncated: bool = False
    limit: str = ""
    is_pdf: bool = False


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def image_type(head: bytes) -> str | None:
    """Return the image type the bytes really are (PNG, JPEG, GIF, WebP), or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def claimed_kind(version: DocVersion) -> tuple[str | None, str | None]:
    """Return the preview kind a version's name and type claim, or (None, reason)."""
    content_type, extension = version.content_type.lower(), _extension(version.file_name)
    if content_type in UNSAFE_TYPES or extension in UNSAFE_EXTENSIONS:
        return None, "unsafe"
    if content_type == "application/pdf":
        return "pdf", None
    if content_type in IMAGE_TYPES:
        return "image", None
    if content_type in TEXT_TYPES or extension in TEXT_EXTENSIONS:
        return "text", None
    return None, "unsupported"


def content_kind(version: DocVersion, head: bytes) -> tuple[str | None, str | None]:
    """Return the preview kind if the bytes agree with what the name claims, else (None, reason)."""
    kind, reason = claimed_kind(version)
    if kind == "pdf" and b"%PDF-" not in head[:HEAD]:
        return None, "mismatch"
    if kind == "image" and image_type(head) is None:
        return None, "mismatch"
    # NUL bytes mean binary content under a text name (UTF-16 text has a byte-order mark).
    if kind == "text" and b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, "mismatch"
    return kind, reason


def _head(version: DocVersion) -> bytes | None:
    """Return the first bytes of a stored version, or None if they cannot be read (missing, damaged)."""
    # Read through the store, never the file: a blob sealed at rest holds ciphertext on disk.
    try:
        with BlobStore(store_dir()).open(version.sha256, name=version.file_name) as blob:
            return blob.read(HEAD)
    except (LibraryError, DocumentError, OSError):
        return None


def preview_of(document: DocDocument, version: DocVersion | None) -> Preview:
    """Decide what the document page previews of a version (reads the first bytes of the stored file)."""
    if version is None:
        return Preview(None, "missing")
    is_pdf = version.content_type == "application/pdf"
    if version.encrypted:
        return Preview(None, "encrypted", is_pdf=is_pdf)
    head = _head(version)
    if head is None:
        return Preview(None, "missing", is_pdf=is_pdf)
    kind, reason = content_kind(version, head)
    if kind is None:
        return Preview(None, reason, is_pdf=is_pdf)
    return Preview(kind, None, url_for("documents_preview.preview", document_id=document.id, v=version.number),
                   truncated=kind == "text" and version.size > TEXT_LIMIT, limit=human_size(TEXT_LIMIT),
                   is_pdf=is_pdf)


def _number() -> int | None:
    raw = request.args.get("v") or request.args.get("number") or ""
    return int(raw) if raw.isdigit() and len(raw) <= 9 else None


def _headers(name: str, csp: str) -> dict[str, str]:
    # Framing is allowed for this site only, so the document page can show the preview and nobody else can.
    return {"Content-Disposition": content_disposition(name, "inline"), "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": csp, "X-Frame-Options": "SAMEORIGIN", "Cache-Control": "private, no-store"}


def _start(chunks: Iterator[bytes], limit: int) -> bytes:
    """Return up to limit bytes from the start of a stream of chunks, then stop reading it."""
    parts, size = [], 0
    try:
        for chunk in chunks:
            parts.append(chunk)
            size += len(chunk)
            if size >= limit:
                break
    finally:
        chunks.close()
    return b"".join(parts)[:limit]


def _text(chunks: Iterator[bytes], size: int) -> str:
    """Return the start of a text file decoded, with a note when it was cut."""
    text = decode_text(_start(chunks, TEXT_LIMIT))[0]
    if size > TEXT_LIMIT:
        text += "\n\n" + _("[Preview cut: showing the first %(shown)s of %(size)s. Download the file to read "
                           "all of it.]", shown=human_size(TEXT_LIMIT), size=human_size(size))
    return text


@bp.get("/<int:document_id>/preview")
@login_required
def preview(document_id: int):
    """Send a version's bytes inline for the browser's own viewer (PDF, image, text); never HTML or SVG."""
    with query() as session:
        document = session.get(DocDocument, document_id)
        if document is not None and document.encrypted:
            # Read permission is checked first, so a stranger still gets 404 rather than this answer.
            versions.list_versions(session=session, document_id=document_id, actor=me())
            return error_response(403, "password_required",
                                  _("This document is encrypted: there is no preview. Download it with its password."))
        opened = versions.open_version(session=session, store_dir=store_dir(), document_id=document_id, actor=me(),
                                       number=_number())
        version = opened.version
        head = _head(version) or b""
        kind = content_kind(version, head)[0]
        if kind is None:
            opened.chunks.close()
            return error_response(415, "no_preview", _("There is no preview for this type of file. Download it "
                                                       "instead."))
        if kind == "text":
            return Response(_text(opened.chunks, version.size).encode("utf-8"),
                            content_type="text/plain; charset=utf-8",
                            headers=_headers(opened.file_name, CSP_STRICT))
    mimetype = "application/pdf" if kind == "pdf" else image_type(head)
    headers = _headers(opened.file_name, CSP_PDF if kind == "pdf" else CSP_STRICT)
    if opened.path is None:
        # Sealed at rest: the plain bytes exist only as the decrypting stream.
        return Response(opened.chunks, mimetype=mimetype, headers=headers, direct_passthrough=True)
    opened.chunks.close()
    # send_file streams from disk and answers the range requests PDF viewers make.
    response = send_file(opened.path, mimetype=mimetype, conditional=True, max_age=0)
    response.headers.update(headers)
    return response

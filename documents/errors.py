"""Errors of the document centre, each naming the file and the reason, with structured fields."""
from __future__ import annotations


class DocumentError(Exception):
    """Base of document errors: a code, a status class, the file name, the reason and details."""

    code = "document_error"
    status = "invalid"

    def __init__(self, reason: str, *, filename: str | None = None, details: dict | None = None):
        self.reason = reason
        self.filename = filename
        self.details = dict(details or {})
        self.message = f"{filename}: {reason}" if filename else reason
        super().__init__(self.message)


class WrongPassword(DocumentError):
    """The password or key does not open this content."""

    code = "wrong_password"
    status = "forbidden"


class PasswordRefused(DocumentError):
    """A password given for protecting content is empty or unusable."""

    code = "password_refused"


class Corrupted(DocumentError):
    """Encrypted content was changed, truncated, reordered or is not in our format."""

    code = "corrupted"


class UnsupportedFormat(DocumentError):
    """The content uses a format version or parameters this code does not accept."""

    code = "unsupported_format"


class InvalidKey(DocumentError):
    """A configured key is missing, not base64 or of the wrong length."""

    code = "invalid_key"
    status = "config"


class InvalidPdf(DocumentError):
    """The bytes are not a readable PDF, or the PDF cannot be protected."""

    code = "invalid_pdf"


class ArchiveRefused(DocumentError):
    """An uploaded archive, or one of its entries, breaks a safety limit."""

    code = "archive_refused"

"""Errors of the attachments domain."""
from __future__ import annotations


class AttachmentError(Exception):
    """Base of attachment errors."""

    code = "attachment_error"
    status = "invalid"

    def __init__(self, message: str, *, details: dict | None = None):
        self.message = message
        self.details = dict(details or {})
        super().__init__(message)


class AttachmentRefused(AttachmentError):
    """The file is too large, empty, or of a type that is not accepted."""

    code = "attachment_refused"


class AttachmentNotFound(AttachmentError):
    """No such attachment, or its file is gone."""

    code = "attachment_not_found"
    status = "not_found"


class StoreKeyMissing(AttachmentError):
    """The store is (partly) sealed at rest but FLOWDESK_STORE_KEY is not configured."""

    code = "store_key_missing"
    status = "conflict"


class StoreKeyMismatch(AttachmentError):
    """A stored file is sealed with a store key this server does not hold."""

    code = "store_key_mismatch"
    status = "conflict"

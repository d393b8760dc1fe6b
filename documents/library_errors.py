"""Errors of the document library services, with a status class the web layer maps and structured details."""
from __future__ import annotations


class LibraryError(Exception):
    """Base of document library errors: a code, a status class, a message and details naming fields and ids."""

    code = "library_error"
    status = "invalid"

    def __init__(self, message: str, *, details: dict | None = None):
        self.message = message
        self.details = dict(details or {})
        super().__init__(message)


class NotFound(LibraryError):
    """No such library, folder, document, version, link or recycle bin entry (or it is deleted)."""

    code = "not_found"
    status = "not_found"


class NotAllowed(LibraryError):
    """The actor lacks the action on the folder; details name the action and the folder."""

    code = "forbidden"
    status = "forbidden"


class WrongPassword(NotAllowed):
    """The password does not open this encrypted document."""

    code = "wrong_password"


class Conflict(LibraryError):
    """The change clashes with the current state (a deleted parent, a folder moved into itself...)."""

    code = "conflict"
    status = "conflict"


class NameTaken(Conflict):
    """A folder or document of that name already exists where the item would go."""

    code = "name_taken"


class Locked(Conflict):
    """The document is locked (a contract, a signed document): no new version, rename, move or delete."""

    code = "locked"


class Damaged(Conflict):
    """The stored file is missing or no longer matches its fingerprint."""

    code = "damaged"


class InvalidInput(LibraryError):
    """Input refused; details name the field."""

    code = "invalid_input"


class PasswordRequired(InvalidInput):
    """The document is encrypted: a password is needed to add or read its content."""

    code = "password_required"


class ArchiveRejected(InvalidInput):
    """A zip archive was refused as a whole; nothing of it was imported."""

    code = "archive_refused"


class QuotaExceeded(LibraryError):
    """The upload does not fit the drive's quota; details give used, quota and size in bytes."""

    code = "quota_exceeded"
    status = "too_large"

"""Errors of the CRM domain, with the structured fields the UI and API show."""
from __future__ import annotations


class CrmError(Exception):
    """Base of every CRM error."""

    code = "crm_error"
    status = "invalid"

    def __init__(self, message: str, *, details: dict | None = None):
        self.message = message
        self.details = dict(details or {})
        super().__init__(message)


class NotACustomer(CrmError):
    """The portal account's company record is not a live customer record."""

    code = "not_a_customer"
    status = "forbidden"


class ComplaintNotFound(CrmError):
    """No complaint of the company has that id, or the reader may not see it."""

    code = "complaint_not_found"
    status = "not_found"


class ComplaintsUnavailable(CrmError):
    """Complaints cannot be registered from the portal: the process or the department is missing or unsafe.

    `details["reason"]` is process_missing, process_unsafe or department_missing.
    """

    code = "complaints_unavailable"
    status = "unavailable"

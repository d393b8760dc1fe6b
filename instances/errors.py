"""Errors of the instances domain, with the structured fields the UI and API show."""
from __future__ import annotations


class InstanceError(Exception):
    """Base of every instances error."""

    code = "instance_error"
    status = "invalid"

    def __init__(self, message: str, *, details: dict | None = None):
        self.message = message
        self.details = dict(details or {})
        super().__init__(message)


class InstanceNotFound(InstanceError):
    """No instance has that id."""

    code = "instance_not_found"
    status = "not_found"


class WorkItemNotFound(InstanceError):
    """No work item has that id, or the actor may not see it."""

    code = "task_not_found"
    status = "not_found"


class NotAllowed(InstanceError):
    """The actor may not do this."""

    code = "forbidden"
    status = "forbidden"


class Conflict(InstanceError):
    """The work item or instance changed under the actor (already done, claimed by someone else)."""

    code = "conflict"
    status = "conflict"


class InvalidInput(InstanceError):
    """Submitted data is malformed."""

    code = "invalid_input"


class ProcessFailure(InstanceError):
    """The engine refused the command; details name the BPMN element and the reason."""

    code = "process_error"

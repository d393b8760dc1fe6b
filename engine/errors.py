"""Errors raised by the engine; each carries the structured fields the UI and API report."""
from __future__ import annotations


class EngineError(Exception):
    """Base class of every error the engine raises."""

    code = "engine_error"

    def __init__(self, reason: str, *, element_id: str | None = None, file_name: str | None = None,
                 line: int | None = None, details: dict | None = None):
        self.reason = reason
        self.element_id = element_id
        self.file_name = file_name
        self.line = line
        self.details = dict(details or {})
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file_name:
            where.append(self.file_name + (f":{self.line}" if self.line else ""))
        if self.element_id:
            where.append(f"element '{self.element_id}'")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason

    def to_dict(self) -> dict:
        """Return the error as a JSON-safe mapping."""
        out = {"code": self.code, "message": str(self), "reason": self.reason}
        for key in ("element_id", "file_name", "line"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.details:
            out["details"] = self.details
        return out


class ModelError(EngineError):
    """A BPMN model cannot be parsed or validated."""

    code = "invalid_model"


class ExpressionError(EngineError):
    """An expression is malformed, unsafe or failed while being evaluated."""

    code = "expression_error"


class ScriptError(EngineError):
    """A script task was refused by the sandbox or failed while running."""

    code = "script_error"


class ServiceError(EngineError):
    """A service task named an unknown operation or its operation failed."""

    code = "service_error"


class WorkflowStateError(EngineError):
    """Engine state is inconsistent or cannot be restored."""

    code = "workflow_state_error"

"""Errors raised while drawing a diagram; each names the file when one is at fault."""
from __future__ import annotations


class DiagramError(Exception):
    """A diagram cannot be drawn: no BPMN file, an unknown process, or no layout engine."""

    code = "diagram_error"

    def __init__(self, reason: str, *, file_name: str | None = None, process_id: str | None = None):
        self.reason = reason
        self.file_name = file_name
        self.process_id = process_id
        super().__init__(f"{file_name}: {reason}" if file_name else reason)

    def to_dict(self) -> dict:
        """Return the error as a JSON-safe mapping."""
        out = {"code": self.code, "message": str(self), "reason": self.reason}
        if self.file_name:
            out["file_name"] = self.file_name
        if self.process_id:
            out["process_id"] = self.process_id
        return out


GRAPHVIZ_MISSING = ("this model has no diagram layout (BPMN DI), and laying it out needs the Graphviz "
                    "'dot' program, which is not installed: install Graphviz (e.g. apt-get install graphviz)")

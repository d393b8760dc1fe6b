"""The registry of named operations that service tasks may call."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import ServiceError

Operation = Callable[..., Any]


@dataclass
class OperationRegistry:
    """Named Python operations a BPMN service task can call by name."""

    operations: dict[str, Operation] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)

    def register(self, name: str, description: str = "") -> Callable[[Operation], Operation]:
        """Register a function under an operation name (use as a decorator)."""
        def decorator(func: Operation) -> Operation:
            self.operations[name] = func
            doc_lines = (func.__doc__ or "").strip().splitlines()
            self.descriptions[name] = description or (doc_lines[0] if doc_lines else "")
            return func
        return decorator

    def knows(self, name: str | None) -> bool:
        """Tell whether an operation of that name is registered."""
        return bool(name) and name in self.operations

    def call(self, name: str, params: dict, data: dict) -> Any:
        """Call an operation with its evaluated parameters and a read-only view of the task data."""
        func = self.operations.get(name)
        if func is None:
            raise ServiceError(f"unknown service operation '{name}'")
        try:
            return func(params=params, data=dict(data))
        except ServiceError:
            raise
        except Exception as exc:  # an operation's own failure becomes a service error naming it
            raise ServiceError(f"operation '{name}' failed: {type(exc).__name__}: {exc}") from exc

    def names(self) -> list[str]:
        """List the registered operation names."""
        return sorted(self.operations)


def _noop(*, params: dict, data: dict) -> dict:
    """Do nothing and return no data; a placeholder step in a model."""
    return {}


def _set_variables(*, params: dict, data: dict) -> dict:
    """Return the parameters as new process variables."""
    return dict(params)


def _log(*, params: dict, data: dict) -> dict:
    """Return the given message so it is kept in the process history."""
    return {"logged": str(params.get("message", ""))}


def default_registry() -> OperationRegistry:
    """Build a registry holding the operations every Flowdesk installation has."""
    registry = OperationRegistry()
    registry.register("noop", "Do nothing (a placeholder step)")(_noop)
    registry.register("set_variables", "Set process variables from the parameters")(_set_variables)
    registry.register("log", "Record a message in the process history")(_log)
    return registry

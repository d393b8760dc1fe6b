"""The command an engine step runs inside, for service operations that write in the same transaction."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from .actors import Actor


@dataclass
class EngineCommand:
    """The session and actor of the running command, plus work to do once the instance row exists."""

    session: Session
    actor: Actor
    instance_id: int | None = None
    after_save: list[Callable[[object], None]] = field(default_factory=list)

    def finish(self, instance) -> None:
        """Run the deferred work (e.g. linking records created at the start) against the saved instance."""
        pending, self.after_save = self.after_save, []
        for action in pending:
            action(instance)


_current: ContextVar[EngineCommand | None] = ContextVar("flowdesk_engine_command", default=None)


@contextmanager
def engine_command(session: Session, actor: Actor, instance_id: int | None = None) -> Iterator[EngineCommand]:
    """Make the command visible to service operations while the engine runs."""
    command = EngineCommand(session, actor, instance_id)
    token = _current.set(command)
    try:
        yield command
    finally:
        _current.reset(token)


def current_command() -> EngineCommand | None:
    """Return the command the engine runs inside, or None outside one."""
    return _current.get()

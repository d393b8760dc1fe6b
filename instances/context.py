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
_saving: ContextVar[Session | None] = ContextVar("flowdesk_saving_session", default=None)


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


@contextmanager
def saving_in(session: Session) -> Iterator[None]:
    """Let lookups made while a command's results are saved (assignments, due dates) read in its session."""
    token = _saving.set(session)
    try:
        yield
    finally:
        _saving.reset(token)


def command_session() -> Session | None:
    """Return the session of the running command, or of the command being saved; None outside both."""
    command = _current.get()
    return command.session if command is not None else _saving.get()

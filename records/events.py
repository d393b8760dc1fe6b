"""The hook other parts (the search index) use to follow record changes, without records knowing them."""
from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session

Listener = Callable[[Session, list[int], str], None]
_listeners: list[Listener] = []


def on_change(listener: Listener) -> Callable[[], None]:
    """Call listener(session, record_ids, event) in the transaction of every record change; return an unsubscribe."""
    if listener not in _listeners:
        _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


def notify(session: Session, record_ids: Iterable[int], event: str) -> None:
    """Tell the listeners that these records changed (created, updated, deleted, restored, retyped)."""
    ids = sorted({int(i) for i in record_ids})
    if ids:
        for listener in list(_listeners):
            listener(session, ids, event)

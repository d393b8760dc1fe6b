"""Bearer tokens this process has checked, trusted while the organisation's revision stands still.

Checking a token costs a transaction and a six-table read on every API call. A token once checked is kept
here with the revision it was read at; the call's first database session then reads the revision (which
the command needs anyway) and checks the token again only when the revision moved on. Revoking a token,
changing its user, their roles, units or status all move the revision on (org.revision), so a cached token
never outlives what would refuse it; its expiry is checked here, and its use is still noted once a minute.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import NamedTuple

from org import service as org

from ..users import SessionUser

CAPACITY = 4096


class CheckedToken(NamedTuple):
    """A token found valid at an organisation revision, with what the caller's requests need."""

    revision: int
    user: SessionUser
    expires_at: datetime | None
    used_at: datetime | None


class TokenCache:
    """A bounded, thread-safe map of token digests to the tokens checked at a revision."""

    def __init__(self, capacity: int = CAPACITY):
        self._entries: OrderedDict[str, CheckedToken] = OrderedDict()
        self._lock = threading.Lock()
        self.capacity = capacity

    def usable(self, digest: str, now: datetime) -> CheckedToken | None:
        """Return the checked token if it has not expired and its use need not be noted yet."""
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            self._entries.move_to_end(digest)
        if (entry.expires_at is not None and entry.expires_at <= now) or org.token_use_due(entry.used_at, now):
            return None
        return entry

    def keep(self, digest: str, entry: CheckedToken) -> None:
        """Remember a token checked at a revision."""
        with self._lock:
            self._entries[digest] = entry
            self._entries.move_to_end(digest)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def forget(self, digest: str) -> None:
        """Drop a token that no longer works."""
        with self._lock:
            self._entries.pop(digest, None)

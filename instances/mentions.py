"""@mentions in what people write on an instance (approval comments, notes): one "mentioned" notice per person.

`instances` must not import `org` (org imports instances), so whether a name belongs to an active user is
asked of the directory org registers at start-up (instances.directory), like the assignment strategies do.
A directory that cannot answer (the empty default) makes every mention name nobody.
"""
from __future__ import annotations

import re
from typing import Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.orm import Session

from database.base import utcnow

from . import directory, notices
from .models import InstanceCopy, ProcessInstance, WorkItem

MAX_MENTIONS = 20
MAX_NAME_CHARS = 150
# "@name", or "＠name" as Chinese input methods type it. Not after a name character, so an e-mail address
# such as a@b.com mentions nobody; "请@li.na看一下" does mention li.na.
_MENTION = re.compile(r"(?<![A-Za-z0-9_.\-@＠])[@＠]([A-Za-z0-9_.\-]+)")


@runtime_checkable
class KnowsUsers(Protocol):
    """A directory that can tell which user names belong to active users."""

    def active_users(self, usernames: list[str]) -> set[str]:
        """Return the names among these that belong to active users."""


def find_mentions(text: str | None) -> list[list[str]]:
    """Return, per @mention in the text, the names it may mean (as written, then without trailing dots)."""
    found: list[list[str]] = []
    seen: set[str] = set()
    for match in _MENTION.finditer(text or ""):
        written = match.group(1)
        # A sentence may end right after a name ("ask @li.na."); the dot then is not part of it.
        choices = [n for n in dict.fromkeys((written, written.rstrip(".-"))) if n and len(n) <= MAX_NAME_CHARS]
        if choices and choices[0] not in seen:
            seen.add(choices[0])
            found.append(choices)
        if len(found) >= MAX_MENTIONS:  # a comment is not a way to page the whole company
            break
    return found


def mentioned_users(text: str | None) -> list[str]:
    """Return the active users a text mentions, in order, each once."""
    candidates = find_mentions(text)
    if not candidates:
        return []
    known = directory.get_directory()
    if not isinstance(known, KnowsUsers):
        return []
    active = known.active_users(sorted({name for choices in candidates for name in choices}))
    people: list[str] = []
    for choices in candidates:
        name = next((n for n in choices if n in active), None)
        if name and name not in people:
            people.append(name)
    return people


def notify_mentions(session: Session, *, instance: ProcessInstance, writer: str, text: str | None,
                    item: WorkItem | None = None, exclude=()) -> list[str]:
    """Queue one "mentioned" notice per active user the text names with @, except the writer; return them.

    `exclude` names people the same action already told with the same text (the new assignee of a transfer),
    so they are not told twice.
    """
    people = [p for p in mentioned_users(text) if p != writer and p not in set(exclude)]
    if not people:
        return []
    subject = " · ".join(part for part in (instance.title, item.name if item else None) if part) \
        or f"#{instance.id}"
    copied = set(session.scalars(select(InstanceCopy.username).where(InstanceCopy.instance_id == instance.id,
                                                                     InstanceCopy.username.in_(people))))
    for name in people:
        # No work item in the notice: its link then opens the request, not a task the person does not hold.
        notices.notify(session, to=name, kind="mentioned", subject=subject, instance_id=int(instance.id),
                       actor=writer, comment=text)
        if name not in copied:
            # Being asked about a request lets one read it, as a copy (抄送) does, with a read receipt.
            session.add(InstanceCopy(instance_id=instance.id, username=name, sent_by=writer,
                                     element_id=item.element_id if item else None, note=text, created_at=utcnow()))
    return people

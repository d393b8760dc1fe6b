"""The forms' Lookups for one request: dictionaries, users, departments and records, seen by the current user."""
from __future__ import annotations

from flask import request
from flask_login import current_user
from sqlalchemy.orm import Session

from instances.actors import Actor
from org import service as org

MAX_USER_CHOICES = 1000
MAX_RECORD_CHOICES = 200  # a reference picker lists at most this many records; beyond, the number is typed  # a picker lists at most this many people; the server still checks any name typed


class FormLookups:
    """Answer a form's questions from the database, as `actor` may see it; answers are cached per request."""

    def __init__(self, session: Session, actor: Actor, *, chinese: bool = False):
        self.session, self.actor, self.chinese = session, actor, chinese
        self._cache: dict[tuple, object] = {}

    def _cached(self, key: tuple, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def dictionary_options(self, name: str) -> list[tuple[str, str]] | None:
        """Return a dictionary's active choices; an unknown dictionary offers none, so nothing is accepted."""
        def compute():
            try:
                from records.dictionaries import dictionary_options
            except ImportError:
                return []
            return dictionary_options(self.session, name) or []
        return self._cached(("dictionary", name), compute)

    def user_exists(self, username: str) -> bool:
        """Tell whether an active user has this name."""
        def compute():
            user = org.get_user_by_name(session=self.session, username=username)
            return user is not None and user.status == "active"
        return self._cached(("user", username), compute)

    def department_exists(self, code: str) -> bool:
        """Tell whether a department has this code."""
        return self._cached(("department", code),
                            lambda: org.get_unit(session=self.session, kind="department", code=code) is not None)

    def record_readable(self, type_key: str, record_id: int) -> bool:
        """Tell whether the record exists, is of the type and the current user may read it."""
        def compute():
            try:
                from records.service import record_readable
            except ImportError:
                try:  # the records package keeps it in records.records until its service module lands
                    from records.records import record_readable
                except ImportError:
                    return False
            return record_readable(session=self.session, actor=self.actor, type_key=type_key, record_id=record_id)
        return self._cached(("record", type_key, record_id), compute)

    def record_options(self, type_key: str) -> list[tuple[int, str]] | None:
        """Return (id, title) of the records of a type the reader may see, or None when there are too many."""
        def compute():
            from records import service as records
            from records.errors import RecordError
            try:
                _view, page = records.list_records(session=self.session, type_key=type_key, actor=self.actor,
                                                   sort="title", page_size=MAX_RECORD_CHOICES)
            except RecordError:
                return None
            if page.total > MAX_RECORD_CHOICES:
                return None  # too many for a list: the number is typed and checked on the server
            return [(int(r.id), f"{r.title or '#' + str(r.id)} (#{r.id})") for r in page.items]
        return self._cached(("records", type_key), compute)

    def user_options(self) -> list[tuple[str, str]]:
        """Return (user name, "Display name (user name)") of active users for a picker."""
        return self._cached(("users",), lambda: [
            (u.username, f"{u.display_name} ({u.username})")
            # Staff only: a task, a route step or a record's owner is never a portal account.
            for u in org.list_users(session=self.session, status="active", kind="staff", limit=MAX_USER_CHOICES)])

    def department_options(self) -> list[tuple[str, str]]:
        """Return (code, name) of every department in the reader's language, parents first, indented by depth."""
        def label(dept, depth: int) -> str:
            # Indented by depth; the indent would not survive the template's 'English / 中文' split, so pick here.
            return "\u2003" * depth + (dept.name if self.chinese or not dept.name_en else dept.name_en)
        return self._cached(("departments",), lambda: [
            (dept.code, label(dept, depth)) for dept, depth in org.department_tree(session=self.session)])


def page_lookups(session: Session) -> FormLookups:
    """Return lookups for the signed-in user of a page, in the page's language."""
    from .i18n import select_locale

    return FormLookups(session, current_user.actor, chinese=select_locale() == "zh_CN")


def posted_values() -> dict:
    """Return the posted form fields: text, or a list of texts for a name posted more than once (checkboxes)."""
    return {name: values[0] if len(values) == 1 else values for name, values in request.form.lists()}

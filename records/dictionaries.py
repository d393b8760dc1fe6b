"""Admin dictionaries (数据字典): named lists of choices that form fields and record types pick from."""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import service as audit
from database.base import utcnow

from .errors import Invalid, NotFound
from .models import Dictionary

NAME = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
MAX_ITEMS = 1000


def _check_items(items) -> list[dict]:
    if not isinstance(items, list) or not items:
        raise Invalid("a dictionary needs at least one item", details={"field": "items"})
    if len(items) > MAX_ITEMS:
        raise Invalid(f"at most {MAX_ITEMS} items", details={"field": "items"})
    out, seen = [], set()
    for index, item in enumerate(items):
        where = f"items[{index}]"
        if not isinstance(item, dict):
            raise Invalid(f"{where} must be an object with value and label", details={"field": where})
        value = item.get("value")
        if not isinstance(value, str) or not value.strip() or len(value) > 100:
            raise Invalid(f"{where}: the value is 1-100 characters", details={"field": f"{where}.value"})
        if value in seen:
            raise Invalid(f"{where}: the value '{value}' appears twice", details={"field": f"{where}.value"})
        seen.add(value)
        label = item.get("label") or value
        label_en = item.get("label_en") or ""
        if not isinstance(label, str) or not isinstance(label_en, str) or len(label) > 200 or len(label_en) > 200:
            raise Invalid(f"{where}: labels are text of at most 200 characters", details={"field": f"{where}.label"})
        out.append({"value": value.strip(), "label": label.strip(), "label_en": label_en.strip(),
                    "active": item.get("active", True) is not False})
    return out


def save_dictionary(*, session: Session, name: str, label: str, label_en: str = "", items: list,
                    actor: str, note: str = "") -> Dictionary:
    """Create a dictionary or replace its items; items no longer offered should be switched off, not removed."""
    if not isinstance(name, str) or not NAME.match(name):
        raise Invalid("a dictionary name is 2-63 lower-case letters, digits or _", details={"field": "name"})
    if not isinstance(label, str) or not label.strip() or len(label) > 200:
        raise Invalid("a dictionary needs a label of at most 200 characters", details={"field": "label"})
    checked = _check_items(items)
    row = session.scalar(select(Dictionary).where(Dictionary.name == name))
    before = {"label": row.label, "items": row.items} if row is not None else None
    if row is None:
        row = Dictionary(name=name)
        session.add(row)
    audit.log(session, actor=actor, action="dictionary.saved", object_type="dictionary", object_id=name,
              summary=label, before=before, after={"label": label, "items": checked})
    row.label, row.label_en, row.items = label.strip(), (label_en or "").strip(), checked
    row.note, row.updated_at, row.updated_by = (note or "")[:2000], utcnow(), actor
    session.flush()
    return row


def get_dictionary_or_raise(*, session: Session, name: str) -> Dictionary:
    """Return a dictionary by name or raise NotFound."""
    row = session.scalar(select(Dictionary).where(Dictionary.name == name)) if isinstance(name, str) else None
    if row is None:
        raise NotFound(f"no dictionary '{name}'", details={"dictionary": name})
    return row


def list_dictionaries(*, session: Session) -> list[Dictionary]:
    """List every dictionary by name."""
    return list(session.scalars(select(Dictionary).order_by(Dictionary.name)))


def dictionary_options(session: Session, name: str) -> list[tuple[str, str]] | None:
    """Return the active (value, label) choices of a dictionary, labels as 'English / 中文'; None if unknown."""
    row = session.scalar(select(Dictionary).where(Dictionary.name == name)) if isinstance(name, str) else None
    if row is None:
        return None
    return [(item["value"], f"{item['label_en']} / {item['label']}" if item.get("label_en") else item["label"])
            for item in row.items if item.get("active", True)]

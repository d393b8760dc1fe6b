"""Process categories: the list admins manage, which deploying and copying a definition must choose from."""
from __future__ import annotations

import re

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from audit import service as audit

from .checks import checked_text
from .errors import CategoryNotFound, DefinitionConflict, InvalidDefinition
from .models import ROUTE_STATUS, DefinitionVersion, ProcessCategory

# The categories the shipped processes and the catalogue always knew: code, Chinese name, English name.
SHIPPED = (("hr", "人事", "People & HR"), ("finance", "财务", "Finance"), ("sales", "销售与客户", "Sales & customers"),
           ("service", "服务台", "Service desk"), ("office", "行政办公", "Office"), ("general", "通用", "General"))
DEFAULT = "general"
CODE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
MAX_NAME = 200
MAX_SORT = 1_000_000
STEP = 10


def _shipped() -> list[ProcessCategory]:
    return [ProcessCategory(code=code, name=name, name_en=name_en, sort=(n + 1) * STEP)
            for n, (code, name, name_en) in enumerate(SHIPPED)]


def list_categories(*, session: Session) -> list[ProcessCategory]:
    """List the categories in catalogue order; an empty table means the shipped ones (not stored yet)."""
    rows = list(session.scalars(select(ProcessCategory).order_by(ProcessCategory.sort, ProcessCategory.code)))
    return rows or _shipped()


def category_codes(*, session: Session) -> list[str]:
    """Return the known category codes in catalogue order."""
    return [c.code for c in list_categories(session=session)]


def check_category(*, session: Session, code, file: str | None = None) -> str:
    """Return a known category code, or raise InvalidDefinition naming the field and the known codes."""
    known = category_codes(session=session)
    value = code.strip() if isinstance(code, str) else code
    if value in known:
        return value
    where = f"{file}: " if file else ""
    shown = str(value)[:100]
    raise InvalidDefinition(f"{where}category '{shown}' is not a known process category; known: {', '.join(known)}",
                            details={"field": "category", "category": shown, "problem": "unknown",
                                     **({"file": file} if file else {})})


def usage(*, session: Session) -> dict[str, int]:
    """Count, per category code, the process definitions (keys) with a version in it."""
    rows = session.execute(select(DefinitionVersion.category, func.count(distinct(DefinitionVersion.key)))
                           .where(DefinitionVersion.status != ROUTE_STATUS).group_by(DefinitionVersion.category))
    return {code: int(count) for code, count in rows}


def _store_shipped(session: Session) -> None:
    # The first change to an empty table keeps the shipped categories, so they do not vanish from the list.
    if session.scalar(select(func.count()).select_from(ProcessCategory)) == 0:
        session.add_all(_shipped())
        session.flush()


def _sort(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SORT:
        raise InvalidDefinition(f"sort must be a whole number from 0 to {MAX_SORT}",
                                details={"field": "sort", "problem": "range", "limit": MAX_SORT})
    return value


def _snapshot(category: ProcessCategory) -> dict:
    return {"name": category.name, "name_en": category.name_en, "sort": category.sort}


def get_category_or_raise(*, session: Session, code: str) -> ProcessCategory:
    """Return a stored category by code (storing the shipped ones first), or raise CategoryNotFound."""
    _store_shipped(session)
    category = session.scalar(select(ProcessCategory).where(ProcessCategory.code == code))
    if category is None:
        raise CategoryNotFound(f"no process category '{str(code)[:100]}'",
                               details={"field": "code", "code": str(code)[:100]})
    return category


def create_category(*, session: Session, code, name, name_en=None, sort=None,
                    actor: str | None = None) -> ProcessCategory:
    """Add a category; the code is checked and must be new, the Chinese name is required."""
    code = checked_text(code, "code", limit=MAX_NAME, required=True)
    if not CODE_PATTERN.match(code):
        raise InvalidDefinition("code must start with a letter and hold only letters, digits, _ . and - "
                                "(at most 64)", details={"field": "code", "problem": "format"})
    name = checked_text(name, "name", limit=MAX_NAME, required=True)
    name_en = checked_text(name_en, "name_en", limit=MAX_NAME, required=False)
    sort = _sort(sort) if sort is not None else None
    _store_shipped(session)
    if session.scalar(select(ProcessCategory).where(ProcessCategory.code == code)) is not None:
        raise DefinitionConflict(f"the category code '{code}' is already used", code="duplicate",
                                 details={"field": "code", "problem": "taken"})
    if sort is None:
        sort = min(MAX_SORT, (session.scalar(select(func.max(ProcessCategory.sort))) or 0) + STEP)
    category = ProcessCategory(code=code, name=name, name_en=name_en, sort=sort)
    session.add(category)
    session.flush()
    audit.log(session, actor=actor, action="process_category.created", object_type="process_category",
              object_id=code, summary=name, after=_snapshot(category))
    return category


def update_category(*, session: Session, code: str, name=None, name_en=None, sort=None,
                    actor: str | None = None) -> ProcessCategory:
    """Rename or move a category; fields left as None keep their values, the code stays."""
    changes = {}
    if name is not None:
        changes["name"] = checked_text(name, "name", limit=MAX_NAME, required=True)
    if name_en is not None:
        changes["name_en"] = checked_text(name_en, "name_en", limit=MAX_NAME, required=False)
    if sort is not None:
        changes["sort"] = _sort(sort)
    category = get_category_or_raise(session=session, code=code)
    before = _snapshot(category)
    for field, value in changes.items():
        setattr(category, field, value)
    session.flush()
    if _snapshot(category) != before:
        audit.log(session, actor=actor, action="process_category.changed", object_type="process_category",
                  object_id=category.code, summary=category.name, before=before, after=_snapshot(category))
    return category


def move_category(*, session: Session, code: str, offset: int, actor: str | None = None) -> ProcessCategory:
    """Move a category up (negative offset) or down the catalogue order, renumbering the order in steps."""
    category = get_category_or_raise(session=session, code=code)
    rows = list(session.scalars(select(ProcessCategory).order_by(ProcessCategory.sort, ProcessCategory.code)))
    place = rows.index(category)
    target = max(0, min(len(rows) - 1, place + offset))
    rows.insert(target, rows.pop(place))
    before = category.sort
    for n, row in enumerate(rows):
        row.sort = (n + 1) * STEP
    session.flush()
    if target != place:
        audit.log(session, actor=actor, action="process_category.changed", object_type="process_category",
                  object_id=category.code, summary=category.name, before={"sort": before},
                  after={"sort": category.sort})
    return category


def delete_category(*, session: Session, code: str, actor: str | None = None) -> dict:
    """Delete a category no definition uses; the default one stays. Return what was deleted."""
    category = get_category_or_raise(session=session, code=code)
    if category.code == DEFAULT:
        raise DefinitionConflict(f"the category '{DEFAULT}' cannot be deleted: processes that name no "
                                 "category belong to it", code="category_protected",
                                 details={"field": "code", "code": category.code})
    used = usage(session=session).get(category.code, 0)
    if used:
        raise DefinitionConflict(
            f"the category '{category.code}' is used by {used} process definition(s); move them to another "
            "category before deleting it", code="category_in_use",
            details={"field": "code", "code": category.code, "definitions": used})
    out = {"code": category.code, **_snapshot(category)}
    session.delete(category)
    session.flush()
    audit.log(session, actor=actor, action="process_category.deleted", object_type="process_category",
              object_id=out["code"], summary=out["name"], before=_snapshot(category))
    return out

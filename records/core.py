"""The core CRM record types Flowdesk ships (customer, contact, lead, contract, order, payment, ...)."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import schemas
from .models import RecordType
from .types import define_type

CORE_DIR = Path(__file__).resolve().parent / "core"


def core_definitions() -> list[dict]:
    """Read the shipped type files, ordered so every referenced type comes before the types that refer to it."""
    docs = {doc["key"]: doc for doc in (json.loads(p.read_text(encoding="utf-8"))
                                        for p in sorted(CORE_DIR.glob("*.json")))}
    ordered: list[dict] = []
    placed: set[str] = set()

    def place(key: str, trail: tuple[str, ...] = ()) -> None:
        if key in placed or key in trail:
            return  # a cycle refers back to a type being placed; self-references are allowed
        for reference in schemas.references(docs[key]["schema"]):
            if reference.target in docs and reference.target != key:
                place(reference.target, (*trail, key))
        placed.add(key)
        ordered.append(docs[key])

    for key in docs:
        place(key)
    return ordered


def install_core_types(*, session: Session) -> list[str]:
    """Create the core types that do not exist yet; existing ones, perhaps customised, are left alone."""
    existing = set(session.scalars(select(RecordType.key)))
    created = []
    for doc in core_definitions():
        if doc["key"] in existing:
            continue
        define_type(session=session, key=doc["key"], name=doc["name"], name_en=doc["name_en"],
                    schema=doc["schema"], meta=doc["meta"], actor="system", core=True)
        created.append(doc["key"])
    return created

"""Templates and copies: mark a definition key as a template, and copy any version into a new draft definition."""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from audit import service as audit

from . import categories, service
from .bundle import METADATA_FILE
from .checks import MAX_DESCRIPTION, checked_text
from .errors import DefinitionConflict, DefinitionNotFound, InvalidDefinition
from .models import DefinitionVersion, ProcessTemplate
from .process_ids import rename_process

MAX_NAME = 300


@dataclass
class TemplateRow:
    """A template with the version a copy starts from and its newest version."""

    template: ProcessTemplate
    source: DefinitionVersion
    newest: DefinitionVersion


def copy_source(versions: list[DefinitionVersion]) -> DefinitionVersion:
    """Pick the version a copy starts from when none is named: the newest published one, else the newest."""
    return next((v for v in versions if v.status == "published"), versions[0])


def _versions_or_raise(session: Session, key: str) -> list[DefinitionVersion]:
    versions = service.list_versions(session=session, key=key) if isinstance(key, str) and key else []
    if not versions:
        raise DefinitionNotFound(f"no process definition with key '{str(key)[:200]}'",
                                 details={"key": str(key)[:200]})
    return versions


def get_template(*, session: Session, key: str) -> ProcessTemplate | None:
    """Return the template row of a key, or None when the key is not a template."""
    return session.scalar(select(ProcessTemplate).where(ProcessTemplate.key == key))


def mark_template(*, session: Session, key: str, description=None,
                  actor: str | None = None) -> tuple[ProcessTemplate, bool]:
    """Mark a definition key as a template (or change its description); return it and whether it is new."""
    description = checked_text(description, "description", limit=MAX_DESCRIPTION)
    versions = _versions_or_raise(session, key)
    template = get_template(session=session, key=key)
    created = template is None
    before = None if created else {"description": template.description}
    if created:
        template = ProcessTemplate(key=key, description=description, created_by=actor)
        session.add(template)
    else:
        template.description = description
    session.flush()
    if created or before != {"description": description}:
        audit.log(session, actor=actor, action="definition.template_marked" if created else
                  "definition.template_changed", object_type="definition", object_id=key,
                  summary=versions[0].name, before=before, after={"description": description})
    return template, created


def unmark_template(*, session: Session, key: str, actor: str | None = None) -> ProcessTemplate:
    """Stop offering a key as a template; its versions stay as they are."""
    template = get_template(session=session, key=key) if isinstance(key, str) else None
    if template is None:
        raise DefinitionNotFound(f"'{str(key)[:200]}' is not a template", details={"key": str(key)[:200]})
    session.delete(template)
    session.flush()
    audit.log(session, actor=actor, action="definition.template_unmarked", object_type="definition",
              object_id=key, before={"description": template.description})
    return template


def list_templates(*, session: Session) -> list[TemplateRow]:
    """List the templates by name, each with the version a copy would start from."""
    rows = []
    for template in session.scalars(select(ProcessTemplate)):
        versions = service.list_versions(session=session, key=template.key)
        if versions:
            rows.append(TemplateRow(template=template, source=copy_source(versions), newest=versions[0]))
    return sorted(rows, key=lambda r: (r.source.name.lower(), r.template.key))


def bilingual_name(name, name_zh=None) -> str:
    """Join an English and a Chinese name the way names are written here: 'English / 中文'."""
    name = checked_text(name, "name", limit=MAX_NAME, required=True)
    name_zh = checked_text(name_zh, "name_zh", limit=MAX_NAME)
    if name_zh and " / " in name:
        raise InvalidDefinition("name already holds two languages ('English / 中文'); leave name_zh empty",
                                details={"field": "name_zh", "problem": "twice"})
    full = f"{name} / {name_zh}" if name_zh else name
    if len(full) > MAX_NAME:
        raise InvalidDefinition(f"name must be at most {MAX_NAME} characters",
                                details={"field": "name", "problem": "too_long", "limit": MAX_NAME})
    return full


def _check_new_key(session: Session, key) -> str:
    key = checked_text(key, "key", limit=200, required=True)
    if not service.KEY_PATTERN.match(key):
        raise InvalidDefinition("key must start with a letter or _ and hold only letters, digits, _ . and - "
                                "(at most 200)", details={"field": "key", "problem": "format"})
    if session.scalar(select(exists().where(DefinitionVersion.key == key))):
        raise DefinitionConflict(f"a process definition with key '{key}' already exists", code="duplicate_key",
                                 details={"field": "key", "problem": "taken", "key": key})
    return key


def copy_definition(*, session: Session, source_key: str, key, name, name_zh=None, version=None,
                    category=None, description=None, actor: str | None = None) -> DefinitionVersion:
    """Copy a version (by default the newest published) into version 1 of a new draft definition.

    BPMN processes whose id equals the source key take the new key, with their references and diagram ids;
    forms are copied as they are, process.json takes the new key, name, category and description.
    Everything is checked before anything is written.
    """
    versions = _versions_or_raise(session, source_key)
    if version is None:
        source = copy_source(versions)
    else:
        source = next((v for v in versions if v.version == version), None)
        if source is None:
            raise DefinitionNotFound(f"no version {version} of '{source_key}'",
                                     details={"field": "version", "key": source_key, "version": version})
    key = _check_new_key(session, key)
    full_name = bilingual_name(name, name_zh)
    category = categories.check_category(session=session, code=source.category if category in (None, "")
                                         else category)
    description = (source.description or "") if description is None else \
        checked_text(description, "description", limit=MAX_DESCRIPTION)
    files = {f.name: f.content.encode("utf-8") for f in source.files}
    files = rename_process(files, old=source.key, new=key, name=full_name)
    metadata = {**(source.metadata_ or {}), "key": key, "name": full_name, "category": category,
                "description": description, "copied_from": {"key": source.key, "version": source.version}}
    if metadata.get("process_id") == source.key:
        metadata["process_id"] = key
    if description != (source.description or ""):
        metadata.pop("description_zh", None)  # the source's Chinese description no longer says the same
    files[METADATA_FILE] = json.dumps(metadata, ensure_ascii=False, indent=2).encode("utf-8")
    copy, _created = service.deploy(session=session, files=files, actor=actor, key=key, publish=False)
    audit.log(session, actor=actor, action="definition.copied", object_type="definition",
              object_id=f"{key} v{copy.version}", summary=copy.name,
              before={"key": source.key, "version": source.version},
              after={"key": key, "status": copy.status, "category": category,
                     "from_template": get_template(session=session, key=source.key) is not None})
    return copy

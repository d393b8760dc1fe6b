"""Deploy, version, publish and look up process definitions."""
from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit import service as audit
from database.session import database_key
from engine.errors import EngineError
from engine.model import CompiledModel, compile_model
from engine.runtime import ProcessRuntime
from engine.services import OperationRegistry, default_registry

from . import categories, routes
from .bundle import METADATA_FILE, split_metadata
from .checks import MAX_DESCRIPTION, checked_text
from .errors import DefinitionNotFound, DefinitionNotStartable, InvalidDefinition
from .models import MODEL_TYPES, ROUTE_STATUS, STATUSES, DefinitionFile, DefinitionVersion

OPERATIONS: OperationRegistry = default_registry()
_RUNTIME_CACHE: OrderedDict[tuple[str, int], tuple[str, ProcessRuntime]] = OrderedDict()
_RUNTIME_CACHE_SIZE = 256
_cache_lock = threading.Lock()
# What a definition key may be: the key column holds 200 characters and keys appear in URLs.
KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,199}$")


def _kind(name: str) -> str:
    lower = name.lower()
    if lower.endswith(".dmn"):
        return "dmn"
    if lower.endswith(".json"):
        return "form"
    return "bpmn"


def bundle_sha256(files: dict[str, bytes], metadata: dict | None = None) -> str:
    """Hash a bundle's files by name and content, and its checked process.json, independent of order."""
    if metadata:
        # The checked metadata, not the uploaded bytes: a re-indented process.json or a downloaded
        # version uploaded again is the same version, while a new name, description or route is not.
        files = {**files, METADATA_FILE: json.dumps(metadata, sort_keys=True, ensure_ascii=False).encode("utf-8")}
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode("utf-8") + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def _decode(files: dict[str, bytes]) -> dict[str, str]:
    out = {}
    for name, content in files.items():
        try:
            out[name] = content.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidDefinition(f"{name} is not UTF-8 text", details={"file": name}) from None
    return out


def _check_forms(texts: dict[str, str]) -> None:
    for name, text in texts.items():
        if _kind(name) != "form":
            continue
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidDefinition(f"{name} is not valid JSON: {exc.msg} at line {exc.lineno}",
                                    details={"file": name, "line": exc.lineno}) from None


def validate_bundle(files: dict[str, bytes], *, primary: str | None = None) -> CompiledModel:
    """Parse and validate a bundle; raise InvalidDefinition naming file, element and reason."""
    try:
        return compile_model(files, operations=OPERATIONS, primary=primary)
    except EngineError as exc:
        raise InvalidDefinition(str(exc), details=exc.to_dict()) from None


def _metadata_text(value, field: str) -> str:
    """Check a text field of process.json, naming the file and the field when it is refused."""
    try:
        return checked_text(value, field, limit=MAX_DESCRIPTION)
    except InvalidDefinition as exc:
        raise InvalidDefinition(f"{METADATA_FILE}: {exc.message}", details={**exc.details, "file": METADATA_FILE}) \
            from None


def deploy(*, session: Session, files: dict[str, bytes], actor: str | None = None, key: str | None = None,
           publish: bool = True) -> tuple[DefinitionVersion, bool]:
    """Store a bundle as a new definition version, or return the identical version already stored."""
    files, metadata = split_metadata(files)
    texts = _decode(files)
    _check_forms(texts)
    model = validate_bundle(files, primary=metadata.get("process_id"))
    key = key or metadata.get("key") or model.primary_process_id or next(iter(model.names), None)
    if not key:
        raise InvalidDefinition("the model defines no process", details={})
    for label, value in (("key", key), ("process id", model.primary_process_id or "")):
        # The columns hold 200 characters; a longer id must be a clear refusal, not a database error.
        if len(str(value)) > 200:
            raise InvalidDefinition(f"the {label} '{str(value)[:40]}...' is longer than 200 characters",
                                    details={"field": label.replace(" ", "_")})
    model_type = metadata.get("model_type", "custom")
    if model_type not in MODEL_TYPES:
        raise InvalidDefinition(f"process.json: model_type must be one of {', '.join(MODEL_TYPES)}",
                                details={"file": "process.json", "field": "model_type"})
    category = categories.check_category(session=session, code=metadata.get("category") or categories.DEFAULT,
                                         file=METADATA_FILE)
    if "description_zh" in metadata:
        metadata = {**metadata, "description_zh": _metadata_text(metadata["description_zh"], "description_zh")}
    route_spec = routes.check_metadata(metadata, model_type, model.elements)
    if route_spec is not None:
        metadata = {**metadata, "route_spec": route_spec}
    sha = bundle_sha256(files, metadata)
    existing = session.scalar(select(DefinitionVersion).where(DefinitionVersion.key == key,
                                                              DefinitionVersion.sha256 == sha))
    if existing is not None:
        return existing, False
    latest = session.scalar(select(func.max(DefinitionVersion.version)).where(DefinitionVersion.key == key))
    name = metadata.get("name") or model.names.get(model.primary_process_id or "", "") or key
    version = DefinitionVersion(
        key=key, version=(latest or 0) + 1, name=str(name)[:300],
        category=category, model_type=model_type,
        status="published" if publish else "draft", sha256=sha, executable=model.executable,
        primary_process_id=model.primary_process_id, description=str(metadata.get("description", "")),
        report=model.report(), elements=model.elements, metadata_=metadata, created_by=actor)
    version.files = [DefinitionFile(name=n, kind=_kind(n), content=t,
                                    sha256=hashlib.sha256(files[n]).hexdigest()) for n, t in texts.items()]
    session.add(version)
    session.flush()
    _remember(session, version, model)
    audit.log(session, actor=actor, action="definition.deployed", object_type="definition",
              object_id=f"{key} v{version.version}", summary=version.name,
              after={"sha256": sha, "status": version.status, "files": sorted(texts)})
    return version, True


def route_spec(version: DefinitionVersion) -> dict | None:
    """Return a free-flow version's checked route block (steps, bounds, rules, guards), or None."""
    return routes.spec_of(version)


def deploy_route(*, session: Session, base: DefinitionVersion, route: list[dict],
                 actor: str | None = None) -> DefinitionVersion:
    """Return the hidden version one free-flow route runs as, deploying it the first time that route is used."""
    files = routes.route_files(base, route, start_form=start_form_key(base))
    version, created = deploy(session=session, files=files, actor=actor, key=base.key + routes.KEY_SUFFIX,
                              publish=False)
    return routes.hide(session, version) if created else version


def set_status(*, session: Session, definition_id: int, status: str) -> DefinitionVersion:
    """Publish, deprecate or return a version to draft."""
    if status not in STATUSES:
        raise InvalidDefinition(f"status must be one of {', '.join(STATUSES)}", details={"field": "status"})
    version = get_version_or_raise(session=session, definition_id=definition_id)
    if status == "published" and version.status != "published":
        _check_publishable(version)
    before = version.status
    version.status = status
    if before != status:
        audit.log(session, action="definition.status", object_type="definition",
                  object_id=f"{version.key} v{version.version}", summary=version.name,
                  before={"status": before}, after={"status": status})
    session.flush()
    return version


def _check_publishable(version: DefinitionVersion) -> None:
    # A published version is what the catalogue offers; one that cannot start must not get there.
    label = f"version {version.version} of '{version.key}'"
    details = {"field": "status", "key": version.key, "version": version.version}
    if not version.executable:
        raise InvalidDefinition(f"{label} cannot be published: it has no executable process "
                                "(stored as documentation)", details={**details, "problem": "not_executable"})
    errors = [i for i in (version.report or {}).get("issues", []) if i.get("severity") == "error"]
    if errors:
        first = errors[0]
        raise InvalidDefinition(
            f"{label} cannot be published while it has {len(errors)} error(s): "
            f"element '{first.get('element_id')}': {first.get('reason')}",
            details={**details, "problem": "errors", "errors": len(errors),
                     "element_id": first.get("element_id"), "file": first.get("file"),
                     "line": first.get("line"), "reason": first.get("reason")})


def get_version_or_raise(*, session: Session, definition_id: int) -> DefinitionVersion:
    """Return a definition version by id or raise DefinitionNotFound."""
    version = session.get(DefinitionVersion, definition_id)
    if version is None:
        raise DefinitionNotFound(f"no definition version {definition_id}", details={"id": definition_id})
    return version


def list_versions(*, session: Session, key: str | None = None) -> list[DefinitionVersion]:
    """List definition versions, newest first."""
    query = select(DefinitionVersion).where(DefinitionVersion.status != ROUTE_STATUS)\
        .order_by(DefinitionVersion.key, DefinitionVersion.version.desc())
    if key:
        query = query.where(DefinitionVersion.key == key)
    return list(session.scalars(query))


def get_startable_or_raise(*, session: Session, key: str) -> DefinitionVersion:
    """Return the newest published version of a key that can start, or raise a clear error."""
    candidates = session.scalars(
        select(DefinitionVersion).where(DefinitionVersion.key == key, DefinitionVersion.status == "published",
                                        DefinitionVersion.executable.is_(True))
        .order_by(DefinitionVersion.version.desc()).limit(5))
    for version in candidates:
        if version.startable:
            return version
    versions = list_versions(session=session, key=key)
    if not versions:
        raise DefinitionNotFound(f"no process definition with key '{key}'", details={"key": key})
    newest = versions[0]
    if not newest.executable:
        reason = "it has no executable process (stored as documentation)"
    elif newest.status != "published":
        reason = f"its newest version is {newest.status}"
    else:
        issue = next(i for i in newest.report.get("issues", []) if i.get("severity") == "error")
        reason = f"element '{issue.get('element_id')}': {issue.get('reason')}"
    raise DefinitionNotStartable(f"process '{key}' cannot be started: {reason}", details={"key": key})


def _bind_key(session: Session | None) -> str:
    return database_key(session) if session is not None else ""


def _remember(session: Session | None, version: DefinitionVersion, model: CompiledModel) -> ProcessRuntime:
    runtime = ProcessRuntime(model, OPERATIONS)
    with _cache_lock:
        _RUNTIME_CACHE[(_bind_key(session), version.id)] = (version.sha256, runtime)
        while len(_RUNTIME_CACHE) > _RUNTIME_CACHE_SIZE:
            _RUNTIME_CACHE.popitem(last=False)
    return runtime


def _cached(session: Session, definition_id: int, sha256: str | None) -> ProcessRuntime | None:
    cache_key = (_bind_key(session), definition_id)
    with _cache_lock:
        hit = _RUNTIME_CACHE.get(cache_key)
        if hit is None or (sha256 is not None and hit[0] != sha256):
            return None
        _RUNTIME_CACHE.move_to_end(cache_key)
        return hit[1]


def clear_runtime_cache() -> None:
    """Forget every compiled runtime and form (tests that reuse ids in an emptied database call this)."""
    with _cache_lock:
        _RUNTIME_CACHE.clear()
        _FORM_CACHE.clear()
        _ELEMENTS_CACHE.clear()
        _START_KEYS.clear()


_ELEMENTS_CACHE: OrderedDict[tuple[str, int], dict] = OrderedDict()


def elements_for(*, session: Session, definition_id: int) -> dict:
    """Return a version's element table, cached: versions are immutable, and every task completion asks."""
    cache_key = (_bind_key(session), definition_id)
    with _cache_lock:
        hit = _ELEMENTS_CACHE.get(cache_key)
        if hit is not None:
            _ELEMENTS_CACHE.move_to_end(cache_key)
            return hit
    elements = session.scalar(select(DefinitionVersion.elements).where(DefinitionVersion.id == definition_id))
    if elements is None:
        raise DefinitionNotFound(f"no definition version {definition_id}", details={"id": definition_id})
    with _cache_lock:
        _ELEMENTS_CACHE[cache_key] = elements
        while len(_ELEMENTS_CACHE) > _RUNTIME_CACHE_SIZE:
            _ELEMENTS_CACHE.popitem(last=False)
    return elements


def runtime_for(*, session: Session, version: DefinitionVersion) -> ProcessRuntime:
    """Return the cached runtime of a version, compiling its stored files on a miss."""
    runtime = _cached(session, version.id, version.sha256)
    if runtime is not None:
        return runtime
    files, _ = split_metadata(version.file_map())
    return _remember(session, version, validate_bundle(files, primary=version.primary_process_id))


def runtime_for_id(*, session: Session, definition_id: int) -> ProcessRuntime:
    """Return the runtime of a version by id; versions are immutable, so a cached one needs no query."""
    runtime = _cached(session, definition_id, None)
    if runtime is not None:
        return runtime
    return runtime_for(session=session, version=get_version_or_raise(session=session,
                                                                     definition_id=definition_id))


def start_form_key(version: DefinitionVersion) -> str | None:
    """Return the form key of the primary process's start event, if it has one."""
    for info in (version.elements or {}).values():
        if (info.get("type") == "startEvent" and info.get("process_id") == version.primary_process_id
                and info.get("form_key")):
            return info["form_key"]
    return None


_START_KEYS: dict[tuple[str, int], str | None] = {}


def start_form_key_for(*, session: Session, definition_id: int) -> str | None:
    """Return the start form key of a version by id, cached: the task page and API ask on every completion."""
    cache_key = (_bind_key(session), definition_id)
    with _cache_lock:
        if cache_key in _START_KEYS:
            return _START_KEYS[cache_key]
    primary = session.scalar(select(DefinitionVersion.primary_process_id).where(DefinitionVersion.id == definition_id))
    elements = elements_for(session=session, definition_id=definition_id)
    found = next((info["form_key"] for info in elements.values()
                  if info.get("type") == "startEvent" and info.get("process_id") == primary and info.get("form_key")),
                 None)
    with _cache_lock:
        if len(_START_KEYS) >= _RUNTIME_CACHE_SIZE:
            _START_KEYS.clear()  # a few hundred ids: starting over is simpler than an order to keep
        _START_KEYS[cache_key] = found
    return found


def _copy_json(value):
    """Copy a parsed JSON value: its dicts and lists are new, its strings and numbers shared (they cannot change).
    A form is copied on every task page and completion; deepcopy's memo and dispatch made that cost a millisecond."""
    if isinstance(value, dict):
        return {key: _copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_json(item) for item in value]
    return value


_FORM_CACHE: OrderedDict[tuple[str, int, str], dict | None] = OrderedDict()
_FORM_CACHE_SIZE = 1024


def get_form(*, session: Session, definition_id: int, form_key: str | None) -> dict | None:
    """Return the JSON schema a form key names inside a version, or None when the version has no such form."""
    if not form_key:
        return None
    from forms.schema import load_schema

    cache_key = (_bind_key(session), definition_id, form_key)
    with _cache_lock:
        if cache_key in _FORM_CACHE:
            # Versions are immutable, so a parsed and checked form stays valid; callers get a copy to mutate.
            cached = _FORM_CACHE[cache_key]
            return _copy_json(cached) if cached is not None else None
    name = form_key.split(":", 1)[-1].strip()
    candidates = {name, f"{name}.json"}
    row = session.scalar(select(DefinitionFile).where(DefinitionFile.definition_id == definition_id,
                                                      DefinitionFile.name.in_(candidates)))
    schema = load_schema(row.content, row.name) if row is not None else None
    with _cache_lock:
        _FORM_CACHE[cache_key] = schema
        while len(_FORM_CACHE) > _FORM_CACHE_SIZE:
            _FORM_CACHE.popitem(last=False)
    return _copy_json(schema) if schema is not None else None


def list_startable(*, session: Session) -> list[DefinitionVersion]:
    """List the newest startable version of every process, by category and name."""
    rows = session.scalars(select(DefinitionVersion).where(DefinitionVersion.status == "published",
                                                           DefinitionVersion.executable.is_(True))
                           .order_by(DefinitionVersion.key, DefinitionVersion.version.desc()))
    newest: dict[str, DefinitionVersion] = {}
    for version in rows:
        if version.key not in newest and version.startable:
            newest[version.key] = version
    return sorted(newest.values(), key=lambda v: (v.category, v.name))

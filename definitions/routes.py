"""Free-flow routes (自由流程) on the definition side: the route block of process.json, checked at deployment,
and the hidden definition version each distinct route runs as (so history, diagrams and element names of an
instance come from its own route)."""
from __future__ import annotations

import json

from sqlalchemy.orm import Session

from engine import route as engine_route
from engine.route import RouteProblem

from .bundle import METADATA_FILE
from .errors import InvalidDefinition
from .models import ROUTE_STATUS, DefinitionVersion

ROUTE_FILE = "route.bpmn"
KEY_SUFFIX = "~route"  # route versions have a key of their own, so the designer's version numbers stay whole


def check_metadata(metadata: dict, model_type: str, elements: dict) -> dict | None:
    """Return the checked route block of a process.json, or None; raise InvalidDefinition naming the field."""
    if "route" not in metadata:
        return None
    if model_type != "custom":
        raise InvalidDefinition(f"{METADATA_FILE}: a route (free flow) needs model_type custom",
                                details={"file": METADATA_FILE, "field": "model_type"})
    try:
        spec = engine_route.check_spec(metadata["route"])
    except RouteProblem as exc:
        raise InvalidDefinition(f"{METADATA_FILE}: {exc.reason}", details={"file": METADATA_FILE,
                                                                           "field": exc.field}) from None
    if spec["task_form"] is None:
        spec["task_form"] = next((info.get("form_key") for info in elements.values()
                                  if info.get("type") == "userTask" and info.get("form_key")), None)
    return spec


def spec_of(version: DefinitionVersion) -> dict | None:
    """Return the checked route block of a free-flow version, or None for a process with a drawn route."""
    return (version.metadata_ or {}).get("route_spec")


def is_route_version(version: DefinitionVersion) -> bool:
    """Tell whether a version is the generated model of one initiator's route."""
    return version.status == ROUTE_STATUS


def route_files(base: DefinitionVersion, route: list[dict], *, start_form: str | None) -> dict[str, bytes]:
    """Return the bundle a route runs as: the base's forms, the route's BPMN and the base's metadata."""
    spec = spec_of(base) or {}
    files = {f.name: f.content.encode() for f in base.files if not f.name.lower().endswith((".bpmn", ".xml"))}
    files[ROUTE_FILE] = engine_route.route_bpmn(base.primary_process_id or base.key, base.name, route,
                                                start_form=start_form, task_form=spec.get("task_form"))
    metadata = {k: v for k, v in (base.metadata_ or {}).items() if k not in ("route", "route_spec", "key")}
    metadata.update({"model_type": "fixed", "route_of": base.key, "route_of_version": base.version,
                     "route_steps": route})
    files[METADATA_FILE] = json.dumps(metadata, ensure_ascii=False, sort_keys=True).encode()
    return files


def hide(session: Session, version: DefinitionVersion) -> DefinitionVersion:
    """Mark a freshly deployed route version as a route: out of the catalogue, the designer and the lists."""
    version.status = ROUTE_STATUS
    session.flush()
    return version

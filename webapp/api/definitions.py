"""Process definitions: upload, list, versions, diagrams, status, templates, copies, categories, starting."""
from __future__ import annotations

from flask import Response, jsonify, request, url_for
from flask_babel import gettext as _

from definitions import categories, templates
from definitions import service as definitions
from definitions.bundle import ACCEPTED_SUFFIXES, MAX_BUNDLE_BYTES, MAX_FILE_BYTES, read_zip, split_metadata
from definitions.errors import DefinitionNotFound, InvalidDefinition
from definitions.models import STATUSES
from forms.schema import FieldError, FormError
from instances import service
from instances.errors import ProcessFailure

from ..db import command, query
from ..errors import refused_field
from ..views.processes import refuse_picks
from . import bp
from .common import (
    MAX_VERSION,
    bad_input,
    bool_arg,
    check_form,
    forbid_unless,
    instance_json,
    int_arg,
    iso,
    json_body,
    me,
    object_field,
    text_field,
)

KEY_PATTERN = definitions.KEY_PATTERN
MODEL_SUFFIXES = tuple(s for s in ACCEPTED_SUFFIXES if s not in (".json", ".dmn"))


def version_json(version, *, report: bool = False) -> dict:
    """Describe a definition version, with its validation report and files when asked."""
    out = {"id": int(version.id), "key": version.key, "version": version.version, "name": version.name,
           "category": version.category, "description": version.description,
           "description_zh": version.description_zh, "model_type": version.model_type,
           "status": version.status, "executable": version.executable, "startable": version.startable,
           "primary_process_id": version.primary_process_id, "sha256": version.sha256,
           "created_at": iso(version.created_at), "created_by": version.created_by}
    if report:
        out["report"] = version.report or {}
        out["files"] = [{"name": f.name, "kind": f.kind, "sha256": f.sha256} for f in version.files]
    return out


def _versions_or_404(session, key: str) -> list:
    versions = definitions.list_versions(session=session, key=key)
    if not me().is_designer:
        versions = [v for v in versions if v.status == "published"]
    if not versions:
        raise DefinitionNotFound(f"no process definition with key '{key}'", details={"key": key})
    return versions


@bp.get("/definitions")
def list_definitions():
    """List the newest version of every process; non-designers see published ones only."""
    text = (request.args.get("q") or "").strip().lower()
    startable_only = bool_arg("startable")
    category = (request.args.get("category") or "").strip() or None
    with query() as session:
        if startable_only:
            versions = definitions.list_startable(session=session)
        else:
            newest: dict[str, object] = {}
            for version in definitions.list_versions(session=session):
                if version.key not in newest and (me().is_designer or version.status == "published"):
                    newest[version.key] = version
            versions = sorted(newest.values(), key=lambda v: (v.category, v.name, v.key))
        items = [version_json(v) for v in versions
                 if (not category or v.category == category)
                 and (not text or any(text in (s or "").lower() for s in (v.key, v.name, v.description)))]
    return jsonify(items=items, total=len(items))


@bp.get("/definitions/<key>")
def get_definition(key: str):
    """List the versions of one process, newest first, with reports and the start form."""
    with query() as session:
        versions = _versions_or_404(session, key)
        start_form = None
        startable = next((v for v in versions if v.startable), None)
        if startable is not None:
            start_form = definitions.get_form(session=session, definition_id=startable.id,
                                              form_key=definitions.start_form_key(startable))
        out = {"key": key, "start_form": start_form, "versions": [version_json(v, report=True) for v in versions]}
    return jsonify(out)


@bp.get("/definitions/<key>/diagram.svg")
def definition_diagram(key: str):
    """Draw a version of a process (the newest unless ?version= is given) as SVG."""
    from ..diagrams import definition_svg

    number = int_arg("version", None, 1, MAX_VERSION)
    with query() as session:
        versions = _versions_or_404(session, key)
        version = versions[0] if number is None else next((v for v in versions if v.version == number), None)
        if version is None:
            raise DefinitionNotFound(f"no version {number} of '{key}'", details={"key": key, "version": number})
        svg = definition_svg(version)
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


def _uploaded_files() -> dict[str, bytes]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidDefinition(_("Choose a .bpmn file or a .zip archive to upload."), details={"field": "file"})
    name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if "\x00" in name:
        raise bad_input("file", _("The request contains a NUL character."))
    data = upload.read(MAX_BUNDLE_BYTES + 1)
    if name.lower().endswith(".zip"):
        files = read_zip(data, name)
    elif not name.lower().endswith(MODEL_SUFFIXES):
        raise InvalidDefinition(_("%(name)s is not a BPMN file (.bpmn, .bpmn20.xml) or a zip archive.", name=name),
                                details={"file": name})
    elif len(data) > MAX_FILE_BYTES:
        raise InvalidDefinition(_("%(name)s is larger than %(mb)s MiB.", name=name, mb=MAX_FILE_BYTES // 2**20),
                                details={"file": name})
    else:
        files = {name: data}
    for file_name, content in files.items():
        if "\x00" in file_name or b"\x00" in content:
            raise InvalidDefinition(f"{file_name} is not a text file", details={"file": file_name})
    return files


@bp.post("/definitions")
def upload_definition():
    """Store an uploaded .bpmn file or .zip bundle as a new version (a draft unless publish=true)."""
    forbid_unless(me().is_designer)
    key = (request.form.get("key") or "").strip() or None
    if key is not None and not KEY_PATTERN.match(key):
        raise InvalidDefinition(_("A key starts with a letter and holds only letters, digits, _ . and -."),
                                details={"field": "key"})
    publish = (request.form.get("publish") or "").strip().lower() in ("1", "true", "yes", "on")
    files = _uploaded_files()
    named = split_metadata(files)[1].get("key")
    if key is None and named is not None and not KEY_PATTERN.match(str(named)):
        # The key column is bounded; a bad key in process.json must be refused here, not by the database.
        raise InvalidDefinition("process.json: key must start with a letter and hold only letters, digits, "
                                "_ . and - (at most 200)", details={"file": "process.json", "field": "key"})
    with command() as session:
        version, created = definitions.deploy(session=session, files=files, actor=me().username, key=key,
                                              publish=False)
        if publish and version.status != "published":
            definitions.set_status(session=session, definition_id=version.id, status="published")
        out = version_json(version, report=True)
    location = url_for("api.get_definition", key=out["key"])
    return jsonify(out), (201 if created else 200), {"Location": location}


@bp.post("/definitions/<key>/versions/<int:number>/status")
def change_status(key: str, number: int):
    """Publish, deprecate or return a version to draft; a version that cannot start is not published."""
    forbid_unless(me().is_designer)
    body = json_body({"status"}, required=("status",))
    status = body["status"]
    if status not in STATUSES:
        raise bad_input("status", _("%(field)s must be one of %(choices)s.", field="status",
                                    choices=", ".join(STATUSES)))
    with command() as session:
        version = next((v for v in _versions_or_404(session, key) if v.version == number), None)
        if version is None:
            raise DefinitionNotFound(f"no version {number} of '{key}'", details={"key": key, "version": number})
        definitions.set_status(session=session, definition_id=version.id, status=status)
        out = version_json(version, report=True)
    return jsonify(out)


@bp.post("/definitions/<key>/instances")
def start_instance(key: str):
    """Start a process with start-form data; errors name their fields."""
    body = json_body({"data", "business_key", "picks", "route"})
    data = object_field(body, "data")
    business_key = text_field(body, "business_key", limit=200)
    picks = body.get("picks")
    current = me()
    with query() as session:
        version = definitions.get_startable_or_raise(session=session, key=key)
        schema = definitions.get_form(session=session, definition_id=version.id,
                                      form_key=definitions.start_form_key(version))
    data = check_form(schema, data)
    extra = {"initiator_superior": current.superior} if current.superior else {}
    with command() as session:
        refuse_picks(session, service.pick_nodes(elements=version.elements, model_type=version.model_type), picks,
                     required=picks is not None)
        try:
            instance = service.start_instance(session=session, key=key, actor=current.actor,
                                              data={**extra, **data}, business_key=business_key, picks=picks,
                                              route=body.get("route"))
        except ProcessFailure as exc:  # a step that checks the request names the field, like the form does
            field = refused_field(exc, schema)
            if field is None:
                raise
            raise FormError({field: FieldError("invalid", detail=exc.details.get("reason") or exc.message)}) from None
        out = {**instance_json(instance), "data": instance.data}
    location = url_for("api.get_instance", instance_id=out["id"])
    return jsonify(out), 201, {"Location": location}


def template_json(template, version) -> dict:
    """Describe a template with the version a copy of it starts from."""
    return {"key": template.key, "name": version.name, "category": version.category,
            "description": template.description or version.description or "", "source_version": version.version,
            "status": version.status, "created_at": iso(template.created_at), "created_by": template.created_by}


def category_json(category, used: dict[str, int]) -> dict:
    """Describe a process category with how many process definitions use it."""
    return {"code": category.code, "name": category.name, "name_en": category.name_en or "",
            "sort": category.sort, "definitions": used.get(category.code, 0)}


@bp.post("/definitions/<key>/copy")
def copy_definition(key: str):
    """Copy a version (the newest published by default) into a new draft definition (designers and admins)."""
    forbid_unless(me().is_designer)
    body = json_body({"key", "name", "name_zh", "version", "category", "description"}, required=("key", "name"))
    number = body.get("version")
    if number is not None and (isinstance(number, bool) or not isinstance(number, int)
                               or not 1 <= number <= MAX_VERSION):
        raise bad_input("version", _("%(field)s must be a whole number from %(low)s to %(high)s.",
                                     field="version", low=1, high=MAX_VERSION))
    with command() as session:
        copy = templates.copy_definition(session=session, source_key=key, key=body["key"], name=body["name"],
                                         name_zh=body.get("name_zh"), version=number,
                                         category=body.get("category"), description=body.get("description"),
                                         actor=me().username)
        out = version_json(copy, report=True)
    return jsonify(out), 201, {"Location": url_for("api.get_definition", key=out["key"])}


@bp.get("/process-templates")
def list_process_templates():
    """List the process templates with the version a copy starts from (designers and admins)."""
    forbid_unless(me().is_designer)
    with query() as session:
        items = [template_json(row.template, row.source) for row in templates.list_templates(session=session)]
    return jsonify(items=items, total=len(items))


@bp.post("/definitions/<key>/template")
def mark_template(key: str):
    """Mark a process as a template, or change its description (designers and admins)."""
    forbid_unless(me().is_designer)
    body = json_body({"description"})
    with command() as session:
        template, created = templates.mark_template(session=session, key=key, description=body.get("description"),
                                                    actor=me().username)
        source = templates.copy_source(definitions.list_versions(session=session, key=key))
        out = template_json(template, source)
    return jsonify(out), (201 if created else 200)


@bp.delete("/definitions/<key>/template")
def unmark_template(key: str):
    """Stop offering a process as a template; its versions stay (designers and admins)."""
    forbid_unless(me().is_designer)
    with command() as session:
        template = templates.unmark_template(session=session, key=key, actor=me().username)
        out = template_json(template, templates.copy_source(definitions.list_versions(session=session, key=key)))
    return jsonify(out)


@bp.get("/process-categories")
def list_process_categories():
    """List the process categories in catalogue order, with how many processes use each."""
    with query() as session:
        used = categories.usage(session=session)
        items = [category_json(c, used) for c in categories.list_categories(session=session)]
    return jsonify(items=items, total=len(items))


@bp.post("/process-categories")
def create_process_category():
    """Add a process category (admins)."""
    forbid_unless(me().is_admin)
    body = json_body({"code", "name", "name_en", "sort"}, required=("code", "name"))
    with command() as session:
        category = categories.create_category(session=session, code=body["code"], name=body["name"],
                                              name_en=body.get("name_en"), sort=body.get("sort"),
                                              actor=me().username)
        out = category_json(category, {})
    return jsonify(out), 201, {"Location": url_for("api.list_process_categories")}


@bp.patch("/process-categories/<code>")
def update_process_category(code: str):
    """Rename or reorder a process category (admins); fields left out keep their values, the code stays."""
    forbid_unless(me().is_admin)
    body = json_body({"name", "name_en", "sort"})
    with command() as session:
        category = categories.update_category(session=session, code=code, name=body.get("name"),
                                              name_en=body.get("name_en"), sort=body.get("sort"),
                                              actor=me().username)
        out = category_json(category, categories.usage(session=session))
    return jsonify(out)


@bp.delete("/process-categories/<code>")
def delete_process_category(code: str):
    """Delete a process category no process uses (admins); a used one answers 409 with the count."""
    forbid_unless(me().is_admin)
    with command() as session:
        out = categories.delete_category(session=session, code=code, actor=me().username)
    return jsonify({**out, "definitions": 0})

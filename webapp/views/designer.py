"""Process designers: upload models, read validation reports, manage versions, templates and copies; managers
watch node load."""
from __future__ import annotations

import io
import json
import zipfile

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from definitions import categories, templates
from definitions import service as definitions
from definitions.bundle import MAX_BUNDLE_BYTES, MAX_FILE_BYTES, METADATA_FILE, read_zip
from definitions.errors import DefinitionError, InvalidDefinition
from diagrams.errors import DiagramError
from instances import monitor

from ..db import command, query
from .admin_categories import category_label, category_labels

bp = Blueprint("designer", __name__, url_prefix="/designer")
MODEL_SUFFIXES = (".bpmn", ".bpmn20.xml", ".bpmn2", ".xml")
KEY_PATTERN = definitions.KEY_PATTERN
STATUS_ACTIONS = {"draft": ("published", "deprecated"), "published": ("deprecated", "draft"),
                  "deprecated": ("published", "draft")}


def _require_designer() -> None:
    if not current_user.is_designer:
        abort(403)


def _issues(version) -> tuple[list[dict], list[dict]]:
    """Split a version's report into errors and warnings, filling in line and name from its elements."""
    elements = version.elements or {}
    errors, warnings = [], []
    for issue in (version.report or {}).get("issues", []):
        info = elements.get(issue.get("element_id") or "", {})
        row = {**issue, "line": issue.get("line") or info.get("line"),
               "file": issue.get("file") or info.get("file"), "name": info.get("name") or ""}
        (errors if issue.get("severity") == "error" else warnings).append(row)
    return errors, warnings


def _summaries(versions) -> list[dict]:
    groups: dict[str, list] = {}
    for version in versions:
        groups.setdefault(version.key, []).append(version)
    rows = []
    for key, group in groups.items():
        newest = group[0]
        errors, warnings = _issues(newest)
        published = next((v.version for v in group if v.status == "published"), None)
        rows.append({"key": key, "newest": newest, "count": len(group), "published": published,
                     "errors": len(errors), "warnings": len(warnings)})
    return sorted(rows, key=lambda r: (r["newest"].category, r["newest"].name.lower(), r["key"]))


def _index_page(upload_error: InvalidDefinition | None = None, upload_name: str = "", status: int = 200):
    text = (request.args.get("q") or "").strip().lower()
    with query() as session:
        rows = _summaries(definitions.list_versions(session=session))
        template_rows = templates.list_templates(session=session)
        labels = category_labels(session)
    if text:
        rows = [r for r in rows if any(text in (value or "").lower() for value in (
            r["key"], r["newest"].name, r["newest"].category, labels.get(r["newest"].category),
            r["newest"].description))]
    return render_template("designer/index.html", rows=rows, q=request.args.get("q", ""), templates=template_rows,
                           category_names=labels, upload_error=upload_error, upload_name=upload_name), status


@bp.get("/")
@login_required
def index():
    """List process definitions, newest version of each key, with a search box and an upload form."""
    _require_designer()
    return _index_page()


def _uploaded_files(upload) -> tuple[str, dict[str, bytes]]:
    if upload is None or not upload.filename:
        raise InvalidDefinition(_("Choose a .bpmn file or a .zip archive to upload."),
                                details={"field": "file"})
    name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    data = upload.read(MAX_BUNDLE_BYTES + 1)
    if name.lower().endswith(".zip"):
        return name, read_zip(data, name)
    if not name.lower().endswith(MODEL_SUFFIXES):
        raise InvalidDefinition(
            _("%(name)s is not a BPMN file (.bpmn, .bpmn20.xml) or a zip archive.", name=name),
            details={"file": name})
    if len(data) > MAX_FILE_BYTES:
        raise InvalidDefinition(
            _("%(name)s is larger than %(mb)s MiB.", name=name, mb=MAX_FILE_BYTES // 2**20),
            details={"file": name})
    return name, {name: data}


@bp.post("/")
@login_required
def upload():
    """Store an uploaded model or bundle as a new draft version, or show why it is refused."""
    _require_designer()
    key = (request.form.get("key") or "").strip() or None
    name = ""
    try:
        if key is not None and not KEY_PATTERN.match(key):
            raise InvalidDefinition(
                _("A key starts with a letter and holds only letters, digits, _ . and -."),
                details={"field": "key"})
        name, files = _uploaded_files(request.files.get("file"))
        with command() as session:
            version, created = definitions.deploy(session=session, files=files, actor=current_user.username,
                                                  key=key, publish=False)
            key, number = version.key, version.version
    except InvalidDefinition as exc:
        return _index_page(upload_error=exc, upload_name=name, status=422)
    if created:
        flash(_("Stored as version %(n)s (draft). Check the report, then publish it.", n=number), "success")
    else:
        flash(_("The files are unchanged: they are already stored as version %(n)s.", n=number), "info")
    return redirect(url_for("designer.show", key=key, version=number))


def _versions_or_404(session, key: str) -> list:
    versions = definitions.list_versions(session=session, key=key)
    if not versions:
        abort(404)
    return versions


def _pick(versions: list, number: int | None, prefer_published: bool = False):
    if number is not None:
        chosen = next((v for v in versions if v.version == number), None)
        if chosen is None:
            abort(404)
        return chosen
    if prefer_published:
        return next((v for v in versions if v.status == "published"), versions[0])
    return versions[0]


def _svg(version, aggregate: dict | None = None) -> tuple[Markup | None, str | None]:
    from ..diagrams import definition_svg

    try:
        return Markup(definition_svg(version, aggregate=aggregate)), None
    except DiagramError as exc:
        return None, str(exc)


def _outgoing(elements: dict) -> dict[str, list[dict]]:
    flows: dict[str, list[dict]] = {}
    for flow_id, info in elements.items():
        if info.get("type") == "sequenceFlow":
            target = info.get("target")
            flows.setdefault(info.get("source"), []).append({
                "id": flow_id, "name": info.get("name") or "", "target": target,
                "target_name": (elements.get(target) or {}).get("name") or "",
                "condition": info.get("condition")})
    return flows


def node_rows(elements: dict) -> list[dict]:
    """Describe every flow node of a version for the table view, in file order."""
    outgoing = _outgoing(elements)
    rows = []
    for element_id, info in elements.items():
        kind = info.get("type") or ""
        if kind == "sequenceFlow":
            continue
        flows = outgoing.get(element_id, [])
        show_flows = kind.endswith("Gateway") or any(f["condition"] for f in flows)
        rows.append({"id": element_id, "name": info.get("name") or "", "type": kind,
                     "process_id": info.get("process_id"), "file": info.get("file"), "line": info.get("line"),
                     "assignee": info.get("assignee"),
                     "candidate_users": info.get("candidate_users") or [],
                     "candidate_groups": info.get("candidate_groups") or [], "lane": info.get("lane"),
                     "form_key": info.get("form_key"), "due_date": info.get("due_date"),
                     "priority": info.get("priority"), "multi_instance": info.get("multi_instance"),
                     "policies": {name.removeprefix("flowdesk."): value
                                  for name, value in sorted((info.get("properties") or {}).items())
                                  if name.startswith("flowdesk.") and name != "flowdesk.countersign"},
                     "flows": sorted(flows, key=lambda f: f["id"]) if show_flows else []})
    return sorted(rows, key=lambda r: (r["file"] or "", r["line"] or 0, r["id"]))


@bp.get("/<key>")
@login_required
def show(key: str):
    """Show a definition's versions, the chosen version's report, diagram and table view."""
    _require_designer()
    view = "table" if request.args.get("view") == "table" else "diagram"
    with query() as session:
        versions = _versions_or_404(session, key)
        version = _pick(versions, request.args.get("version", type=int))
        svg, svg_error = _svg(version)
        counts = {v.id: tuple(len(x) for x in _issues(v)) for v in versions}
        template = templates.get_template(session=session, key=key)
        labels = category_labels(session)
    errors, warnings = _issues(version)
    return render_template("designer/show.html", key=key, versions=versions, version=version, errors=errors,
                           warnings=warnings, counts=counts, rows=node_rows(version.elements or {}), svg=svg,
                           svg_error=svg_error, view=view, actions=STATUS_ACTIONS, template=template,
                           category_names=labels)


@bp.post("/<key>/versions/<int:number>/status")
@login_required
def change_status(key: str, number: int):
    """Publish, deprecate or return a version to draft; refuse to publish a version that cannot start."""
    _require_designer()
    status = request.form.get("status", "")
    labels = {"published": _("published"), "deprecated": _("deprecated"), "draft": _("a draft")}
    try:
        with command() as session:
            version = _pick(_versions_or_404(session, key), number)
            definitions.set_status(session=session, definition_id=version.id, status=status)
    except InvalidDefinition as exc:
        flash(_refusal(exc, number), "danger")
        return redirect(url_for("designer.show", key=key, version=number))
    flash(_("Version %(n)s is now %(status)s.", n=number, status=labels.get(status, status)), "success")
    return redirect(url_for("designer.show", key=key, version=number))


def _refusal(exc: InvalidDefinition, number: int) -> str:
    problem = exc.details.get("problem")
    if problem == "not_executable":
        return _("Version %(n)s cannot be published: it has no executable process and is kept as "
                 "documentation.", n=number)
    if problem == "errors":
        return _("Version %(n)s cannot be published while it has errors. First error, element %(element)s: "
                 "%(reason)s", n=number, element=exc.details.get("element_id"),
                 reason=exc.details.get("reason"))
    return exc.message


@bp.get("/<key>/versions/<int:number>/download")
@login_required
def download(key: str, number: int):
    """Download a version's files: a single BPMN file as XML, several files as a zip archive."""
    _require_designer()
    with query() as session:
        version = _pick(_versions_or_404(session, key), number)
        files = {f.name: f.content.encode("utf-8") for f in version.files}
        metadata = dict(version.metadata_ or {})
    if len(files) == 1 and not metadata:
        name, content = next(iter(files.items()))
        return send_file(io.BytesIO(content), mimetype="application/xml", as_attachment=True,
                         download_name=name.rsplit("/", 1)[-1])
    if metadata:
        files[METADATA_FILE] = json.dumps(metadata, ensure_ascii=False, indent=2).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            archive.writestr(name, files[name])
    buffer.seek(0)
    return send_file(buffer, mimetype="application/zip", as_attachment=True,
                     download_name=f"{key}-v{number}.zip")


@bp.get("/<key>/load")
@login_required
def load(key: str):
    """Show where instances of a process wait: active tasks and average waits per node over all versions."""
    if not (current_user.is_designer or current_user.is_manager):
        abort(403)
    with query() as session:
        versions = _versions_or_404(session, key)
        version = _pick(versions, request.args.get("version", type=int), prefer_published=True)
        aggregate = monitor.node_load(session=session, definition_ids=[v.id for v in versions])
        svg, svg_error = _svg(version, aggregate=aggregate)
    names: dict[str, str] = {}
    for v in reversed(versions):  # the newest version's names win
        names.update({eid: info.get("name") or "" for eid, info in (v.elements or {}).items()})
    rows = sorted(({"id": eid, "name": names.get(eid, ""), **stats} for eid, stats in aggregate.items()),
                  key=lambda r: (-(r.get("avg_wait_s") or 0), -(r.get("active") or 0), r["id"]))
    return render_template("designer/load.html", key=key, versions=versions, version=version, rows=rows,
                           svg=svg, svg_error=svg_error)


@bp.post("/<key>/template")
@login_required
def mark_template(key: str):
    """Offer a process as a template with a description, or change the description."""
    _require_designer()
    try:
        with command() as session:
            _versions_or_404(session, key)
            _template, created = templates.mark_template(session=session, key=key,
                                                         description=request.form.get("description", ""),
                                                         actor=current_user.username)
    except InvalidDefinition:
        flash(_("The description is too long: at most %(limit)s characters.", limit=templates.MAX_DESCRIPTION),
              "danger")
        return redirect(url_for("designer.show", key=key))
    flash(_("This process is now offered as a template.") if created else _("The template description is saved."),
          "success")
    return redirect(url_for("designer.show", key=key))


@bp.post("/<key>/template/delete")
@login_required
def unmark_template(key: str):
    """Stop offering a process as a template; its versions stay."""
    _require_designer()
    with command() as session:
        _versions_or_404(session, key)
        if templates.get_template(session=session, key=key) is not None:
            templates.unmark_template(session=session, key=key, actor=current_user.username)
    flash(_("This process is no longer offered as a template."), "success")
    return redirect(url_for("designer.show", key=key))


def copy_errors(exc: DefinitionError) -> dict[str, str]:
    """Turn a refused copy into {field: message} in the reader's language."""
    field = exc.details.get("field") or "form"
    limit = exc.details.get("limit")
    known = {
        ("key", "required"): _("Enter a key for the new process."),
        ("key", "format"): _("A key starts with a letter and holds only letters, digits, _ . and -."),
        ("key", "too_long"): _("A key starts with a letter and holds only letters, digits, _ . and -."),
        ("key", "taken"): _("A process with this key already exists. Choose another key."),
        ("key", "id_in_model"): _("The model already uses this id for another element. Choose another key."),
        ("name", "required"): _("Enter a name for the new process."),
        ("name", "too_long"): _("At most %(limit)s characters.", limit=limit),
        ("name_zh", "too_long"): _("At most %(limit)s characters.", limit=limit),
        ("name_zh", "twice"): _("The name already holds both languages (English / 中文); leave this empty."),
        ("category", "unknown"): _("Choose one of the listed categories."),
        ("description", "too_long"): _("At most %(limit)s characters.", limit=limit),
        ("version", None): _("This version does not exist."),
    }
    return {field: known.get((field, exc.details.get("problem")), exc.message)}


@bp.route("/<key>/copy", methods=["GET", "POST"])
@login_required
def copy(key: str):
    """Copy a version of a process or template into a new draft process under a new key and name."""
    _require_designer()
    errors: dict[str, str] = {}
    values = {name: request.form.get(name, "") for name in ("key", "name", "name_zh", "category", "description",
                                                            "version")}
    if request.method == "POST":
        number = values["version"].strip()
        try:
            with command() as session:
                version = templates.copy_definition(
                    session=session, source_key=key, key=values["key"], name=values["name"],
                    name_zh=values["name_zh"], version=int(number) if number.isdigit() and len(number) <= 9 else None,
                    category=values["category"], description=values["description"], actor=current_user.username)
                new_key, new_number = version.key, version.version
        except DefinitionError as exc:
            if exc.status == "not_found" and exc.details.get("field") != "version":
                raise
            errors = copy_errors(exc)
        else:
            flash(_("Copied as %(key)s, version %(n)s (draft). Check the report, then publish it.", key=new_key,
                    n=new_number), "success")
            return redirect(url_for("designer.show", key=new_key, version=new_number))
    with query() as session:
        versions = _versions_or_404(session, key)
        if request.method == "POST":
            source = next((v for v in versions if str(v.version) == values["version"].strip()),
                          templates.copy_source(versions))
        elif request.args.get("version"):
            source = _pick(versions, request.args.get("version", type=int))
        else:
            source = templates.copy_source(versions)
        template = templates.get_template(session=session, key=key)
        known = categories.list_categories(session=session)
    if request.method == "GET":
        values = {"key": "", "name": "", "name_zh": "", "category": source.category,
                  "description": source.description or "", "version": str(source.version)}
    choices = [(c.code, f"{category_label(c)} ({c.code})") for c in known]
    return render_template("designer/copy.html", key=key, versions=versions, source=source, template=template,
                           values=values, errors=errors, categories=choices), (422 if errors else 200)

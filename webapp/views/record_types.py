"""Admin pages for record types: the list, the form designer with live preview, migrations, dictionaries."""
from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from forms import schema as forms
from forms.kinds import COLUMN_KINDS, KINDS
from records import service as records
from records.errors import Incompatible, NotFound, RecordError
from records.schemas import check_meta

from ..db import command, query
from ..form_lookups import page_lookups, posted_values
from . import record_dictionaries
from .admin_common import Discard, require_admin
from .record_type_draft import (
    Draft,
    builtin_columns,
    default_schema,
    domain_errors,
    meta_state,
    read_defaults,
    read_draft,
    removed_fields,
)
from .record_type_starters import starter

bp = Blueprint("record_types", __name__, url_prefix="/admin/record-types")
bp.before_request(require_admin)
CURRENCIES = ("CNY", "USD", "EUR", "HKD", "JPY", "GBP", "SGD")


@bp.context_processor
def _navigation_needs():
    return {"current_app": current_app}


@bp.get("/")
def index():
    """List every record type, core and custom, with its version, record count and whether it is on."""
    with query() as session:
        views = records.list_types(session=session, include_inactive=True)
        counts = records.counts_by_type(session=session, actor=current_user.actor)
    return render_template("record_types/index.html", views=views, counts=counts)


@bp.get("/<key>/form.json")
def process_form(key: str):
    """Download a record type's schema as a process form file, to put in a process bundle under forms/."""
    with query() as session:
        try:
            view = records.get_type_or_raise(session=session, key=key)
        except NotFound:
            abort(404)
        schema = dict(view.schema)
    schema.setdefault("title", f"{view.type.name_en or view.type.name} / {view.type.name}")
    body = json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
    return current_app.response_class(body, mimetype="application/json",
                                      headers={"Content-Disposition": f"attachment; filename={key}.json"})


@bp.post("/<key>/active")
def set_active(key: str):
    """Switch a record type off (hidden from menus and new records) or on again."""
    active = request.form.get("active") == "1"
    with command() as session:
        view = records.set_active(session=session, key=key, active=active)
        name = view.type.name
    flash(_("%(name)s is switched on.", name=name) if active else
          _("%(name)s is switched off: it no longer appears in menus; its records stay.", name=name), "success")
    return redirect(url_for("record_types.index"))


def _starters() -> list[tuple[str, str, str]]:
    return [("blank", _("Blank"), _("Start with no fields.")),
            ("visit", _("Visit record"), _("Customer, date, way of visit, summary, a conditional next step.")),
            ("asset", _("Asset register"), _("Asset number, category, keeper, department, cost, warranty.")),
            ("request", _("Simple request"), _("A request with a detail table of items and a computed total."))]


def _page(draft: Draft, *, view=None, errors=None, error_field="", report=None, status=200, source=None):
    """Render the designer for a new type (view None) or a new version of `view`, with its preview."""
    errors = errors or {}
    with query() as session:
        lookups = page_lookups(session)
        types = [(v.key, v.type.name, v.type.name_en) for v in records.list_types(session=session)]
        dictionaries = [(d.name, d.label, d.label_en) for d in records.list_dictionaries(session=session)]
        versions = records.list_versions(session=session, key=view.key) if view else []
        preview = _preview(draft.schema, lookups)
        migration = _migration(draft, view, report, lookups) if report else None
    designer = {"kinds": [[k, _kind_label(k)] for k in KINDS], "columnKinds": [k for k in KINDS if k in COLUMN_KINDS],
                "types": types, "dictionaries": dictionaries,
                "currencies": CURRENCIES, "builtins": builtin_columns(), "errorField": error_field,
                "previewUrl": url_for("record_types.preview"), "ownKey": view.key if view else draft.key}
    return render_template("record_types/designer.html", draft=draft, view=view, errors=errors, report=report,
                           migration=migration, meta=meta_state(draft.meta), preview=preview,
                           designer=designer, versions=versions, starters=_starters(), source=source,
                           builtins=builtin_columns()), status


def _migration(draft: Draft, view, report: dict, lookups) -> dict:
    """What the report panel offers: inputs for defaults and the fields the new schema removes."""
    failing = [e["field"] for e in report.get("examples", [])]
    form_schema = default_schema(draft.schema or {}, view.schema, failing)
    return {"fields": forms.fields(form_schema, lookups), "schema": form_schema,
            "removed": removed_fields(draft.schema or {}, view.schema),
            "inputs": posted_values() if request.method == "POST" else {}, "problems": report.get("input_errors", {})}


def _preview(schema, lookups, problem: str = "") -> Markup:
    """Draw a schema with the form macros; a schema that does not pass yet shows its problem and what can be drawn."""
    if isinstance(schema, dict) and not problem:
        try:
            forms.load_schema(json.dumps(schema, ensure_ascii=False), "schema")
        except forms.SchemaProblem as exc:
            problem = str(exc)
    try:
        fields = forms.fields(schema, lookups) if isinstance(schema, dict) else []
        return Markup(render_template("record_types/_preview.html", fields=fields, problem=problem))
    except Exception:  # a half-written schema must not break the page that lets the admin fix it
        return Markup(render_template("record_types/_preview.html", fields=[], problem=problem))


def _kind_label(kind: str) -> str:
    return {"string": _("Text"), "textarea": _("Long text"), "email": _("Email"), "number": _("Number"),
            "integer": _("Whole number"), "money": _("Money"), "percent": _("Percent"), "date": _("Date"),
            "date-time": _("Date and time"), "daterange": _("Date range"), "boolean": _("Yes / no"),
            "choice": _("Single choice"), "multichoice": _("Multiple choice"),
            "dictionary": _("Choice from a dictionary"), "user": _("User"), "department": _("Department"),
            "reference": _("Record reference"), "attachments": _("Attachments"), "richtext": _("Rich text"),
            "table": _("Detail table"), "json": _("JSON (advanced)")}.get(kind, kind)


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Design a new record type: from a starter template, a copy of another type, or blank."""
    if request.method == "GET":
        source = request.args.get("copy")
        if source:
            with query() as session:
                try:
                    view = records.get_type_or_raise(session=session, key=source)
                except NotFound:
                    abort(404)
            draft = Draft.of(key=f"{view.key}_copy"[:63], name=f"{view.type.name}（副本）",
                             name_en=f"Copy of {view.type.name_en}" if view.type.name_en else "",
                             schema=view.schema, meta=view.meta)
            return _page(draft, source=view)
        chosen = starter(request.args.get("starter", "blank"))
        return _page(Draft.of(key="", **chosen))
    draft, errors = read_draft(request.form)
    if errors or request.form.get("action") == "preview":
        return _page(draft, errors=errors, status=422 if errors else 200)
    try:
        with command() as session:
            records.define_type(session=session, key=draft.key, name=draft.name, name_en=draft.name_en,
                                schema=draft.schema, meta=draft.meta_to_save(), actor=current_user.username)
    except RecordError as exc:
        errors, named = domain_errors(exc)
        return _page(draft, errors=errors, error_field=named, status=422)
    flash(_("Created record type %(name)s.", name=draft.name), "success")
    return redirect(url_for("record_types.index", created=draft.key))


def _current(key: str):
    with query() as session:
        try:
            return records.get_type_or_raise(session=session, key=key)
        except NotFound:
            abort(404)


@bp.route("/<key>/edit", methods=["GET", "POST"])
def edit(key: str):
    """Design a new version of a record type; a change that breaks stored records shows a migration first."""
    view = _current(key)
    if request.method == "GET":
        return _page(Draft.of(key=key, name=view.type.name, name_en=view.type.name_en, schema=view.schema,
                              meta=view.meta), view=view)
    draft, errors = read_draft(request.form)
    draft.key = key
    if "meta_extra" not in request.form:
        draft.extra_meta = Draft.of(key=key, name="", name_en="", schema={}, meta=view.meta).extra_meta
    if errors or request.form.get("action") == "preview":
        return _page(draft, view=view, errors=errors, status=422 if errors else 200)
    if (draft.schema, draft.name, draft.name_en) == (view.schema, view.type.name, view.type.name_en) \
            and _same_meta(draft, view):
        flash(_("Nothing changed, so no new version was saved."), "info")
        return redirect(url_for("record_types.index"))
    confirm = request.form.get("confirm") == "1"
    defaults, input_errors = {}, {}
    if confirm:
        with query() as session:
            form_schema = default_schema(draft.schema, view.schema, request.form.getlist("failing"))
            defaults, input_errors = read_defaults(form_schema, posted_values(), page_lookups(session))
    if input_errors:
        return _page(draft, view=view, report={**_dry_run(key, draft), "input_errors": input_errors}, status=422)
    try:
        with command() as session:
            saved, report = records.change_type(
                session=session, key=key, schema=draft.schema, meta=draft.meta_to_save(),
                actor=current_user.username, name=draft.name, name_en=draft.name_en, defaults=defaults,
                drop_removed=request.form.get("drop_removed") == "on", confirm=confirm, note=draft.note)
            number = saved.version.version
    except Incompatible as exc:
        return _page(draft, view=view, report=exc.details, status=409)
    except RecordError as exc:
        errors, named = domain_errors(exc)
        return _page(draft, view=view, errors=errors, error_field=named, status=422)
    flash(_("Saved version %(n)s of %(name)s.", n=number, name=draft.name) + (" " + _(
        "%(filled)s records got defaults, %(dropped)s lost values of removed fields.",
        filled=report.filled, dropped=report.dropped) if report.filled or report.dropped else ""), "success")
    return redirect(url_for("record_types.index"))


def _dry_run(key: str, draft: Draft) -> dict:
    """Check a change against the stored records without keeping anything; return the report."""
    try:
        with command() as session:
            _saved, report = records.change_type(session=session, key=key, schema=draft.schema,
                                                 meta=draft.meta_to_save(), actor=current_user.username)
            raise Discard
    except Incompatible as exc:
        return exc.details
    except RecordError:
        return {}
    except Discard:
        return report.as_dict()


def _same_meta(draft: Draft, view) -> bool:
    try:
        return check_meta(draft.schema, draft.meta_to_save()) == view.meta
    except RecordError:
        return False


@bp.post("/preview")
def preview():
    """Render a posted schema with the form macros, as an HTML fragment: the designer's live preview."""
    draft, errors = read_draft(request.form)
    with query() as session:
        # Always 200: a schema that does not pass yet is a normal moment while designing, said in the fragment.
        return _preview(draft.schema, page_lookups(session), errors.get("schema", ""))


record_dictionaries.register(bp)

"""Record pages: the CRM menu, lists with filters and columns, a record's page with related lists, and its form."""
from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from diagrams.text import localize
from forms import schema as forms
from forms.schema import FormError
from instances import visibility
from org.instance_access import watch_clause
from records import access as record_access
from records import fields as record_fields
from records import service as records
from records.errors import Forbidden, Invalid, NotFound, StaleEdit
from records.query import OPERATORS, Filter

from ..db import command, query
from ..form_lookups import page_lookups, posted_values
from ..i18n import select_locale
from ..paging import page_arg
from . import record_export
from .documents_links import linked_documents
from .record_display import display_context, list_columns

bp = Blueprint("records", __name__, url_prefix="/records")
PAGE_SIZE = 25


class _Refused(Exception):
    """Raised inside a command so nothing of a refused form is kept."""


def _type_or_404(session, key: str):
    try:
        return records.get_type_or_raise(session=session, key=key)
    except NotFound:
        abort(404)


def _record_or_404(session, key: str, record_id: int, include_deleted: bool = False):
    try:
        return records.get_record_or_raise(session=session, record_id=record_id, actor=current_user.actor,
                                           type_key=key, include_deleted=include_deleted)
    except NotFound:
        abort(404)


@bp.get("/")
@login_required
def index():
    """List the record types with how many records each holds."""
    with query() as session:
        # Only the types the reader may see anything of: for a portal account, the modules its admin enabled.
        views = [v for v in records.list_types(session=session)
                 if not record_access.access(session, current_user.actor, v.key, "view").grant.empty]
        counts = records.counts_by_type(session=session, actor=current_user.actor)
    return render_template("records/index.html", views=views, counts=counts)


def _filters_from_args(view) -> tuple[list[Filter], dict[str, str]]:
    """Read `f.<field>` and `f.<field>__<op>` query parameters into filters."""
    filters, shown = [], {}
    for name, value in request.args.items():
        if not name.startswith("f.") or value == "":
            continue
        field, _sep, op = name[2:].partition("__")
        op = op or "eq"
        if op not in OPERATORS:
            continue
        filters.append(Filter(field, op, value if op not in ("in",) else value.split(",")))
        shown[name] = value
    return filters, shown


@bp.get("/<key>/")
@login_required
def list_page(key: str):
    """List a type's records: search, filter by any field, sort, choose columns, page."""
    deleted = request.args.get("deleted") == "1"
    page = page_arg()
    with query() as session:
        view = _type_or_404(session, key)
        if record_access.access(session, current_user.actor, key, "view").grant.empty:
            abort(403)  # nothing of this type is the reader's to see (a portal module not given, say)
        filters, shown = _filters_from_args(view)
        columns = list_columns(view, request.args.getlist("col"), current_user.actor)
        try:
            view, result = records.list_records(session=session, type_key=key, actor=current_user.actor,
                                                filters=filters, search=request.args.get("q") or None,
                                                sort=request.args.get("sort") or None, page=page,
                                                page_size=PAGE_SIZE, deleted=deleted)
            problem = None
        except Invalid as exc:
            view, result = records.list_records(session=session, type_key=key, actor=current_user.actor,
                                                page_size=PAGE_SIZE, deleted=deleted)
            problem = exc.message
        context = display_context(session, view, result.items, current_user.actor)
        # Buttons only for what the reader may do: a refusal after filling in a form helps nobody.
        may = {"may_create": record_access.may_create(session, current_user.actor, key),
               "may_export": not record_access.access(session, current_user.actor, key, "export").grant.empty}
    titles = {f.name: f.title for f in context["fields"]}
    search_hint = ", ".join(localize(titles[name], select_locale()) for name in
                            [view.meta.get("title_field"), *view.meta.get("search_fields", [])]
                            if name in titles and name)
    choice_filters = [f"f.{f.name}" for f in context["fields"] if f.kind == "choice"][:3]
    sort_options = [("-updated_at", _("Recently updated")), ("-created_at", _("Recently created")),
                    ("title", _("Title"))]
    for f in context["fields"]:
        if f.kind not in ("json", "attachments") and f.name != view.meta.get("title_field"):
            sort_options += [(f.name, f.title), (f"-{f.name}", f"{f.title} ↓")]
    return render_template("records/list.html", view=view, result=result, columns=columns, filters=shown,
                           problem=problem, deleted=deleted, choice_filters=choice_filters,
                           sort_options=sort_options, search_hint=search_hint + '…',
                           page_args=_page_args(shown, deleted),
                           export_args={k: v for k, v in _page_args(shown, False).items() if k != "col"}, **may,
                           **context)


def _page_args(filters: dict, deleted: bool) -> dict:
    args = {k: v for k, v in (("q", request.args.get("q")), ("sort", request.args.get("sort"))) if v}
    if request.args.getlist("col"):
        args["col"] = request.args.getlist("col")
    if deleted:
        args["deleted"] = "1"
    return {**args, **filters}


@bp.get("/<key>/export.<fmt>")
@login_required
def export(key: str, fmt: str):
    """Download the list as filtered on the page, as Excel or CSV, with only what the reader may export."""
    with query() as session:
        view = _type_or_404(session, key)
        filters, _shown = _filters_from_args(view)
    return record_export.export(key, fmt, filters, request.args.get("q") or None, request.args.get("sort") or None)


@bp.get("/<key>/<int:record_id>")
@login_required
def show(key: str, record_id: int):
    """Show a record with its fields, related lists, processes and change history."""
    with query() as session:
        record, view = _record_or_404(session, key, record_id, include_deleted=True)
        related = records.related(session=session, record_id=record_id, actor=current_user.actor) \
            if record.deleted_at is None else []
        empty_related = [(v, ref) for v, ref in records.referencing_types(session=session, type_key=key)
                         if not any(r.type.key == v.key and r.field == ref.path for r in related)]
        # "Add" only where the reader may create: a portal account may read activities it may not add.
        creatable = {k for k in {r.type.key for r in related} | {v.key for v, _ref in empty_related}
                     if record_access.may_create(session, current_user.actor, k)}
        empty_related = [(v, ref) for v, ref in empty_related if v.key in creatable]  # offered to be added
        processes = records.processes(session=session, record_id=record_id, actor=current_user.actor)
        history = records.history(session=session, record_id=record_id, actor=current_user.actor, limit=50)
        context = display_context(session, view, [record, *[i for r in related for i in r.items]],
                                  current_user.actor)
        may_edit, may_delete = _may(session, "edit", record, view), _may(session, "delete", record, view)
        linked = linked_documents(session, "record", record_id, editable=record.deleted_at is None)
        # Processes the reader may not open are named, not linked: the link would only answer "not found".
        readable = visibility.visible_ids(
            session=session, actor=current_user.actor, watch=watch_clause(session, current_user.actor),
            ids=[inst.id for inst, _ in processes] + [e.instance_id for e in history if e.instance_id])
    data = record_fields.visible_data(view, current_user.actor, record.data)
    return render_template("records/show.html", record=record, data=data, view=view, related=related,
                           empty_related=empty_related, processes=processes, history=history,
                           may_edit=may_edit, may_delete=may_delete, linked=linked, readable=readable,
                           creatable=creatable, **context)


def _may(session, what: str, record, view) -> bool:
    return record_access.may(session, current_user.actor, record, view.key, what)


def _editable_schema(view) -> dict:
    """The type's schema cut down to the fields the reader may change (only those are read from the post)."""
    locked = record_fields.not_editable(view, current_user.actor) | record_fields.hidden(view, current_user.actor)
    schema = dict(view.schema)
    schema["properties"] = {k: v for k, v in view.schema["properties"].items() if k not in locked}
    schema["required"] = [k for k in view.schema.get("required", []) if k not in locked]
    return schema


def _posted(view) -> tuple[dict, dict, dict]:
    """Read the posted form: (posted text, typed data, errors by field), references checked as the reader sees them."""
    posted = posted_values()
    with query() as session:
        data, errors = forms.check(_editable_schema(view), posted, lookups=page_lookups(session))
    return posted, data, errors


def _form(view, *, record=None, values=None, errors=None, conflict=None, status=200):
    concealed = record_fields.hidden(view, current_user.actor)
    locked = record_fields.not_editable(view, current_user.actor)
    with query() as session:
        fields = [replace(f, state="readonly") if f.name in locked else f
                  for f in forms.fields(view.schema, page_lookups(session)) if f.name not in concealed]
    return render_template("records/form.html", view=view, record=record, fields=fields, values=values or {},
                           errors=errors or {}, conflict=conflict), status


def _again(view, posted: dict, data: dict | None = None) -> dict:
    """The values to draw a refused form with: what was typed, shaped like stored data."""
    return forms.render_values(view.schema, posted, data or {})


@bp.route("/<key>/new", methods=["GET", "POST"])
@login_required
def new(key: str):
    """Create a record of a type from its form."""
    with query() as session:
        view = _type_or_404(session, key)
        if not record_access.may_create(session, current_user.actor, key):
            abort(403)
    if request.method == "GET":
        prefill = {k: v for k, v in request.args.items() if k in view.schema["properties"]}
        return _form(view, values=prefill)
    posted, data, errors = _posted(view)
    if errors:
        return _form(view, values=_again(view, posted, data), errors=errors, status=422)
    try:
        with command() as session:
            record = records.create_record(session=session, type_key=key, data=data, actor=current_user.actor)
            record_id = record.id
    except FormError as exc:
        return _form(view, values=_again(view, posted, data), errors=exc.errors, status=422)
    except (Invalid, Forbidden) as exc:
        flash(exc.message, "error")
        return _form(view, values=_again(view, posted, data), status=400 if isinstance(exc, Invalid) else 403)
    flash(_("Saved."), "success")
    return redirect(url_for("records.show", key=key, record_id=record_id))


def _form_values(view, record) -> dict:
    values = {}
    concealed = record_fields.hidden(view, current_user.actor)
    for f in forms.fields(view.schema):
        if f.name in concealed:
            continue
        value = (record.data or {}).get(f.name)
        if value is not None:
            values[f.name] = value
    return values


@bp.route("/<key>/<int:record_id>/edit", methods=["GET", "POST"])
@login_required
def edit(key: str, record_id: int):
    """Change a record; an edit against a stale version is refused and shows what changed meanwhile."""
    with query() as session:
        record, view = _record_or_404(session, key, record_id)
        if not _may(session, "edit", record, view):
            abort(403)
        current_values = _form_values(view, record)
    if request.method == "GET":
        return _form(view, record=record, values=current_values)
    posted, data, errors = _posted(view)
    if errors:
        return _form(view, record=record, values=_again(view, posted, data), errors=errors, status=422)
    lock = request.form.get("lock_version", "")
    # Fields the form offers but left empty are cleared; fields of older versions are kept by the service.
    data = {**{name: None for name in _editable_schema(view)["properties"]}, **data}
    try:
        with command() as session:
            records.update_record(session=session, record_id=record_id, data=data, actor=current_user.actor,
                                  lock_version=int(lock) if lock.isdigit() and len(lock) <= 9 else -1)
    except StaleEdit as exc:
        return _form(view, record=record, values=_again(view, posted, data), conflict=exc, status=409)
    except FormError as exc:
        return _form(view, record=record, values=_again(view, posted, data), errors=exc.errors, status=422)
    except Forbidden:
        abort(403)
    flash(_("Saved."), "success")
    return redirect(url_for("records.show", key=key, record_id=record_id))


@bp.post("/<key>/<int:record_id>/delete")
@login_required
def delete(key: str, record_id: int):
    """Move a record to the recycle bin."""
    with command() as session:
        _record_or_404(session, key, record_id)
        try:
            records.delete_record(session=session, record_id=record_id, actor=current_user.actor)
        except Forbidden:
            abort(403)
    flash(_("Moved to the recycle bin. You can restore it from there."), "info")
    return redirect(url_for("records.list_page", key=key))


@bp.post("/<key>/<int:record_id>/restore")
@login_required
def restore(key: str, record_id: int):
    """Bring a record back from the recycle bin."""
    with command() as session:
        _record_or_404(session, key, record_id, include_deleted=True)
        try:
            records.restore_record(session=session, record_id=record_id, actor=current_user.actor)
        except Forbidden:
            abort(403)
    flash(_("Restored."), "success")
    return redirect(url_for("records.show", key=key, record_id=record_id))

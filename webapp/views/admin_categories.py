"""Admin page for process categories: create, rename, reorder, and delete those no process uses."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from definitions import categories
from definitions.errors import DefinitionError

from ..db import command, query
from ..i18n import select_locale
from .admin_common import require_admin, whole_number

bp = Blueprint("admin_categories", __name__, url_prefix="/admin/categories")
bp.before_request(require_admin)


def category_label(category) -> str:
    """Name a category in the reader's language: the Chinese name for Chinese, else the English one."""
    if select_locale() == "zh_CN" or not category.name_en:
        return category.name
    return category.name_en


def category_labels(session) -> dict[str, str]:
    """Return code -> name in the reader's language, for every known category."""
    return {c.code: category_label(c) for c in categories.list_categories(session=session)}


def field_message(exc: DefinitionError) -> tuple[str, str]:
    """Return the field a category refusal is about and what to say about it, in the reader's language."""
    field = exc.details.get("field") or "form"
    problem = exc.details.get("problem") or exc.code
    known = {
        ("code", "required"): _("Enter a code."),
        ("code", "format"): _("Use a letter, then up to 63 letters, digits, “_”, “.” or “-”."),
        ("code", "taken"): _("This code is already used."),
        ("code", "too_long"): _("Use a letter, then up to 63 letters, digits, “_”, “.” or “-”."),
        ("name", "required"): _("Enter a name."),
        ("name", "too_long"): _("Enter a name of at most 200 characters."),
        ("name_en", "too_long"): _("Enter a name of at most 200 characters."),
        ("sort", "range"): _("Enter a whole number from 0 to 1000000."),
        ("code", "category_protected"): _("The category “general” cannot be deleted: processes that name no "
                                          "category belong to it."),
    }
    if (field, problem) == ("code", "category_in_use"):
        return field, ngettext("The category “%(code)s” is used by %(num)s process definition; move it to "
                               "another category before deleting this one.",
                               "The category “%(code)s” is used by %(num)s process definitions; move them to "
                               "another category before deleting this one.",
                               int(exc.details.get("definitions") or 0), code=exc.details.get("code", ""))
    return field, known.get((field, problem), exc.message)


def _page(*, values: dict | None = None, errors: dict | None = None, row_errors: dict | None = None,
          status: int = 200):
    with query() as session:
        rows = categories.list_categories(session=session)
        used = categories.usage(session=session)
    return render_template("admin/categories.html", rows=rows, used=used, values=values or {},
                           errors=errors or {}, row_errors=row_errors or {}, default=categories.DEFAULT), status


@bp.get("/")
def index():
    """List the process categories in catalogue order with a form to add one."""
    return _page()


def _sort_field(errors: dict) -> int | None:
    raw = (request.form.get("sort") or "").strip()
    return whole_number(raw, "sort", errors) if raw else None


@bp.post("/")
def create():
    """Add a process category, or show the form again with its errors."""
    values = {name: request.form.get(name, "") for name in ("code", "name", "name_en", "sort")}
    errors: dict[str, str] = {}
    sort = _sort_field(errors)
    if not errors:
        try:
            with command() as session:
                categories.create_category(session=session, code=values["code"], name=values["name"],
                                           name_en=values["name_en"], sort=sort, actor=current_user.username)
        except DefinitionError as exc:
            field, text = field_message(exc)
            errors[field] = text
    if errors:
        return _page(values=values, errors=errors, status=422)
    flash(_("Category %(code)s added.", code=values["code"].strip()), "success")
    return redirect(url_for("admin_categories.index"))


@bp.post("/<code>")
def update(code: str):
    """Rename a category or change its place in the order."""
    errors: dict[str, str] = {}
    sort = _sort_field(errors)
    if not errors:
        try:
            with command() as session:
                categories.update_category(session=session, code=code, name=request.form.get("name", ""),
                                           name_en=request.form.get("name_en", ""), sort=sort,
                                           actor=current_user.username)
        except DefinitionError as exc:
            if exc.status == "not_found":
                raise
            field, text = field_message(exc)
            errors[field] = text
    if errors:
        return _page(row_errors={code: errors}, status=422)
    flash(_("Category %(code)s saved.", code=code), "success")
    return redirect(url_for("admin_categories.index"))


@bp.post("/<code>/move")
def move(code: str):
    """Move a category one place up or down the catalogue order."""
    offset = -1 if request.form.get("direction") == "up" else 1
    with command() as session:
        categories.move_category(session=session, code=code, offset=offset, actor=current_user.username)
    return redirect(url_for("admin_categories.index"))


@bp.post("/<code>/delete")
def delete(code: str):
    """Delete a category no process uses; say how many use it otherwise."""
    try:
        with command() as session:
            categories.delete_category(session=session, code=code, actor=current_user.username)
    except DefinitionError as exc:
        if exc.status == "not_found":
            raise
        flash(field_message(exc)[1], "danger")
    else:
        flash(_("Category %(code)s deleted.", code=code), "success")
    return redirect(url_for("admin_categories.index"))

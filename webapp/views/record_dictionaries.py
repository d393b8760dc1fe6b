"""Admin pages for dictionaries (数据字典): the named lists of choices that fields pick from."""
from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from records import service as records
from records.errors import NotFound, RecordError

from ..db import command, query

ITEM_INPUT = re.compile(r"^items-(\d{1,6})-(value|label|label_en|active)$")
BLANK_ROWS = 3


def dictionaries():
    """List the dictionaries with how many of their items are offered."""
    with query() as session:
        rows = records.list_dictionaries(session=session)
        return render_template("record_types/dictionaries.html", rows=rows)


def _posted_items(form) -> list[dict]:
    """Gather `items-<n>-<part>` inputs into items in row order, leaving out rows with nothing typed."""
    rows: dict[int, dict] = {}
    for name in form:
        found = ITEM_INPUT.match(name)
        if found:
            rows.setdefault(int(found[1]), {})[found[2]] = form.get(name, "").strip()
    items = []
    for index in sorted(rows):
        row = rows[index]
        if not any(row.get(part) for part in ("value", "label", "label_en")):
            continue
        items.append({"value": row.get("value", ""), "label": row.get("label", ""),
                      "label_en": row.get("label_en", ""), "active": row.get("active") == "on"})
    return items


def _errors(exc: RecordError) -> dict[str, str]:
    where = exc.details.get("field") or "form"
    known = {"name": _("Use 2 to 63 lower-case letters, digits or “_”, starting with a letter."),
             "label": _("Enter a name of at most 200 characters.")}
    return {where: known.get(where, exc.message) if exc.code == "invalid_input" else exc.message}


def dictionary_form(name: str | None):
    """Create a dictionary or edit its label and items (values, Chinese and English labels, on or off)."""
    if request.method == "GET":
        values = {"name": "", "label": "", "label_en": "", "note": "", "items": []}
        if name:
            with query() as session:
                try:
                    row = records.get_dictionary_or_raise(session=session, name=name)
                except NotFound:
                    abort(404)
                values = {"name": row.name, "label": row.label, "label_en": row.label_en, "note": row.note,
                          "items": list(row.items or [])}
        return _page(name, values, {})
    values = {key: request.form.get(key, "").strip() for key in ("name", "label", "label_en", "note")}
    values["name"] = name or values["name"]
    values["items"] = _posted_items(request.form)
    if not name:
        with query() as session:
            if any(d.name == values["name"] for d in records.list_dictionaries(session=session)):
                return _page(name, values, {"name": _("A dictionary with this name exists already.")}, 422)
    try:
        with command() as session:
            records.save_dictionary(session=session, name=values["name"], label=values["label"],
                                    label_en=values["label_en"], items=values["items"], note=values["note"],
                                    actor=current_user.username)
    except RecordError as exc:
        return _page(name, values, _errors(exc), 422)
    flash(_("Saved dictionary %(name)s.", name=values["label"]), "success")
    return redirect(url_for("record_types.dictionaries"))


def _page(name: str | None, values: dict, errors: dict, status: int = 200):
    return render_template("record_types/dictionary_form.html", name=name, values=values, errors=errors,
                           blank_rows=BLANK_ROWS), status


def register(bp) -> None:
    """Add the dictionary pages to the record types blueprint."""
    bp.add_url_rule("/dictionaries", "dictionaries", dictionaries)
    bp.add_url_rule("/dictionaries/new", "dictionary_new", dictionary_form, methods=["GET", "POST"],
                    defaults={"name": None})
    bp.add_url_rule("/dictionaries/<name>/edit", "dictionary_edit", dictionary_form, methods=["GET", "POST"])

"""Export a record list (as filtered on its page) to Excel or CSV, only what the reader may export, and log it."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from flask import Response, abort
from flask_login import current_user
from openpyxl import Workbook

from audit import service as audit
from records import service as records
from records.errors import Invalid, NotFound

from ..db import command, query
from ..i18n import select_locale
from .record_display import visible_fields

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _cell(field, value, titles: dict, chinese: bool):
    """Turn one stored value into a spreadsheet cell: labels for choices, titles for references, text for tables."""
    from diagrams.text import localize
    if value is None:
        return ""
    if field.schema.get("x-reference") and isinstance(value, int):
        return titles.get(value) or f"#{value}"
    if field.kind == "choice":
        return localize(field.label_for(value), "zh" if chinese else "en")
    if isinstance(value, bool):
        return ("是" if value else "否") if chinese else ("yes" if value else "no")
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def export(key: str, fmt: str, filters: list, search: str | None, sort: str | None, actor=None,
           chinese: bool | None = None) -> Response:
    """Build the file of a type's records matching the list's filters, as the reader may export them.

    Pages call it for the signed-in user; the API passes the token's actor and lets domain errors through.
    """
    from diagrams.text import localize
    if fmt not in FORMATS:
        abort(404)
    page_call = actor is None
    actor = actor or current_user.actor
    chinese = (select_locale() == "zh_CN") if chinese is None else chinese
    with query() as session:
        try:
            view, total, rows = records.export_records(session=session, type_key=key, actor=actor,
                                                       filters=filters, search=search, sort=sort)
        except NotFound:
            if not page_call:
                raise
            abort(404)
        except Invalid as exc:
            if not page_call:
                raise
            abort(400, exc.message)
        columns = visible_fields(view, actor)
        header = ["No.", *[localize(f.title, "zh" if chinese else "en") for f in columns], "Owner", "Updated"]
        body = list(rows)
        ref_ids = [v for r in body for f in columns if f.schema.get("x-reference")
                   for v in [(r.data or {}).get(f.name)] if isinstance(v, int)]
        titles = records.titles(session=session, ids=ref_ids)
        table = [[r.id, *[_cell(f, (r.data or {}).get(f.name), titles, chinese) for f in columns], r.owner,
                  r.updated_at.replace(tzinfo=None)] for r in body]
    with command() as session:
        audit.log(session, kind="access", action="export", actor=actor.username, object_type=f"records:{key}",
                  summary=f"{len(table)} of {total} records as {fmt}",
                  after={"q": search or "", "sort": sort or "", "filters": [f"{f.field} {f.op} {f.value}"
                                                                            for f in filters]})
    name = f"{key}-{datetime.now():%Y%m%d-%H%M}.{fmt}"
    disposition = {"Content-Disposition": f"attachment; filename={name}"}
    if fmt == "csv":
        buffer = io.StringIO()
        buffer.write("\ufeff")  # spreadsheet programs read Chinese CSV as UTF-8 only with the mark
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(table)
        return Response(buffer.getvalue(), mimetype=FORMATS[fmt], headers=disposition)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=(view.type.name if chinese else view.type.name_en or view.type.name)[:31])
    sheet.append(header)
    for row in table:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), mimetype=FORMATS[fmt], headers=disposition)


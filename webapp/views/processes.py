"""The catalogue of processes a user may start, and the start form."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from attachments import service as attachments
from definitions import categories
from definitions import service as definitions
from forms import schema as forms
from instances import service

from ..db import command, query
from ..errors import error_response
from ..form_lookups import page_lookups, posted_values
from ..uploads import save_uploads
from .admin_categories import category_label

bp = Blueprint("processes", __name__, url_prefix="/processes")
EMPTY_FORM = {"type": "object", "properties": {}}


@bp.errorhandler(forms.SchemaProblem)
def _broken_form(exc: forms.SchemaProblem):
    # A model may be deployed with a form that breaks the form dialect; say so instead of failing with a 500.
    return error_response(422, "invalid_form_schema",
                          _("The form of this process cannot be used. Ask its designer to fix it: %(why)s",
                            why=str(exc)))


class _Refused(Exception):
    """Raised inside the command so stored uploads roll back with a refused form."""


@bp.get("/")
@login_required
def catalogue():
    """List startable processes grouped by category in the admins' order, with a search box."""
    text = (request.args.get("q") or "").strip().lower()
    with query() as session:
        versions = definitions.list_startable(session=session)
        known = categories.list_categories(session=session)
    if text:
        versions = [v for v in versions if text in v.name.lower() or text in v.key.lower()
                    or text in (v.description or "").lower()]
    order = {c.code: (n, category_label(c)) for n, c in enumerate(known)}
    groups: dict[str, list] = {}
    for version in versions:
        groups.setdefault(version.category, []).append(version)
    # A category no longer in the list (stored before categories were managed) comes last, under its code.
    ranked = sorted(groups, key=lambda code: (order.get(code, (len(order), code))[0], code))
    sections = [(code, order.get(code, (0, code))[1], groups[code]) for code in ranked]
    return render_template("processes/catalogue.html", sections=sections, q=request.args.get("q", ""))


def _start_context(session, key: str):
    version = definitions.get_startable_or_raise(session=session, key=key)
    schema = definitions.get_form(session=session, definition_id=version.id,
                                  form_key=definitions.start_form_key(version))
    return version, schema


@bp.route("/<key>/start", methods=["GET", "POST"])
@login_required
def start(key: str):
    """Show a process's start form and start it; errors are shown next to their fields."""
    with query() as session:
        version, schema = _start_context(session, key)
    errors, values = {}, {}
    if schema is None and request.method == "GET":
        schema = EMPTY_FORM
    if request.method == "POST":
        posted = posted_values()
        form_schema = schema or EMPTY_FORM
        data: dict = {}
        try:
            with command() as session:
                uploads, upload_errors = save_uploads(session, form_schema, current_user.username)
                data, errors = forms.check(form_schema, {**posted, **uploads}, lookups=page_lookups(session))
                errors = {**errors, **upload_errors}
                if errors:
                    raise _Refused()
                extra = {"initiator_superior": current_user.superior} if current_user.superior else {}
                instance = service.start_instance(session=session, key=key, actor=current_user.actor,
                                                  data={**extra, **data},
                                                  business_key=request.form.get("business_key") or None)
                attachments.link(session=session, ids=[i for ids in uploads.values() for i in ids],
                                 actor=current_user.username, instance_id=instance.id)
                instance_id = instance.id
        except _Refused:
            # The transaction rolled back; the form is shown again with what was typed and its errors.
            values = forms.render_values(form_schema, posted, data)
        else:
            flash(_("Your request was submitted."), "success")
            return redirect(url_for("instances.show", instance_id=instance_id))
    elif schema:
        if "manager" in schema.get("properties", {}) and current_user.superior:
            values["manager"] = current_user.superior
    if schema is None:
        abort(404)
    with query() as session:
        fields = forms.fields(schema, page_lookups(session))
    return render_template("processes/start.html", version=version, fields=fields,
                           schema=schema, errors=errors, values=values), (422 if errors else 200)

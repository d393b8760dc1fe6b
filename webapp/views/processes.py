"""The catalogue of processes a user may start, and the start form."""
from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from attachments import service as attachments
from definitions import categories
from definitions import service as definitions
from forms import schema as forms
from instances import service
from instances.errors import InvalidInput, ProcessFailure
from org import service as org

from ..db import command, query
from ..errors import error_response, refused_field
from ..form_lookups import page_lookups, posted_values
from ..refusals import refusal_text
from ..uploads import save_uploads
from . import start_route
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
                    or text in (v.description or "").lower() or text in v.description_in("zh").lower()]
    order = {c.code: (n, category_label(c)) for n, c in enumerate(known)}
    groups: dict[str, list] = {}
    for version in versions:
        groups.setdefault(version.category, []).append(version)
    # A category no longer in the list (stored before categories were managed) comes last, under its code.
    ranked = sorted(groups, key=lambda code: (order.get(code, (len(order), code))[0], code))
    sections = [(code, order.get(code, (0, code))[1], groups[code]) for code in ranked]
    return render_template("processes/catalogue.html", sections=sections, q=request.args.get("q", ""))


def posted_picks(nodes: list[dict]) -> dict[str, list[str]]:
    """Read the pickers of these nodes from the posted form (`picks.<node id>`, names split by commas or spaces)."""
    return {node["id"]: [name for name in re.split(r"[\s,;，；]+", request.form.get(f"picks.{node['id']}") or "")
                         if name] for node in nodes}


def pick_problems(session, nodes: list[dict], picks, *, required: bool = True) -> dict[str, str]:
    """Return {"picks.<node id>": message} for picks a page or the API cannot use; the service checks them again.

    Each picked name must be an active staff user (not a portal user); a "one" node takes one name.
    """
    if picks is None:
        return {}
    if not isinstance(picks, dict):
        return {"picks": _("picks must be an object of node id and user names.")}
    known = {node["id"]: node for node in nodes}
    problems: dict[str, str] = {}
    for node_id, value in picks.items():
        field, node = f"picks.{node_id}", known.get(node_id)
        names = [value] if isinstance(value, str) else value
        if node is None:
            problems[field] = _("%(node)s is not a step whose people are chosen here.", node=node_id)
        elif not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            problems[field] = _("Give a list of user names for %(node)s.", node=node["name"])
        elif len({n.strip() for n in names if n.strip()}) > 1 and not node["many"]:
            problems[field] = _("Choose one person for %(node)s.", node=node["name"])
        else:
            for name in dict.fromkeys(n.strip() for n in names if n.strip()):
                user = org.get_user_by_name(session=session, username=name)
                if user is None or user.status != "active" or user.kind != "staff":
                    problems[field] = _("There is no active colleague %(name)s to handle %(node)s.",
                                        name=name, node=node["name"])
                    break
    for node in [n for n in nodes if not n.get("optional")] if required else ():
        value = picks.get(node["id"])
        if f"picks.{node['id']}" not in problems and not [n for n in ([value] if isinstance(value, str)
                                                                      else value or []) if str(n).strip()]:
            problems[f"picks.{node['id']}"] = _("Choose who handles %(node)s.", node=node["name"])
    return problems


def refuse_picks(session, nodes: list[dict], picks, *, required: bool = True) -> None:
    """Raise InvalidInput naming the first unusable pick (`picks.<node id>`), for the API."""
    problems = pick_problems(session, nodes, picks, required=required)
    if problems:
        field = next(iter(problems))
        node = field.partition(".")[2] or None
        raise InvalidInput(problems[field], details={"field": field, **({"node": node} if node else {})})


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
    nodes = service.pick_nodes(elements=version.elements, model_type=version.model_type)
    errors, values = {}, {}
    picks: dict[str, list[str]] = {}
    route = definitions.route_spec(version)  # a free-flow process: the requester lays out the route
    route_rows = start_route.as_rows(route["steps"]) if route else []
    steps = None
    if request.method == "GET" and request.args.get("reuse") and nodes:
        with query() as session:  # the people of the user's latest request of this process
            known = {node["id"] for node in nodes}
            picks = {k: v for k, v in service.last_picks(session=session, key=key, username=current_user.username
                                                         ).items() if k in known}
    if schema is None:  # a process without a start form still has its pickers to show again
        schema = EMPTY_FORM
    if request.method == "POST":
        posted = {k: v for k, v in posted_values().items() if not k.startswith(("picks.", "route-"))}
        picks = posted_picks(nodes)
        if route:
            steps, route_rows = start_route.posted_route()
        form_schema = schema or EMPTY_FORM
        data: dict = {}
        try:
            with command() as session:
                uploads, upload_errors = save_uploads(session, form_schema, current_user.username)
                data, errors = forms.check(form_schema, {**posted, **uploads}, lookups=page_lookups(session))
                errors = {**errors, **upload_errors, **{field: forms.FieldError("invalid", detail=message)
                                                        for field, message in pick_problems(session, nodes,
                                                                                            picks).items()}}
                if errors:
                    raise _Refused()
                extra = {"initiator_superior": current_user.superior} if current_user.superior else {}
                try:
                    instance = service.start_instance(session=session, key=key, actor=current_user.actor,
                                                      data={**extra, **data},
                                                      business_key=request.form.get("business_key") or None,
                                                      picks={k: v for k, v in picks.items() if v} if nodes else None,
                                                      route=steps)
                except InvalidInput as exc:
                    if not str(exc.details.get("field", "")).startswith("route"):
                        raise
                    errors = {"route": forms.FieldError("invalid", detail=exc.message)}
                    raise _Refused() from None
                except ProcessFailure as exc:
                    # A step that checks the request (a leave balance, the business calendar) names the field.
                    field = refused_field(exc, form_schema)
                    if field is None:
                        raise
                    said = refusal_text(exc.details.get("details") or {}, form_schema)
                    errors = {field: forms.FieldError("invalid",
                                                      detail=said or exc.details.get("reason") or exc.message)}
                    raise _Refused() from None
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
        values.update(forms.defaults(schema))
        if "manager" in schema.get("properties", {}) and current_user.superior:
            values["manager"] = current_user.superior
    with query() as session:
        lookups = page_lookups(session)
        fields = forms.fields(schema, lookups)
        options = lookups.user_options() if nodes or route else []
        route_choices = start_route.choices(session) if route else {}
    if route:  # empty rows to add steps in, for a browser without script
        route_rows = route_rows + [{"name": "", "kind": "users", "who": "", "rule": "single"}] * start_route.BLANK_ROWS
    return render_template("processes/start.html", version=version, fields=fields, schema=schema, errors=errors,
                           values=values, pick_nodes=nodes, picks=picks, user_options=options,
                           reusable=version.model_type == "predefined", route=route, route_rows=route_rows,
                           route_choices=route_choices, rule_labels=start_route.rule_labels()), (
        422 if errors else 200)

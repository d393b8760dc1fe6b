"""Moving a request on the pages: return (退回), take back (撤回), jump (跳转), adding and removing signers."""
from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.moves import JUMP_TYPES
from instances import assists, returns, service, signers
from instances.errors import InstanceError
from org.errors import OrgError

from ..db import command, query
from .instances import _visible_or_404
from .tasks import _refused_here, recipient

bp = Blueprint("moves", __name__)


def jump_targets(version) -> list[tuple[str, str]]:
    """Return the nodes an administrator may move a request to, as (id, name), in the model's order."""
    return [(element_id, info.get("name") or element_id) for element_id, info in (version.elements or {}).items()
            if info.get("type") in JUMP_TYPES]


def _refused(exc: InstanceError, back: str):
    if exc.status not in ("invalid", "conflict", "forbidden"):
        raise exc
    flash(exc.message, "danger")
    return redirect(back)


@bp.post("/tasks/<int:task_id>/return")
@login_required
def return_task(task_id: int):
    """Send the request back from this task to where the returner chose."""
    back = url_for("tasks.show", task_id=task_id)
    try:
        with command() as session:
            instance = returns.return_task(session=session, work_item_id=task_id, actor=current_user.actor,
                                           to=request.form.get("to") or "", comment=request.form.get("comment"),
                                           resume=request.form.get("resume") == "1")
            instance_id = instance.id
    except InstanceError as exc:
        return _refused(exc, back)
    flash(_("The request went back."), "success")
    return redirect(url_for("instances.show", instance_id=instance_id))


@bp.post("/tasks/<int:task_id>/take-back")
@login_required
def take_back(task_id: int):
    """Take back your decision on this task; it waits for you again."""
    with query() as session:
        item = service.get_work_item_or_raise(session=session, work_item_id=task_id, actor=current_user.actor)
        instance_id = item.instance_id
    back = url_for("instances.show", instance_id=instance_id)
    try:
        with command() as session:
            returns.take_back(session=session, work_item_id=task_id, actor=current_user.actor,
                              reason=request.form.get("reason"))
    except InstanceError as exc:
        return _refused(exc, back)
    flash(_("Your decision was taken back: the task waits for you again."), "success")
    return redirect(back)


@bp.post("/instances/<int:instance_id>/jump")
@login_required
def jump(instance_id: int):
    """Move the request to another step (administrators), with a reason."""
    back = url_for("instances.show", instance_id=instance_id)
    raw = (request.form.get("from_task") or "").strip()
    try:
        with command() as session:
            _visible_or_404(session, instance_id)
            returns.jump(session=session, instance_id=instance_id, actor=current_user.actor,
                         to=request.form.get("to") or "", reason=request.form.get("reason"),
                         from_task=int(raw) if raw.isdigit() and len(raw) <= 18 else None)
    except InstanceError as exc:
        return _refused(exc, back)
    flash(_("The request was moved."), "success")
    return redirect(back)


def _names(raw: str) -> list[str]:
    return [name for name in re.split(r"[\s,;，；、]+", raw or "") if name]


def signer_positions(item, elements: dict) -> list[str]:
    """Return how signers may be added to a task: countersigns by their kind, single tasks every way."""
    if item.item is None:
        return list(signers.POSITIONS)
    multi = (elements.get(item.element_id) or {}).get("multi_instance") or {}
    return ["before", "after"] if multi.get("sequential") else ["parallel"]


@bp.post("/tasks/<int:task_id>/add-signers")
@login_required
def add_signers(task_id: int):
    """Add people who must also decide this task."""
    back = url_for("tasks.show", task_id=task_id)
    try:
        with command() as session:
            names = [recipient(session, name, "users") for name in _names(request.form.get("users"))]
            signers.add_signers(session=session, work_item_id=task_id, actor=current_user.actor, users=names,
                                position=request.form.get("position") or "", comment=request.form.get("comment"))
    except (InstanceError, OrgError) as exc:
        return _refused_here(exc, back)
    flash(_("Signers added."), "success")
    return redirect(back)


@bp.post("/tasks/<int:task_id>/remove-signers")
@login_required
def remove_signers(task_id: int):
    """Take signers who have not decided off this task."""
    back = url_for("tasks.show", task_id=task_id)
    try:
        with command() as session:
            signers.remove_signers(session=session, work_item_id=task_id, actor=current_user.actor,
                                   users=_names(request.form.get("users")), comment=request.form.get("comment"))
    except InstanceError as exc:
        return _refused_here(exc, back)
    flash(_("Signers removed."), "success")
    return redirect(back)


@bp.post("/tasks/<int:task_id>/ask-help")
@login_required
def ask_help(task_id: int):
    """Ask colleagues for their input on this task (协办)."""
    back = url_for("tasks.show", task_id=task_id)
    try:
        with command() as session:
            names = [recipient(session, name, "users") for name in _names(request.form.get("users"))]
            assists.ask_for_help(session=session, work_item_id=task_id, actor=current_user.actor, users=names,
                                 comment=request.form.get("comment"))
    except (InstanceError, OrgError) as exc:
        return _refused_here(exc, back)
    flash(_("Your colleagues were asked for their input."), "success")
    return redirect(back)


@bp.post("/tasks/<int:task_id>/withdraw-help")
@login_required
def withdraw_help(task_id: int):
    """Withdraw a request for help nobody has answered yet."""
    back = url_for("tasks.show", task_id=task_id)
    try:
        with command() as session:
            assists.withdraw_help(session=session, work_item_id=task_id, actor=current_user.actor,
                                  users=_names(request.form.get("users")))
    except InstanceError as exc:
        return _refused_here(exc, back)
    flash(_("The request for help was withdrawn."), "info")
    return redirect(back)

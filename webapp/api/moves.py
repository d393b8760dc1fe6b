"""Moving requests through the API: return (退回), take back (撤回), jump (跳转), adding and removing signers."""
from __future__ import annotations

from flask import jsonify

from instances import assists, returns, service, signers
from instances.errors import InvalidInput

from ..db import command
from ..views.tasks import recipient
from . import bp
from .common import instance_json, json_body, me, task_json, text_field

TASK_ID = "<int:task_id>"


@bp.get(f"/tasks/{TASK_ID}/return-targets")
def return_targets(task_id: int):
    """Say where an open task may be returned to, nearest first, and the node's resubmission policy."""
    with command() as session:
        out = returns.return_choices(session=session, work_item_id=task_id, actor=me().actor)
    return jsonify(out)


def _flag(body: dict, name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise InvalidInput(f"{name} must be true or false", details={"field": name})
    return value


@bp.post(f"/tasks/{TASK_ID}/return")
def return_task(task_id: int):
    """Send a request back from an open task to the previous step, an earlier step or the initiator."""
    body = json_body({"to", "comment", "resume"}, required=("to", "comment"))
    with command() as session:
        instance = returns.return_task(session=session, work_item_id=task_id, actor=me().actor,
                                       to=text_field(body, "to", limit=200) or "", comment=text_field(body, "comment"),
                                       resume=_flag(body, "resume"))
        out = {"instance": instance_json(instance),
               "open_tasks": [task_json(i) for i in service.list_open_work_items(session=session,
                                                                                 instance_id=instance.id)]}
    return jsonify(out)


@bp.post(f"/tasks/{TASK_ID}/take-back")
def take_back(task_id: int):
    """Take back one's decision on a task while nobody after it has acted; the task waits again."""
    body = json_body({"reason"})
    with command() as session:
        instance = returns.take_back(session=session, work_item_id=task_id, actor=me().actor,
                                     reason=text_field(body, "reason"))
        out = {"instance": instance_json(instance),
               "open_tasks": [task_json(i) for i in service.list_open_work_items(session=session,
                                                                                 instance_id=instance.id)]}
    return jsonify(out)


@bp.post("/instances/<int:instance_id>/jump")
def jump(instance_id: int):
    """Move a request to any step (administrators), with a reason; from_task names the task that moves."""
    body = json_body({"to", "reason", "from_task"}, required=("to", "reason"))
    from_task = body.get("from_task")
    if from_task is not None and (not isinstance(from_task, int) or isinstance(from_task, bool)):
        raise InvalidInput("from_task must be a task id", details={"field": "from_task"})
    with command() as session:
        instance = returns.jump(session=session, instance_id=instance_id, actor=me().actor,
                                to=text_field(body, "to", limit=200) or "", reason=text_field(body, "reason"),
                                from_task=from_task)
        out = {"instance": instance_json(instance),
               "open_tasks": [task_json(i) for i in service.list_open_work_items(session=session,
                                                                                 instance_id=instance.id)]}
    return jsonify(out)


def _people(body: dict) -> list:
    users = body.get("users")
    if not isinstance(users, list) or not users or len(users) > signers.MAX_SIGNERS:
        raise InvalidInput(f"users must be a list of 1 to {signers.MAX_SIGNERS} user names", details={"field": "users"})
    return users


def _moved(session, instance) -> dict:
    return {"instance": instance_json(instance),
            "open_tasks": [task_json(i) for i in service.list_open_work_items(session=session, instance_id=instance.id)]}


@bp.post(f"/tasks/{TASK_ID}/add-signers")
def add_signers(task_id: int):
    """Add people who must also decide a task (加签): before, after or alongside its holder."""
    body = json_body({"users", "position", "comment"}, required=("users", "position"))
    users = _people(body)
    with command() as session:
        names = [recipient(session, name, "users") if isinstance(name, str) else name for name in users]
        instance = signers.add_signers(session=session, work_item_id=task_id, actor=me().actor, users=names,
                                       position=text_field(body, "position", limit=20) or "",
                                       comment=text_field(body, "comment"))
        out = _moved(session, instance)
    return jsonify(out)


@bp.post(f"/tasks/{TASK_ID}/remove-signers")
def remove_signers(task_id: int):
    """Take added signers or countersign members who have not decided off a task (减签)."""
    body = json_body({"users", "comment"}, required=("users",))
    with command() as session:
        instance = signers.remove_signers(session=session, work_item_id=task_id, actor=me().actor,
                                          users=_people(body), comment=text_field(body, "comment"))
        out = _moved(session, instance)
    return jsonify(out)


@bp.post(f"/tasks/{TASK_ID}/ask-help")
def ask_help(task_id: int):
    """Ask colleagues for their input on a task (协办); the caller decides once they answered."""
    body = json_body({"users", "comment"}, required=("users",))
    users = _people(body)
    with command() as session:
        names = [recipient(session, name, "users") if isinstance(name, str) else name for name in users]
        helpers = assists.ask_for_help(session=session, work_item_id=task_id, actor=me().actor, users=names,
                                       comment=text_field(body, "comment"))
        out = {"helpers": [task_json(h) for h in helpers]}
    return jsonify(out)


@bp.post(f"/tasks/{TASK_ID}/withdraw-help")
def withdraw_help(task_id: int):
    """Withdraw requests for help on a task that nobody has answered yet."""
    body = json_body({"users"}, required=("users",))
    with command() as session:
        instance = assists.withdraw_help(session=session, work_item_id=task_id, actor=me().actor,
                                         users=_people(body))
        out = _moved(session, instance)
    return jsonify(out)

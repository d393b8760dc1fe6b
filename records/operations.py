"""Service operations that let a process create, update and link records inside the engine's transaction."""
from __future__ import annotations

from definitions.service import OPERATIONS
from engine.errors import ServiceError
from forms.schema import FormError
from instances.actors import Actor
from instances.context import current_command

from .errors import RecordError

RESERVED = {"type", "record", "owner", "result", "fields"}


def _command():
    command = current_command()
    if command is None:
        raise ServiceError("record operations run only inside a Flowdesk command (start, task, timer or message)")
    return command


def _fields(params: dict) -> dict:
    fields = params.get("fields") or {}
    if not isinstance(fields, dict):
        raise ServiceError("the 'fields' parameter must be a mapping of field names to values")
    return {**fields, **{k: v for k, v in params.items() if k not in RESERVED}}


def _process_actor(actor: Actor) -> Actor:
    # The process design, not the clicking user's own record rights, decides what a step writes;
    # the history still names the person whose action ran the step.
    return Actor(actor.username, actor.groups, is_admin=True)


def _explain(exc: Exception) -> str:
    if isinstance(exc, FormError):
        return "; ".join(f"{name}: {error}" for name, error in exc.errors.items())
    return exc.message if isinstance(exc, RecordError) else str(exc)


def _record_id(params: dict) -> int:
    value = params.get("record")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ServiceError(f"the 'record' parameter must be a record id, not {value!r}") from None


@OPERATIONS.register("record.create")
def create(*, params: dict, data: dict) -> dict:
    """Create a record of `type` from the other parameters (or `fields`); its id goes to `result` (default <type>_id)."""
    from .records import create_record, link_process

    command = _command()
    type_key = params.get("type")
    if not isinstance(type_key, str):
        raise ServiceError("record.create needs a 'type' parameter naming the record type")
    try:
        record = create_record(session=command.session, type_key=type_key, data=_fields(params),
                               actor=_process_actor(command.actor), owner=params.get("owner") or None,
                               instance_id=command.instance_id)
    except (RecordError, FormError) as exc:
        raise ServiceError(f"cannot create the {type_key} record: {_explain(exc)}") from None
    if command.instance_id is None:  # started by this command: link once the instance row exists
        command.after_save.append(lambda instance: link_process(session=command.session, record_id=record.id,
                                                                instance_id=instance.id, relation="created"))
    return {str(params.get("result") or f"{type_key}_id"): int(record.id)}


@OPERATIONS.register("record.update")
def update(*, params: dict, data: dict) -> dict:
    """Change fields of the record with id `record` from the other parameters (or `fields`)."""
    from .records import link_process, update_record

    command = _command()
    record_id = _record_id(params)
    try:
        update_record(session=command.session, record_id=record_id, data=_fields(params),
                      actor=_process_actor(command.actor), lock_version=None, instance_id=command.instance_id)
    except (RecordError, FormError) as exc:
        raise ServiceError(f"cannot update record {record_id}: {_explain(exc)}") from None
    if command.instance_id is None:
        command.after_save.append(lambda instance: link_process(session=command.session, record_id=record_id,
                                                                instance_id=instance.id, relation="updated"))
    return {}


@OPERATIONS.register("record.link")
def link(*, params: dict, data: dict) -> dict:
    """List this process on the page of the record with id `record`."""
    from .records import get_record_or_raise, link_process

    command = _command()
    record_id = _record_id(params)
    try:
        get_record_or_raise(session=command.session, record_id=record_id, actor=_process_actor(command.actor))
    except RecordError as exc:
        raise ServiceError(f"cannot link record {record_id}: {_explain(exc)}") from None

    def _link(instance) -> None:
        link_process(session=command.session, record_id=record_id, instance_id=instance.id, relation="linked")

    if command.instance_id is None:
        command.after_save.append(_link)
    else:
        link_process(session=command.session, record_id=record_id, instance_id=command.instance_id,
                     relation="linked")
    return {}

"""What the demo loaders share: start a request from its form, and walk it through listed steps.

A step is (element, user, data, comment) to complete that user's task with the data, checked against the
task's form, or ("return", user, element, comment) to send it back to the initiator.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from definitions import service as definitions
from definitions.errors import DefinitionNotFound
from forms import schema as forms
from instances import returns, service
from instances.models import ProcessInstance, WorkItem
from org import service as org


def actor(session: Session, username: str):
    """Return the actor of a demo user."""
    return org.actor_for(org.get_user_or_raise(session=session, username=username))


def form(session: Session, key: str, name: str | None) -> dict | None:
    """Return a form of the startable version of a process, or None."""
    if not name:
        return None
    version = definitions.get_startable_or_raise(session=session, key=key)
    text = version.file_map().get(name)
    return forms.load_schema(text, name) if text else None


def open_task(session: Session, instance_id: int, element: str, username: str) -> WorkItem:
    """Return the open task of an element that the user holds or may claim."""
    for item in service.list_open_work_items(session=session, instance_id=instance_id):
        if item.element_id == element and (item.assignee == username or username in (item.candidate_users or [])):
            return item
    raise LookupError(f"demo: no open {element} task for {username} in request {instance_id}")


def take_step(session: Session, key: str, instance: ProcessInstance, step: tuple) -> None:
    """Complete or return one task of a demo request."""
    if step[0] == "return":
        _, username, element, comment = step
        item = open_task(session, instance.id, element, username)
        returns.return_task(session=session, work_item_id=item.id, actor=actor(session, username), to="initiator",
                            comment=comment)
        return
    element, username, data, comment = step
    item = open_task(session, instance.id, element, username)
    schema = form(session, key, item.form_key)
    checked = forms.validate(schema, data, context=instance.data) if schema else data
    service.complete_task(session=session, work_item_id=item.id, actor=actor(session, username), data=checked,
                          comment=comment if comment is not None else data.get("comment"))


def start_request(session: Session, key: str, username: str, data: dict) -> ProcessInstance | None:
    """Start a demo request from its start form's data; None when the process is not deployed here."""
    try:
        version = definitions.get_startable_or_raise(session=session, key=key)
    except DefinitionNotFound:
        return None
    schema = form(session, key, definitions.start_form_key(version))
    checked = forms.validate(schema, data) if schema else data
    return service.start_instance(session=session, key=key, actor=actor(session, username), data=checked)

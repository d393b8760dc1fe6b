"""Shared steps of the shipped-process scenario tests: deploy a bundle, start, act, return and look around.

Every start and task post goes through its JSON form first (`forms.schema.validate`), as the web app's
`check_form` does, so computed totals are filled and a bad example fails the test rather than the engine.
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select

from definitions import service as definitions
from definitions.bundle import read_path
from diagrams import progress_from_history, render_definition
from forms import schema as forms
from instances import returns, service
from instances.models import HistoryEvent, ProcessInstance, WorkItem
from org import service as org
from org.demo import load_demo
from org.directory import install
from records import service as records
from tests.conftest import ROOT
from tests.snapshots import prepared

BPMN = ROOT / "bpmn"


def bundle(key: str) -> dict[str, bytes]:
    """Return the files of a shipped process bundle."""
    return read_path(BPMN / key)


def form(key: str, name: str) -> dict:
    """Return a form of a shipped bundle, checked by the form dialect."""
    return forms.load_schema(bundle(key)[name], name)


def deploy(db, key: str, *, extra_users: tuple = ()) -> None:
    """Load the demo organisation (plus `extra_users` as save_user keyword dicts), deploy the bundle, install the directory."""
    def build(database) -> None:
        with database.command() as session:
            load_demo(session=session)
            records.install_core_types(session=session)  # processes write records (attendance, complaints, ...)
            for user in extra_users:
                org.save_user(session=session, user=None, **user)
            version, _ = definitions.deploy(session=session, files=bundle(key), actor="admin")
            assert version.report.get("issues") == [], version.report
            assert version.status == "published"

    prepared(db, f"process {key} {extra_users!r}", build)
    install(db)


def actor(db, username: str):
    """Return the Actor of a user of the organisation, with their roles and department."""
    with db.query() as session:
        return org.actor_for(org.get_user_or_raise(session=session, username=username))


def start(db, key: str, who: str, data: dict, start_form: str | None = None) -> int:
    """Check the start data against the start form and start an instance as `who`; return its id."""
    checked = forms.validate(form(key, start_form or f"{key}_form.json"), data)
    with db.command() as session:
        return service.start_instance(session=session, key=key, actor=actor(db, who), data=checked).id


def items(db, iid: int) -> list[WorkItem]:
    with db.query() as session:
        return list(session.scalars(select(WorkItem).where(WorkItem.instance_id == iid).order_by(WorkItem.id)))


def _holder(item: WorkItem):
    return item.assignee or tuple(sorted(item.candidate_users or [])) or tuple(sorted(item.candidate_groups or []))


def waiting(db, iid: int) -> list[tuple]:
    """Return the open work items as sorted (element, assignee or candidate tuple)."""
    return sorted(((i.element_id, _holder(i)) for i in items(db, iid) if i.status == "open"), key=str)


def open_item(db, iid: int, element: str, who: str) -> WorkItem:
    found = [i for i in items(db, iid) if i.status == "open" and i.element_id == element
             and (i.assignee == who or (i.assignee is None and who in (i.candidate_users or [])))]
    assert found, f"{who} has no open {element} task; open: {waiting(db, iid)}"
    return found[0]


def data_of(db, iid: int) -> dict:
    with db.query() as session:
        return dict(session.get(ProcessInstance, iid).data or {})


def act(db, iid: int, element: str, who: str, data: dict | None = None, comment: str | None = None) -> str:
    """Check `data` against the task's form (with the instance's data as context) and complete the task as `who`."""
    item = open_item(db, iid, element, who)
    posted = dict(data or {})
    if item.form_key and item.kind == "task":
        key = _key_of(db, iid)
        posted = forms.validate(form(key, item.form_key), posted, context=data_of(db, iid))
    with db.command() as session:
        return service.complete_task(session=session, work_item_id=item.id, actor=actor(db, who), data=posted,
                                     comment=comment).status


def approve(db, iid: int, element: str, who: str, comment: str = "同意 / Approved") -> str:
    return act(db, iid, element, who, {"decision": "approve", "comment": comment}, comment=comment)


def reject(db, iid: int, element: str, who: str, comment: str = "不同意 / Not approved") -> str:
    return act(db, iid, element, who, {"decision": "reject", "comment": comment}, comment=comment)


def send_back(db, iid: int, element: str, who: str, to: str = "initiator", comment: str = "请补充材料") -> str:
    """Return (退回) the open task of `who` at `element` to `to` with a comment."""
    item = open_item(db, iid, element, who)
    with db.command() as session:
        return returns.return_task(session=session, work_item_id=item.id, actor=actor(db, who), to=to,
                                   comment=comment).status


def resubmit(db, iid: int, who: str, data: dict, comment: str = "已修改 / Revised") -> str:
    """Resubmit a returned request as its initiator with revised start data (checked by the start form)."""
    key = _key_of(db, iid)
    [item] = [i for i in items(db, iid) if i.status == "open" and i.kind == "resubmit"]
    assert item.assignee == who
    checked = forms.validate(form(key, f"{key}_form.json"), data)
    with db.command() as session:
        return service.complete_task(session=session, work_item_id=item.id, actor=actor(db, who), data=checked,
                                     comment=comment).status


def wake(db, iid: int, now: datetime) -> bool:
    with db.command() as session:
        return service.wake_instance(session=session, instance_id=iid, now=now)


def status(db, iid: int) -> str:
    with db.query() as session:
        return session.get(ProcessInstance, iid).status


def history(db, iid: int, kind: str | None = None) -> list[HistoryEvent]:
    with db.query() as session:
        events = service.list_history(session=session, instance_id=iid)
        for event in events:
            session.expunge(event)
        return [e for e in events if kind in (None, e.type)]


def done(db, iid: int) -> list[tuple[str, str | None, str | None]]:
    """Return the finished tasks as (element, completed_by, decision), in order."""
    return [(i.element_id, i.completed_by, i.decision) for i in items(db, iid) if i.status == "completed"]


def skipped(db, iid: int) -> list[tuple[str, str]]:
    """Return the skipped steps as (element, reason)."""
    return [(e.element_id, e.details.get("reason")) for e in history(db, iid, "task_skipped")]


def _key_of(db, iid: int) -> str:
    with db.query() as session:
        return session.get(ProcessInstance, iid).definition_key


def realistic(schema: dict, data: dict, context: dict | None = None) -> dict:
    """Validate an example against a form (a task form sees the instance data as `context`); check it is JSON."""
    checked = forms.validate(schema, data, context=context)
    json.dumps(checked)
    return checked


def progress_svg(db, iid: int, lang: str = "zh") -> tuple[str, dict]:
    """Render an instance's deployed model with its progress, as the web app's instance view does."""
    with db.query() as session:
        instance = session.get(ProcessInstance, iid)
        version = definitions.get_version_or_raise(session=session, definition_id=instance.definition_id)
        events = [{"type": h.type, "element_id": h.element_id, "actor": h.actor, "at": h.at,
                   "details": h.details or {}} for h in service.list_history(session=session, instance_id=iid)]
        open_items = [{"element_id": i.element_id, "assignee": i.assignee, "candidate_users": i.candidate_users,
                       "candidate_groups": i.candidate_groups, "created_at": i.created_at}
                      for i in service.list_open_work_items(session=session, instance_id=iid)]
        progress = progress_from_history(events, open_items, {"timers": [], "error": None})
        return render_definition(version.file_map(), version.primary_process_id, progress=progress,
                                 lang=lang), progress

"""A user task's dueDate duration counts working time in the business calendar of the person it is for."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from definitions import service as definitions
from instances import directory, service
from instances.errors import ProcessFailure
from org import service as org
from org import workcal_store
from org.demo import load_demo
from org.directory import install

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 9, 30, 17, tzinfo=SH)  # a Wednesday, the day before the National Day holiday
TASKS = {  # element id: (assignee, candidate groups, dueDate)
    "t_days": ("wang.fang", "", "P2D"),
    "t_hours": ("wang.fang", "", "PT6H"),
    "t_group": ("", "finance", "PT2H"),
    "t_finance": ("zhao.lei", "", "PT2H"),
    "t_helper": ("wang.fang", "", "${workdays(1)}"),
    "t_delta": ("wang.fang", "", "${days(2)}"),
    "t_fixed": ("wang.fang", "", "2026-10-03T10:00:00+08:00"),
}


def bpmn(tasks: dict) -> bytes:
    nodes, flows = [], []
    for n, (element, (assignee, groups, due)) in enumerate(tasks.items()):
        who = (f' camunda:assignee="{assignee}"' if assignee else "") + \
            (f' camunda:candidateGroups="{groups}"' if groups else "")
        nodes.append(f'<bpmn:userTask id="{element}" name="{element}"{who} camunda:dueDate="{due}" '
                     f'camunda:followUpDate="PT1H"/>')
        flows.append(f'<bpmn:sequenceFlow id="in{n}" sourceRef="fork" targetRef="{element}"/>'
                     f'<bpmn:sequenceFlow id="out{n}" sourceRef="{element}" targetRef="join"/>')
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="https://flowdesk.example/tests">
  <bpmn:process id="due_working" name="due_working" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:parallelGateway id="fork"/>
    {''.join(nodes)}
    <bpmn:parallelGateway id="join"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="fork"/>
    {''.join(flows)}
    <bpmn:sequenceFlow id="f9" sourceRef="join" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


@pytest.fixture
def org_db(db, monkeypatch):
    """The demo organisation as the directory; 国庆 2026 in the organisation's calendar; sales works 10-12, 14-19."""
    monkeypatch.setattr(service, "utcnow", lambda: NOW.astimezone(timezone.utc))
    with db.command() as session:
        load_demo(session=session)
        workcal_store.add_exceptions(session=session, department=None, first="2026-10-01", last="2026-10-07",
                               kind="holiday", name="国庆节")
        workcal_store.save_calendar(session=session, department="sales", zone="Asia/Shanghai", weekdays="12345",
                              periods="10:00-12:00, 14:00-19:00")
        definitions.deploy(session=session, files={"due_working.bpmn": bpmn(TASKS)}, actor="designer")
    install(db)
    yield db
    directory.set_directory(None)


def start(db, username: str = "wang.fang") -> dict:
    with db.command() as session:
        actor = org.actor_for(org.get_user_or_raise(session=session, username=username))
        instance = service.start_instance(session=session, key="due_working", actor=actor, data={})
    with db.query() as session:
        return {i.element_id: i for i in service.list_open_work_items(session=session, instance_id=instance.id)}


def test_durations_count_working_time_in_the_assignees_department_calendar(org_db):
    items = start(org_db)
    due = {element: item.due_at.astimezone(SH) for element, item in items.items()}
    assert due["t_days"] == datetime(2026, 10, 9, 17, tzinfo=SH)  # two working days after the holiday week
    assert due["t_hours"] == datetime(2026, 10, 8, 16, tzinfo=SH)  # 17-19, then 10-12 and 14-16 (sales hours)
    assert due["t_group"] == datetime(2026, 9, 30, 19, tzinfo=SH)  # no assignee: the initiator's (sales) calendar
    assert due["t_finance"] == datetime(2026, 10, 8, 10, tzinfo=SH)  # finance has none: the organisation's
    assert due["t_helper"] == datetime(2026, 10, 8, 17, tzinfo=SH)
    assert due["t_delta"] == datetime(2026, 10, 2, 17, tzinfo=SH)  # a timedelta stays calendar time
    assert due["t_fixed"] == datetime(2026, 10, 3, 10, tzinfo=SH)  # so does a date-time, holiday or not
    assert items["t_days"].follow_up_at.astimezone(SH) == datetime(2026, 9, 30, 18, tzinfo=SH)


def test_without_a_directory_durations_are_calendar_time(org_db):
    directory.set_directory(None)
    due = {element: item.due_at for element, item in start(org_db).items()}
    assert due["t_days"] == NOW + timedelta(days=2)
    assert due["t_hours"] == NOW + timedelta(hours=6)


def test_a_bad_duration_fails_the_start_naming_the_task(org_db):
    with org_db.command() as session:
        definitions.deploy(session=session, files={"due_working.bpmn": bpmn({"t_bad": ("wang.fang", "", "P900D")})},
                           actor="designer")
    with pytest.raises(ProcessFailure) as caught:
        start(org_db)
    assert caught.value.details["element_id"] == "t_bad"
    assert "due date 'P900D'" in caught.value.details["reason"] and "too long" in caught.value.details["reason"]

"""Complaint handling (投诉处理): register, grade, dispatch, handle, reply, survey, close; the record follows."""
from __future__ import annotations

import json
import re
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from database.base import utcnow
from definitions import service as definitions
from definitions.bundle import read_path
from diagrams import progress_from_history, render_definition
from forms import schema as forms
from instances import directory, service
from instances.actors import Actor
from instances.models import ProcessInstance, WorkItem
from instances.overdue import run_overdue_actions
from org import grants
from org import service as org
from org.demo import load_demo
from org.directory import install
from records import service as records
from records.demo import load_demo_records
from records.models import Record, RecordType
from tests.conftest import ROOT

KEY = "complaint_handling"
ADMIN = Actor("admin", is_admin=True)


# -- helpers the other process tests share ------------------------------------------------------------
def bundle(key: str) -> dict[str, bytes]:
    """Read a shipped process bundle."""
    return read_path(ROOT / "bpmn" / key)


def setup_crm(db, *keys: str) -> None:
    """Load the demo organisation, the core record types with the default grants, the demo customers and
    deploy the shipped processes; register the org directory."""
    with db.command() as session:
        load_demo(session=session)
        records.install_core_types(session=session)
        grants.install_default_grants(session=session)
        load_demo_records(session=session)
        for key in keys:
            version, _ = definitions.deploy(session=session, files=bundle(key), actor="admin")
            assert version.report.get("issues") == [], version.report
    install(db)


def actor(db, username: str) -> Actor:
    """Return the Actor a demo user acts as (roles, department, groups)."""
    with db.query() as session:
        return org.actor_for(org.get_user_or_raise(session=session, username=username))


def record_id(db, type_key: str, **match) -> int:
    """Return the id of the one live record of a type whose data has these values."""
    with db.query() as session:
        rows = session.scalars(select(Record).join(RecordType, RecordType.id == Record.type_id)
                               .where(RecordType.key == type_key, Record.deleted_at.is_(None)))
        found = [r.id for r in rows if all(r.data.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (type_key, match, found)
    return found[0]


def records_of(db, type_key: str) -> list[Record]:
    """Return the live records of a type, oldest first."""
    with db.query() as session:
        return list(session.scalars(select(Record).join(RecordType, RecordType.id == Record.type_id)
                                    .where(RecordType.key == type_key, Record.deleted_at.is_(None))
                                    .order_by(Record.id)))


def record(db, rid: int) -> dict:
    """Return a record's data."""
    with db.query() as session:
        found, _view = records.get_record_or_raise(session=session, record_id=rid, actor=ADMIN)
        return dict(found.data)


def record_processes(db, rid: int) -> list[tuple[int, str]]:
    """Return (instance id, relation) of the processes listed on a record's page."""
    with db.query() as session:
        return sorted((i.id, rel) for i, rel in records.processes(session=session, record_id=rid, actor=ADMIN))


def record_changes(db, rid: int) -> list[dict]:
    """Return a record's field changes, oldest first."""
    with db.query() as session:
        return [c.changes for c in reversed(records.history(session=session, record_id=rid, actor=ADMIN))]


def posted(key: str, form_name: str | None, data: dict) -> dict:
    """Check data against a form of the bundle as the web app does, and return it as the form cleans it."""
    if not form_name:
        return data
    return forms.validate(forms.load_schema(bundle(key)[form_name], form_name), data)


def start(db, key: str, who: str, data: dict, form: str | None = None) -> int:
    """Start a process as a demo user (the data checked against its start form); return the instance id."""
    data = posted(key, form, data)
    with db.command() as session:
        return service.start_instance(session=session, key=key, actor=actor(db, who), data=data).id


def waiting(db, iid: int) -> list[tuple[str, str | None]]:
    """Return (element, assignee) of an instance's open work items."""
    with db.query() as session:
        return [(i.element_id, i.assignee) for i in service.list_open_work_items(session=session, instance_id=iid)]


def open_item(db, iid: int, element: str, assignee: str | None = None) -> WorkItem:
    """Return the one open work item of an element (of one assignee, for a countersign)."""
    with db.query() as session:
        [item] = [i for i in service.list_open_work_items(session=session, instance_id=iid)
                  if i.element_id == element and (assignee is None or i.assignee == assignee)]
        return item


def complete(db, iid: int, element: str, who: str, data: dict | None = None, *, mine: bool = False,
             **kw) -> ProcessInstance:
    """Complete the open work item of an element as a demo user (`mine`: the one assigned to them); the data is
    checked against its form as the web app checks a post."""
    item = open_item(db, iid, element, who if mine else None)
    if item.form_key:
        key = instance(db, iid).definition_key
        checked = posted(key, item.form_key, {**(data or {}), **({"decision": kw["decision"]} if "decision" in kw else {})})
        data = {k: v for k, v in checked.items() if k != "decision" or "decision" not in kw}
    with db.command() as session:
        return service.complete_task(session=session, work_item_id=item.id, actor=actor(db, who),
                                     data=data or {}, **kw)


def instance(db, iid: int) -> ProcessInstance:
    """Return an instance row."""
    with db.query() as session:
        return session.get(ProcessInstance, iid)


def history(db, iid: int) -> list[tuple[str, str | None, str | None]]:
    """Return (type, element, actor) of an instance's history, oldest first."""
    with db.query() as session:
        return [(h.type, h.element_id, h.actor) for h in service.list_history(session=session, instance_id=iid)]


def completed_steps(db, iid: int) -> list[tuple[str, str]]:
    """Return (element, actor) of the completed tasks, in order."""
    return [(e, a) for t, e, a in history(db, iid) if t == "task_completed"]


def items(db, iid: int) -> list[WorkItem]:
    """Return every work item of an instance, oldest first."""
    with db.query() as session:
        return list(session.scalars(select(WorkItem).where(WorkItem.instance_id == iid).order_by(WorkItem.id)))


def later(days: int = 60):
    """A moment long after any task created now is due, even over a long holiday."""
    return utcnow() + timedelta(days=days)


def forms_of(key: str) -> dict[str, dict]:
    """Load every form of a shipped bundle."""
    return {name: forms.load_schema(text, name) for name, text in bundle(key).items()
            if name.endswith(".json") and name != "process.json"}


NODE = re.compile(r'<bpmn:(userTask|serviceTask|scriptTask|exclusiveGateway|startEvent|endEvent|boundaryEvent|'
                  r'intermediateCatchEvent)\s+id="([^"]+)"[^>]*?name="([^"]*)"', re.S)


def check_model(key: str) -> None:
    """The bundle's model is executable and laid out, every flow is wired and every node named 'English / 中文'."""
    text = bundle(key)[f"{key}.bpmn"].decode("utf-8")
    flows = dict((m[0], (m[1], m[2])) for m in re.findall(
        r'<bpmn:sequenceFlow id="([^"]+)"[^>]*?sourceRef="([^"]+)" targetRef="([^"]+)"', text))
    assert set(re.findall(r"<bpmn:(?:incoming|outgoing)>([^<]+)<", text)) == set(flows)
    nodes = {node_id: (kind, name) for kind, node_id, name in NODE.findall(text)}
    assert len(nodes) == len(re.findall(r'<bpmn:(?:userTask|serviceTask|scriptTask|exclusiveGateway|startEvent|'
                                        r'endEvent|boundaryEvent|intermediateCatchEvent)\s', text))
    for node_id, (kind, name) in nodes.items():
        assert " / " in name, f"{node_id}: name {name!r} is not 'English / 中文'"
        if kind != "endEvent":
            assert any(source == node_id for source, _ in flows.values()), f"{node_id} leads nowhere"
    for source, target in flows.values():
        assert source in nodes and target in nodes
    assert 'isExecutable="true"' in text and "<bpmndi:BPMNDiagram" in text


def check_forms(key: str, examples: dict[str, dict]) -> None:
    """Every form of the bundle has an example that validates, its titles and choices are bilingual, and so is
    the model."""
    check_model(key)
    loaded = forms_of(key)
    assert set(loaded) == set(examples)
    for name, example in examples.items():
        assert " / " in loaded[name]["title"], name
        for field, spec in loaded[name]["properties"].items():
            assert " / " in spec.get("title", ""), (name, field)
            assert all(" / " in label for label in spec.get("enumNames", [])), (name, field)
        forms.validate(loaded[name], example)
    meta = json.loads(bundle(key)["process.json"])
    assert meta["key"] == key and " / " in meta["name"] and meta["category"] in ("sales", "service")
    assert meta["model_type"] in ("fixed", "predefined") and meta["description"]


def render_progress(db, iid: int, lang: str = "zh_CN") -> str:
    """Render an instance's progress diagram, as the instance page does."""
    with db.query() as session:
        found = session.get(ProcessInstance, iid)
        version = definitions.get_version_or_raise(session=session, definition_id=found.definition_id)
        events = [{"type": h.type, "element_id": h.element_id, "actor": h.actor, "at": h.at,
                   "details": h.details or {}} for h in service.list_history(session=session, instance_id=iid)]
        open_items = [{"element_id": i.element_id, "assignee": i.assignee, "candidate_users": i.candidate_users,
                       "candidate_groups": i.candidate_groups, "created_at": i.created_at}
                      for i in service.list_open_work_items(session=session, instance_id=iid)]
        return render_definition(version.file_map(), version.primary_process_id,
                                 progress=progress_from_history(events, open_items), lang=lang)


# -- complaint handling -------------------------------------------------------------------------------
@pytest.fixture
def crm(db):
    setup_crm(db, KEY)
    yield db
    directory.set_directory(None)


def customer_id(db, name: str = "华东机械有限公司") -> int:
    return record_id(db, "customer", name=name)


def register(db, *, severity: str = "major", department: str = "service", who: str = "ma.chao", **extra) -> int:
    data = {"customer": customer_id(db), "channel": "phone", "subject": "数控机床主轴异响",
            "category": "product", "severity": severity, "responsible_department": department,
            "description": "客户反映新交付的数控机床主轴在高速运转时有明显异响，担心影响加工精度。", **extra}
    return start(db, KEY, who, data, "complaint_form.json")


def complaint_of(db, iid: int) -> int:
    return instance(db, iid).data["complaint_id"]


HANDLED = {"findings": "主轴轴承预紧力不足，运输途中受到颠簸。", "root_cause": "logistics",
           "solution": "上门更换主轴轴承并重新调整预紧力，免费延长保修一年。", "compensation": "2000.00"}
REPLY = {"reply_channel": "phone", "replied_at": "2026-11-30T10:30", "reply": "已电话告知客户处理方案，客户同意上门维修时间。",
         "customer_response": "accepted"}


def test_the_happy_path_keeps_the_complaint_record_at_every_step(crm):
    db = crm
    contact = record_id(db, "contact", name="陈建国")
    iid = register(db, contact=contact, expectation="尽快修复并给出书面说明")
    complaint = complaint_of(db, iid)
    data = record(db, complaint)
    assert (data["status"], data["severity"], data["category"], data["customer"], data["contact"]) == (
        "registered", "major", "product", customer_id(db), contact)
    assert instance(db, iid).data["sla"] == "2 working days / 2 个工作日"
    # The person in charge of the service department dispatches.
    assert waiting(db, iid) == [("dispatch", "xu.hui")]
    assert open_item(db, iid, "dispatch").due_at is not None
    complete(db, iid, "dispatch", "xu.hui", {"handler": "hu.yan", "dispatch_note": "今天联系客户"}, decision="approve")
    assert (record(db, complaint)["status"], record(db, complaint)["responsible"]) == ("assigned", "hu.yan")
    assert waiting(db, iid) == [("handle", "hu.yan")]
    handle = open_item(db, iid, "handle")
    assert handle.due_at is not None and handle.due_at > open_item(db, iid, "handle").created_at
    complete(db, iid, "handle", "hu.yan", HANDLED)
    data = record(db, complaint)
    assert (data["status"], data["resolution"]) == ("resolved", HANDLED["solution"])
    assert waiting(db, iid) == [("reply", "ma.chao")]  # the registrar answers the customer
    complete(db, iid, "reply", "ma.chao", REPLY)
    data = record(db, complaint)
    assert data["status"] == "resolved" and REPLY["reply"] in data["resolution"]
    assert waiting(db, iid) == [("survey", "ma.chao")]
    complete(db, iid, "survey", "ma.chao", {"survey_result": "done", "score": 5, "feedback": "处理很及时"})
    assert instance(db, iid).status == "completed" and waiting(db, iid) == []
    assert record(db, complaint)["status"] == "closed"
    [survey] = records_of(db, "satisfaction_survey")
    assert survey.data["complaint"] == complaint and survey.data["customer"] == customer_id(db)
    assert (survey.data["score"], survey.data["satisfied"], survey.data["feedback"]) == (5, True, "处理很及时")
    assert survey.data["surveyed_on"] == utcnow().date().isoformat()
    assert completed_steps(db, iid) == [("dispatch", "xu.hui"), ("handle", "hu.yan"), ("reply", "ma.chao"),
                                        ("survey", "ma.chao")]
    statuses = [c["status"][1] for c in record_changes(db, complaint) if "status" in c]
    assert statuses == ["registered", "assigned", "resolved", "closed"]
    assert (iid, "created") in record_processes(db, complaint)
    assert (iid, "linked") in record_processes(db, customer_id(db))
    assert "instance_completed" in [t for t, _e, _a in history(db, iid)]


def test_the_severity_sets_the_sla_in_working_time(crm):
    db = crm
    calendar = install(db)
    for severity, hours in (("critical", 8), ("major", 16), ("minor", 40)):
        iid = register(db, severity=severity)
        complete(db, iid, "dispatch", "xu.hui", {"handler": "hu.yan"}, decision="approve")
        item = open_item(db, iid, "handle")
        assert instance(db, iid).data["sla_hours"] == hours
        # Working hours in the handler's business calendar: nights, lunch breaks and weekends do not count.
        assert item.due_at == calendar.working_due("hu.yan", item.created_at, f"PT{hours}H")
        assert item.due_at - item.created_at >= timedelta(hours=hours)
        local = item.due_at.astimezone(ZoneInfo("Asia/Shanghai"))
        assert local.weekday() < 5 and time(9) < local.time() <= time(18)


def test_the_department_picked_at_registration_decides_who_dispatches(crm):
    db = crm
    assert waiting(db, register(db, department="sales")) == [("dispatch", "li.na")]
    assert waiting(db, register(db, department="finance")) == [("dispatch", "zhao.lei")]
    assert waiting(db, register(db, department="tech")) == [("dispatch", "he.jun")]
    assert waiting(db, register(db, department="office")) == [("dispatch", "zhang.wei")]
    assert waiting(db, register(db, department="marketing")) == [("dispatch", "guo.tao")]
    with db.command() as session:  # a department without a leader yet: the leader of the one above dispatches
        org.save_unit(session=session, kind="department", code="legal", name="法务部", name_en="Legal", parent="office")
    iid = register(db, department="legal")
    assert [(i.assignee, i.candidate_groups) for i in items(db, iid)] == [("zhang.wei", [])]


def test_a_complaint_not_accepted_is_closed_as_rejected(crm):
    db = crm
    iid = register(db)
    complete(db, iid, "dispatch", "xu.hui", {"reject_reason": "客户咨询的是使用方法，转服务请求处理"},
             decision="reject")
    assert instance(db, iid).status == "rejected" and waiting(db, iid) == []
    data = record(db, complaint_of(db, iid))
    assert data["status"] == "closed" and data["resolution"].endswith("客户咨询的是使用方法，转服务请求处理")
    assert "responsible" not in data
    assert records_of(db, "satisfaction_survey") == []
    assert "instance_rejected" in [t for t, _e, _a in history(db, iid)]


def test_a_customer_who_refuses_the_answer_gets_the_complaint_handled_again(crm):
    db = crm
    iid = register(db, severity="critical")
    complaint = complaint_of(db, iid)
    complete(db, iid, "dispatch", "xu.hui", {"handler": "hu.yan"}, decision="approve")
    complete(db, iid, "handle", "hu.yan", HANDLED)
    complete(db, iid, "reply", "ma.chao", {**REPLY, "customer_response": "not_accepted",
                                           "rework_reason": "客户要求更换整台主轴而不是轴承"})
    data = record(db, complaint)
    assert data["status"] == "handling" and "客户要求更换整台主轴" in data["resolution"]
    assert waiting(db, iid) == [("handle", "hu.yan")]
    complete(db, iid, "handle", "hu.yan", {**HANDLED, "solution": "更换整台主轴，工程师驻场一天验证。"})
    assert record(db, complaint)["resolution"] == "更换整台主轴，工程师驻场一天验证。"
    complete(db, iid, "reply", "ma.chao", REPLY)
    complete(db, iid, "survey", "ma.chao", {"survey_result": "done", "score": 3})
    assert instance(db, iid).status == "completed"
    [survey] = records_of(db, "satisfaction_survey")
    assert (survey.data["score"], survey.data["satisfied"]) == (3, False) and "feedback" not in survey.data
    assert [e for e, _a in completed_steps(db, iid)] == ["dispatch", "handle", "reply", "handle", "reply", "survey"]
    statuses = [c["status"][1] for c in record_changes(db, complaint) if "status" in c]
    assert statuses == ["registered", "assigned", "resolved", "handling", "resolved", "closed"]


def test_an_unreachable_customer_closes_without_a_survey(crm):
    db = crm
    iid = register(db, severity="minor")
    complete(db, iid, "dispatch", "xu.hui", {"handler": "ma.chao"}, decision="approve")
    complete(db, iid, "handle", "ma.chao", HANDLED)
    complete(db, iid, "reply", "ma.chao", REPLY)
    complete(db, iid, "survey", "ma.chao", {"survey_result": "unreachable"})
    assert instance(db, iid).status == "completed"
    assert record(db, complaint_of(db, iid))["status"] == "closed"
    assert records_of(db, "satisfaction_survey") == []


def test_an_overdue_handling_step_escalates_to_the_handlers_superior(crm):
    db = crm
    iid = register(db, severity="critical")
    complete(db, iid, "dispatch", "xu.hui", {"handler": "hu.yan"}, decision="approve")
    assert run_overdue_actions(db, now=utcnow()) == 0  # not due yet
    assert run_overdue_actions(db, now=later()) >= 1
    item = open_item(db, iid, "handle")
    assert item.assignee == "xu.hui" and item.overdue_outcome["outcome"] == "escalated"
    kinds = history(db, iid)
    assert ("task_overdue", "handle", "system") in kinds and ("task_transferred", "handle", "system") in kinds
    # The superior handles it; the record names who was responsible when it was dispatched.
    complete(db, iid, "handle", "xu.hui", HANDLED)
    assert record(db, complaint_of(db, iid))["status"] == "resolved"
    assert waiting(db, iid) == [("reply", "ma.chao")]


def test_the_dispatch_is_not_escalated_and_other_steps_only_notify(crm):
    db = crm
    iid = register(db)
    run_overdue_actions(db, now=later())
    assert waiting(db, iid) == [("dispatch", "xu.hui")]
    assert open_item(db, iid, "dispatch").overdue_outcome["outcome"] == "notified"


def test_every_form_validates_a_realistic_example_and_the_diagram_renders(crm):
    db = crm
    check_forms(KEY, {
        "complaint_form.json": {"customer": 1, "contact": 2, "channel": "wechat", "subject": "发票金额错误",
                                "category": "billing", "severity": "minor", "responsible_department": "finance",
                                "description": "十月份发票金额与订单不符，多开了 600 元。", "files": [3]},
        "dispatch_form.json": {"decision": "approve", "handler": "sun.li", "dispatch_note": "核对后重开发票"},
        "handle_form.json": HANDLED,
        "reply_form.json": {**REPLY, "customer_response": "not_accepted", "rework_reason": "客户希望书面道歉"},
        "survey_form.json": {"survey_result": "done", "score": 4, "feedback": "满意"},
    })
    loaded = forms_of(KEY)
    with pytest.raises(forms.FormError) as refused:  # a handler is needed to dispatch, a reason to refuse
        forms.validate(loaded["dispatch_form.json"], {"decision": "approve"})
    assert "handler" in refused.value.errors
    with pytest.raises(forms.FormError) as refused:
        forms.validate(loaded["dispatch_form.json"], {"decision": "reject"})
    assert "reject_reason" in refused.value.errors
    with pytest.raises(forms.FormError) as refused:
        forms.validate(loaded["survey_form.json"], {"survey_result": "done", "score": 9})
    assert "score" in refused.value.errors
    forms.validate(loaded["survey_form.json"], {"survey_result": "unreachable"})
    iid = register(db)
    complete(db, iid, "dispatch", "xu.hui", {"handler": "hu.yan"}, decision="approve")
    svg = render_progress(db, iid)
    assert svg.startswith("<svg") or "<svg" in svg[:200]
    assert "处理投诉" in svg and "active" in svg

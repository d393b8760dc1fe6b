"""Templates, copies and process categories, on SQLite and PostgreSQL."""
from __future__ import annotations

import json

import pytest
from lxml import etree
from sqlalchemy import func, select

from audit.models import AuditEntry
from definitions import categories, templates
from definitions import service as definitions
from definitions.bundle import read_path
from definitions.errors import CategoryNotFound, DefinitionConflict, DefinitionNotFound, InvalidDefinition
from definitions.models import DefinitionFile, DefinitionVersion, ProcessCategory, ProcessTemplate
from definitions.process_ids import rename_process
from engine.xmlsafe import parse_xml
from instances import service as instances
from instances.actors import Actor
from tests.conftest import ROOT

LEAVE_FILES = read_path(ROOT / "bpmn" / "leave_request")
LEAVE = {"leave_type": "annual", "start_date": "2026-12-01", "end_date": "2026-12-03", "days": 3, "manager": "bob"}
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI = "http://www.omg.org/spec/BPMN/20100524/DI"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def _deploy(db, files=None, publish=True):
    with db.command() as session:
        version, _ = definitions.deploy(session=session, files=files or LEAVE_FILES, actor="designer",
                                        publish=publish)
        return version.id


def _copy(db, **kwargs):
    arguments = {"source_key": "leave_request", "key": "annual_leave", "name": "Annual leave",
                 "name_zh": "年假", "actor": "luo.bin", **kwargs}
    with db.command() as session:
        version = templates.copy_definition(session=session, **arguments)
        return version.id


def _version(db, key: str) -> DefinitionVersion:
    with db.query() as session:
        version = definitions.list_versions(session=session, key=key)[0]
        assert version.files  # loaded before the session closes
        return version


def _counts(db) -> tuple:
    with db.query() as session:
        return tuple(session.scalar(select(func.count()).select_from(model))
                     for model in (DefinitionVersion, DefinitionFile, AuditEntry, ProcessTemplate, ProcessCategory))


def _actions(db, prefix: str) -> list[AuditEntry]:
    with db.query() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action.like(f"{prefix}%"))
                                    .order_by(AuditEntry.id)))


def test_copy_renames_the_process_keeps_the_diagram_consistent_and_runs(db):
    _deploy(db)
    copy_id = _copy(db, category="hr")
    copy = _version(db, "annual_leave")
    assert copy.id == copy_id
    assert (copy.key, copy.version, copy.status, copy.name) == ("annual_leave", 1, "draft", "Annual leave / 年假")
    assert copy.primary_process_id == "annual_leave" and copy.category == "hr" and copy.created_by == "luo.bin"
    assert copy.metadata_["key"] == "annual_leave" and copy.metadata_["name"] == "Annual leave / 年假"
    assert copy.metadata_["copied_from"] == {"key": "leave_request", "version": 1}
    assert copy.metadata_["model_type"] == "fixed"  # the rest of process.json comes along
    source = _version(db, "leave_request")
    files = {f.name: f.content for f in copy.files}
    assert sorted(files) == sorted(f.name for f in source.files)
    for name in ("leave_request_form.json", "approval_form.json"):
        assert files[name] == {f.name: f.content for f in source.files}[name]  # forms are copied as they are

    root = parse_xml(files["leave_request.bpmn"], "leave_request.bpmn").getroot()
    [process] = root.findall(f"{{{BPMN}}}process")
    assert (process.get("id"), process.get("name")) == ("annual_leave", "Annual leave / 年假")
    plane = root.find(f".//{{{DI}}}BPMNPlane")
    assert plane.get("bpmnElement") == "annual_leave" and plane.get("id") == "annual_leave_plane"
    assert root.find(f"{{{DI}}}BPMNDiagram").get("id") == "annual_leave_diagram"
    assert root.get("id") == "annual_leave_definitions"
    # Service task parameters have ids of their own, unique only within their task.
    ids = [e.get("id") for e in root.iter() if isinstance(e.tag, str) and e.get("id") and SPIFF not in e.tag]
    assert len(ids) == len(set(ids)) and not any("leave_request" in i for i in ids)
    for element in root.iter(f"{{{DI}}}BPMNShape", f"{{{DI}}}BPMNEdge", f"{{{DI}}}BPMNPlane"):
        assert element.get("bpmnElement") in ids, element.get("id")  # every drawing points at something
    assert "leave_request" not in etree.tostring(root, encoding="unicode").replace("leave_request_form", "")
    # The source is untouched.
    assert (source.version, source.status, source.primary_process_id) == (1, "published", "leave_request")

    [copied] = _actions(db, "definition.copied")
    assert copied.object_id == "annual_leave v1" and copied.actor == "luo.bin"
    assert copied.before == {"key": "leave_request", "version": 1}
    assert copied.after["from_template"] is False and copied.after["status"] == "draft"

    with db.command() as session:
        with pytest.raises(Exception, match="newest version is draft"):
            instances.start_instance(session=session, key="annual_leave", actor=Actor("alice"), data=dict(LEAVE))
    with db.command() as session:
        definitions.set_status(session=session, definition_id=copy_id, status="published")
    with db.command() as session:
        instance = instances.start_instance(session=session, key="annual_leave", actor=Actor("alice"),
                                            data=dict(LEAVE))
        assert instance.definition_key == "annual_leave" and instance.definition_id == copy_id
        [item] = instances.list_open_work_items(session=session, instance_id=instance.id)
        assert (item.element_id, item.assignee) == ("manager_approval", "bob")


def test_copy_of_a_template_names_the_template_and_chooses_the_version(db):
    _deploy(db)
    changed = {**LEAVE_FILES, "leave_request.bpmn": LEAVE_FILES["leave_request.bpmn"].replace(
        b"Request submitted", b"Request sent")}
    _deploy(db, changed, publish=False)  # v2 is a draft: a copy takes v1, the newest published, unless told
    with db.command() as session:
        template, created = templates.mark_template(session=session, key="leave_request",
                                                    description="Start here for absence requests", actor="luo.bin")
        assert created and template.description == "Start here for absence requests"
    _copy(db, key="absence", name="Absence / 缺勤", name_zh=None, category=None, description=None)
    copy = _version(db, "absence")
    assert copy.name == "Absence / 缺勤" and copy.category == "hr" and copy.metadata_["copied_from"]["version"] == 1
    assert "Request submitted" in {f.name: f.content for f in copy.files}["leave_request.bpmn"]
    assert copy.description.startswith("An employee asks for leave")
    _copy(db, key="absence2", name="Absence two", version=2, description="Version two")
    second = _version(db, "absence2")
    assert "Request sent" in {f.name: f.content for f in second.files}["leave_request.bpmn"]
    assert second.description == "Version two" and second.metadata_["copied_from"] == {"key": "leave_request",
                                                                                      "version": 2}
    assert [e.after["from_template"] for e in _actions(db, "definition.copied")] == [True, True]


def test_templates_are_marked_changed_listed_and_removed(db):
    _deploy(db)
    with db.command() as session:
        templates.mark_template(session=session, key="leave_request", description="For absences", actor="luo.bin")
    with db.command() as session:
        template, created = templates.mark_template(session=session, key="leave_request",
                                                    description="For every absence", actor="admin")
        assert not created
    with db.query() as session:
        [row] = templates.list_templates(session=session)
        assert (row.template.key, row.template.description, row.source.version) == ("leave_request",
                                                                                    "For every absence", 1)
        assert row.template.created_by == "luo.bin"
    with db.command() as session:
        templates.unmark_template(session=session, key="leave_request", actor="admin")
    with db.query() as session:
        assert templates.list_templates(session=session) == []
        assert len(definitions.list_versions(session=session, key="leave_request")) == 1  # versions stay
    assert [(e.action, e.actor) for e in _actions(db, "definition.template")] == [
        ("definition.template_marked", "luo.bin"), ("definition.template_changed", "admin"),
        ("definition.template_unmarked", "admin")]
    before = _counts(db)
    for call, kwargs in ((templates.unmark_template, {"key": "leave_request"}),
                         (templates.mark_template, {"key": "nothing_here"}),
                         (templates.mark_template, {"key": "leave_request", "description": "x" * 2001})):
        with pytest.raises((DefinitionNotFound, InvalidDefinition)):
            with db.command() as session:
                call(session=session, **kwargs)
    assert _counts(db) == before


@pytest.mark.parametrize("kwargs, field, problem", [
    ({"key": ""}, "key", "required"),
    ({"key": "1starts_with_a_digit"}, "key", "format"),
    ({"key": "bad/key"}, "key", "format"),
    ({"key": "x" * 201}, "key", "too_long"),
    ({"key": 5}, "key", "invalid"),
    ({"key": "leave_request"}, "key", "taken"),
    ({"key": "submitted"}, "key", "id_in_model"),  # the start event's id: the renamed process would clash
    ({"name": ""}, "name", "required"),
    ({"name": "   "}, "name", "required"),
    ({"name": "x" * 301, "name_zh": None}, "name", "too_long"),
    ({"name": "Annual leave / 年假"}, "name_zh", "twice"),
    ({"name": "bad\x00name"}, "name", "invalid"),
    ({"category": "nope"}, "category", "unknown"),
    ({"description": "x" * 2001}, "description", "too_long"),
    ({"version": 9}, "version", None),
])
def test_copy_refuses_bad_input_naming_the_field_and_writes_nothing(db, kwargs, field, problem):
    _deploy(db)
    before = _counts(db)
    with pytest.raises((InvalidDefinition, DefinitionConflict, DefinitionNotFound)) as refused:
        _copy(db, **kwargs)
    assert refused.value.details["field"] == field and refused.value.details.get("problem") == problem
    assert refused.value.message
    assert _counts(db) == before


def test_copy_of_an_unknown_process_is_not_found(db):
    with pytest.raises(DefinitionNotFound):
        _copy(db, source_key="nothing_here")
    assert _counts(db) == (0, 0, 0, 0, 0)


def test_categories_are_shipped_checked_on_deploy_and_managed(db):
    with db.query() as session:
        assert categories.category_codes(session=session) == ["hr", "finance", "sales", "service", "office",
                                                              "general"]
    unknown = {**LEAVE_FILES, "process.json": json.dumps({"key": "leave_request", "category": "legal"}).encode()}
    with pytest.raises(InvalidDefinition) as refused:
        _deploy(db, unknown)
    assert refused.value.details == {"field": "category", "category": "legal", "problem": "unknown",
                                     "file": "process.json"}
    assert "legal" in refused.value.message and "hr, finance" in refused.value.message
    assert _counts(db) == (0, 0, 0, 0, 0)

    with db.command() as session:
        created = categories.create_category(session=session, code="legal", name="法务", name_en="Legal",
                                             actor="admin")
        assert created.sort == 70  # after the shipped ones, which are stored with it
    _deploy(db, unknown)
    with db.query() as session:
        assert categories.category_codes(session=session)[-1] == "legal"
        assert categories.usage(session=session) == {"legal": 1}
    for kwargs, field, problem in (({"code": "legal", "name": "x"}, "code", "taken"),
                                   ({"code": "9bad", "name": "x"}, "code", "format"),
                                   ({"code": "", "name": "x"}, "code", "required"),
                                   ({"code": "ok", "name": " "}, "name", "required"),
                                   ({"code": "ok", "name": "x", "name_en": "y" * 201}, "name_en", "too_long"),
                                   ({"code": "ok", "name": "x", "sort": -1}, "sort", "range")):
        with pytest.raises((InvalidDefinition, DefinitionConflict)) as bad:
            with db.command() as session:
                categories.create_category(session=session, **kwargs)
        assert (bad.value.details["field"], bad.value.details["problem"]) == (field, problem)

    with db.command() as session:
        categories.update_category(session=session, code="legal", name="法务部", name_en="Legal affairs", sort=5,
                                   actor="admin")
        categories.move_category(session=session, code="general", offset=-1, actor="admin")
    with db.query() as session:
        rows = categories.list_categories(session=session)
        assert [c.code for c in rows] == ["legal", "hr", "finance", "sales", "service", "general", "office"]
        assert (rows[0].name, rows[0].name_en) == ("法务部", "Legal affairs")

    with pytest.raises(DefinitionConflict) as in_use:
        with db.command() as session:
            categories.delete_category(session=session, code="legal")
    assert in_use.value.code == "category_in_use" and in_use.value.details["definitions"] == 1
    assert "used by 1 process definition" in in_use.value.message
    with pytest.raises(DefinitionConflict) as protected:
        with db.command() as session:
            categories.delete_category(session=session, code="general")
    assert protected.value.code == "category_protected"
    with pytest.raises(CategoryNotFound):
        with db.command() as session:
            categories.delete_category(session=session, code="nope")
    with db.command() as session:
        categories.delete_category(session=session, code="office", actor="admin")
    with db.query() as session:
        assert "office" not in categories.category_codes(session=session)
    assert [e.action for e in _actions(db, "process_category")] == [
        "process_category.created", "process_category.changed", "process_category.changed",
        "process_category.deleted"]
    with pytest.raises(InvalidDefinition) as gone:
        _copy(db, source_key="leave_request", category="office")
    assert gone.value.details["field"] == "category"
    _copy(db, source_key="leave_request", category="legal")
    assert _version(db, "annual_leave").category == "legal"


COLLABORATION = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" id="Definitions_1" targetNamespace="t">
  <bpmn:collaboration id="collab">
    <bpmn:participant id="pool" processRef="trip" />
  </bpmn:collaboration>
  <bpmn:process id="trip" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:callActivity id="again" calledElement="trip" />
  </bpmn:process>
  <bpmn:process id="helper" isExecutable="false" />
  <bpmndi:BPMNDiagram id="BPMNDiagram_trip">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="collab" />
  </bpmndi:BPMNDiagram>
</bpmn:definitions>"""


def test_rename_touches_only_the_process_with_the_old_key_and_its_references():
    other = b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">' \
            b'<bpmn:process id="helper2" isExecutable="true"><bpmn:startEvent id="s" /></bpmn:process>' \
            b'</bpmn:definitions>'
    files = {"trip.bpmn": COLLABORATION, "other.bpmn": other, "form.json": b'{"type": "object"}'}
    out = rename_process(files, old="trip", new="journey")
    assert out["other.bpmn"] is other and out["form.json"] is files["form.json"]  # untouched files keep bytes
    root = etree.fromstring(out["trip.bpmn"])
    assert [p.get("id") for p in root.iter(f"{{{BPMN}}}process")] == ["journey", "helper"]
    assert root.find(f".//{{{BPMN}}}participant").get("processRef") == "journey"
    assert root.find(f".//{{{BPMN}}}callActivity").get("calledElement") == "journey"
    assert root.find(f".//{{{DI}}}BPMNDiagram").get("id") == "BPMNDiagram_journey"
    assert root.find(f".//{{{DI}}}BPMNPlane").get("bpmnElement") == "collab"  # the pool diagram stays
    assert out["trip.bpmn"].startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert rename_process(files, old="nothing", new="journey") == files
    with pytest.raises(InvalidDefinition) as clash:
        rename_process(files, old="trip", new="start")
    assert clash.value.details == {"field": "key", "file": "trip.bpmn", "problem": "id_in_model"}
    hostile = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    with pytest.raises(InvalidDefinition, match="DOCTYPE"):
        rename_process({"evil.bpmn": hostile}, old="trip", new="journey")


def test_a_copy_keeps_the_chinese_description_only_while_the_description_is_the_sources(db):
    _deploy(db)
    source = _version(db, "leave_request")
    assert source.description_in("zh_CN").startswith("员工申请休假") and source.description_in("en").startswith("An")
    _copy(db)  # the description is left as it was: its Chinese still matches
    kept = _version(db, "annual_leave")
    assert kept.description_in("zh") == source.description_in("zh")
    _copy(db, key="sick_leave", name="Sick leave", name_zh="病假", description="Sick leave with a doctor's note.")
    changed = _version(db, "sick_leave")
    # The source's Chinese would describe another process now: Chinese readers see the new description.
    assert "description_zh" not in changed.metadata_
    assert changed.description_in("zh_CN") == changed.description_in("en") == "Sick leave with a doctor's note."


@pytest.mark.parametrize("value, problem", [(5, "invalid"), ("说明" * 1001, "too_long"), ("a\x00b", "invalid")])
def test_a_chinese_description_that_is_not_text_is_refused_naming_it_and_nothing_is_stored(db, value, problem):
    before = _counts(db)
    metadata = {**json.loads(LEAVE_FILES["process.json"]), "description_zh": value}
    with pytest.raises(InvalidDefinition) as refused:
        _deploy(db, {**LEAVE_FILES, "process.json": json.dumps(metadata).encode()})
    assert refused.value.details["file"] == "process.json" and refused.value.details["field"] == "description_zh"
    assert refused.value.details["problem"] == problem and "description_zh" in refused.value.message
    assert _counts(db) == before

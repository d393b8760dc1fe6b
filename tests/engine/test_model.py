"""compile_model: hardened XML, vendor dialects, refusals that name file and element, blocking issues."""
from __future__ import annotations

import pytest

from engine.errors import EngineError, ModelError
from engine.model import compile_model
from engine.runtime import ProcessRuntime
from engine.services import default_registry
from tests.conftest import DATA

NAMESPACES = (
    'xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:flowable="http://flowable.org/bpmn" '
    'xmlns:activiti="http://activiti.org/bpmn" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'targetNamespace="urn:flowdesk-test"'
)


def bpmn(body: str, *, process_id: str = "proc", executable: str = "true", extra: str = "") -> bytes:
    """A definitions document with one process: start -> body's 'task' -> end (body defines 'task')."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions {NAMESPACES} id="defs_{process_id}">
  {extra}
  <process id="{process_id}" isExecutable="{executable}">
    <startEvent id="{process_id}_start"/>
    <sequenceFlow id="{process_id}_f1" sourceRef="{process_id}_start" targetRef="task"/>
    {body}
    <sequenceFlow id="{process_id}_f2" sourceRef="task" targetRef="{process_id}_end"/>
    <endEvent id="{process_id}_end"/>
  </process>
</definitions>
""".encode()


USER_TASK = '<userTask id="task" name="Review"/>'

DMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="dmn_defs" name="d" namespace="urn:x">
  <decision id="pick_level" name="Pick level">
    <decisionTable id="table">
      <input id="in1" label="Amount">
        <inputExpression id="in1_expr" typeRef="number"><text>amount</text></inputExpression>
      </input>
      <output id="out1" name="level" typeRef="string"/>
      <rule id="r1">
        <inputEntry id="r1_in"><text>&gt; 1000</text></inputEntry>
        <outputEntry id="r1_out"><text>"director"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


def refused(files: dict[str, bytes], **kwargs) -> ModelError:
    with pytest.raises(ModelError) as caught:
        compile_model(files, **kwargs)
    return caught.value


# -- hardened XML ------------------------------------------------------------------------------------

XXE = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE definitions [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <process id="p" isExecutable="true" name="&secret;"><startEvent id="s"/></process>
</definitions>
"""


def test_external_entity_is_refused_before_parsing():
    error = refused({"invoice.bpmn": XXE})
    assert error.file_name == "invoice.bpmn"
    assert error.line == 2
    assert "DOCTYPE" in error.reason
    assert "root:" not in str(error)


def test_doctype_without_entities_is_refused_in_dmn_too():
    doctype = b'<?xml version="1.0"?>\n<!DOCTYPE definitions SYSTEM "http://example.com/x.dtd">\n'
    dmn = doctype + DMN.split(b"?>", 1)[1]
    error = refused({"rules.dmn": dmn, "main.bpmn": bpmn(USER_TASK)})
    assert error.file_name == "rules.dmn"
    assert "DOCTYPE" in error.reason


def test_doctype_text_inside_cdata_is_not_a_doctype():
    body = '<scriptTask id="task"><script><![CDATA[page = "<!DOCTYPE html>"]]></script></scriptTask>'
    model = compile_model({"main.bpmn": bpmn(body)})
    assert model.executable


def test_malformed_xml_is_refused_with_its_line():
    broken = bpmn(USER_TASK).replace(b'name="Review"', b"name=Review")
    error = refused({"broken.bpmn": broken})
    assert error.file_name == "broken.bpmn"
    assert error.line == 7
    assert error.reason.startswith("not well-formed XML")
    assert "broken.bpmn:7" in str(error)


@pytest.mark.parametrize("content", [b"", b"  \n\t "])
def test_empty_file_is_refused(content):
    error = refused({"empty.bpmn": content})
    assert error.file_name == "empty.bpmn"
    assert "empty" in error.reason


def test_bundle_without_bpmn_is_refused():
    assert "no BPMN file" in refused({"rules.dmn": DMN}).reason


def test_root_must_be_definitions():
    error = refused({"odd.bpmn": b'<process xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="p"/>'})
    assert error.file_name == "odd.bpmn"
    assert "definitions" in error.reason


# -- duplicate ids -----------------------------------------------------------------------------------

def test_same_process_id_in_two_files_is_refused_naming_file_and_element():
    error = refused({"a.bpmn": bpmn(USER_TASK), "b.bpmn": bpmn(USER_TASK)})
    assert error.file_name == "b.bpmn"
    assert error.element_id == "proc"
    assert "Duplicate process ID" in error.reason


def test_same_element_id_in_two_files_is_a_warning():
    files = {"a.bpmn": bpmn(USER_TASK, process_id="first"), "b.bpmn": bpmn(USER_TASK, process_id="second")}
    model = compile_model(files)
    assert sorted(model.process_ids) == ["first", "second"]
    warnings = [i for i in model.issues if i["element_id"] == "task"]
    assert warnings and warnings[0]["severity"] == "warning"
    assert "a.bpmn" in warnings[0]["reason"] and warnings[0]["file"] == "b.bpmn"
    assert not model.blocking_issues


def test_same_element_id_twice_in_one_file_is_refused_with_line():
    body = USER_TASK + '\n<userTask id="task" name="Again"/>'
    error = refused({"dup.bpmn": bpmn(body)})
    assert error.file_name == "dup.bpmn"
    assert error.element_id == "task"
    assert error.line == 8


# -- vendor dialects ---------------------------------------------------------------------------------

@pytest.mark.parametrize("vendor", ["camunda", "flowable", "activiti"])
def test_vendor_assignment_attributes_are_read_alike(vendor):
    body = (f'<userTask id="task" name="Approve" {vendor}:assignee="kermit" '
            f'{vendor}:candidateUsers="gonzo, fozzie" {vendor}:candidateGroups="management,finance" '
            f'{vendor}:formKey="approve.json" {vendor}:dueDate="PT2H"/>')
    model = compile_model({"main.bpmn": bpmn(body)})
    info = model.elements["task"]
    assert info["assignee"] == "kermit"
    assert info["candidate_users"] == ["gonzo", "fozzie"]
    assert info["candidate_groups"] == ["management", "finance"]
    assert info["form_key"] == "approve.json"
    assert info["due_date"] == "PT2H"
    assert info["file"] == "main.bpmn"


@pytest.mark.parametrize("vendor", ["camunda", "flowable", "activiti"])
def test_vendor_collection_becomes_loop_input(vendor):
    body = (f'<userTask id="task"><multiInstanceLoopCharacteristics {vendor}:collection="${{approvers}}" '
            f'{vendor}:elementVariable="approver"/></userTask>')
    model = compile_model({"main.bpmn": bpmn(body)})
    multi = model.elements["task"]["multi_instance"]
    assert multi["collection"] == "approvers"
    assert multi["element_variable"] == "approver"
    assert not model.blocking_issues


def test_collection_with_cardinality_lets_the_collection_decide():
    body = ('<userTask id="task"><multiInstanceLoopCharacteristics camunda:collection="items" '
            'camunda:elementVariable="item"><loopCardinality>3</loopCardinality>'
            '</multiInstanceLoopCharacteristics></userTask>')
    model = compile_model({"main.bpmn": bpmn(body)})
    assert model.elements["task"]["multi_instance"]["collection"] == "items"
    assert [i["severity"] for i in model.issues if i["element_id"] == "task"] == ["warning"]


def test_collection_expression_that_is_not_a_variable_blocks_start():
    body = ('<userTask id="task"><multiInstanceLoopCharacteristics '
            'camunda:collection="${orderService.items(order)}"/></userTask>')
    model = compile_model({"main.bpmn": bpmn(body)})
    assert [i["element_id"] for i in model.blocking_issues] == ["task"]


def test_camunda_decision_ref_runs_the_deployed_decision():
    body = '<businessRuleTask id="task" camunda:decisionRef="pick_level"/>'
    model = compile_model({"main.bpmn": bpmn(body), "rules.dmn": DMN})
    assert model.executable
    assert not model.blocking_issues


def test_missing_decision_blocks_start_naming_element():
    body = '<businessRuleTask id="task" camunda:decisionRef="pick_level"/>'
    model = compile_model({"main.bpmn": bpmn(body)})
    [issue] = model.blocking_issues
    assert issue["element_id"] == "task" and issue["file"] == "main.bpmn"
    assert "pick_level" in issue["reason"]


def test_duplicate_decision_ids_are_refused():
    error = refused({"main.bpmn": bpmn(USER_TASK), "a.dmn": DMN, "b.dmn": DMN})
    assert error.file_name == "b.dmn"
    assert error.element_id == "pick_level"


def test_unreadable_decision_table_is_refused_at_deployment():
    broken = DMN.replace(b'<decisionTable id="table">', b'<decisionTable>').replace(b'id="r1"', b"")
    broken = broken.replace(b'<input id="in1" label="Amount">', b'<input label="Amount">')
    error = refused({"main.bpmn": bpmn(USER_TASK), "rules.dmn": broken})
    assert error.file_name == "rules.dmn"
    assert "'id'" in error.reason


# -- call activities ---------------------------------------------------------------------------------

def test_call_activity_target_in_another_file_is_resolved():
    main = bpmn('<callActivity id="task" calledElement="child"/>', process_id="parent")
    child = bpmn(USER_TASK, process_id="child")
    model = compile_model({"child.bpmn": child, "main.bpmn": main})
    assert sorted(model.process_ids) == ["child", "parent"]
    assert model.primary_process_id == "parent"
    assert "child" in model.subprocess_specs["parent"]
    assert not model.blocking_issues


def test_missing_call_activity_target_blocks_start():
    model = compile_model({"main.bpmn": bpmn('<callActivity id="task" calledElement="elsewhere"/>')})
    [issue] = model.blocking_issues
    assert issue["element_id"] == "task" and issue["file"] == "main.bpmn"
    assert "elsewhere" in issue["reason"]
    with pytest.raises(EngineError):
        ProcessRuntime(model).start()


# -- SpiffWorkflow's own failures ----------------------------------------------------------------------

def test_internal_key_error_becomes_model_error_naming_element():
    body = ('<serviceTask id="task"><extensionElements><spiffworkflow:serviceTaskOperator/>'
            '</extensionElements></serviceTask>')
    error = refused({"main.bpmn": bpmn(body)})
    assert error.file_name == "main.bpmn"
    assert error.element_id == "task"
    assert error.line == 7
    assert "'id'" in error.reason


def test_validation_failure_names_file_element_and_line():
    body = '<userTask id="task"><standardLoopCharacteristics/></userTask>'
    error = refused({"loop.bpmn": bpmn(body)})
    assert (error.file_name, error.element_id, error.line) == ("loop.bpmn", "task", 7)


# -- runtime blocking issues -------------------------------------------------------------------------

def test_unknown_service_operation_is_a_blocking_issue_naming_the_element():
    body = '<serviceTask id="task" name="Bill" camunda:class="com.acme.BillingDelegate"/>'
    model = compile_model({"main.bpmn": bpmn(body)}, operations=default_registry())
    assert model.executable
    [issue] = model.blocking_issues
    assert issue["element_id"] == "task" and issue["file"] == "main.bpmn"
    assert "com.acme.BillingDelegate" in issue["reason"]
    with pytest.raises(EngineError) as caught:
        ProcessRuntime(model).start()
    assert caught.value.element_id == "task"


def test_known_vendor_operation_is_not_an_issue():
    body = '<serviceTask id="task" flowable:type="external" flowable:topic="noop"/>'
    model = compile_model({"main.bpmn": bpmn(body)}, operations=default_registry())
    assert not model.blocking_issues


def test_service_task_without_operation_is_a_blocking_issue():
    model = compile_model({"main.bpmn": bpmn('<serviceTask id="task"/>')}, operations=default_registry())
    assert [i["reason"] for i in model.blocking_issues] == ["service task names no operation"]


def test_groovy_script_is_a_blocking_issue():
    body = '<scriptTask id="task" scriptFormat="groovy"><script>println "hi"</script></scriptTask>'
    model = compile_model({"main.bpmn": bpmn(body)})
    [issue] = model.blocking_issues
    assert issue["element_id"] == "task"
    assert "groovy" in issue["reason"]


def test_refused_python_script_is_a_blocking_issue_with_line():
    pytest.importorskip("engine.sandbox")
    body = '<scriptTask id="task"><script>x = 1\nimport os</script></scriptTask>'
    model = compile_model({"main.bpmn": bpmn(body)})
    [issue] = model.blocking_issues
    assert issue["element_id"] == "task" and issue["line"] == 2


# -- non-executable models ---------------------------------------------------------------------------

def test_non_executable_model_is_documentation_only():
    model = compile_model({"doc.bpmn": bpmn(USER_TASK, executable="false")})
    assert model.process_ids == []
    assert model.primary_process_id is None
    assert model.executable is False
    assert model.names == {"proc": "proc"}
    assert model.elements["task"]["type"] == "userTask"
    assert model.report()["executable"] is False


def test_non_executable_model_with_unsupported_constructs_is_kept_as_documentation():
    store = '<dataStore id="store" name="Ledger"/>'
    model = compile_model({"doc.bpmn": bpmn(USER_TASK, executable="false", extra=store)})
    assert model.process_ids == []
    assert [i["severity"] for i in model.issues] == ["warning"]
    assert "documentation" in model.issues[0]["reason"]


def test_executable_model_with_unsupported_constructs_is_refused():
    store = '<dataStore id="store" name="Ledger"/>'
    error = refused({"main.bpmn": bpmn(USER_TASK, extra=store)})
    assert error.file_name == "main.bpmn"
    assert "Ledger" in error.reason


def test_a_reference_to_a_missing_sequence_flow_is_an_error_that_names_the_element():
    model = compile_model({"d.bpmn": (DATA / "bpmn" / "dangling_flow.bpmn").read_bytes()})
    problems = {(i["element_id"], i["severity"]) for i in model.report()["issues"]}
    assert problems == {("approve", "error"), ("archive", "error")}
    assert "f_missing" in next(i["reason"] for i in model.blocking_issues if i["element_id"] == "approve")

"""Read the Camunda, Flowable, Activiti and Spiff dialects of BPMN into one vocabulary."""
from __future__ import annotations

import re

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
EXTENSION_NAMESPACES = (
    "http://camunda.org/schema/1.0/bpmn",
    "http://flowable.org/bpmn",
    "http://activiti.org/bpmn",
    "http://activiti.org/bpmn/extensions",
)
PYTHON_SCRIPT_FORMATS = {"", "python", "py", "text/python", "text/x-python", "application/x-python"}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_WRAPPED = re.compile(r"^\s*[$#]\{(.*)\}\s*$", re.S)

FLOW_NODE_TAGS = {
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
}
HUMAN_TASK_TAGS = {"userTask", "manualTask", "task"}
COUNTERSIGN_PROPERTY = "flowdesk.countersign"


def local_name(node) -> str:
    """Return an element's tag without its namespace."""
    tag = node.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def bpmn(tag: str) -> str:
    """Return the qualified BPMN tag for a local name."""
    return f"{{{BPMN_NS}}}{tag}"


def extension_attr(node, name: str) -> str | None:
    """Return a vendor attribute (camunda:, flowable: or activiti:) of a node, whichever dialect set it."""
    for ns in EXTENSION_NAMESPACES:
        value = node.get(f"{{{ns}}}{name}")
        if value is not None:
            return value
    return None


def unwrap(expression: str | None) -> str | None:
    """Strip a `${...}` or `#{...}` wrapper from an expression."""
    if expression is None:
        return None
    match = _WRAPPED.match(expression)
    return match.group(1).strip() if match else expression.strip()


def uses_spiff_dialect(tree) -> bool:
    """Tell whether a model declares the SpiffWorkflow extension namespace."""
    root = tree.getroot()
    return SPIFF_NS in (root.nsmap or {}).values() or root.find(f".//{{{SPIFF_NS}}}*") is not None


def normalize(tree, file_name: str, issues: list) -> None:
    """Rewrite vendor dialect constructs into what SpiffWorkflow reads, in place, recording what cannot be."""
    for loop in list(tree.iter(bpmn("multiInstanceLoopCharacteristics"))):
        _normalize_loop(loop, file_name, issues)
        _normalize_countersign_order(loop)
    for task in tree.iter(bpmn("businessRuleTask")):
        _normalize_decision_ref(task)


def _normalize_loop(loop, file_name: str, issues: list) -> None:
    owner = loop.getparent()
    owner_id = owner.get("id") if owner is not None else None
    collection = extension_attr(loop, "collection")
    element_var = extension_attr(loop, "elementVariable")
    data_input = loop.find(bpmn("loopDataInputRef"))
    if collection is not None and data_input is None:
        name = unwrap(collection)
        if not _IDENTIFIER.match(name or ""):
            reason = f"multi-instance collection '{collection}' must name a process variable"
            issues.append(dict(severity="error", file=file_name, element_id=owner_id, reason=reason))
            # Spiff needs some loop source to build the spec; the blocking issue keeps it from running.
            if loop.find(bpmn("loopCardinality")) is None:
                _set_cardinality(loop, "0")
            return
        data_input = etree.Element(bpmn("loopDataInputRef"))
        data_input.text = name
        loop.insert(0, data_input)
        if element_var and loop.find(bpmn("inputDataItem")) is None:
            data_input.addnext(etree.Element(bpmn("inputDataItem"), id=element_var, name=element_var))
    cardinality = loop.find(bpmn("loopCardinality"))
    if cardinality is not None and data_input is not None:
        # SpiffWorkflow accepts only one loop source; its runtime would let the collection win anyway.
        loop.remove(cardinality)
        issues.append(dict(severity="warning", file=file_name, element_id=owner_id,
                           reason="multi-instance has both a collection and a loopCardinality; "
                                  "the collection decides the number of instances"))


def _normalize_countersign_order(loop) -> None:
    owner = loop.getparent()
    rule = (countersign_property(owner) or "").strip().lower() if owner is not None else ""
    # The rule decides the order, whatever marker the diagram shows: `sequential` takes turns in the
    # collection's order; `random` gives a task to one member only.
    if rule == "sequential":
        loop.set("isSequential", "true")
    elif rule == "random":
        loop.set("isSequential", "false")


def countersign_property(node) -> str | None:
    """Return the countersign rule (flowdesk.countersign extension property) a task names, if any."""
    return _properties(node).get(COUNTERSIGN_PROPERTY)


def _set_cardinality(loop, value: str) -> None:
    node = etree.Element(bpmn("loopCardinality"))
    node.text = value
    loop.insert(0, node)


def _normalize_decision_ref(task) -> None:
    ref = extension_attr(task, "decisionRef")
    if not ref:
        return
    ext = task.find(bpmn("extensionElements"))
    if ext is None:
        ext = etree.Element(bpmn("extensionElements"))
        task.insert(0, ext)
    if ext.find(f"{{{SPIFF_NS}}}calledDecisionId") is not None:
        return
    called = etree.SubElement(ext, f"{{{SPIFF_NS}}}calledDecisionId")
    called.text = ref.strip()


def _properties(node) -> dict:
    props = {}
    ext = node.find(bpmn("extensionElements"))
    if ext is None:
        return props
    for prop in ext.iter():
        if local_name(prop) == "property" and prop.get("name"):
            props[prop.get("name")] = prop.get("value") if prop.get("value") is not None else (prop.text or "")
    return props


def _spiff_child(node, name: str) -> str | None:
    ext = node.find(bpmn("extensionElements"))
    if ext is None:
        return None
    found = ext.find(f"{{{SPIFF_NS}}}{name}")
    return found.text.strip() if found is not None and found.text else None


def _split(value: str | None) -> list[str]:
    """Split a comma list; commas inside ${...}/#{...} stay, so `${superiors(initiator, 2)}` is one part."""
    if not value:
        return []
    parts, depth, current = [], 0, ""
    for char in value:
        depth += (char == "{") - (char == "}") if depth or current.rstrip().endswith(("$", "#")) else 0
        if char == "," and depth <= 0:
            parts.append(current)
            current, depth = "", 0
        else:
            current += char
    return [part.strip() for part in [*parts, current] if part.strip()]


def _lanes(process) -> dict:
    lanes = {}
    for lane in process.iter(bpmn("lane")):
        for ref in lane.findall(bpmn("flowNodeRef")):
            if ref.text:
                lanes[ref.text.strip()] = lane.get("name") or lane.get("id")
    return lanes


def _human_task_info(node, props: dict) -> dict:
    info = {
        "assignee": extension_attr(node, "assignee") or props.get("assignee"),
        "candidate_users": _split(extension_attr(node, "candidateUsers") or props.get("candidateUsers")),
        "candidate_groups": _split(extension_attr(node, "candidateGroups") or props.get("candidateGroups")),
        "form_key": (extension_attr(node, "formKey") or props.get("formKey")
                     or _spiff_child(node, "formJsonSchemaFilename")),
        "due_date": extension_attr(node, "dueDate") or props.get("dueDate"),
        "follow_up_date": extension_attr(node, "followUpDate") or props.get("followUpDate"),
        "priority": extension_attr(node, "priority") or props.get("priority"),
        "properties": props or None,  # extension properties, e.g. flowdesk.onNoAssignee
    }
    return {key: value for key, value in info.items() if value not in (None, [], "")}


def _multi_instance_info(node) -> dict | None:
    loop = node.find(bpmn("multiInstanceLoopCharacteristics"))
    if loop is None:
        return None
    condition = loop.find(bpmn("completionCondition"))
    data_input = loop.find(bpmn("loopDataInputRef"))
    item = loop.find(bpmn("inputDataItem"))
    cardinality = loop.find(bpmn("loopCardinality"))
    return {
        "sequential": loop.get("isSequential") == "true",
        "collection": data_input.text.strip() if data_input is not None and data_input.text else None,
        "element_variable": item.get("name") or item.get("id") if item is not None else None,
        "cardinality": cardinality.text.strip() if cardinality is not None and cardinality.text else None,
        "completion_condition": condition.text.strip() if condition is not None and condition.text else None,
        "countersign": (countersign_property(node) or "").strip().lower() or None,
    }


def element_metadata(tree, file_name: str) -> dict:
    """Collect, per element id, what Flowdesk needs beyond SpiffWorkflow's specs."""
    elements: dict[str, dict] = {}
    for process in tree.getroot().iter(bpmn("process")):
        process_id = process.get("id")
        lanes = _lanes(process)
        for node in process.iter():
            tag = local_name(node)
            node_id = node.get("id")
            if not node_id:
                continue
            if tag in FLOW_NODE_TAGS:
                props = _properties(node)
                info = {"type": tag, "name": node.get("name") or "", "process_id": process_id,
                        "file": file_name, "line": node.sourceline}
                if node_id in lanes:
                    info["lane"] = lanes[node_id]
                if tag in HUMAN_TASK_TAGS:
                    info.update(_human_task_info(node, props))
                elif tag == "startEvent":
                    form_key = (extension_attr(node, "formKey") or props.get("formKey")
                                or _spiff_child(node, "formJsonSchemaFilename"))
                    if form_key:
                        info["form_key"] = form_key
                flowdesk = {k: v for k, v in props.items() if k.startswith("flowdesk.")}
                if flowdesk and "properties" not in info:  # e.g. flowdesk.outcome on an end event
                    info["properties"] = flowdesk
                multi = _multi_instance_info(node)
                if multi:
                    info["multi_instance"] = multi
                if tag == "scriptTask":
                    info["script_format"] = (node.get("scriptFormat") or "").strip().lower()
                if tag == "boundaryEvent":
                    info["attached_to"] = node.get("attachedToRef")
                    info["interrupting"] = node.get("cancelActivity", "true") != "false"
                elements[node_id] = info
            elif tag == "sequenceFlow":
                condition = node.find(bpmn("conditionExpression"))
                elements[node_id] = {
                    "type": tag, "name": node.get("name") or "", "process_id": process_id,
                    "source": node.get("sourceRef"), "target": node.get("targetRef"),
                    "condition": condition.text.strip() if condition is not None and condition.text else None,
                    "file": file_name,
                }
    return elements

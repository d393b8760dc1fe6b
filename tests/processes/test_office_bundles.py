"""The office process bundles are well formed: wired flows, bilingual names and titles, valid metadata."""
from __future__ import annotations

import json
import re

import pytest

from forms import schema as forms

from .common import bundle

KEYS = ["expense_reimbursement", "business_trip", "overtime", "purchase_request", "loan_advance",
        "outgoing_document", "incoming_document", "rules_countersign", "project_initiation", "asset_borrowing",
        "office_supplies"]
NODE = re.compile(r'<bpmn:(userTask|serviceTask|exclusiveGateway|startEvent|endEvent|boundaryEvent)\s+id="([^"]+)"'
                  r'[^>]*?name="([^"]*)"', re.S)


def _titles(schema: dict, top: bool = True):
    if top:
        yield schema.get("title", "")
    for prop in schema.get("properties", {}).values():
        yield prop.get("title", "")
        yield from prop.get("enumNames", []) or prop.get("items", {}).get("enumNames", [])
        if prop.get("type") == "array" and isinstance(prop.get("items"), dict) and "properties" in prop["items"]:
            yield from _titles(prop["items"], top=False)


@pytest.mark.parametrize("key", KEYS)
def test_every_flow_is_wired_and_every_name_is_bilingual(key):
    files = bundle(key)
    text = files[f"{key}.bpmn"].decode("utf-8")
    flows = dict((m[0], (m[1], m[2])) for m in re.findall(
        r'<bpmn:sequenceFlow id="([^"]+)"[^>]*?sourceRef="([^"]+)" targetRef="([^"]+)"', text))
    referenced = set(re.findall(r"<bpmn:(?:incoming|outgoing)>([^<]+)<", text))
    assert referenced == set(flows), "every incoming/outgoing names a sequence flow and every flow is referenced"
    nodes = {node_id: (kind, name) for kind, node_id, name in NODE.findall(text)}
    for source, target in flows.values():
        assert source in nodes and target in nodes
    for node_id, (kind, name) in nodes.items():
        assert " / " in name, f"{node_id}: name {name!r} is not 'English / 中文'"
        if kind != "endEvent":
            assert any(source == node_id for source, _ in flows.values()), f"{node_id} leads nowhere"
    assert 'isExecutable="true"' in text and "<bpmndi:BPMNDiagram" in text


@pytest.mark.parametrize("key", KEYS)
def test_metadata_and_form_titles(key):
    files = bundle(key)
    meta = json.loads(files["process.json"])
    assert meta["key"] == key and " / " in meta["name"] and len(meta["description"]) > 40
    assert meta["category"] in {"hr", "finance", "sales", "service", "office", "general"}
    assert meta["model_type"] in {"fixed", "predefined"}
    for name, content in files.items():
        if name.endswith(".json") and name != "process.json":
            for title in _titles(forms.load_schema(content, name)):
                assert " / " in title, f"{name}: {title!r} is not 'English / 中文'"

"""Rename a process id inside BPMN files, with every reference to it and the diagram ids derived from it."""
from __future__ import annotations

from lxml import etree

from engine.errors import ModelError
from engine.xmlsafe import parse_xml

from .errors import InvalidDefinition

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
# Attributes that point at a process by its id: a pool, a call activity, and the diagram plane drawn for it.
REFERENCES = ("processRef", "calledElement", "bpmnElement")
# Elements whose ids modellers derive from the process id (leave_request_diagram, BPMNPlane_leave_request).
DERIVED = {f"{{{BPMN_NS}}}definitions", f"{{{BPMNDI_NS}}}BPMNDiagram", f"{{{BPMNDI_NS}}}BPMNPlane"}


def _derived(element_id: str, old: str, new: str) -> str | None:
    if element_id.startswith(old + "_"):
        return new + element_id[len(old):]
    if element_id.endswith("_" + old):
        return element_id[: -len(old)] + new
    return None


def _rename_tree(root, file_name: str, old: str, new: str, name: str | None) -> bool:
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    processes = [e for e in elements if e.tag == f"{{{BPMN_NS}}}process" and e.get("id") == old]
    ids = {e.get("id") for e in elements if e.get("id")}
    references = []
    if processes or old not in ids:
        # Without the process here, an element of this file with that id is what a local reference means.
        references = [(e, attr) for e in elements for attr in REFERENCES if e.get(attr) == old]
    if not processes and not references:
        return False
    if new in ids:
        # A second element with the new id would make the file invalid; the designer must pick another key.
        raise InvalidDefinition(f"{file_name}: the id '{new}' is already used by another element of the model",
                                details={"field": "key", "file": file_name, "problem": "id_in_model"})
    for process in processes:
        process.set("id", new)
        if name:
            process.set("name", name)
    for element, attr in references:
        element.set(attr, new)
    renamed: dict[str, str] = {}
    for element in elements:
        current = element.get("id")
        target = _derived(current, old, new) if element.tag in DERIVED and current else None
        if target and target not in ids:
            element.set("id", target)
            ids.add(target)
            renamed[current] = target
    if renamed:
        # Nothing in BPMN usually points at a diagram or plane, but keep any reference that does.
        for element in elements:
            for attr, value in element.attrib.items():
                if attr != "id" and value in renamed:
                    element.set(attr, renamed[value])
    return True


def rename_process(files: dict[str, bytes], *, old: str, new: str, name: str | None = None) -> dict[str, bytes]:
    """Return the bundle with process `old` renamed to `new` in every BPMN file; untouched files keep their bytes."""
    out = dict(files)
    for file_name, content in files.items():
        if file_name.lower().endswith((".dmn", ".json")):
            continue
        try:
            tree = parse_xml(content, file_name)
        except ModelError as exc:
            raise InvalidDefinition(str(exc), details={**exc.to_dict(), "file": file_name}) from None
        if _rename_tree(tree.getroot(), file_name, old, new, name):
            out[file_name] = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    return out

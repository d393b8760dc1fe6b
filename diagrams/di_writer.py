"""Give a BPMN file a diagram layout (BPMN DI) computed by the auto layout, so modelling tools and the
progress view show the same drawing. Bytes in, bytes out."""
from __future__ import annotations

from .layout import auto_layout
from .model import load_trees

DI_NS = ('xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
         'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI"')


MARGIN_X, MARGIN_Y = 160, 80  # where modelling tools expect a drawing to start, clear of their palette


def _num(value: float) -> str:
    return f"{value:.0f}"


def with_layout(name: str, data: bytes, process_id: str | None = None) -> bytes:
    """Return the BPMN file with a BPMNDiagram for its (primary) process; a file that has one is returned as is."""
    text = data.decode("utf-8")
    if "BPMNDiagram" in text:
        return data
    diagram = auto_layout(load_trees({name: data}), process_id)
    if diagram is None:
        return data
    lines = [f'  <bpmndi:BPMNDiagram id="{diagram.process_id}_diagram">',
             f'    <bpmndi:BPMNPlane id="{diagram.process_id}_plane" bpmnElement="{diagram.process_id}">']
    for node in diagram.nodes:
        box = node.box
        lines.append(f'      <bpmndi:BPMNShape id="{node.id}_di" bpmnElement="{node.id}">'
                     f'<dc:Bounds x="{_num(box.x + MARGIN_X)}" y="{_num(box.y + MARGIN_Y)}" width="{_num(box.w)}" height="{_num(box.h)}"/>'
                     '</bpmndi:BPMNShape>')
    for edge in diagram.edges:
        points = "".join(f'<di:waypoint x="{_num(x + MARGIN_X)}" y="{_num(y + MARGIN_Y)}"/>' for x, y in edge.points)
        lines.append(f'      <bpmndi:BPMNEdge id="{edge.id}_di" bpmnElement="{edge.id}">{points}</bpmndi:BPMNEdge>')
    lines += ["    </bpmndi:BPMNPlane>", "  </bpmndi:BPMNDiagram>"]
    head, _, tail = text.rpartition("</bpmn:definitions>")
    if not _:
        raise ValueError(f"{name}: the file does not end with </bpmn:definitions>")
    if "xmlns:bpmndi=" not in head:
        head = head.replace("<bpmn:definitions ", f"<bpmn:definitions {DI_NS} ", 1)
    return (head.rstrip() + "\n" + "\n".join(lines) + "\n</bpmn:definitions>" + tail).encode("utf-8")

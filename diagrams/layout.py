"""Lay out a process that has no BPMN DI with Graphviz's dot, left to right."""
from __future__ import annotations

import json

import graphviz

from engine.dialect import FLOW_NODE_TAGS, local_name

from .errors import GRAPHVIZ_MISSING, DiagramError
from .model import EVENT_TAGS, GATEWAY_TAGS, Box, Diagram, Edge, Node, describe, describe_edge, index_elements
from .text import wrap

SIZES = {"event": (36.0, 36.0), "gateway": (50.0, 50.0), "activity": (100.0, 80.0)}
POINTS_PER_INCH = 72.0
# The graphviz package offers no timeout, and dot grows faster than linearly: bound the input instead.
MAX_LAYOUT_NODES = 1500


def _size(kind: str) -> tuple[float, float]:
    if kind in EVENT_TAGS:
        return SIZES["event"]
    if kind in GATEWAY_TAGS:
        return SIZES["gateway"]
    return SIZES["activity"]


def _pick_process(trees, process_id: str | None):
    processes = [(name, tree, process) for name, tree in trees for process in tree.getroot()
                 if local_name(process) == "process"]
    if process_id is not None:
        return next((p for p in processes if p[2].get("id") == process_id), None)
    ranked = sorted(processes, key=lambda p: p[2].get("isExecutable") != "true")
    return next((p for p in ranked if any(local_name(c) in FLOW_NODE_TAGS for c in p[2])), None)


def _run_dot(graph: graphviz.Digraph) -> dict:
    try:
        return json.loads(graph.pipe(format="json0", quiet=True))
    except graphviz.ExecutableNotFound:
        raise DiagramError(GRAPHVIZ_MISSING) from None
    except (graphviz.CalledProcessError, ValueError, OSError) as exc:
        raise DiagramError(f"Graphviz could not lay out the process: {exc}") from None


def _label_stub(name: str) -> str:
    # Graphviz only needs the label's size to leave room for it; the real text never reaches dot,
    # so a hostile name cannot be read as an HTML-like label or an escape sequence.
    return "\n".join("n" * len(line) for line in wrap(name, 90, max_lines=3)) if name else ""


def auto_layout(trees, process_id: str | None) -> Diagram | None:
    """Place a process's top-level flow nodes with dot; None when there is no such process to draw."""
    picked = _pick_process(trees, process_id)
    if picked is None:
        return None
    file_name, tree, process = picked
    index = index_elements(tree)
    elements = [c for c in process if local_name(c) in FLOW_NODE_TAGS and c.get("id")]
    if not elements:
        return None
    if len(elements) > MAX_LAYOUT_NODES:
        raise DiagramError(f"the process has {len(elements)} elements and no diagram layout; laying out more than "
                           f"{MAX_LAYOUT_NODES} is refused", file_name=file_name, process_id=process.get("id"))
    boundaries = [e for e in elements if local_name(e) == "boundaryEvent"]
    placed = [e for e in elements if local_name(e) != "boundaryEvent"]
    names = {e.get("id"): f"n{i}" for i, e in enumerate(placed)}
    attached = {b.get("id"): (b.get("attachedToRef") or "").strip() for b in boundaries}
    graph = graphviz.Digraph(engine="dot", graph_attr={"rankdir": "LR", "splines": "polyline", "nodesep": "0.6",
                                                       "ranksep": "0.55", "fontsize": "12"})
    for element in placed:
        kind = local_name(element)
        w, h = _size(kind)
        shape = "circle" if kind in EVENT_TAGS else "diamond" if kind in GATEWAY_TAGS else "box"
        graph.node(names[element.get("id")], label="", shape=shape, fixedsize="true",
                   width=f"{w / POINTS_PER_INCH:.4f}", height=f"{h / POINTS_PER_INCH:.4f}")
    flows = []
    for flow in (c for c in process if local_name(c) == "sequenceFlow" and c.get("id")):
        source, target = (flow.get("sourceRef") or "").strip(), (flow.get("targetRef") or "").strip()
        tail = names.get(attached.get(source, source))
        head = names.get(target)
        if tail and head:
            flows.append((flow, source))
            graph.edge(tail, head, arrowhead="none", comment=str(len(flows) - 1), fontsize="12",
                       label=_label_stub(flow.get("name") or ""))
    layout = _run_dot(graph)
    return _diagram(layout, file_name, process, index, placed, boundaries, flows)


def _pairs(text: str) -> list[tuple[float, float]]:
    points = []
    for part in text.replace("e,", "").replace("s,", "").split():
        x, _, y = part.partition(",")
        points.append((float(x), float(y)))
    return points


def _from_boundary(start: Box, target: Box | None, end) -> list[tuple[float, float]]:
    # dot routed the flow from the host activity; re-route it orthogonally from the boundary event.
    if target is not None and target.x > start.x + start.w + 10:
        mid = (start.x + start.w + target.x) / 2
        return [(start.x + start.w, start.cy), (mid, start.cy), (mid, target.cy), (target.x, target.cy)]
    return [(start.cx, start.y + start.h), (start.cx, end[1]), end]


def _diagram(layout: dict, file_name: str, process, index: dict, placed, boundaries, flows) -> Diagram:
    top = float(layout.get("bb", "0,0,0,0").split(",")[3])
    flip = (lambda p: (p[0], top - p[1]))  # noqa: E731  dot puts y upwards, SVG downwards
    diagram = Diagram(file_name=file_name, process_id=process.get("id"), laid_out=True)
    boxes = {}
    by_name = {f"n{i}": element for i, element in enumerate(placed)}
    for obj in layout.get("objects", []):
        element = by_name.get(obj.get("name"))
        if element is None or not obj.get("pos"):
            continue
        x, y = flip(_pairs(obj["pos"])[0])
        info = describe(element, index)
        w, h = _size(info["kind"])
        node = Node(id=element.get("id"), box=Box(x - w / 2, y - h / 2, w, h), **info)
        boxes[node.id] = node.box
        diagram.nodes.append(node)
    slots: dict[str, int] = {}
    for boundary in boundaries:
        host_id = (boundary.get("attachedToRef") or "").strip()
        host = boxes.get(host_id)
        if host is None:
            continue
        slot = slots.get(host_id, 0)
        slots[host_id] = slot + 1
        # Along the host's bottom edge, right to left, as modellers usually place them.
        box = Box(host.x + host.w - 30 - slot * 40, host.y + host.h - 18, 36, 36)
        boxes[boundary.get("id")] = box
        diagram.nodes.append(Node(id=boundary.get("id"), box=box, **describe(boundary, index)))
    boundary_ids = {b.get("id") for b in boundaries}
    for edge in layout.get("edges", []):
        flow, source = flows[int(edge["comment"])]
        points = [flip(p) for p in _pairs(edge.get("pos", ""))]
        points = points[::3] if len(points) >= 4 else points
        if source in boundary_ids and source in boxes and points:
            points = _from_boundary(boxes[source], boxes.get((flow.get("targetRef") or "").strip()), points[-1])
        label = None
        if edge.get("lp"):
            lx, ly = flip(_pairs(edge["lp"])[0])
            label = Box(lx - 45, ly - 10, 90, 20)
        if len(points) >= 2:
            diagram.edges.append(Edge(id=flow.get("id"), points=points, label=label, **describe_edge(flow, index)))
    return diagram

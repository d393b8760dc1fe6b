"""Read BPMN files into what the renderer draws: nodes with boxes and edges with waypoints."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from engine.dialect import BPMN_NS, FLOW_NODE_TAGS, local_name
from engine.xmlsafe import parse_xml

from .errors import DiagramError

DI_NAMESPACES = ("http://www.omg.org/spec/BPMN/20100524/DI", "http://www.omg.org/spec/DD/20100524/DC",
                 "http://www.omg.org/spec/DD/20100524/DI")
SUBPROCESS_TAGS = {"subProcess", "transaction", "adHocSubProcess"}
EVENT_TAGS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
GATEWAY_TAGS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
EDGE_TAGS = {"sequenceFlow", "messageFlow", "association", "dataInputAssociation", "dataOutputAssociation"}
ARTIFACT_TAGS = {"textAnnotation", "group", "dataObjectReference", "dataObject", "dataStoreReference",
                 "dataInput", "dataOutput"}
CONTAINER_TAGS = {"participant", "lane"}
_EVENT_KINDS = {"timer": "timer", "message": "message", "signal": "signal", "error": "error",
                "escalation": "escalation", "terminate": "terminate", "conditional": "conditional",
                "link": "link", "compensate": "compensation", "cancel": "cancel"}


@dataclass
class Box:
    """An axis-aligned rectangle in diagram coordinates."""

    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        """Return the horizontal centre."""
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        """Return the vertical centre."""
        return self.y + self.h / 2


@dataclass
class Node:
    """A shape to draw: a flow node, a pool, a lane or an artifact."""

    id: str
    kind: str
    name: str
    box: Box
    label: Box | None = None
    event: str | None = None
    throwing: bool = False
    interrupting: bool = True
    loop: str | None = None
    expanded: bool = False
    horizontal: bool = True
    black_box: bool = False
    collection: bool = False
    compensation: bool = False
    triggered: bool = False
    parallel: bool = False
    text: str = ""
    depth: int = 0
    label_above: bool = False


@dataclass
class Edge:
    """A connection to draw: a sequence or message flow, an association or a data association."""

    id: str
    kind: str
    name: str
    points: list[tuple[float, float]]
    label: Box | None = None
    default: bool = False
    conditional: bool = False
    directed: bool = True


@dataclass
class Diagram:
    """Everything one SVG shows, in drawing order once sorted by the renderer."""

    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    file_name: str = ""
    process_id: str | None = None
    laid_out: bool = False


def load_trees(files: dict[str, bytes]) -> list[tuple[str, object]]:
    """Parse the BPMN files of a definition through the hardened parser, skipping forms and DMN."""
    trees = []
    for name, data in files.items():
        lowered = name.lower()
        if lowered.endswith((".json", ".dmn", ".form", ".md", ".txt")):
            continue
        if not lowered.endswith((".bpmn", ".bpmn20.xml", ".xml")):
            continue
        try:
            tree = parse_xml(data, name)
        except Exception as exc:  # the hardened parser's refusal names the reason; keep it with the file
            raise DiagramError(f"cannot read the model: {getattr(exc, 'reason', exc)}", file_name=name) from None
        if tree.getroot().tag == f"{{{BPMN_NS}}}definitions":
            trees.append((name, tree))
    if not trees:
        raise DiagramError("the definition has no BPMN file to draw")
    return trees


def index_elements(tree) -> dict:
    """Map every model element id to its element; diagram interchange elements are left out."""
    index = {}
    for element in tree.iter():
        tag = element.tag
        if not isinstance(tag, str) or tag.startswith(tuple("{" + ns for ns in DI_NAMESPACES)):
            continue
        ident = element.get("id")
        if ident and ident not in index:
            index[ident] = element
    return index


def describe(element, index: dict) -> dict:
    """Return the drawing facts of a model element: event type, markers, flags."""
    kind = local_name(element)
    info: dict = {"kind": kind, "name": element.get("name") or ""}
    if kind in EVENT_TAGS:
        kinds = [local_name(child)[:-len("EventDefinition")] for child in element
                 if local_name(child).endswith("EventDefinition")]
        kinds += [local_name(index.get(ref.text.strip(), element))[:-len("EventDefinition")]
                  for ref in element if local_name(ref) == "eventDefinitionRef" and ref.text]
        kinds = [_EVENT_KINDS[k] for k in kinds if k in _EVENT_KINDS]
        if len(kinds) > 1:
            info["event"] = "multiple"
        elif kinds:
            info["event"] = kinds[0]
        info["parallel"] = element.get("parallelMultiple") == "true"
        info["throwing"] = kind in ("endEvent", "intermediateThrowEvent")
        attr = "isInterrupting" if kind == "startEvent" else "cancelActivity"
        info["interrupting"] = element.get(attr, "true").strip().lower() != "false"
    for child in element:
        child_kind = local_name(child)
        if child_kind == "multiInstanceLoopCharacteristics":
            info["loop"] = "sequential" if child.get("isSequential") == "true" else "parallel"
        elif child_kind == "standardLoopCharacteristics":
            info["loop"] = "standard"
    if kind in SUBPROCESS_TAGS:
        info["triggered"] = element.get("triggeredByEvent") == "true"
    info["compensation"] = element.get("isForCompensation") == "true"
    if kind == "eventBasedGateway":
        info["parallel"] = element.get("eventGatewayType") == "Parallel"
    if kind == "participant":
        info["black_box"] = not element.get("processRef")
    if kind == "textAnnotation":
        text = next((child for child in element if local_name(child) == "text"), None)
        info["text"] = (text.text or "") if text is not None else ""
    if kind == "group":
        value = index.get((element.get("categoryValueRef") or "").strip())
        info["name"] = (value.get("value") or "") if value is not None else info["name"]
    if kind == "dataObjectReference":
        target = index.get((element.get("dataObjectRef") or "").strip())
        info["collection"] = target is not None and target.get("isCollection") == "true"
        info["name"] = info["name"] or (target.get("name") or "" if target is not None else "")
    if kind in ("dataObject", "dataInput", "dataOutput"):
        info["collection"] = element.get("isCollection") == "true"
    info["depth"] = sum(1 for parent in element.iterancestors() if local_name(parent) in SUBPROCESS_TAGS)
    return info


def describe_edge(element, index: dict) -> dict:
    """Return the drawing facts of a connection: default, conditional, direction."""
    kind = local_name(element)
    info: dict = {"kind": kind, "name": element.get("name") or ""}
    if kind == "sequenceFlow":
        source = index.get((element.get("sourceRef") or "").strip())
        source_kind = local_name(source) if source is not None else ""
        info["default"] = source is not None and source.get("default") == element.get("id")
        has_condition = any(local_name(child) == "conditionExpression" for child in element)
        info["conditional"] = has_condition and source_kind not in GATEWAY_TAGS and source_kind not in EVENT_TAGS
    elif kind == "association":
        info["directed"] = (element.get("associationDirection") or "None") != "None"
    return info


def _bounds(shape) -> Box | None:
    bounds = next((child for child in shape if local_name(child) == "Bounds"), None)
    return _box(bounds) if bounds is not None else None


def _box(bounds) -> Box | None:
    try:
        values = [float(bounds.get(key, "")) for key in ("x", "y", "width", "height")]
    except ValueError:
        return None
    if not all(math.isfinite(v) and abs(v) < 1e7 for v in values) or values[2] < 0 or values[3] < 0:
        return None
    return Box(*values)


def _label(di) -> Box | None:
    label = next((child for child in di if local_name(child) == "BPMNLabel"), None)
    if label is None:
        return None
    box = _bounds(label)
    return box if box is not None and box.w > 0 and box.h > 0 else None


def _points(edge) -> list[tuple[float, float]]:
    points = []
    for point in edge:
        if local_name(point) != "waypoint":
            continue
        try:
            x, y = float(point.get("x", "")), float(point.get("y", ""))
        except ValueError:
            continue
        if math.isfinite(x) and math.isfinite(y) and abs(x) < 1e7 and abs(y) < 1e7:
            points.append((x, y))
    return points


def _planes(trees):
    for name, tree in trees:
        for plane in tree.iter():
            if local_name(plane) == "BPMNPlane":
                yield name, tree, plane


def _owning_process(element):
    for parent in element.iterancestors():
        if local_name(parent) == "process":
            return parent.get("id")
    return None


def find_plane(trees, process_id: str | None):
    """Return (file name, tree, plane) of the diagram that shows the process, or None when none does."""
    planes = list(_planes(trees))
    if process_id is None:
        return planes[0] if planes else None
    for name, tree, plane in planes:
        ref = (plane.get("bpmnElement") or "").strip()
        if ref == process_id:
            return name, tree, plane
        target = index_elements(tree).get(ref)
        if target is not None and local_name(target) == "collaboration" and any(
                local_name(p) == "participant" and p.get("processRef") == process_id for p in target):
            return name, tree, plane
    for name, tree, plane in planes:
        index = index_elements(tree)
        for shape in plane:
            element = index.get((shape.get("bpmnElement") or "").strip())
            if element is not None and _owning_process(element) == process_id:
                return name, tree, plane
    return None


def read_plane(name: str, tree, plane, process_id: str | None) -> Diagram:
    """Collect the shapes and edges of one diagram plane, skipping what refers to unknown elements."""
    index = index_elements(tree)
    if process_id is None:
        shown_process = index.get((plane.get("bpmnElement") or "").strip())
        if shown_process is not None and local_name(shown_process) == "process":
            process_id = shown_process.get("id")
    diagram = Diagram(file_name=name, process_id=process_id)
    shapes = [(di, index.get((di.get("bpmnElement") or "").strip())) for di in plane
              if local_name(di) == "BPMNShape"]
    shown = {element.get("id") for _, element in shapes if element is not None}
    for di, element in shapes:
        box = _bounds(di)
        if element is None or box is None:
            continue
        info = describe(element, index)
        if info["kind"] in SUBPROCESS_TAGS or info["kind"] == "callActivity":
            flag = (di.get("isExpanded") or "").strip().lower()
            children = {child.get("id") for child in element.iter() if child is not element}
            info["expanded"] = flag == "true" or (flag == "" and bool(children & shown))
        info["horizontal"] = (di.get("isHorizontal") or "true").strip().lower() != "false"
        diagram.nodes.append(Node(id=element.get("id"), box=box, label=_label(di), **info))
    for di in plane:
        if local_name(di) != "BPMNEdge":
            continue
        element = index.get((di.get("bpmnElement") or "").strip())
        points = _points(di)
        if element is None or len(points) < 2 or local_name(element) not in EDGE_TAGS:
            continue
        diagram.edges.append(Edge(id=element.get("id"), points=points, label=_label(di),
                                  **describe_edge(element, index)))
    return diagram


def has_flow_nodes(diagram: Diagram) -> bool:
    """Tell whether a plane shows any flow node at all."""
    return any(node.kind in FLOW_NODE_TAGS for node in diagram.nodes)

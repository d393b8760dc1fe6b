"""Draw one node or one edge as SVG markup, from its box or waypoints."""
from __future__ import annotations

import math

from .icons import TASK_ICON_KINDS, activity_markers, event_icon, gateway_icon, task_icon
from .model import EVENT_TAGS, GATEWAY_TAGS, SUBPROCESS_TAGS, Box, Edge, Node
from .text import LINE_HEIGHT, num, text_block, text_width, wrap

BAND = 30.0
EXTERNAL_LABEL_WIDTH = 96.0
DATA_TAGS = {"dataObjectReference", "dataObject", "dataInput", "dataOutput"}


def _rect(box: Box, cls: str, rx: float = 0) -> str:
    corner = f' rx="{num(rx)}"' if rx else ""
    return (f'<rect class="{cls}" x="{num(box.x)}" y="{num(box.y)}" width="{num(box.w)}" '
            f'height="{num(box.h)}"{corner}/>')


def external_label(node: Node) -> tuple[list[str], float, float]:
    """Return the lines and centre of a label drawn outside its shape (events, gateways, data)."""
    if node.label is not None:
        lines = wrap(node.name, max(node.label.w * 1.25, EXTERNAL_LABEL_WIDTH), max_lines=6)
        return lines, node.label.cx, node.label.cy
    lines = wrap(node.name, EXTERNAL_LABEL_WIDTH, max_lines=6)
    if node.label_above:
        return lines, node.box.cx, node.box.y - 5 - len(lines) * LINE_HEIGHT / 2
    top = node.box.y + node.box.h + 5
    return lines, node.box.cx, top + len(lines) * LINE_HEIGHT / 2


def place_external_labels(nodes: list[Node], edges: list[Edge]) -> None:
    """Move a label without DI bounds above its shape when a flow leaves or enters from below."""
    ends = [p for edge in edges for p in (edge.points[0], edge.points[-1])]
    for node in nodes:
        if node.label is not None or not node.name or node.kind not in EVENT_TAGS | GATEWAY_TAGS:
            continue
        box = node.box
        near = [(px, py) for px, py in ends if box.x - 2 <= px <= box.x + box.w + 2]
        below = any(box.y + box.h * 0.75 <= py <= box.y + box.h + 4 for _, py in near)
        above = any(box.y - 4 <= py <= box.y + box.h * 0.25 for _, py in near)
        node.label_above = below and not above


def label_extent(node: Node) -> Box | None:
    """Estimate the box an external label covers, so the view box can fit it."""
    if node.kind == "textAnnotation":
        lines = wrap(node.text or node.name, max(node.box.w - 10, 30), max_lines=40)
        width = max(text_width(line) for line in lines) + 6
        return Box(node.box.x, node.box.y, width, len(lines) * LINE_HEIGHT + 4)
    if not node.name or not (node.kind in EVENT_TAGS or node.kind in GATEWAY_TAGS or node.kind in DATA_TAGS
                             or node.kind == "dataStoreReference"):
        return None
    lines, cx, cy = external_label(node)
    width = max(text_width(line) for line in lines)
    height = len(lines) * LINE_HEIGHT
    return Box(cx - width / 2, cy - height / 2, width, height)


def _external(node: Node) -> str:
    if not node.name:
        return ""
    lines, cx, cy = external_label(node)
    return text_block(lines, cx, cy, cls="fd-label fd-external")


def _pool(node: Node) -> str:
    box = node.box
    out = [_rect(box, "fd-shape")]
    if node.black_box:
        return out[0] + text_block(wrap(node.name, max(box.w - 20, 40), max_lines=3), box.cx, box.cy,
                                   cls="fd-label fd-container-label")
    return out[0] + _band(node)


def _band(node: Node) -> str:
    box = node.box
    if not node.horizontal:
        band = Box(box.x, box.y, box.w, BAND)
        lines = wrap(node.name, max(box.w - 10, 30), max_lines=2)
        return _rect(band, "fd-band") + text_block(lines, box.cx, box.y + BAND / 2, cls="fd-label fd-container-label")
    band = Box(box.x, box.y, BAND, box.h)
    lines = wrap(node.name, max(box.h - 10, 30), max_lines=2)
    cx, cy = box.x + BAND / 2, box.cy
    return _rect(band, "fd-band") + text_block(lines, cx, cy, cls="fd-label fd-container-label",
                                               transform=f"rotate(-90 {num(cx)} {num(cy)})")


def _activity(node: Node) -> str:
    box = node.box
    classes = ["fd-shape"]
    if node.kind == "callActivity":
        classes.append("fd-call")
    if node.triggered:
        classes.append("fd-dotted")
    radius = min(10.0, box.w / 4, box.h / 4)
    out = [_rect(box, " ".join(classes), radius)]
    if node.kind == "transaction":
        inner = Box(box.x + 3, box.y + 3, max(box.w - 6, 0), max(box.h - 6, 0))
        out.append(_rect(inner, "fd-inner", max(radius - 3, 0)))
    out.append(task_icon(node.kind, box.x, box.y))
    markers = []
    if node.loop:
        markers.append(node.loop)
    if node.compensation:
        markers.append("compensation")
    if node.kind == "adHocSubProcess":
        markers.append("adhoc")
    if (node.kind in SUBPROCESS_TAGS or node.kind == "callActivity") and not node.expanded:
        markers.append("collapsed")
    out.append(activity_markers(markers, box.cx, box.y + box.h))
    if node.expanded:
        lines = wrap(node.name, max(box.w - 16, 30), max_lines=2)
        top = box.y + 8 + len(lines) * LINE_HEIGHT / 2
        out.append(text_block(lines, box.x + 8, top, anchor="start"))
    else:
        bottom = box.y + box.h - (17 if markers else 4)
        lines = wrap(node.name, max(box.w - 12, 20), max_lines=max(1, int((bottom - box.y - 4) // LINE_HEIGHT)))
        centre = (box.y + bottom) / 2 if markers else box.cy
        if node.kind in TASK_ICON_KINDS and centre - len(lines) * LINE_HEIGHT / 2 < box.y + 21:
            # A tall label would run into the type icon: centre it in the space below the icon instead.
            top = box.y + 21
            fits = max(1, int((bottom - top) // LINE_HEIGHT))
            lines = lines if len(lines) <= fits else wrap(node.name, max(box.w - 12, 20), max_lines=fits)
            centre = (top + bottom) / 2
        out.append(text_block(lines, box.cx, centre))
    return "".join(out)


def _event(node: Node) -> str:
    box = node.box
    r = max(min(box.w, box.h) / 2, 4)
    cx, cy = box.cx, box.cy
    classes = ["fd-shape"]
    if node.kind == "endEvent":
        classes.append("fd-thick")
    if not node.interrupting and node.kind in ("startEvent", "boundaryEvent"):
        classes.append("fd-dashed")
    out = [f'<circle class="{" ".join(classes)}" cx="{num(cx)}" cy="{num(cy)}" r="{num(r)}"/>']
    if node.kind in ("intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"):
        dash = " fd-dashed-inner" if not node.interrupting else ""
        out.append(f'<circle class="fd-inner{dash}" cx="{num(cx)}" cy="{num(cy)}" r="{num(r - 3)}"/>')
    out.append(event_icon(node.event, cx, cy, r, node.throwing, node.parallel))
    return "".join(out) + _external(node)


def _gateway(node: Node) -> str:
    box = node.box
    cx, cy = box.cx, box.cy
    points = f"{num(cx)},{num(box.y)} {num(box.x + box.w)},{num(cy)} {num(cx)},{num(box.y + box.h)} {num(box.x)},{num(cy)}"
    return (f'<polygon class="fd-shape" points="{points}"/>'
            + gateway_icon(node.kind, cx, cy, min(box.w, box.h), node.parallel) + _external(node))


def _data(node: Node) -> str:
    box = node.box
    fold = min(10.0, box.w / 3)
    x, y, r, b = box.x, box.y, box.x + box.w, box.y + box.h
    page = (f'<path class="fd-shape" d="M{num(x)},{num(y)} H{num(r - fold)} L{num(r)},{num(y + fold)} '
            f'V{num(b)} H{num(x)} Z"/><path class="fd-inner" d="M{num(r - fold)},{num(y)} '
            f'V{num(y + fold)} H{num(r)}"/>')
    if node.collection:
        page += activity_markers(["parallel"], box.cx, b)
    if node.kind in ("dataInput", "dataOutput"):
        solid = "fd-solid" if node.kind == "dataOutput" else "fd-mark"
        page += (f'<path class="{solid}" d="M{num(x + 4)},{num(y + 6)} h6 v-3 l5,5 l-5,5 v-3 h-6 Z"/>')
    return page + _external(node)


def _store(node: Node) -> str:
    box = node.box
    ry = min(8.0, box.h / 6)
    x, r, top, b = box.x, box.x + box.w, box.y + ry, box.y + box.h - ry
    rx = box.w / 2
    body = (f'<path class="fd-shape" d="M{num(x)},{num(top)} A{num(rx)},{num(ry)} 0 0 1 {num(r)},{num(top)} '
            f'V{num(b)} A{num(rx)},{num(ry)} 0 0 1 {num(x)},{num(b)} Z"/>'
            f'<path class="fd-inner" d="M{num(x)},{num(top)} A{num(rx)},{num(ry)} 0 0 0 {num(r)},{num(top)} '
            f'M{num(x)},{num(top + 5)} A{num(rx)},{num(ry)} 0 0 0 {num(r)},{num(top + 5)}"/>')
    return body + _external(node)


def _annotation(node: Node) -> str:
    box = node.box
    arm = min(15.0, box.w)
    bracket = (f'<path class="fd-annotation-line" d="M{num(box.x + arm)},{num(box.y)} H{num(box.x)} '
               f'V{num(box.y + box.h)} H{num(box.x + arm)}"/>')
    lines = wrap(node.text or node.name, max(box.w - 10, 30), max_lines=40)
    height = len(lines) * LINE_HEIGHT
    # Text longer than its box starts at the top and runs below it, as modelling tools show it.
    centre = box.cy if height <= box.h else box.y + 2 + height / 2
    return bracket + text_block(lines, box.x + 6, centre, anchor="start")


def _group(node: Node) -> str:
    box = node.box
    label = text_block(wrap(node.name, max(box.w - 10, 40), max_lines=2), box.cx, box.y + 12)
    return _rect(box, "fd-shape", 10) + label


def node_body(node: Node) -> str:
    """Return the markup of a node without its wrapper group."""
    kind = node.kind
    if kind in ("participant", "process"):
        return _pool(node)
    if kind == "lane":
        return _rect(node.box, "fd-shape") + _band(node)
    if kind in EVENT_TAGS:
        return _event(node)
    if kind in GATEWAY_TAGS:
        return _gateway(node)
    if kind in DATA_TAGS:
        return _data(node)
    if kind == "dataStoreReference":
        return _store(node)
    if kind == "textAnnotation":
        return _annotation(node)
    if kind == "group":
        return _group(node)
    return _activity(node)


def _unit(a, b) -> tuple[float, float] | None:
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = math.hypot(dx, dy)
    return (dx / length, dy / length) if length > 1e-6 else None


def _direction(points, at_end: bool):
    pairs = list(zip(points, points[1:], strict=False))
    for a, b in (reversed(pairs) if at_end else pairs):
        unit = _unit(a, b)
        if unit:
            return unit
    return None


def _head(tip, unit, cls: str, length: float = 11.0, half: float = 4.5, closed: bool = True) -> str:
    ux, uy = unit
    bx, by = tip[0] - ux * length, tip[1] - uy * length
    left = (bx - uy * half, by + ux * half)
    right = (bx + uy * half, by - ux * half)
    pts = f"{num(left[0])},{num(left[1])} {num(tip[0])},{num(tip[1])} {num(right[0])},{num(right[1])}"
    return f'<polygon class="{cls}" points="{pts}"/>' if closed else f'<polyline class="fd-line" points="{pts}"/>'


def midpoint(points) -> tuple[float, float, bool]:
    """Return the point halfway along a polyline and whether that stretch runs horizontally."""
    lengths = [math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(points, points[1:], strict=False)]
    remaining = sum(lengths) / 2
    for (a, b), length in zip(zip(points, points[1:], strict=False), lengths, strict=True):
        if remaining <= length and length > 0:
            t = remaining / length
            return a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, abs(b[0] - a[0]) >= abs(b[1] - a[1])
        remaining -= length
    return points[0][0], points[0][1], True


def edge_label_box(edge: Edge) -> Box | None:
    """Estimate where an edge's name is written, so the view box can fit it."""
    if not edge.name:
        return None
    if edge.label is not None:
        return edge.label
    x, y, _ = midpoint(edge.points)
    return Box(x - 50, y - 20, 100, 40)


def _edge_label(edge: Edge) -> str:
    if not edge.name:
        return ""
    if edge.label is not None:
        lines = wrap(edge.name, max(edge.label.w * 1.25, 60), max_lines=4)
        return text_block(lines, edge.label.cx, edge.label.cy, cls="fd-label fd-edge-label")
    x, y, horizontal = midpoint(edge.points)
    lines = wrap(edge.name, 90, max_lines=3)
    if horizontal:
        return text_block(lines, x, y - 6 - len(lines) * LINE_HEIGHT / 2, cls="fd-label fd-edge-label")
    return text_block(lines, x + 6, y, cls="fd-label fd-edge-label", anchor="start")


def edge_body(edge: Edge) -> str:
    """Return the markup of a connection: its line, end markers and name."""
    points = edge.points
    line = " ".join(f"{num(x)},{num(y)}" for x, y in points)
    out = [f'<polyline class="fd-line" points="{line}"/>']
    start, end = _direction(points, False), _direction(points, True)
    if edge.kind == "sequenceFlow" and end:
        out.append(_head(points[-1], end, "fd-head"))
        if start and edge.default:
            sx, sy = points[0][0] + start[0] * 11, points[0][1] + start[1] * 11
            vx, vy = start[0] * 0.55 - start[1], start[1] * 0.55 + start[0]
            norm = math.hypot(vx, vy)
            vx, vy = vx / norm * 6, vy / norm * 6
            out.append(f'<path class="fd-line" d="M{num(sx - vx)},{num(sy - vy)} L{num(sx + vx)},{num(sy + vy)}"/>')
        elif start and edge.conditional:
            ux, uy = start
            x0, y0 = points[0]
            diamond = [(x0, y0), (x0 + ux * 8 - uy * 5, y0 + uy * 8 + ux * 5), (x0 + ux * 16, y0 + uy * 16),
                       (x0 + ux * 8 + uy * 5, y0 + uy * 8 - ux * 5)]
            out.append('<polygon class="fd-head fd-open" points="'
                       + " ".join(f"{num(x)},{num(y)}" for x, y in diamond) + '"/>')
    elif edge.kind == "messageFlow" and end:
        out.append(_head(points[-1], end, "fd-head fd-open"))
        if start:
            cx, cy = points[0][0] + start[0] * 4.5, points[0][1] + start[1] * 4.5
            out.append(f'<circle class="fd-head fd-open" cx="{num(cx)}" cy="{num(cy)}" r="4.5"/>')
    elif edge.directed and end:
        out.append(_head(points[-1], end, "fd-line", closed=False))
    out.append(_edge_label(edge))
    return "".join(out)

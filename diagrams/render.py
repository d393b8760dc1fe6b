"""Render a BPMN definition, with an instance's progress or a definition's bottlenecks, as one SVG."""
from __future__ import annotations

from engine.dialect import FLOW_NODE_TAGS

from .errors import DiagramError
from .layout import auto_layout
from .model import Box, Diagram, Node, find_plane, has_flow_nodes, load_trees, read_plane
from .shapes import edge_body, edge_label_box, label_extent, node_body, place_external_labels
from .style import (
    CSS,
    FONT_FAMILY,
    LEGEND_HEIGHT,
    LEGEND_WIDTH,
    STATES,
    heat_colour,
    legend,
    state_word,
    words,
)
from .text import esc, format_duration, format_time, localize, num

MARGIN = 20.0
SVG_NS = "http://www.w3.org/2000/svg"


def render_definition(files: dict[str, bytes], process_id: str | None = None, *, progress: dict | None = None,
                      aggregate: dict | None = None, lang: str = "en") -> str:
    """Draw a definition's process as an SVG document, from its BPMN DI layout or laid out by Graphviz."""
    trees = load_trees(files)
    found = find_plane(trees, process_id)
    diagram = read_plane(*found, process_id) if found else None
    if diagram is None or not has_flow_nodes(diagram):
        laid_out = auto_layout(trees, process_id)
        if laid_out is not None:
            diagram = laid_out
        elif diagram is None:
            what = f"no process '{process_id}'" if process_id else "no process and no diagram"
            raise DiagramError(f"nothing to draw: the definition has {what}", process_id=process_id)
    for item in list(diagram.nodes) + list(diagram.edges):
        if getattr(item, "name", None):
            item.name = localize(item.name, lang)
    return draw(diagram, progress=progress, aggregate=aggregate, lang=lang)


def _layers(diagram: Diagram) -> list:
    # Containers first, the deepest sub-processes last among them, then lines, then nodes on top of
    # the lines, boundary events over their activities, message flows across everything.
    nodes = diagram.nodes
    pools = [n for n in nodes if n.kind in ("participant", "process")]
    lanes = [n for n in nodes if n.kind == "lane"]
    containers = sorted((n for n in nodes if n.expanded), key=lambda n: (n.depth, -n.box.w * n.box.h))
    boundaries = [n for n in nodes if n.kind == "boundaryEvent"]
    groups = [n for n in nodes if n.kind == "group"]
    placed = {id(n) for n in pools + lanes + containers + boundaries + groups}
    others = [n for n in nodes if id(n) not in placed]
    flows = [e for e in diagram.edges if e.kind != "messageFlow"]
    messages = [e for e in diagram.edges if e.kind == "messageFlow"]
    return pools + lanes + containers + flows + others + boundaries + messages + groups


def _state(node: Node, progress: dict | None) -> tuple[str | None, dict]:
    if progress is None or node.kind not in FLOW_NODE_TAGS:
        return None, {}
    elements = progress.get("elements")
    info = elements.get(node.id) if isinstance(elements, dict) else None
    info = info if isinstance(info, dict) else {}
    state = info.get("state")
    return (state if state in STATES else "none"), info


def _title(node: Node, state: str | None, info: dict, stats: dict | None, lang: str) -> str:
    vocab = words(lang)
    lines = [node.name or node.id]
    if state:
        lines.append(f"{vocab['state']}: {state_word(state, lang)}")
    for key, value in (("started", format_time(info.get("started"))), ("ended", format_time(info.get("ended"))),
                       ("duration", format_duration(info.get("duration_s"), lang) if info.get("duration_s")
                        is not None else ""), ("actor", info.get("actor") or "")):
        if value:
            lines.append(f"{vocab[key]}: {value}")
    assignees = info.get("assignees") or []
    if isinstance(assignees, (list, tuple)) and assignees:
        lines.append(f"{vocab['assignees']}: {', '.join(str(a) for a in assignees)}")
    if isinstance(info.get("count"), int) and info["count"] > 1:
        lines.append(f"{vocab['count']}: {info['count']}")
    if info.get("reason"):
        lines.append(f"{vocab['reason']}: {info['reason']}")
    if stats:
        lines.append(f"{vocab['active']}: {int(_number(stats.get('active')))}")
        if stats.get("avg_wait_s") is not None:
            lines.append(f"{vocab['avg_wait']}: {format_duration(stats['avg_wait_s'], lang)}")
    return "<title>" + esc("\n".join(lines)) + "</title>"


def _badge(box: Box, active: int) -> str:
    x, y = box.x + box.w - 2, box.y + 2
    return (f'<g class="fd-badge"><circle cx="{num(x)}" cy="{num(y)}" r="10"/>'
            f'<text x="{num(x)}" y="{num(y + 3.8)}" text-anchor="middle">{esc(active)}</text></g>')


def _node_group(node: Node, progress, aggregate, max_wait: float, lang: str) -> str:
    state, info = _state(node, progress)
    flow_node = node.kind in FLOW_NODE_TAGS
    classes = ["fd-node" if flow_node else "fd-artifact", f"fd-{esc(node.kind)}"]
    if node.kind in ("participant", "process"):
        classes[0] = "fd-pool"
    elif node.kind == "lane":
        classes[0] = "fd-lane"
    if node.expanded:
        classes.append("fd-expanded")
    attrs = f' data-element-id="{esc(node.id)}" data-kind="{esc(node.kind)}"'
    if state:
        classes.append(f"fd-state-{state}")
        attrs += f' data-state="{state}"'
    stats = aggregate.get(node.id) if aggregate and flow_node else None
    stats = stats if isinstance(stats, dict) else None
    extra = ""
    if stats:
        wait = _number(stats.get("avg_wait_s"))
        active = int(_number(stats.get("active")))
        if wait > 0 and max_wait > 0 and not node.expanded:
            attrs += f' style="--fd-fill:{heat_colour(wait / max_wait)}"'
        attrs += f' data-active="{active}" data-avg-wait-s="{num(round(wait, 1))}"'
        if active > 0:
            extra = _badge(node.box, active)
    count = info.get("count")
    if isinstance(count, int) and count > 1 and not extra:
        extra = (f'<text class="fd-count" x="{num(node.box.x + node.box.w - 3)}" y="{num(node.box.y - 4)}" '
                 f'text-anchor="end">×{count}</text>')
    title = _title(node, state, info, stats, lang) if flow_node or node.name else ""
    return f'<g class="{" ".join(classes)}"{attrs}>{title}{node_body(node)}{extra}</g>'


def _number(value) -> float:
    try:
        result = float(value or 0)
    except (TypeError, ValueError):
        return 0.0
    return result if result == result and abs(result) != float("inf") else 0.0


def _edge_group(edge, taken: set | None, lang: str) -> str:
    kind = {"sequenceFlow": "fd-flow", "messageFlow": "fd-flow fd-message"}.get(edge.kind, "fd-flow fd-association")
    classes = [kind, f"fd-{edge.kind}"]
    if taken is not None and edge.kind == "sequenceFlow":
        classes.append("fd-taken" if edge.id in taken else "fd-muted")
    title = edge.name or ""
    if taken is not None and edge.id in taken:
        title = (title + " " if title else "") + f"({words(lang)['flow_taken']})"
    title_markup = f"<title>{esc(title)}</title>" if title else ""
    return (f'<g class="{" ".join(classes)}" data-element-id="{esc(edge.id)}">{title_markup}'
            f'{edge_body(edge)}</g>')


def _extent(diagram: Diagram) -> Box:
    xs, ys = [], []
    for node in diagram.nodes:
        for box in (node.box, node.label, label_extent(node)):
            if box is not None:
                xs += [box.x, box.x + box.w]
                ys += [box.y, box.y + box.h]
    for edge in diagram.edges:
        xs += [p[0] for p in edge.points]
        ys += [p[1] for p in edge.points]
        box = edge_label_box(edge)
        if box is not None:
            xs += [box.x, box.x + box.w]
            ys += [box.y, box.y + box.h]
    if not xs:
        return Box(0, 0, 100, 60)
    return Box(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def draw(diagram: Diagram, *, progress: dict | None = None, aggregate: dict | None = None,
         lang: str = "en") -> str:
    """Turn a diagram into SVG text, styled by progress or aggregate figures when given."""
    progress = progress if isinstance(progress, dict) else None
    aggregate = aggregate if isinstance(aggregate, dict) else None
    flows = progress.get("flows") if progress is not None else None
    taken = {str(f) for f in flows} if isinstance(flows, (list, tuple, set)) else None if progress is None else set()
    waits = [_number(v.get("avg_wait_s")) for v in (aggregate or {}).values() if isinstance(v, dict)]
    max_wait = max(waits, default=0.0)
    place_external_labels(diagram.nodes, diagram.edges)
    body = []
    for item in _layers(diagram):
        if isinstance(item, Node):
            body.append(_node_group(item, progress, aggregate, max_wait, lang))
        else:
            body.append(_edge_group(item, taken, lang))
    extent = _extent(diagram)
    x, y = extent.x - MARGIN, extent.y - MARGIN
    width, height = extent.w + 2 * MARGIN, extent.h + 2 * MARGIN
    if aggregate is not None:
        body.append(legend(extent.x, extent.y + extent.h + 12, max_wait, lang))
        height += LEGEND_HEIGHT + 12
        width = max(width, LEGEND_WIDTH + 2 * MARGIN)
    mode = "progress" if progress is not None else "aggregate" if aggregate is not None else "definition"
    process = f' data-process-id="{esc(diagram.process_id)}"' if diagram.process_id else ""
    header = (f'<svg xmlns="{SVG_NS}" class="fd-diagram fd-mode-{mode}" viewBox="{num(x)} {num(y)} '
              f'{num(width)} {num(height)}" width="{num(width)}" height="{num(height)}" role="img" '
              f'font-family="{esc(FONT_FAMILY)}" font-size="12"{process} '
              f'data-layout="{"graphviz" if diagram.laid_out else "bpmndi"}">')
    return header + f"<style>{CSS}</style>" + "".join(body) + "</svg>"


"""Small BPMN markers: task type icons, activity markers, event and gateway symbols.

Every mark strokes or fills with currentColor, so a node's state class recolours its icons too.
"""
from __future__ import annotations

import math

from .text import num


def _at(x: float, y: float, body: str, scale: float = 1.0) -> str:
    zoom = f" scale({num(scale)})" if scale != 1 else ""
    return f'<g class="fd-icon" transform="translate({num(x)},{num(y)}){zoom}">{body}</g>'


def _gear() -> str:
    # Sixteen teeth pairs around a hub: cheap to compute, reads as a gear at 16 px.
    points = []
    for k in range(32):
        angle = math.radians(k * 360 / 32 - 5.6)
        radius = 7.6 if k % 4 in (1, 2) else 5.6
        points.append(f"{num(8 + radius * math.cos(angle))},{num(8 + radius * math.sin(angle))}")
    return (f'<polygon class="fd-mark fd-paper" points="{" ".join(points)}"/>'
            '<circle class="fd-mark" cx="8" cy="8" r="2.4"/>')


_TASK_ICONS = {
    "userTask": ('<circle class="fd-mark fd-paper" cx="8" cy="4.6" r="3.4"/>'
                 '<path class="fd-mark fd-paper" d="M1.5,15.5 C1.5,10.5 4.5,9 8,9 C11.5,9 14.5,10.5 14.5,15.5 Z"/>'
                 '<path class="fd-mark" d="M5,15.5 V12.5 M11,15.5 V12.5"/>'),
    "serviceTask": _gear(),
    "scriptTask": ('<path class="fd-mark fd-paper" d="M4,1.5 H14 C11.5,4 11.5,6 13,8 C14.5,10 14.5,12 12,14.5 H2 '
                   'C4.5,12 4.5,10 3,8 C1.5,6 1.5,4 4,1.5 Z"/>'
                   '<path class="fd-mark" d="M5,5 H10.5 M5.6,8 H11 M5,11 H10.5"/>'),
    "manualTask": ('<path class="fd-mark fd-paper" d="M1,8.5 C1,7 2,6 3.5,6 H11 C12,6 12,7.6 11,7.6 H7.5 H13.5 '
                   'C14.8,7.6 14.8,9.6 13.5,9.6 H8 H13 C14.3,9.6 14.3,11.6 13,11.6 H8 H12 C13.2,11.6 13.2,13.5 '
                   '12,13.5 H4 C2,13.5 1,12.5 1,11 Z"/><path class="fd-mark" d="M4,6 L7,2.8 C7.8,2 9,2.8 8.3,3.8 '
                   'L6.6,6"/>'),
    "sendTask": ('<rect class="fd-solid" x="1" y="3" width="15" height="10.5" rx="1"/>'
                 '<path class="fd-inverse" d="M1.8,3.8 L8.5,9 L15.2,3.8"/>'),
    "receiveTask": ('<rect class="fd-mark fd-paper" x="1" y="3" width="15" height="10.5" rx="1"/>'
                    '<path class="fd-mark" d="M1.4,3.4 L8.5,9 L15.6,3.4"/>'),
    "businessRuleTask": ('<rect class="fd-mark fd-paper" x="1" y="2" width="15" height="12.5"/>'
                         '<rect class="fd-solid" x="1" y="2" width="15" height="3.2"/>'
                         '<path class="fd-mark" d="M1,9.8 H16 M5.5,5.2 V14.5"/>'),
}

TASK_ICON_KINDS = frozenset(_TASK_ICONS)


def task_icon(kind: str, x: float, y: float) -> str:
    """Return the type icon drawn in an activity's top-left corner."""
    body = _TASK_ICONS.get(kind)
    return _at(x + 6, y + 6, body) if body else ""


def _marker(kind: str) -> str:
    # Each marker fits a 14 x 14 box.
    if kind == "parallel":
        return '<path class="fd-mark fd-bold" d="M3,1 V13 M7,1 V13 M11,1 V13"/>'
    if kind == "sequential":
        return '<path class="fd-mark fd-bold" d="M1,3 H13 M1,7 H13 M1,11 H13"/>'
    if kind == "standard":
        return ('<path class="fd-mark fd-bold" d="M10.5,12.2 A5.6,5.6 0 1 0 4,12.6"/>'
                '<path class="fd-mark fd-bold" d="M1.5,10.5 L4.2,12.8 L1.6,14.6"/>')
    if kind == "collapsed":
        return ('<rect class="fd-mark fd-paper" x="0.5" y="0.5" width="13" height="13"/>'
                '<path class="fd-mark" d="M7,3.5 V10.5 M3.5,7 H10.5"/>')
    if kind == "adhoc":
        return '<path class="fd-mark fd-bold" d="M1,8.5 C3,4.5 5,4.5 7,7 S11,9.5 13,5.5"/>'
    if kind == "compensation":
        return '<path class="fd-mark" d="M7,3 L1,7 L7,11 Z M13,3 L7,7 L13,11 Z"/>'
    return ""


def activity_markers(markers: list[str], cx: float, bottom: float) -> str:
    """Return the bottom-centre markers of an activity (loop, multi-instance, collapsed, ad hoc)."""
    drawn = [m for m in markers if _marker(m)]
    if not drawn:
        return ""
    width = len(drawn) * 14 + (len(drawn) - 1) * 4
    x = cx - width / 2
    out = []
    for marker in drawn:
        out.append(_at(x, bottom - 18, _marker(marker)))
        x += 18
    return "".join(out)


def _envelope(cx: float, cy: float, r: float, solid: bool) -> str:
    w, h = r * 1.05, r * 0.72
    x, y = cx - w / 2, cy - h / 2
    flap = f"M{num(x)},{num(y)} L{num(cx)},{num(y + h * 0.55)} L{num(x + w)},{num(y)}"
    if solid:
        return (f'<rect class="fd-solid" x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}"/>'
                f'<path class="fd-inverse" d="{flap}"/>')
    return (f'<rect class="fd-mark" x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}"/>'
            f'<path class="fd-mark" d="{flap}"/>')


def _poly(points, solid: bool) -> str:
    text = " ".join(f"{num(px)},{num(py)}" for px, py in points)
    return f'<polygon class="{"fd-solid" if solid else "fd-mark"}" points="{text}"/>'


def _timer(cx: float, cy: float, r: float) -> str:
    inner = r * 0.62
    ticks = []
    for k in range(12):
        angle = math.radians(k * 30)
        a, b = inner * 0.78, inner * 0.95
        ticks.append(f"M{num(cx + a * math.cos(angle))},{num(cy + a * math.sin(angle))} "
                     f"L{num(cx + b * math.cos(angle))},{num(cy + b * math.sin(angle))}")
    hands = f"M{num(cx)},{num(cy - inner * 0.7)} L{num(cx)},{num(cy)} L{num(cx + inner * 0.5)},{num(cy)}"
    return (f'<circle class="fd-mark fd-paper" cx="{num(cx)}" cy="{num(cy)}" r="{num(inner)}"/>'
            f'<path class="fd-mark fd-thin" d="{" ".join(ticks)}"/><path class="fd-mark" d="{hands}"/>')


def event_icon(kind: str | None, cx: float, cy: float, r: float, solid: bool, parallel: bool = False) -> str:
    """Return the symbol inside an event circle; throwing events get filled symbols."""
    s = r * 0.5
    if kind == "message":
        return _envelope(cx, cy, r, solid)
    if kind == "timer":
        return _timer(cx, cy, r)
    if kind == "signal":
        return _poly([(cx, cy - s), (cx + s * 0.95, cy + s * 0.62), (cx - s * 0.95, cy + s * 0.62)], solid)
    if kind == "error":
        return _poly([(cx - s * 0.8, cy + s * 0.75), (cx - s * 0.35, cy - s * 0.7), (cx + s * 0.1, cy + s * 0.05),
                      (cx + s * 0.8, cy - s * 0.75), (cx + s * 0.35, cy + s * 0.7), (cx - s * 0.1, cy - s * 0.05)],
                     solid)
    if kind == "escalation":
        return _poly([(cx, cy - s), (cx + s * 0.6, cy + s * 0.75), (cx, cy + s * 0.1), (cx - s * 0.6, cy + s * 0.75)],
                     solid)
    if kind == "terminate":
        return f'<circle class="fd-solid" cx="{num(cx)}" cy="{num(cy)}" r="{num(r * 0.6)}"/>'
    if kind == "conditional":
        w, h = s * 1.2, s * 1.6
        lines = " ".join(f"M{num(cx - w / 2 + 2)},{num(cy - h / 2 + h * f)} H{num(cx + w / 2 - 2)}"
                         for f in (0.22, 0.42, 0.62, 0.82))
        return (f'<rect class="fd-mark" x="{num(cx - w / 2)}" y="{num(cy - h / 2)}" width="{num(w)}" '
                f'height="{num(h)}"/><path class="fd-mark fd-thin" d="{lines}"/>')
    if kind == "link":
        return _poly([(cx - s * 0.8, cy - s * 0.3), (cx + s * 0.1, cy - s * 0.3), (cx + s * 0.1, cy - s * 0.7),
                      (cx + s * 0.85, cy), (cx + s * 0.1, cy + s * 0.7), (cx + s * 0.1, cy + s * 0.3),
                      (cx - s * 0.8, cy + s * 0.3)], solid)
    if kind == "compensation":
        return (_poly([(cx - s * 0.9, cy), (cx, cy - s * 0.6), (cx, cy + s * 0.6)], solid)
                + _poly([(cx, cy), (cx + s * 0.9, cy - s * 0.6), (cx + s * 0.9, cy + s * 0.6)], solid))
    if kind == "cancel":
        d = s * 0.65
        return (f'<path class="fd-mark fd-bold" d="M{num(cx - d)},{num(cy - d)} L{num(cx + d)},{num(cy + d)} '
                f'M{num(cx + d)},{num(cy - d)} L{num(cx - d)},{num(cy + d)}"/>')
    if kind == "multiple":
        if parallel:
            return _plus(cx, cy, s * 0.8, "fd-mark fd-bold")
        return _pentagon(cx, cy, s * 0.85, solid)
    return ""


def _pentagon(cx: float, cy: float, radius: float, solid: bool) -> str:
    points = [(cx + radius * math.cos(math.radians(-90 + 72 * k)), cy + radius * math.sin(math.radians(-90 + 72 * k)))
              for k in range(5)]
    return _poly(points, solid)


def _plus(cx: float, cy: float, d: float, cls: str) -> str:
    return (f'<path class="{cls}" d="M{num(cx)},{num(cy - d)} V{num(cy + d)} '
            f'M{num(cx - d)},{num(cy)} H{num(cx + d)}"/>')


def gateway_icon(kind: str, cx: float, cy: float, size: float, parallel: bool = False) -> str:
    """Return the marker inside a gateway diamond: X, +, O, pentagon or asterisk."""
    d = size * 0.2
    if kind == "exclusiveGateway":
        return (f'<path class="fd-mark fd-heavy" d="M{num(cx - d)},{num(cy - d)} L{num(cx + d)},{num(cy + d)} '
                f'M{num(cx + d)},{num(cy - d)} L{num(cx - d)},{num(cy + d)}"/>')
    if kind == "parallelGateway":
        return _plus(cx, cy, d * 1.25, "fd-mark fd-heavy")
    if kind == "inclusiveGateway":
        return f'<circle class="fd-mark fd-heavy" cx="{num(cx)}" cy="{num(cy)}" r="{num(size * 0.22)}"/>'
    if kind == "complexGateway":
        e = d * 0.9
        return (_plus(cx, cy, d * 1.25, "fd-mark fd-heavy")
                + f'<path class="fd-mark fd-heavy" d="M{num(cx - e)},{num(cy - e)} L{num(cx + e)},{num(cy + e)} '
                  f'M{num(cx + e)},{num(cy - e)} L{num(cx - e)},{num(cy + e)}"/>')
    if kind == "eventBasedGateway":
        outer = f'<circle class="fd-mark" cx="{num(cx)}" cy="{num(cy)}" r="{num(size * 0.28)}"/>'
        if parallel:
            return outer + _plus(cx, cy, size * 0.16, "fd-mark fd-bold")
        inner = f'<circle class="fd-mark" cx="{num(cx)}" cy="{num(cy)}" r="{num(size * 0.22)}"/>'
        return outer + inner + _pentagon(cx, cy, size * 0.14, False)
    return ""

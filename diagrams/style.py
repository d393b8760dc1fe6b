"""The embedded stylesheet, state and heat colours, and the few words the diagram shows."""
from __future__ import annotations

from .text import esc, format_duration, num

FONT_FAMILY = "PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif"
STATES = ("completed", "active", "waiting", "error", "cancelled", "none")

# Every rule is scoped to .fd-diagram: a <style> inside inline SVG applies to the whole HTML page.
# Colours flow through `color` (strokes, icons) and --fd-fill (shape fills), so a state class or an
# inline heat colour on a node's <g> restyles all of its parts at once.
CSS = ".fd-diagram{font-family:" + FONT_FAMILY + ";font-size:12px}" + """
.fd-diagram .fd-label{fill:#1e293b;stroke:none}
.fd-diagram .fd-node,.fd-diagram .fd-artifact{color:#334155;--fd-fill:#ffffff}
.fd-diagram .fd-shape{fill:#ffffff;fill:var(--fd-fill);stroke:currentColor;stroke-width:1.5px}
.fd-diagram .fd-shape.fd-thick{stroke-width:4px}
.fd-diagram .fd-shape.fd-call{stroke-width:3.5px}
.fd-diagram .fd-shape.fd-dashed{stroke-dasharray:5 3}
.fd-diagram .fd-shape.fd-dotted{stroke-dasharray:1.5 3;stroke-linecap:round}
.fd-diagram .fd-shape.fd-double{stroke-dasharray:8 3 1 3}
.fd-diagram .fd-inner{fill:none;stroke:currentColor;stroke-width:1.2px}
.fd-diagram .fd-inner.fd-dashed-inner{stroke-dasharray:4 2}
.fd-diagram .fd-mark{fill:none;stroke:currentColor;stroke-width:1.3px;stroke-linejoin:round;stroke-linecap:round}
.fd-diagram .fd-mark.fd-bold{stroke-width:2px}
.fd-diagram .fd-mark.fd-heavy{stroke-width:3.2px}
.fd-diagram .fd-mark.fd-thin{stroke-width:0.9px}
.fd-diagram .fd-paper{fill:#ffffff;fill:var(--fd-fill)}
.fd-diagram .fd-solid{fill:currentColor;stroke:none}
.fd-diagram .fd-inverse{fill:none;stroke:#ffffff;stroke-width:1.2px}
.fd-diagram .fd-pool>.fd-shape,.fd-diagram .fd-lane>.fd-shape{fill:#ffffff;stroke:#94a3b8;stroke-width:1.2px}
.fd-diagram .fd-lane>.fd-shape{fill:none;stroke:#cbd5e1}
.fd-diagram .fd-band{fill:#f1f5f9;stroke:#94a3b8;stroke-width:1.2px}
.fd-diagram .fd-lane .fd-band{fill:#f8fafc;stroke:#cbd5e1}
.fd-diagram .fd-container-label{fill:#334155;font-weight:600}
.fd-diagram .fd-group>.fd-shape{fill:none;stroke:#64748b;stroke-dasharray:8 4 2 4}
.fd-diagram .fd-annotation-line{fill:none;stroke:#64748b;stroke-width:1.3px}
.fd-diagram .fd-flow{color:#475569}
.fd-diagram .fd-line{fill:none;stroke:currentColor;stroke-width:1.5px;stroke-linejoin:round}
.fd-diagram .fd-head{fill:currentColor;stroke:currentColor;stroke-width:1px;stroke-linejoin:round}
.fd-diagram .fd-head.fd-open{fill:#ffffff;stroke-width:1.3px}
.fd-diagram .fd-message{color:#64748b}
.fd-diagram .fd-message .fd-line{stroke-dasharray:7 4}
.fd-diagram .fd-association{color:#64748b}
.fd-diagram .fd-association .fd-line{stroke-dasharray:2 4;stroke-linecap:round}
.fd-diagram .fd-edge-label{fill:#334155;paint-order:stroke;stroke:#ffffff;stroke-width:4px;stroke-linejoin:round}
.fd-diagram .fd-external{paint-order:stroke;stroke:#ffffff;stroke-width:3px;stroke-linejoin:round}
.fd-diagram .fd-flow.fd-taken{color:#16a34a}
.fd-diagram .fd-flow.fd-taken .fd-line{stroke-width:3px}
.fd-diagram .fd-flow.fd-muted{color:#cbd5e1}
.fd-diagram .fd-flow.fd-muted .fd-edge-label{fill:#94a3b8}
.fd-diagram .fd-state-none{color:#a3acb9}
.fd-diagram .fd-state-none .fd-label{fill:#64748b}
.fd-diagram .fd-state-completed{color:#16a34a;--fd-fill:#f0fdf4}
.fd-diagram .fd-state-completed .fd-label{fill:#14532d}
.fd-diagram .fd-state-active{color:#2563eb;--fd-fill:#eff6ff}
.fd-diagram .fd-state-active .fd-label{fill:#1e3a8a;font-weight:600}
.fd-diagram .fd-state-active>.fd-shape{stroke-width:3px;filter:drop-shadow(0 0 5px rgba(37,99,235,.55))}
.fd-diagram .fd-state-waiting{color:#d97706;--fd-fill:#fffbeb}
.fd-diagram .fd-state-waiting>.fd-shape{stroke-width:2.5px;filter:drop-shadow(0 0 4px rgba(217,119,6,.45))}
.fd-diagram .fd-state-waiting .fd-label{fill:#78350f}
.fd-diagram .fd-state-error{color:#dc2626;--fd-fill:#fef2f2}
.fd-diagram .fd-state-error>.fd-shape{stroke-width:2.5px;filter:drop-shadow(0 0 4px rgba(220,38,38,.45))}
.fd-diagram .fd-state-error .fd-label{fill:#7f1d1d}
.fd-diagram .fd-state-cancelled{color:#9ca3af;--fd-fill:#f9fafb}
.fd-diagram .fd-state-cancelled>.fd-shape{stroke-dasharray:5 3}
.fd-diagram .fd-state-cancelled .fd-label{fill:#6b7280}
.fd-diagram .fd-state-active>.fd-shape.fd-thick,.fd-diagram .fd-state-completed>.fd-shape.fd-thick{stroke-width:4px}
.fd-diagram .fd-expanded.fd-state-active{--fd-fill:#f7faff}
.fd-diagram .fd-expanded.fd-state-completed{--fd-fill:#f8fdf9}
.fd-diagram .fd-node[data-element-id]{cursor:pointer}
.fd-diagram .fd-node:hover>.fd-shape{filter:drop-shadow(0 1px 3px rgba(15,23,42,.35))}
.fd-diagram .fd-badge circle{fill:#2563eb;stroke:#ffffff;stroke-width:1.5px}
.fd-diagram .fd-badge text{fill:#ffffff;font-size:10.5px;font-weight:700}
.fd-diagram .fd-count{fill:#16a34a;font-size:10px;font-weight:700}
.fd-diagram .fd-legend rect.fd-legend-box{fill:#ffffff;stroke:#cbd5e1}
.fd-diagram .fd-legend text{fill:#334155;font-size:11px}
"""

WORDS = {
    "en": {"state": "State", "started": "Started", "ended": "Ended", "duration": "Duration", "actor": "Done by",
           "assignees": "Assignees", "count": "Times completed", "active": "Active tokens",
           "avg_wait": "Average wait", "reason": "Reason", "legend": "Average wait", "badge": "active tokens",
           "completed": "completed", "waiting": "waiting", "error": "error", "cancelled": "cancelled",
           "none": "not reached", "flow_taken": "taken"},
    "zh": {"state": "状态", "started": "开始", "ended": "结束", "duration": "耗时", "actor": "处理人",
           "assignees": "待办人", "count": "完成次数", "active": "进行中的令牌", "avg_wait": "平均等待",
           "reason": "原因", "legend": "平均等待", "badge": "进行中数量", "completed": "已完成",
           "waiting": "等待中", "error": "出错", "cancelled": "已取消", "none": "未到达", "flow_taken": "已经过"},
}
WORDS["en"]["active_state"], WORDS["zh"]["active_state"] = "active", "进行中"


def words(lang: str) -> dict:
    """Return the vocabulary for a language, English when it is unknown."""
    base = (lang or "en").split("-")[0].split("_")[0].lower()
    return WORDS.get(base, WORDS["en"])


def state_word(state: str, lang: str) -> str:
    """Name a state in the diagram's language."""
    vocab = words(lang)
    return vocab["active_state"] if state == "active" else vocab.get(state, state)


_HEAT = ((0.0, (254, 243, 199)), (0.5, (253, 186, 116)), (1.0, (248, 113, 113)))


def heat_colour(ratio: float) -> str:
    """Interpolate pale amber to red for a waiting-time ratio between 0 and 1."""
    ratio = min(1.0, max(0.0, ratio))
    for (low, a), (high, b) in zip(_HEAT, _HEAT[1:], strict=False):
        if ratio <= high:
            t = (ratio - low) / (high - low)
            return "#" + "".join(f"{round(ca + (cb - ca) * t):02x}" for ca, cb in zip(a, b, strict=True))
    return "#f87171"


LEGEND_WIDTH, LEGEND_HEIGHT = 270.0, 58.0


def legend(x: float, y: float, max_wait: float, lang: str) -> str:
    """Return the heat legend: five swatches from no wait to the longest average wait, and the badge."""
    vocab = words(lang)
    out = [f'<g class="fd-legend" transform="translate({num(x)},{num(y)})">',
           f'<rect class="fd-legend-box" width="{num(LEGEND_WIDTH)}" height="{num(LEGEND_HEIGHT)}" rx="6"/>',
           f'<text x="10" y="17">{esc(vocab["legend"])}</text>']
    for k in range(5):
        out.append(f'<rect x="{10 + k * 26}" y="24" width="26" height="10" style="fill:{heat_colour(k / 4)}"/>')
    out.append('<text x="10" y="49">0</text>')
    out.append(f'<text x="140" y="49" text-anchor="end">{esc(format_duration(max_wait, lang))}</text>')
    out.append('<g class="fd-badge"><circle cx="166" cy="29" r="9"/>'
               '<text x="166" y="32.5" text-anchor="middle">n</text></g>')
    out.append(f'<text x="180" y="33">{esc(vocab["badge"])}</text></g>')
    return "".join(out)

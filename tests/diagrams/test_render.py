"""SVG rendering of BPMN diagrams: the corpus, progress and bottleneck views, hostile text, a screenshot."""
from __future__ import annotations

import csv
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from lxml import etree

from diagrams import DiagramError, render_definition
from diagrams.model import find_plane, index_elements, load_trees
from engine.dialect import FLOW_NODE_TAGS, local_name
from engine.errors import ModelError
from engine.xmlsafe import parse_xml

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus" / "bpmn"
DATA = ROOT / "tests" / "data" / "bpmn"
LEAVE = ROOT / "bpmn" / "leave_request" / "leave_request.bpmn"
ARTIFACTS = ROOT / "test-artifacts"
SVG = "{http://www.w3.org/2000/svg}"
CHROMIUM = Path("/usr/bin/chromium")

LEAVE_PROGRESS = {
    "elements": {
        "submitted": {"state": "completed", "assignees": [], "actor": "alice", "started": None,
                      "ended": "2024-05-06T09:00:00+00:00", "duration_s": None, "count": 1},
        "manager_approval": {"state": "completed", "assignees": ["bob"], "actor": "bob",
                             "started": "2024-05-06T09:00:00+00:00", "ended": "2024-05-06T11:05:00+00:00",
                             "duration_s": 7500.0, "count": 1},
        "manager_decision": {"state": "completed", "assignees": [], "actor": None, "started": None,
                             "ended": "2024-05-06T11:05:00+00:00", "duration_s": None, "count": 1},
        "hr_approval": {"state": "active", "assignees": ["carol"], "actor": None,
                        "started": "2024-05-06T11:05:00+00:00", "ended": None, "duration_s": None, "count": 0},
    },
    "flows": ["to_manager", "to_manager_decision", "manager_approved"],
}


def _parse(svg: str):
    return etree.fromstring(svg.encode("utf-8"))


def _groups(root, cls: str) -> list:
    return [g for g in root.iter(f"{SVG}g") if cls in (g.get("class") or "").split()]


def _by_id(root) -> dict:
    return {g.get("data-element-id"): g for g in root.iter(f"{SVG}g") if g.get("data-element-id")}


def _title(group) -> str:
    return group.find(f"{SVG}title").text


def _corpus_files() -> list[Path]:
    index = CORPUS / "INDEX.tsv"
    if not index.is_file():
        return []
    with index.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [CORPUS / row["rel_path"] for row in rows
            if row["has_bpmndi"] == "yes" and row["rel_path"].endswith((".bpmn", ".bpmn20.xml"))]


def _flow_node_shapes(path: Path) -> int:
    trees = load_trees({path.name: path.read_bytes()})
    name, tree, plane = find_plane(trees, None)
    index = index_elements(tree)
    return sum(1 for shape in plane if local_name(shape) == "BPMNShape"
               and local_name(index.get(shape.get("bpmnElement"), shape)) in FLOW_NODE_TAGS)


def test_every_corpus_model_with_a_layout_renders():
    files = _corpus_files()
    if not files:
        pytest.skip(f"the BPMN corpus is not available at {CORPUS}")
    rendered, refused, started = 0, [], time.perf_counter()
    for path in files:
        data = path.read_bytes()
        try:
            parse_xml(data, path.name)
        except ModelError:
            refused.append(path.name)
            continue
        svg = render_definition({path.name: data})
        root = _parse(svg)
        nodes = _groups(root, "fd-node")
        assert nodes, path
        if root.get("data-layout") == "bpmndi":
            assert len(nodes) >= _flow_node_shapes(path), path
        rendered += 1
    elapsed = time.perf_counter() - started
    print(f"rendered {rendered} corpus models in {elapsed:.2f}s; refused by the parser: {refused}")
    assert rendered > 200
    assert elapsed < 30


def test_leave_request_progress_styles_nodes_and_taken_flows():
    svg = render_definition({"leave_request.bpmn": LEAVE.read_bytes()}, "leave_request", progress=LEAVE_PROGRESS)
    root = _parse(svg)
    groups = _by_id(root)
    for element_id in ("submitted", "manager_approval", "manager_decision"):
        assert "fd-state-completed" in groups[element_id].get("class").split()
        assert groups[element_id].get("data-state") == "completed"
    hr = groups["hr_approval"]
    assert {"fd-node", "fd-state-active", "fd-userTask"} <= set(hr.get("class").split())
    assert "carol" in _title(hr)
    for element_id in ("approved", "rejected", "hr_decision"):
        assert "fd-state-none" in groups[element_id].get("class").split()
    for flow in LEAVE_PROGRESS["flows"]:
        assert "fd-taken" in groups[flow].get("class").split()
    for flow in ("manager_rejected", "to_hr_decision", "hr_approved", "hr_rejected"):
        assert "fd-muted" in groups[flow].get("class").split()
    manager = _title(groups["manager_approval"])
    assert "bob" in manager and "2 h 5 min" in manager and "2024-05-06 09:00 UTC" in manager
    assert "<style>" in svg and ".fd-state-active" in svg
    assert "Noto Sans CJK SC" in svg


def test_leave_request_aggregate_has_badges_heat_and_legend():
    aggregate = {"manager_approval": {"active": 3, "avg_wait_s": 90000.0},
                 "hr_approval": {"active": 1, "avg_wait_s": 20000.0}}
    root = _parse(render_definition({"l.bpmn": LEAVE.read_bytes()}, aggregate=aggregate, lang="zh"))
    groups = _by_id(root)
    manager, hr = groups["manager_approval"], groups["hr_approval"]
    assert manager.get("data-active") == "3" and "--fd-fill:#" in manager.get("style")
    assert manager.get("style") != hr.get("style")
    assert "3" in [t.xpath("string()") for t in manager.iter(f"{SVG}text")]
    assert "平均等待: 1 天 1 小时" in _title(manager)
    assert _groups(root, "fd-legend")


def test_model_without_layout_is_laid_out_with_graphviz():
    if shutil.which("dot") is None:
        pytest.skip("the Graphviz 'dot' program is not installed (apt-get install graphviz)")
    svg = render_definition({"rework_loop.bpmn": (DATA / "rework_loop.bpmn").read_bytes()})
    root = _parse(svg)
    assert root.get("data-layout") == "graphviz"
    groups = _by_id(root)
    assert {"start", "merge", "submit", "review", "decide", "done"} <= set(groups)
    assert {"f1", "f2", "f3", "f4", "f_done", "f_back"} <= set(groups)
    xs = {key: float(groups[key].find(f"{SVG}rect").get("x")) for key in ("submit", "review")}
    assert xs["submit"] < xs["review"]  # left to right


def test_missing_graphviz_is_a_clear_error(monkeypatch):
    import graphviz

    def missing(*args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(graphviz.Digraph, "pipe", missing)
    with pytest.raises(DiagramError, match="install Graphviz"):
        render_definition({"rework_loop.bpmn": (DATA / "rework_loop.bpmn").read_bytes()})


def test_unknown_process_and_unreadable_files_are_diagram_errors():
    with pytest.raises(DiagramError, match="no process 'nope'"):
        render_definition({"l.bpmn": LEAVE.read_bytes()}, "nope")
    with pytest.raises(DiagramError, match="xxe.bpmn"):
        render_definition({"xxe.bpmn": (DATA / "xxe.bpmn").read_bytes()})
    with pytest.raises(DiagramError, match="no BPMN file"):
        render_definition({"form.json": b"{}"})


def test_picks_the_diagram_of_the_requested_process():
    path = CORPUS / "miwg" / "Reference" / "C.1.0.bpmn"
    if not path.is_file():
        pytest.skip("the BPMN corpus is not available")
    root = _parse(render_definition({path.name: path.read_bytes()}))
    pools = _groups(root, "fd-pool")
    assert len(pools) >= 2 and _groups(root, "fd-message")
    hello = CORPUS / "spiff-arena" / "spiffworkflow-backend" / "tests" / "data" / "hello_world" / "hello_world.bpmn"
    if hello.is_file():
        inner = _parse(render_definition({hello.name: hello.read_bytes()}, "Activity_subprocess"))
        outer = _parse(render_definition({hello.name: hello.read_bytes()}, "Process_HelloWorld"))
        assert set(_by_id(inner)) != set(_by_id(outer))


HOSTILE = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
             xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
             xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
             id="d" targetNamespace="urn:t">
  <process id="p" name="&lt;b&gt;p&lt;/b&gt;">
    <startEvent id="s" name="&quot;start&quot; &amp; go"/>
    <userTask id="t&quot;x" name="&lt;script&gt;alert(1)&lt;/script&gt; &amp;"/>
    <userTask id="cn" name="\xe4\xb8\xbb\xe7\xae\xa1\xe5\xae\xa1\xe6\x89\xb9"/>
    <sequenceFlow id="f" sourceRef="s" targetRef="t&quot;x" name="&lt;img src=x onerror=alert(2)&gt;"/>
  </process>
  <bpmndi:BPMNDiagram id="dia"><bpmndi:BPMNPlane id="pl" bpmnElement="p">
    <bpmndi:BPMNShape id="s_di" bpmnElement="s"><dc:Bounds x="0" y="22" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="t_di" bpmnElement="t&quot;x"><dc:Bounds x="100" y="0" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="c_di" bpmnElement="cn"><dc:Bounds x="250" y="0" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="ghost_di" bpmnElement="ghost"><dc:Bounds x="400" y="0" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="bad_di" bpmnElement="cn"><dc:Bounds x="NaN" y="0" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="f_di" bpmnElement="f"><di:waypoint x="36" y="40"/><di:waypoint x="100" y="40"/></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="g_di" bpmnElement="ghost_flow"><di:waypoint x="0" y="0"/><di:waypoint x="9" y="9"/></bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</definitions>
"""


def test_hostile_and_cjk_text_is_escaped_and_intact():
    progress = {"elements": {'t"x': {"state": "error", "actor": "<b>mallory</b>\x07", "assignees": ["a&b"],
                                     "reason": "</title><script>x</script>"}}, "flows": ["f"]}
    svg = render_definition({"h.bpmn": HOSTILE}, progress=progress)
    root = _parse(svg)
    assert root.xpath("//*[local-name()='script' or local-name()='img']") == []
    assert "<script>" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    groups = _by_id(root)
    task = groups['t"x']
    assert "<script>alert(1)</script> &" in task.xpath("string(.//*[local-name()='text'])")
    assert "<b>mallory</b>" in _title(task) and "</title><script>x</script>" in _title(task)
    assert "主管审批" in groups["cn"].xpath("string(.//*[local-name()='text'])")
    assert "ghost" not in groups and "ghost_flow" not in groups
    assert root.get("data-process-id") == "p"


def test_model_without_executable_process_still_draws():
    data = LEAVE.read_bytes().replace(b'isExecutable="true"', b'isExecutable="false"')
    assert _groups(_parse(render_definition({"l.bpmn": data})), "fd-node")


def test_screenshot_of_the_progress_view():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed: no screenshot")
    svg = render_definition({"leave_request.bpmn": LEAVE.read_bytes()}, progress=LEAVE_PROGRESS)
    ARTIFACTS.mkdir(exist_ok=True)
    page = ARTIFACTS / "progress_leave_request.html"
    png = ARTIFACTS / "progress_leave_request.png"
    png.unlink(missing_ok=True)
    page.write_text('<!doctype html><html><head><meta charset="utf-8"><title>progress</title><style>'
                    "body{margin:0;padding:16px;background:#fff}svg{width:100%;height:auto}</style></head>"
                    f"<body>{svg}</body></html>", encoding="utf-8")
    subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--screenshot={png}", "--window-size=1100,500", page.as_uri()],
                   capture_output=True, timeout=120, check=False)
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_malformed_progress_and_aggregate_do_not_break_the_drawing():
    data = {"l.bpmn": LEAVE.read_bytes()}
    odd_progress = [{}, {"elements": [1], "flows": "abc"},
                    {"elements": {"hr_approval": "x", "submitted": {"state": "bogus", "count": "x",
                                                                    "duration_s": "zz", "assignees": "bob"}}}]
    for progress in odd_progress:
        assert _groups(_parse(render_definition(data, progress=progress)), "fd-state-none")
    aggregate = {"hr_approval": {"active": "x", "avg_wait_s": float("nan")}, "x": 3,
                 "manager_approval": {"active": 2, "avg_wait_s": float("inf")}}
    assert _groups(_parse(render_definition(data, aggregate=aggregate, lang="fr")), "fd-legend")

"""Adding a diagram layout to BPMN files, and every shipped process having one."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from diagrams.di_writer import with_layout
from diagrams.model import find_plane, load_trees, read_plane
from engine.model import compile_model
from tests.conftest import DATA, ROOT
from webapp.cli import main


def test_a_model_without_layout_gets_one_that_the_progress_view_reads(tmp_path):
    source = (DATA / "picks" / "countersign_picks.bpmn").read_bytes()
    assert b"BPMNDiagram" not in source
    laid_out = with_layout("m.bpmn", source)
    compile_model({"m.bpmn": laid_out})  # still a valid model
    found = find_plane(load_trees({"m.bpmn": laid_out}), "cs_picks")
    assert found is not None  # the progress view draws from the file's own layout, not laid out again
    diagram = read_plane(*found, "cs_picks")
    assert {n.id for n in diagram.nodes} == {"start", "review", "board", "end"}
    assert all(n.box.x >= 100 for n in diagram.nodes)
    assert with_layout("m.bpmn", laid_out) == laid_out  # a file with a layout is left as it is
    target = tmp_path / "m.bpmn"
    target.write_bytes(source)
    runner = CliRunner()
    assert "layout added" in runner.invoke(main, ["layout", str(target)]).output
    assert "has a layout already" in runner.invoke(main, ["layout", str(target)]).output
    bad = tmp_path / "bad.bpmn"
    bad.write_bytes(b"<not bpmn")
    result = runner.invoke(main, ["layout", str(bad)])
    assert result.exit_code != 0 and "bad.bpmn" in result.output


def test_every_shipped_process_has_a_diagram_layout():
    models = sorted(Path(ROOT / "bpmn").glob("*/*.bpmn"))
    assert len(models) >= 2
    for path in models:
        assert b"BPMNDiagram" in path.read_bytes(), f"{path} has no diagram layout: run flowdesk layout {path}"

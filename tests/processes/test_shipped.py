"""Every process in bpmn/ deploys without problems, carries its metadata, and draws from its own layout."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from definitions import service as definitions
from definitions.bundle import read_path
from diagrams.model import find_plane, load_trees
from diagrams.render import render_definition
from tests.conftest import ROOT

SHIPPED = sorted(path.name for path in Path(ROOT / "bpmn").iterdir() if (path / "process.json").is_file())


def test_the_library_ships_the_processes_of_the_plan():
    assert len(SHIPPED) >= 13
    assert {"leave_request", "general_approval", "expense_reimbursement", "complaint_handling",
            "lead_conversion", "contract_to_receivable"} <= set(SHIPPED)


@pytest.mark.parametrize("key", SHIPPED)
def test_a_shipped_process_deploys_cleanly_and_draws_from_its_layout(key):
    files = read_path(ROOT / "bpmn" / key)
    model = definitions.validate_bundle({k: v for k, v in files.items() if k != "process.json"})
    assert model.report()["issues"] == [], model.report()["issues"]
    meta = json.loads(files["process.json"])
    assert meta["key"] == key and " / " in meta["name"] and meta.get("description")
    assert meta["category"] in {"hr", "finance", "sales", "service", "office", "general"}
    bpmn = {name: data for name, data in files.items() if name.endswith(".bpmn")}
    assert find_plane(load_trees(bpmn), model.primary_process_id) is not None, f"{key} has no diagram layout"
    for lang in ("zh", "en"):
        svg = render_definition(bpmn, model.primary_process_id, lang=lang)
        assert svg.startswith("<svg") and "</svg>" in svg

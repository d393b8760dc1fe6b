"""Every third-party model in the shared corpus compiles, or is refused with a ModelError naming its file.

The corpus (../shared/corpus/bpmn, see its README and INDEX.tsv) records, per file, whether
SpiffWorkflow 3.2.0's BpmnParser, SpiffBpmnParser and CamundaParser accept it. A file that at
least one of them accepts must compile here too; the others may compile (Flowdesk reads some
vendor dialects SpiffWorkflow does not) or be refused, but never with any other exception.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from engine.errors import EngineError, ModelError
from engine.model import compile_model

CORPUS = Path(__file__).parents[2].parent / "shared" / "corpus" / "bpmn"
INDEX = CORPUS / "INDEX.tsv"
if not INDEX.is_file():
    pytest.skip(f"the BPMN corpus is not available at {CORPUS}", allow_module_level=True)

PARSERS = ("spiff_BpmnParser", "spiff_SpiffBpmnParser", "spiff_CamundaParser")
ENV_CANARY = "flowdesk-corpus-canary-7f3a"
# A process that needs nothing, so a DMN file can be compiled on its own.
MINIMAL_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" targetNamespace="urn:test">
  <process id="empty" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="flow" sourceRef="start" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>
"""


def _rows() -> list[dict]:
    with INDEX.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


ROWS = _rows()
BPMN_ROWS = [row for row in ROWS if row["kind"] == "bpmn"]
DMN_ROWS = [row for row in ROWS if row["kind"] == "dmn"]


def _accepted(row: dict) -> bool:
    return any(row[column].startswith("ok") for column in PARSERS)


def _needs_siblings(row: dict) -> bool:
    return any(row[column] == "ok-with-siblings" for column in PARSERS)


def _xxe(row: dict) -> bool:
    return "xxe" in row["notes"].lower()


def _dangerous_scripts(row: dict) -> bool:
    notes = row["notes"].lower()
    return "script" in notes and ("env" in notes or "/etc/passwd" in notes)


def _bundle(row: dict) -> dict[str, bytes]:
    """The file itself, plus the files its folder supplies when a parser needed them."""
    path = CORPUS / row["rel_path"]
    files = {path.name: path.read_bytes()}
    if not _needs_siblings(row):
        return files
    siblings = [CORPUS / rel.strip() for rel in row["siblings_used"].split(",") if rel.strip()]
    if not siblings:
        siblings = [p for p in sorted(path.parent.iterdir())
                    if p != path and p.name.lower().endswith((".bpmn", ".bpmn20.xml", ".dmn"))]
    for sibling in siblings:
        files[sibling.name if sibling.name not in files else str(sibling.relative_to(CORPUS))] = \
            sibling.read_bytes()
    return files


def _compile(files: dict[str, bytes]):
    """Compile, turning any exception other than ModelError into a test failure."""
    try:
        return compile_model(files), None
    except ModelError as exc:
        return None, exc
    except Exception as exc:  # the contract: a model is compiled or refused with a ModelError, nothing else
        pytest.fail(f"compile_model raised {type(exc).__name__} instead of ModelError: {exc}")


def _assert_names_file(exc: ModelError, files: dict[str, bytes]) -> None:
    assert exc.file_name in files, f"error does not name a file of the bundle: {exc}"
    assert exc.file_name in str(exc)
    assert exc.reason


def test_index_lists_every_file():
    listed = {row["rel_path"] for row in ROWS}
    on_disk = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*")
               if p.is_file() and p.name.lower().endswith((".bpmn", ".bpmn20.xml", ".dmn"))}
    assert listed == on_disk


@pytest.mark.parametrize("row", BPMN_ROWS, ids=[row["rel_path"] for row in BPMN_ROWS])
def test_bpmn_file_compiles_or_is_refused(row):
    files = _bundle(row)
    model, error = _compile(files)
    if _xxe(row):
        assert error is not None, "a model with an external entity payload must be refused"
        _assert_names_file(error, files)
        assert "DOCTYPE" in error.reason
        return
    if _accepted(row):
        assert error is None, f"a SpiffWorkflow parser accepts this file, Flowdesk refused it: {error}"
    if error is not None:
        _assert_names_file(error, files)
        return
    if row["executable_processes"] == "0":
        assert model.process_ids == []
        assert not model.executable
    else:
        assert model.process_ids, "a model with an executable process compiled to none"
        assert model.primary_process_id in model.process_ids
    for issue in model.issues:
        assert issue["severity"] in ("error", "warning")
        assert issue["reason"]


@pytest.mark.parametrize("row", DMN_ROWS, ids=[row["rel_path"] for row in DMN_ROWS])
def test_dmn_file_compiles_or_is_refused(row):
    path = CORPUS / row["rel_path"]
    files = {path.name: path.read_bytes(), "empty.bpmn": MINIMAL_BPMN}
    model, error = _compile(files)
    if _accepted(row):
        assert error is None, f"SpiffWorkflow reads this decision, Flowdesk refused it: {error}"
        assert model.process_ids == ["empty"]
    else:
        assert error is None or error.file_name == path.name, f"the error names the wrong file: {error}"


DANGEROUS_ROWS = [row for row in BPMN_ROWS if _dangerous_scripts(row)]


def test_corpus_has_hostile_files():
    assert DANGEROUS_ROWS, "the corpus should contain the dangerous-scripts models"
    assert any(_xxe(row) for row in BPMN_ROWS), "the corpus should contain an XXE model"


@pytest.mark.parametrize("row", DANGEROUS_ROWS, ids=[row["rel_path"] for row in DANGEROUS_ROWS])
def test_dangerous_script_cannot_read_environment(row, monkeypatch):
    pytest.importorskip("engine.sandbox")
    from engine.runtime import ProcessRuntime

    monkeypatch.setenv("FLOWDESK_CORPUS_CANARY", ENV_CANARY)
    files = _bundle(row)
    model, error = _compile(files)
    if error is not None:
        _assert_names_file(error, files)
        return
    if not model.executable:
        return
    runtime = ProcessRuntime(model, script_time_limit=5.0)
    with pytest.raises(EngineError) as caught:
        workflow, _ = runtime.start()
        leaked = repr([task.data for task in workflow.get_tasks()]) + repr(workflow.data)
        assert ENV_CANARY not in leaked and "root:" not in leaked
    assert ENV_CANARY not in str(caught.value)
    assert "root:" not in str(caught.value)

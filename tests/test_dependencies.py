"""The dependency rule: webapp -> domain packages -> engine; the engine imports nothing of ours."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = {"engine", "definitions", "forms", "instances", "org", "diagrams", "attachments", "audit", "database", "records", "collab", "documents", "search", "crm", "webapp"}
ALLOWED = {
    "engine": set(),
    "database": {"definitions", "instances", "org", "attachments", "records", "audit", "collab", "documents",
                 "search"},  # only database/models.py gathers the domain models
    "definitions": {"engine", "database", "forms", "audit"},
    "forms": {"engine", "database"},
    "instances": {"engine", "database", "definitions", "forms"},
    "org": {"engine", "database", "instances", "audit"},
    "diagrams": {"engine"},
    "attachments": {"database"},
    "records": {"engine", "database", "definitions", "forms", "instances", "org", "audit"},
    "audit": {"database"},
    "collab": {"engine", "database", "instances", "org", "audit", "attachments", "records", "definitions"},
    "documents": {"database", "attachments", "audit", "org", "instances"},
    "search": {"database", "documents", "records", "instances"},  # search/sources.py follows their changes
    # Work across records, processes and people (complaints from the customer portal).
    "crm": {"engine", "database", "definitions", "forms", "instances", "org", "records", "attachments", "audit"},
    "webapp": OURS,
}
NO_FLASK = {"engine", "definitions", "forms", "instances", "org", "diagrams", "attachments", "database", "records", "audit", "collab",
            "documents", "search", "crm"}
NO_DB = {"engine", "diagrams"}
# The document centre's building blocks stay free of any database: they are used on bytes and streams alone.
PURE_FILES = {f"documents/{name}.py" for name in ("extract", "integrity", "secrecy", "pdfguard", "archive", "errors", "output")}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_every_import_follows_the_rule():
    wrong = []
    for package in OURS:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            imported = _imports(path)
            for name in imported & OURS - {package}:
                if name not in ALLOWED[package]:
                    wrong.append(f"{path.relative_to(ROOT)} imports {name}")
            if package in NO_FLASK and {"flask", "flask_sqlalchemy", "flask_login"} & imported:
                wrong.append(f"{path.relative_to(ROOT)} imports Flask")
            if package in NO_DB and {"sqlalchemy", "alembic", "psycopg"} & imported:
                wrong.append(f"{path.relative_to(ROOT)} imports a database library")
            if path.relative_to(ROOT).as_posix() in PURE_FILES and ({"sqlalchemy", "alembic", "psycopg"} | OURS) & imported:
                wrong.append(f"{path.relative_to(ROOT)} is a pure building block but imports a database or our packages")
    assert wrong == []


def test_the_rule_checker_sees_a_wrong_arrow(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from webapp import app\nimport flask\n")
    assert {"webapp", "flask"} <= _imports(bad)

"""The diagrams package stays pure: no Flask, no database, and of ours only the engine's XML helpers."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "diagrams"
ALLOWED_OURS = {"engine.xmlsafe", "engine.dialect", "engine.errors"}
OURS = {"engine", "definitions", "forms", "instances", "database", "webapp", "org"}
FORBIDDEN = {"flask", "flask_sqlalchemy", "flask_login", "sqlalchemy", "alembic", "psycopg"}


def test_diagrams_imports_only_what_the_rule_allows():
    wrong = []
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in FORBIDDEN or (top in OURS and module not in ALLOWED_OURS):
                    wrong.append(f"{path.name} imports {module}")
    assert wrong == []

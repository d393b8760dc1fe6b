"""`flowdesk demo` (what scripts/run loads): every shipped process deployed and running in several states."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from database import Database
from instances.actors import Actor
from instances.models import ProcessInstance
from search import service as search
from search import sources
from tests.conftest import ROOT
from webapp.cli import main


def test_the_demo_shows_a_living_company_and_loads_once(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'demo.db'}")
    monkeypatch.setenv("FLOWDESK_VAR_DIR", str(tmp_path))
    runner = CliRunner()
    first = runner.invoke(main, ["demo"], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "demo processes:" in first.output
    database = Database(f"sqlite:///{tmp_path / 'demo.db'}")
    with database.query() as session:
        counts = dict(session.execute(select(ProcessInstance.definition_key, func.count())
                                      .group_by(ProcessInstance.definition_key)).all())
        statuses = set(session.scalars(select(ProcessInstance.status).distinct()))
        shipped = {path.name for path in Path(ROOT / "bpmn").iterdir() if path.is_dir()}
        missing = shipped - set(counts) - {"general_approval"}
        assert not missing, f"shipped processes without demo requests: {sorted(missing)}"
        assert {"running", "completed", "rejected"} <= statuses
        # The demo records are in the search index.
        admin = Actor("admin", is_admin=True)
        assert [hit.title for hit in search.search(session, "华东机械", readable=sources.readable(session, admin))] \
            == ["华东机械有限公司"]
    second = runner.invoke(main, ["demo"], catch_exceptions=False)
    assert second.exit_code == 0 and "demo processes:" not in second.output
    with database.query() as session:
        assert dict(session.execute(select(ProcessInstance.definition_key, func.count())
                                    .group_by(ProcessInstance.definition_key)).all()) == counts
    database.dispose()

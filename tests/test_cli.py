"""The flowdesk command: a whole approval from the shell, and one clear message for bad input."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from database import Database
from org import service as org
from tests.conftest import DATA, ROOT
from webapp.cli import main


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("FLOWDESK_VAR_DIR", str(tmp_path))
    runner = CliRunner()

    def run(*args, ok=True):
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output
        return result.output

    run("db", "upgrade")
    database = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    with database.command() as session:  # the people of the shell's requests: attendance records name them
        for username in ("alice", "bob", "carol"):
            org.save_user(session=session, username=username, display_name=username.title())
    database.dispose()
    return run


def test_a_leave_request_from_the_shell(cli):
    assert "leave_request v1 deployed" in cli("deploy", str(ROOT / "bpmn" / "leave_request"))
    assert "unchanged" in cli("deploy", str(ROOT / "bpmn" / "leave_request"))
    annual = {"leave_type": "annual", "start_date": "2026-12-01", "end_date": "2026-12-02", "manager": "bob"}
    refused = cli("start", "leave_request", "--as", "alice", "--data", json.dumps(annual), ok=False)
    assert "no annual leave balance for 2026" in refused  # HR keeps none for alice: nothing is started
    out = cli("start", "leave_request", "--as", "alice", "--data", json.dumps({**annual, "leave_type": "sick"}))
    assert "started instance 1" in out and "-> bob" in out
    tasks = json.loads(cli("tasks", "--as", "bob", "--json"))
    assert [t["name"] for t in tasks] == ["Manager approval / 主管审批"]
    cli("complete", str(tasks[0]["id"]), "--as", "bob", "--decision", "approve")
    [hr] = json.loads(cli("tasks", "--as", "carol", "--groups", "hr", "--json"))
    assert "instance 1 is completed" in cli("complete", str(hr["id"]), "--as", "carol", "--groups", "hr",
                                            "--decision", "approve")
    shown = json.loads(cli("show", "1", "--json"))
    assert shown["status"] == "completed" and shown["tasks"] == []
    assert [h["type"] for h in shown["history"]][-1] == "instance_completed"
    assert "instance 1 of leave_request: completed" in cli("show", "1")


def test_bad_input_gets_one_clear_message(cli):
    cli("deploy", str(ROOT / "bpmn" / "leave_request"))
    assert "--data is not valid JSON" in cli("start", "leave_request", "--as", "alice", "--data", "{oops", ok=False)
    assert "no process definition with key 'nope'" in cli("start", "nope", "--as", "alice", ok=False)
    assert "does not exist" in cli("deploy", "/no/such/folder", ok=False)
    assert "no task 99" in cli("complete", "99", "--as", "bob", ok=False)
    assert "no process instance 42" in cli("show", "42", ok=False)
    xxe = DATA / "bpmn" / "xxe.bpmn"
    out = cli("deploy", str(xxe), ok=False)
    assert "xxe.bpmn" in out and ("DOCTYPE" in out or "entity" in out)
    assert "no open tasks for alice" in cli("tasks", "--as", "alice")


def test_incidents_are_listed_and_retried(cli, monkeypatch):
    import time
    cli("deploy", str(DATA / "bpmn" / "timer_fail.bpmn"))
    cli("start", "timer_fail", "--as", "alice")
    monkeypatch.setenv("FLOWDESK_WORKER_MAX_ATTEMPTS", "1")
    time.sleep(1.1)  # the model's timer is PT1S on the real clock
    assert "handled 0" in cli("worker", "--once")
    out = cli("incidents")
    assert "instance 1 of timer_fail: element 'check' after 1 attempts" in out
    assert "unknown variable 'missing_variable'" in out
    assert "running again" in cli("retry", "1", "--as", "admin")
    assert "no incidents" in cli("incidents")
    assert "is running, not in incident" in cli("retry", "1", "--as", "admin", ok=False)


def test_db_upgrade_installs_the_core_record_types_once(cli):
    out = cli("db", "upgrade")
    assert "record types installed" not in out  # the fixture's first upgrade installed them already
    import os

    from database import Database
    from records import service as records
    with Database(os.environ["DATABASE_URL"]).query() as session:
        assert "customer" in {v.key for v in records.list_types(session=session)}


def test_search_index_is_filled_on_upgrade_and_rebuilt_on_demand(cli):
    import os

    from sqlalchemy import delete

    from database import Database
    from instances.actors import Actor
    from records import service as records
    from search import service as search
    from search import sources
    from search.models import SearchEntry, SearchText

    database = Database(os.environ["DATABASE_URL"])
    with database.command() as session:
        records.create_record(session=session, type_key="customer", actor=Actor("admin", is_admin=True),
                              data={"name": "青松物流有限公司"})
    with database.command() as session:  # as a database from before search would be
        session.execute(delete(SearchText))
        session.execute(delete(SearchEntry))
    out = cli("db", "upgrade")
    assert "building the search index" in out and "1 record(s)" in out

    def titles():
        with database.query() as session:
            admin = Actor("admin", is_admin=True)
            return [hit.title for hit in search.search(session, "青松", readable=sources.readable(session, admin))]

    assert titles() == ["青松物流有限公司"]
    assert "building the search index" not in cli("db", "upgrade")  # only an empty index is filled
    out = cli("search", "reindex")
    assert "records: 1/1" in out and "1 record(s)" in out and titles() == ["青松物流有限公司"]

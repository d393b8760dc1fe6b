"""Real worker OS processes against one PostgreSQL database: each timer fires exactly once, and a worker
killed with SIGKILL in the middle of a run leaves only whole, committed work behind."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from database.base import utcnow
from definitions import service as definitions
from instances import service
from instances.actors import Actor
from instances.models import HistoryEvent, ProcessInstance
from tests.conftest import ROOT, read_bundle

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

# Each worker process connects first, says "ready", then waits for "go" on stdin so that the test can
# release all workers at the same moment.
_PRELUDE = """
import sys, time
from database import Database
from instances.jobs import run_due_timers
db = Database(sys.argv[1])
with db.engine.connect():
    pass
print("ready", flush=True)
sys.stdin.readline()
"""

# Fire everything that is due, until two runs in a row find nothing; report the total.
FAST_WORKER = _PRELUDE + """
total, empty = 0, 0
while empty < 2:
    n = run_due_timers(db)
    total += n
    empty = empty + 1 if n == 0 else 0
print(f"fired {total}", flush=True)
"""

# Fire one instance per transaction with a pause in between, printing a line after each commit.
SLOW_WORKER = _PRELUDE + """
empty = 0
while empty < 2:
    n = run_due_timers(db, limit=1)
    if n:
        print(f"fired {n}", flush=True)
        empty = 0
    else:
        empty += 1
    time.sleep(0.005)
print("done", flush=True)
"""


def _spawn(code: str, url: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-c", code, url], cwd=ROOT, env=env, text=True, bufsize=1,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        raise AssertionError(f"worker did not start: {line!r} {proc.stderr.read()}")
    return proc


def _go(*procs: subprocess.Popen) -> None:
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()


def _finish(proc: subprocess.Popen, timeout: float = 40) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"worker exited with {proc.returncode}: {err}"
    return out


def _start_many(db, count: int) -> list[int]:
    with db.command() as session:
        definitions.deploy(session=session, files=read_bundle("timer_wait.bpmn"))
    with db.command() as session:
        ids = [service.start_instance(session=session, key="timer_wait", actor=Actor("alice")).id
               for _ in range(count)]
    return ids


def _wait_until_all_due(db) -> None:
    # The engine checks timers against the real clock, so wait until the last timer is due.
    with db.query() as session:
        latest = session.scalar(select(func.max(ProcessInstance.next_wake_at)))
        running = session.scalar(select(func.count()).select_from(ProcessInstance)
                                 .where(ProcessInstance.status == "running"))
    assert latest is not None and running > 0
    delay = (latest - utcnow()).total_seconds()
    if delay > 0:
        time.sleep(delay + 0.1)
    assert utcnow() > latest + timedelta(milliseconds=50)


def _statuses(db) -> dict[int, str]:
    with db.query() as session:
        return dict(session.execute(select(ProcessInstance.id, ProcessInstance.status)).all())


def _fired_events(db, kind: str = "timers_fired") -> dict[int, int]:
    with db.query() as session:
        rows = session.execute(select(HistoryEvent.instance_id, func.count())
                               .where(HistoryEvent.type == kind).group_by(HistoryEvent.instance_id)).all()
    return dict(rows)


def test_two_worker_processes_fire_each_of_1000_timers_exactly_once(pg_db, postgres_url):
    ids = _start_many(pg_db, 1000)
    assert set(_statuses(pg_db).values()) == {"running"}
    _wait_until_all_due(pg_db)

    workers = [_spawn(FAST_WORKER, postgres_url), _spawn(FAST_WORKER, postgres_url)]
    _go(*workers)
    outputs = [_finish(proc) for proc in workers]
    fired = [int(out.strip().splitlines()[-1].removeprefix("fired ")) for out in outputs]

    assert sum(fired) == 1000, fired
    assert all(n > 0 for n in fired), f"one worker did all the work: {fired}"
    statuses = _statuses(pg_db)
    assert sorted(statuses) == sorted(ids)
    assert set(statuses.values()) == {"completed"}
    events = _fired_events(pg_db)
    assert set(events) == set(ids)
    doubles = {iid: n for iid, n in events.items() if n != 1}
    assert not doubles, f"timers fired more than once: {doubles}"
    assert set(_fired_events(pg_db, "instance_completed").values()) == {1}


def test_sigkill_mid_run_loses_no_committed_work(pg_db, postgres_url):
    ids = _start_many(pg_db, 300)
    _wait_until_all_due(pg_db)

    victim = _spawn(SLOW_WORKER, postgres_url)
    _go(victim)
    reported = 0
    deadline = time.monotonic() + 30
    while reported < 50 and time.monotonic() < deadline:
        line = victim.stdout.readline()
        assert line, f"worker ended early: {victim.stderr.read()}"
        reported += line.startswith("fired")
    assert reported >= 50
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=10)
    assert victim.returncode == -signal.SIGKILL

    # Everything the killed worker reported was committed, and what it committed is whole.
    statuses = _statuses(pg_db)
    events = _fired_events(pg_db)
    completed = {iid for iid, status in statuses.items() if status == "completed"}
    assert reported <= len(events) < 300, "the kill did not land in the middle of the run"
    assert set(events) == completed
    assert set(events.values()) == {1}
    assert set(_fired_events(pg_db, "instance_completed")) == completed
    assert {status for iid, status in statuses.items() if iid not in completed} == {"running"}

    # A fresh worker picks up the rest (no row stays locked by the dead connection) and fires each once.
    rescuer = _spawn(FAST_WORKER, postgres_url)
    _go(rescuer)
    out = _finish(rescuer)
    assert int(out.strip().splitlines()[-1].removeprefix("fired ")) == 300 - len(events)
    statuses = _statuses(pg_db)
    assert sorted(statuses) == sorted(ids)
    assert set(statuses.values()) == {"completed"}
    final = _fired_events(pg_db)
    assert set(final) == set(ids)
    assert set(final.values()) == {1}

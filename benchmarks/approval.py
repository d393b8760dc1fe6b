"""Approval benchmark: the leave_request model run raw in memory, on SQLite and on PostgreSQL.

Run with scripts/bench [--quick] [--instances N] [--skip-postgres] [--preload N] [--profile].
"""
from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing
import os
import platform
import pstats
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The approval model of the benchmark: start with a form, manager approval, HR approval. A frozen copy of the
# first shipped leave request, so the figures compare across releases while bpmn/leave_request grows.
BUNDLE = ROOT / "benchmarks" / "models" / "leave_request"
KEY = "leave_request"
START_DATA = {"leave_type": "annual", "start_date": "2026-12-01", "end_date": "2026-12-02", "days": 2,
              "manager": "bob"}
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
BENCH_DB = "flowdesk_bench"


def _files() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(BUNDLE.iterdir()) if p.is_file()}


def pct(values, q):
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(q / 100 * (len(s) - 1)))))
    return s[k]


class Result:
    def __init__(self, name, instances, wall, starts, completes, note=""):
        self.name, self.instances, self.wall = name, instances, wall
        self.starts, self.completes, self.note = starts, completes, note

    @property
    def rate(self):
        return self.instances / self.wall if self.wall else float("nan")


# -- 1. raw in memory ---------------------------------------------------------------------------------
def _plain_python_xml(xml: bytes) -> bytes:
    text = xml.decode("utf-8")

    def fix(m):
        expr = m.group(2).strip()
        expr = re.sub(r"\$\{(.*)\}", r"\1", expr, flags=re.S).strip()
        expr = re.sub(r"\beq\b", "==", expr)
        return m.group(1) + expr + m.group(3)

    text = re.sub(r"(<bpmn:conditionExpression[^>]*>)(.*?)(</bpmn:conditionExpression>)", fix, text, flags=re.S)
    return text.encode("utf-8")


def bench_raw_spiff(n: int) -> Result:
    from lxml import etree
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    from SpiffWorkflow.util.task import TaskState

    xml = _plain_python_xml((BUNDLE / "leave_request.bpmn").read_bytes())
    parser = SpiffBpmnParser()
    parser.add_bpmn_xml(etree.fromstring(xml), filename="leave_request.bpmn")
    spec = parser.get_spec(KEY)
    subs = parser.get_subprocess_specs(KEY)
    starts, completes = [], []

    def complete_one(wf):
        [task] = wf.get_tasks(state=TaskState.READY, manual=True)
        t0 = time.perf_counter()
        task.data["decision"] = "approve"
        task.run()
        wf.do_engine_steps()
        completes.append((time.perf_counter() - t0) * 1000)

    t_all = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter()
        wf = BpmnWorkflow(spec, subs)
        start = wf.get_next_task(state=TaskState.READY, spec_name="Start")
        start.set_data(**START_DATA, initiator="alice")
        wf.do_engine_steps()
        starts.append((time.perf_counter() - t0) * 1000)
        complete_one(wf)
        complete_one(wf)
        assert wf.is_completed(), "raw SpiffWorkflow instance did not complete"
    return Result("raw SpiffWorkflow (stock, plain-Python conditions)", n, time.perf_counter() - t_all,
                  starts, completes)


def bench_engine_memory(n: int) -> Result:
    from engine.model import compile_model
    from engine.runtime import ProcessRuntime

    model = compile_model(_files())
    runtime = ProcessRuntime(model)
    starts, completes = [], []
    t_all = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter()
        wf, _report = runtime.start({**START_DATA, "initiator": "alice"})
        starts.append((time.perf_counter() - t0) * 1000)
        for _step in range(2):
            [task] = runtime.human_tasks(wf)
            t0 = time.perf_counter()
            runtime.complete(wf, task.id, {"decision": "approve"})
            completes.append((time.perf_counter() - t0) * 1000)
        assert runtime.is_completed(wf), "engine instance did not complete"
    return Result("Flowdesk engine in memory (no persistence)", n, time.perf_counter() - t_all,
                  starts, completes)


# -- 2./3. service layer ----------------------------------------------------------------------------------
def _actors():
    from instances.actors import Actor
    return Actor("alice"), Actor("bob"), Actor("carol", frozenset({"hr"}))


def setup_db(url: str):
    from database import Database, migrate
    from definitions import service as definitions

    db = Database(url)
    migrate.upgrade(db)
    with db.command() as session:
        definitions.deploy(session=session, files=_files(), actor="bench")
    return db


def run_instance(db, starts, completes, actors=None):
    """Start one instance and complete both approvals, each command in its own transaction."""
    from instances import service

    alice, bob, carol = actors or _actors()
    t0 = time.perf_counter()
    with db.command() as session:
        inst = service.start_instance(session=session, key=KEY, actor=alice, data=START_DATA)
        iid = inst.id
    starts.append((time.perf_counter() - t0) * 1000)
    for who in (bob, carol):
        with db.query() as session:
            [item] = service.list_open_work_items(session=session, instance_id=iid)
            wid = item.id
        t0 = time.perf_counter()
        with db.command() as session:
            done = service.complete_task(session=session, work_item_id=wid, actor=who, decision="approve")
            status = done.status
        completes.append((time.perf_counter() - t0) * 1000)
    assert status == "completed", f"instance {iid} ended {status}"
    return iid


def bench_service(db, name: str, n: int, warmup: int = 3) -> Result:
    for _ in range(warmup):
        run_instance(db, [], [])
    starts, completes = [], []
    t_all = time.perf_counter()
    for _ in range(n):
        run_instance(db, starts, completes)
    return Result(name, n, time.perf_counter() - t_all, starts, completes)


def bench_threads(db, name: str, n: int, clients: int) -> Result:
    for _ in range(2):
        run_instance(db, [], [])
    starts, completes, errors = [], [], []
    per = [n // clients + (1 if i < n % clients else 0) for i in range(clients)]
    barrier = threading.Barrier(clients + 1)

    def worker(count):
        s, c = [], []
        barrier.wait()
        try:
            for _ in range(count):
                run_instance(db, s, c)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        starts.extend(s)
        completes.extend(c)

    threads = [threading.Thread(target=worker, args=(k,)) for k in per]
    for t in threads:
        t.start()
    barrier.wait()
    t_all = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t_all
    if errors:
        raise errors[0]
    return Result(name, n, wall, starts, completes)


def _proc_worker(url, count, start_evt, queue):
    from database import Database
    db = Database(url, pool_size=2)
    run_instance(db, [], [])  # warm the compiled-model cache in this process
    s, c = [], []
    start_evt.wait(timeout=600)
    t0 = time.perf_counter()
    err = None
    try:
        for _ in range(count):
            run_instance(db, s, c)
    except Exception as exc:  # noqa: BLE001
        err = repr(exc)
    queue.put((t0, time.perf_counter(), s, c, err))
    db.dispose()


def bench_processes(url: str, name: str, n: int, clients: int) -> Result:
    ctx = multiprocessing.get_context("spawn")
    queue, start_evt = ctx.Queue(), ctx.Barrier(clients + 1)
    per = [n // clients + (1 if i < n % clients else 0) for i in range(clients)]
    procs = [ctx.Process(target=_proc_worker, args=(url, k, start_evt, queue)) for k in per]
    for p in procs:
        p.start()
    start_evt.wait(timeout=600)  # every process has warmed up: release them together
    results = [queue.get(timeout=3600) for _ in procs]
    for p in procs:
        p.join()
    errs = [r[4] for r in results if r[4]]
    if errs:
        raise RuntimeError(errs[0])
    t0 = min(r[0] for r in results)
    t1 = max(r[1] for r in results)
    starts = [x for r in results for x in r[2]]
    completes = [x for r in results for x in r[3]]
    return Result(name, n, t1 - t0, starts, completes)


# -- PostgreSQL housekeeping ----------------------------------------------------------------------------
def _pg_admin_url(url: str) -> str:
    return re.sub(r"postgresql(\+\w+)?://", "postgresql://", url)


def create_pg_db(base_url: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(_pg_admin_url(base_url))
    with psycopg.connect(admin.set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")
    return admin.set(database=BENCH_DB).render_as_string(hide_password=False)


def drop_pg_db(base_url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(_pg_admin_url(base_url))
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


def _cols(conn, table):
    from sqlalchemy import text
    rows = conn.execute(text("SELECT column_name FROM information_schema.columns WHERE table_name = :t "
                             "ORDER BY ordinal_position"), {"t": table}).all()
    return [r[0] for r in rows]


def preload(db, count: int) -> float:
    """Bulk-insert `count` completed instances cloned (server side) from one real completed instance.

    Every row keeps the shape of a real row (state JSON, data, work items, candidates, full history);
    ids, task guids, initiators, managers and timestamps vary so indexes see realistic distributions.
    """
    from sqlalchemy import text

    template = run_instance(db, [], [])
    t0 = time.perf_counter()
    with db.engine.begin() as conn:
        def base(table):
            return conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar()

        bi, bw, bc, bh = (base(t) for t in ("process_instance", "work_item", "work_item_candidate",
                                            "history_event"))
        nw = conn.execute(text("SELECT count(*) FROM work_item WHERE instance_id=:i"), {"i": template}).scalar()
        nh = conn.execute(text("SELECT count(*) FROM history_event WHERE instance_id=:i"),
                          {"i": template}).scalar()
        nc = conn.execute(text("SELECT count(*) FROM work_item_candidate c JOIN work_item w ON w.id=c.work_item_id"
                               " WHERE w.instance_id=:i"), {"i": template}).scalar()
        ago = "(now() - (g.g || ' seconds')::interval)"
        over = {
            "process_instance": {
                "id": f"{bi} + g.g",
                "initiator": "'user' || (g.g % 2000)",
                "business_key": "'LR-' || g.g",
                "started_at": ago, "updated_at": ago, "ended_at": ago,
            },
            "work_item": {
                "id": f"{bw} + (g.g - 1) * {nw} + t.k",
                "instance_id": f"{bi} + g.g",
                "task_guid": "gen_random_uuid()::text",
                "assignee": "CASE WHEN t.assignee IS NULL THEN NULL ELSE 'mgr' || (g.g % 300) END",
                "completed_by": "CASE WHEN t.assignee IS NULL THEN 'hr' || (g.g % 20) ELSE 'mgr' || (g.g % 300) END",
                "created_at": ago, "completed_at": ago,
            },
            "work_item_candidate": {
                "id": f"{bc} + (g.g - 1) * {max(nc, 1)} + t.k",
                "work_item_id": f"{bw} + (g.g - 1) * {nw} + t.wk",
            },
            "history_event": {
                "id": f"{bh} + (g.g - 1) * {nh} + t.k",
                "instance_id": f"{bi} + g.g",
                "work_item_id": f"CASE WHEN t.work_item_id IS NULL THEN NULL ELSE {bw} + (g.g - 1) * {nw} + t.wk END",
                "actor": "CASE WHEN t.actor IS NULL THEN NULL ELSE t.actor || (g.g % 300) END",
                "at": ago,
            },
        }
        wk = "(SELECT count(*) FROM work_item w2 WHERE w2.instance_id = :i AND w2.id <= {col})"
        sources = {
            "process_instance": "(SELECT *, 0 AS k FROM process_instance WHERE id = :i) t",
            "work_item": "(SELECT *, row_number() OVER (ORDER BY id) AS k FROM work_item WHERE instance_id = :i) t",
            "work_item_candidate": "(SELECT c.*, row_number() OVER (ORDER BY c.id) AS k, "
                                   + wk.format(col="c.work_item_id") + " AS wk FROM work_item_candidate c "
                                   "JOIN work_item w ON w.id = c.work_item_id WHERE w.instance_id = :i) t",
            "history_event": "(SELECT h.*, row_number() OVER (ORDER BY h.id) AS k, "
                             + wk.format(col="h.work_item_id") + " AS wk FROM history_event h "
                             "WHERE h.instance_id = :i) t",
        }
        chunk = 25_000
        for table in ("process_instance", "work_item", "work_item_candidate", "history_event"):
            cols = _cols(conn, table)
            exprs = [over[table].get(c, f't."{c}"') for c in cols]
            collist = ", ".join(f'"{c}"' for c in cols)
            for lo in range(1, count + 1, chunk):
                hi = min(count, lo + chunk - 1)
                conn.execute(text(f"INSERT INTO {table} ({collist}) SELECT {', '.join(exprs)} "
                                  f"FROM generate_series({lo}, {hi}) AS g(g) CROSS JOIN {sources[table]}"),
                             {"i": template})
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT max(id) FROM {table}))"))
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - t0


def bench_large_complete(db, completions: int) -> Result:
    """Start instances up to the manager task, then time `completions` complete_task commands."""
    from instances import service

    alice, bob, carol = _actors()
    items = []
    n_inst = (completions + 1) // 2
    for _ in range(n_inst):
        with db.command() as session:
            iid = service.start_instance(session=session, key=KEY, actor=alice, data=START_DATA).id
        items.append(iid)
    completes = []
    t_all = time.perf_counter()
    done = 0
    for iid in items:
        for who in (bob, carol):
            if done >= completions:
                break
            with db.query() as session:
                [item] = service.list_open_work_items(session=session, instance_id=iid)
                wid = item.id
            t0 = time.perf_counter()
            with db.command() as session:
                service.complete_task(session=session, work_item_id=wid, actor=who, decision="approve")
            completes.append((time.perf_counter() - t0) * 1000)
            done += 1
    return Result("PostgreSQL, large store: complete_task", n_inst, time.perf_counter() - t_all, [], completes,
                  note=f"{completions} completions")


def commit_floor(db, count: int = 200) -> tuple[float, float]:
    """p50/p95 (ms) of a trivial durable write transaction: one INSERT + COMMIT on a WAL-logged table."""
    from sqlalchemy import text

    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_commit (id bigserial PRIMARY KEY, v int)"))
    times = []
    with db.engine.connect() as conn:
        for i in range(count):
            t0 = time.perf_counter()
            conn.execute(text("INSERT INTO bench_commit (v) VALUES (:v)"), {"v": i})
            conn.commit()
            times.append((time.perf_counter() - t0) * 1000)
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_commit"))
    return pct(times, 50), pct(times, 95)


def profile_complete(db, top: int = 10) -> str:
    from instances import service

    alice, bob, _carol = _actors()
    with db.command() as session:
        iid = service.start_instance(session=session, key=KEY, actor=alice, data=START_DATA).id
    with db.query() as session:
        [item] = service.list_open_work_items(session=session, instance_id=iid)
        wid = item.id
    prof = cProfile.Profile()
    prof.enable()
    with db.command() as session:
        service.complete_task(session=session, work_item_id=wid, actor=bob, decision="approve")
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# -- output ----------------------------------------------------------------------------------------------
def environment(pg_version=None) -> str:
    import importlib.metadata as md

    def v(name):
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return "-"

    import sqlite3
    lines = [f"CPUs: {os.cpu_count()}  platform: {platform.platform()}",
             f"Python {platform.python_version()}  SpiffWorkflow {v('SpiffWorkflow')}  SQLAlchemy {v('SQLAlchemy')}"
             f"  psycopg {v('psycopg')}  lxml {v('lxml')}  SQLite {sqlite3.sqlite_version}"]
    if pg_version:
        lines.append(f"PostgreSQL: {pg_version}")
    return "\n".join(lines)


def table(results: list[Result], raw: Result) -> str:
    head = f"{'scenario':<58} {'inst/s':>9} {'x raw':>7} {'start p50':>10} {'p95':>8} {'complete p50':>13} {'p95':>8}"
    rows = [head, "-" * len(head)]
    for r in results:
        rows.append(f"{r.name:<58} {r.rate:>9.1f} {r.rate / raw.rate:>7.3f} {pct(r.starts, 50):>10.2f} "
                    f"{pct(r.starts, 95):>8.2f} {pct(r.completes, 50):>13.2f} {pct(r.completes, 95):>8.2f}")
    rows.append("(times in ms; a completed instance = start + 2 complete_task commands + 2 inbox reads)")
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small counts, for a smoke run")
    ap.add_argument("--instances", type=int, default=None, help="instances per scenario")
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--preload", type=int, default=None, help="stored instances for the large-store check")
    ap.add_argument("--completions", type=int, default=None, help="complete_task calls in the large-store check")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--no-processes", action="store_true", help="skip the multiprocessing variant")
    ap.add_argument("--profile", action="store_true", help="cProfile one complete_task on PostgreSQL")
    ap.add_argument("--skip-loop", action="store_true", help="skip the 1,000-round rework loop")
    ap.add_argument("--skip-inbox", action="store_true", help="skip the 1,000,000-work-item inbox benchmark")
    ap.add_argument("--skip-rest", action="store_true", help="skip the gunicorn REST benchmark")
    ap.add_argument("--skip-permissions", action="store_true", help="skip the record permission benchmark")
    args = ap.parse_args(argv)
    n = args.instances or (20 if args.quick else 300)
    preload_n = args.preload if args.preload is not None else (2_000 if args.quick else 100_000)
    completions = args.completions or (40 if args.quick else 300)
    sys.path.insert(0, str(ROOT))

    results = []
    print("Flowdesk approval benchmark (leave_request: start -> manager_approval -> hr_approval)")
    bench_raw_spiff(max(5, n // 10))  # warm imports/caches
    raw = bench_raw_spiff(n * 5)
    results.append(raw)
    bench_engine_memory(5)
    results.append(bench_engine_memory(n * 2))

    with tempfile.TemporaryDirectory() as tmp:
        db = setup_db(f"sqlite:///{tmp}/bench.sqlite")
        results.append(bench_service(db, "Flowdesk service, SQLite file (1 client)", n))
        db.dispose()

    pg_version = None
    large = None
    prof_text = None
    if not args.skip_postgres:
        base_url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG
        url = create_pg_db(base_url)
        try:
            db = setup_db(url)
            from sqlalchemy import text
            with db.engine.connect() as conn:
                pg_version = conn.execute(text("SHOW server_version")).scalar()
                sync = conn.execute(text("SHOW synchronous_commit")).scalar()
                fsync = conn.execute(text("SHOW fsync")).scalar()
            pg_version += f" (synchronous_commit={sync}, fsync={fsync})"
            floor = commit_floor(db, 50 if args.quick else 200)
            pg_version += f"\nPostgreSQL trivial durable INSERT+COMMIT round trip: p50 {floor[0]:.2f} ms, p95 {floor[1]:.2f} ms"
            results.append(bench_service(db, "Flowdesk service, PostgreSQL (1 client)", n))
            results.append(bench_threads(db, f"Flowdesk service, PostgreSQL ({args.clients} threads)", n,
                                         args.clients))
            if not args.no_processes:
                results.append(bench_processes(url, f"Flowdesk service, PostgreSQL ({args.clients} processes)",
                                               n, args.clients))
            print(f"preloading {preload_n} completed instances ...", flush=True)
            secs = preload(db, preload_n)
            from sqlalchemy import text
            with db.engine.connect() as conn:
                counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                          for t in ("process_instance", "work_item", "history_event")}
            print(f"  preloaded in {secs:.1f}s; rows now {counts}", flush=True)
            large = bench_large_complete(db, completions)
            if args.profile:
                prof_text = profile_complete(db)
            db.dispose()
        finally:
            drop_pg_db(base_url)

    print()
    print(environment(pg_version))
    print()
    print(table(results, raw))
    if large is not None:
        p95 = pct(large.completes, 95)
        print()
        print(f"Large store ({preload_n} stored instances): complete_task over {len(large.completes)} completions: "
              f"p50 {pct(large.completes, 50):.2f} ms, p95 {p95:.2f} ms, max {max(large.completes):.2f} ms "
              f"-> target p95 < 15 ms: {'MET' if p95 < 15 else 'NOT MET'}")
        best = max((r for r in results if "PostgreSQL" in r.name), key=lambda r: r.rate)
        ratio = best.rate / raw.rate
        print(f"Best PostgreSQL throughput ({best.name}): {best.rate:.1f} inst/s = {ratio:.3f} x raw "
              f"-> target >= 0.5: {'MET' if ratio >= 0.5 else 'NOT MET'}")
    if not args.skip_loop:
        from .loop import bench_rework_loop, report
        print()
        print(report(bench_rework_loop(100 if args.quick else 1000)))
    if prof_text:
        print()
        print("cProfile of one complete_task on PostgreSQL (top 10 by cumulative time):")
        print(prof_text)
    if not args.skip_postgres and not args.skip_inbox:
        from . import inbox
        print()
        inbox.main(["--quick"] if args.quick else [])
    if not args.skip_postgres and not args.skip_rest:
        from . import rest
        print()
        rest.main(["--quick"] if args.quick else [])
    if not args.skip_postgres and not args.skip_permissions:
        from . import permissions
        print()
        permissions.main(["--quick"] if args.quick else [])
    return 0


if __name__ == "__main__":
    sys.exit(main())

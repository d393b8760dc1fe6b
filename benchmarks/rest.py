"""REST benchmark: POST /api/v1/tasks/{id}/complete against trivial endpoints, on the production server.

Target: a REST complete-task call served by gunicorn (2 worker processes, 4 concurrent clients, durable
commits on PostgreSQL) reaches at least 0.1 of the request rate of a trivial JSON endpoint (GET /bench/flask)
on the same server in the same run.

The load comes twice: from Python client processes (http.client), and, when wrk is installed, from wrk.
On two cores the clients share the CPUs with server and database; wrk spends a fifth of the CPU per request
that the Python clients do, so the trivial endpoint gets faster under it while complete-task, bound by the
server's own work, barely moves: the ratio under wrk is the stricter figure.

Run with .venv/bin/python -m benchmarks.rest [--quick] [--tasks N] [--seconds S] [--clients 4] [--workers 2]
[--no-wrk] [--wrk-tasks N]. Needs gunicorn in the virtualenv. Only talks to 127.0.0.1.
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from . import wrk
from .approval import DEFAULT_PG, KEY, ROOT, _files, pct
from .inbox import create_db, drop_db

BENCH_DB = "flowdesk_bench_rest"
HOST = "127.0.0.1"
MANAGERS = ("li.na", "zhao.lei", "zhou.min", "xu.hui", "guo.tao", "he.jun", "zhang.wei")
INITIATOR = "wang.fang"
TRIVIAL_PATH = "/bench/trivial"
FLASK_TRIVIAL_PATH = "/bench/flask"
TRIVIAL_BODY = b'{"status":"ok"}'
TARGET_RATIO = 0.1


# -- the served application: Flowdesk plus one truly trivial endpoint, added only here ----------------------
def wrapped_app():
    """gunicorn factory: the real Flowdesk app plus two benchmark-only endpoints: a trivial Flask JSON
    route (the baseline the target names) and a bare WSGI answer (the server's own ceiling)."""
    from flask import jsonify

    from webapp.wsgi import production_app, settle_heap

    flask_app = production_app()
    flask_app.add_url_rule(FLASK_TRIVIAL_PATH, "bench_trivial", lambda: jsonify(status="ok"))
    settle_heap()

    def app(environ, start_response):
        if environ.get("PATH_INFO") == TRIVIAL_PATH:
            start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Content-Length", str(len(TRIVIAL_BODY)))])
            return [TRIVIAL_BODY]
        return flask_app(environ, start_response)

    return app


# -- preparation ---------------------------------------------------------------------------------------------
def prepare(url: str, tasks: int, managers: tuple[str, ...]) -> dict[str, list[int]]:
    """Migrate, load the demo organisation, deploy leave_request and start `tasks` instances whose manager
    approval is assigned round-robin to `managers`; return the open work item ids per manager."""
    from database import Database, migrate
    from definitions import service as definitions
    from instances import service
    from instances.actors import Actor
    from org.demo import load_demo

    db = Database(url)
    migrate.upgrade(db)
    with db.command() as session:
        load_demo(session=session)
    with db.command() as session:
        definitions.deploy(session=session, files=_files(), actor="bench")
    initiator = Actor(INITIATOR)
    for i in range(tasks):
        data = {"leave_type": "annual", "start_date": "2026-12-01", "end_date": "2026-12-02", "days": 2,
                "manager": managers[i % len(managers)]}
        with db.command() as session:
            service.start_instance(session=session, key=KEY, actor=initiator, data=data)
    from sqlalchemy import text
    out = {m: [] for m in managers}
    with db.engine.connect() as conn:
        for wid, assignee in conn.execute(text("SELECT id, assignee FROM work_item WHERE status='open' "
                                               "ORDER BY id")):
            if assignee in out:
                out[assignee].append(wid)
    db.dispose()
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(url: str, workers: int, var_dir: str, threads: int = 1) -> tuple[subprocess.Popen, int]:
    gunicorn = shutil.which("gunicorn", path=str(ROOT / ".venv" / "bin")) or shutil.which("gunicorn")
    if not gunicorn:
        raise SystemExit("gunicorn is not installed: .venv/bin/pip install gunicorn")
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-secret-key", "FLOWDESK_VAR_DIR": var_dir,
           "PYTHONPATH": str(ROOT)}
    # With threads > 1 each worker overlaps one request's database waits with another's work.
    worker_args = ["-k", "gthread", "--threads", str(threads)] if threads > 1 else []
    proc = subprocess.Popen([gunicorn, "-w", str(workers), *worker_args, "-b", f"{HOST}:{port}",
                             "--log-level", "warning", "benchmarks.rest:wrapped_app()"], cwd=str(ROOT), env=env,
                            stdout=open(os.path.join(var_dir, "gunicorn.out"), "wb"), stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited: " + open(os.path.join(var_dir, "gunicorn.out")).read()[-2000:])
        try:
            status, _body = request(HOST, port, "GET", "/healthz")
            if status == 200:
                return proc, port
        except OSError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def request(host, port, method, path, body=None, token=None, conn=None):
    own = conn is None
    conn = conn or http.client.HTTPConnection(host, port, timeout=30)
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    if own:
        conn.close()
    return resp.status, data


def get_token(port: int, username: str, password: str) -> str:
    status, data = request(HOST, port, "POST", "/api/v1/auth/token", {"username": username, "password": password})
    if status != 200:
        raise RuntimeError(f"POST /api/v1/auth/token for {username}: HTTP {status} {data[:300]!r}")
    return json.loads(data)["token"]


# -- load generator: one process per client, http.client keep-alive (reconnects when the server closes) ----
def _client(port, method, paths, body, token, seconds, start_evt, queue):
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    lat, errors, first_error = [], 0, None
    start_evt.wait(timeout=300)
    t0, cpu0 = time.perf_counter(), time.process_time()
    deadline = t0 + seconds
    for path in paths:
        if time.perf_counter() >= deadline:
            break
        s = time.perf_counter()
        try:
            status, data = request(HOST, port, method, path, body, token, conn=conn)
        except (OSError, http.client.HTTPException) as exc:
            status, data = 0, repr(exc).encode()
            conn.close()
            conn = http.client.HTTPConnection(HOST, port, timeout=60)
        lat.append((time.perf_counter() - s) * 1000)
        if status != 200:
            errors += 1
            first_error = first_error or f"HTTP {status} {path}: {data[:300]!r}"
    queue.put((t0, time.perf_counter(), lat, errors, first_error, time.process_time() - cpu0))
    conn.close()


class Run:
    def __init__(self, name, wall, lat, errors, first_error, cpu=None):
        self.name, self.wall, self.lat, self.errors, self.first_error = name, wall, lat, errors, first_error
        self.cpu = cpu or {}  # CPU seconds spent during the run: server, database, clients

    @property
    def busy(self) -> float:
        """Share of all CPUs that server, database and clients used during the run (0..1), NaN if unknown."""
        return sum(self.cpu.values()) / (self.wall * (os.cpu_count() or 1)) if self.cpu and self.wall else float("nan")

    def cpu_ms(self, part: str) -> float:
        """CPU milliseconds per request of one part (server, database, clients), NaN where unknown."""
        return 1000 * self.cpu[part] / len(self.lat) if self.lat and part in self.cpu else float("nan")

    @property
    def ok(self):
        return len(self.lat) - self.errors

    @property
    def rate(self):
        return self.ok / self.wall if self.wall else float("nan")


# -- where the CPU goes: read from /proc (Linux), so the table shows server, database and client cost ------
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: str) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()
    except OSError:
        return None


def _cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU seconds used so far by the gunicorn master and workers, and by all PostgreSQL processes."""
    if not os.path.isdir("/proc"):
        return {}
    server = database = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        fields = _stat(pid)
        if fields is None:
            continue
        used = (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if int(pid) == server_pid or int(fields[1]) == server_pid:
            server += used
        elif comm == "postgres" or comm.startswith("postgres:"):
            database += used
    return {"server": server, "database": database}


def load(name, port, method, per_client_paths, seconds, body=None, tokens=None, server_pid=None) -> Run:
    ctx = multiprocessing.get_context("spawn")
    clients = len(per_client_paths)
    queue, start_evt = ctx.Queue(), ctx.Barrier(clients + 1)
    tokens = tokens or [None] * clients
    procs = [ctx.Process(target=_client, args=(port, method, per_client_paths[i], body, tokens[i], seconds,
                                                start_evt, queue)) for i in range(clients)]
    for p in procs:
        p.start()
    start_evt.wait(timeout=300)
    before = _cpu_seconds(server_pid) if server_pid else {}
    results = [queue.get(timeout=seconds + 600) for _ in procs]
    after = _cpu_seconds(server_pid) if server_pid else {}
    for p in procs:
        p.join()
    wall = max(r[1] for r in results) - min(r[0] for r in results)
    lat = [x for r in results for x in r[2]]
    errors = sum(r[3] for r in results)
    first = next((r[4] for r in results if r[4]), None)
    cpu = {k: after[k] - before[k] for k in after}
    cpu["clients"] = sum(r[5] for r in results)
    return Run(name, wall, lat, errors, first, cpu)


# -- output --------------------------------------------------------------------------------------------------
def table(runs: list[Run], base: Run) -> str:
    head = (f"{'scenario':<52} {'requests':>9} {'errors':>7} {'req/s':>9} {'x trivial':>10} {'p50 ms':>8} "
            f"{'p95 ms':>8} {'CPU ms/req: server':>19} {'db':>6} {'clients':>8} {'CPUs busy':>10}")
    rows = [head, "-" * len(head)]
    for r in runs:
        rows.append(f"{r.name:<52} {len(r.lat):>9} {r.errors:>7} {r.rate:>9.1f} {r.rate / base.rate:>10.3f} "
                    f"{pct(r.lat, 50):>8.2f} {pct(r.lat, 95):>8.2f} {r.cpu_ms('server'):>19.2f} "
                    f"{r.cpu_ms('database'):>6.2f} {r.cpu_ms('clients'):>8.2f} {r.busy:>10.0%}")
    rows.append("(req/s counts HTTP 200 answers only; latency is client-side, per request; CPU is read from /proc:\n"
                " gunicorn master and workers, every PostgreSQL process, and the client processes)")
    return "\n".join(rows)


def run(args) -> dict:
    from sqlalchemy import create_engine, text

    from database.session import normalize_url
    from org.demo import DEMO_PASSWORD

    base_url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG
    url = create_db(base_url, BENCH_DB)
    managers = MANAGERS[:args.clients]
    var_dir = tempfile.mkdtemp(prefix="flowdesk-rest-bench-")
    proc = None
    try:
        t0 = time.perf_counter()
        use_wrk = args.wrk and wrk.available()
        tasks = prepare(url, args.tasks + (args.wrk_tasks if use_wrk else 0), managers)
        # Each manager's first tasks are for the Python clients, the rest for the wrk run.
        own = args.tasks // len(managers)
        wrk_tasks = {m: ids[own:] for m, ids in tasks.items()}
        tasks = {m: ids[:own] for m, ids in tasks.items()}
        print(f"prepared {sum(len(v) for v in tasks.values()) + sum(len(v) for v in wrk_tasks.values())} open "
              f"manager tasks for {len(managers)} users in "
              f"{time.perf_counter() - t0:.1f}s", flush=True)
        engine = create_engine(normalize_url(url))
        with engine.connect() as conn:
            pg = conn.execute(text("SHOW server_version")).scalar()
            settings = {k: conn.execute(text(f"SHOW {k}")).scalar()
                        for k in ("synchronous_commit", "fsync", "wal_sync_method")}
        proc, port = start_server(url, args.workers, var_dir, args.threads)
        tokens = [get_token(port, m, DEMO_PASSWORD) for m in managers]
        # warm every worker: imports, compiled models, connection pools
        for _ in range(20 * args.workers):
            request(HOST, port, "GET", "/healthz")
            request(HOST, port, "GET", "/api/v1/tasks?view=mine", token=tokens[0])
        warm = [tasks[m].pop(0) for m in managers for _ in range(2) if tasks[m]]
        for i, wid in enumerate(warm):
            status, data = request(HOST, port, "POST", f"/api/v1/tasks/{wid}/complete", {"decision": "approve"},
                                   token=tokens[i // 2])
            if status != 200:
                raise RuntimeError(f"warm-up complete-task {wid}: HTTP {status} {data[:300]!r}")
        cap = args.max_requests
        runs = []
        runs.append(load(f"GET {TRIVIAL_PATH} (bare WSGI, benchmark only)", port, "GET",
                         [[TRIVIAL_PATH] * cap for _ in managers], args.seconds, server_pid=proc.pid))
        flask_trivial = load(f"GET {FLASK_TRIVIAL_PATH} (trivial Flask JSON)", port, "GET",
                             [[FLASK_TRIVIAL_PATH] * cap for _ in managers], args.seconds, server_pid=proc.pid)
        runs.append(flask_trivial)
        health = load("GET /healthz (Flask + SELECT 1)", port, "GET", [["/healthz"] * cap for _ in managers],
                      args.seconds, server_pid=proc.pid)
        runs.append(health)
        runs.append(load("GET /api/v1/tasks?view=mine (bearer token)", port, "GET",
                         [["/api/v1/tasks?view=mine"] * cap for _ in managers], args.seconds, tokens=tokens,
                         server_pid=proc.pid))
        complete = load("POST /api/v1/tasks/{id}/complete (approve)", port, "POST",
                        [[f"/api/v1/tasks/{w}/complete" for w in tasks[m]] for m in managers], args.seconds,
                        body={"decision": "approve"}, tokens=tokens, server_pid=proc.pid)
        runs.append(complete)
        holders = dict(zip(managers, tokens, strict=True))
        wrk_runs = _wrk_runs(port, proc.pid, args, wrk_tasks, holders) if use_wrk else []
        with engine.connect() as conn:
            done = conn.execute(text("SELECT count(*) FROM work_item WHERE status='completed' "
                                     "AND element_id='manager_approval'")).scalar()
            hr_open = conn.execute(text("SELECT count(*) FROM work_item WHERE status='open' "
                                        "AND assignee IS NULL")).scalar()
        engine.dispose()
    finally:
        if proc is not None:
            stop_server(proc)
        drop_db(base_url, BENCH_DB)
        shutil.rmtree(var_dir, ignore_errors=True)

    import importlib.metadata as md
    print()
    kind = f"gthread, {args.threads} threads each" if args.threads > 1 else "sync workers"
    print(f"gunicorn {md.version('gunicorn')} -w {args.workers} ({kind}), {len(managers)} client processes "
          f"(http.client), {args.seconds:.0f} s or {args.max_requests} requests per client per scenario; "
          f"CPUs: {os.cpu_count()} shared by clients, server and database")
    print(f"PostgreSQL {pg} ({', '.join(f'{k}={v}' for k, v in settings.items())})")
    measured = complete.ok + (wrk_runs[1].requests - wrk_runs[1].bad if wrk_runs else 0)
    # wrk stops its clock with requests still in flight: the server may finish up to one per connection more.
    in_flight = args.clients if wrk_runs else 0
    agrees = len(warm) + measured <= done <= len(warm) + measured + in_flight
    print(f"complete-task check: {done} manager approvals completed in the database "
          f"(= {len(warm)} warm-up + {measured} measured{f' + up to {in_flight} in flight' if in_flight else ''}: "
          f"{'OK' if agrees else 'MISMATCH'}), {hr_open} HR approvals now open")
    print()
    print(table(runs, flask_trivial))
    for r in runs:
        if r.first_error:
            print(f"  first error in {r.name}: {r.first_error}")
    ratio = complete.rate / flask_trivial.rate
    ratio_health = complete.rate / health.rate
    ratio_trivial = complete.rate / runs[0].rate
    met = ratio >= TARGET_RATIO and complete.errors == 0
    print(f"complete-task / trivial Flask JSON endpoint: {ratio:.3f} (target >= {TARGET_RATIO}: "
          f"{'MET' if met else 'NOT MET'}); / healthz (Flask + SELECT 1): {ratio_health:.3f}; "
          f"/ bare WSGI: {ratio_trivial:.3f}")
    out = {"runs": {r.name: {"rate": r.rate, "p50": pct(r.lat, 50), "p95": pct(r.lat, 95), "requests": len(r.lat),
                             "errors": r.errors} for r in runs},
           "ratio": ratio, "ratio_health": ratio_health, "ratio_trivial": ratio_trivial, "met": met}
    if wrk_runs:
        trivial_wrk, complete_wrk = wrk_runs
        out["ratio_wrk"] = complete_wrk.rate / trivial_wrk.rate
        out["met_wrk"] = out["ratio_wrk"] >= TARGET_RATIO and complete_wrk.bad == 0 and trivial_wrk.bad == 0
        print()
        print(wrk_table(wrk_runs, args))
        print(f"with wrk, complete-task / trivial Flask JSON endpoint: {out['ratio_wrk']:.3f} (target >= "
              f"{TARGET_RATIO}: {'MET' if out['met_wrk'] else 'NOT MET'})")
    elif args.wrk:
        print("wrk is not installed (apt-get install wrk): the run with a C load generator was skipped")
    return out


def _wrk_runs(port: int, server_pid: int, args, tasks: dict[str, list[int]], tokens: dict[str, str]) -> list:
    """The trivial Flask endpoint and complete-task again, driven by wrk (2 threads, the same connections)."""
    base = f"http://{HOST}:{port}"
    cpu_now = lambda: _cpu_seconds(server_pid)  # noqa: E731
    trivial = wrk.run("GET /bench/flask (trivial Flask JSON), wrk", base + FLASK_TRIVIAL_PATH, seconds=args.seconds,
                      threads=2, connections=args.clients, cpu_now=cpu_now)
    # Each thread takes every other task, round-robin over the managers, each posted with its holder's token.
    pairs = [(f"/api/v1/tasks/{w}/complete", tokens[m])
             for row in zip(*tasks.values(), strict=False) for w, m in zip(row, tasks, strict=True)]
    script = wrk.completion_script([pairs[0::2], pairs[1::2]], '{"decision":"approve"}')
    complete = wrk.run("POST /api/v1/tasks/{id}/complete (approve), wrk", base + "/", seconds=args.wrk_seconds,
                       threads=2, connections=args.clients, cpu_now=cpu_now, script=script)
    if complete.requests > len(pairs):
        print(f"wrk ran out of tasks ({len(pairs)}): its complete-task rate is a lower bound; raise --wrk-tasks")
    return [trivial, complete]


def wrk_table(runs: list, args) -> str:
    """The wrk runs as a table, against the first (the trivial endpoint)."""
    head = (f"{'scenario (wrk -t2 -c' + str(args.clients) + ')':<52} {'requests':>9} {'bad':>7} {'req/s':>9} "
            f"{'x trivial':>10} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req: server':>19} {'db':>6} {'wrk':>8}")
    rows = [head, "-" * len(head)]
    for r in runs:
        rows.append(f"{r.name:<52} {r.requests:>9} {r.bad:>7} {r.rate:>9.1f} {r.rate / runs[0].rate:>10.3f} "
                    f"{r.p50:>8.2f} {r.p99:>8.2f} {r.cpu_ms('server'):>19.2f} {r.cpu_ms('database'):>6.2f} "
                    f"{r.cpu_ms('clients'):>8.2f}")
    return "\n".join(rows)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="few tasks and short runs, for a smoke run")
    ap.add_argument("--tasks", type=int, default=None, help="leave requests started before the server runs")
    ap.add_argument("--seconds", type=float, default=None, help="time bound per scenario")
    ap.add_argument("--max-requests", type=int, default=None, help="request bound per client per scenario")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (gthread when > 1)")
    ap.add_argument("--no-wrk", dest="wrk", action="store_false",
                    help="skip the second run driven by wrk (run when wrk is installed)")
    ap.add_argument("--wrk-tasks", type=int, default=None, help="tasks set aside for the wrk run")
    args = ap.parse_args(argv)
    args.tasks = args.tasks or (200 if args.quick else 2400)
    args.seconds = args.seconds or (3.0 if args.quick else 15.0)
    args.max_requests = args.max_requests or (2_000 if args.quick else 50_000)
    # wrk cannot stop when its tasks run out, so its completion run is short and its pool large.
    args.wrk_seconds = min(args.seconds, 10.0)
    args.wrk_tasks = args.wrk_tasks or (1_200 if args.quick else 8_000)
    if args.clients > len(MANAGERS):
        raise SystemExit(f"at most {len(MANAGERS)} clients (one manager each)")
    sys.path.insert(0, str(ROOT))
    print("Flowdesk REST benchmark (gunicorn: complete-task vs trivial JSON endpoints on PostgreSQL)")
    return run(args)


if __name__ == "__main__":
    main()

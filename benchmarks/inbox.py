"""Inbox benchmark: my-tasks / group-tasks queries over a large work-item table on PostgreSQL.

Target: with 1,000,000 work items (100,000 open) over 5,000 users, list_inbox(view="mine"|"group") and
counts() have p95 under 20 ms.

Run with .venv/bin/python -m benchmarks.inbox [--quick] [--items N] [--open N] [--users N] [--samples N]
[--explain] [--keep].  The data is bulk-loaded server side (INSERT ... SELECT FROM generate_series).
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time

from .approval import DEFAULT_PG, ROOT, _files, _pg_admin_url, pct

BENCH_DB = "flowdesk_bench_inbox"
GROUPS = 50
TARGET_MS = 20.0


# -- database housekeeping (own database name, so it never collides with benchmarks.approval) ------------
def create_db(base_url: str, name: str = BENCH_DB) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(_pg_admin_url(base_url))
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return admin.set(database=name).render_as_string(hide_password=False)


def drop_db(base_url: str, name: str = BENCH_DB) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(_pg_admin_url(base_url))
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def group_code(k: int) -> str:
    return f"g{k:02d}"


def user_groups(i: int) -> frozenset[str]:
    """The 2-3 groups user u<i> belongs to (the same formula fills group_member server side)."""
    ks = {i % GROUPS, (i * 7 + 3) % GROUPS}
    if i % 2 == 0:
        ks.add((i * 13 + 11) % GROUPS)
    return frozenset(group_code(k) for k in ks)


# -- bulk load -------------------------------------------------------------------------------------------
def load(db, *, users: int, items: int, open_items: int, log=print) -> dict:
    """Fill org_user, work_group, group_member, process_instance, work_item and work_item_candidate.

    Every instance has 4 work items (3 completed steps, then the current one); ids grow with time and the
    last `open_items` instances (the most recent) are running with their 4th item open, the others are completed.
    40 % of the work items are group tasks (a 'group' candidate row, a quarter of those also 2 'user'
    candidate rows); group popularity is skewed (g00 most popular). Open group tasks are unassigned,
    completed ones were claimed; the other 60 % are assigned to one user. Only open items have candidate
    rows: the service deletes them when an item is completed or withdrawn.
    """
    from sqlalchemy import text

    from definitions import service as definitions

    instances = items // 4
    if open_items > instances:
        raise ValueError("open items must be at most items / 4 (one open item per running instance)")
    with db.command() as session:
        version, _new = definitions.deploy(session=session, files=_files(), actor="bench")
        def_id, def_key, proc_id = version.id, version.key, version.primary_process_id or version.key
    steps = {}
    t_all = time.perf_counter()

    def step(name, sql, **params):
        t0 = time.perf_counter()
        with db.engine.begin() as conn:
            conn.execute(text("SELECT setseed(0.42)"))
            conn.execute(text(sql), params)
        steps[name] = time.perf_counter() - t0
        log(f"  {name:<22} {steps[name]:7.1f}s", flush=True)

    step("departments", """
        INSERT INTO department (code, name, name_en, sort)
        SELECT 'd' || g, 'Department ' || g, 'Department ' || g, g FROM generate_series(1, 20) g""")
    step("org_user", """
        INSERT INTO org_user (username, display_name, email, phone, department_id, status, language,
                              password_hash, created_at)
        SELECT 'u' || g, 'User ' || g, 'u' || g || '@example.com', '', (SELECT min(id) FROM department) + g % 20,
               'active', 'en', '', now() - interval '400 days'
        FROM generate_series(1, :users) g""", users=users)
    step("work_group", """
        INSERT INTO work_group (code, name, name_en)
        SELECT 'g' || lpad(g::text, 2, '0'), 'Group ' || g, 'Group ' || g FROM generate_series(0, :n - 1) g""",
         n=GROUPS)
    step("group_member", """
        INSERT INTO group_member (group_id, user_id)
        SELECT DISTINCT wg.id, u.id FROM generate_series(1, :users) g
        CROSS JOIN LATERAL (VALUES (g % :n), ((g * 7 + 3) % :n),
                                   (CASE WHEN g % 2 = 0 THEN (g * 13 + 11) % :n END)) AS m(k)
        JOIN work_group wg ON wg.code = 'g' || lpad(m.k::text, 2, '0')
        JOIN org_user u ON u.username = 'u' || g""", users=users, n=GROUPS)
    step("process_instance", """
        INSERT INTO process_instance (id, definition_id, definition_key, process_id, status, business_key, title,
            initiator, state, state_format, data, wake_attempts, waiting_messages, lock_version,
            started_at, updated_at, ended_at)
        SELECT g, :def_id, :def_key, :proc_id, CASE WHEN g > :instances - :open THEN 'running' ELSE 'completed' END,
               'LR-' || g, 'Leave request ' || g, 'u' || (1 + (g * 31) % :users), '{}', 'flowdesk-1',
               jsonb_build_object('leave_type', 'annual', 'days', 1 + g % 10, 'manager', 'u' || (1 + g % :users)),
               0, '[]'::jsonb, 4, now() - (:instances - g) * interval '1 minute',
               now() - (:instances - g) * interval '1 minute' + interval '4 hours',
               CASE WHEN g > :instances - :open THEN NULL
                    ELSE now() - (:instances - g) * interval '1 minute' + interval '4 hours' END
        FROM generate_series(1, :instances) g""",
         def_id=def_id, def_key=def_key, proc_id=proc_id, open=open_items, users=users, instances=instances)
    step("work_item", """
        INSERT INTO work_item (id, instance_id, task_guid, element_id, name, status, assignee, candidate_users,
            candidate_groups, priority, due_at, created_at, completed_at, completed_by, decision)
        SELECT g, inst, md5(g::text), 'step_' || k, 'Approval step ' || k,
               CASE WHEN is_open THEN 'open' ELSE 'completed' END,
               CASE WHEN is_group AND is_open THEN NULL ELSE 'u' || usr END,
               CASE WHEN is_group AND with_users THEN jsonb_build_array('u' || cu1, 'u' || cu2) ELSE '[]'::jsonb END,
               CASE WHEN is_group THEN jsonb_build_array('g' || lpad(grp::text, 2, '0')) ELSE '[]'::jsonb END,
               prio, CASE WHEN has_due THEN created + interval '3 days' END, created,
               CASE WHEN is_open THEN NULL ELSE created + interval '50 minutes' END,
               CASE WHEN is_open THEN NULL ELSE 'u' || usr END,
               CASE WHEN is_open THEN NULL ELSE 'approve' END
        FROM (SELECT g, (g - 1) / 4 + 1 AS inst, (g - 1) % 4 AS k,
                     ((g - 1) % 4 = 3 AND (g - 1) / 4 + 1 > :items / 4 - :open) AS is_open,
                     random() < 0.4 AS is_group, random() < 0.25 AS with_users,
                     floor(:n * power(random(), 1.5))::int AS grp,
                     1 + floor(random() * :users)::int AS usr,
                     1 + floor(random() * :users)::int AS cu1, 1 + floor(random() * :users)::int AS cu2,
                     (ARRAY[10, 50, 50, 50, 90])[1 + floor(random() * 5)::int] AS prio,
                     random() < 0.7 AS has_due,
                     now() - (:items / 4 - (g - 1) / 4 - 1) * interval '1 minute' + ((g - 1) % 4) * interval '1 hour'
                         - interval '4 hours' AS created
              FROM generate_series(1, :items) g) s""",
         open=open_items, n=GROUPS, users=users, items=items)
    step("work_item_candidate", """
        INSERT INTO work_item_candidate (work_item_id, kind, value)
        SELECT w.id, 'group', e.v FROM work_item w, jsonb_array_elements_text(w.candidate_groups) e(v)
         WHERE w.status = 'open'
        UNION ALL
        SELECT w.id, 'user', e.v FROM work_item w, jsonb_array_elements_text(w.candidate_users) e(v)
         WHERE w.status = 'open'""")
    t0 = time.perf_counter()
    with db.engine.begin() as conn:
        for table in ("department", "org_user", "work_group", "process_instance", "work_item",
                      "work_item_candidate"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT coalesce(max(id), 1) FROM {table}))"))
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    steps["vacuum analyze"] = time.perf_counter() - t0
    log(f"  {'vacuum analyze':<22} {steps['vacuum analyze']:7.1f}s", flush=True)
    steps["total"] = time.perf_counter() - t_all
    return steps


def table_stats(db) -> dict:
    from sqlalchemy import text

    with db.engine.connect() as conn:
        out = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
               for t in ("org_user", "process_instance", "work_item", "work_item_candidate")}
        out["open work_item"] = conn.execute(text("SELECT count(*) FROM work_item WHERE status='open'")).scalar()
        out["open unassigned"] = conn.execute(text(
            "SELECT count(*) FROM work_item WHERE status='open' AND assignee IS NULL")).scalar()
        out["db size"] = conn.execute(text("SELECT pg_size_pretty(pg_database_size(current_database()))")).scalar()
    return out


# -- measurement -----------------------------------------------------------------------------------------
QUERIES = ("list_inbox mine", "list_inbox group", "counts")


def _call(session, name, actor):
    from instances import inbox

    if name == "counts":
        return inbox.counts(session=session, actor=actor)
    view = name.split()[-1]
    return inbox.list_inbox(session=session, actor=actor, flt=inbox.InboxFilter(view=view, page_size=25))


def measure(db, *, users: int, samples: int, warmup: int, seed: int = 7) -> dict:
    """Time each query for `samples` random users (each call in its own read session), after a warm-up."""
    from instances.actors import Actor

    rng = random.Random(seed)
    picks = [rng.randint(1, users) for _ in range(warmup + samples)]
    times = {q: [] for q in QUERIES}
    sizes = {q: [] for q in QUERIES}
    worst = {q: (0.0, None) for q in QUERIES}
    for n, i in enumerate(picks):
        actor = Actor(f"u{i}", user_groups(i))
        for q in QUERIES:
            t0 = time.perf_counter()
            with db.query() as session:
                result = _call(session, q, actor)
            ms = (time.perf_counter() - t0) * 1000
            if n >= warmup:
                times[q].append(ms)
                sizes[q].append(result["group"] if q == "counts" else result.total)
                if ms > worst[q][0]:
                    worst[q] = (ms, actor)
    return {"times": times, "sizes": sizes, "worst": worst}


def explain(db, name: str, actor) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) every statement one query issues for an actor."""
    from sqlalchemy import event

    statements = []

    def capture(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.query() as session:
            _call(session, name, actor)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    out = []
    with db.engine.connect() as conn:
        for statement, params in statements:
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params).all()
            out.append(statement.strip() + "\n" + "\n".join("    " + r[0] for r in rows))
    return "\n\n".join(out)


def report(label: str, m: dict) -> tuple[str, dict]:
    head = f"{'query (' + label + ')':<44} {'n':>5} {'rows p50':>9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'target':>9}"
    lines = [head, "-" * len(head)]
    summary = {}
    for q in QUERIES:
        t = m["times"][q]
        p50, p95 = pct(t, 50), pct(t, 95)
        ok = p95 < TARGET_MS
        summary[q] = {"p50": p50, "p95": p95, "max": max(t), "met": ok}
        lines.append(f"{q:<44} {len(t):>5} {pct(m['sizes'][q], 50):>9} {p50:>8.2f} {p95:>8.2f} {max(t):>8.2f} "
                     f"{'MET' if ok else 'NOT MET':>9}")
    lines.append(f"(ms per call incl. session checkout/rollback; rows = total matching (list) or group count "
                 f"(counts); target p95 < {TARGET_MS:.0f} ms)")
    return "\n".join(lines), summary


def run(args) -> dict:
    from database import Database, migrate

    base_url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG
    results = {}
    if args.reuse:
        from sqlalchemy.engine import make_url
        url = make_url(_pg_admin_url(base_url)).set(database=BENCH_DB).render_as_string(hide_password=False)
    else:
        url = create_db(base_url)
    try:
        db = Database(url)
        migrate.upgrade(db)  # with --reuse this applies only migrations newer than the kept database
        if args.reuse:
            steps = {"total": 0.0}
            print(f"reusing the kept database {BENCH_DB} (migrated to head, no reload)", flush=True)
            from sqlalchemy import text
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        else:
            print(f"loading {args.items:,} work items ({args.open:,} open) over {args.users:,} users ...",
                  flush=True)
            steps = load(db, users=args.users, items=args.items, open_items=args.open)
        stats = table_stats(db)
        print(f"  loaded in {steps['total']:.1f}s; {stats}", flush=True)
        from sqlalchemy import text
        with db.engine.connect() as conn:
            pg = conn.execute(text("SHOW server_version")).scalar()
            mem = conn.execute(text("SHOW shared_buffers")).scalar()
            wmem = conn.execute(text("SHOW work_mem")).scalar()
        m = measure(db, users=args.users, samples=args.samples, warmup=args.warmup)
        text_out, summary = report(f"{args.items:,} items", m)
        print()
        print(f"PostgreSQL {pg} (shared_buffers={mem}, work_mem={wmem}); {args.samples} random users, "
              f"{args.warmup} warm-up")
        print(text_out)
        results = {"load": steps, "stats": stats, "summary": summary}
        if args.explain or not all(s["met"] for s in summary.values()):
            for q in QUERIES:
                ms, actor = m["worst"][q]
                if args.explain or not summary[q]["met"]:
                    print()
                    print(f"EXPLAIN (ANALYZE, BUFFERS) of {q} for the slowest user {actor.username} "
                          f"{sorted(actor.groups)} ({ms:.1f} ms):")
                    print(explain(db, q, actor))
        db.dispose()
    finally:
        if not (args.keep or args.reuse):
            drop_db(base_url)
    return results


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="40,000 items, for a smoke run")
    ap.add_argument("--items", type=int, default=None)
    ap.add_argument("--open", type=int, default=None)
    ap.add_argument("--users", type=int, default=None)
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--explain", action="store_true", help="print EXPLAIN (ANALYZE, BUFFERS) of the slowest calls")
    ap.add_argument("--keep", action="store_true", help=f"keep the database {BENCH_DB}")
    ap.add_argument("--reuse", action="store_true", help=f"measure the kept {BENCH_DB} again (after --keep)")
    args = ap.parse_args(argv)
    args.items = args.items or (40_000 if args.quick else 1_000_000)
    args.open = args.open or args.items // 10
    args.users = args.users or (500 if args.quick else 5_000)
    if args.quick:
        args.samples = min(args.samples, 100)
    sys.path.insert(0, str(ROOT))
    print("Flowdesk inbox benchmark (my tasks / group tasks / navigation counts on PostgreSQL)")
    return run(args)


if __name__ == "__main__":
    main()

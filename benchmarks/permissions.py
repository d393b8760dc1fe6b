"""Permission benchmark: a record list with the permission rules applied against the same list without them.

Target (issue 6): with 200,000 records over 5,000 users in a 5-level department tree, a filtered list with
the rules applied stays within 2x of the same query without rules, p95 under 30 ms on PostgreSQL.

The list is records.service.list_records (count + first page of 25, default sort, one filter) run in its own
read session per call, as a page request does. "Without rules" is the same call by an administrator, whose
condition is TRUE; "with rules" is the same call by employees (department scope plus a deny rule and a grant
rule) and by managers (department tree). Run with .venv/bin/python -m benchmarks.permissions [--quick]
[--records N] [--users N] [--samples N] [--explain] [--keep] [--reuse].
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time

from .approval import DEFAULT_PG, ROOT, _pg_admin_url, pct
from .inbox import create_db, drop_db

BENCH_DB = "flowdesk_bench_permissions"
TARGET_MS = 30.0
TARGET_RATIO = 2.0
BRANCHING = 4  # 1 + 4 + 16 + 64 + 256 = 341 departments in five levels
LEVELS = 5
STATUSES = ("new", "contacted", "qualified", "converted", "disqualified")


def department_count() -> int:
    """Return how many departments the five-level tree has."""
    return sum(BRANCHING ** level for level in range(LEVELS))


def load(db, *, users: int, records: int, log=print) -> dict:
    """Fill departments (a 5-level tree), users (with superiors, roles, groups), grants, rules and records."""
    from sqlalchemy import text

    from org import grants
    from records import service as record_service

    steps = {}
    t_all = time.perf_counter()

    def step(name, sql, **params):
        t0 = time.perf_counter()
        with db.engine.begin() as conn:
            conn.execute(text("SELECT setseed(0.42)"))
            conn.execute(text(sql), params)
        steps[name] = time.perf_counter() - t0
        log(f"  {name:<22} {steps[name]:7.1f}s", flush=True)

    depts = department_count()
    step("department", """
        INSERT INTO department (id, code, name, name_en, parent_id, sort)
        SELECT g, 'd' || g, '部门 ' || g, 'Department ' || g,
               CASE WHEN g = 1 THEN NULL ELSE (g - 2) / :b + 1 END, g
        FROM generate_series(1, :n) g""", b=BRANCHING, n=depts)
    step("role", """
        INSERT INTO role (code, name, name_en) VALUES ('employee', '员工', 'Employee'), ('manager', '经理', 'Manager'),
                                                      ('admin', '管理员', 'Administrator')""")
    # Users: u1 heads the company; each user's superior is u(i / 5), so the chain is about six levels deep.
    # A user sits in the department of their index spread over the tree, leaves weighted by their count.
    step("org_user", """
        INSERT INTO org_user (id, username, display_name, email, phone, department_id, superior_id, status, kind,
                              portal_modules, language, password_hash, created_at)
        SELECT g, 'u' || g, 'User ' || g, '', '', 1 + (g * 7919) % :n, CASE WHEN g >= 5 THEN g / 5 WHEN g > 1 THEN 1 END,
               'active', 'staff', '[]'::jsonb, 'en', '', now()
        FROM generate_series(1, :users) g""", users=users, n=depts)
    step("user_role", """
        INSERT INTO user_role (user_id, role_id)
        SELECT g, (SELECT id FROM role WHERE code = 'employee') FROM generate_series(1, :users) g
        UNION ALL
        SELECT g, (SELECT id FROM role WHERE code = 'manager') FROM generate_series(1, :users) g WHERE g % 20 = 1""",
         users=users)
    step("work_group", """
        INSERT INTO work_group (id, code, name, name_en) SELECT g, 'g' || g, 'Group ' || g, 'Group ' || g
        FROM generate_series(1, 50) g""")
    step("group_member", """
        INSERT INTO group_member (group_id, user_id) SELECT 1 + g % 50, g FROM generate_series(1, :users) g""",
         users=users)
    with db.command() as session:
        record_service.install_core_types(session=session)
        grants.install_default_grants(session=session)
        grants.add_rule(session=session, effect="deny", resource="records:lead", actions=["view"],
                        who_kind="role", who="employee", which_kind="department_tree", which="d2", actor="bench")
        grants.add_rule(session=session, effect="grant", resource="records:lead", actions=["view"],
                        who_kind="group", who="g7", which_kind="department_tree", which="d3", actor="bench")
        lead_type = record_service.get_type_or_raise(session=session, key="lead").type.id
    step("record", """
        INSERT INTO record (id, type_id, type_version, data, title, search_text, owner, department_id,
                            created_at, created_by, updated_at, updated_by, lock_version)
        SELECT g, :type_id, 1,
               jsonb_build_object('company', 'Company ' || g, 'status', (ARRAY['new','contacted','qualified',
                   'converted','disqualified'])[1 + g % 5], 'estimated_amount', (g % 1000) * 100 || '.00'),
               'Company ' || g, 'company ' || g, 'u' || owner_no, 1 + (owner_no * 7919) % :n,
               now() - (:records - g) * interval '1 minute', 'u' || owner_no,
               now() - (:records - g) * interval '1 minute', 'u' || owner_no, 1
        FROM (SELECT g, 1 + floor(random() * :users)::int AS owner_no FROM generate_series(1, :records) g) s""",
         type_id=lead_type, records=records, users=users, n=depts)
    t0 = time.perf_counter()
    with db.engine.begin() as conn:
        for table in ("department", "org_user", "work_group", "record"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT coalesce(max(id), 1) FROM {table}))"))
        conn.execute(text("UPDATE org_revision SET value = value + 1"))
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    steps["vacuum analyze"] = time.perf_counter() - t0
    steps["total"] = time.perf_counter() - t_all
    return steps


def _list(db, actor, status: str):
    from records import service as records

    with db.query() as session:
        _view, page = records.list_records(session=session, type_key="lead", actor=actor, page_size=25,
                                           filters=[records.Filter("status", "eq", status)])
        return page.total


def measure(db, *, users: int, samples: int, warmup: int, seed: int = 11) -> dict:
    """Time the same filtered list for employees, managers and (without rules) the administrator."""
    from instances.actors import Actor

    rng = random.Random(seed)
    cases = {"employee (rules)": [], "manager (rules)": [], "no rules": []}
    sizes = {k: [] for k in cases}
    worst = {k: (0.0, None) for k in cases}
    admin = Actor("admin", is_admin=True)
    for n in range(warmup + samples):
        status = STATUSES[n % len(STATUSES)]
        employee_no = rng.randint(2, users)
        manager_no = 1 + 20 * rng.randint(0, (users - 1) // 20)
        for case, actor in (("employee (rules)", Actor(f"u{employee_no}", frozenset({"role:employee"}))),
                            ("manager (rules)", Actor(f"u{manager_no}", frozenset({"role:manager", "role:employee"}))),
                            ("no rules", admin)):
            t0 = time.perf_counter()
            total = _list(db, actor, status)
            ms = (time.perf_counter() - t0) * 1000
            if n >= warmup:
                cases[case].append(ms)
                sizes[case].append(total)
                if ms > worst[case][0]:
                    worst[case] = (ms, actor)
    return {"times": cases, "sizes": sizes, "worst": worst}


def explain(db, actor) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) the statements of one list call."""
    from sqlalchemy import event

    statements = []

    def capture(conn, cursor, statement, params, context, executemany):
        if "FROM record" in statement:
            statements.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        _list(db, actor, "new")
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    out = []
    with db.engine.connect() as conn:
        for statement, params in statements:
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params).all()
            out.append(statement.strip()[:600] + "\n" + "\n".join("    " + r[0] for r in rows))
    return "\n\n".join(out)


def report(m: dict) -> tuple[str, dict]:
    """Format the timings with the ratio of each rules case to the no-rules baseline measured in the same run."""
    base = pct(m["times"]["no rules"], 95)
    head = f"{'list (records of type lead)':<30} {'n':>5} {'rows p50':>9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} " \
           f"{'p95 ratio':>10} {'target':>9}"
    lines = [head, "-" * len(head)]
    summary = {}
    for case, times in m["times"].items():
        p50, p95 = pct(times, 50), pct(times, 95)
        ratio = p95 / base if base else 0.0
        baseline = case == "no rules"
        ok = baseline or (p95 < TARGET_MS and ratio <= TARGET_RATIO)
        summary[case] = {"p50": p50, "p95": p95, "ratio": ratio, "met": ok}
        verdict = "baseline" if baseline else "MET" if ok else "NOT MET"
        lines.append(f"{case:<30} {len(times):>5} {pct(m['sizes'][case], 50):>9} {p50:>8.2f} {p95:>8.2f} "
                     f"{max(times):>8.2f} {ratio:>9.2f}x {verdict:>9}")
    lines.append(f"(ms per call incl. session checkout, org revision check, count and first page of 25; target for "
                 f"the rules cases: p95 < {TARGET_MS:.0f} ms and within {TARGET_RATIO:.0f}x of the no-rules p95)")
    return "\n".join(lines), summary


def run(args) -> dict:
    from database import Database, migrate

    base_url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG
    if args.reuse:
        from sqlalchemy.engine import make_url
        url = make_url(_pg_admin_url(base_url)).set(database=BENCH_DB).render_as_string(hide_password=False)
    else:
        url = create_db(base_url, BENCH_DB)
    try:
        db = Database(url)
        migrate.upgrade(db)
        if not args.reuse:
            print(f"loading {args.records:,} records over {args.users:,} users in {department_count()} departments "
                  f"({LEVELS} levels) ...", flush=True)
            steps = load(db, users=args.users, records=args.records)
            print(f"  loaded in {steps['total']:.1f}s", flush=True)
        m = measure(db, users=args.users, samples=args.samples, warmup=args.warmup)
        text_out, summary = report(m)
        print()
        print(f"{args.samples} samples per case after {args.warmup} warm-up calls")
        print(text_out)
        if args.explain or not all(s["met"] for s in summary.values()):
            for case in ("employee (rules)", "manager (rules)"):
                ms, actor = m["worst"][case]
                print(f"\nEXPLAIN (ANALYZE, BUFFERS) for the slowest {case} call, {actor.username} ({ms:.1f} ms):")
                print(explain(db, actor))
        db.dispose()
        return summary
    finally:
        if not (args.keep or args.reuse):
            drop_db(base_url, BENCH_DB)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="20,000 records over 1,000 users, for a smoke run")
    ap.add_argument("--records", type=int, default=None)
    ap.add_argument("--users", type=int, default=None)
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--explain", action="store_true")
    ap.add_argument("--keep", action="store_true", help=f"keep the database {BENCH_DB}")
    ap.add_argument("--reuse", action="store_true", help=f"measure the kept {BENCH_DB} again")
    args = ap.parse_args(argv)
    args.records = args.records or (20_000 if args.quick else 200_000)
    args.users = args.users or (1_000 if args.quick else 5_000)
    if args.quick:
        args.samples = min(args.samples, 100)
    sys.path.insert(0, str(ROOT))
    print("Flowdesk permission benchmark (a record list with and without the permission rules, PostgreSQL)")
    return run(args)


if __name__ == "__main__":
    main()

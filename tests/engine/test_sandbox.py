"""Tests for engine.sandbox: escapes fail, limits are real, data round-trips, the child recovers."""
import os
import threading
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from engine import sandbox
from engine.errors import ScriptError
from engine.sandbox import check_script, run_script, shutdown


@pytest.fixture(scope="module", autouse=True)
def stop_children():
    yield
    shutdown()


def assert_still_works():
    """A normal script must run after any failure (the child survived or was restarted)."""
    assert run_script("y = x + 1", {"x": 41}) == {"x": 41, "y": 42}


def refused(script, data=None, **limits):
    with pytest.raises(ScriptError) as info:
        run_script(script, data or {}, **limits)
    return info.value


# ------------------------------------------------------------------------------ normal scripts
def test_script_sees_and_changes_variables():
    result = run_script(
        "items.append(4)\n"
        "total = sum(i * 2 for i in items)\n"
        "label = 'n=' + str(len(items))\n"
        "customer['tier'] = 'gold' if total > 10 else 'silver'\n"
        "count = 0\n"
        "for a, b in zip(items, items[1:]):\n"
        "    count += b - a\n"
        "del obsolete\n",
        {"items": [1, 2, 3], "customer": {"name": "ACME"}, "obsolete": True, "kept": "x"})
    assert result == {"items": [1, 2, 3, 4], "customer": {"name": "ACME", "tier": "gold"}, "kept": "x",
                      "total": 20, "label": "n=4", "count": 3, "a": 3, "b": 4}


def test_helpers_and_date_arithmetic_in_scripts():
    start = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    result = run_script(
        "due = start + days(2) + hours(1)\n"
        "due_text = iso(due)\n"
        "duration = iso(due - start)\n"
        "price = Decimal('1.10') * 3\n"
        "born = date(2000, 1, 31)\n"
        "parsed = parse_date('2024-05-06')\n"
        "late = now() > due\n"
        "nothing = is_empty([]) and contains([1], 1) and count([1, 1], 1) == 2\n",
        {"start": start})
    assert result["due"] == datetime(2024, 1, 4, 4, 4, 5, tzinfo=timezone.utc)
    assert result["due_text"] == "2024-01-04T04:04:05+00:00"
    assert result["duration"] == "P2DT1H"
    assert result["price"] == Decimal("3.30") and type(result["price"]) is Decimal
    assert result["born"] == date(2000, 1, 31) and result["parsed"] == date(2024, 5, 6)
    assert result["late"] is True and result["nothing"] is True


def test_data_round_trips_exactly():
    data = {
        "aware": datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=8))),
        "naive": datetime(2024, 1, 2, 3, 4, 5),
        "day": date(2024, 2, 29),
        "money": Decimal("1234.50"),
        "tiny": Decimal("1E-30"),
        "wait": timedelta(days=1, seconds=5, microseconds=7),
        "tags": {"a", "b"},
        "frozen": frozenset({(1, 2), (3, 4)}),
        "nested": {"a": {"b": [1, 2.5, None, True, "客户"], "c": {"d": Decimal("0.1")}}},
        "rows": [{"when": date(2024, 1, 1), "amount": Decimal("9.99")}],
        "text": "line\nbreak \u2603",
        "_hidden": {"internal": 1},
        "not an identifier": 5,
    }
    result = run_script("pass", data)
    assert result == data
    assert type(result["money"]) is Decimal and str(result["money"]) == "1234.50"
    assert result["aware"].utcoffset() == timedelta(hours=8)
    assert result["naive"].tzinfo is None
    assert type(result["day"]) is date
    assert type(result["tags"]) is set and type(result["frozen"]) is frozenset
    assert type(result["nested"]["a"]["c"]["d"]) is Decimal


def test_underscore_data_is_hidden_from_scripts_and_returned_unchanged():
    assert run_script("x = 1", {"_secret": 5}) == {"_secret": 5, "x": 1}
    assert "invalid variable name" in refused("x = _secret", {"_secret": 5}).reason


def test_functions_classes_and_modules_are_not_returned():
    result = run_script(
        "def helper(v):\n    return v * 2\n"
        "double = lambda v: v * 2\n"
        "fn = len\n"
        "clock = now\n"
        "money = Decimal\n"
        "value = helper(21)\n",
        {})
    assert result == {"value": 42}


@pytest.mark.parametrize("script, reason", [
    ("r = range(3)", "variable 'r' cannot be stored in task data"),
    ("fns = [len]", "variable 'fns' cannot be stored in task data"),
    ("g = (x for x in [1])", "variable 'g' cannot be stored in task data"),
    ("a = []\na.append(a)", "variable 'a' cannot be stored in task data"),
])
def test_non_data_values_raise(script, reason):
    assert reason in refused(script).reason
    assert_still_works()


def test_tag_look_alike_dicts_cannot_break_decoding():
    error = refused("x = {'__flowdesk_type__': 'date', 'v': 'not a date'}")
    assert "result cannot be decoded" in error.reason
    look_alike = {"__flowdesk_type__": [1], "v": 2}  # not a tag: passes through as a plain dict
    assert run_script(f"x = {look_alike!r}", {}) == {"x": look_alike}


def test_print_output_is_discarded():
    assert run_script("print('hello')\nx = 1", {}) == {"x": 1}


def test_non_data_input_is_refused():
    assert "cannot be passed to a script" in refused("pass", {"f": object()}).reason
    assert "text keys" in refused("pass", {1: "x"}).reason


# ------------------------------------------------------------------------------------- escapes
ESCAPES = [
    ("().__class__.__mro__[1].__subclasses__()", 1, "is an invalid attribute name because it starts with"),
    ("[c for c in ().__class__.__base__.__subclasses__()]", 1, "invalid attribute name"),
    ("__import__('os')", 1, '"__import__" is an invalid variable name'),
    ("x = 1\nimport os", 2, "import statements are not allowed"),
    ("from os import path", 1, "import statements are not allowed"),
    ("open('/etc/passwd')", 1, "NameError: name 'open' is not allowed in scripts"),
    ("x = '{0.__class__}'.format(1)", 1, "format*() methods of `str` is not safe"),
    ("x = str.format('{0.__class__.__mro__}', 1)", 1, "format*() methods of `str` is not safe"),
    ("f = '{a.__class__}'.format\nx = f(a=1)", 1, "format*() methods of `str` is not safe"),
    ("x = '{a.__class__}'.format_map({'a': 1})", 1, "format*() methods of `str` is not safe"),
    ("g = (x for x in [])\nf = g.gi_frame.f_back", 2, "is a restricted name"),
    ("g = (x for x in [])\nc = g.gi_code", 2, '"gi_code" is a restricted name'),
    ("getattr(1, '__class__')", 1, "NameError: name 'getattr' is not allowed in scripts"),
    ("t = type(1)", 1, "NameError: name 'type' is not allowed in scripts"),
    ("v = vars()", 1, "NameError: name 'vars' is not allowed in scripts"),
    ("g = globals()", 1, "NameError: name 'globals' is not allowed in scripts"),
    ("eval('1 + 1')", 1, "Eval calls are not allowed"),
    ("exec('x = 1')", 1, "Exec calls are not allowed"),
    ("c = compile('1', 'f', 'eval')", 1, "NameError: name 'compile' is not allowed in scripts"),
    ("m = int.mro()", 1, '"mro" is not allowed in scripts'),
    ("class A:\n    pass", 1, "class definitions are not allowed"),
    ("x = 1\nnow.__globals__", 2, "invalid attribute name"),
    ("try:\n    1 / 0\nexcept Exception as e:\n    tb = e.__traceback__", 4, "invalid attribute name"),
    ("x = 1\nnow.x = 1", 2, "TypeError: attribute-less object"),  # shared helpers stay untouched
]


@pytest.mark.parametrize("script, line, reason", ESCAPES)
def test_escapes_fail(script, line, reason):
    error = refused(script)
    assert reason in error.reason
    assert error.line == line
    assert_still_works()


def test_huge_string_hits_the_memory_limit():
    error = refused("x = 'a' * (10**10)")
    assert error.reason == "memory limit of 256 MB exceeded"
    assert_still_works()


def test_huge_list_hits_the_memory_limit():
    assert refused("x = [0] * 10**9").reason == "memory limit of 256 MB exceeded"
    assert_still_works()


def test_memory_limit_is_configurable():
    script = "n = len('a' * (100 * 1024 * 1024))"
    assert refused(script, memory_limit_mb=64).reason == "memory limit of 64 MB exceeded"
    assert run_script(script, {}, memory_limit_mb=256) == {"n": 100 * 1024 * 1024}


def test_infinite_loop_hits_the_time_limit():
    start = time.monotonic()
    error = refused("while True:\n    pass", time_limit=0.5)
    elapsed = time.monotonic() - start
    assert error.reason == "time limit of 0.5 s exceeded"
    assert 0.5 <= elapsed < 2.0
    assert_still_works()


def test_slow_builtin_is_killed_too():
    # C code ignores signals; the parent kills the whole child instead.
    assert refused("x = 10 ** (10 ** 8)", time_limit=0.5).reason == "time limit of 0.5 s exceeded"
    assert_still_works()


def test_child_killed_during_a_script_is_reported_and_replaced():
    def kill_busy_child():
        for worker in sandbox._pool.workers:
            if worker.lock.locked() and worker.process is not None:
                worker.process.kill()

    run_script("pass", {})  # make sure a child exists
    timer = threading.Timer(0.3, kill_busy_child)
    timer.start()
    try:
        error = refused("while True:\n    pass", time_limit=5)
    finally:
        timer.cancel()
    assert "the script process crashed" in error.reason
    assert_still_works()


def test_child_that_died_while_idle_is_restarted_transparently():
    run_script("pass", {})
    for worker in sandbox._pool.workers:
        if worker.process is not None:
            worker.process.kill()
            worker.process.join(5)
    assert_still_works()


def test_shutdown_stops_children_and_next_call_restarts():
    run_script("pass", {})
    pids = [w.process.pid for w in sandbox._pool.workers if w.process is not None]
    assert pids
    shutdown()
    assert all(w.process is None for w in sandbox._pool.workers)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # killed and reaped
    assert_still_works()


# ------------------------------------------------------------------------ errors and lines
@pytest.mark.parametrize("script, line, reason", [
    ("a = 1\nb = 2\nc = a / 0", 3, "ZeroDivisionError: division by zero"),
    ("a = 1\ny = x + 1", 2, "NameError: name 'x' is not defined"),
    ("def f(d):\n    return d['missing']\n\nv = f({})", 2, "KeyError: 'missing'"),
    ("raise ValueError('customer has no email')", 1, "ValueError: customer has no email"),
    ("assert 1 == 2, 'bad total'", 1, "AssertionError: bad total"),
    ("def f():\n    return f()\nf()", 2, "RecursionError: maximum recursion depth exceeded"),
    ("x = (", 1, "SyntaxError: '(' was never closed"),
    ("if True:\nx = 1", 2, "SyntaxError: expected an indented block"),
])
def test_errors_carry_line_and_reason(script, line, reason):
    error = refused(script)
    assert error.line == line
    assert error.reason.startswith(reason)
    assert error.code == "script_error"


def test_check_script():
    assert check_script("x = 1\nfor i in range(3):\n    x += i") is None
    with pytest.raises(ScriptError) as info:
        check_script("x = 1\nimport os")
    assert (info.value.line, info.value.reason) == (2, "import statements are not allowed in scripts")
    with pytest.raises(ScriptError) as info:
        check_script("x = 1\ny = x.__class__")
    assert info.value.line == 2 and "invalid attribute name" in info.value.reason
    with pytest.raises(ScriptError) as info:
        check_script("x = = 1")
    assert info.value.line == 1 and info.value.reason.startswith("SyntaxError")


# -------------------------------------------------------------------- concurrency and speed
def test_many_threads_can_run_scripts():
    errors, results = [], {}

    def work(n):
        try:
            for i in range(20):
                out = run_script("y = x * 2", {"x": n * 100 + i})
                assert out == {"x": n * 100 + i, "y": 2 * (n * 100 + i)}
            results[n] = True
        except Exception as exc:  # collected and asserted in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(results) == 8


def test_round_trip_overhead_is_small():
    run_script("y = x + 1", {"x": 0})  # warm: child started, script compiled and cached
    start = time.perf_counter()
    for i in range(300):
        run_script("y = x + 1", {"x": i})
    per_call = (time.perf_counter() - start) / 300
    assert per_call < 0.002, f"{per_call * 1000:.2f} ms per call"

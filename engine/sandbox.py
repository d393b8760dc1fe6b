"""Run BPMN script tasks in a sandbox: RestrictedPython inside a resource-limited child process.

Policy
  * Code is compiled with RestrictedPython's `compile_restricted_exec`, so names and attributes
    starting with `_` are refused at compile time; `import`, `class`, async code and `exec`/`eval`
    calls are refused too (ScriptError with the line number, also from check_script). `raise
    ValueError("...")` is allowed and surfaces as ScriptError("ValueError: ...").
  * Attribute reads go through `safer_getattr` (no `str.format`/`format_map`, no inspect
    attributes such as `gi_frame`/`f_back`) plus a refusal of `mro`; item/iteration/unpacking go
    through RestrictedPython's guards; attribute/item writes through `full_write_guard`.
    RestrictedPython refuses `d['k'] += 1` (augmented item/attribute assignment): write
    `d['k'] = d['k'] + 1`; `n += 1` on names works.
  * Builtins: None True False abs all any bool callable chr dict divmod enumerate filter float
    format frozenset hash hex int isinstance issubclass iter len list map max min next oct ord
    pow range repr reversed round set slice sorted str sum tuple zip (RestrictedPython leaves
    sorted/tuple/zip out because they bypass `_getiter_`; ours is plain iteration, so nothing is
    lost), common exception classes (for `except` and `raise`), `Decimal`, and from
    engine.expressions.HELPERS: now today date parse_date days hours minutes iso is_empty
    contains count. `open`, `__import__`, `eval`, `exec`, `compile`, `getattr`, `setattr`,
    `delattr`, `hasattr`, `type`, `vars`, `dir`, `globals`, `locals`, `object`, `super`, ... are
    stubs raising "NameError: name 'x' is not allowed in scripts" (task data may still use such
    names as variables). `print` output is discarded.
  * Task data names starting with `_` are invisible to scripts and returned unchanged.

Process model
  Scripts run in long-lived child processes started lazily with the 'spawn' context (never a
  plain fork of a threaded parent) and reused across calls; FLOWDESK_SANDBOX_WORKERS (default 2)
  children serve concurrent threads. Before each script the child sets RLIMIT_AS to its current
  address space (input data already decoded) plus `memory_limit_mb`, so the limit bounds what the
  script and its result allocate; it is lifted again afterwards. The parent waits at most
  `time_limit` seconds, then kills the child (the next call starts a new one). Like every
  spawn-based multiprocessing user, the program's main module must be import-safe
  (`if __name__ == "__main__":`), because the child re-imports it.

Data crossing the process boundary is JSON; datetime, date, timedelta, Decimal, set and frozenset
travel as tagged objects ({"__flowdesk_type__": ..., "v": ...}) and round-trip exactly (aware
datetimes keep their UTC offset, not a zoneinfo name). Tuples become lists and non-text dict keys
become text, as in any JSON store.

Returned variables: functions, lambdas, classes and modules the script leaves behind are dropped
silently (as SpiffWorkflow does with callables); any other non-data value (a range, a generator,
an iterator, a list holding a function, ...) raises ScriptError naming the variable.
"""
from __future__ import annotations

import ast
import atexit
import json
import multiprocessing
import operator
import os
import queue
import re
import resource
import signal
import threading
import types
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from RestrictedPython import compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from RestrictedPython.PrintCollector import PrintCollector

from engine.errors import ScriptError
from engine.expressions import HELPERS

MAX_SCRIPT_LENGTH = 100_000
START_TIMEOUT = 30.0  # seconds a new child may take to import its modules and report ready
_FILENAME = "<script>"
_TAG = "__flowdesk_type__"


# ------------------------------------------------------------------------------------- codec
def _encode_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return {_TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, date):
        return {_TAG: "date", "v": value.isoformat()}
    if isinstance(value, Decimal):
        return {_TAG: "decimal", "v": str(value)}  # str keeps precision and exponent: "1.10"
    if isinstance(value, timedelta):
        return {_TAG: "timedelta", "v": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, (set, frozenset)):
        return {_TAG: type(value).__name__, "v": list(value)}
    raise TypeError(f"a value of type {type(value).__name__!r} is not task data")


def _hashable(value: Any) -> Any:
    # JSON turned tuples inside sets into lists; turn them back so they can be set members.
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value


_DECODERS = {
    "datetime": datetime.fromisoformat, "date": date.fromisoformat, "decimal": Decimal,
    "timedelta": lambda v: timedelta(*v), "set": lambda v: {_hashable(x) for x in v},
    "frozenset": lambda v: frozenset(_hashable(x) for x in v),
}


def _decode_object(obj: dict) -> Any:
    # A script could build a look-alike dict; a bad one fails decoding and becomes a ScriptError.
    if len(obj) == 2 and isinstance(obj.get(_TAG), str) and obj[_TAG] in _DECODERS:
        return _DECODERS[obj[_TAG]](obj["v"])
    return obj


def _dumps(value: Any) -> bytes:
    text = json.dumps(value, default=_encode_default, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "surrogatepass")


def _loads(raw: bytes) -> Any:
    return json.loads(raw, object_hook=_decode_object)


# ------------------------------------------------------------------------- compile and policy
_REFUSED_BUILTINS = ("open", "__import__", "eval", "exec", "compile", "getattr", "setattr", "delattr",
                     "hasattr", "type", "vars", "dir", "globals", "locals", "object", "super", "input",
                     "breakpoint", "help", "memoryview", "classmethod", "staticmethod", "property",
                     "exit", "quit", "id")
_REFUSED_STATEMENTS = {ast.Import: "import statements", ast.ImportFrom: "import statements",
                       ast.ClassDef: "class definitions"}


def _compile_error(message: str, line: int | None = None, **details: Any) -> ScriptError:
    return ScriptError(message, line=line, details=details or None)


@lru_cache(maxsize=256)
def _compile(script: str) -> types.CodeType:
    """Return the restricted code object for script, or raise ScriptError with the line."""
    if len(script) > MAX_SCRIPT_LENGTH:
        raise _compile_error(f"script longer than {MAX_SCRIPT_LENGTH:,} characters")
    try:
        tree = ast.parse(script, _FILENAME, "exec")
    except SyntaxError as exc:
        raise _compile_error(f"SyntaxError: {exc.msg}", exc.lineno, column=exc.offset) from None
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
        raise _compile_error(f"script cannot be parsed: {type(exc).__name__}: {exc}") from None
    for node in ast.walk(tree):
        what = _REFUSED_STATEMENTS.get(type(node))
        if what:  # RestrictedPython would compile these; refuse them up front with a clear reason
            raise _compile_error(f"{what} are not allowed in scripts", node.lineno)
    try:
        result = compile_restricted_exec(tree, filename=_FILENAME)
    except (RecursionError, MemoryError, SyntaxError, ValueError) as exc:
        raise _compile_error(f"script cannot be compiled: {type(exc).__name__}: {exc}") from None
    if result.errors or result.code is None:
        errors = list(result.errors) or ["script could not be compiled"]
        match = re.match(r"Line (\d+): (.*)", errors[0], re.DOTALL)
        line, reason = (int(match.group(1)), match.group(2)) if match else (None, errors[0])
        raise _compile_error(reason, line, errors=errors)
    return result.code


def check_script(script: str) -> None:
    """Compile script without running it; raise ScriptError (with the line) if it is refused."""
    if not isinstance(script, str):
        raise ScriptError(f"script must be text, not {type(script).__name__}")
    _compile(script)


def _guarded_getattr(obj: Any, name: str, *default: Any) -> Any:
    # safer_getattr refuses '_' names, str.format*/Formatter and inspect attributes (gi_frame,
    # f_back, ...). `mro` is refused too: it hands out `object`, the root of every escape.
    if name == "mro":
        raise AttributeError('"mro" is not allowed in scripts')
    value = safer_getattr(obj, name, _MISSING)
    if value is _MISSING:
        if default:
            return default[0]
        raise AttributeError(f"{type(obj).__name__!r} object has no attribute {name!r}")
    return value


_MISSING = object()
_INPLACE = {"+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
            "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
            ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor}


def _inplacevar(op: str, target: Any, value: Any) -> Any:
    if op not in _INPLACE:
        raise SyntaxError(f"augmented assignment {op!r} is not allowed")
    return _INPLACE[op](target, value)


def _refused(name: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise NameError(f"name {name!r} is not allowed in scripts")
    return refuse


def _make_builtins() -> dict[str, Any]:
    import builtins
    names = ("None True False abs all any bool callable chr dict divmod enumerate filter float format "
             "frozenset hash hex int isinstance issubclass iter len list map max min next oct ord pow range "
             "repr reversed round set slice sorted str sum tuple zip ArithmeticError AssertionError "
             "AttributeError Exception IndexError KeyError LookupError NameError OverflowError "
             "RuntimeError StopIteration TypeError ValueError ZeroDivisionError").split()
    table = {name: getattr(builtins, name) for name in names}
    table.update({name: _refused(name) for name in _REFUSED_BUILTINS})
    table.update({name: HELPERS[name] for name in ("now", "today", "date", "parse_date", "days", "hours",
                                                   "minutes", "iso", "is_empty", "contains", "count")})
    table["Decimal"] = Decimal
    return table


_GLOBALS = {
    "__builtins__": _make_builtins(), "__name__": "script", "_getattr_": _guarded_getattr,
    "_getitem_": default_guarded_getitem, "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence, "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard, "_inplacevar_": _inplacevar, "_print_": PrintCollector,
    "_apply_": lambda func, *args, **kwargs: func(*args, **kwargs),
}


# ------------------------------------------------------------------------ child process side
def _script_line(exc: BaseException) -> int | None:
    line, tb = None, exc.__traceback__
    while tb is not None:  # the innermost frame that belongs to the script wins
        if tb.tb_frame.f_code.co_filename == _FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _describe(exc: BaseException) -> str:
    try:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    except Exception:
        text = type(exc).__name__
    return text if len(text) <= 1000 else text[:997] + "..."


def _execute(script: str, data: dict) -> bytes:
    code = _compile(script)
    hidden = {k: v for k, v in data.items() if k.startswith("_")}  # scripts cannot name these
    namespace = {k: v for k, v in data.items() if not k.startswith("_")}
    namespace.update(_GLOBALS)
    try:
        exec(code, namespace)
    except MemoryError:
        raise
    except BaseException as exc:
        raise ScriptError(_describe(exc), line=_script_line(exc)) from None
    result = {k: v for k, v in namespace.items()
              if not k.startswith("_") and not callable(v) and not isinstance(v, types.ModuleType)}
    result.update(hidden)
    try:
        return _dumps({"ok": True, "data": result})
    except (TypeError, ValueError, RecursionError) as exc:
        for name, value in result.items():  # name the culprit
            try:
                _dumps(value)
            except (TypeError, ValueError, RecursionError) as inner:
                raise ScriptError(f"variable {name!r} cannot be stored in task data: {inner}") from None
        raise ScriptError(f"the script's variables cannot be stored in task data: {exc}") from None


def _address_space() -> int:
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _serve(raw: bytes) -> bytes:
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    try:
        request = _loads(raw)
        used = _address_space()
        if used:  # Linux; elsewhere RLIMIT_AS is unreliable and only the time limit applies
            limit = used + int(request["memory_limit_mb"]) * 1024 * 1024
            if hard != resource.RLIM_INFINITY:
                limit = min(limit, hard)
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        try:
            return _execute(request["script"], request["data"])
        finally:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    except MemoryError:
        return b'{"ok":false,"kind":"memory"}'
    except ScriptError as exc:
        return _dumps({"ok": False, "reason": exc.reason, "line": exc.line, "details": exc.details})
    except Exception as exc:
        return _dumps({"ok": False, "reason": f"sandbox failure: {_describe(exc)}", "line": None})


def _child_main(conn: Any) -> None:
    """Serve script requests on conn until the parent goes away (runs in the child process)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to the parent, which kills us
    conn.send_bytes(b"ready")
    while True:
        try:
            raw = conn.recv_bytes()
        except (EOFError, OSError):
            return
        conn.send_bytes(_serve(raw))


# ------------------------------------------------------------------------ parent process side
class _Worker:
    """One child process and its pipe; callers hold `lock` for a whole request/reply exchange."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.process: Any = None
        self.conn: Any = None

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        parent_conn, child_conn = ctx.Pipe()
        process = ctx.Process(target=_child_main, args=(child_conn,), name="flowdesk-script-sandbox",
                              daemon=True)
        process.start()
        child_conn.close()
        self.process, self.conn = process, parent_conn
        try:
            if parent_conn.poll(START_TIMEOUT) and parent_conn.recv_bytes() == b"ready":
                return
        except (EOFError, OSError):
            pass
        self.stop()
        raise ScriptError("the script sandbox process failed to start")

    def stop(self) -> None:
        process, conn, self.process, self.conn = self.process, self.conn, None, None
        if conn is not None:
            conn.close()
        if process is not None:
            if process.is_alive():
                process.kill()
            process.join(5)
            if process.exitcode is not None:
                process.close()  # release its sentinel fd now rather than at garbage collection

    def call(self, request: bytes, time_limit: float) -> bytes:
        with self.lock:
            if self.process is None or not self.process.is_alive():
                self.stop()
                self._start()
            try:
                self.conn.send_bytes(request)
            except OSError:  # the child died between calls: the script has not run, so retry once
                self.stop()
                self._start()
                self.conn.send_bytes(request)
            if not self.conn.poll(time_limit):
                self.stop()
                raise ScriptError(f"time limit of {time_limit:g} s exceeded")
            try:
                return self.conn.recv_bytes()
            except (EOFError, OSError):
                self.process.join(1)
                code = self.process.exitcode
                self.stop()
                raise ScriptError(f"the script process crashed (exit code {code})") from None


class _Pool:
    """A few workers handed out LIFO, so a single-threaded caller keeps reusing one warm child."""

    def __init__(self, size: int) -> None:
        self.pid = os.getpid()
        self.workers = [_Worker() for _ in range(size)]
        self.idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        for worker in reversed(self.workers):
            self.idle.put(worker)

    def call(self, request: bytes, time_limit: float) -> bytes:
        worker = self.idle.get()
        try:
            return worker.call(request, time_limit)
        finally:
            self.idle.put(worker)


_pool: _Pool | None = None
_pool_lock = threading.Lock()


def _get_pool() -> _Pool:
    global _pool
    with _pool_lock:
        if _pool is None or _pool.pid != os.getpid():  # a forked process cannot reuse our pipes
            _pool = _Pool(max(1, int(os.environ.get("FLOWDESK_SANDBOX_WORKERS", "2"))))
        return _pool


def run_script(script: str, data: Mapping[str, Any], *, time_limit: float = 2.0,
               memory_limit_mb: int = 256) -> dict[str, Any]:
    """Run script with data as its variables in the sandbox and return the resulting variables."""
    if not isinstance(script, str):
        raise ScriptError(f"script must be text, not {type(script).__name__}")
    if not isinstance(data, Mapping) or not all(isinstance(k, str) for k in data):
        raise ScriptError("task data must be a mapping with text keys")
    if not time_limit > 0 or not memory_limit_mb > 0:
        raise ScriptError("time_limit and memory_limit_mb must be positive")
    try:
        request = _dumps({"script": script, "data": dict(data), "memory_limit_mb": memory_limit_mb})
    except (TypeError, ValueError, RecursionError) as exc:
        raise ScriptError(f"task data cannot be passed to a script: {exc}") from None
    raw = _get_pool().call(request, time_limit)
    try:
        reply = _loads(raw)
    except (ValueError, TypeError, RecursionError) as exc:
        raise ScriptError(f"the script's result cannot be decoded: {exc}") from None
    if reply["ok"]:
        return reply["data"]
    if reply.get("kind") == "memory":
        raise ScriptError(f"memory limit of {memory_limit_mb} MB exceeded")
    raise ScriptError(reply["reason"], line=reply.get("line"), details=reply.get("details"))


def shutdown() -> None:
    """Stop every sandbox child process; a later run_script starts new ones."""
    pool = _pool
    if pool is None or pool.pid != os.getpid():
        return
    for worker in pool.workers:
        locked = worker.lock.acquire(timeout=5)  # a running script ends within its time limit
        try:
            worker.stop()
        finally:
            if locked:
                worker.lock.release()


atexit.register(shutdown)

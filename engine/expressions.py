"""Safe evaluation of every expression in a BPMN model (conditions, assignments, due dates, ...).

Nothing reaches Python's eval: the text is parsed with `ast`, checked against a whitelist and
compiled into a tree of closures, cached per expression text (an LRU of 2048 entries).

Syntax
  * `${...}` / `#{...}` wrapping the whole (stripped) text: Camunda/Flowable JUEL. Outside string
    literals, `&&`->and, `||`->or, `!`/`not`->not (binding tightly, as in JUEL; `!=` untouched),
    `eq ne gt lt ge le`->`== != > < >= <=`, `div`->/, `mod`->%, `empty x`->is_empty(x),
    `null`->None, `true`/`false`->True/False.
  * Anything else is a bare Python-like expression (SpiffWorkflow style): `amount > 1000`,
    `decision == 'approve'`, `"PT5M"`. `true`, `false`, `null` work there too.

Allowed: literals; names (looked up in `variables`, then HELPERS); and/or/not, comparisons
(incl. `in`, `not in`, `is`), arithmetic, `& | ^` and unary operators; `a if c else b`; indexing
and slicing of dicts/lists/tuples/strings; `customer.name` as sugar for `customer['name']` on
dicts only (a missing key raises: test with `'name' in customer`); tuple/list/dict/set displays;
f-strings; calls to HELPERS with positional/keyword args, and to the extra callables a caller
passes as `evaluate(..., functions={...})` (for that evaluation only; they cannot shadow HELPERS).
Refused with an ExpressionError naming the construct: lambda, comprehensions, `*`/`**`
unpacking, `:=`, attribute access on non-dicts, names/attributes starting with `_`, calls to
anything but a helper, `%` string formatting, `<<`, `>>`, `@`.
Limits: text <= 10,000 chars; sequences built by `*`, `+`, str() and f-strings <= 1,000,000
items/characters per evaluation in total; `**` results <= 100,000 bits; int products <=
1,000,000 bits; f-string widths/precisions <= 1,000.

HELPERS
  len min max sum abs round int float str bool sorted any all -- as in Python, except that `sum`
      needs a numeric/timedelta start and `round` limits ndigits to +-100
  is_empty(x)           True for None and empty str/list/dict/set/tuple
  now() / today()       timezone-aware UTC datetime / current UTC date
  date(y, m, d)         a date;  parse_date(text): ISO-8601 -> date (YYYY-MM-DD) or datetime
  days(n) hours(n) minutes(n)   timedeltas, so `now() + days(3)` and `due - now()` work
  iso(value)            datetime/date -> ISO-8601 text; timedelta -> duration such as "P1DT2H30M"
  contains(coll, item)  item in coll (False for None);  count(coll, v): occurrences of v

Every failure raises engine.errors.ExpressionError; its reason names the expression and the
cause, e.g. "expression 'amout > 1000': unknown variable 'amout'".
"""
from __future__ import annotations

import ast
import operator
import re
import threading
from collections.abc import Callable, Mapping, Sequence, Set
from datetime import date as _date
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any

from engine.errors import ExpressionError

from .juel import juel_to_python

MAX_EXPRESSION_LENGTH = 10_000
MAX_BUILT_ITEMS = 1_000_000  # items/characters that *, +, str() and f-strings may build per evaluation
MAX_POWER_BITS = 100_000
MAX_PRODUCT_BITS = 1_000_000
MAX_FORMAT_NUMBER = 1_000
_SEQUENCES = (str, bytes, list, tuple)


# ------------------------------------------------------------------------------------ helpers
def is_empty(value: Any) -> bool:
    """Return True for None and empty strings or collections (JUEL `empty`)."""
    if isinstance(value, (str, bytes, Mapping, Sequence, Set)):
        return len(value) == 0
    return value is None


def now() -> datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    return datetime.now(timezone.utc)


def today() -> _date:
    """Return the current UTC date."""
    return now().date()


def date(year: int, month: int, day: int) -> _date:
    """Return the date year-month-day."""
    return _date(year, month, day)


def parse_date(value: Any) -> _date:
    """Parse ISO-8601 text into a date (YYYY-MM-DD) or a datetime; dates pass through."""
    if isinstance(value, _date):
        return value
    if not isinstance(value, str):
        raise TypeError(f"parse_date() needs ISO-8601 text, not {type(value).__name__}")
    text = value.strip()
    return _date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)


def days(n: float) -> timedelta:
    """Return a timedelta of n days."""
    return timedelta(days=n)


def hours(n: float) -> timedelta:
    """Return a timedelta of n hours."""
    return timedelta(hours=n)


def minutes(n: float) -> timedelta:
    """Return a timedelta of n minutes."""
    return timedelta(minutes=n)


def iso(value: Any) -> str:
    """Format a datetime/date as ISO-8601 text and a timedelta as an ISO-8601 duration."""
    if isinstance(value, timedelta):
        sign, value = ("-", -value) if value < timedelta(0) else ("", value)
        hrs, rest = divmod(value.seconds, 3600)
        mins, secs = divmod(rest, 60)
        time = (f"{hrs}H" if hrs else "") + (f"{mins}M" if mins else "")
        if value.microseconds:
            time += f"{secs}.{value.microseconds:06d}".rstrip("0") + "S"
        elif secs or not (time or value.days):
            time += f"{secs}S"
        return f"{sign}P{f'{value.days}D' if value.days else ''}{'T' + time if time else ''}"
    if isinstance(value, (_date, str)):  # text passes through: it may already be "PT5M"
        return value if isinstance(value, str) else value.isoformat()
    raise TypeError(f"iso() needs a datetime, date or timedelta, not {type(value).__name__}")


def contains(collection: Any, item: Any) -> bool:
    """Return True if item is in collection (False when collection is None)."""
    return collection is not None and item in collection


def count(collection: Any, value: Any) -> int:
    """Return how often value occurs in collection (substrings in text, values in dicts)."""
    if isinstance(collection, str):
        return collection.count(value)
    items = collection.values() if isinstance(collection, Mapping) else collection
    return sum(1 for item in items if item == value)


def _sum(iterable: Any, start: Any = 0) -> Any:
    # Summing lists or strings is quadratic and a cheap way to burn memory: numbers only.
    if not isinstance(start, (int, float, Decimal, timedelta)):
        raise TypeError("sum() start must be a number or a timedelta")
    return sum(iterable, start)


def _str(value: Any = "") -> str:
    text = str(value)  # str(huge_list) in a list display could otherwise add up to gigabytes
    _spend(len(text), "str() result")
    return text


def _round(number: Any, ndigits: int | None = None) -> Any:
    # round(5, -10**9) computes 10**(10**9) internally.
    if ndigits is not None and abs(ndigits) > 100:
        raise ValueError("round() ndigits must be between -100 and 100")
    return round(number) if ndigits is None else round(number, ndigits)


HELPERS: dict[str, Callable[..., Any]] = {
    "len": len, "min": min, "max": max, "sum": _sum, "abs": abs, "round": _round,
    "int": int, "float": float, "str": _str, "bool": bool, "sorted": sorted, "any": any, "all": all,
    "is_empty": is_empty, "now": now, "today": today, "date": date, "parse_date": parse_date,
    "days": days, "hours": hours, "minutes": minutes, "iso": iso, "contains": contains, "count": count,
}
_LITERAL_NAMES = {"true": True, "false": False, "null": None}
_MISSING = object()


# ---------------------------------------------------------------------------- AST -> closures
class _Refused(Exception):
    """Internal: a rule was broken; re-raised as ExpressionError carrying the expression text."""


_Fn = Callable[[Mapping[str, Any]], Any]


_budget = threading.local()  # reset by every CompiledExpression call


def _spend(size: int, what: str) -> None:
    # One budget per evaluation: a list display of many `x * 999999` must not add up to gigabytes.
    left = getattr(_budget, "left", MAX_BUILT_ITEMS) - max(size, 0)
    if left < 0:
        raise _Refused(f"{what} too large (over {MAX_BUILT_ITEMS:,} items or characters per evaluation)")
    _budget.left = left


def _add(a: Any, b: Any) -> Any:
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        _spend(len(a) + len(b), "concatenation result")
    return a + b


def _mul(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, _SEQUENCES):
        a, b = b, a
    if isinstance(a, _SEQUENCES) and isinstance(b, int):
        _spend(len(a) * b, "repetition result")
    if isinstance(a, int) and isinstance(b, int) and a.bit_length() + b.bit_length() > MAX_PRODUCT_BITS:
        raise _Refused(f"integer product too large (over {MAX_PRODUCT_BITS:,} bits)")
    return a * b


def _pow(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and b > 0 and b * abs(a).bit_length() > MAX_POWER_BITS \
            and abs(a) > 1:
        raise _Refused(f"power result too large (over {MAX_POWER_BITS:,} bits)")
    return a ** b


def _mod(a: Any, b: Any) -> Any:
    if isinstance(a, (str, bytes)):  # '%*d' % (10**9, 1) allocates a huge string
        raise _Refused("'%' string formatting is not allowed; use an f-string")
    return a % b


_BINOPS = {ast.Add: _add, ast.Sub: operator.sub, ast.Mult: _mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: _mod, ast.Pow: _pow, ast.BitAnd: operator.and_,
           ast.BitOr: operator.or_, ast.BitXor: operator.xor}
_UNARYOPS = {ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos,
             ast.Invert: operator.invert}
_CMPOPS = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
           ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
           ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}
_CONSTRUCTS = {"Lambda": "lambda", "ListComp": "list comprehension", "SetComp": "set comprehension",
               "DictComp": "dict comprehension", "GeneratorExp": "generator expression",
               "Starred": "starred (*) unpacking", "NamedExpr": "assignment expression (:=)",
               "Await": "await", "Yield": "yield", "YieldFrom": "yield from"}
_DISPLAYS = {"Tuple": tuple, "List": list, "Set": set}


_calls = threading.local()  # the `functions=` of the evaluate() call running on this thread


class _Builder:
    """Turn a checked AST into nested closures; any node without a builder is refused."""

    def __init__(self, extra: frozenset[str] = frozenset()):
        self.extra = extra  # names of caller-supplied functions (evaluate's `functions=`)

    def build(self, node: ast.AST) -> _Fn:
        kind = type(node).__name__
        if kind in _DISPLAYS:
            items, make = [self.build(e) for e in node.elts], _DISPLAYS[kind]
            return lambda env: make(fn(env) for fn in items)
        method = getattr(self, "b_" + kind, None)
        if method is None:
            raise _Refused(f"{_CONSTRUCTS.get(kind, kind + ' construct')} is not allowed in expressions")
        return method(node)

    def b_Constant(self, node: ast.Constant) -> _Fn:
        value = node.value
        return lambda env: value

    def b_Name(self, node: ast.Name) -> _Fn:
        name = node.id
        if name.startswith("_"):
            raise _Refused(f"name {name!r} is not allowed (names starting with '_' are reserved)")

        def load(env: Mapping[str, Any]) -> Any:
            try:
                return env[name]
            except KeyError:
                value = HELPERS.get(name, _LITERAL_NAMES.get(name, _MISSING))
                if value is _MISSING:
                    raise _Refused(f"unknown variable {name!r}") from None
                return value
        return load

    def b_Attribute(self, node: ast.Attribute) -> _Fn:
        attr, owner, get = node.attr, ast.unparse(node.value), self.build(node.value)
        if attr.startswith("_"):
            raise _Refused(f"attribute {attr!r} is not allowed (names starting with '_' are reserved)")

        def load(env: Mapping[str, Any]) -> Any:
            obj = get(env)
            if not isinstance(obj, Mapping):  # dict-key sugar only: no methods, no object attributes
                raise _Refused(f"cannot read '.{attr}' of {owner!r}: attribute access only works on "
                               f"dicts, not {type(obj).__name__}")
            if attr not in obj:
                raise _Refused(f"{owner!r} has no key {attr!r}")
            return obj[attr]
        return load

    def b_Subscript(self, node: ast.Subscript) -> _Fn:
        get, key, owner = self.build(node.value), self.build(node.slice), ast.unparse(node.value)

        def load(env: Mapping[str, Any]) -> Any:
            obj, k = get(env), key(env)
            if not isinstance(obj, (Mapping, Sequence)):
                raise _Refused(f"cannot index {owner!r} of type {type(obj).__name__}")
            try:
                return obj[k]
            except (KeyError, IndexError):
                what = "key" if isinstance(obj, Mapping) else "index"
                raise _Refused(f"{owner!r} has no {what} {k!r}") from None
        return load

    def b_Slice(self, node: ast.Slice) -> _Fn:
        parts = [self.build(p) if p else (lambda env: None) for p in (node.lower, node.upper, node.step)]
        return lambda env: slice(*(p(env) for p in parts))

    def b_BinOp(self, node: ast.BinOp) -> _Fn:
        op = _BINOPS.get(type(node.op))
        if op is None:
            raise _Refused(f"operator {type(node.op).__name__} is not allowed in expressions")
        left, right = self.build(node.left), self.build(node.right)
        return lambda env: op(left(env), right(env))

    def b_UnaryOp(self, node: ast.UnaryOp) -> _Fn:
        op, operand = _UNARYOPS[type(node.op)], self.build(node.operand)
        return lambda env: op(operand(env))

    def b_BoolOp(self, node: ast.BoolOp) -> _Fn:
        values, is_and = [self.build(v) for v in node.values], isinstance(node.op, ast.And)

        def run(env: Mapping[str, Any]) -> Any:
            for fn in values:  # short-circuit like Python: return the deciding operand
                result = fn(env)
                if bool(result) != is_and:
                    return result
            return result
        return run

    def b_Compare(self, node: ast.Compare) -> _Fn:
        first = self.build(node.left)
        pairs = [(_CMPOPS[type(op)], self.build(c)) for op, c in zip(node.ops, node.comparators, strict=True)]

        def run(env: Mapping[str, Any]) -> Any:
            left = first(env)
            for op, get in pairs:
                right = get(env)
                result = op(left, right)
                if not result:
                    return result
                left = right
            return result
        return run

    def b_IfExp(self, node: ast.IfExp) -> _Fn:
        test, body, orelse = self.build(node.test), self.build(node.body), self.build(node.orelse)
        return lambda env: body(env) if test(env) else orelse(env)

    def b_Dict(self, node: ast.Dict) -> _Fn:
        if any(k is None for k in node.keys):
            raise _Refused("dict unpacking (**) is not allowed in expressions")
        pairs = [(self.build(k), self.build(v)) for k, v in zip(node.keys, node.values, strict=True)]
        return lambda env: {k(env): v(env) for k, v in pairs}

    def b_Call(self, node: ast.Call) -> _Fn:
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in HELPERS and name not in self.extra:
            raise _Refused(f"calling {ast.unparse(node.func)!r} is not allowed; only these helpers can "
                           f"be called: {', '.join(sorted(HELPERS.keys() | self.extra))}")
        if any(k.arg is None for k in node.keywords):
            raise _Refused("keyword unpacking (**) is not allowed in expressions")
        args = [self.build(a) for a in node.args]
        kwargs = [(k.arg, self.build(k.value)) for k in node.keywords]
        if name in HELPERS:
            fn = HELPERS[name]
            return lambda env: fn(*[a(env) for a in args], **{k: v(env) for k, v in kwargs})

        def call(env: Mapping[str, Any]) -> Any:
            extra = getattr(_calls, "functions", None) or {}
            if name not in extra:
                raise _Refused(f"function {name!r} is not available here")
            return extra[name](*[a(env) for a in args], **{k: v(env) for k, v in kwargs})
        return call

    def b_JoinedStr(self, node: ast.JoinedStr) -> _Fn:
        parts = [self.build(v) for v in node.values]
        return lambda env: "".join(str(p(env)) for p in parts)

    def b_FormattedValue(self, node: ast.FormattedValue) -> _Fn:
        get, convert = self.build(node.value), {-1: None, 115: str, 114: repr, 97: ascii}[node.conversion]
        spec = self.build(node.format_spec) if node.format_spec is not None else (lambda env: "")

        def run(env: Mapping[str, Any]) -> str:
            value, text = get(env), spec(env)
            # Format specs cannot reach attributes (unlike str.format fields) but can allocate.
            if any(int(n) > MAX_FORMAT_NUMBER for n in re.findall(r"\d+", text)):
                raise _Refused(f"format width/precision over {MAX_FORMAT_NUMBER} is not allowed")
            text = format(convert(value) if convert else value, text)
            _spend(len(text), "f-string result")
            return text
        return run


# --------------------------------------------------------------------------------- public API
def _error(source: str, why: str, **details: Any) -> ExpressionError:
    shown = source if len(source) <= 200 else source[:197] + "..."
    return ExpressionError(f"expression {shown!r}: {why}", details={"expression": source, **details})


def _explain(exc: BaseException) -> str:
    if isinstance(exc, ZeroDivisionError):
        return "division by zero"
    if isinstance(exc, RecursionError):
        return "expression is nested too deeply"
    return f"{type(exc).__name__}: {exc}"[:500]


class CompiledExpression:
    """A parsed and checked expression; call it with a variables mapping to evaluate it."""

    __slots__ = ("source", "python", "_fn")

    def __init__(self, source: str, python: str, fn: _Fn):
        self.source, self.python, self._fn = source, python, fn

    def __call__(self, variables: Mapping[str, Any]) -> Any:
        """Evaluate the expression against variables."""
        _budget.left = MAX_BUILT_ITEMS
        try:
            return self._fn(variables)
        except _Refused as exc:
            raise _error(self.source, str(exc)) from None
        except ExpressionError:
            raise
        except Exception as exc:  # TypeError, ZeroDivisionError, MemoryError, ...: never leak raw
            raise _error(self.source, _explain(exc)) from exc


@lru_cache(maxsize=2048)
def _compile_cached(expression: str, extra: frozenset[str] = frozenset()) -> CompiledExpression:
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise _error(expression, f"expression longer than {MAX_EXPRESSION_LENGTH:,} characters")
    python = expression.strip()
    if python[:2] in ("${", "#{") and python.endswith("}"):
        python = juel_to_python(python[2:-1]).strip()
    if not python:
        raise _error(expression, "empty expression")
    try:
        tree = ast.parse(python, mode="eval").body
    except SyntaxError as exc:
        why = f"syntax error at column {exc.offset or 0}: {exc.msg}"
        raise _error(expression, why, python=python) from None
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
        raise _error(expression, f"cannot parse: {_explain(exc)}") from None
    try:
        return CompiledExpression(expression, python, _Builder(extra).build(tree))
    except _Refused as exc:
        raise _error(expression, str(exc)) from None
    except RecursionError:
        raise _error(expression, "expression is nested too deeply") from None


def compile_expression(expression: str) -> CompiledExpression:
    """Parse, check and compile expression into a reusable callable (LRU-cached by text)."""
    if not isinstance(expression, str):
        raise ExpressionError(f"expression must be text, not {type(expression).__name__}")
    return _compile_cached(expression)


def evaluate(expression: str, variables: Mapping[str, Any] | None = None, *,
             functions: Mapping[str, Callable[..., Any]] | None = None) -> Any:
    """Evaluate expression with variables and return its value.

    functions: extra callables the expression may call besides HELPERS, for this evaluation only
    (instances.assignment passes `leader`, `role`, ... this way). They may not shadow a helper.
    """
    if variables is None:
        variables = {}
    elif not isinstance(variables, Mapping):
        raise ExpressionError(f"variables must be a mapping, not {type(variables).__name__}")
    if not functions:
        return compile_expression(expression)(variables)
    clash = sorted(set(functions) & HELPERS.keys())
    if clash:
        raise ExpressionError(f"functions may not shadow helpers: {', '.join(clash)}")
    if not isinstance(expression, str):
        raise ExpressionError(f"expression must be text, not {type(expression).__name__}")
    compiled = _compile_cached(expression, frozenset(functions))
    outer = getattr(_calls, "functions", None)
    _calls.functions = functions
    try:
        return compiled(variables)
    finally:
        _calls.functions = outer

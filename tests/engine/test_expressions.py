"""Tests for engine.expressions: JUEL/Python syntax, the AST whitelist, limits and helpers."""
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from engine.errors import ExpressionError
from engine.expressions import HELPERS, compile_expression, evaluate

VARS = {
    "amount": 1500, "decision": "approve", "flag": True, "off": False, "nothing": None,
    "items": [1, 2, 3, 2], "name": "Alice", "empty_list": [], "note": "a && b eq c || !d",
    "customer": {"name": "ACME", "tier": "gold", "address": {"city": "Berlin"}, "tags": []},
    "due": "2024-01-02T03:04:05+00:00", "big": list(range(100_000)),
}


def refused(expression, variables=VARS):
    with pytest.raises(ExpressionError) as info:
        evaluate(expression, variables)
    return info.value.reason


# ------------------------------------------------------------------------------- syntax forms
@pytest.mark.parametrize("expression, expected", [
    ("amount > 1000", True),
    ("decision == 'approve'", True),
    ('"PT5M"', "PT5M"),
    ("${amount > 1000}", True),
    ("#{amount > 1000}", True),
    ("   ${ amount > 2000 }  ", False),
    ("${decision}", "approve"),
    ("amount * 2 - 1", 2999),
    ("true and not false", True),
    ("nothing == null", True),
    ("amount if flag else 0", 1500),
])
def test_syntax_forms(expression, expected):
    assert evaluate(expression, VARS) == expected


@pytest.mark.parametrize("expression, expected", [
    ("${flag && off}", False),
    ("${flag || off}", True),
    ("${!off}", True),
    ("${!flag}", False),
    ("${amount != 1500}", False),
    ("${!flag != true}", True),
    ("${amount eq 1500}", True),
    ("${amount ne 1500}", False),
    ("${amount gt 1499}", True),
    ("${amount lt 1500}", False),
    ("${amount ge 1500}", True),
    ("${amount le 1499}", False),
    ("${flag and off}", False),
    ("${flag or off}", True),
    ("${not off}", True),
    ("${empty empty_list}", True),
    ("${empty items}", False),
    ("${empty nothing}", True),
    ("${not empty items}", True),
    ("${!empty customer.tags}", False),
    ("${nothing == null}", True),
    ("${flag == true && off == false}", True),
    ("${10 div 4}", 2.5),
    ("${7 mod 3}", 1),
    ("${customer.address.city eq 'Berlin' && amount ge 1000}", True),
    ("${!(amount gt 1000) || decision eq 'approve'}", True),
    ("${2 not in items}", False),
    ("${contains(items, 3) && !contains(items, 9)}", True),
])
def test_juel_operators(expression, expected):
    assert evaluate(expression, VARS) == expected


def test_juel_unary_not_binds_tightly():
    # JUEL: `!a == b` is `(!a) == b`; Python's `not a == b` would be `not (a == b)`.
    assert evaluate("${!off == true}", VARS) is True
    assert compile_expression("${!off == true}").python.replace(" ", "") == "(notoff)==True"


@pytest.mark.parametrize("expression", [
    "${note == 'a && b eq c || !d'}",
    '${note eq "a && b eq c || !d"}',
    "#{note == 'a && b eq c || !d' && true}",
])
def test_string_literals_are_not_rewritten(expression):
    assert evaluate(expression, VARS) is True
    assert "a && b eq c || !d" in compile_expression(expression).python


def test_string_with_escaped_quote_is_one_literal():
    assert evaluate(r"${'it\'s && ok' eq 'it\'s && ok'}", {}) is True


def test_dict_dot_access():
    assert evaluate("customer.name", VARS) == "ACME"
    assert evaluate("${customer.address.city}", VARS) == "Berlin"
    assert evaluate("customer.name == customer['name']", VARS) is True
    assert evaluate("customer['address']['city'][0:3]", VARS) == "Ber"
    assert "has no key 'phone'" in refused("customer.phone")
    assert "attribute access only works on dicts, not str" in refused("name.upper")
    assert "attribute '__class__' is not allowed" in refused("customer.__class__")
    assert "attribute '_secret' is not allowed" in refused("customer._secret")


def test_unknown_variable_names_the_expression_and_the_name():
    with pytest.raises(ExpressionError) as info:
        evaluate("amout > 1000", VARS)
    assert info.value.reason == "expression 'amout > 1000': unknown variable 'amout'"
    assert info.value.details == {"expression": "amout > 1000"}
    assert info.value.code == "expression_error"


@pytest.mark.parametrize("expression, reason", [
    ("amount / 0", "division by zero"),
    ("amount >", "syntax error at column"),
    ("${amount &&}", "syntax error at column"),
    ("name + 1", "TypeError: can only concatenate str"),
    ("int('abc')", "ValueError: invalid literal for int()"),
    ("items[10]", "'items' has no index 10"),
    ("customer['phone']", "'customer' has no key 'phone'"),
    ("amount[0]", "cannot index 'amount' of type int"),
    ("   ", "empty expression"),
    ("${}", "empty expression"),
    ("parse_date(5)", "TypeError: parse_date() needs ISO-8601 text"),
])
def test_failures_become_expression_errors(expression, reason):
    assert reason in refused(expression)


def test_non_text_expression_and_non_mapping_variables():
    with pytest.raises(ExpressionError, match="expression must be text"):
        evaluate(None, {})
    with pytest.raises(ExpressionError, match="variables must be a mapping"):
        evaluate("1", [1])


# ------------------------------------------------------------------------- forbidden constructs
@pytest.mark.parametrize("expression, reason", [
    ("lambda: 1", "lambda is not allowed"),
    ("[x for x in items]", "list comprehension is not allowed"),
    ("{x for x in items}", "set comprehension is not allowed"),
    ("{x: 1 for x in items}", "dict comprehension is not allowed"),
    ("sum(x for x in items)", "generator expression is not allowed"),
    ("[*items]", "starred (*) unpacking is not allowed"),
    ("max(*items)", "starred (*) unpacking is not allowed"),
    ("{**customer}", "dict unpacking (**) is not allowed"),
    ("max(**customer)", "keyword unpacking (**) is not allowed"),
    ("(y := 1)", "assignment expression (:=) is not allowed"),
    ("open('/etc/passwd')", "calling 'open' is not allowed"),
    ("__import__('os')", "calling '__import__' is not allowed"),
    ("name.upper()", "calling 'name.upper' is not allowed"),
    ("'{0.__class__}'.format(1)", "format\" is not allowed; only these helpers can be called"),
    ("().__class__.__mro__", "attribute '__class__' is not allowed"),
    ("customer.__class__.__mro__", "attribute '__class__' is not allowed"),
    ("__builtins__", "name '__builtins__' is not allowed"),
    ("f'{name.upper}'", "attribute access only works on dicts"),
    ("f'{customer.__class__}'", "attribute '__class__' is not allowed"),
    ("'%s' % name", "'%' string formatting is not allowed"),
    ("items @ items", "operator MatMult is not allowed"),
    ("1 << 10 ** 9", "operator LShift is not allowed"),
    ("len(items)(1)", "calling 'len(items)' is not allowed"),
])
def test_forbidden_constructs(expression, reason):
    assert reason in refused(expression)


def test_forbidden_constructs_fail_at_compile_time():
    with pytest.raises(ExpressionError, match="lambda is not allowed"):
        compile_expression("lambda: 1")
    with pytest.raises(ExpressionError, match="calling 'lambda: 1' is not allowed"):
        compile_expression("(lambda: 1)()")


# ---------------------------------------------------------------------------- resource limits
@pytest.mark.parametrize("expression, reason", [
    ("2 ** 1000000", "power result too large"),
    ("10 ** 10 ** 10", "power result too large"),
    ("'a' * 10 ** 9", "repetition result too large (over 1,000,000 items or characters"),
    ("10 ** 9 * 'a'", "repetition result too large"),
    ("[0] * 10 ** 9", "repetition result too large"),
    ("('ab' * 1000) * 1000", "repetition result too large"),
    (" * ".join(["2 ** 50000"] * 25), "integer product too large"),
    ("[" + ", ".join(["'a' * 900000"] * 100) + "]", "repetition result too large"),
    ("len(" + " + ".join(["big"] * 12) + ")", "concatenation result too large"),
    ("('a' * 600000) + ('b' * 600000)", "repetition result too large"),
    ("[" + ", ".join(["str(big)"] * 100) + "]", "str() result too large"),
    ("f'" + "{big}" * 100 + "'", "f-string result too large"),
    ("f'{name:1000000000}'", "format width/precision over 1000"),
    ("f'{amount:.999999999f}'", "format width/precision over 1000"),
    ("round(5, -10 ** 9)", "ndigits must be between"),
    ("sum([[1], [2]], [])", "sum() start must be a number"),
    ("1" + " + 1" * 5000, "longer than 10,000 characters"),
])
def test_resource_limits(expression, reason):
    assert reason in refused(expression)


def test_reasonable_sizes_are_allowed():
    assert evaluate("2 ** 100", {}) == 2 ** 100
    assert evaluate("len('ab' * 1000)", {}) == 2000
    assert evaluate("f'{amount:>8.2f}'", VARS) == " 1500.00"
    assert evaluate("round(2.675, 1)", {}) == 2.7
    for _ in range(3):  # the budget is per evaluation, not per process
        assert evaluate("len('a' * 900000)", {}) == 900000


# ------------------------------------------------------------------------------------ helpers
@pytest.mark.parametrize("expression, expected", [
    ("len(items)", 4), ("min(items)", 1), ("max(items)", 3), ("sum(items)", 8), ("abs(-3)", 3),
    ("round(2.5)", 2), ("int('42')", 42), ("float('1.5')", 1.5), ("str(amount)", "1500"),
    ("bool('')", False), ("sorted(items)", [1, 2, 2, 3]), ("sorted(items, reverse=True)[0]", 3),
    ("any([off, flag])", True), ("all([off, flag])", False), ("is_empty('')", True),
    ("is_empty(customer)", False), ("contains(items, 2)", True), ("contains(nothing, 2)", False),
    ("contains(customer, 'tier')", True), ("count(items, 2)", 2), ("count('banana', 'a')", 3),
    ("max(['bb', 'a'], key=len)", "bb"), ("sum([days(1), hours(2)], days(0))", timedelta(days=1, hours=2)),
    ("'tier' in customer and 'phone' not in customer", True), ("nothing is None", True),
    ("items[-1] + items[::2][1]", 5), ("{'a': 1, 'b': [2]}['b'][0]", 2), ("{1, 2} == {2, 1}", True),
    ("(1, 2)[1]", 2), ("f'{name}-{amount:.1f}'", "Alice-1500.0"), ("f'{name!r}'", "'Alice'"),
    ("1 < amount <= 1500", True), ("flag and amount", 1500), ("off or 'default'", "default"),
])
def test_helpers_and_operators(expression, expected):
    assert evaluate(expression, VARS) == expected


def test_variables_shadow_helpers_but_calls_always_use_helpers():
    variables = {"count": 3, "items": [1, 1]}
    assert evaluate("count > 2", variables) is True
    assert evaluate("count(items, 1)", variables) == 2


def test_date_helpers_and_arithmetic():
    current = evaluate("now()", {})
    assert current.tzinfo is timezone.utc
    assert abs(current - datetime.now(timezone.utc)) < timedelta(seconds=5)
    assert evaluate("today()", {}) == datetime.now(timezone.utc).date()
    assert evaluate("date(2024, 1, 31) + days(1)", {}) == date(2024, 2, 1)
    assert evaluate("parse_date('2024-01-02')", {}) == date(2024, 1, 2)
    assert evaluate("parse_date(due) + hours(1) + minutes(30)", VARS) == \
        datetime(2024, 1, 2, 4, 34, 5, tzinfo=timezone.utc)
    assert evaluate("parse_date('2024-01-02T03:04:05Z')", {}) == \
        datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert evaluate("now() + days(2) > now()", {}) is True
    assert evaluate("parse_date('2024-03-01') - parse_date('2024-02-01')", {}) == timedelta(days=29)
    assert evaluate("${parse_date(due) lt now()}", VARS) is True
    assert evaluate("iso(parse_date(due) + days(1))", VARS) == "2024-01-03T03:04:05+00:00"
    assert evaluate("iso(date(2024, 1, 2))", {}) == "2024-01-02"


@pytest.mark.parametrize("expression, expected", [
    ("iso(minutes(5))", "PT5M"), ("iso(hours(2))", "PT2H"), ("iso(days(3))", "P3D"),
    ("iso(days(1) + hours(2) + minutes(30))", "P1DT2H30M"), ("iso(minutes(0))", "PT0S"),
    ("iso(minutes(1.5))", "PT1M30S"), ("iso(-hours(1))", "-PT1H"), ("iso(hours(1) / 8)", "PT7M30S"),
    ("iso(days(0.5) + minutes(0.01))", "PT12H0.6S"), ("iso('PT5M')", "PT5M"),
])
def test_iso_durations(expression, expected):
    assert evaluate(expression, {}) == expected


def test_helpers_are_documented():
    import engine.expressions as module
    for name in HELPERS:
        assert name in module.__doc__, name


# ------------------------------------------------------------------------------------ caching
def test_compiled_expressions_are_cached_and_fast():
    first = compile_expression("${amount gt 1000 && decision eq 'approve'}")
    assert compile_expression("${amount gt 1000 && decision eq 'approve'}") is first
    assert first(VARS) is True
    start = time.perf_counter()
    for _ in range(2000):
        evaluate("${amount gt 1000 && decision eq 'approve'}", VARS)
    per_call = (time.perf_counter() - start) / 2000
    assert per_call < 100e-6, f"{per_call * 1e6:.1f} us per evaluation"


def test_decimal_arithmetic():
    assert evaluate("price * 2", {"price": Decimal("1.10")}) == Decimal("2.20")

"""Translate Camunda/Flowable JUEL expressions into the Python-like syntax the evaluator reads."""
from __future__ import annotations

import re

# A small tokenizer (not `tokenize`, whose handling of `!` changed in 3.12): string literals are
# single tokens, so `&&` or `eq` inside quotes is never rewritten.
_TOKEN = re.compile(r"""(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*") | (?P<name>[^\W\d]\w*)
    | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?) | (?P<ws>\s+)
    | (?P<op>&&|\|\||[=!<>]=|\*\*|//|[^\w\s])""", re.VERBOSE | re.DOTALL)
_WORD_OPS = {"eq": "==", "ne": "!=", "gt": ">", "lt": "<", "ge": ">=", "le": "<=", "div": "/",
             "mod": "%", "and": "and", "or": "or", "null": "None", "true": "True", "false": "False",
             "&&": "and", "||": "or"}


def juel_to_python(text: str) -> str:
    """Rewrite JUEL operators (&&, ||, !, eq, gt, empty, null...) as Python, leaving string literals alone."""
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(text)]
    return _translate(tokens, 0, len(tokens))


def _skip_ws(tokens: list, i: int, end: int) -> int:
    while i < end and tokens[i][0] == "ws":
        i += 1
    return i


def _after_group(tokens: list, i: int, end: int) -> int:
    """Return the index after the bracket that closes the one at i."""
    depth = 0
    for k in range(i, end):
        kind, text = tokens[k]
        depth += (kind == "op" and text in "([{") - (kind == "op" and text in ")]}")
        if depth == 0:
            return k + 1
    return end


def _operand_end(tokens: list, i: int, end: int) -> int:
    """Return the index after the unary operand at i: prefixes, a primary, then .name/[..]/(..)."""
    i = _skip_ws(tokens, i, end)
    if i >= end:
        return i
    if tokens[i][1] in ("!", "not", "empty", "-", "+"):
        return _operand_end(tokens, i + 1, end)
    k = _after_group(tokens, i, end) if tokens[i][1] in "([{" else i + 1
    while True:
        j = _skip_ws(tokens, k, end)
        if j < end and tokens[j][1] == "." and j + 1 < end:
            k = _skip_ws(tokens, j + 1, end) + 1
        elif j < end and tokens[j][1] in ("[", "("):
            k = _after_group(tokens, j, end)
        else:
            return k


def _translate(tokens: list, i: int, end: int) -> str:
    out, prev = [], ""
    while i < end:
        kind, text = tokens[i]
        following = _skip_ws(tokens, i + 1, end)
        unary_not = text == "not" and prev != "is" and not (following < end and tokens[following][1] == "in")
        if kind != "str" and prev != "." and (text in ("!", "empty") or unary_not):
            # JUEL's unary operators bind tighter than comparisons: `!a == b` is `(not a) == b`.
            stop = _operand_end(tokens, i + 1, end)
            inner = _translate(tokens, i + 1, stop)
            out.append(f" is_empty({inner})" if text == "empty" else f" (not {inner})")
            i, prev = stop, ")"
            continue
        if kind in ("name", "op") and text in _WORD_OPS and prev != ".":
            text = f" {_WORD_OPS[text]} "
        out.append(text)
        prev = tokens[i][1] if kind != "ws" else prev
        i += 1
    return "".join(out)

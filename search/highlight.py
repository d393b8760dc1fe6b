"""Highlighted snippets: the matched query words wrapped in <mark>, everything else HTML-escaped."""
from __future__ import annotations

import html
import re
import unicodedata
from functools import cache

from .analyser import CJK_CHAR, Term, bigrams, fold, normalise

SNIPPET_CHARS = 180
LEAD_CHARS = 40  # context kept before the first match
MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"
ACCENTED = re.compile("[\u00c0-\u024f\u1e00-\u1eff]")  # the letters _fold_table maps


@cache
def _fold_table() -> dict[int, str]:
    # Accented Latin letters to their plain letter, one character for one, for str.translate.
    table = {}
    for cp in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        folded = fold(chr(cp))
        if len(folded) == 1 and folded != chr(cp):
            table[cp] = folded
    return table


def _normalised_with_offsets(text: str) -> tuple[str, list[int] | None]:
    # The analyser compares NFKC, lower-cased, accent-folded text; marks must land on the original
    # characters. Mostly that is one character for one (full-width Ａ -> a), checked by the length.
    norm = normalise(text)
    if len(norm) == len(text):
        return (norm.translate(_fold_table()) if ACCENTED.search(norm) else norm), None
    # Otherwise normalise character by character and keep where each came from (㎏ -> kg).
    chars, origin = [], []
    for index, ch in enumerate(text):
        piece = fold(normalise(ch))
        chars.append(piece)
        origin.extend([index] * len(piece))
    return "".join(chars), origin


def _is_word_char(ch: str) -> bool:
    # As the analyser splits: a Latin word ends where Chinese starts (型号ABC号 holds the word abc).
    return (ch.isalnum() or unicodedata.category(ch)[0] == "M") and not CJK_CHAR.match(ch)


def _find(norm: str, needle: str, *, whole_word: bool, prefix: bool) -> list[tuple[int, int]]:
    spans = []
    for match in re.finditer(re.escape(needle), norm):
        start, end = match.span()
        if whole_word:
            if start > 0 and _is_word_char(norm[start - 1]):
                continue
            if prefix:
                while end < len(norm) and _is_word_char(norm[end]):
                    end += 1
            elif end < len(norm) and _is_word_char(norm[end]):
                continue
        spans.append((start, end))
    return spans


def _term_spans(norm: str, term: Term) -> list[tuple[int, int]]:
    if not term.cjk:
        return _find(norm, term.text, whole_word=True, prefix=term.prefix)
    spans = _find(norm, term.text, whole_word=False, prefix=False)
    if not spans and len(term.text) > 2:
        # The entry matched on the pieces of a word written apart; mark the pieces.
        for pair in bigrams(term.text):
            spans.extend(_find(norm, pair, whole_word=False, prefix=False))
    return spans


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def _render(text: str, spans: list[tuple[int, int]], start: int, end: int) -> str:
    out, at = [], start
    for span_start, span_end in spans:
        span_start, span_end = max(span_start, start), min(span_end, end)
        if span_start >= span_end:
            continue
        out += [html.escape(text[at:span_start]), MARK_OPEN, html.escape(text[span_start:span_end]), MARK_CLOSE]
        at = span_end
    out.append(html.escape(text[at:end]))
    return "".join(out)


def _spans(text: str, terms: list[Term]) -> list[tuple[int, int]]:
    norm, origin = _normalised_with_offsets(text)
    spans = []
    for term in terms:
        for start, end in _term_spans(norm, term):
            spans.append((start, end) if origin is None else (origin[start], origin[end - 1] + 1))
    return _merge(spans)


def highlight(text: str, terms: list[Term]) -> str:
    """Return the whole text HTML-escaped with the query's words marked."""
    return _render(text, _spans(text, terms), 0, len(text))


def snippet(text: str, terms: list[Term], *, size: int = SNIPPET_CHARS) -> str:
    """Return an HTML-safe window of text around the first matched word, the matched words marked."""
    spans = _spans(text, terms)
    start = max(0, spans[0][0] - LEAD_CHARS) if spans else 0
    end = min(len(text), start + size)
    start = max(0, min(start, end - size))
    body = _render(text, spans, start, end)
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")

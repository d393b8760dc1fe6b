"""The analyser: turns text into index tokens and a query into terms, alike for Chinese and other languages.

Text is NFKC-normalised (full-width letters and digits become ASCII) and lower-cased. Runs of Chinese,
Japanese kana or Korean Hangul give their characters and overlapping character bigrams, which find any
two-character word and any name the dictionary does not know, plus the segmenter's longer words; other
letters and digits give words, with Latin accents folded. Tokens are deduplicated per document.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from . import segmenter
from .errors import InvalidQuery

# Scripts written without spaces between words: Hangul jamo, 々〆〇, kana, Han (BMP and supplementary), syllables.
CJK = ("\u1100-\u11ff\u3005-\u3007\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
       "\uf900-\ufaff\U00020000-\U0003134f")
CJK_CHAR = re.compile(f"[{CJK}]")
MAX_TOKEN_CHARS = 64  # longer "words" are hashes or base64; PostgreSQL also refuses lexemes over 2 KB
MAX_TOKENS = 50_000  # keeps one entry's tsvector far below PostgreSQL's 1 MB limit
MAX_QUERY_CHARS = 200
MAX_TERMS = 24
PARTICLES = frozenset("的了着过在和与及或是也都就把被对从向于之而等吗呢吧啊")


@dataclass(frozen=True)
class Term:
    """One query term: it matches when all tokens of any one of its alternatives are in the entry."""

    text: str
    alternatives: tuple[tuple[str, ...], ...]
    prefix: bool = False
    cjk: bool = False


def _mark_ranges() -> str:
    # Combining marks belong inside words (Devanagari vowel signs, Thai tone marks); re's \w leaves them out.
    ranges, start, prev = [], None, None
    for cp in range(0x300, 0x20000):
        if unicodedata.category(chr(cp))[0] == "M":
            if start is None or cp != prev + 1:
                if start is not None:
                    ranges.append((start, prev))
                start = cp
            prev = cp
    ranges.append((start, prev))
    ranges.append((0xE0100, 0xE01EF))
    return "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)


@cache
def _pattern() -> re.Pattern:
    marks = _mark_ranges()
    return re.compile(rf"(?P<cjk>[{CJK}]+)|(?P<word>(?:[^\W_{CJK}]|[{marks}])+)(?P<star>\*)?")


def normalise(text: str) -> str:
    """Return text NFKC-normalised and lower-cased, as every token and query is compared."""
    return unicodedata.normalize("NFKC", text).lower()


def _is_latin(ch: str) -> bool:
    return ch < "\u0250" or "\u1e00" <= ch <= "\u1eff"


def fold(word: str) -> str:
    """Drop accents from Latin letters (café -> cafe) and keep every other script's marks."""
    if word.isascii():
        return word
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", word):
        if unicodedata.combining(ch) and out and _is_latin(out[-1]):
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def bigrams(run: str) -> list[str]:
    """Return the overlapping two-character pieces of a CJK run (the run itself when it has one character)."""
    if len(run) < 2:
        return [run]
    return [run[i:i + 2] for i in range(len(run) - 1)]


def _pieces(text: str):
    return _pattern().finditer(normalise(text))


def document_tokens(text: str) -> list[str]:
    """Return the distinct tokens of a text in order of first appearance."""
    found: list[tuple[int, str]] = []
    for match in _pieces(text):
        piece, at = match.group("cjk") or match.group("word"), match.start()
        if match.group("cjk"):
            found.extend((at + i, pair) for i, pair in enumerate(bigrams(piece)))
            # Single characters answer one-character searches (a surname, 税) wherever they stand.
            found.extend((at + i, char) for i, char in enumerate(piece))
            # Two-character words are bigrams already; the segmenter adds the longer ones (共和国).
            found.extend((at + start, word) for word, start in segmenter.search_words(piece) if len(word) > 2)
        else:
            word = fold(piece)
            if len(word) <= MAX_TOKEN_CHARS:
                found.append((at, word))
    # Positions follow the text, so PostgreSQL's cover-density ranking still sees which words stand close.
    found.sort(key=lambda item: item[0])
    return list(dict.fromkeys(token for _at, token in found))[:MAX_TOKENS]


def _chunks(run: str) -> list[tuple[str, tuple[str, ...]]]:
    # Returns each chunk with the contexts it may match as instead of itself. Consecutive one-character
    # words join up (李/四 -> 李四: names the dictionary splits). A lone character between words must stand
    # next to one of them (旧标题 must not find 新标题), unless it is a particle (的, 了, 在), left out.
    words = segmenter.words(run)
    chunks, singles, at = [], "", 0
    for word in [*words, ""]:  # the empty word flushes the last characters
        if len(word) == 1:
            singles += word
        else:
            if len(singles) > 1:
                chunks.append((singles, ()))
            elif singles and singles not in PARTICLES:
                start = at - 1
                contexts = tuple(run[i:i + 2] for i in (start - 1, start) if i >= 0 and i + 2 <= len(run))
                chunks.append((singles, contexts))
            singles = ""
            if word:
                chunks.append((word, ()))
        at += len(word)
    return chunks


def _cjk_terms(run: str) -> list[Term]:
    if len(run) == 1:
        return [Term(run, ((run,),), cjk=True)]
    terms = []
    for chunk, contexts in _chunks(run):
        if contexts:
            terms.append(Term(chunk, tuple((pair,) for pair in contexts), cjk=True))
            continue
        alternatives = [(chunk,)]
        if len(chunk) > 2:
            # The document's segmentation may differ from the query's; its bigrams are always indexed.
            alternatives.append(tuple(dict.fromkeys(bigrams(chunk))))
        terms.append(Term(chunk, tuple(alternatives), cjk=True))
    return terms


def query_terms(query: str) -> list[Term]:
    """Parse a query into terms that must all match; raise InvalidQuery when nothing searchable is left."""
    if not isinstance(query, str) or not query.strip():
        raise InvalidQuery("Type something to search for.", details={"reason": "empty"})
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidQuery(f"A search is at most {MAX_QUERY_CHARS} characters.",
                           details={"reason": "too_long", "limit": MAX_QUERY_CHARS, "length": len(query)})
    terms: list[Term] = []
    for match in _pieces(query):
        if match.group("cjk"):
            terms.extend(_cjk_terms(match.group("cjk")))
            continue
        word = fold(match.group("word"))
        if len(word) > MAX_TOKEN_CHARS:
            raise InvalidQuery(f"A word is at most {MAX_TOKEN_CHARS} characters.",
                               details={"reason": "word_too_long", "limit": MAX_TOKEN_CHARS})
        # A prefix needs two letters: one letter would expand to most of the vocabulary.
        terms.append(Term(word, ((word,),), prefix=bool(match.group("star")) and len(word) > 1))
    terms = list(dict.fromkeys(terms))
    if not terms:
        raise InvalidQuery("The search has no letters, digits or characters to look for.",
                           details={"reason": "empty"})
    if len(terms) > MAX_TERMS:
        raise InvalidQuery(f"A search has at most {MAX_TERMS} words.",
                           details={"reason": "too_many_words", "limit": MAX_TERMS})
    return terms

"""The Chinese word segmenter behind the analyser (rjieba: jieba's dictionary and algorithm, in Rust)."""
from __future__ import annotations

from functools import cache


@cache
def _jieba():
    # rjieba compiles its dictionary into the binary: loading it reads no file and writes no cache, so a
    # read-only machine works. Loaded on first use, not at import, to keep `import search` cheap.
    import rjieba  # builds its default segmenter on import; a second Jieba() would load the dictionary twice

    return rjieba


def search_words(run: str) -> list[tuple[str, int]]:
    """Return the words and sub-words of a run of Chinese text with their offsets (search mode)."""
    return [(word, start) for word, start, _end in _jieba().tokenize(run, mode="search", hmm=True)]


def words(run: str) -> list[str]:
    """Split a run of Chinese text into consecutive words (precise mode)."""
    return _jieba().cut(run, hmm=True)

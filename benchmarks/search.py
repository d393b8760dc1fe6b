"""Search benchmark: full-text queries over 20,000 entries of about 10 KB of mixed Chinese and English text.

Target: p95 under 100 ms per query on SQLite (FTS5) and on PostgreSQL (tsvector + GIN), with and without a
permission condition. The text is generated deterministically from a vocabulary with Zipf-like word
frequencies (real dictionary words, unknown personal names, pseudo-English), so common words match most
entries and rare ones a few. Entries are analysed once and bulk-inserted into both databases.

Run with .venv/bin/python -m benchmarks.search [--quick] [--skip-postgres] [--entries N] [--samples N]
[--keep]. SQLite lives in /tmp/flowdesk_bench_search; PostgreSQL in the schema flowdesk_bench_search of the
database `test` (dropped at the end unless --keep).
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import shutil
import sys
import time
from datetime import datetime, timedelta, timezone
from itertools import accumulate

from .approval import DEFAULT_PG, pct

TARGET_MS = 100.0
SQLITE_DIR = "/tmp/flowdesk_bench_search"
PG_SCHEMA = "flowdesk_bench_search"
TEXT_BYTES = 10_000
USERS, DEPARTMENTS, FOLDERS = 500, 50, 200
COMMON = ("的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好"
          "都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此"
          "实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真"
          "听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路"
          "期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统"
          "色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半"
          "候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持音单续改府号约讯类局客户"
          "投诉审批销售订货仓库财报采购项质款龄析")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰志红玉华飞鹏辉婷雪琳晨瑶宇轩浩然梓涵欣怡子墨诗琪"
SYLLABLES = ["ka", "to", "ri", "mon", "sel", "ver", "an", "del", "cor", "pi", "lu", "gan", "tri", "os", "ment",
             "ex", "ber", "qua", "lin", "dra", "ne", "po", "sta", "vi", "rum", "fel", "ga", "zo", "tek", "ur"]
QUERIES = ("zh_word", "zh_phrase", "en_word", "mixed", "name", "zh_char")


# -- corpus ----------------------------------------------------------------------------------------------
class Vocabulary:
    """Deterministic word lists with Zipf-like weights: Chinese words, names, pseudo-English."""

    def __init__(self, seed: int = 7):
        import rjieba

        rng = random.Random(seed)
        chars = list(dict.fromkeys(COMMON))
        words = [a + b for a in chars for b in chars if rjieba.has_word(a + b)]
        triples = {"".join(rng.choices(chars, k=3)) for _ in range(300_000)}
        words += sorted(w for w in triples if rjieba.has_word(w))
        rng.shuffle(words)
        self.zh = words
        self.zh_weights = list(accumulate(1.0 / (rank + 10) for rank in range(len(words))))
        self.names = sorted({rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
                             for _ in range(3000)})
        english = sorted({"".join(rng.choices(SYLLABLES, k=rng.choice((2, 2, 3, 4)))) for _ in range(6000)})
        rng.shuffle(english)
        self.en = english
        self.en_weights = list(accumulate(1.0 / (rank + 10) for rank in range(len(english))))

    def document(self, seed: int) -> tuple[str, str]:
        """Return the title and about TEXT_BYTES of text of entry number seed."""
        rng = random.Random(seed)
        parts, size = [], 0
        while size < TEXT_BYTES:
            if rng.random() < 0.75:
                words = rng.choices(self.zh, cum_weights=self.zh_weights, k=rng.randint(4, 12))
                if rng.random() < 0.15:
                    words.insert(rng.randrange(len(words)), rng.choice(self.names))
                sentence = "".join(words) + rng.choice("，。。；")
                size += 3 * len(sentence)
            else:
                words = rng.choices(self.en, cum_weights=self.en_weights, k=rng.randint(5, 15))
                sentence = " ".join(words).capitalize() + ". "
                size += len(sentence)
            parts.append(sentence)
        title = "".join(rng.choices(self.zh, cum_weights=self.zh_weights, k=3)) + " " + rng.choice(self.en).title()
        return title, "".join(parts)


_VOCAB: Vocabulary | None = None


def _row(number: int) -> tuple[tuple[dict, dict], int]:
    from search.service import entry_rows

    global _VOCAB
    if _VOCAB is None:
        _VOCAB = Vocabulary()
    title, text = _VOCAB.document(number)
    rng = random.Random(number)
    entry, searchable = entry_rows(
        "document", str(number), title=title, text=text, owner=f"u{rng.randrange(USERS)}",
        folder_id=rng.randrange(FOLDERS), scope=f"dept{rng.randrange(DEPARTMENTS)}",
        updated_at=datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=number * 7))
    return ({**entry, "id": number + 1}, {**searchable, "entry_id": number + 1}), len(text.encode())


def build_rows(count: int, log=print) -> tuple[list[tuple[dict, dict]], float]:
    """Generate and analyse count entries on every CPU; return the rows and the megabytes of text."""
    t0 = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(os.cpu_count() or 1) as pool:
        built = pool.map(_row, range(count), chunksize=200)
    rows, megabytes = [row for row, _size in built], sum(size for _row, size in built) / 1e6
    log(f"  generated and analysed {count} entries in {time.perf_counter() - t0:.1f}s "
        f"({count / (time.perf_counter() - t0):.0f} entries/s on {os.cpu_count()} CPUs)", flush=True)
    return rows, megabytes


# -- databases -------------------------------------------------------------------------------------------
def sqlite_database():
    from database import Database
    from database.migrate import upgrade

    shutil.rmtree(SQLITE_DIR, ignore_errors=True)
    db = Database(f"sqlite:///{SQLITE_DIR}/search.db")
    upgrade(db)
    return db


def postgres_database(base_url: str):
    import psycopg

    from database import Database
    from database.migrate import upgrade

    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {PG_SCHEMA}")
    # Only our schema on the search path: the migrations and the benchmark never touch public.
    db = Database(f"{base_url}{'&' if '?' in base_url else '?'}options=-csearch_path%3D{PG_SCHEMA}")
    upgrade(db)
    return db


def drop_postgres(base_url: str) -> None:
    import psycopg

    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")


def load(db, rows: list[tuple[dict, dict]], log=print) -> None:
    """Bulk-insert analysed rows, then let the database settle its statistics."""
    from sqlalchemy import insert, text

    from search.models import SearchEntry, SearchText

    t0 = time.perf_counter()
    for start in range(0, len(rows), 1000):
        with db.command() as session:
            session.execute(insert(SearchEntry), [entry for entry, _text in rows[start:start + 1000]])
            session.execute(insert(SearchText), [searchable for _entry, searchable in rows[start:start + 1000]])
    loaded = time.perf_counter() - t0
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for statement in (["VACUUM ANALYZE search_entry", "VACUUM ANALYZE search_entry_text"]
                          if db.dialect == "postgresql" else ["ANALYZE"]):
            conn.execute(text(statement))
    log(f"  inserted {len(rows)} entries in {loaded:.1f}s ({len(rows) / loaded:.0f}/s); size {size_mb(db):.0f} MB",
        flush=True)


def size_mb(db) -> float:
    from sqlalchemy import text

    if db.dialect == "postgresql":
        with db.engine.connect() as conn:
            return conn.execute(text("SELECT pg_total_relation_size('search_entry') + "
                                     "pg_total_relation_size('search_entry_text')")).scalar() / 1e6
    return sum(os.path.getsize(os.path.join(SQLITE_DIR, f)) for f in os.listdir(SQLITE_DIR)) / 1e6


# -- queries ---------------------------------------------------------------------------------------------
def make_queries(vocab: Vocabulary, rows: list[dict], samples: int, seed: int = 11) -> list[tuple[str, str]]:
    """Return (category, query) pairs: words across the frequency range, phrases cut from entries, names."""
    from search.analyser import CJK_CHAR

    rng = random.Random(seed)

    def banded(words):
        band = rng.choice((0, 1, 2))  # common, middling, rare
        edges = [(0, 30), (30, 600), (600, len(words))][band]
        return words[rng.randrange(*edges)]

    def phrase():
        source = rng.choice(rows)[1]["snippet_source"]
        runs = [run for run in "".join(c if CJK_CHAR.match(c) else " " for c in source).split() if len(run) >= 4]
        run = rng.choice(runs)
        start = rng.randrange(len(run) - 3)
        return run[start:start + rng.randint(4, 8)]

    makers = {
        "zh_word": lambda: banded([w for w in vocab.zh if len(w) == 2]),
        "zh_phrase": phrase,
        "en_word": lambda: banded(vocab.en),
        "mixed": lambda: banded(vocab.zh) + " " + banded(vocab.en),
        "name": lambda: rng.choice(vocab.names),
        "zh_char": lambda: rng.choice(COMMON[:300]),
    }
    return [(category, makers[category]()) for category in QUERIES for _ in range(samples)]


def readable_for(user: int):
    """The permission condition of user u<n>: own entries plus those of three departments."""
    from sqlalchemy import or_

    departments = [f"dept{(user * k) % DEPARTMENTS}" for k in (1, 7, 13)]
    return lambda entry: or_(entry.owner == f"u{user}", entry.scope.in_(departments))


def baseline_scan(session, query: str) -> list:
    """Find up to 20 entries whose text holds every word of the query as a substring, by scanning (no index)."""
    from sqlalchemy import select

    from search.models import SearchText

    words = query.replace("*", "").split() or [query]
    return session.execute(select(SearchText.entry_id).where(*[SearchText.tokens.contains(w) for w in words])
                           .limit(20)).all()


def run_queries(db, queries, log=print) -> dict:
    """Run every query with and without a permission condition; return timings (ms) by category."""
    from sqlalchemy import true

    from search.service import search

    timings: dict[str, list[float]] = {}
    hits: dict[str, list[int]] = {}
    for _category, warm in queries[:20]:
        with db.query() as session:
            search(session, warm, readable=true())
    for index, (category, query) in enumerate(queries):
        # Baseline: what a search without an index does, a substring scan (LIKE) of every entry's text.
        t0 = time.perf_counter()
        with db.query() as session:
            baseline_scan(session, query)
        timings.setdefault("baseline", []).append((time.perf_counter() - t0) * 1000)
        for permission in (False, True):
            readable = readable_for(index % USERS) if permission else true()
            t0 = time.perf_counter()
            with db.query() as session:
                found = search(session, query, readable=readable, limit=20)
            ms = (time.perf_counter() - t0) * 1000
            key = f"{category}{' +perm' if permission else ''}"
            timings.setdefault(key, []).append(ms)
            timings.setdefault("all", []).append(ms)
            hits.setdefault(key, []).append(len(found))
    return {"timings": timings, "hits": hits}


def report(name: str, result: dict) -> bool:
    """Print p50/p95 per category; tell whether the overall p95 meets the target."""
    print(f"\n{name}: query times in ms (limit 20, one read session per query)")
    print(f"  {'category':<18}{'n':>5}{'p50':>9}{'p95':>9}{'max':>9}{'hits p50':>10}")
    for key, values in result["timings"].items():
        found = result["hits"].get(key, [])
        print(f"  {key:<18}{len(values):>5}{pct(values, 50):>9.1f}{pct(values, 95):>9.1f}{max(values):>9.1f}"
              f"{pct(found, 50) if found else '':>10}")
    worst = max(pct(v, 95) for k, v in result["timings"].items() if k != "baseline")
    ok = worst < TARGET_MS
    searched, scanned = result["timings"]["all"], result["timings"]["baseline"]
    print(f"  against the baseline (LIKE scan of the same text, same queries): p50 "
          f"{pct(searched, 50) / pct(scanned, 50):.3f}x, p95 {pct(searched, 95) / pct(scanned, 95):.3f}x")
    print(f"  worst category p95 {worst:.1f} ms: {'meets' if ok else 'MISSES'} the {TARGET_MS:.0f} ms target")
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 entries and fewer queries")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--entries", type=int)
    parser.add_argument("--samples", type=int, help="queries per category")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file and the PostgreSQL schema")
    parser.add_argument("--pg-url", default=os.environ.get("FLOWDESK_BENCH_PG", DEFAULT_PG))
    args = parser.parse_args(argv)
    entries = args.entries or (2_000 if args.quick else 20_000)
    samples = args.samples or (20 if args.quick else 60)

    print(f"search benchmark: {entries} entries of ~{TEXT_BYTES // 1000} KB, {samples} queries per category",
          flush=True)
    global _VOCAB
    vocab = _VOCAB = Vocabulary()  # before the worker processes fork, so they share it
    print(f"  vocabulary: {len(vocab.zh)} Chinese words, {len(vocab.names)} names, {len(vocab.en)} English words")
    rows, megabytes = build_rows(entries)
    print(f"  about {megabytes:.0f} MB of text", flush=True)
    queries = make_queries(vocab, rows, samples)
    ok = True
    backends = [("SQLite FTS5", sqlite_database)]
    if not args.skip_postgres:
        backends.append(("PostgreSQL tsvector", lambda: postgres_database(args.pg_url)))
    for name, make in backends:
        print(f"\n{name}:", flush=True)
        db = make()
        try:
            load(db, rows)
            ok = report(name, run_queries(db, queries)) and ok
        finally:
            db.dispose()
            if not args.keep:
                drop_postgres(args.pg_url) if db.dialect == "postgresql" else shutil.rmtree(SQLITE_DIR, True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

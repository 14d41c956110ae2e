"""Search: index size of the new layout against the old one, and query latency, measured in one run.

    .venv/bin/python bench/bench_search.py [--size-articles 20000] [--search-articles 100000]

Builds the corpora through the project's own bulk path (``Pipeline.scan_seeds`` over generated seed files,
as bench_ingest.py does), then:

* index size on ``--size-articles``: the same rows laid out as before migration 6 (FTS5 with
  ``remove_diacritics 2`` over title, body and the folded đ-words) and as now (``remove_diacritics 0`` over
  title and body as written, plus the whole article folded); pages counted with ``dbstat``;
* search latency on ``--search-articles``: 20 varied queries (with and without diacritics, phrases,
  prefix, OR, NOT), each run 5 times through ``Store.search`` (newest first, 20 hits with snippets), p50
  and p95 over the 100 runs, also with ``--sort rank``; the baseline is the search before migration 6 (the
  old layout, its folded words ANDed, by rank, joined to the articles) on the same rows, in the same run.
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

QUERIES = [
    "Đảng bộ", "dang bo", '"Đảng bộ"', '"dang bo"', "Đà Nẵng", "da nang", "Nghị quyết 57", "nghi quyet 57",
    "57-NQ/TW", "chuyển đổi số", "chuyen doi so", "chuyển*", "tham mưu OR giám sát", "Đảng -đã",
    "Văn phòng Thành ủy", '"van phong thanh uy"', "hoà", "khen thưởng", "bài số 4242", "NOT đang Thành ủy",
]
_D_WORD = re.compile(r"[đĐ]\w*")


def build(n: int, work: Path) -> Path:
    from bench_ingest import generate

    from daemon.config import loads
    from daemon.pipeline import Pipeline
    from daemon.store import Store

    seeds, state = work / "seeds", work / "state"
    seeds.mkdir()
    state.mkdir()
    generate(seeds, n)
    past = time.time() - 60  # a file modified within the last second waits for the next pass
    for f in seeds.iterdir():
        os.utime(f, (past, past))
    config = loads(f'[storage]\npath = "{state / "news.db"}"\n[seeds]\npath = "{seeds}"\n', state / "config.toml")
    store = Store(config.db_path, config.tz)
    start = time.perf_counter()
    report = Pipeline(config, store).scan_seeds()
    assert report.new == n, report
    print(f"  built {n} articles through scan_seeds in {time.perf_counter() - start:.1f} s")
    store.close()
    return config.db_path


def d_words(title: str, body: str) -> str:
    """What ``articles.folded`` held before migration 6: the words with đ, folded, each once."""
    from daemon.text import fold_canonical

    words = dict.fromkeys(_D_WORD.findall(f"{title}\n{body}"))
    return " ".join(dict.fromkeys(fold_canonical(" ".join(words)).split()))


def layout_copy(db: Path, target: Path, *, old: bool) -> sqlite3.Connection:
    """The articles' title and body in a fresh file, indexed the old way or the new way."""
    conn = sqlite3.connect(target)
    conn.create_function("d_words", 2, d_words)
    conn.execute("ATTACH ? AS src", (str(db),))
    folded = "d_words(title, body)" if old else "folded"
    conn.execute(f"CREATE TABLE articles AS SELECT id, title, body, {folded} AS folded FROM src.articles")
    tokenizer = "unicode61 remove_diacritics 2" if old else "unicode61 remove_diacritics 0"
    conn.execute("CREATE VIRTUAL TABLE articles_fts USING FTS5 (title, body, folded, content=[articles],"
                 f" tokenize='{tokenizer}')")
    conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
    conn.commit()
    conn.execute("DETACH src")
    conn.execute("VACUUM")
    return conn


def sizes(conn: sqlite3.Connection) -> tuple[int, int]:
    """(bytes of the FTS index, bytes of the articles table)."""
    rows = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall())
    fts = sum(v for k, v in rows.items() if k.startswith("articles_fts"))
    return fts, rows["articles"]


def old_query(query: str) -> str:
    from daemon.text import fold

    return " AND ".join(f'"{t}"' for t in re.findall(r"\w+", fold(query)))


def percentiles(times: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(times, n=20)
    return statistics.median(times) * 1000, q[18] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-articles", type=int, default=20_000)
    parser.add_argument("--search-articles", type=int, default=100_000)
    args = parser.parse_args()

    from daemon.store import Store
    from daemon.text.search import parse

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "size").mkdir()
        db = build(args.size_articles, work / "size")
        old = layout_copy(db, work / "old.db", old=True)
        new = layout_copy(db, work / "new.db", old=False)
        (old_fts, old_table), (new_fts, new_table) = sizes(old), sizes(new)
        mb = 1e6
        print(f"index size, {args.size_articles} articles:")
        for label, fts, table in (("before (remove_diacritics 2 + đ-words)", old_fts, old_table),
                                  ("after  (as written + folded copy)     ", new_fts, new_table)):
            print(f"  {label}: FTS {fts / mb:6.1f} MB, articles table {table / mb:6.1f} MB")
        print(f"  ratio  FTS {new_fts / old_fts:.2f}x, table {new_table / old_table:.2f}x,"
              f" both {(new_fts + new_table) / (old_fts + old_table):.2f}x")
        old.close()
        new.close()

        (work / "search").mkdir()
        db = build(args.search_articles, work / "search")
        baseline = layout_copy(db, work / "old-search.db", old=True)
        store = Store(db)
        mine: list[float] = []
        ranked: list[float] = []
        theirs: list[float] = []
        for query in QUERIES:
            parsed, fts = parse(query), old_query(query)
            for _ in range(5):
                start = time.perf_counter()
                store.search(parsed, limit=20)
                mine.append(time.perf_counter() - start)
                start = time.perf_counter()
                store.search(parsed, limit=20, sort="rank")
                ranked.append(time.perf_counter() - start)
                start = time.perf_counter()
                baseline.execute("SELECT a.id, a.title, a.body FROM articles_fts JOIN articles a ON a.id ="
                                 " articles_fts.rowid WHERE articles_fts MATCH ? ORDER BY rank LIMIT 20",
                                 (fts,)).fetchall()
                theirs.append(time.perf_counter() - start)
        p50, p95 = percentiles(mine)
        r50, r95 = percentiles(ranked)
        b50, b95 = percentiles(theirs)
        print(f"search, {args.search_articles} articles, {len(QUERIES)} queries x 5:")
        print(f"  baseline (old layout, folded AND, by rank, no snippets): p50 {b50:6.1f} ms  p95 {b95:6.1f} ms")
        print(f"  newswatch search (newest first, 20 hits, snippets):      p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")
        print(f"  newswatch search --sort rank:                            p50 {r50:6.1f} ms  p95 {r95:6.1f} ms")
        print(f"  ratio newest p50 {p50 / b50:.2f}x  p95 {p95 / b95:.2f}x;"
              f" rank p50 {r50 / b50:.2f}x  p95 {r95 / b95:.2f}x")
        store.close()
        baseline.close()


if __name__ == "__main__":
    main()

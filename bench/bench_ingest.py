"""Seed-folder ingestion throughput against a plain sqlite-utils baseline, measured in the same run.

    .venv/bin/python bench/bench_ingest.py [--articles 20000]

Generates N distinct articles (sample texts with varied sentences) as .txt files, then times:

* baseline: read every file (UTF-8), ``sqlite_utils`` ``insert_all`` into a table with FTS5 enabled
  (``enable_fts(create_triggers=True)``) — the simplest thing that stores and indexes the same texts;
* newswatch: ``Pipeline.scan_seeds()`` on an empty database — encoding detection, metadata and date
  parsing, normalization, content hash, dedupe look-up, rule matching, FTS over title/body/folded copy,
  sightings and the seed-file ledger, in batches of one transaction;
* re-scan: the same folder again, unchanged (stat only, nothing read).

Prints articles/s and the ratio newswatch/baseline (target ≥ 0.5).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import sqlite_utils

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from daemon.config import loads  # noqa: E402
from daemon.pipeline import Pipeline  # noqa: E402
from daemon.store import Store  # noqa: E402


def generate(folder: Path, n: int) -> None:
    samples = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    sentences = [s.strip() for text in samples for s in text.replace("\n", " ").split(". ") if len(s) > 40]
    rng = random.Random(57)
    for i in range(n):
        base = samples[i % len(samples)]
        extra = ". ".join(rng.sample(sentences, 4))
        (folder / f"gen_{i:06d}.txt").write_text(f"{base}\n\nBài số {i}. {extra}.\n", encoding="utf-8")


def baseline(folder: Path, dbfile: Path) -> float:
    start = time.perf_counter()
    db = sqlite_utils.Database(dbfile)
    db["articles"].create({"id": int, "title": str, "body": str, "path": str}, pk="id")
    db["articles"].enable_fts(["title", "body"], create_triggers=True)

    def rows():  # type: ignore[no-untyped-def]
        for p in sorted(folder.glob("*.txt")):
            text = p.read_text(encoding="utf-8")
            yield {"title": text.split("\n", 1)[0][:200], "body": text, "path": p.name}

    db["articles"].insert_all(rows(), batch_size=500)
    return time.perf_counter() - start


def newswatch(folder: Path, state: Path) -> tuple[float, float, int]:
    config = loads(
        f'[storage]\npath = "{state / "news.db"}"\n[seeds]\npath = "{folder}"\n'
        # The shipped config's rules (document references), plus an ASCII keyword (matched on folded text).
        '[[rules]]\nname = "nq57"\nkeywords = ["Nghị quyết 57"]\n'
        '[[rules]]\nname = "ct34"\nkeywords = ["Chỉ thị 34"]\n'
        '[[rules]]\nname = "ascii"\nkeywords = ["van phong cap uy"]\n',
        state / "config.toml",
    )
    store = Store(config.db_path, config.tz)
    pipeline = Pipeline(config, store)
    start = time.perf_counter()
    report = pipeline.scan_seeds()
    first = time.perf_counter() - start
    start = time.perf_counter()
    again = pipeline.scan_seeds()
    rescan = time.perf_counter() - start
    assert again.new == 0 and again.duplicates == 0, again
    return first, rescan, report.new


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--articles", type=int, default=20000)
    n = ap.parse_args().articles
    with tempfile.TemporaryDirectory() as tmp:
        folder, state = Path(tmp) / "seeds", Path(tmp) / "state"
        folder.mkdir()
        state.mkdir()
        generate(folder, n)
        old = time.time() - 10
        import os

        for p in folder.iterdir():
            os.utime(p, (old, old))
        base = baseline(folder, Path(tmp) / "baseline.db")
        ours, rescan, stored = newswatch(folder, state)
    print(f"articles                    {n}")
    print(f"baseline sqlite-utils+FTS   {base:7.2f} s  {n / base:9.0f} articles/s")
    print(f"newswatch scan_seeds        {ours:7.2f} s  {stored / ours:9.0f} articles/s  ({stored} stored)")
    print(f"newswatch re-scan unchanged {rescan:7.2f} s  {n / rescan:9.0f} files/s (stat only)")
    print(f"ratio newswatch/baseline    {base / ours:7.2f}   (target >= 0.5)")


if __name__ == "__main__":
    main()

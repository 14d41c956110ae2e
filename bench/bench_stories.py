"""Stories: clustering quality on a labelled corpus, ingest cost, and cost against the archive's size.

    .venv/bin/python bench/bench_stories.py [--stories 450] [--repeat 3] [--big 200000]

The corpus (``storygen``) is generated, labelled: reports written from party-press formulas on a few
topics (the same sentences with other provinces, names, dates and numbers) and their copies with the
edits outlets make, at three strengths, plus title-and-lead feed items. It prints:

* pairwise precision, recall and F1 of the stories found against the labels (targets ≥ 0.99, ≥ 0.95);
* ingest throughput of the same articles (``Pipeline.ingest``, as a feed poll stores them: normalize,
  hash, dedupe, match, store, FTS) with stories on and with ``[stories] enabled = false``, alternating,
  on fresh databases; the median of the ratios (target: stories cost ≤ 20 %);
* the per-article cost of story assignment (deciding, writing the stories and the recount, timed inside ingest)
  with 10,000 and with 200,000 articles already stored (target: ≤ 1.5×), the stored ones spread over
  time as a service stores them (2,000 a day), and again with all 200,000 first seen within the window
  (a bulk import: the worst case);
* how long the backfill (the first start after the upgrade) takes per 100,000 articles.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from storygen import Article, corpus, fillers  # noqa: E402

RULES = ('[[rules]]\nname = "nq57"\nkeywords = ["Nghị quyết 57"]\n'
         '[[rules]]\nname = "vp"\nkeywords = ["Văn phòng Tỉnh ủy"]\n'
         '[[webhooks]]\nname = "office"\nurl = "http://127.0.0.1:9/"\n')
BATCH = 100  # articles per ingest: a feed poll's worth


def pipeline(state: Path, extra: str = "") -> Any:
    from daemon.config import loads
    from daemon.pipeline import Pipeline
    from daemon.store import Store

    state.mkdir(parents=True, exist_ok=True)
    config = loads(f'[storage]\npath = "{state / "news.db"}"\n[seeds]\npath = "{state}"\n{extra}{RULES}',
                   state / "config.toml")
    return Pipeline(config, Store(config.db_path, config.tz))


def documents(articles: Sequence[Article], tag: str) -> list[Any]:
    from daemon.models import Document

    return [Document(a.source, f"{tag}:{i}", a.title, a.body) for i, a in enumerate(articles)]


def pairs(groups: dict[int, list[int]]) -> set[tuple[int, int]]:
    return {p for members in groups.values() for p in itertools.combinations(sorted(members), 2)}


def quality(articles: Sequence[Article], state: Path) -> tuple[float, float, float, int, int]:
    p = pipeline(state)
    docs = documents(articles, "q")
    for i in range(0, len(docs), BATCH):
        p.ingest(docs[i : i + BATCH])
    with p.store.read() as conn:  # two light copies can be identical: one article, sighted twice
        story = dict(conn.execute("SELECT id, story_id FROM articles").fetchall())
        by_locator = dict(conn.execute("SELECT locator, article_id FROM sightings").fetchall())
    ids = [by_locator[d.locator] for d in docs]
    found: dict[int, list[int]] = {}
    truth: dict[int, list[int]] = {}
    for i, (aid, a) in enumerate(zip(ids, articles, strict=True)):  # pairs of arrivals, not of rows
        found.setdefault(story[aid], []).append(i)
        truth.setdefault(a.story, []).append(i)
    got, want = pairs(found), pairs(truth)
    tp = len(got & want)
    precision = tp / len(got) if got else 1.0
    recall = tp / len(want) if want else 1.0
    return precision, recall, 2 * precision * recall / (precision + recall), len(found), len(truth)


def ingest_time(docs: Sequence[Any], state: Path, extra: str) -> tuple[float, float]:
    """Wall and CPU seconds of ingesting ``docs`` (one process, one thread: the CPU time is what another
    process on a shared machine does not inflate)."""
    p = pipeline(state, extra)
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(docs), BATCH):
        p.ingest(docs[i : i + BATCH])
    return time.perf_counter() - start, time.process_time() - cpu


def timed(module: Any, names: Sequence[str]) -> Callable[[], float]:
    """Wrap ``module``'s functions so the seconds spent in them add up; returns the reader of the sum."""
    spent = [0.0]
    for name in names:
        fn = getattr(module, name)

        def wrapper(*args: Any, _fn: Callable[..., Any] = fn, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return _fn(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - start

        setattr(module, name, wrapper)
    return lambda: spent[0]


def fill(p: Any, n: int, per_day: int, start: datetime, seed: int) -> datetime:
    """Store ``n`` archive articles with stories off (fast), ``per_day`` a day from ``start``; then backfill."""
    from daemon.prepare import prepare
    from daemon.store.articles import NewItem

    docs = documents(fillers(n, seed), f"fill{seed}")
    now = start
    for i in range(0, n, per_day):
        day = docs[i : i + per_day]
        for j in range(0, len(day), 2000):
            p.store.ingest([NewItem(prepare(d)) for d in day[j : j + 2000]], now=now)
        now += timedelta(days=1)
    return now


def archive(state: Path, stored: int, per_day: int) -> tuple[Any, datetime, float]:
    """A database holding ``stored`` archive articles with their stories (by the backfill, timed)."""
    p = pipeline(state, "[stories]\nenabled = false\n")
    now = fill(p, stored, per_day, datetime(2026, 1, 1, 8, tzinfo=p.config.tz), seed=stored)
    from dataclasses import replace

    from daemon.models import StorySettings

    start = time.perf_counter()
    p.store.backfill_stories(StorySettings())
    backfill = time.perf_counter() - start
    p.config = replace(p.config, stories=StorySettings())
    return p, now, backfill / stored


def assignment_costs(archives: Sequence[tuple[Any, datetime]], arrivals: Sequence[Article]) -> list[float]:
    """Seconds per arriving article spent assigning stories in each archive; batches alternate between
    them, so a machine slowing down for a minute weighs on all alike."""
    import daemon.store.articles as articles_module
    import daemon.store.stories as stories_module
    from daemon.prepare import prepare
    from daemon.store.articles import NewItem
    from daemon.stories.sketch import sketch

    names = ["decide_stories", "write_stories", "refresh_stories"]
    spent = timed(articles_module, names)
    totals = [0.0] * len(archives)
    docs = documents(arrivals, "arrive")
    for i in range(0, len(docs), BATCH):
        for k, (p, now) in enumerate(archives):
            items = []
            for d in docs[i : i + BATCH]:
                pr = prepare(replace_locator(d, k))
                items.append(NewItem(pr, (), (), sketch(pr.doc.title, pr.doc.body)))
            before = spent()
            p.store.ingest(items, now=now, stories=p.config.stories)
            totals[k] += spent() - before
    for name in names:  # unwrap
        setattr(articles_module, name, getattr(stories_module, name))
    return [t / len(docs) for t in totals]


def replace_locator(doc: Any, k: int) -> Any:
    from dataclasses import replace

    return replace(doc, locator=f"{doc.locator}@{k}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stories", type=int, default=450)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--big", type=int, default=200_000)
    ap.add_argument("--small", type=int, default=10_000)
    ap.add_argument("--skip-scale", action="store_true", help="only quality and ingest throughput")
    ap.add_argument("--only-scale", action="store_true", help="only the cost against the archive's size")
    args = ap.parse_args()
    articles = corpus(args.stories)
    sizes = Counter(a.story for a in articles)
    print(f"corpus: {len(articles)} articles in {len(sizes)} stories ({sum(1 for n in sizes.values() if n > 1)}"
          f" with copies, up to {max(sizes.values())} articles)")
    with tempfile.TemporaryDirectory() as tmp:
        if not args.only_scale:
            measure(articles, Path(tmp), args.repeat)
        if args.skip_scale:
            return
        scale(articles, Path(tmp), args.small, args.big)


def measure(articles: Sequence[Article], tmp: Path, repeat: int) -> None:
    if True:
        precision, recall, f1, found, truth = quality(articles, tmp / "quality")
        print(f"clustering: precision {precision:.4f}  recall {recall:.4f}  F1 {f1:.4f}  ({found} stories found,"
              f" {truth} true; targets precision >= 0.99, recall >= 0.95)")
        docs = documents(articles, "t")
        ratios, cpu_ratios, offs, ons = [], [], [], []
        for i in range(repeat):
            off, off_cpu = ingest_time(docs, tmp / f"off{i}", "[stories]\nenabled = false\n")
            on, on_cpu = ingest_time(docs, tmp / f"on{i}", "")
            ratios.append(on / off)
            cpu_ratios.append(on_cpu / off_cpu)
            offs.append(off_cpu)
            ons.append(on_cpu)
            print(f"run {i + 1}: stories off {len(docs) / off:7.0f} articles/s  on {len(docs) / on:7.0f} articles/s"
                  f"  cost {100 * (on / off - 1):+.1f} % (CPU time {100 * (on_cpu / off_cpu - 1):+.1f} %)")
        print(f"ingest cost of stories: {100 * (statistics.median(ratios) - 1):+.1f} % (median; target <= 20 %);"
              f" by CPU time {100 * (statistics.median(cpu_ratios) - 1):+.1f} % (median),"
              f" {100 * (min(ons) / min(offs) - 1):+.1f} % (fastest runs: {1e6 * min(offs) / len(docs):.0f}"
              f" and {1e6 * min(ons) / len(docs):.0f} µs an article)")


def scale(articles: Sequence[Article], tmp: Path, n_small: int, n_big: int) -> None:
    if True:
        arrivals = articles[:2000]
        small = archive(tmp / "small", n_small, 2000)
        backfill_small = small[2]
        big, big_now, backfill_big = archive(tmp / "big", n_big, 2000)
        burst, burst_now, _ = archive(tmp / "burst", n_big, n_big)
        costs = assignment_costs([(small[0], small[1]), (big, big_now), (burst, burst_now)], arrivals)
        print(f"assignment with {n_small:>7} stored: {costs[0] * 1e6:6.0f} µs/article")
        print(f"assignment with {n_big:>7} stored: {costs[1] * 1e6:6.0f} µs/article  ({costs[1] / costs[0]:.2f}×"
              " the cost; target <= 1.5)")
        print(f"  the same, all {n_big} first seen in one day: {costs[2] * 1e6:6.0f} µs/article"
              f" ({costs[2] / costs[0]:.2f}×)")
        print(f"backfill: {backfill_big * 100_000:.1f} s per 100,000 articles (measured on {n_big};"
              f" {backfill_small * 100_000:.1f} s on {n_small})")


if __name__ == "__main__":
    main()

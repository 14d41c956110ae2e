"""Feed passes against the `feed-to-sqlite` tool, measured in the same run on the same feeds.

    .venv/bin/python bench/bench_feeds.py [--feeds 1000] [--repeat 3] [--concurrency 16] [--in-process]
    .venv/bin/python bench/bench_feeds.py --crossover 5,10,20,40 [--repeat 3]

A separate server process (``feedgen``: Nagle off, everything in memory) serves N realistic Vietnamese
RSS feeds on 127.0.0.1: 50 items each with a CDATA description holding an image link, a lead and a list
of related links, about 60 KB a feed, and no ETag or Last-Modified (as many Vietnamese outlets). Then,
in this process, alternating, ``--repeat`` times:

* baseline: ``feed_to_sqlite.ingest_feed`` for the N URLs ONE AFTER ANOTHER through one shared httpx
  client into a fresh SQLite file, exactly what its CLI does (``feed-to-sqlite --table items DB URL...``);
* newswatch, on a fresh database with the N feeds configured (the default config: stories on, two
  rules), three passes of ``Pipeline.poll_feeds(force=True)``:
  1. the first pass: every item new (fetch, parse, HTML→text, normalization, hash, dedupe, matching,
     stories, FTS, sightings, per-feed state);
  2. the same bytes again with a 200 (no validators to send a 304): recognised by their hash, not parsed;
  3. one new item per feed (the server moves every feed one item on): each feed is parsed, one item stored.

Targets (issue 14): first pass ≥ 2.5× faster than the baseline; pass 2 ≤ 0.15 of pass 1; pass 3 ≤ 0.4
of pass 1. ``--in-process`` parses in the fetching threads instead of the worker processes (for an A/B);
``--crossover`` compares the two on first passes of a few feeds, workers started cold, to place
``daemon.pipeline.PARALLEL_MIN_FEEDS``.
All feeds share the server's host, so ``[fetch] per_host`` is set to the concurrency (a real list has
many outlets; the default per-host limit of 2 would measure politeness, not throughput).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import feedgen  # noqa: E402

import daemon.pipeline  # noqa: E402
from daemon.config import loads  # noqa: E402
from daemon.pipeline import Pipeline  # noqa: E402
from daemon.store import Store  # noqa: E402

RULES = ('[[rules]]\nname = "nq57"\nkeywords = ["Nghị quyết 57"]\n'
         '[[rules]]\nname = "ct34"\nkeywords = ["Chỉ thị 34", "dang bo"]\n')


def config_text(urls: list[str], state: Path, concurrency: int, stories: bool = True) -> str:
    feeds = "".join(f'[[feeds]]\nname = "nguon-{i:04d}"\nurl = "{u}"\ninterval = "15m"\n' for i, u in enumerate(urls))
    return (f'[storage]\npath = "{state / "news.db"}"\n[seeds]\npath = "{state / "seeds"}"\n'
            f'[fetch]\nconcurrency = {concurrency}\nper_host = {concurrency}\ntimeout = "30s"\n'
            f"[stories]\nenabled = {'true' if stories else 'false'}\n" + RULES + feeds)


def newswatch(urls: list[str], state: Path, concurrency: int, port: int,
              stories: bool) -> tuple[list[float], list[int], int, list[str]]:
    """(pass times, items stored per pass, feeds found unchanged in pass 2, errors)."""
    (state / "seeds").mkdir(parents=True)
    config = loads(config_text(urls, state, concurrency, stories), state / "config.toml")
    pipeline = Pipeline(config, Store(config.db_path, config.tz))
    times: list[float] = []
    stored: list[int] = []
    errors: list[str] = []
    unchanged = 0
    try:
        for n in range(3):
            if n == 2:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/control/advance").read()
            start = time.perf_counter()
            reports = pipeline.poll_feeds(force=True)
            times.append(time.perf_counter() - start)
            stored.append(sum(r.new for r in reports))
            errors += [f"{r.source} (pass {n + 1}): {e}" for r in reports for e in r.errors]
            if n == 1:
                unchanged = sum(r.unchanged for r in reports)
    finally:
        pipeline.close()
        pipeline.store.close()
    return times, stored, unchanged, errors


def baseline(urls: list[str], dbfile: Path) -> tuple[float, int]:
    import httpx
    from feed_to_sqlite import ingest_feed  # type: ignore[import-untyped]
    from sqlite_utils import Database

    start = time.perf_counter()
    # What `feed-to-sqlite --table items DB URL...` does: one client, the URLs in turn.
    with httpx.Client(headers={"user-agent": "feed-to-sqlite"}) as client:
        for url in urls:
            ingest_feed(str(dbfile), table_name="items", url=url, client=client)
    elapsed = time.perf_counter() - start
    return elapsed, Database(dbfile)["items"].count


def crossover(sizes: list[int], port: int, concurrency: int, repeat: int) -> None:
    """First passes of N feeds parsed in-process and in (freshly started) workers, alternating: where the
    workers' start-up stops costing more than they save (``daemon.pipeline.PARALLEL_MIN_FEEDS``)."""
    print("feeds   in-process   workers (started cold)   workers / in-process")
    default = daemon.pipeline.PARALLEL_MIN_FEEDS
    for n in sizes:
        urls = [f"http://127.0.0.1:{port}/feed/{i}.rss" for i in range(n)]
        times: dict[str, list[float]] = {"in-process": [], "workers": []}
        for _ in range(repeat):
            for mode, least in (("in-process", sys.maxsize), ("workers", 1)):
                daemon.pipeline.PARALLEL_MIN_FEEDS = least
                with tempfile.TemporaryDirectory() as tmp:
                    state = Path(tmp)
                    (state / "seeds").mkdir()
                    config = loads(config_text(urls, state, concurrency), state / "config.toml")
                    pipeline = Pipeline(config, Store(config.db_path, config.tz))
                    start = time.perf_counter()
                    pipeline.poll_feeds(force=True)
                    times[mode].append(time.perf_counter() - start)
                    pipeline.close()
                    pipeline.store.close()
        a, b = statistics.median(times["in-process"]), statistics.median(times["workers"])
        print(f"{n:5d}   {a:8.2f} s   {b:8.2f} s {'':12} {b / a:8.2f}", flush=True)
    daemon.pipeline.PARALLEL_MIN_FEEDS = default


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--in-process", action="store_true", help="parse in the fetching threads, not in workers")
    ap.add_argument("--no-stories", action="store_true", help="[stories] enabled = false")
    ap.add_argument("--crossover", help="only compare first passes of these numbers of feeds (5,10,20,40)"
                    " parsed in-process and in workers started cold")
    args = ap.parse_args()
    try:
        import feed_to_sqlite  # noqa: F401
    except ImportError:
        sys.exit("feed-to-sqlite is not installed: .venv/bin/pip install feed-to-sqlite (or `make bench`)")
    if args.in_process:
        daemon.pipeline.PARALLEL_MIN_FEEDS = sys.maxsize

    if args.crossover:
        sizes = [int(n) for n in args.crossover.split(",")]
        server, port, _ = feedgen.start_server(max(sizes))
        try:
            crossover(sizes, port, args.concurrency, args.repeat)
        finally:
            server.terminate()
        return
    server, port, total_bytes = feedgen.start_server(args.feeds)
    base_times: list[float] = []
    ours: list[list[float]] = []
    problems: list[str] = []
    try:
        urls = [f"http://127.0.0.1:{port}/feed/{i}.rss" for i in range(args.feeds)]
        total = args.feeds * feedgen.ITEMS
        for r in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                base, rows = baseline(urls, Path(tmp) / "baseline.db")
                times, stored, unchanged, errors = newswatch(urls, Path(tmp) / "state", args.concurrency, port,
                                                             not args.no_stories)
            base_times.append(base)
            ours.append(times)
            print(f"run {r + 1}: baseline {base:6.2f} s ({rows} rows); newswatch {times[0]:6.2f} s,"
                  f" unchanged {times[1]:5.2f} s, one new item {times[2]:5.2f} s", flush=True)
            if rows != total:
                problems.append(f"run {r + 1}: baseline stored {rows} of {total}")
            if errors or stored != [total, 0, args.feeds] or unchanged != args.feeds:
                problems.append(f"run {r + 1}: {len(errors)} feed errors ({errors[:3]}), stored per pass {stored},"
                                f" {unchanged} of {args.feeds} unchanged in pass 2")
    finally:
        server.terminate()
        server.join(10)

    base = statistics.median(base_times)
    first, same, one = (statistics.median(t[k] for t in ours) for k in range(3))
    speedup = statistics.median(b / t[0] for b, t in zip(base_times, ours, strict=True))
    same_ratio = statistics.median(t[1] / t[0] for t in ours)
    one_ratio = statistics.median(t[2] / t[0] for t in ours)
    spread = max(b / t[0] for b, t in zip(base_times, ours, strict=True)) - min(
        b / t[0] for b, t in zip(base_times, ours, strict=True))
    mode = "in-process parsing" if args.in_process else "workers"
    print(f"\nfeeds × items            {args.feeds} × {feedgen.ITEMS} = {total} items, {total_bytes / 1e6:.1f} MB"
          f" ({total_bytes / args.feeds / 1e3:.0f} KB a feed), medians of {args.repeat} alternating runs,"
          f" {mode}, stories {'off' if args.no_stories else 'on'}")
    print(f"baseline feed-to-sqlite  {base:7.2f} s  {total / base:7.0f} items/s (sequential)")
    print(f"newswatch first pass     {first:7.2f} s  {total / first:7.0f} items/s (concurrency {args.concurrency})")
    print(f"  same bytes again       {same:7.2f} s  (200, no validators: recognised by the body's hash)")
    print(f"  one new item per feed  {one:7.2f} s")
    print(f"first pass speed-up      {speedup:7.2f}×  target ≥ 2.5×: {verdict(speedup >= 2.5)}"
          f" (runs spread {spread:.2f})")
    print(f"unchanged / first pass   {same_ratio:7.3f}   target ≤ 0.15: {verdict(same_ratio <= 0.15)}")
    print(f"one new / first pass     {one_ratio:7.3f}   target ≤ 0.4: {verdict(one_ratio <= 0.4)}")
    if problems:
        print("INVALID RUN: " + "; ".join(problems))
        sys.exit(1)


if __name__ == "__main__":
    main()

"""A worker's CPU per feed item, without the network, the pool or SQLite: the lever of bench_feeds.py's first pass.

    .venv/bin/python bench/bench_feed_items.py [--feeds 40] [--repeat 7]

Builds ``--feeds`` of ``feedgen``'s feeds (50 items each) in memory and runs ``prepare_feed`` on each in
this process, as a worker does (the default config: stories on, bench_feeds.py's two rules). Prints the
fastest pass's time per item: the other passes lost time to whatever else the machine ran. For an A/B of
a change on a busy machine, count instructions instead (they do not move):
``valgrind --tool=callgrind --callgrind-out-file=/dev/null .venv/bin/python bench/bench_feed_items.py --repeat 1``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import feedgen  # noqa: E402
from bench_feeds import RULES  # noqa: E402

from daemon import prepare as _prepare  # noqa: E402
from daemon.config import loads  # noqa: E402
from daemon.match import Matcher  # noqa: E402
from daemon.prepare_feeds import prepare_feed  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        config = loads(f'[storage]\npath = "{state / "news.db"}"\n[seeds]\npath = "{state / "seeds"}"\n'
                       "[stories]\nenabled = true\n" + RULES, state / "config.toml")
    _prepare._worker = (config.tz, Matcher(config.rules), True)  # what _init_worker sets up
    feeds = feedgen.Feeds(args.feeds)
    fetched = feeds.stamp + 3 * 86_400  # every item's date is plausible
    tasks = [(f"nguon-{i:04d}", f"http://127.0.0.1/feed/{i}.rss", body, "application/rss+xml; charset=utf-8",
              fetched, ()) for i, body in enumerate(feeds.bodies)]
    items = args.feeds * feeds.items
    best = float("inf")
    for _ in range(args.repeat):
        start = time.perf_counter()
        results = [prepare_feed(task) for task in tasks]
        best = min(best, time.perf_counter() - start)
    errors = [r for r in results if isinstance(r, str)]
    if errors:
        sys.exit(f"feeds gave no items: {errors[:3]}")
    print(f"{items} items ({args.feeds} feeds): {best / items * 1e6:.1f} µs an item (fastest of {args.repeat})")


if __name__ == "__main__":
    main()

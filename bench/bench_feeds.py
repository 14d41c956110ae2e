"""Feed polling throughput against the `feed-to-sqlite` tool, measured in the same run on the same feeds.

    .venv/bin/python bench/bench_feeds.py [--feeds 1000] [--items 20] [--concurrency 16]

A separate server process (so it does not compete with the pollers for the GIL) serves N generated RSS
2.0 feeds of M items each on 127.0.0.1: Vietnamese titles and descriptions recombined from the
sentences of seeds/*.txt, distinct per feed, every response with ETag and Last-Modified, and a 304 for
a conditional GET that matches. Then, in this process:

* newswatch: ``Pipeline.poll_feeds(force=True)`` on a fresh database with the N feeds configured —
  bounded-concurrency fetch, parse, HTML→text, normalization, content hash, dedupe, matching of two
  rules, FTS, sightings, per-feed state — then a second pass, where every feed answers 304;
* baseline: ``feed_to_sqlite.ingest_feed`` for the same N URLs ONE AFTER ANOTHER through one shared
  httpx client into a fresh SQLite file, exactly what its CLI does (``feed-to-sqlite DB URL...``), with
  ``--table items`` so that every feed lands in one table; then its second pass (it has no
  conditional GET: everything is downloaded and upserted again).

All feeds share the server's host, so ``[fetch] per_host`` is set to the concurrency (a real list has
many outlets; the default per-host limit of 2 would measure politeness, not throughput).
Prints times, items/s and the ratio baseline time / newswatch time. Install the baseline with
``.venv/bin/pip install feed-to-sqlite`` (``make bench`` does).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import re
import sys
import tempfile
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from daemon.config import loads  # noqa: E402
from daemon.pipeline import Pipeline  # noqa: E402
from daemon.store import Store  # noqa: E402

RULES = ('[[rules]]\nname = "nq57"\nkeywords = ["Nghị quyết 57"]\n'
         '[[rules]]\nname = "ct34"\nkeywords = ["Chỉ thị 34", "dang bo"]\n')


# -- the feeds (generated in the server process) ---------------------------------------------------


def sentences() -> list[str]:
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt")))
    parts = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
    return [s for s in parts if 40 <= len(s) <= 400 and ":" not in s[:12]]


def make_feed(i: int, items: int, pool: list[str], stamp: float) -> bytes:
    rng = random.Random(i)
    entries = []
    for j in range(items):
        picked = rng.sample(pool, 4)
        title = f"{picked[0][:90].rsplit(' ', 1)[0]} (tin {i}-{j})"
        body = f"<p>{escape(' '.join(picked[1:3]))}</p><p>Bài {j} của nguồn {i}. {escape(picked[3])}</p>"
        pub = formatdate(stamp - 600 * j, localtime=False, usegmt=True)
        entries.append(
            f"<item><title>{escape(title)}</title><link>http://127.0.0.1/nguon-{i}/bai-{j}.htm</link>"
            f'<guid isPermaLink="false">nguon-{i}-bai-{j}</guid><pubDate>{pub}</pubDate>'
            f"<description>{escape(body)}</description></item>"
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Nguồn tin số {i}</title>'
        f"<link>http://127.0.0.1/nguon-{i}/</link><description>Tin tức tổng hợp</description>"
        f"<language>vi</language>{''.join(entries)}</channel></rss>"
    ).encode()


def serve(n: int, items: int, port_out: mp.Queue) -> None:  # type: ignore[type-arg]
    """Server process: every feed built once up front, then served (or 304'd) from memory."""
    stamp = time.time() - 3600
    pool = sentences()
    bodies = [make_feed(i, items, pool, stamp) for i in range(n)]
    last_modified = formatdate(stamp, usegmt=True)
    path_re = re.compile(r"^/feed/(\d+)\.rss$")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: both clients pool connections
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

        def do_GET(self) -> None:
            m = path_re.match(self.path)
            if not m or int(m.group(1)) >= n:
                self.send_error(404)
                return
            i = int(m.group(1))
            etag = f'"feed-{i}-v1"'
            if self.headers.get("If-None-Match") == etag or self.headers.get("If-Modified-Since") == last_modified:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = bodies[i]
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_modified)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 256
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    port_out.put((server.server_address[1], sum(len(b) for b in bodies)))
    server.serve_forever()


# -- the two contenders ---------------------------------------------------------------------------


def newswatch(urls: list[str], state: Path, concurrency: int) -> tuple[float, float, int, int, list[str]]:
    feeds = "".join(f'[[feeds]]\nname = "nguon-{i:04d}"\nurl = "{u}"\ninterval = "15m"\n' for i, u in enumerate(urls))
    config = loads(
        f'[storage]\npath = "{state / "news.db"}"\n[seeds]\npath = "{state / "seeds"}"\n'
        f'[fetch]\nconcurrency = {concurrency}\nper_host = {concurrency}\ntimeout = "30s"\n' + RULES + feeds,
        state / "config.toml",
    )
    pipeline = Pipeline(config, Store(config.db_path, config.tz))
    try:
        start = time.perf_counter()
        reports = pipeline.poll_feeds(force=True)
        first = time.perf_counter() - start
        errors = [f"{r.source}: {e}" for r in reports for e in r.errors]
        new = sum(r.new for r in reports)
        start = time.perf_counter()
        again = pipeline.poll_feeds(force=True)
        second = time.perf_counter() - start
        not_modified = sum(r.not_modified for r in again)
        errors += [f"{r.source} (second pass): {e}" for r in again for e in r.errors]
    finally:
        pipeline.close()
        pipeline.store.close()
    return first, second, new, not_modified, errors


def baseline(urls: list[str], dbfile: Path) -> tuple[float, float, int]:
    import httpx
    from feed_to_sqlite import ingest_feed  # type: ignore[import-untyped]
    from sqlite_utils import Database

    def one_pass() -> float:
        start = time.perf_counter()
        # What `feed-to-sqlite --table items DB URL...` does: one client, the URLs in turn.
        with httpx.Client(headers={"user-agent": "feed-to-sqlite"}) as client:
            for url in urls:
                ingest_feed(str(dbfile), table_name="items", url=url, client=client)
        return time.perf_counter() - start

    first = one_pass()
    second = one_pass()
    rows = Database(dbfile)["items"].count
    return first, second, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--items", type=int, default=20)
    ap.add_argument("--concurrency", type=int, default=16)
    args = ap.parse_args()
    try:
        import feed_to_sqlite  # noqa: F401
    except ImportError:
        sys.exit("feed-to-sqlite is not installed: .venv/bin/pip install feed-to-sqlite (or `make bench`)")

    ctx = mp.get_context("spawn")
    port_q: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    server = ctx.Process(target=serve, args=(args.feeds, args.items, port_q), daemon=True)
    server.start()
    try:
        port, total_bytes = port_q.get(timeout=120)
        urls = [f"http://127.0.0.1:{port}/feed/{i}.rss" for i in range(args.feeds)]
        total = args.feeds * args.items
        with tempfile.TemporaryDirectory() as tmp:
            state = Path(tmp) / "state"
            (state / "seeds").mkdir(parents=True)
            ours, ours_304, stored, n304, errors = newswatch(urls, state, args.concurrency)
            base, base_again, rows = baseline(urls, Path(tmp) / "baseline.db")
    finally:
        server.terminate()
        server.join(10)
    print(f"feeds × items               {args.feeds} × {args.items} = {total} items"
          f"  ({total_bytes / 1e6:.1f} MB of RSS, server in its own process)")
    print(f"baseline feed-to-sqlite     {base:7.2f} s  {total / base:9.0f} items/s  ({rows} rows, sequential)")
    print(f"baseline second pass        {base_again:7.2f} s  (no conditional GET: everything again)")
    print(f"newswatch poll_feeds        {ours:7.2f} s  {total / ours:9.0f} items/s  ({stored} articles,"
          f" concurrency {args.concurrency})")
    print(f"newswatch second pass (304) {ours_304:7.2f} s  ({n304} of {args.feeds} feeds not modified)")
    print(f"ratio baseline/newswatch    {base / ours:7.2f}   (> 1: newswatch is faster)")
    if errors or stored != total:
        print(f"INVALID RUN: {len(errors)} newswatch feed errors, {stored} of {total} items stored;"
              f" first: {errors[:3]}")
        sys.exit(1)


if __name__ == "__main__":
    main()

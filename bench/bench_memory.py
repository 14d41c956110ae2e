"""A service that runs for months: resident memory over feed passes, and CPU while idle.

    .venv/bin/python bench/bench_memory.py [--feeds 1000] [--passes 10] [--interval 20s] [--idle 30]

Runs the real service (``python -m daemon run``) against N realistic feeds (``feedgen``: 50 items, ~68 KB
each, no validators) served by a separate process on 127.0.0.1, every feed polled every ``--interval``.
Before each pass after the first, the server moves every feed one item on (one new item per feed per
pass, as a day of news does); a pass ends when every feed has been polled since it began. After each
pass it reads from /proc the service's resident memory (VmRSS), that of its worker processes, and the
CPU time used.

Then the idle service: restarted with the feeds' interval set to 6 h (so nothing is due), left until
its worker processes have stopped (``daemon.prepare.IDLE_SECONDS``), and its CPU time measured over
``--idle`` seconds: what remains is the scheduler's own wake-ups (the main loop's one-second tick, the
seed scan, delivery and checkpoint jobs).

Targets (issue 14 item 5): resident memory after 5 passes ≤ 250 MB, not growing from pass to pass (the
growth per pass over the last passes is printed); no CPU used while idle beyond the scheduler's wake-ups.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import feedgen  # noqa: E402

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
IDLE_WORKERS = 60.0 + 5  # daemon.prepare.IDLE_SECONDS, and a margin


def rss_mb(pid: int) -> float:
    """Resident memory of one process, MB (statm: pages)."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 1e6
    except (FileNotFoundError, ProcessLookupError):
        return 0.0


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    except FileNotFoundError:
        pass
    return found


def write_config(folder: Path, urls: list[str], interval: str) -> Path:
    feeds = "".join(f'[[feeds]]\nname = "nguon-{i:04d}"\nurl = "{u}"\ninterval = "{interval}"\n'
                    for i, u in enumerate(urls))
    path = folder / "config.toml"
    path.write_text(
        f'[storage]\npath = "{folder / "news.db"}"\n[seeds]\npath = "{folder / "seeds"}"\n'
        '[service]\nwatch_config = false\n[fetch]\nconcurrency = 16\nper_host = 16\ntimeout = "30s"\n'
        '[[rules]]\nname = "nq57"\nkeywords = ["Nghị quyết 57"]\n' + feeds, encoding="utf-8")
    return path


def start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    return subprocess.Popen([sys.executable, "-m", "daemon", "--config", str(config), "run"], cwd=ROOT,
                            stdout=out, stderr=out, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def polled_since(db: Path, since: str) -> int:
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            return int(conn.execute("SELECT count(*) FROM feeds WHERE last_fetch_at >= ?", (since,)).fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def mark() -> str:
    """The stored time format (seconds, local offset) of the next second, once it has begun: every poll
    recorded with it or later came after this call (and none before it does)."""
    second = int(time.time()) + 1
    time.sleep(max(0.0, second - time.time()))
    return datetime.fromtimestamp(second, TZ).isoformat()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--passes", type=int, default=10)
    ap.add_argument("--interval", default="20s")
    ap.add_argument("--idle", type=float, default=30.0)
    args = ap.parse_args()
    server, port, total = feedgen.start_server(args.feeds)
    urls = [f"http://127.0.0.1:{port}/feed/{i}.rss" for i in range(args.feeds)]
    rows: list[tuple[int, float, float, float, float, int]] = []
    proc: subprocess.Popen[bytes] | None = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            (folder / "seeds").mkdir()
            config = write_config(folder, urls, args.interval)
            log = folder / "service.log"
            since = mark()
            proc = start(config, log)
            print(f"{args.feeds} feeds × {feedgen.ITEMS} items ({total / 1e6:.1f} MB a pass), polled every"
                  f" {args.interval} by the service (pid {proc.pid})", flush=True)
            print("pass   took    service RSS   workers RSS   service CPU   new articles", flush=True)
            articles = 0
            began = time.monotonic()
            for n in range(1, args.passes + 1):
                if n > 1:
                    since, began = mark(), time.monotonic()
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/control/advance").read()
                while polled_since(folder / "news.db", since) < args.feeds:
                    if proc.poll() is not None:
                        sys.exit(f"the service exited ({proc.returncode}); see {log}:\n{log.read_text()[-3000:]}")
                    time.sleep(0.5)
                took = time.monotonic() - began
                with sqlite3.connect(folder / "news.db", timeout=30) as conn:
                    now_articles = int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
                workers = children(proc.pid)
                rows.append((n, took, rss_mb(proc.pid), sum(rss_mb(w) for w in workers), cpu_seconds(proc.pid),
                             now_articles - articles))
                articles = now_articles
                r = rows[-1]
                print(f"{n:4d} {r[1]:6.1f} s {r[2]:9.1f} MB {r[3]:9.1f} MB ({len(workers)}) {r[4]:9.1f} s"
                      f" {r[5]:10d}", flush=True)
            proc.terminate()
            proc.wait(30)

            # the idle service: nothing due for 6 hours
            write_config(folder, urls, "6h")
            since = mark()
            proc = start(config, log)
            while polled_since(folder / "news.db", since) < args.feeds:  # the polls that were due at the restart
                time.sleep(0.5)
            time.sleep(IDLE_WORKERS)
            left = children(proc.pid)
            before, t0 = cpu_seconds(proc.pid) + sum(cpu_seconds(c) for c in left), time.monotonic()
            time.sleep(args.idle)
            used = cpu_seconds(proc.pid) + sum(cpu_seconds(c) for c in children(proc.pid)) - before
            span = time.monotonic() - t0
            idle_rss = rss_mb(proc.pid)
            proc.terminate()
            proc.wait(30)
            proc = None
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        server.terminate()
        server.join(10)

    at5 = rows[min(5, len(rows)) - 1]
    tail = rows[2:] if len(rows) > 3 else rows
    growth = [(b[2] - a[2]) for a, b in itertools.pairwise(tail)]
    per_pass = statistics.median(growth) if growth else 0.0
    slope = (tail[-1][2] - tail[0][2]) / max(1, len(tail) - 1)
    print(f"\nservice RSS after pass {at5[0]}    {at5[2]:7.1f} MB (+ {at5[3]:.1f} MB in worker processes)"
          f"  target ≤ 250 MB: {'met' if at5[2] <= 250 else 'NOT MET'}")
    print(f"growth per pass, passes {tail[0][0]}–{tail[-1][0]}  {slope:+7.2f} MB (median step {per_pass:+.2f} MB,"
          f" steps {', '.join(f'{g:+.1f}' for g in growth)})")
    print(f"idle: {used:.2f} s of CPU in {span:.0f} s ({100 * used / span:.2f} % of one core), {len(left)} worker"
          f" processes left after {IDLE_WORKERS:.0f} s idle, RSS {idle_rss:.1f} MB")


if __name__ == "__main__":
    main()

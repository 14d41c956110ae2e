"""A year of a province's press: a 1,000,000-article archive, and whether the commands stay fast on it.

    .venv/bin/python bench/bench_archive.py [--articles 1000000] [--rebuild] [--repeat 10]

**The archive** is built once through the project's own bulk path and cached under
``/work/benchdata/archive/<N>/`` (reused when present; ``--rebuild`` starts again; an interrupted build
resumes where it stopped). Its articles are ``storygen``'s party-press reports (four topics written from
shared formulas, other provinces, names, dates and figures each time), 65 % alone and the rest with one to
nine copies by other outlets, as seed files with a header (title, url, date, outlet, category). They are
written 20,000 at a time into the seed folder and imported by ``Pipeline.scan_seeds`` (the worker
processes parse, prepare, match and sketch; the main process stores, with stories on), then removed, as
an office moving its exports through the folder would.

The archive must span a year, 2,700 articles a day, because story look-ups read a window of days and the
commands ask ``--since 1d`` or ``30d``; an import stamps ``ingested_at`` with the store's clock, which
would say "now" for all of them. So the store is given a clock (``Store(..., clock=...)``) that starts a
year ago and moves on by 32 s (86,400 / 2,700) for every file stored: each batch of 500 is stamped with
the time its first file would have arrived, and the next batch is 4.4 hours later. The published date in
each file's header is 5 to 12 hours before its arrival. Nothing else is simulated.

**The measurements**, each a real ``newswatch`` process (``python -m daemon``, the console script's code)
on the archive, p50 and p95 over ``--repeat`` runs, printed with the issue's target:

* ``search`` for 20 varied queries (with and without diacritics, phrases, rare and common words, OR, NOT):
  p95 ≤ 150 ms over all queries' runs;
* ``status`` ≤ 300 ms; ``stories --since 1d`` ≤ 300 ms; ``match nq57 --since 30d`` ≤ 2 s;
* ``brief`` for a day ≤ 3 s, when that command exists (another change adds it: see ``brief_command``);
* ingest of 1,000 new articles (``Pipeline.scan_seeds`` of 1,000 new files, as a pass of the service
  stores them) into a copy of the full archive versus into an empty database, alternating: ≤ 1.3×.

The ``--since`` windows are counted back from the archive's last article, not from the wall clock: the
cached archive may be days old when the benchmark runs, and "the last day" must hold a day of articles.

The daemon is imported inside the functions, not at the top: worker processes are spawned, and a
spawned worker imports the main module again (as in bench_ingest.py).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DATA = Path("/work/benchdata/archive")
PER_DAY = 2700
STEP = 86400 / PER_DAY  # simulated seconds between two arrivals
CHUNK = 20_000  # files in the seed folder at once
OUTLET_NAMES = {"ttxvn": "TTXVN", "vov": "VOV", "chinhphu": "Cổng TTĐT Chính phủ", "dangcongsan": "Báo Điện tử ĐCSVN",
                "nhandan": "Báo Nhân Dân", "tuoitre": "Báo Tuổi Trẻ", "thanhnien": "Báo Thanh Niên",
                "vietnamplus": "VietnamPlus", "dantri": "Báo Dân trí", "laodong": "Báo Lao Động",
                "qdnd": "Báo Quân đội nhân dân", "baotintuc": "Báo Tin tức"}
TOPIC_NAMES = {"nq57": "Khoa học - Công nghệ", "vanphong": "Xây dựng Đảng", "kiemtra": "Kiểm tra - Giám sát",
               "daihoi": "Đại hội Đảng"}
RULES = ('[[rules]]\nname = "nq57"\nkeywords = ["Nghị quyết 57"]\n'
         '[[rules]]\nname = "ct34"\nkeywords = ["Chỉ thị 34"]\n'
         '[[rules]]\nname = "vp"\nkeywords = ["Văn phòng Tỉnh ủy"]\n'
         '[[rules]]\nname = "kyluat"\nkeywords = ["thi hành kỷ luật", "khiển trách"]\n'
         '[[webhooks]]\nname = "office"\nurl = "http://127.0.0.1:9/"\n')


# -- the archive ---------------------------------------------------------------------------------------

@dataclass
class BuildInfo:
    articles: int
    files: int
    seconds: float  # in scan_seeds (the import), generation of the files excluded
    generate_seconds: float
    start: str  # the simulated clock's first and last stamp
    end: str
    db_bytes: int = 0
    fts_bytes: int = 0
    text_bytes: int = 0  # UTF-8 bytes of the stored titles and bodies
    done: bool = False


class ArchiveClock:
    """The store's clock and the pipeline's metrics at once: each stored file moves the time on by STEP."""

    def __init__(self, start: datetime) -> None:
        self.t = start

    def __call__(self) -> datetime:
        return self.t

    def record_ingest(self, source: str, *, new: int = 0, duplicates: int = 0) -> None:
        self.t += timedelta(seconds=(new + duplicates) * STEP)

    def record_fetch(self, feed: str, *, ok: bool, not_modified: bool = False, unchanged: bool = False) -> None:
        pass

    def record_delivery(self, webhook: str, *, ok: bool, latency: float | None = None) -> None:
        pass


def config_text(base: Path, seeds: Path) -> str:
    return (f'[storage]\npath = "{base / "state" / "news.db"}"\n[seeds]\npath = "{seeds}"\nwatch = false\n'
            f"{RULES}")


def write_config(base: Path, seeds: Path) -> Path:
    path = base / "config.toml"
    path.write_text(config_text(base, seeds), encoding="utf-8")
    return path


def chunk_articles(chunk: int) -> list[Any]:
    """CHUNK articles, the same for the same chunk number: reports and their copies, shuffled within a day."""
    from storygen import OUTLETS, copy, event, lead_only, original

    rng = random.Random(1_000_003 * chunk + 17)
    out: list[Any] = []
    story = chunk * CHUNK
    while len(out) < CHUNK:
        e = event(rng, story)
        story += 1
        r = rng.random()
        n = 0 if r < 0.65 else 1 if r < 0.85 else rng.randint(2, 3) if r < 0.95 else rng.randint(4, 9)
        outlets = rng.sample(OUTLETS, n + 1)
        out.append((e.topic, original(e, outlets[0])))
        for outlet in outlets[1:]:
            if rng.random() < 0.12:
                out.append((e.topic, lead_only(e, outlet)))
            else:
                out.append((e.topic, copy(e, outlet, rng.choice(["light", "medium", "heavy"]), rng)))
    out = out[:CHUNK]
    for i in range(0, CHUNK, PER_DAY):  # copies arrive within the day of their report
        day = out[i : i + PER_DAY]
        rng.shuffle(day)
        out[i : i + PER_DAY] = day
    return out


def write_files(folder: Path, articles: Sequence[Any], first: int, start: datetime, rng: random.Random) -> None:
    """One seed file per article; article ``first + k`` arrives at ``start + (first + k) × STEP``."""
    folder.mkdir(parents=True, exist_ok=True)
    for k, (topic, a) in enumerate(articles):
        i = first + k
        arrives = start + timedelta(seconds=i * STEP)
        published = arrives - timedelta(seconds=rng.randint(5 * 3600, 12 * 3600))
        text = (f"title: {a.title}\nurl: https://{a.source}.vn/bai-viet/{a.story}-{i}.html\n"
                f"date: {published:%Y-%m-%d %H:%M}\nsource: {OUTLET_NAMES[a.source]}\n"
                f"category: {TOPIC_NAMES[topic]}\n\n{a.body}\n")
        path = folder / f"a{i:07d}.txt"
        path.write_text(text, encoding="utf-8")
        # never in the future: the archive's simulated clock runs past the wall clock a year after it was
        # built, and a file modified "later than now" is held back as still being written
        stamp = min(published.timestamp(), time.time() - 10)
        os.utime(path, (stamp, stamp))


def _save(info: BuildInfo, base: Path) -> None:
    (base / "build.json").write_text(json.dumps(asdict(info), indent=1), encoding="utf-8")


def _load(base: Path) -> BuildInfo | None:
    try:
        return BuildInfo(**json.loads((base / "build.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def build(n: int, base: Path, *, rebuild: bool, partial: bool = False) -> BuildInfo:
    """The archive of ``n`` articles under ``base`` (built, resumed or reused; ``partial``: as far as built)."""
    from daemon.config import load
    from daemon.pipeline import Pipeline
    from daemon.store import Store

    if rebuild and base.exists():
        shutil.rmtree(base)
    info = _load(base)
    if info is not None and info.done:
        return info
    if info is not None and partial:
        if not info.db_bytes:
            conn = sqlite3.connect(base / "state" / "news.db")  # not a Store: that would migrate it
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # as at the build's end
            # the interrupted chunk's batches are stored, but not counted in build.json
            info.articles, info.end = conn.execute("SELECT count(*), max(ingested_at) FROM articles").fetchone()
            conn.close()
            info.db_bytes, info.fts_bytes, info.text_bytes = _sizes(base / "state" / "news.db")
            _save(info, base)
        return info
    base.mkdir(parents=True, exist_ok=True)
    seeds = base / "seeds"
    seeds.mkdir(exist_ok=True)
    config = load(write_config(base, seeds))
    if info is None:
        start = datetime.now(config.tz).replace(microsecond=0) - timedelta(seconds=n * STEP)
        info = BuildInfo(0, 0, 0.0, 0.0, start.isoformat(), start.isoformat())
    start = datetime.fromisoformat(info.start)
    clock = ArchiveClock(start + timedelta(seconds=info.files * STEP))
    store = Store(config.db_path, config.tz, clock=clock)
    pipeline = Pipeline(config, store, metrics=clock)
    rng = random.Random(info.files)
    while info.files < n:
        chunk = info.files // CHUNK
        t0 = time.perf_counter()
        todo = chunk_articles(chunk)[info.files - chunk * CHUNK : n - chunk * CHUNK]
        write_files(seeds / f"c{chunk:03d}", todo, info.files, start, rng)
        t1 = time.perf_counter()
        report = pipeline.scan_seeds()
        t2 = time.perf_counter()
        assert not report.errors, report.errors[:5]
        _deliver_all(store, clock())
        shutil.rmtree(seeds / f"c{chunk:03d}")  # the next pass marks them deleted in the ledger
        info.files += len(todo)
        info.seconds += t2 - t1
        info.generate_seconds += t1 - t0
        info.end = clock().isoformat()
        info.articles = _count(store)
        _save(info, base)
        print(f"  {info.files:>8} files, {info.articles:>8} articles; this chunk: {report.new} new,"
              f" {report.duplicates} duplicate in {t2 - t1:6.1f} s ({len(todo) / (t2 - t1):5.0f}/s);"
              f" clock {info.end}", flush=True)
    pipeline.scan_seeds()  # the last chunk's files marked deleted, as the service's next pass would
    store.checkpoint()
    info.db_bytes, info.fts_bytes, info.text_bytes = _sizes(config.db_path)
    info.done = True
    _save(info, base)
    store.close()
    return info


def _deliver_all(store: Any, at: datetime) -> None:
    """What the service's delivery job would have done meanwhile: every queued alert delivered."""
    with store.read() as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM alerts WHERE status = 'pending'")]
    for i in range(0, len(ids), 500):
        store.mark_delivered(ids[i : i + 500], at)


def _count(store: Any) -> int:
    with store.read() as conn:
        return int(conn.execute("SELECT max(id) FROM articles").fetchone()[0] or 0)


def _sizes(db: Path) -> tuple[int, int, int]:
    """(bytes of the file, of the FTS index's tables, of the stored titles and bodies as UTF-8)."""
    conn = sqlite3.connect(db)
    try:
        fts = conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'articles_fts%'").fetchone()[0] or 0
        text = conn.execute("SELECT sum(length(CAST(title AS BLOB)) + length(CAST(body AS BLOB)))"
                            " FROM articles").fetchone()[0] or 0
    finally:
        conn.close()
    return db.stat().st_size, int(fts), int(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--articles", type=int, default=1_000_000)
    ap.add_argument("--rebuild", action="store_true", help="build the archive again even if it is cached")
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument("--repeat", type=int, default=5, help="runs of each command (p50 and p95 over them)")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--cli-root", type=Path, default=ROOT,
                    help="run the commands of the daemon package in this folder (an older version, for 'before')")
    ap.add_argument("--no-ingest", action="store_true", help="skip the 1,000-article ingest comparison")
    ap.add_argument("--partial", action="store_true", help="measure an interrupted build as far as it got")
    ap.add_argument("--scratch", type=Path, help="write the measurements' config and brief here, not into the"
                    " archive's folder (with --no-ingest, nothing is written into the archive's folder but"
                    " SQLite's -wal and -shm files)")
    args = ap.parse_args()
    # The commands run as installed: with their bytecode cached (pip compiles it; this environment may
    # forbid writing it, which would make every process compile the daemon again), kept out of the tree.
    CLI["root"] = args.cli_root
    CLI["env"] = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    CLI["env"]["PYTHONPYCACHEPREFIX"] = str((args.scratch or args.data) / "pycache")
    base = args.data / str(args.articles)
    t0 = time.perf_counter()
    info = build(args.articles, base, rebuild=args.rebuild, partial=args.partial)
    print(f"archive {base}: {info.articles} articles from {info.files} files, {info.start} to {info.end}"
          f" (this run {time.perf_counter() - t0:.0f} s)")
    print(f"  build: import {info.seconds:.0f} s ({info.files / info.seconds:.0f} files/s),"
          f" generating the files {info.generate_seconds:.0f} s more")
    print(f"  on disk {info.db_bytes / 1e9:.2f} GB: {info.db_bytes / info.articles:.0f} bytes an article"
          f" (FTS {info.fts_bytes / info.articles:.0f}; the text itself {info.text_bytes / info.articles:.0f})")
    if args.build_only:
        return
    measure(base, info, args.repeat, ingest=not args.no_ingest, scratch=args.scratch or base)


# -- the measurements ---------------------------------------------------------------------------------

QUERIES = [  # common words (most articles), rarer ones (a commune, a name), one figure, one absent word
    "Đảng bộ", "dang bo", '"Đảng bộ phường"', "Nghị quyết 57", "nghi quyet 57", "57-NQ/TW", "chuyển đổi số",
    "chuyen doi so", "Đà Nẵng", "da nang", "khiển trách", '"van phong tinh uy"', "Khánh Hoà", "Thủy Xuân",
    "Đặng Hồng Yến", "thi hành kỷ luật OR giám sát", "Tỉnh ủy -khiển", '"796.726 tỷ đồng"', "chuyển*", "bóng đá",
]
# `match` is timed for the archive's commonest rule (a topic in a quarter of the articles: storygen writes
# four) and for one as selective as an office's rules usually are (a commune: about 3 % of the articles).
MATCH_RULES = {"nq57": "a quarter of the articles", "xa": "about 3 %"}
EXTRA_RULES = '[[rules]]\nname = "xa"\nkeywords = ["Thủy Xuân"]\n'
# HOOK: `newswatch brief` (issue 13, being added by another change). Run when the command exists, for the
# archive's last complete day: `brief --date YYYY-MM-DD --period day` as issue 13 specifies it; adjust
# `brief_command` if the command's final form differs.
BRIEF_TARGET = 3.0


def brief_command(day: str, out: Path) -> list[str] | None:
    """The `brief` command line for ``day``, or None while this newswatch has no such command."""
    done = subprocess.run([sys.executable, "-m", "daemon", "brief", "--help"], capture_output=True, text=True,
                          cwd=CLI["root"], env=CLI["env"], check=False)
    if done.returncode != 0:
        return None
    argv = ["brief", "--date", day]
    argv += ["--period", "day"] if "--period" in done.stdout else []
    argv += ["--out", str(out)] if "--out" in done.stdout else []
    return argv


def percentiles(times: Sequence[float]) -> tuple[float, float]:
    """(p50, p95) in seconds; p95 by nearest rank, so of 10 runs it is the slowest."""
    ordered = sorted(times)
    return statistics.median(ordered), ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


CLI = {"root": ROOT, "env": dict(os.environ)}  # where `python -m daemon` imports the daemon from (--cli-root)


CPU: list[float] = []  # the CPU seconds (user + system) of each run_cli since the last report


def run_cli(config: Path, argv: Sequence[str]) -> float:
    """Seconds a real `newswatch` process takes, start to exit (output read and thrown away); its CPU
    seconds go to ``CPU``: on a machine others load, they move less than the wall clock does."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "daemon", "--config", str(config), *argv], capture_output=True,
                          cwd=CLI["root"], env=CLI["env"], check=False)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"newswatch {' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return took


def cpu_p50() -> float:
    """The median CPU seconds of the runs since the last call (and forget them)."""
    median = statistics.median(CPU) if CPU else math.nan
    CPU.clear()
    return median


IN_PROCESS = """
import json, statistics, sys, time
from daemon.config import load
from daemon.store import Store
queries, repeat = json.loads(sys.argv[2]), int(sys.argv[3])
config = load(sys.argv[1])
store = Store(config.db_path, config.tz)
times = []
for _ in range(repeat):
    for q in queries:
        start = time.perf_counter()
        store.search(q)
        times.append(time.perf_counter() - start)
print(json.dumps(times))
"""


def search_in_process(root: Path, config: Path, repeat: int) -> tuple[float, float] | None:
    """p50 and p95 of the search itself, without a process start: the part that grows with the archive."""
    done = subprocess.run([sys.executable, "-c", IN_PROCESS, str(config), json.dumps(QUERIES), str(repeat)],
                          capture_output=True, text=True, cwd=root, env=CLI["env"], check=False)
    return percentiles(json.loads(done.stdout)) if done.returncode == 0 else None


def report(label: str, times: Sequence[float], target: float) -> None:
    p50, p95 = percentiles(times)
    verdict = "met" if p95 <= target else "NOT MET"
    print(f"  {label:<34} p50 {p50 * 1000:7.0f} ms  p95 {p95 * 1000:7.0f} ms   target p95 <= {target * 1000:.0f} ms:"
          f" {verdict}  ({len(times)} runs; CPU p50 {cpu_p50() * 1000:.0f} ms)", flush=True)


def measure(base: Path, info: BuildInfo, repeat: int, *, ingest: bool = True, scratch: Path) -> None:
    scratch.mkdir(parents=True, exist_ok=True)
    config = scratch / "config.toml"
    config.write_text(config_text(base, base / "seeds") + EXTRA_RULES, encoding="utf-8")
    end = datetime.fromisoformat(info.end)
    lag = max(0.0, (datetime.now(end.tzinfo) - end).total_seconds())
    day, month = f"{lag + 86400:.0f}s", f"{lag + 30 * 86400:.0f}s"  # the archive's last day, its last 30 days
    print(f"commands as real processes on {info.articles} articles ('--since 1d' = the archive's last day:"
          f" --since {day}):", flush=True)
    run_cli(config, ["status"])  # the first open after the build: page cache warm, as on a running service
    CPU.clear()
    searches: list[float] = []
    slowest: dict[str, float] = {}
    for _ in range(repeat):
        for q in QUERIES:
            t = run_cli(config, ["search", q])
            searches.append(t)
            slowest[q] = max(slowest.get(q, 0.0), t)
    report("search, 20 queries", searches, 0.150)
    worst = sorted(slowest.items(), key=lambda kv: -kv[1])[:3]
    print("    slowest queries: " + ", ".join(f"{q!r} {t * 1000:.0f} ms" for q, t in worst))
    inside = search_in_process(CLI["root"], config, repeat)
    if inside:
        print(f"    the query alone, in one process (Store.search, snippets included): p50 {inside[0] * 1000:.1f} ms,"
              f" p95 {inside[1] * 1000:.1f} ms")
    report("status", [run_cli(config, ["status"]) for _ in range(repeat)], 0.300)
    report("stories --since 1d", [run_cli(config, ["stories", "--since", day]) for _ in range(repeat)], 0.300)
    for rule, share in MATCH_RULES.items():
        report(f"match {rule} --since 30d", [run_cli(config, ["match", rule, "--since", month])
                                            for _ in range(max(2, repeat // 2))], 2.0)
        print(f"    ({rule} matches {share})")
    last_day = (end - timedelta(days=1)).date().isoformat()
    brief = brief_command(last_day, scratch / "brief.md")
    if brief is None:
        print("  brief (a day)                      not measured: this newswatch has no `brief` command yet"
              f" (target <= {BRIEF_TARGET:.0f} s)")
    else:
        report("brief (a day)", [run_cli(config, brief) for _ in range(max(3, repeat // 2))], BRIEF_TARGET)
    version = percentiles([run_cli(config, ["--version"]) for _ in range(repeat)])[0]
    print(f"  (noise: a baseline command, `newswatch --version`: p50 {version * 1000:.0f} ms, CPU"
          f" {cpu_p50() * 1000:.0f} ms; load average {os.getloadavg()[0]:.1f})")
    if ingest:
        ingest_ratio(base, info, repeat=3)


def ingest_ratio(base: Path, info: BuildInfo, *, repeat: int) -> None:
    """1,000 new articles stored into a copy of the full archive and into an empty database, alternating."""
    from daemon.config import load
    from daemon.pipeline import Pipeline
    from daemon.store import Store

    with tempfile.TemporaryDirectory(dir=base.parent) as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        (work / "full" / "state").mkdir(parents=True)
        shutil.copyfile(base / "state" / "news.db", work / "full" / "state" / "news.db")
        print(f"ingest of 1,000 new articles (archive copied in {time.perf_counter() - t0:.0f} s):", flush=True)
        start = datetime.fromisoformat(info.start)
        full: list[float] = []
        empty: list[float] = []
        warm: dict[str, list[float]] = {"empty": [], "full": []}
        for r in range(repeat):
            first = info.files + r * 1000  # the articles that would have come next
            chunk = first // CHUNK
            todo = chunk_articles(chunk)[first - chunk * CHUNK : first - chunk * CHUNK + 1000]
            for kind, times in (("empty", empty), ("full", full)):
                where = work / (f"empty{r}" if kind == "empty" else "full")
                seeds = where / "seeds"  # the full archive's folder keeps the earlier runs' files, as a service's would
                write_files(seeds, todo, first, start, random.Random(first))
                config = load(write_config(where, seeds))
                clock = ArchiveClock(start + timedelta(seconds=first * STEP))
                pipeline = Pipeline(config, Store(config.db_path, config.tz, clock=clock), metrics=clock)
                # A service builds its window of recent articles once, at start (``run_forever``), not in a
                # pass: built here first, and timed on its own.
                t = time.perf_counter()
                pipeline.store.warm_stories(config.stories)
                warm[kind].append(time.perf_counter() - t)
                t = time.perf_counter()
                done = pipeline.scan_seeds()
                times.append(time.perf_counter() - t)
                pipeline.store.close()
                assert done.new + done.duplicates == 1000, done
            print(f"  run {r + 1}: empty {empty[-1]:5.2f} s, full {full[-1]:5.2f} s,"
                  f" ratio {full[-1] / empty[-1]:4.2f}; the stories window built at start first:"
                  f" {warm['empty'][-1]:.2f} s and {warm['full'][-1]:.2f} s", flush=True)
        ratios = [f / e for f, e in zip(full, empty, strict=True)]
        print(f"  median: empty {statistics.median(empty):.2f} s, full archive {statistics.median(full):.2f} s;"
              f" ratio {statistics.median(ratios):.2f} (target <= 1.3: "
              f"{'met' if statistics.median(ratios) <= 1.3 else 'NOT MET'}; runs "
              + ", ".join(f"{x:.2f}" for x in ratios) + ")")


if __name__ == "__main__":
    main()

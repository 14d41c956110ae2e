"""A dropped file's pickup with 5, 20,000 and 200,000 files already in the seed folder (issue 16, issue 14
item 4), measured in one run.

    .venv/bin/python bench/bench_pickup.py [--rounds 7] [--sizes 5,20000,200000] [--data DIR]
        [--rescan-data DIR] [--only pickup|rescan]

For each size, a folder of that many distinct party-press articles (``storygen.fillers``, as seed files
with a header) and a database that has ingested them (through ``newswatch run --once``, the real bulk
path, stories on) are made once under ``--data`` (default /work/benchdata/pickup) and reused. Then:

* one real ``python -m daemon run`` per size, all started together, each with a webhook to one receiver
  (a separate process, Nagle off) that notes when each POST arrives;
* rounds, the sizes in a rotating order: a file renamed into the folder (written under a hidden name,
  then ``os.rename``), then a file copied in (``shutil.copyfile``); each waits for its POST. Latency is
  from the rename (the start of the copy) to the POST's arrival; CPU is the daemon's own (every thread,
  from ``/proc/PID/task/*/schedstat``) from the drop until its alert is sent, plus 0.3 s for the job to
  record itself;
* once the daemons are stopped, the whole-folder scans of 200,000 unchanged files, in this process
  (``Pipeline.scan_seeds``: the ledger read, the scan and the compare), in two layouts: the flat folder,
  and the same files spread over date folders (``YYYY/MM/DD``, 550 a day: 364 days, hard links, under
  ``--rescan-data``, default /work/benchdata/rescan, with a copy of the database whose ledger names them
  so). Alternating, each round: the hourly safety net (``rescan``: unchanged folders not listed; target
  ≤ 0.5 s), the same after one folder changed (a hidden file made and removed in the last day's folder,
  or in the flat folder: then every file is ``stat``ed again), the scan of every file (the start's and the
  daily ``full_rescan_interval`` one; no target), a bare ``scandir`` + ``lstat`` of the flat folder (the
  floor of any scan that ``stat``s every file) and the ledger reads (all rows; one day's rows).

Prints medians, their ratios to the 5-file folder (targets: ≤ 1.2 for latency and CPU at 200,000), the
safety net's scans (target ≤ 0.5 s), and the rename and copy latencies (targets: median ≤ 0.3 s and ≤ 1.5 s).
``--only rescan`` measures the scans alone.
The daemon is imported inside functions only (see bench_ingest.py for why).
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
DATA = Path("/work/benchdata/pickup")
RESCAN_DATA = Path("/work/benchdata/rescan")
PER_DAY = 550  # files in each date folder of the second layout
KEYWORD = "Nghị quyết 57"


# -- the data, made once ---------------------------------------------------------------------------------
def folder_of(data: Path, size: int) -> Path:
    """The folder of ``size`` files: the largest is written, the smaller ones are hard links into it."""
    largest = data / "files200000"
    if not (largest / "drop_199999.txt").exists():
        from storygen import fillers

        largest.mkdir(parents=True, exist_ok=True)
        print("writing 200,000 seed files (once) ...", flush=True)
        old = time.time() - 86400
        for i, a in enumerate(fillers(200_000, seed=16)):
            path = largest / f"drop_{i:06d}.txt"
            path.write_text(f"title: {a.title}\nsource: {a.source}\n\n{a.body}\n", encoding="utf-8")
            os.utime(path, (old, old))
    if size == 200_000:
        return largest
    folder = data / f"files{size}"
    if not (folder / f"drop_{size - 1:06d}.txt").exists():
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(size):
            name = f"drop_{i:06d}.txt"
            if not (folder / name).exists():
                os.link(largest / name, folder / name)
    return folder


def database_of(data: Path, size: int, folder: Path) -> Path:
    """A database that has ingested ``folder``, made once with `newswatch run --once`."""
    state = data / f"db{size}"
    db = state / "news.db"
    if (state / "done").exists():
        return db
    state.mkdir(parents=True, exist_ok=True)
    (state / "config.toml").write_text(f'[storage]\npath = "news.db"\n[seeds]\npath = "{folder}"\nwatch = false\n',
                                       encoding="utf-8")
    print(f"ingesting {size:,} files into {db} (once) ...", flush=True)
    subprocess.run([sys.executable, "-m", "daemon", "--config", str(state / "config.toml"), "run", "--once"],
                   check=True, cwd=ROOT, capture_output=True)
    (state / "done").write_text("", encoding="utf-8")
    return db


# -- the receiver, in its own process ----------------------------------------------------------------------
def receiver(port_file: Path) -> None:
    """Answer 200 to every POST and print ``epoch path title`` the moment one arrives."""

    class Handler(http.server.BaseHTTPRequestHandler):
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            at = time.time()
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            try:
                title = json.loads(body)["data"]["article"]["title"]
            except (ValueError, KeyError, TypeError):
                title = "?"
            print(f"{at:.6f} {self.path} {title}", flush=True)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_file.write_text(str(server.server_address[1]), encoding="utf-8")
    server.serve_forever()


class Arrivals:
    """The receiver's lines, read as they come: (epoch, path, title)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[tuple[float, str, str]] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            at, path, title = line.rstrip("\n").split(" ", 2)
            with self._cond:
                self.lines.append((float(at), path, title))
                self._cond.notify_all()

    def wait(self, title: str, timeout: float = 30) -> float:
        with self._cond:
            ok = self._cond.wait_for(lambda: any(t == title for _, _, t in self.lines), timeout)
            if not ok:
                raise SystemExit(f"no POST for {title!r} within {timeout}s")
            return next(at for at, _, t in self.lines if t == title)


# -- the daemons ----------------------------------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    """CPU time of every thread of ``pid`` so far (nanosecond schedstat, not 10 ms clock ticks)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError):
            pass  # a thread that just ended
    return total / 1e9


class Daemon:
    def __init__(self, size: int, folder: Path, db: Path, run: Path, port: int) -> None:
        self.size, self.folder = size, folder
        state = run / f"state{size}"
        state.mkdir(parents=True)
        print(f"copying the {size:,}-file database ...", flush=True)
        shutil.copyfile(db, state / "news.db")
        config = state / "config.toml"  # (not beside the logs: nothing else in its folder changes)
        config.write_text(
            f'[storage]\npath = "{state / "news.db"}"\n[seeds]\npath = "{folder}"\n'
            # Every drop alerts, even one the story clustering takes for a copy of an earlier drop.
            '[service]\nwatch_config = false\n[stories]\nalert_each_copy = true\n'
            f'[[rules]]\nname = "nq57"\nkeywords = ["{KEYWORD}"]\n'
            f'[[webhooks]]\nname = "bench"\nurl = "http://127.0.0.1:{port}/{size}"\ntimeout = "5s"\n',
            encoding="utf-8")
        self.log = (run / f"daemon{size}.log").open("w", encoding="utf-8")
        self.proc = subprocess.Popen([sys.executable, "-m", "daemon", "--config", str(config), "--log-level", "DEBUG",
                                      "run"], stderr=self.log, stdout=subprocess.DEVNULL, cwd=ROOT)
        self.log_path = run / f"daemon{size}.log"

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8")

    def wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while "seeds: full scan" not in self.log_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the {self.size:,}-file daemon did not start:\n{self.log_text()[-3000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)
        self.log.close()


def drop_texts(n: int) -> list[str]:
    """Bodies of ``n`` distinct reports (one story each: a copy of an earlier drop would not alert again)."""
    from storygen import fillers

    firsts: dict[int, str] = {}
    for a in fillers(3 * n, seed=1416, first_story=5_000_000):
        firsts.setdefault(a.story, a.body)
    return [f"{body}\nHội nghị quán triệt {KEYWORD} về khoa học, công nghệ." for body in list(firsts.values())[:n]]


def pickup(d: Daemon, arrivals: Arrivals, kind: str, n: int, *, spare: Path, body: str) -> tuple[float, float]:
    """Drop one file (renamed in, or copied in); its latency to the POST and the daemon's CPU for it."""
    title = f"Tin {kind} số {n} ({d.size})"
    name = f"bench_{kind}_{n}.txt"
    source = spare / name
    source.write_text(f"title: {title}\nsource: Báo Đà Nẵng\n\n{body}\n", encoding="utf-8")
    if kind == "rename":
        hidden = d.folder / f".{name}.part"
        shutil.copyfile(source, hidden)
    cpu0 = cpu_seconds(d.proc.pid)
    start = time.time()
    if kind == "rename":
        os.rename(hidden, d.folder / name)
    else:
        shutil.copyfile(source, d.folder / name)
    at = arrivals.wait(title)
    time.sleep(0.3)
    return at - start, cpu_seconds(d.proc.pid) - cpu0


# -- the whole-folder scans ---------------------------------------------------------------------------------
def day_of(i: int) -> str:
    from datetime import date, timedelta

    d = date(2026, 1, 1) + timedelta(days=i // PER_DAY)
    return f"{d.year}/{d.month:02d}/{d.day:02d}"


def layouts(data: Path, rescan_data: Path) -> dict[str, tuple[Path, Path]]:
    """The 200,000 files flat and in date folders, each with a database (copied once) that has them all."""
    flat = folder_of(data, 200_000)
    source_db = database_of(data, 200_000, flat)
    dated = rescan_data / "dated200000"
    done = rescan_data / "made"
    if not done.exists():
        print("making the date folders (hard links) and copying the database twice (once) ...", flush=True)
        for i in range(200_000):
            folder = dated / day_of(i)
            if i % PER_DAY == 0:
                folder.mkdir(parents=True, exist_ok=True)
            if not (folder / f"drop_{i:06d}.txt").exists():
                os.link(flat / f"drop_{i:06d}.txt", folder / f"drop_{i:06d}.txt")
        for kind in ("flat", "dated"):
            (rescan_data / kind).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source_db, rescan_data / kind / "news.db")
        import sqlite3

        with sqlite3.connect(rescan_data / "dated" / "news.db") as conn:  # the same rows, named by their day
            conn.create_function("day_of", 1, lambda path: f"{day_of(int(path[5:11]))}/{path}")
            conn.execute("UPDATE seed_files SET path = day_of(path)")
        done.write_text("", encoding="utf-8")
    return {"flat": (flat, rescan_data / "flat" / "news.db"), "dated": (dated, rescan_data / "dated" / "news.db")}


def whole_folder_scans(data: Path, rescan_data: Path, rounds: int) -> dict[str, list[float]]:
    """Every scan below, alternating, ``rounds`` times; seconds by name."""
    from daemon.config import loads
    from daemon.pipeline import Pipeline
    from daemon.sources.folder import FolderMemory
    from daemon.store import Store

    pipelines, memories, last_day = {}, {}, {}
    for kind, (folder, db) in layouts(data, rescan_data).items():
        config = loads(f'[storage]\npath = "{db}"\n[seeds]\npath = "{folder}"\n', db.parent / "config.toml")
        pipelines[kind] = Pipeline(config, Store(config.db_path, config.tz))
        memories[kind] = FolderMemory()
        report = pipelines[kind].scan_seeds(full=True, folders=memories[kind])  # the start's scan: every file
        assert report.new == 0 and not report.errors, report
        last_day[kind] = folder / day_of(199_999) if kind == "dated" else folder
    time.sleep(2.1)  # a folder modified just before its listing is not trusted (RECENT_FOLDER): the daemons'
    for kind, p in pipelines.items():  # drops were removed just now; a second listing trusts the folder
        p.scan_seeds(full=True, folders=memories[kind])
    times: dict[str, list[float]] = {}

    def timed(name: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        times.setdefault(name, []).append(time.perf_counter() - start)
        return out

    for _ in range(rounds):
        for kind, p in pipelines.items():
            report = timed(f"{kind} safety net", p.scan_seeds, full=True, folders=memories[kind], every_file=False)
            assert report.new == 0 and not report.errors, report
        for kind, p in pipelines.items():  # one folder changed since: a file made and removed in it
            hidden = last_day[kind] / ".bench-touch"
            hidden.write_bytes(b"")
            hidden.unlink()
            timed(f"{kind} safety net, one folder changed", p.scan_seeds, full=True, folders=memories[kind],
                  every_file=False)
        time.sleep(2.1)  # (a folder is trusted once its time is 2 s old: RECENT_FOLDER)
        for kind, p in pipelines.items():
            timed(f"{kind} every file", p.scan_seeds, full=True, folders=memories[kind])

        timed("bare scandir + lstat (flat)", lstat_all, last_day["flat"])
        timed("ledger read, all rows, sqlite3.Row (before)", ledger_by_rows, pipelines["flat"].store)
        timed("ledger read, all rows", pipelines["flat"].store.ledger)
        timed("ledger read, the flat folder's rows", pipelines["flat"].store.ledger_in, "")
        timed("ledger read, one day's rows", pipelines["dated"].store.ledger_in, f"{day_of(199_999)}/")
    return times


def ledger_by_rows(store: Any) -> dict[str, tuple[int, int]]:
    """``Store.ledger`` as it was: a ``sqlite3.Row`` made for each row (the baseline)."""
    with store.read() as conn:
        return {r[0]: (r[1], r[2]) for r in conn.execute(
            "SELECT path, size, mtime_ns FROM seed_files WHERE status != 'deleted'")}


def lstat_all(folder: Path) -> None:
    with os.scandir(folder) as listing:
        for entry in listing:
            entry.stat(follow_symlinks=False)


def print_scans(times: dict[str, list[float]]) -> None:
    print("\nwhole-folder scans of 200,000 unchanged files, alternating; medians [all runs]")
    for name, runs in times.items():
        target = ""
        if name.endswith("safety net"):
            target = f" (target ≤ 0.5 s: {'met' if statistics.median(runs) <= 0.5 else 'NOT met'})"
        print(f"{name:>43}: {statistics.median(runs) * 1000:7.1f} ms [{', '.join(f'{s * 1000:.1f}' for s in runs)}]"
              f"{target}")
    for kind in ("flat", "dated"):
        every, net = statistics.median(times[f"{kind} every file"]), statistics.median(times[f"{kind} safety net"])
        print(f"{kind}: the safety net is {every / net:.0f}× faster than the scan of every file")
    before, now = (statistics.median(times[f"ledger read, all rows{b}"]) for b in (", sqlite3.Row (before)", ""))
    print(f"ledger read of all rows: {now / before:.2f}× the time with a sqlite3.Row per row")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--sizes", default="5,20000,200000")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--rescan-data", type=Path, default=RESCAN_DATA)
    ap.add_argument("--only", choices=("pickup", "rescan"))
    ap.add_argument("--receiver", type=Path, help=argparse.SUPPRESS)  # (the receiver process itself)
    args = ap.parse_args()
    if args.receiver:
        receiver(args.receiver)
        return
    if args.only != "rescan":
        pickups(args)
    if args.only != "pickup":
        print_scans(whole_folder_scans(args.data, args.rescan_data, args.rounds))
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores)")


def pickups(args: argparse.Namespace) -> None:
    sizes = [int(s) for s in args.sizes.split(",")]
    data: Path = args.data
    run = data / f"run-{os.getpid()}"
    spare = run / "spare"
    spare.mkdir(parents=True)
    folders = {n: folder_of(data, n) for n in sizes}
    for folder in folders.values():  # what an interrupted run left behind would alert at the start
        for left in folder.glob("bench_*.txt"):
            left.unlink()
    dbs = {n: database_of(data, n, folders[n]) for n in sizes}
    port_file = run / "port"
    recv = subprocess.Popen([sys.executable, __file__, "--receiver", str(port_file)], stdout=subprocess.PIPE,
                            text=True, encoding="utf-8")
    daemons: list[Daemon] = []
    dropped: list[Path] = []
    try:
        while not port_file.exists() or not port_file.read_text():
            time.sleep(0.05)
        arrivals = Arrivals(recv)
        port = int(port_file.read_text())
        daemons = [Daemon(n, folders[n], dbs[n], run, port) for n in sizes]
        for d in daemons:
            d.wait_ready()
        time.sleep(2)
        results: dict[tuple[int, str], list[tuple[float, float]]] = {}
        bodies = iter(drop_texts(args.rounds * len(daemons) * 2))
        for r in range(args.rounds):
            order = daemons[r % len(daemons):] + daemons[:r % len(daemons)]
            for d in order:
                for kind in ("rename", "copy"):
                    dropped.append(d.folder / f"bench_{kind}_{r}.txt")
                    results.setdefault((d.size, kind), []).append(pickup(d, arrivals, kind, r, spare=spare,
                                                                         body=next(bodies)))
        logs = {d.size: d.log_text() for d in daemons}
    finally:
        for d in daemons:
            d.stop()
        recv.terminate()
        for path in dropped:
            path.unlink(missing_ok=True)
    print(f"\n{args.rounds} rounds, sizes alternating; medians (all runs in brackets)")
    base = sizes[0]
    for kind in ("rename", "copy"):
        for n in sizes:
            lat = [x for x, _ in results[(n, kind)]]
            cpu = [c for _, c in results[(n, kind)]]
            ratio = ""
            if n != base:
                bl = statistics.median(x for x, _ in results[(base, kind)])
                bc = statistics.median(c for _, c in results[(base, kind)])
                ratio = (f"  ratio to {base}: latency {statistics.median(lat) / bl:.2f}, CPU"
                         f" {statistics.median(cpu) / bc:.2f} (target ≤ 1.2 at 200,000)")
            print(f"{kind:>6} into {n:>7,} files: latency {statistics.median(lat) * 1000:6.0f} ms"
                  f" [{', '.join(f'{x * 1000:.0f}' for x in lat)}], CPU {statistics.median(cpu) * 1000:5.1f} ms"
                  f" [{', '.join(f'{c * 1000:.0f}' for c in cpu)}]{ratio}")
    for kind, target in (("rename", 0.3), ("copy", 1.5)):
        worst = max(statistics.median(x for x, _ in results[(n, kind)]) for n in sizes)
        print(f"{kind}: worst median {worst * 1000:.0f} ms (target ≤ {target * 1000:.0f} ms):"
              f" {'met' if worst <= target else 'NOT met'}")
    for n, text in logs.items():
        print(f"daemon with {n:,} files: {text.count('seeds: targeted pickup')} targeted pickups,"
              f" {text.count('seeds: full scan')} full scans (the first at start)")
    shutil.rmtree(run, ignore_errors=True)


if __name__ == "__main__":
    main()

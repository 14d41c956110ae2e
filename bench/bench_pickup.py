"""A dropped file's pickup with 5, 20,000 and 200,000 files already in the seed folder (issue 16, issue 14
item 4), measured in one run.

    .venv/bin/python bench/bench_pickup.py [--rounds 7] [--sizes 5,20000,200000] [--data DIR]

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
* once the daemons are stopped, the full re-scan of the unchanged largest folder (``Pipeline.scan_seeds``
  in this process: the ledger read, the scan and the compare), alternating with a bare ``scandir`` +
  ``lstat`` of every file: the floor no scan that sees modified files can go under.

Prints medians, their ratios to the 5-file folder (targets: ≤ 1.2 for latency and CPU at 200,000), the full
re-scan (target ≤ 0.5 s), and the rename and copy latencies (targets: median ≤ 0.3 s and ≤ 1.5 s).
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


# -- the full re-scan -------------------------------------------------------------------------------------------
def full_rescan(folder: Path, db: Path, rounds: int) -> tuple[list[float], list[float], list[float], list[float]]:
    """(full re-scans, their CPU, bare scandir + lstat, ledger reads) of the unchanged folder, alternating."""
    from daemon.config import loads
    from daemon.pipeline import Pipeline
    from daemon.store import Store

    config = loads(f'[storage]\npath = "{db}"\n[seeds]\npath = "{folder}"\n', db.parent / "config.toml")
    pipeline = Pipeline(config, Store(config.db_path, config.tz))
    scans, cpus, floors, ledgers = [], [], [], []
    for _ in range(rounds):
        start, cpu = time.perf_counter(), time.process_time()
        report = pipeline.scan_seeds()
        scans.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
        assert report.new == 0 and not report.errors, report
        start = time.perf_counter()
        with os.scandir(folder) as listing:
            for entry in listing:
                entry.stat(follow_symlinks=False)
        floors.append(time.perf_counter() - start)
        start = time.perf_counter()
        pipeline.store.ledger()
        ledgers.append(time.perf_counter() - start)
    return scans, cpus, floors, ledgers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--sizes", default="5,20000,200000")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--receiver", type=Path, help=argparse.SUPPRESS)  # (the receiver process itself)
    args = ap.parse_args()
    if args.receiver:
        receiver(args.receiver)
        return
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
    largest = max(sizes)
    scans, cpus, floors, ledgers = full_rescan(folders[largest], run / f"state{largest}" / "news.db", 5)
    print(f"full re-scan of {largest:,} unchanged files: median {statistics.median(scans):.3f} s"
          f" [{', '.join(f'{s:.3f}' for s in scans)}], CPU {statistics.median(cpus):.3f} s (target ≤ 0.5 s:"
          f" {'met' if statistics.median(scans) <= 0.5 else 'NOT met'}); of it, the ledger read"
          f" {statistics.median(ledgers):.3f} s; bare scandir + lstat of the folder {statistics.median(floors):.3f} s"
          f" [{', '.join(f'{s:.3f}' for s in floors)}]")
    shutil.rmtree(run, ignore_errors=True)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores)")


if __name__ == "__main__":
    main()

"""Issue 9 items 6 and 7: `python -m daemon run --once` as cron or a person runs it.

* Files copied in just before it are still "settling"; there is no next pass to leave them to, so it waits
  for them, and the pass that held them back says so.
* Beside a long reader the WAL checkpoint cannot finish; `--once` tries it once and leaves instead of
  waiting the busy timeout twice.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from tests.helpers import Background

pytestmark = pytest.mark.service

Run = Callable[..., CompletedProcess[str]]


def count(project: Path, sql: str) -> int:
    with sqlite3.connect(project / "state" / "news.db", timeout=10) as conn:
        return int(conn.execute(sql).fetchone()[0])


def test_run_once_waits_for_files_copied_in_just_before_it(project: Path) -> None:
    """The files are still being written when the pass looks (a writer appends to them until the pass says
    it holds them back: a slow start under load cannot let them settle first), then left alone."""
    seeds = project / "seeds"
    paths = [seeds / f"vua_chep_{i}.txt" for i in range(3)]
    for i, path in enumerate(paths):
        path.write_text(f"title: Vừa chép {i}\n\nBài {i} chép vào ngay trước khi chạy.\n", encoding="utf-8")
    proc = Background(project, "run", "--once")
    stop = threading.Event()

    def copying() -> None:
        while not stop.is_set() and proc.proc.poll() is None:
            for path in paths:
                with path.open("a", encoding="utf-8") as f:
                    f.write("Thêm một câu.\n")
            time.sleep(0.1)

    writer = threading.Thread(target=copying, daemon=True)
    writer.start()
    try:
        proc.wait_line("holding back", stream="err", timeout=60)
    finally:
        stop.set()
        writer.join(5)
    assert proc.proc.wait(60) == 0, "\n".join(proc.err)
    assert count(project, "SELECT count(*) FROM articles") == 5 + 3
    assert count(project, "SELECT count(*) FROM seed_files WHERE path LIKE 'vua_chep_%'") == 3
    held = [line for line in proc.err if "holding back" in line]
    assert "3 files still being written" in held[0] and "vua_chep_0.txt" in held[0], held[0]
    assert not any("Traceback" in line for line in proc.err)


def test_run_once_beside_a_long_reader_tries_the_checkpoint_once(project: Path, run_cli: Run) -> None:
    run_cli("run", "--once")
    reader = sqlite3.connect(project / "state" / "news.db", isolation_level=None)
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM articles").fetchone()[0] == 5  # a snapshot is held
        (project / "seeds" / "moi.txt").write_text("title: Bài mới\n\nNội dung bài mới trong lúc có người đọc.\n",
                                                   encoding="utf-8")
        old = time.time() - 5
        os.utime(project / "seeds" / "moi.txt", (old, old))
        start = time.monotonic()
        proc = run_cli("run", "--once")
        took = time.monotonic() - start
    finally:
        reader.close()
    # Before: 10 s (two checkpoints, each waiting the 5 s busy timeout). Now a start, one pass, and exit.
    assert took < 4.5, f"run --once took {took:.1f}s beside a reader\n{proc.stderr}"
    assert count(project, "SELECT count(*) FROM articles") == 6  # the pass itself is not held up by the reader
    busy = [line for line in proc.stderr.splitlines() if "checkpoint: a reader holds the WAL" in line]
    assert len(busy) == 1, proc.stderr
    assert "the next run checkpoints" in busy[0]

"""Issue 9 item 4: a full disk is logged once (one line, no traceback), then once a minute while it lasts, and
once more when writes work again; the service stays up and catches up.

Both tests meet SQLite's own SQLITE_FULL, nothing is mocked:

* in-process, ``PRAGMA max_page_count`` caps the service's database (it is a per-connection setting, so only a
  test holding the service's connection can set it), which always works;
* the real `python -m daemon run` process on a real full file system: a 32 MB tmpfs mounted over the state
  folder and filled up. That needs root and the right to mount (CI runs as root on a fresh machine); where
  mounting is not allowed (an unprivileged container) the test is skipped and says why.

The timing (once a minute) is tested on the pure decision in test_service_outage.py.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.config import load
from daemon.scheduler import Service
from tests.helpers import Background

# -- the service's jobs against a real SQLITE_FULL --------------------------------------------------------


def drop_old(seeds: Path, n: int, prefix: str = "bulk") -> None:
    old = time.time() - 5
    for i in range(n):
        p = seeds / f"{prefix}_{i:05d}.txt"
        p.write_text(f"title: Bài {i}\n\nBài viết số {i} về công tác văn phòng cấp ủy. " + "Nội dung dài. " * 40
                     + "\n", encoding="utf-8")
        os.utime(p, (old, old))


def test_jobs_meeting_a_full_database_log_one_line_then_say_when_writes_work(
        project: Path, caplog: pytest.LogCaptureFixture) -> None:
    service = Service(load(project / "config.toml"))
    lock = service._open()
    try:
        service._run_job("seeds", service.pipeline.scan_seeds)  # the five samples
        conn = service.store.conn
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 2}")  # room for the jobs rows, not for 200 articles
        drop_old(project / "seeds", 200)
        caplog.clear()
        with caplog.at_level(logging.INFO):
            for _ in range(5):
                service._run_job("seeds", service.pipeline.scan_seeds)
                service._run_job("checkpoint", service._job_checkpoint)  # small writes still fit
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1, [r.getMessage() for r in errors]
        message = errors[0].getMessage()
        assert message.startswith("DISK FULL: ") and "SQLITE_FULL" in message and "once a minute" in message
        assert errors[0].exc_info is None  # one line, no traceback
        assert not any("writes work again" in r.getMessage() for r in caplog.records)
        assert service.store.counts()["articles"] == 5
        row = service.store.jobs()
        seeds_row = next(j for j in row if j["name"] == "seeds")
        assert seeds_row["errors"] >= 1 and "StoreFull" in seeds_row["last_error"]

        conn.execute("PRAGMA max_page_count = 1073741823")  # room again
        caplog.clear()
        with caplog.at_level(logging.INFO):
            service._run_job("seeds", service.pipeline.scan_seeds)
        again = [r for r in caplog.records if "writes work again" in r.getMessage()]
        assert len(again) == 1 and again[0].levelno == logging.WARNING
        assert "5 failed job runs" in again[0].getMessage()
        assert service.store.counts()["articles"] == 205
    finally:
        service._close(lock)


# -- the real process on a real full file system ---------------------------------------------------------


@pytest.fixture
def full_state(project: Path) -> Iterator[Path]:
    """``project/state`` as a 32 MB tmpfs of its own."""
    state = project / "state"
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root and mount(8) to make a small file system that can fill up")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m,mode=0755", "tmpfs", str(state)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield state
    finally:
        if subprocess.run(["umount", str(state)], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(state)], capture_output=True, check=False)


@pytest.mark.service
def test_the_service_on_a_full_disk_logs_once_recovers_and_says_so(full_state: Path, project: Path,
                                                                  procs: list[Background]) -> None:
    def articles() -> int:
        with sqlite3.connect(full_state / "news.db", timeout=10) as conn:
            return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])

    d = Background(project, "run")
    procs.append(d)
    d.wait_line("newswatch running", stream="err", timeout=30)
    deadline = time.monotonic() + 15
    while articles() < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert articles() == 5
    st = os.statvfs(full_state)
    ballast = full_state / "ballast"
    with ballast.open("wb") as f:  # leave 256 KB: a few small writes fit, the bulk import does not
        f.truncate(0)
        left = st.f_bavail * st.f_frsize - 256 * 1024
        while left > 0:
            left -= f.write(b"\0" * min(left, 1 << 20))
    drop_old(project / "seeds", 2000)
    d.wait_line("database or disk is full", stream="err", timeout=30)  # SQLite's words, before and after
    first = len(d.err)
    time.sleep(6)  # before the fix: ~180 lines (a 28-line traceback a pass) in these 6 s
    during = d.err[first:]
    assert not any("DISK FULL" in line or "ERROR" in line for line in during), "\n".join(during)
    full_lines = [line for line in d.err if "DISK FULL" in line]
    assert len(full_lines) == 1 and "SQLITE_FULL" in full_lines[0], "\n".join(d.err)
    assert not any("Traceback" in line for line in d.err), "\n".join(d.err)
    assert len(during) < 10, "\n".join(during)

    ballast.unlink()
    d.wait_line("writes work again", stream="err", timeout=60)
    deadline = time.monotonic() + 60
    while articles() < 2005 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert articles() == 2005
    assert d.stop() == 0
    with sqlite3.connect(full_state / "news.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM sightings").fetchone()[0] == 2005

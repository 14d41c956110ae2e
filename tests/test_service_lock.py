"""InstanceLock: one daemon per database, and the lock survives nothing but its holder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from daemon.errors import AlreadyRunning
from daemon.service.lock import InstanceLock, probe

REPO = Path(__file__).resolve().parents[1]

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from daemon.service.lock import InstanceLock
    lock = InstanceLock(Path(sys.argv[1]))
    lock.acquire()
    print("locked", flush=True)
    time.sleep(60)
    """
)


def _start_holder(lock_path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "locked", f"holder did not take the lock (rc={proc.poll()})"
    return proc


def _held(lock: InstanceLock) -> bool:
    return lock.held  # a call, so mypy does not keep the narrowing from an earlier assert


def test_acquire_writes_pid_and_release_frees(tmp_path: Path) -> None:
    path = tmp_path / "state" / "news.db.lock"
    lock = InstanceLock(path)
    lock.acquire()
    try:
        assert lock.held
        assert path.read_text().strip() == str(os.getpid())
        assert probe(path) == (True, os.getpid())
    finally:
        lock.release()
    assert not _held(lock)
    assert probe(path) == (False, None)
    lock.release()  # idempotent


def test_second_lock_in_same_process_is_refused(tmp_path: Path) -> None:
    """flock is per open file description, so even a second open in one process conflicts."""
    path = tmp_path / "news.db.lock"
    with InstanceLock(path), pytest.raises(AlreadyRunning) as info:
        InstanceLock(path).acquire()
    msg = str(info.value)
    assert f"pid {os.getpid()}" in msg
    assert str(tmp_path / "news.db") + ";" in msg
    assert "stop it first" in msg
    assert str(path) in msg
    # released by the with-block: can be taken again
    with InstanceLock(path) as again:
        assert again.held


def test_lock_held_by_other_process_then_sigkill_frees_it(tmp_path: Path) -> None:
    path = tmp_path / "news.db.lock"
    proc = _start_holder(path)
    try:
        with pytest.raises(AlreadyRunning, match=rf"another newswatch \(pid {proc.pid}\) is running on "):
            InstanceLock(path).acquire()
        assert probe(path) == (True, proc.pid)
        # the refused attempt must not have wiped the holder's pid
        assert path.read_text().strip() == str(proc.pid)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.stdout is not None
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    # stale pid still in the file, but the kernel dropped the flock
    assert probe(path) == (False, None)
    lock = InstanceLock(path)
    lock.acquire()
    try:
        assert path.read_text().strip() == str(os.getpid())
    finally:
        lock.release()


def test_double_acquire_on_same_object_is_a_bug(tmp_path: Path) -> None:
    with InstanceLock(tmp_path / "x.lock") as lock, pytest.raises(RuntimeError):
        lock.acquire()


def test_probe_missing_file(tmp_path: Path) -> None:
    assert probe(tmp_path / "nope.lock") == (False, None)

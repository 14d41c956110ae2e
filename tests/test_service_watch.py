"""FolderWatcher on a real folder: drop files, watch the callback fire (or not)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from watchfiles import Change

from daemon.service.watch import FolderWatcher, is_relevant

SEED_TEXT = "Chiều 25-12, Thành ủy Hà Nội tổ chức hội nghị tổng kết công tác năm.\n"


class Recorder:
    """Counts calls and lets a test wait for the n-th one without sleeping blindly."""

    def __init__(self, fail_first: int = 0) -> None:
        self.times: list[float] = []
        self.fail_first = fail_first
        self._cond = threading.Condition()

    def __call__(self) -> None:
        with self._cond:
            self.times.append(time.monotonic())
            self._cond.notify_all()
            if len(self.times) <= self.fail_first:
                raise RuntimeError("seeds pass blew up")

    def wait_for(self, n: int, timeout: float = 2.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self.times) >= n, timeout)

    @property
    def count(self) -> int:
        with self._cond:
            return len(self.times)


@pytest.fixture
def make_watcher() -> Iterator[Callable[..., FolderWatcher]]:
    made: list[FolderWatcher] = []

    def make(path: Path, cb: Callable[[], None], **kw: object) -> FolderWatcher:
        w = FolderWatcher(path, cb, **kw)  # type: ignore[arg-type]
        w.start()
        made.append(w)
        return w

    yield make
    for w in made:
        w.stop()


def _wait_watching(w: FolderWatcher, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not w.watching and time.monotonic() < deadline:
        time.sleep(0.01)
    assert w.watching
    time.sleep(0.15)  # let the OS watch be installed after the flag is set


def test_dropped_file_fires_within_two_seconds(tmp_path: Path, make_watcher: Callable[..., FolderWatcher]) -> None:
    rec = Recorder()
    w = make_watcher(tmp_path, rec)
    _wait_watching(w)
    started = time.monotonic()
    (tmp_path / "005-thanh-uy.txt").write_text(SEED_TEXT, encoding="utf-8")
    assert rec.wait_for(1, timeout=2.0), "callback did not fire within 2 s"
    assert rec.times[0] - started < 2.0

    # a modification of an existing file fires again
    with (tmp_path / "005-thanh-uy.txt").open("a", encoding="utf-8") as f:
        f.write("Thêm một đoạn.\n")
    assert rec.wait_for(2, timeout=2.0)


def test_irrelevant_files_do_not_fire(tmp_path: Path, make_watcher: Callable[..., FolderWatcher]) -> None:
    rec = Recorder()
    w = make_watcher(tmp_path, rec)
    _wait_watching(w)
    (tmp_path / "data.json").write_text("{}")
    (tmp_path / ".005.txt.swp").write_text("x")
    time.sleep(0.8)
    assert rec.count == 0
    (tmp_path / "006.MD").write_text(SEED_TEXT, encoding="utf-8")
    assert rec.wait_for(1)


def test_burst_is_coalesced(tmp_path: Path, make_watcher: Callable[..., FolderWatcher]) -> None:
    rec = Recorder()
    w = make_watcher(tmp_path, rec, debounce_ms=300)
    _wait_watching(w)
    for i in range(30):
        (tmp_path / f"{i:03}.txt").write_text(SEED_TEXT, encoding="utf-8")
    assert rec.wait_for(1)
    time.sleep(1.0)
    assert 1 <= rec.count <= 3, rec.times
    gaps = [b - a for a, b in zip(rec.times, rec.times[1:], strict=False)]
    assert all(g >= 0.29 for g in gaps), gaps


def test_missing_folder_at_start_is_waited_for(
    tmp_path: Path, make_watcher: Callable[..., FolderWatcher], caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "seeds"
    rec = Recorder()
    w = make_watcher(folder, rec, retry_interval=0.1)
    time.sleep(0.3)
    assert w.running and not w.watching
    assert "watched folder is missing" in caplog.text
    # the folder arrives already holding a file (mv of a prepared directory): one call for it
    prepared = tmp_path / "incoming"
    prepared.mkdir()
    (prepared / "001.txt").write_text(SEED_TEXT, encoding="utf-8")
    prepared.rename(folder)
    assert rec.wait_for(1)
    _wait_watching(w)
    (folder / "002.txt").write_text(SEED_TEXT, encoding="utf-8")
    assert rec.wait_for(2)


def test_callback_exception_does_not_kill_the_thread(
    tmp_path: Path, make_watcher: Callable[..., FolderWatcher], caplog: pytest.LogCaptureFixture
) -> None:
    rec = Recorder(fail_first=1)
    w = make_watcher(tmp_path, rec, debounce_ms=100)
    _wait_watching(w)
    (tmp_path / "a.txt").write_text(SEED_TEXT, encoding="utf-8")
    assert rec.wait_for(1)
    time.sleep(0.3)
    assert w.running
    assert "callback failed" in caplog.text and "seeds pass blew up" in caplog.text
    (tmp_path / "b.txt").write_text(SEED_TEXT, encoding="utf-8")
    assert rec.wait_for(2)


def test_stop_is_prompt(tmp_path: Path) -> None:
    w = FolderWatcher(tmp_path, lambda: None)
    w.start()
    _wait_watching(w)
    started = time.monotonic()
    w.stop()
    assert time.monotonic() - started < 1.0
    assert not w.running and not w.watching

    missing = FolderWatcher(tmp_path / "nope", lambda: None, retry_interval=30)
    missing.start()
    time.sleep(0.1)
    started = time.monotonic()
    missing.stop()
    assert time.monotonic() - started < 1.0
    assert not missing.running


def test_force_polling(tmp_path: Path, make_watcher: Callable[..., FolderWatcher]) -> None:
    rec = Recorder()
    w = make_watcher(tmp_path, rec, force_polling=True, poll_delay_ms=100)
    _wait_watching(w)
    (tmp_path / "polled.txt").write_text(SEED_TEXT, encoding="utf-8")
    assert rec.wait_for(1)


@pytest.mark.parametrize(
    ("change", "path", "expected"),
    [
        (Change.added, "/s/a.txt", True),
        (Change.modified, "/s/sub/b.md", True),
        (Change.added, "/s/C.TXT", True),
        (Change.deleted, "/s/a.txt", False),
        (Change.added, "/s/a.txt.part", False),
        (Change.added, "/s/.a.txt", False),
        (Change.added, "/s/a.json", False),
    ],
)
def test_is_relevant(change: Change, path: str, expected: bool) -> None:
    assert is_relevant(change, path, (".txt", ".md")) is expected

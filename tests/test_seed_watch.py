"""SeedWatcher on a real folder with real inotify: which paths it queues, when it wakes the pass, and when
it asks for a full scan instead (the watch's start, a lost event queue, a folder that came or went)."""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from daemon.service.seedwatch import INCOMPLETE_WAKE, PickupQueue, SeedWatcher

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")

TEXT = "Chiều 25-12, Thành ủy Hà Nội tổ chức hội nghị tổng kết công tác năm.\n"


class Wakes:
    """Counts the watcher's wake-ups; ``hold`` blocks the watcher's thread inside one (to let events pile up)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.hold = threading.Event()
        self.held = threading.Event()
        self._cond = threading.Condition()

    def __call__(self) -> None:
        if self.hold.is_set():
            self.held.set()
            while self.hold.is_set():
                time.sleep(0.01)
        with self._cond:
            self.times.append(time.monotonic())
            self._cond.notify_all()

    def wait_for(self, n: int, timeout: float = 3.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self.times) >= n, timeout)


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[Callable[[Path], tuple[SeedWatcher, PickupQueue, Wakes]]]:
    made: list[SeedWatcher] = []

    def make(folder: Path) -> tuple[SeedWatcher, PickupQueue, Wakes]:
        queue, wakes = PickupQueue(), Wakes()
        w = SeedWatcher(folder, queue, wakes, retry_interval=0.1)
        w.start()
        made.append(w)
        return w, queue, wakes

    yield make
    for w in made:
        w.stop()


def started(w: SeedWatcher, queue: PickupQueue, wakes: Wakes) -> None:
    assert w.wait_tried(3.0) and w.watching
    assert wakes.wait_for(1)
    assert queue.take() == ({}, "the watch started")  # what came before the watch: one full scan


def test_a_renamed_file_is_queued_complete_and_wakes_at_once(tmp_path: Path, watched: Callable[..., tuple[
        SeedWatcher, PickupQueue, Wakes]]) -> None:
    w, queue, wakes = watched(tmp_path)
    started(w, queue, wakes)
    (tmp_path / ".x.txt.part").write_text(TEXT, encoding="utf-8")
    before = time.time()
    t0 = time.monotonic()
    (tmp_path / ".x.txt.part").rename(tmp_path / "x.txt")
    assert wakes.wait_for(2)
    assert wakes.times[1] - t0 < INCOMPLETE_WAKE  # not made to wait like a write in progress
    paths, full = queue.take()
    assert full is None and list(paths) == ["x.txt"]  # the hidden temporary name is not queued
    complete = paths["x.txt"]
    assert complete is not None and complete >= before


def test_a_copy_is_complete_once_closed_and_a_write_in_progress_is_not(
        tmp_path: Path, watched: Callable[..., tuple[SeedWatcher, PickupQueue, Wakes]]) -> None:
    source = tmp_path.parent / f"{tmp_path.name}-source.txt"
    source.write_text(TEXT, encoding="utf-8")
    w, queue, wakes = watched(tmp_path)
    started(w, queue, wakes)
    shutil.copyfile(source, tmp_path / "copied.txt")
    assert wakes.wait_for(2)
    assert queue.take()[0]["copied.txt"] is not None
    with (tmp_path / "slow.txt").open("w", encoding="utf-8") as f:
        f.write(TEXT)
        f.flush()
        t0 = time.monotonic()
        assert wakes.wait_for(3)  # woken, though not at once: "look again", the settle rule decides
        assert wakes.times[2] - t0 >= INCOMPLETE_WAKE * 0.8
        assert queue.take() == ({"slow.txt": None}, None)
    source.unlink()


def test_files_in_subfolders_and_new_folders(tmp_path: Path, watched: Callable[..., tuple[
        SeedWatcher, PickupQueue, Wakes]]) -> None:
    (tmp_path / "2026" / "12").mkdir(parents=True)
    w, queue, wakes = watched(tmp_path)
    started(w, queue, wakes)
    (tmp_path / "2026" / "12" / "a.txt").write_text(TEXT, encoding="utf-8")
    assert wakes.wait_for(2)
    assert list(queue.take()[0]) == ["2026/12/a.txt"]
    (tmp_path / "moi").mkdir()  # its files may be there before its watch: a whole-folder pass covers them
    assert wakes.wait_for(3)
    # (listing the folders that changed is enough: no event was lost, so no need to stat every file)
    assert queue.take_pass() == ({}, "folder moi/ appeared", False)
    (tmp_path / "moi" / "b.txt").write_text(TEXT, encoding="utf-8")  # and from now on it is watched
    assert wakes.wait_for(4)
    assert list(queue.take()[0]) == ["moi/b.txt"]


def test_a_request_that_needs_every_file_wins_over_one_for_the_folders() -> None:
    queue = PickupQueue()
    queue.request_full("folder moi/ appeared", every_file=False)
    queue.request_full("the event queue overflowed")
    queue.request_full("folder cu/ went", every_file=False)
    assert queue.take_pass() == ({}, "the event queue overflowed", True)
    queue.request_full("the watch started")
    queue.request_full("folder moi/ appeared", every_file=False)
    assert queue.take_pass() == ({}, "the watch started", True)
    assert queue.take_pass() == ({}, None, False)


def test_a_lost_event_queue_asks_for_a_full_scan(tmp_path: Path, watched: Callable[..., tuple[
        SeedWatcher, PickupQueue, Wakes]]) -> None:
    limit = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    if limit > 100_000:
        pytest.skip(f"max_queued_events is {limit}: too many events to make here")
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(TEXT, encoding="utf-8")
    b.write_text(TEXT, encoding="utf-8")
    w, queue, wakes = watched(tmp_path)
    started(w, queue, wakes)
    wakes.hold.set()
    a.write_text(TEXT + "1", encoding="utf-8")
    assert wakes.held.wait(3)  # the watcher's thread is busy: the kernel queues, then drops, events
    for i in range(limit + 100):
        os.utime(a if i % 2 else b, (i, i))  # alternating: the kernel merges repeats of one event
    wakes.hold.clear()
    deadline = time.monotonic() + 5
    full = None
    while full is None and time.monotonic() < deadline:
        full = queue.take()[1]
        time.sleep(0.05)
    assert full == "the event queue overflowed"


def test_the_folder_going_and_coming_back(tmp_path: Path, watched: Callable[..., tuple[
        SeedWatcher, PickupQueue, Wakes]]) -> None:
    seeds = tmp_path / "seeds"
    w, queue, wakes = watched(seeds)
    assert w.wait_tried(3.0) and not w.watching  # missing: the service scans in full (and says it is missing)
    seeds.mkdir()
    assert wakes.wait_for(1)
    assert w.watching and queue.take()[1] == "the watch started"
    shutil.rmtree(seeds)
    deadline = time.monotonic() + 3
    while w.watching and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not w.watching
    seeds.mkdir()
    (seeds / "a.txt").write_text(TEXT, encoding="utf-8")  # perhaps before the watch is back: the full scan
    deadline = time.monotonic() + 3
    while not w.watching and time.monotonic() < deadline:
        time.sleep(0.02)
    assert w.watching
    assert queue.take()[1] in ("the watch started", "the seed folder itself was moved or deleted")


def test_stop_is_prompt(tmp_path: Path, watched: Callable[..., tuple[SeedWatcher, PickupQueue, Wakes]]) -> None:
    w, queue, wakes = watched(tmp_path)
    started(w, queue, wakes)
    t0 = time.monotonic()
    w.stop()
    assert time.monotonic() - t0 < 0.5 and not w.running

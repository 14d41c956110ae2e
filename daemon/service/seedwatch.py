"""Which seed files changed, so a pickup reads those and not a folder of 200,000 (issue 16).

``SeedWatcher`` turns the kernel's inotify events into paths in a ``PickupQueue``; the seeds pass takes
them and stats only those. Whatever the events cannot vouch for asks the queue for a full scan instead:
the start of a watch (files may have arrived while nobody watched), a queue overflow (events were
lost), a folder created, moved or deleted inside the seed folder (its files came or went in one event;
with no event lost, that scan needs to list only the folders whose times changed).

A file renamed into place is complete: the event says when, and the pass reads it at once instead of
waiting a second for its modification time to settle. One closed by the process that wrote it is
complete once ``CLOSE_QUIET`` has passed with no other event for it. Other events (created, written,
touched) only say "look again": the pass's settle rule decides, as in a full scan.

Like ``FolderWatcher``, a failure here is logged and survived: the scheduler sees ``watching`` go False
and scans the folder in full every pass until the watch is back.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from daemon.service.inotify import (
    IN_ATTRIB,
    IN_CLOSE_WRITE,
    IN_CREATE,
    IN_DELETE,
    IN_DELETE_SELF,
    IN_EXCL_UNLINK,
    IN_IGNORED,
    IN_ISDIR,
    IN_MODIFY,
    IN_MOVE_SELF,
    IN_MOVED_FROM,
    IN_MOVED_TO,
    IN_ONLYDIR,
    IN_Q_OVERFLOW,
    IN_UNMOUNT,
    Event,
    Inotify,
)
from daemon.service.watch import WatcherThread
from daemon.sources.folder import hidden

log = logging.getLogger(__name__)

_MASK = (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB
         | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)
# A file closed by its writer is complete once this long has passed without another event for it: a
# script that writes a file in several opens (`echo … > f; cat body >> f`) closes it after each.
CLOSE_QUIET = 0.2
# A change that does not say the file is complete (created, written, touched, deleted) wakes the pass
# within this long rather than at once: a file being copied slowly sends a write event every few
# milliseconds, and a pass for each would only hold it back again.
INCOMPLETE_WAKE = 0.25
# How long a read waits with nothing arriving before checking that the folder is still there.
_IDLE_CHECK = 5.0


class PickupQueue:
    """Changed paths (relative, POSIX) with when each was known complete, and whether a full scan is owed.

    The latest event of a path wins: a file written again after it was closed is not complete any more.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: dict[str, float | None] = {}
        self._full: str | None = None
        self._every_file = False  # the whole-folder pass owed must stat every file (events were lost)

    def add(self, changes: Mapping[str, float | None]) -> None:
        with self._lock:
            for path, complete in changes.items():
                self._paths.pop(path, None)  # re-inserted last: the order of arrival is kept
                self._paths[path] = complete

    def put_back(self, paths: Iterable[str], known: Mapping[str, float | None]) -> None:
        """Paths a pass held back (still being written, or in their quiet time): the next pass looks at
        them again, with what was ``known`` of them unless a newer event came since."""
        with self._lock:
            for path in paths:
                self._paths.setdefault(path, known.get(path))

    def request_full(self, reason: str, *, every_file: bool = True) -> None:
        """A whole-folder pass is owed. ``every_file=False`` when only folders came or went while every
        event arrived: the folders that changed say it all (``rescan``), unless a request that needs every
        file comes too, which then gives the reason."""
        with self._lock:
            if self._full is None or (every_file and not self._every_file):
                self._full = reason
            self._every_file = self._every_file or every_file

    def take(self) -> tuple[dict[str, float | None], str | None]:
        """Everything queued so far, and why a full scan is owed (None: it is not)."""
        paths, full, _every_file = self.take_pass()
        return paths, full

    def take_pass(self) -> tuple[dict[str, float | None], str | None, bool]:
        """``take``, and whether the whole-folder pass owed must stat every file."""
        with self._lock:
            paths, full, every_file = self._paths, self._full, self._every_file
            self._paths, self._full, self._every_file = {}, None, False
        return paths, full, every_file


class SeedWatcher(WatcherThread):
    """``SeedWatcher(cfg.seeds_path, queue, service.wake_seeds).start()`` … ``.stop()``.

    ``wake`` runs on the watcher's thread after changes were queued; it must return quickly.
    ``watching`` is True while every folder is watched, False while waiting for the folder or after a
    failure.
    """

    def __init__(self, path: Path, queue: PickupQueue, wake: Callable[[], None], *,
                 retry_interval: float = 5.0, thread_name: str = "newswatch-watch-seeds") -> None:
        super().__init__(thread_name)
        self.path = Path(path)
        self.queue = queue
        self.wake = wake
        self.retry_interval = retry_interval
        self._tried = threading.Event()  # the first attempt is over: watching, failed or folder missing
        self._inotify: Inotify | None = None
        self._dirs: dict[int, str] = {}  # watch descriptor -> folder relative to the root ("" for the root)

    def wait_tried(self, timeout: float) -> bool:
        """Wait for the first attempt to watch; the service starts its first pass after it, so one full
        scan covers both the start and the watch's start."""
        return self._tried.wait(timeout)

    def _interrupt(self) -> None:
        inotify = self._inotify
        if inotify is not None:
            inotify.wake()

    # -- thread ------------------------------------------------------------------------------------
    def _run(self) -> None:
        waiting = False
        failed = ""  # the last failure logged: a watch that keeps failing the same way is logged once
        while not self._stop.is_set():
            if not self.path.is_dir():
                self._tried.set()
                if not waiting:
                    waiting = True
                    log.warning("seed folder to watch is missing; retrying every %gs", self.retry_interval,
                                extra={"path": str(self.path)})
                self._stop.wait(self.retry_interval)
                continue
            if waiting:
                waiting = False
                log.info("seed folder appeared; watching it", extra={"path": str(self.path)})
            try:
                self._watch()
                failed = ""
            except Exception as exc:  # inotify missing, the watch limit, permission denied, ...
                if f"{type(exc).__name__}: {exc}" != failed:
                    failed = f"{type(exc).__name__}: {exc}"
                    log.warning("seed folder watch failed (%s); scanning it in full every pass, retrying the"
                                " watch every %gs", failed, self.retry_interval, extra={"path": str(self.path)})
                self._tried.set()
                self._stop.wait(self.retry_interval)

    def _watch(self) -> None:
        inotify = Inotify()
        self._inotify, self._dirs = inotify, {}
        try:
            if self._stop.is_set():
                return
            self._add_tree(inotify, "")
            # Files that arrived before the watch was in place have no event: one full scan covers them.
            self.queue.request_full("the watch started")
            self._watching.set()
            self._tried.set()
            self.wake()
            self._loop(inotify)
        finally:
            self._watching.clear()
            self._inotify = None
            inotify.close()

    def _loop(self, inotify: Inotify) -> None:
        due: float | None = None  # when the changes queued without a "complete" are owed a pass
        while not self._stop.is_set():
            timeout = _IDLE_CHECK if due is None else max(0.0, due - time.monotonic())
            events = inotify.read(timeout)
            if self._stop.is_set():
                return
            if not events and due is None and not self.path.is_dir():
                return
            urgent, soon, alive = self._handle(inotify, events)
            if not alive:
                self.queue.request_full("the seed folder itself was moved or deleted")
                self.wake()
                return
            if urgent:
                due = None
                self.wake()
            elif soon is not None:
                due = min(due or float("inf"), time.monotonic() + soon + 0.01)
            if due is not None and time.monotonic() >= due:
                due = None
                self.wake()

    def _handle(self, inotify: Inotify, events: list[Event]) -> tuple[bool, float | None, bool]:
        """Queue what the events say; returns (wake now, wake within so many seconds, the root is still
        watched)."""
        changes: dict[str, float | None] = {}
        urgent, alive = False, True
        soon = INCOMPLETE_WAKE  # how soon the pass is owed for the changes without a rename
        now = time.time()
        for ev in events:
            if ev.mask & IN_Q_OVERFLOW:
                log.info("seeds: the watcher's event queue overflowed; scanning the whole folder")
                self.queue.request_full("the event queue overflowed")
                urgent = True
                continue
            folder = self._dirs.get(ev.wd)
            if folder is None:
                continue  # a folder no longer watched
            if ev.mask & IN_IGNORED:
                del self._dirs[ev.wd]
                if folder == "":
                    alive = False
                continue
            if ev.mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT):
                if folder == "":
                    alive = False
                continue  # a subfolder: its parent's event says where it went
            rel = f"{folder}/{ev.name}" if folder else ev.name
            if not ev.name or hidden(rel):
                continue
            if ev.mask & IN_ISDIR:
                came = bool(ev.mask & (IN_CREATE | IN_MOVED_TO))
                if came:
                    self._add_tree(inotify, rel)
                if ev.mask & (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE):  # (its parent's time says so)
                    self.queue.request_full(f"folder {rel}/ {'appeared' if came else 'went'}", every_file=False)
                    urgent = True
                continue
            changes.pop(rel, None)
            if ev.mask & IN_MOVED_TO:  # renamed into place: complete at once
                changes[rel] = now
                urgent = True
            elif ev.mask & IN_CLOSE_WRITE:
                changes[rel] = now + CLOSE_QUIET
                soon = min(soon, CLOSE_QUIET)
            else:
                changes[rel] = None
        if changes:
            self.queue.add(changes)
        return urgent, soon if changes else None, alive

    def _add_tree(self, inotify: Inotify, rel: str) -> None:
        """Watch a folder and every folder under it that the scan would enter (not links, not hidden)."""
        top = os.fspath(self.path)
        stack = [rel]
        while stack:
            sub = stack.pop()
            path = os.path.join(top, sub) if sub else top
            try:
                self._dirs[inotify.add_watch(path, _MASK)] = sub
                with os.scandir(path) as listing:
                    for entry in listing:
                        if not entry.name.startswith((".", "~")) and entry.is_dir(follow_symlinks=False):
                            stack.append(f"{sub}/{entry.name}" if sub else entry.name)
            except FileNotFoundError:
                if not sub:
                    raise
            except PermissionError:
                if not sub:
                    raise
                # The full scan reports the folder that cannot be listed on every pass; no need to here.

"""Pick up a file dropped into ``seeds/`` within a second instead of at the next 30 s pass (and see
config.toml change, watched through its folder: an editor or `feeds import` replaces the file by renaming).

The watcher only says "something changed"; it never reads files. The callback runs the ordinary seeds
pass, which is idempotent (content hashes), so a missed, doubled or early event costs nothing but a pass —
the periodic pass stays the source of truth and the watcher is only a latency shortcut. That is why bursts
are coalesced to one call per debounce window and why every failure here is logged and survived rather
than raised: a broken watcher must degrade to polling, never stop the daemon.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from watchfiles import Change, watch

log = logging.getLogger(__name__)

DEFAULT_SUFFIXES = (".txt", ".md")
# How long the underlying watch blocks before handing back control with no events, so we notice a
# folder that was deleted (inotify stays silent after that) and re-enter the "waiting for it" loop.
_IDLE_CHECK_MS = 2000


def names_filter(names: Iterable[str]) -> Callable[[Change, str], bool]:
    """Added or modified entries called one of ``names`` (a deleted config is not a new one to load)."""
    wanted = frozenset(names)
    return lambda change, path: change != Change.deleted and os.path.basename(path) in wanted


def is_relevant(change: Change, path: str, suffixes: Iterable[str]) -> bool:
    """Added or modified files with a wanted suffix; hidden names are editors' and uploaders' temp files."""
    if change == Change.deleted:
        return False
    name = os.path.basename(path)
    if not name or name.startswith("."):
        return False
    return name.lower().endswith(tuple(s.lower() for s in suffixes))


class WatcherThread:
    """A watch on its own daemon thread: ``start()``, ``stop()`` within a moment, ``watching`` while the
    OS is delivering events. Subclasses write ``_run`` (it loops until ``_stop`` is set) and may make a
    blocked read return at once in ``_interrupt``.
    """

    def __init__(self, thread_name: str) -> None:
        self.thread_name = thread_name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._watching = threading.Event()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def watching(self) -> bool:
        """True while the folder exists and OS events are being received (False while waiting for it)."""
        return self._watching.is_set()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Returns within ~50 ms unless the callback is mid-call (then at most ``timeout``)."""
        self._stop.set()
        self._interrupt()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("folder watcher still busy in its callback after %.1fs; leaving it (daemon thread)",
                            timeout)

    def _interrupt(self) -> None:
        """Make the thread's blocking wait return now (it then sees ``_stop``)."""

    def _run(self) -> None:
        raise NotImplementedError


class FolderWatcher(WatcherThread):
    """``FolderWatcher(cfg.seeds_path, run_seeds_pass).start()`` … ``.stop()``.

    ``on_change`` runs on the watcher's own thread, one call at a time; changes made meanwhile are kept by
    the OS watcher and produce one more call afterwards.
    """

    def __init__(
        self,
        path: Path,
        on_change: Callable[[], None],
        *,
        debounce_ms: int = 200,
        suffixes: Iterable[str] = DEFAULT_SUFFIXES,
        force_polling: bool = False,
        poll_delay_ms: int = 300,
        retry_interval: float = 5.0,
        recursive: bool = True,
        accept: Callable[[Change, str], bool] | None = None,
        thread_name: str = "newswatch-watch",
    ) -> None:
        if debounce_ms <= 0:
            raise ValueError("debounce_ms must be positive")
        super().__init__(thread_name)
        self.path = Path(path)
        self.on_change = on_change
        self.debounce_ms = debounce_ms
        self.suffixes = tuple(suffixes)
        self.force_polling = force_polling
        self.poll_delay_ms = poll_delay_ms
        self.retry_interval = retry_interval
        self.recursive = recursive
        self.accept = accept  # instead of the suffix filter: config.toml is watched by its folder, for its name
        self._last_call = float("-inf")

    # -- thread ------------------------------------------------------------------------------------

    def _filter(self, change: Change, path: str) -> bool:
        if self.accept is not None:
            return self.accept(change, path)
        return is_relevant(change, path, self.suffixes)

    def _fire(self) -> None:
        wait = self._last_call + self.debounce_ms / 1000 - time.monotonic()
        if wait > 0 and self._stop.wait(wait):
            return
        self._last_call = time.monotonic()
        try:
            self.on_change()
        except Exception:
            log.exception("folder watcher callback failed; still watching", extra={"path": str(self.path)})

    def _run(self) -> None:
        waiting_since: float | None = None
        while not self._stop.is_set():
            if not self.path.is_dir():
                if waiting_since is None:
                    waiting_since = time.monotonic()
                    log.warning("watched folder is missing; retrying every %gs", self.retry_interval,
                                extra={"path": str(self.path)})
                self._stop.wait(self.retry_interval)
                continue
            if waiting_since is not None:
                waiting_since = None
                log.info("watched folder appeared; watching it", extra={"path": str(self.path)})
                self._fire()  # it may have arrived full of files (mv of a prepared folder)
                continue  # re-check existence and stop before watching
            self._watch_once()

    def _watch_once(self) -> None:
        try:
            self._watching.set()
            for changes in watch(
                self.path,
                watch_filter=self._filter,
                debounce=self.debounce_ms,
                step=min(50, self.debounce_ms),
                stop_event=self._stop,
                rust_timeout=_IDLE_CHECK_MS,
                yield_on_timeout=True,
                raise_interrupt=False,
                force_polling=self.force_polling,
                poll_delay_ms=self.poll_delay_ms,
                recursive=self.recursive,
            ):
                if changes:
                    self._fire()
                if self._stop.is_set() or not self.path.is_dir():
                    return
        except Exception as exc:
            # The folder vanished between the check and the watch, inotify limits, permission denied...
            log.warning("folder watch failed (%s: %s); retrying in %gs", type(exc).__name__, exc,
                        self.retry_interval, extra={"path": str(self.path)})
            self._stop.wait(self.retry_interval)
        finally:
            self._watching.clear()

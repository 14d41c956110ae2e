"""The per-document work between a source and the store: read, normalize, identify, match.

All of it is pure CPU work with no shared state, so a bulk import (thousands of files dropped at once)
runs it in worker processes on every core while the main process writes SQLite; a normal pass with a
few new files runs it in-process. Either way the result is the same list of ``SeedOutcome``s.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from itertools import chain
from typing import Any
from zoneinfo import ZoneInfo

from daemon.errors import SeedFileError
from daemon.match import Matcher
from daemon.models import Document, Match, Prepared, Rule, Wire
from daemon.sources.folder import SeedFile, read_seed
from daemon.stories.sketch import sketch
from daemon.text import Canonical, CanonicalBody, content_hash, normalize, normalize_body
from daemon.text.search import folded_words

PARALLEL_MIN_FILES = 400  # below this, starting worker processes costs more than it saves
CHUNK = 100  # files per task sent to a worker
IDLE_SECONDS = 60.0  # worker processes unused this long are stopped: an idle service keeps none
# Worker processes are replaced after this many tasks (at a moment with none running), so that what grows
# in them over months (caches of every syllable and figure met, allocator fragmentation) is given back.
RECYCLE_TASKS = 10_000


def prepare(doc: Document, *, stories: bool = False) -> Prepared:
    """Normalize a document and compute its identity (the content hash of its title and body).

    ``stories``: its sketch too (``daemon.stories.sketch``). Every source asks for it here, so that it
    runs wherever preparing runs: in the worker processes of a bulk import rather than the single
    writer. (A feed poll prepares only items whose links it has not seen.)
    """
    # A source may hand over text typed canonical (a seed file's body is, and its title when a header gave
    # it): such a document is kept as it is, and no stage normalizes its text again.
    if not (isinstance(doc.title, Canonical) and isinstance(doc.body, CanonicalBody) and doc.title and doc.body):
        title: str = normalize(doc.title)
        body = normalize_body(doc.body) or title  # a title-only feed item is still an article
        doc = replace(doc, title=title or body[:200], body=body)
    from daemon.text.docrefs import document_codes  # noqa: PLC0415  (its patterns cost a start ~5 ms)

    # The folded copy and the sketch read the same words: split once (a 5 KB body's ~20 µs, and as long
    # again to free them). folded_copy splits f"{title} {body}", which is these words end to end.
    split = doc.title.split(), doc.body.split()
    return Prepared(doc, content_hash(doc.title, doc.body), folded_words(chain(*split)),
                    sketch(doc.title, doc.body, split=split) if stories else None,
                    tuple(document_codes(f"{doc.title}\n{doc.body}")))


@dataclass(frozen=True, slots=True)
class SeedOutcome:
    """What became of one seed file: a prepared article with its matches, or the reason it was skipped."""

    seed: SeedFile
    prepared: Prepared | None = None
    matches: tuple[Match, ...] = ()
    sha256: str | None = None
    error: str | None = None

    def to_wire(self) -> Wire | str:
        """What a worker sends back (``daemon.models.Wire``): the prepared article, its matches and the
        file's SHA-256, or the reason for a skipped file. The seed is the caller's already."""
        p = self.prepared
        if p is None:
            return self.error or "unreadable"
        return p.to_wire(), [m.to_wire() for m in self.matches], self.sha256

    @classmethod
    def from_wire(cls, seed: SeedFile, wire: Wire | str) -> SeedOutcome:
        if isinstance(wire, str):
            return cls(seed, error=wire)
        prepared, matches, sha256 = wire
        return cls(seed, Prepared.from_wire(prepared), tuple(Match.from_wire(m) for m in matches), sha256)


def process_seed(seed: SeedFile, tz: ZoneInfo, matcher: Matcher, stories: bool = False) -> SeedOutcome:
    try:
        doc, sha = read_seed(seed, tz)
    except SeedFileError as exc:
        return SeedOutcome(seed, error=exc.reason)
    p = prepare(doc, stories=stories)
    return SeedOutcome(seed, p, tuple(matcher.match(p.doc.title, p.doc.body, p.doc.source)), sha)


# -- worker processes -----------------------------------------------------------------------------------

_worker: tuple[ZoneInfo, Matcher, bool] | None = None


def _init_worker(tz: str, rules: tuple[Rule, ...], parent: int, stories: bool = False, nice: int = 10) -> None:
    # Ctrl-C and SIGTERM reach the whole process group; the main process decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # The single writer (the main process) is the critical path: workers take the CPU it leaves.
    if nice:
        os.nice(nice)
    global _worker  # noqa: PLW0603 - one matcher per worker process, compiled once
    _worker = (ZoneInfo(tz), Matcher(rules), stories)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="parent-watch").start()


def _exit_with_parent(parent: int) -> None:
    """A worker whose service was killed (kill -9) must not linger: pool workers never notice on their own."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def _process_chunk(seeds: Sequence[tuple[str, str, int, int]]) -> list[Wire | str]:
    assert _worker is not None
    tz, matcher, stories = _worker
    return [process_seed(SeedFile.from_wire(seed), tz, matcher, stories).to_wire() for seed in seeds]


class Workers:
    """The worker processes of one configuration, shared by the seed bulk import and feed polls.

    Started on first use and stopped after ``idle`` seconds without a task, so a service between passes
    keeps no processes (and spends no CPU on them); replaced after ``recycle`` tasks, so that a service
    busy for months does not keep them for months. A pool broken by a worker's death (killed, out of
    memory) is replaced at the next use. ``nice``: how far below this process they run (the service's
    single writer is its critical path; `newswatch match` gives 0, its workers' work being its own).
    """

    def __init__(self, tz: ZoneInfo, rules: Sequence[Rule], *, stories: bool = False, count: int | None = None,
                 idle: float = IDLE_SECONDS, recycle: int = RECYCLE_TASKS, nice: int = 10) -> None:
        self.count = count if count is not None else (os.cpu_count() or 1)
        self._initargs = (tz.key, tuple(rules), os.getpid(), stories, nice)
        self._idle = idle
        self._recycle = recycle
        self._tasks = 0  # submitted to the current pool
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._busy = 0  # tasks submitted and not done
        self._last = 0.0  # monotonic time the last task finished
        self._timer: threading.Timer | None = None
        self._closed = False

    @property
    def running(self) -> bool:
        return self._pool is not None

    def submit(self, fn: Callable[..., Wire | str | list[Wire | str]], *args: object) -> Future[Any]:
        """Run ``fn(*args)`` in a worker (module-level ``fn``; plain arguments). Raises ``RuntimeError``
        once closed (and ``BrokenProcessPool``, a ``RuntimeError``, when the pool broke just now)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("worker processes closed")
            if self._pool is None:
                # "spawn": the service has threads (scheduler, watcher), and forking a threaded process is unsafe.
                self._pool = ProcessPoolExecutor(self.count, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_init_worker, initargs=self._initargs)
                self._tasks = 0
            future = self._pool.submit(fn, *args)
            self._busy += 1
            self._tasks += 1
        future.add_done_callback(self._done)
        return future

    def reset(self) -> None:
        """Drop a broken pool: the next task starts new workers."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _done(self, _future: Future[Any]) -> None:
        old: ProcessPoolExecutor | None = None
        with self._lock:
            self._busy -= 1
            self._last = time.monotonic()
            if self._busy == 0 and self._tasks >= self._recycle:
                old, self._pool = self._pool, None  # the next task starts fresh workers
            elif self._busy == 0 and self._timer is None:
                self._arm(self._idle)
        if old is not None:
            old.shutdown(wait=False)

    def _arm(self, seconds: float) -> None:
        """One timer per idle spell (not one per task: a busy service finishes tasks by the hundred)."""
        self._timer = threading.Timer(seconds, self._stop_if_idle)
        self._timer.daemon = True
        self._timer.start()

    def _stop_if_idle(self) -> None:
        with self._lock:
            self._timer = None
            if self._busy or self._pool is None or self._closed:
                return  # busy: the last task to finish arms it again
            left = self._idle - (time.monotonic() - self._last)
            if left > 0:
                self._arm(left)
                return
            pool, self._pool = self._pool, None
        pool.shutdown(wait=False)

    def close(self) -> None:
        """Stop the workers; a task still running ends with its worker, unread (cancelled when queued)."""
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def process_seeds(seeds: Sequence[SeedFile], tz: ZoneInfo, matcher: Matcher, rules: Sequence[Rule],
                  *, workers: int | None = None, stories: bool = False,
                  shared: Workers | None = None) -> Generator[list[SeedOutcome], None, None]:
    """Outcomes in file order, a chunk at a time (so the caller can store while workers go on).

    ``stories``: each prepared article carries its sketch, computed where it is parsed. ``shared``: the
    service's worker processes (made with the same rules and ``stories``); without it, a bulk import
    starts its own for the time it takes.
    """
    workers = shared.count if shared is not None else workers if workers is not None else (os.cpu_count() or 1)
    if len(seeds) < PARALLEL_MIN_FILES or workers < 2:
        for i in range(0, len(seeds), CHUNK):
            yield [process_seed(s, tz, matcher, stories) for s in seeds[i : i + CHUNK]]
        return
    if shared is not None:
        chunks = [seeds[i : i + CHUNK] for i in range(0, len(seeds), CHUNK)]
        futures = [shared.submit(_process_chunk, [s.to_wire() for s in chunk]) for chunk in chunks]
        try:
            for chunk, future in zip(chunks, futures, strict=True):
                yield [SeedOutcome.from_wire(seed, w) for seed, w in zip(chunk, future.result(), strict=True)]
        finally:  # the caller stopped early (shutting down), or a worker died: what is queued is dropped
            for future in futures:
                future.cancel()
        return
    # "spawn": the service has threads (scheduler, watcher), and forking a threaded process is unsafe.
    context = multiprocessing.get_context("spawn")
    chunks = [seeds[i : i + CHUNK] for i in range(0, len(seeds), CHUNK)]
    tasks = [[s.to_wire() for s in chunk] for chunk in chunks]
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(tz.key, tuple(rules), os.getpid(), stories)) as pool:
        try:
            for chunk, packed in zip(chunks, pool.map(_process_chunk, tasks), strict=True):
                yield [SeedOutcome.from_wire(seed, w) for seed, w in zip(chunk, packed, strict=True)]
        except GeneratorExit:
            pool.shutdown(wait=False, cancel_futures=True)  # the caller stopped early (shutting down)
            raise

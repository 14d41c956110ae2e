"""A rule run again over stored articles (`newswatch match`): on two cores when they are many.

A common rule finds a quarter of a month of a year's archive, 20,000 articles, and matching them costs
about 40 µs each in Python: most of a second of one core while another idles. So the articles are cut
into chunks; this process matches them from the back while the service's worker processes
(``daemon.prepare.Workers``, the ones a seed bulk import uses) are handed the next from the front, two
at a time each, once one has started. They meet wherever the workers' speed puts them: a worker slow to
start (a spawned interpreter importing the daemon: 0.15–0.3 s) or starved by a busy machine only
does less, and one that dies leaves its chunks to this process. The output is in the articles'
order whoever matched them. A worker is started before the articles are read (``start_early``), so that
its start overlaps the read, and used only for a core that idled meanwhile (``IdleMeter``) and that the
load average leaves idle too: beside other work it costs more than it saves.

The stored text is what ``prepare`` made of each article, so it is not normalized again when its content
hash vouches for it (``text.normalize.vouched_by_hash``); a row edited by hand is normalized as the
service would. Either way each article gets exactly the matches ``Matcher.match`` gives it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from daemon.match import Matcher
from daemon.models import Match, Rule, Wire
from daemon.text.normalize import vouched_by_hash

if TYPE_CHECKING:  # imported with the first worker: multiprocessing costs a one-process run 60 ms
    from daemon.prepare import Workers

log = logging.getLogger(__name__)

# Below this many articles (0.25 s of matching) one process is about done when a worker has started.
PARALLEL_MIN_ARTICLES = 6000
CHUNK = 250  # articles per task: ~12 ms of matching, so neither side waits long for the other's last one
StoredText = tuple[str, str, str, str]  # title, body, content hash, source: what matching reads of a row


def match_stored(matcher: Matcher, title: str, body: str, stored_hash: str, source: str) -> list[Match]:
    """``matcher.match`` of a stored article, without normalizing text its hash proves canonical."""
    return matcher.match(title, body, source, canonical=vouched_by_hash(title, body, stored_hash))


def _match_chunk(texts: Sequence[StoredText]) -> Wire:
    """In a worker: (index in the chunk, [match wires]) of the articles that fire; the others send nothing."""
    from daemon import prepare  # noqa: PLC0415  (imported already: it started this worker)

    assert prepare._worker is not None  # the worker's state, set by its initializer
    matcher = prepare._worker[1]
    return tuple((i, [m.to_wire() for m in found]) for i, text in enumerate(texts)
                 if (found := match_stored(matcher, *text)))


def spare_workers(cores: int, idle: float) -> int:
    """One worker per core that idles besides this process's, else none.

    A worker costs 0.25–0.45 s of CPU more than it saves (its start, and the chunks' round trips): that
    is free on a core that idles, and taken from this command on a busy machine. Measured on two cores
    with other work on one of them (load 1.4), one worker made `match` 1.2–1.5× slower, so a worker is
    used only for a core that was at least 80 % idle (``idle``: cores' worth, see ``IdleMeter``).
    """
    return max(0, min(cores - 1, int(idle + 0.2)))


def _cpu_ticks() -> tuple[int, int] | None:
    """(idle, all) CPU time of the machine since boot in clock ticks, from Linux's /proc/stat; else None."""
    try:
        with open("/proc/stat", "rb") as stat:
            ticks = [int(t) for t in stat.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
    except (OSError, ValueError):
        return None
    return (ticks[3] + ticks[4], sum(ticks)) if len(ticks) >= 5 else None


class IdleMeter:
    """How many cores besides this process's idled since it was made: made before the articles are read,
    it says whether a worker would have had a core to itself just now.

    The 1-minute load average lags: it let a worker start beside a benchmark that had begun seconds
    before. This sees the last fraction of a second, but bursty work pauses: ``match_archive`` asks both.
    """

    _MIN_TICKS = 10  # of all cores together (0.05 s of two): less says nothing; the load average decides

    def __init__(self) -> None:
        self._start = _cpu_ticks()

    def idle_cores(self, cores: int) -> float:
        now = _cpu_ticks()
        if self._start is None or now is None or now[1] - self._start[1] < self._MIN_TICKS:
            return cores - 1 - os.getloadavg()[0]
        return (now[0] - self._start[0]) / (now[1] - self._start[1]) * cores


def _started() -> Wire:
    return ()


@dataclass(frozen=True, slots=True)
class Helpers:
    """Worker processes started for one `match`, and the answer that says they are up."""

    pool: Workers
    ready: Future[Wire]

    def close(self) -> None:
        self.pool.close()


def start_workers(rules: Sequence[Rule], tz: ZoneInfo, count: int) -> Helpers:
    # Imported here: worker processes (multiprocessing, the seed reader) cost a one-process run 60 ms.
    from daemon.prepare import Workers  # noqa: PLC0415

    # Not niced as a service's are (there the single writer is the critical path): here both are.
    pool = Workers(tz, rules, count=count, nice=0)
    # Nothing is sent before a worker has started (it answers this): a chunk waiting for a worker still
    # importing the daemon would keep this process waiting when it is done with the rest.
    return Helpers(pool, pool.submit(_started))


def start_early(rules: Sequence[Rule], tz: ZoneInfo, candidates: Callable[[], int], *,
                parallel_min: int = PARALLEL_MIN_ARTICLES) -> Helpers | None:
    """Workers for about ``candidates()`` articles (asked only when the load average leaves a core idle:
    counting costs a rule in 3 % of the articles a tenth of its time), started before they are read; or None.

    A worker takes 0.15–0.3 s to start (a spawned interpreter importing the daemon), about the time of
    reading 20,000 articles: started first, it is ready when matching begins instead of halfway through.
    Whether it is used is still decided when the articles are read (``match_archive``'s ``idle``).
    """
    cores = os.cpu_count() or 1
    count = spare_workers(cores, cores - 1 - os.getloadavg()[0])
    return start_workers(rules, tz, count) if count >= 1 and candidates() >= parallel_min else None


def match_archive(rules: Sequence[Rule], texts: Sequence[StoredText], tz: ZoneInfo, *, workers: int | None = None,
                  idle: IdleMeter | None = None, helpers: Helpers | None = None,
                  parallel_min: int = PARALLEL_MIN_ARTICLES, chunk: int = CHUNK) -> list[list[Match]]:
    """Each article's matches (empty when no rule fires), in the order of ``texts``.

    ``workers``: worker processes besides this one (default: ``spare_workers`` for the cores both ``idle``,
    made before the articles were read, saw idling and the load average leaves).
    ``helpers``: workers ``start_early`` started, used if there are to be workers (the caller closes
    them); else they are started here, and closed when done.
    """
    matcher = Matcher(rules)
    cores = os.cpu_count() or 1
    by_load = cores - 1 - os.getloadavg()[0]
    # Both must agree: the load average alone lags (a worker beside a benchmark that began seconds ago),
    # a core idle during the read alone may be a pause in bursty work that is back for the matching.
    count = workers if workers is not None else spare_workers(
        cores, min(idle.idle_cores(cores), by_load) if idle is not None else by_load)
    if count < 1 or len(texts) < parallel_min:
        return [match_stored(matcher, *text) for text in texts]
    chunks = [texts[i : i + chunk] for i in range(0, len(texts), chunk)]
    done: list[list[list[Match]] | None] = [None] * len(chunks)
    sent: dict[int, Future[Wire]] = {}
    front, back = 0, len(chunks)  # chunks before ``front`` went to a worker, those from ``back`` on are done here
    mine = helpers is None
    if helpers is None:
        helpers = start_workers(rules, tz, count)
    pool, started, count = helpers.pool, helpers.ready, helpers.pool.count
    failed: BaseException | None = None  # a worker died (killed, out of memory): the rest is matched here
    try:
        while front < back or sent:
            for i in [i for i, future in sent.items() if future.done() or front >= back]:
                try:
                    done[i] = _unpack(sent.pop(i).result(), len(chunks[i]))
                except Exception as exc:
                    failed = failed if failed is not None else exc
                    done[i] = [match_stored(matcher, *text) for text in chunks[i]]
            # Two tasks a worker: one running, the next waiting, so it never idles while this one matches.
            while failed is None and started.done() and len(sent) < 2 * count and front < back:
                try:
                    sent[front] = pool.submit(_match_chunk, list(chunks[front]))
                except RuntimeError as exc:  # the pool broke just now
                    failed = exc
                    break
                front += 1
            if front < back:
                back -= 1
                done[back] = [match_stored(matcher, *text) for text in chunks[back]]
    finally:
        if mine:
            pool.close()
    if failed is not None:
        log.warning("a worker process failed (%s); its articles were matched in this one",
                    str(failed) or type(failed).__name__)
    return [matches for part in done if part is not None for matches in part]


def _unpack(fired: Wire, size: int) -> list[list[Match]]:
    """A worker's answer for a chunk of ``size`` articles: each article's matches."""
    part: list[list[Match]] = [[] for _ in range(size)]
    for at, wires in fired:
        part[at] = [Match.from_wire(w) for w in wires]
    return part

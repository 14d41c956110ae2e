"""One pass of the service: due sources → parse → normalize → dedupe → match → store → outbox → deliver.

Each public method is one scheduler job (and ``run --once`` calls them all once). Failures of one source
are logged as one line naming it and recorded; they never stop the pass. Matching runs only for
articles the store has not seen, so a re-scan of known material costs hashing and nothing more.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Generator, Mapping, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from daemon.config import Config, human_duration
from daemon.deliver.outbox import DeliveryReport, deliver_due
from daemon.match import Matcher
from daemon.models import Document, FeedConfig, Match, Prepared, Wire
from daemon.prepare import Workers, prepare, process_seeds
from daemon.prepare_feeds import FeedItems, feed_outcome, feed_task, prepare_feed, worker_died
from daemon.sources.feeds.decide import PollDecision, decide_poll
from daemon.sources.feeds.fetch import FeedFetcher, parsed_result
from daemon.sources.feeds.results import FeedState, FetchResult
from daemon.sources.folder import GONE, SETTLE_SECONDS, FolderMemory, SeedFile, include, rescan, scan, scan_paths
from daemon.store import Store
from daemon.store.articles import IngestReport, LedgerEntry, NewItem
from daemon.stories.sketch import sketch


class Metrics(Protocol):
    """What the pipeline reports; the service passes its Prometheus metrics (daemon.service.http)."""

    def record_ingest(self, source: str, *, new: int = 0, duplicates: int = 0) -> None: ...
    def record_fetch(self, feed: str, *, ok: bool, not_modified: bool = False, unchanged: bool = False) -> None: ...
    def record_delivery(self, webhook: str, *, ok: bool, latency: float | None = None) -> None: ...

log = logging.getLogger(__name__)

SEED_BATCH = 500  # files per transaction: small enough to overlap storing with the workers' parsing
# Feeds are parsed in the worker processes when a pass has this many, or the service follows this many (its
# polls then come often enough to keep the workers started), or the workers run already; else in the
# fetching threads. Measured (bench_feeds.py --crossover, first passes, workers started cold): 40 feeds
# took 1.06 times as long in the workers, 80 feeds 0.89; 5 feeds 3.3 times (starting them costs ~1.2 s).
PARALLEL_MIN_FEEDS = 50
# A pass stores the feeds whose results are ready together in one transaction, up to about this many items
# (``Pipeline._fetch``): the size of a seed batch, a fifth of a second of the writer's time.
WRITE_BATCH_ITEMS = 500


@dataclass(slots=True)
class SourceReport:
    """What one source produced in one pass (printed by `newswatch fetch`, counted in metrics)."""

    source: str
    new: int = 0
    duplicates: int = 0
    skipped: int = 0
    matches: int = 0
    alerts: int = 0
    errors: list[str] = field(default_factory=list)
    warning: str | None = None
    not_modified: bool = False
    unchanged: bool = False  # a 200 with the same bytes as the last parse: not parsed again
    titles: list[str] = field(default_factory=list)
    settle_at: float | None = None  # epoch seconds when files still being written may be read
    held: list[str] = field(default_factory=list)  # those files (seed paths): the next pass looks again
    rescan: bool = False  # a pickup met a folder: only a full scan can say what is in it

    def add(self, r: IngestReport) -> None:
        self.new += len(r.new)
        self.duplicates += len(r.duplicates)
        self.matches += r.matches
        self.alerts += r.alerts
        self.titles += [p.doc.title for _, p in r.new]


class Pipeline:
    def __init__(self, config: Config, store: Store, *, metrics: Metrics | None = None,
                 stop: threading.Event | None = None) -> None:
        self.config = config
        self.store = store
        self.metrics = metrics
        self._stop = stop or threading.Event()
        self._deliver_lock = threading.Lock()
        self.matcher = Matcher(config.rules)
        self._rules = {r.name: r for r in config.rules}
        self._fetcher: FeedFetcher | None = None
        self._workers: Workers | None = None
        # Per feed, the keys of the items its last parsed poll held (all stored or seen since): the next poll
        # skips their text (``feed_documents``). In memory only; after a restart the first poll reads them all.
        self._known: dict[str, frozenset[str]] = {}
        self._held: set[str] = set()  # seed files the last pass held back, said once
        store.sync_feeds(config.feeds)
        if config.stories.enabled:  # the first start after the upgrade: every stored article gets its story
            store.backfill_stories(config.stories)

    @property
    def fetcher(self) -> FeedFetcher:
        if self._fetcher is None:
            self._fetcher = FeedFetcher(self.config.fetch, self.config.tz)
        return self._fetcher

    @property
    def workers(self) -> Workers:
        """The worker processes (started at the first task, stopped when idle), for seeds and feeds."""
        if self._workers is None:
            self._workers = Workers(self.config.tz, self.config.rules, stories=self.config.stories.enabled)
        return self._workers

    def close(self) -> None:
        if self._fetcher is not None:
            self._fetcher.close()
        if self._workers is not None:
            self._workers.close()

    # -- ingestion shared by every source ------------------------------------------------------
    def _alert_targets(self, matches: Sequence[Match]) -> list[tuple[str, str]]:
        enabled = [h.name for h in self.config.webhooks if h.enabled]
        pairs: list[tuple[str, str]] = []
        for rule_name in dict.fromkeys(m.rule for m in matches):
            rule = self._rules.get(rule_name)
            targets = rule.webhooks if rule and rule.webhooks else enabled
            pairs += [(rule_name, hook) for hook in targets if hook in enabled]
        return pairs

    def ingest(self, docs: Sequence[Document], ledger: Sequence[LedgerEntry] = ()) -> IngestReport:
        """Dedupe, match and store a batch; the ledger entries are written in the same transaction."""
        stories = self.config.stories.enabled
        return self._ingest_prepared([(prepare(d, stories=stories), None) for d in docs], ledger)

    def _ingest_prepared(self, entries: Sequence[tuple[Prepared, Sequence[Match] | None]],
                         ledger: Sequence[LedgerEntry] = ()) -> IngestReport:
        """Store prepared documents; match the new ones unless matches came along (from a worker)."""
        # a busy database is retried by the store, as every write is
        return self.store.ingest(self._new_items([entries])[0], ledger, stories=self.config.stories)

    def _new_items(self, groups: Sequence[Sequence[tuple[Prepared, Sequence[Match] | None]]]) -> list[list[NewItem]]:
        """The groups' entries as items to store, deduped in order across all of them (a text already stored,
        or met earlier in the groups, is a duplicate: recorded as a sighting, never matched again)."""
        known = self.store.known_hashes(p.content_hash for entries in groups for p, _ in entries)
        stories = self.config.stories.enabled
        fresh: set[str] = set()
        out: list[list[NewItem]] = []
        for entries in groups:
            items: list[NewItem] = []
            for p, given in entries:
                if p.content_hash in known or p.content_hash in fresh:
                    items.append(NewItem(p))
                    continue
                fresh.add(p.content_hash)
                matches = given if given is not None else self.matcher.match(p.doc.title, p.doc.body, p.doc.source)
                items.append(NewItem(p, matches, self._alert_targets(matches),
                                     (p.sketch or sketch(p.doc.title, p.doc.body)) if stories else None))
            out.append(items)
        return out

    # -- jobs ------------------------------------------------------------------------------------
    def scan_seeds(self, paths: Mapping[str, float | None] | None = None, *, full: bool = False,
                   reason: str = "", folders: FolderMemory | None = None, every_file: bool = True) -> SourceReport:
        """Ingest new or changed files from the seed folder: only ``paths`` (the watcher's changed seed
        paths, each with when it was known complete; see ``scan_paths``), or the whole folder without
        them or with ``full`` (then what ``paths`` knows still spares complete files the settle wait).

        ``folders``: the service's memory of the folders, refreshed by a whole-folder pass that finishes.
        Without ``every_file`` such a pass lists only the folders that changed since (``rescan``), when
        the memory has this folder; otherwise every file is ``stat``ed.
        """
        report = SourceReport("seeds")
        start = time.perf_counter()
        follow = self.config.seeds_follow_symlinks
        root = self.config.seeds_path
        if paths is None or full:
            why = f" ({reason})" if reason else ""
            if folders is not None and not every_file and folders.usable_for(root):
                result = rescan(root, folders.folders, self.store.ledger_in, time.time(), follow_symlinks=follow,
                                complete=paths)
                seen = {s.relpath for s in (*result.changed, *result.settling, *(s for s, _ in result.skipped))}
                rest = {p: c for p, c in (paths or {}).items() if p not in seen and p not in result.deleted}
                if rest:  # what the watcher saw change in folders not listed (a file rewritten in place)
                    include(result, scan_paths(root, rest, self.store.ledger_of(rest), time.time(),
                                               follow_symlinks=follow))
                log.debug("seeds: safety-net scan%s: %d of %d folders unchanged, not listed (%d files in them);"
                          " %d listed: %d unchanged, %d new or changed, %d settling, %d deleted in %.3fs", why,
                          result.kept, result.kept + result.listed, result.kept_files, result.listed,
                          result.unchanged, len(result.changed) + len(result.skipped), len(result.settling),
                          len(result.deleted), time.perf_counter() - start)
            else:
                result = scan(root, self.store.ledger(), time.time(), follow_symlinks=follow, complete=paths)
                log.debug("seeds: full scan%s: %d unchanged, %d new or changed, %d settling, %d deleted in %.3fs",
                          why, result.unchanged, len(result.changed) + len(result.skipped), len(result.settling),
                          len(result.deleted), time.perf_counter() - start)
        else:
            folders = None  # (a pickup lists no folder: the memory stays as it is)
            result = scan_paths(root, paths, self.store.ledger_of(paths), time.time(), follow_symlinks=follow)
            report.rescan = result.rescan
            shown = ", ".join(list(paths)[:5]) + (", …" if len(paths) > 5 else "")
            log.debug("seeds: targeted pickup of %d path%s, no full scan: %s (%.3fs)", len(paths),
                      "" if len(paths) == 1 else "s", shown, time.perf_counter() - start)
        if folders is not None:
            folders.forget()  # until this pass has stored what it found (a failure leaves nothing to trust)
        if result.missing:
            report.errors.append(f"seed folder {self.config.seeds_path} does not exist")
            log.warning("seeds: folder %s does not exist; nothing to scan", self.config.seeds_path)
            return report
        for error in result.errors:
            log.warning("seeds: %s", error)
            report.errors.append(error)
        if result.deleted:
            self._mark_deleted(result.deleted)
        names = report.held = sorted(s.relpath for s in result.settling)
        report.settle_at = result.settle_at
        if names and not set(names) <= self._held:  # a slow copy is announced once, not at every pass
            log.info("seeds: holding back %d file%s still being written (%s%s); read once unchanged for %gs",
                     len(names), "" if len(names) == 1 else "s", ", ".join(names[:3]), ", …" if len(names) > 3 else "",
                     SETTLE_SECONDS)
        self._held = set(report.held)
        entries: list[tuple[Prepared, Sequence[Match] | None]] = []
        ledger: list[LedgerEntry] = []
        for seed, why in result.skipped:  # found by the scan itself (a symlink loop, ...): never read
            ledger.append(_skipped(seed, why, report))
        outcomes = process_seeds(result.changed, self.config.tz, self.matcher, self.config.rules,
                                 stories=self.config.stories.enabled, shared=self.workers)
        for chunk in outcomes:
            for o in chunk:
                seed = o.seed
                if o.error == GONE:  # taken away since the scan: as if never seen (no warning, no ledger row)
                    log.debug("seeds: %s gone before it was read", seed.relpath)
                elif o.prepared is None:
                    ledger.append(_skipped(seed, o.error or "unreadable", report))
                else:
                    entries.append((o.prepared, o.matches))
                    ledger.append(LedgerEntry(seed.relpath, seed.size, seed.mtime_ns, o.sha256,
                                              o.prepared.content_hash))
            if len(ledger) >= SEED_BATCH:
                self._store_seeds(entries, ledger, report)
                entries, ledger = [], []
            if self._stop.is_set():
                outcomes.close()  # stopping: the rest waits for the next start (the ledger says what is done)
                break
        if ledger:
            self._store_seeds(entries, ledger, report)
        if folders is not None and not self._stop.is_set():
            folders.keep(root, result)
        if report.new or report.skipped:
            log.info("seeds: %d new, %d duplicate, %d skipped, %d alerts queued",
                     report.new, report.duplicates, report.skipped, report.alerts)
        return report

    def _mark_deleted(self, paths: Sequence[str]) -> None:
        """One line per pass however many files went (a folder emptied at once is thousands)."""
        self.store.mark_seed_files_deleted(paths)
        shown = ", ".join(paths[:10]) + (f" and {len(paths) - 10} more" if len(paths) > 10 else "")
        log.info("seeds: %d %s gone from the folder, marked deleted in seed_files (articles kept): %s",
                 len(paths), "file" if len(paths) == 1 else "files", shown)

    def _store_seeds(self, entries: Sequence[tuple[Prepared, Sequence[Match] | None]],
                     ledger: Sequence[LedgerEntry], report: SourceReport) -> None:
        outcome = self._ingest_prepared(entries, ledger)
        report.add(outcome)
        report.skipped += outcome.skipped
        if self.metrics is not None:
            self.metrics.record_ingest("seeds", new=len(outcome.new), duplicates=len(outcome.duplicates))

    def poll_feeds(self, names: Sequence[str] | None = None, *, force: bool = False,
                   now: datetime | None = None) -> list[SourceReport]:
        """Fetch every due feed (or the named ones) and ingest their new items."""
        now = now or self.store.now()
        feeds = [f for f in self.config.feeds if f.enabled or (names and f.name in names)]
        if names is not None:
            feeds = [f for f in feeds if f.name in names]
        if not force:
            due = self.store.due_feed_names(now)
            feeds = [f for f in feeds if f.name in due]
        if not feeds:
            return []
        enabled = sum(f.enabled for f in self.config.feeds)
        use_workers = self.workers.count >= 2 and (max(len(feeds), enabled) >= PARALLEL_MIN_FEEDS
                                                   or self.workers.running)
        reports: list[SourceReport | None] = [None] * len(feeds)
        fetched = self._fetch(feeds, use_workers)
        for ready in fetched:
            polls = [(feeds[i], result, items) for i, result, items in ready]
            for (i, _, _), report in zip(ready, self._record_feeds(polls, now), strict=True):
                reports[i] = report
            if self._stop.is_set():
                fetched.close()  # stopping: the feeds not recorded stay due, polled at the next start
                break
        return [r for r in reports if r is not None]

    def _fetch(self, feeds: Sequence[FeedConfig],
               use_workers: bool) -> Generator[list[tuple[int, FetchResult, FeedItems | None]], None, None]:
        """[(index, result, prepared items or None)] for the feeds that are ready, as they come: fetched
        ``[fetch] concurrency`` at a time by threads, parsed in the workers (or in the fetching thread),
        while the caller stores what has come. Each list holds what was ready when the caller asked
        (up to ``WRITE_BATCH_ITEMS`` items): it is stored in one transaction, so a writer that falls behind
        catches up with fewer, larger ones, and one that keeps up waits for nothing."""
        done: queue.Queue[tuple[int, FetchResult, Future[Wire | str] | None, float]] = queue.Queue()
        states = [self.store.feed_state(f.name) for f in feeds]

        def fetch_one(i: int, feed: FeedConfig, state: FeedState) -> None:
            result = self.fetcher.download(feed, state)
            known = self._known.get(feed.name, ())
            try:
                if result.body is not None and use_workers and not feed.full_text:  # full text: pages to fetch
                    started = time.monotonic()
                    future = self.workers.submit(prepare_feed, feed_task(feed, result, self.store.now(), known))
                    future.add_done_callback(lambda f: done.put((i, result, f, started)))
                    return
            except RuntimeError as exc:  # closed (a reload, a stop) or broken just now: parse it here
                log.debug("feed %s: parsed in-process (%s)", feed.name, exc)
            except Exception as exc:  # a bug: this feed's error, and the pass goes on (nothing waits for ever)
                log.exception("feed %s: unexpected error", feed.name)
                result = parsed_result(result, error=f"unexpected error: {type(exc).__name__}: {exc}",
                                       elapsed=result.elapsed)
            done.put((i, self.fetcher.parse(feed, result, known), None, 0.0))

        def received(i: int, result: FetchResult, future: Future[Wire | str] | None,
                     started: float) -> tuple[int, FetchResult, FeedItems | None]:
            return (i, result, None) if future is None else (i, *self._from_worker(feeds[i], result, future, started))

        threads: ThreadPoolExecutor | None = None
        if len(feeds) == 1:  # a scheduled job's poll: fetched in the job's own thread
            fetch_one(0, feeds[0], states[0])
        else:
            threads = ThreadPoolExecutor(min(self.config.fetch.concurrency, len(feeds)), thread_name_prefix="feed")
            for i, (feed, state) in enumerate(zip(feeds, states, strict=True)):
                threads.submit(fetch_one, i, feed, state)
        try:
            left = len(feeds)
            while left:
                ready = [received(*done.get())]
                count = len(ready[0][1].documents)
                while len(ready) < left and count < WRITE_BATCH_ITEMS:
                    try:
                        ready.append(received(*done.get_nowait()))
                    except queue.Empty:
                        break
                    count += len(ready[-1][1].documents)
                left -= len(ready)
                yield ready
        finally:  # stopping early: fetches not started are cancelled, running ones end on their own
            if threads is not None:
                threads.shutdown(wait=not self._stop.is_set(), cancel_futures=True)

    def _from_worker(self, feed: FeedConfig, downloaded: FetchResult, future: Future[Wire | str],
                     started: float) -> tuple[FetchResult, FeedItems | None]:
        try:
            wire = future.result()
        except CancelledError:  # the workers were closed under the pass (a reload): parse it here
            return self.fetcher.parse(feed, downloaded, self._known.get(feed.name, ())), None
        except BrokenProcessPool:  # a worker died (killed, out of memory): once more in new workers
            self.workers.reset()
            log.warning("feed %s: a worker process died while parsing it; trying again", feed.name)
            try:
                task = feed_task(feed, downloaded, self.store.now(), self._known.get(feed.name, ()))
                wire = self.workers.submit(prepare_feed, task).result()
            except BrokenProcessPool as exc:
                self.workers.reset()
                return worker_died(downloaded, exc, time.monotonic() - started), None
        return feed_outcome(downloaded, wire, downloaded.elapsed + time.monotonic() - started)

    def _record_feeds(self, polls: Sequence[tuple[FeedConfig, FetchResult, FeedItems | None]],
                      now: datetime) -> list[SourceReport]:
        """Decide each poll's outcome (pure), then store their articles and the feeds' rows in one transaction.

        Each poll's ``items``: the result's documents prepared and matched in a worker; without them, the
        new ones are prepared and matched here.
        """
        decisions: list[PollDecision] = []
        groups: list[list[tuple[Prepared, Sequence[Match] | None]]] = []
        stories = self.config.stories.enabled
        for feed, result, items in polls:
            locators = [d.locator for d in result.documents]
            seen = self.store.seen_locators(feed.name, locators) if locators else set()
            decision = decide_poll(feed, result, self.store.feed_row(feed.name), seen, now=now,
                                   max_backoff=self.config.fetch.max_backoff)
            decisions.append(decision)
            if items is None:
                groups.append([(prepare(d, stories=stories), None) for d in decision.documents])
            else:
                groups.append([(replace(items[i][0], doc=d), items[i][1])
                               for i, d in zip(decision.kept, decision.documents, strict=True)])
        outcomes = self.store.ingest_polls([(items, d.feed) for items, d in zip(self._new_items(groups), decisions,
                                                                               strict=True)],
                                           stories=self.config.stories)
        return [self._poll_report(feed, result, decision, outcome)
                for (feed, result, _), decision, outcome in zip(polls, decisions, outcomes, strict=True)]

    def _poll_report(self, feed: FeedConfig, result: FetchResult, decision: PollDecision,
                     outcome: IngestReport) -> SourceReport:
        """A stored poll's report, metrics and log lines."""
        if result.item_keys:  # stored: what this poll held is known to the next one
            self._known[feed.name] = frozenset(result.item_keys)
        report = SourceReport(feed.name, not_modified=result.not_modified, unchanged=result.unchanged,
                              warning=result.warning)
        report.add(outcome)
        if self.metrics is not None:
            if decision.documents:
                self.metrics.record_ingest(feed.name, new=len(outcome.new), duplicates=len(outcome.duplicates))
            self.metrics.record_fetch(feed.name, ok=result.error is None, not_modified=result.not_modified,
                                      unchanged=result.unchanged)
        if result.error:
            report.errors.append(result.error)
            log.warning("feed %s: %s (attempt %d, next try in %s)", feed.name, result.error, decision.attempt,
                        human_duration(decision.delay))
        else:
            if result.moved_to:
                log.warning("feed %s: moved permanently to %s; using the new URL", feed.name, result.moved_to)
            if result.warning:
                log.info("feed %s: kept items despite a parse warning: %s", feed.name, result.warning)
            if report.new:
                log.info("feed %s: %d new, %d duplicate, %d alerts queued%s", feed.name, report.new,
                         report.duplicates, report.alerts, " (first fetch: no alerts)" if decision.quiet else "")
        return report

    def deliver(self, now: datetime | None = None) -> DeliveryReport:
        """POST due alerts to their webhooks; one delivery run at a time, so no alert is sent twice at once."""
        with self._deliver_lock:
            report = deliver_due(self.store, self.config.webhooks, now=now)
        if self.metrics is not None:
            for name, hook in report.webhooks.items():
                for latency in hook.latencies:
                    self.metrics.record_delivery(name, ok=True, latency=latency)
                for _ in range(hook.retried + hook.failed):
                    self.metrics.record_delivery(name, ok=False)
        return report

    def run_once(self) -> list[SourceReport]:
        """Exactly one tick of every job, in pipeline order."""
        reports = [self.scan_seeds(), *self.poll_feeds()]
        self.deliver()
        return reports


def _skipped(seed: SeedFile, reason: str, report: SourceReport) -> LedgerEntry:
    """One line naming the file; the ledger entry keeps it from being reported again until it changes."""
    log.warning("seeds: skipped %s: %s", seed.relpath, reason)
    report.errors.append(f"{seed.relpath}: {reason}")
    return LedgerEntry(seed.relpath, seed.size, seed.mtime_ns, reason=reason)


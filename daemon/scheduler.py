"""The long-running service: APScheduler jobs, signals, the instance lock, systemd notifications.

Jobs (each ``max_instances=1``, coalesced, never silently skipped):

* ``seeds``       read the seed files the folder watcher saw change (at once, woken by it, and every
                  ``[seeds] interval``); the whole folder at the start, when events were lost, when
                  folders came or went, and every ``[seeds] rescan_interval`` (every interval without a
                  watcher). The last two list only the folders that changed, except every
                  ``full_rescan_interval``, when every file is ``stat``ed
* ``feed:NAME``   one per feed at its interval with jitter; the database decides whether it is due, so a
                  restart keeps backoff and next-due times
* ``deliver``     POST due alerts (first tries and retries) every ``[delivery] interval``; also run right
                  after a pass that queued alerts
* ``checkpoint``  ``wal_checkpoint(TRUNCATE)`` so the WAL cannot grow without bound
* ``brief``       (with ``[[briefings]]``) make every due briefing once and queue its ``briefing.ready``; runs
                  when the next period ends, and at least once a minute. A pass that stored matches also
                  checks the rules for a spike (``rule.spike``, once per rule and day)

Signals: SIGTERM/SIGINT stop: no job starts any more, running jobs get ``shutdown_timeout`` (counted from
the signal) to finish, and the process exits 0 within about a second after that whatever still runs. A job
still running then is abandoned: its open transaction rolls back (committed ones are already in the WAL), so
what it had not finished is redone at the next start. A stop that itself hangs (a bug) still ends: 2.5 s
after ``shutdown_timeout`` a guard thread logs every thread's stack and exits 1.

SIGHUP reloads config.toml and keeps the old config if the new one is invalid. With ``[service]
watch_config`` (the default) a change to the file does the same without the signal, because people edit
it and forget to send one: its folder is watched, and a reload runs when the file's bytes differ from those
loaded (an editor's save that changes nothing, or a touch, does not reload; an invalid file is refused
once, not at every event).

Jobs never call into the scheduler once a stop has begun, and the stop never waits for jobs inside
APScheduler (whose ``shutdown(wait=True)`` holds the lock that ``get_job``/``modify_job`` need): the service
counts its running jobs itself.

A full disk makes every writing job fail until there is room: that is logged once, then once a minute while
it lasts, and once when writes work again (``daemon.service.outage``), instead of once per failed run.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from daemon.brief.schedule import IDLE_TICK, queue_spikes, tick
from daemon.config import Config, file_digest, load
from daemon.errors import ConfigError, StoreFull
from daemon.models import FeedConfig
from daemon.pipeline import Pipeline, SourceReport
from daemon.service import systemd
from daemon.service.http import Metrics, StatusServer
from daemon.service.lock import InstanceLock
from daemon.service.memory import return_large_frees
from daemon.service.outage import Notice, Outage, human_duration
from daemon.service.seedwatch import PickupQueue, SeedWatcher
from daemon.service.signals import Signals
from daemon.service.watch import FolderWatcher, names_filter
from daemon.sources.folder import FolderMemory
from daemon.store import Store

log = logging.getLogger(__name__)

DISK_FULL_EVERY = 60.0  # seconds between two "still full" lines
ONCE_SETTLE_LIMIT = 60.0  # `run --once` waits at most this long for files still being written
WATCH_START_WAIT = 2.0  # at most this long for the seed watch to be in place before the first pass
EXIT_GRACE = 0.5  # after shutdown_timeout: at most this long to close the database before exiting
# Beyond shutdown_timeout + EXIT_GRACE: a stop still not over is stuck (a bug). The guard logs every
# thread's stack, so the next report says where, and ends the process: a stop must end.
STOP_GUARD = 2.0
SAFETY_NET = "the periodic safety net"  # the reason of a whole-folder pass owed to rescan_interval only


class Service:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.metrics = Metrics(self._stats)
        self.stop_event = threading.Event()
        self._signals = Signals()  # what the signal handlers asked for (they take no lock)
        self._config_changed = threading.Event()  # set by the config watcher; the main loop reloads
        self._refused_digest: str | None = None  # the content a watcher reload last refused: not again
        self._config_watchers: list[FolderWatcher] = []
        self._store: Store | None = None
        self._pipeline: Pipeline | None = None
        self._scheduler: BackgroundScheduler | None = None
        self._last_ok: dict[str, float] = {}
        self._seeds_lock = threading.Lock()
        self._seeds_running = False
        self._seeds_again = False  # a wake-up came while a scan was running
        self._pickup = PickupQueue()  # what the seed watcher saw change, for the next pass to read
        self._seed_watcher: SeedWatcher | FolderWatcher | None = None
        self._next_full = 0.0  # monotonic time the safety-net full scan of the seed folder is due
        self._next_every_file = 0.0  # monotonic time a safety net stats every file, not just changed folders
        self._seed_folders = FolderMemory()  # what the last whole-folder pass saw of the seed folder's folders
        self._jobs_cv = threading.Condition()
        self._running: dict[str, float] = {}  # job name -> monotonic start, for the stop to wait on
        self._disk_full = Outage(DISK_FULL_EVERY)

    # -- plumbing ----------------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        assert self._store is not None
        return self._store

    @property
    def pipeline(self) -> Pipeline:
        assert self._pipeline is not None
        return self._pipeline

    def _stats(self) -> dict[str, Any]:
        return self.store.counts() if self._store is not None else {}

    def _open(self) -> InstanceLock:
        lock = InstanceLock(self.config.lock_path)
        lock.acquire()  # raises AlreadyRunning before we touch the database
        try:
            self._store = Store(self.config.db_path, self.config.tz)
            self._pipeline = Pipeline(self.config, self._store, metrics=self.metrics, stop=self.stop_event)
        except BaseException:
            lock.release()
            raise
        return lock

    def _run_job(self, name: str, fn: Callable[[], Any]) -> Any:
        """Every job runs through here: timing, error logging and counting; never raises."""
        with self._jobs_cv:  # a stop sets stop_event under this lock: no job starts after it
            if self.stop_event.is_set():
                return None
            self._running[name] = time.monotonic()
        try:
            return self._run_recorded(name, fn)
        finally:
            with self._jobs_cv:
                self._running.pop(name, None)
                self._jobs_cv.notify_all()

    def _run_recorded(self, name: str, fn: Callable[[], Any]) -> Any:
        start, now = time.monotonic(), self.store.now()
        error: str | None = None
        full: StoreFull | None = None
        result = None
        try:
            self.store.job_started(name, now)
            result = fn()
        except StoreFull as exc:  # reported by _disk_notice, not once per run
            full, error = exc, f"{type(exc).__name__}: {exc}"
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.exception("job %s failed: %s", name, error)
        try:
            self.store.job_finished(name, self.store.now(), time.monotonic() - start, error, self._next_run(name))
        except StoreFull as exc:
            full = full or exc
        except Exception as exc:  # the database itself is failing: log, keep the scheduler alive
            log.error("job %s: cannot record its run: %s", name, exc)
        self.metrics.record_job(name, ok=error is None)
        if error is None:
            self._last_ok[name] = time.time()
        if full is not None:
            self._disk_notice(self._disk_full.failed(name, time.monotonic()), full)
        elif error is None:
            self._disk_notice(self._disk_full.worked(name, time.monotonic()), None)
        return result

    def _disk_notice(self, notice: Notice | None, error: StoreFull | None) -> None:
        if notice is None:
            return
        if notice.kind == "started":
            so_far = f" ({notice.failures} failed job runs so far)" if notice.failures > 1 else ""
            log.error("DISK FULL: %s. Jobs that write fail until there is room%s; this is logged again once a"
                      " minute while it lasts", error, so_far)
        elif notice.kind == "ongoing":
            log.error("disk still full after %s (%d failed job runs since the last report): %s",
                      human_duration(notice.duration), notice.failures, error)
        else:
            log.warning("database writes work again after %s of disk full (%d failed job runs); the work that"
                        " waited is being redone", human_duration(notice.duration), notice.failures)

    def _next_run(self, name: str) -> datetime | None:
        if self._scheduler is None or self.stop_event.is_set():  # stopping: leave the scheduler alone
            return None
        job = self._scheduler.get_job(name)
        return job.next_run_time if job is not None else None

    # -- jobs ----------------------------------------------------------------------------------
    def _job_seeds(self) -> None:
        with self._seeds_lock:
            self._seeds_running, self._seeds_again = True, False
        try:
            while True:
                report = self._seeds_pass()
                if self._spikes(report) or report.alerts:
                    self._job_deliver()
                with self._seeds_lock:  # files that arrived during the scan are scanned now, in this run
                    if not self._seeds_again or self.stop_event.is_set():
                        self._seeds_running = False
                        break
                    self._seeds_again = False
        finally:
            with self._seeds_lock:
                self._seeds_running = False
        if report.settle_at is not None:
            # A file was still being written: look again as soon as it has settled (and no later than the
            # next periodic scan, even for a file dated in the future).
            now = datetime.now(self.config.tz)
            when = datetime.fromtimestamp(report.settle_at + 0.05, self.config.tz)
            self._rerun_seeds(min(max(when, now), now + timedelta(seconds=self.config.seeds_interval)))

    def _seeds_pass(self) -> SourceReport:
        """Read what the watcher saw change; the whole folder only when the events cannot vouch for it."""
        paths, full, every_file = self._pickup.take_pass()
        watcher = self._seed_watcher
        if full is None and (watcher is None or not watcher.watching):
            full, every_file = "no watcher" if watcher is None else "the watcher is not watching", True
        if full is None and time.monotonic() >= self._next_full:
            full, every_file = SAFETY_NET, False
        try:
            if full is not None:
                started = time.monotonic()
                # The folders' times may be trusted while every event arrived, but not always: a file
                # rewritten in place that no event announced (NFS, another hard link) changes no folder.
                if not every_file and started >= self._next_every_file:
                    full, every_file = f"{full}, every file (full_rescan_interval)", True
                report = self.pipeline.scan_seeds(paths, full=True, reason=full, folders=self._seed_folders,
                                                  every_file=every_file)
                self._next_full = started + self.config.seeds_rescan_interval
                if every_file:
                    self._next_every_file = started + self.config.seeds_full_rescan_interval
            elif paths:
                report = self.pipeline.scan_seeds(paths)
                if report.rescan:
                    self._pickup.request_full("a folder came or went", every_file=False)
                    with self._seeds_lock:
                        self._seeds_again = True
            else:
                report = SourceReport("seeds")
        except BaseException:  # (a full disk, a stop): what this pass took is the next one's to do
            self._pickup.put_back(paths, paths)
            if full is not None:
                self._pickup.request_full(full, every_file=every_file)
            raise
        self._pickup.put_back(report.held, paths)
        return report

    def _wake_full(self) -> None:
        """The watchfiles watcher (no inotify here) only says that something changed: scan it all."""
        self._pickup.request_full("a change without its path")
        self.wake_seeds()

    def _rerun_seeds(self, when: datetime) -> None:
        if self._scheduler is not None and not self.stop_event.is_set():
            self._scheduler.modify_job("seeds", next_run_time=when)

    def _job_feed(self, name: str) -> None:
        reports = self.pipeline.poll_feeds([name])
        if sum(self._spikes(r) for r in reports) or any(r.alerts for r in reports):
            self._job_deliver()

    def _spikes(self, report: SourceReport) -> int:
        """After a pass that stored matches: rule.spike events queued (once per rule and day)."""
        return queue_spikes(self.store, self.config, self.store.now()) if report.matches else 0

    def _job_brief(self) -> None:
        report = tick(self.store, self.config)
        if report.made or report.spikes:
            self._job_deliver()
        if self._scheduler is not None and not self.stop_event.is_set():
            now = datetime.now(self.config.tz)
            soon = now + timedelta(seconds=IDLE_TICK)
            due = report.next_due + timedelta(seconds=0.2) if report.next_due is not None else soon
            self._scheduler.modify_job("brief", next_run_time=max(now, min(due, soon)))

    def _job_deliver(self) -> None:
        self.pipeline.deliver()

    def _job_checkpoint(self, *, wait: bool = True) -> None:
        busy, wal_pages, done = self.store.checkpoint(wait=wait)
        if busy:
            log.info("checkpoint: a reader holds the WAL (%d pages, %d checkpointed); %s", wal_pages, done,
                     "will retry" if wait else "the next run checkpoints")

    # -- run --once ----------------------------------------------------------------------------
    def run_once(self) -> int:
        """Exactly one tick of the same jobs the daemon runs, in pipeline order."""
        lock = self._open()
        try:
            self._run_job("seeds", self._once_seeds)
            for feed in self.config.feeds:
                if feed.enabled:
                    self._run_job(f"feed:{feed.name}", partial(self._once_feed, feed.name))
            if self.config.briefings:
                self._run_job("brief", partial(tick, self.store, self.config))
            self._run_job("deliver", self.pipeline.deliver)
            # One try that does not wait for readers, and no second one at close: a reader keeps its snapshot.
            self._run_job("checkpoint", partial(self._job_checkpoint, wait=False))
        finally:
            self._close(lock, checkpoint=False)
        return 0

    def _once_feed(self, name: str) -> list[SourceReport]:
        reports = self.pipeline.poll_feeds([name])
        for r in reports:
            self._spikes(r)
        return reports

    def _once_seeds(self) -> SourceReport:
        """The seed scan, repeated while files are still being written: ``--once`` has no next pass for them."""
        give_up = time.monotonic() + ONCE_SETTLE_LIMIT
        report = self.pipeline.scan_seeds()
        while report.settle_at is not None:
            pause = max(0.0, report.settle_at - time.time()) + 0.05
            if time.monotonic() + pause > give_up:
                log.warning("seeds: files still changing (or dated in the future) would not settle within %.0fs;"
                            " left for the next run", ONCE_SETTLE_LIMIT)
                break
            time.sleep(pause)
            report = self.pipeline.scan_seeds()
        queue_spikes(self.store, self.config, self.store.now())  # however many scans the files took
        return report

    # -- the daemon ----------------------------------------------------------------------------
    def run_forever(self) -> int:
        return_large_frees()  # a service runs for months: what it frees must go back (daemon.service.memory)
        lock = self._open()
        server: StatusServer | None = None
        try:
            if self.config.stories.enabled:
                # The window of recent articles is built now, before the service reports ready, not in the
                # first ingest's transaction. ``run --once`` and ``fetch`` build it only if they store something.
                self.store.warm_stories(self.config.stories)
            self._signals.install()
            self._start_guard()  # a stop requested before it starts waits in the pipe for it
            self._scheduler = BackgroundScheduler(
                timezone=self.config.tz,
                executors={"default": ThreadPoolExecutor(max_workers=8)},
                job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            )
            self._schedule_all()
            if self.config.seeds_watch:
                self._seed_watcher = self._start_seed_watch()
            self._scheduler.start()
            if self.config.http_listen:
                server = StatusServer(self.config.http_listen, self.metrics, self._health)
                server.start()
            self._sync_config_watch()
            log.info("newswatch running: database %s, seeds %s, %d feeds, %d rules, %d webhooks",
                     self.config.db_path, self.config.seeds_path, len(self.config.feeds), len(self.config.rules),
                     len(self.config.webhooks))
            systemd.ready("watching")
            self._main_loop()
        finally:
            abandoned = self._stop(lock, server)
        if abandoned:
            # Their threads would keep the interpreter from exiting (it joins every worker thread): leave now.
            # Nothing is lost: committed transactions are in the WAL, open ones roll back.
            _exit_process(0)
        return 0

    def _start_seed_watch(self) -> SeedWatcher | FolderWatcher:
        """inotify on Linux (the paths that changed, and whether events were lost); elsewhere watchfiles."""
        if not sys.platform.startswith("linux"):
            fallback = FolderWatcher(self.config.seeds_path, self._wake_full)
            fallback.start()
            return fallback
        watcher = SeedWatcher(self.config.seeds_path, self._pickup, self.wake_seeds)
        watcher.start()
        watcher.wait_tried(WATCH_START_WAIT)
        return watcher

    def _sync_seed_watch(self, before: Config) -> None:
        """A reload that moves the seed folder (or turns its watch on or off) restarts the watcher."""
        if (before.seeds_path, before.seeds_watch) == (self.config.seeds_path, self.config.seeds_watch):
            return
        if self._seed_watcher is not None:
            self._seed_watcher.stop(timeout=1.0)
        self._pickup.take()  # the old folder's paths: the full scan of the new one covers it all
        self._seed_watcher = self._start_seed_watch() if self.config.seeds_watch else None
        if not isinstance(self._seed_watcher, SeedWatcher):  # a SeedWatcher asks for it as its watch starts
            self._pickup.request_full("the seed folder changed")

    def _main_loop(self) -> None:
        interval = systemd.watchdog_interval()
        tick = min(interval, 1.0) if interval else 1.0
        signals = self._signals
        while True:
            signals.wait(tick)
            if signals.stop_signal is not None:
                log.info("received %s", signal.Signals(signals.stop_signal).name)
                return
            if interval and self._scheduler is not None and self._scheduler.running:
                systemd.watchdog()  # only while the scheduler runs: a dead scheduler gets restarted
            if signals.reload:
                signals.reload = False
                self.reload()
            if self._config_changed.is_set():
                self._config_changed.clear()
                self._reload_if_changed()

    def _stop(self, lock: InstanceLock, server: StatusServer | None) -> bool:
        """Stop taking work, wait for running jobs until the deadline, close. True when jobs were abandoned."""
        systemd.stopping()
        timeout = self.config.shutdown_timeout
        self._signals.request_stop()
        assert self._signals.stop_at is not None
        deadline = self._signals.stop_at + timeout
        with self._jobs_cv:
            self.stop_event.set()
        log.info("stopping: no new work; waiting up to %gs for running jobs", timeout)
        watcher, self._seed_watcher = self._seed_watcher, None
        watchers: list[SeedWatcher | FolderWatcher] = [watcher] if watcher is not None else []
        for w in watchers + self._config_watchers:
            w.stop(timeout=min(1.0, max(0.1, deadline - time.monotonic())))
        self._config_watchers = []
        if self._scheduler is not None and self._scheduler.running:
            # Not wait=True: APScheduler would wait holding its job-store lock, which a finishing job needs.
            self._scheduler.shutdown(wait=False)
        with self._jobs_cv:
            self._jobs_cv.wait_for(lambda: not self._running, timeout=max(0.0, deadline - time.monotonic()))
            still = sorted(self._running)
        if server is not None:
            server.stop(timeout=EXIT_GRACE)
        if still:
            log.warning("jobs still running after %gs: %s; abandoning them (an unfinished transaction rolls back"
                        " and its work is redone at the next start)", timeout, ", ".join(still))
            self._close(lock, checkpoint=False, timeout=max(0.0, deadline + EXIT_GRACE - time.monotonic()))
        else:
            self._close(lock)
        log.info("stopped")
        return bool(still)

    def _close(self, lock: InstanceLock, *, checkpoint: bool = True, timeout: float | None = None) -> None:
        """Close the database and release the lock; with ``timeout``, jobs may still be running (abandoned)."""
        if self._pipeline is not None and timeout is None:
            self._pipeline.close()
        if self._store is not None:
            if checkpoint:
                try:
                    self._store.checkpoint(wait=False)  # a reader holds the WAL: fine, the next start checkpoints
                except Exception as exc:
                    log.debug("final checkpoint skipped: %s", exc)
            if not self._store.close(timeout):
                log.debug("database left open: a job is inside a transaction, which rolls back")
        lock.release()

    def _start_guard(self) -> None:
        """A thread that sleeps until a stop is requested, then ends the process if the stop hangs."""

        def guard() -> None:
            asked = self._signals.wait_for_stop()
            _guard_stop(asked + self.config.shutdown_timeout + EXIT_GRACE + STOP_GUARD)

        threading.Thread(target=guard, name="stop-guard", daemon=True).start()

    def wake_seeds(self) -> None:
        """Called by the folder watcher: run the seed scan now, or right after the one in progress."""
        with self._seeds_lock:
            if self._seeds_running:
                self._seeds_again = True
                return
        if self._scheduler is not None and self._scheduler.running:  # (not yet: the first pass is due anyway)
            self._rerun_seeds(datetime.now(self.config.tz))

    # -- scheduling ------------------------------------------------------------------------------
    def _schedule_all(self) -> None:
        sched = self._scheduler
        assert sched is not None
        now = datetime.now(self.config.tz)
        c = self.config
        sched.add_job(self._run_job, "interval", args=("seeds", self._job_seeds), id="seeds", name="seeds",
                      seconds=c.seeds_interval, next_run_time=now, replace_existing=True)
        sched.add_job(self._run_job, "interval", args=("deliver", self._job_deliver), id="deliver", name="deliver",
                      seconds=c.delivery_interval, next_run_time=now + timedelta(seconds=1), replace_existing=True)
        sched.add_job(self._run_job, "interval", args=("checkpoint", self._job_checkpoint), id="checkpoint",
                      name="checkpoint", seconds=c.checkpoint_interval, replace_existing=True)
        for feed in c.feeds:
            if feed.enabled:
                self._schedule_feed(feed, now)
        if c.briefings:  # it reschedules itself for the next period's end (see _job_brief)
            sched.add_job(self._run_job, "interval", args=("brief", self._job_brief), id="brief", name="brief",
                          seconds=IDLE_TICK, next_run_time=now, replace_existing=True)
        elif sched.get_job("brief") is not None:
            sched.remove_job("brief")

    def _schedule_feed(self, feed: FeedConfig, now: datetime) -> None:
        assert self._scheduler is not None
        job_id = f"feed:{feed.name}"
        due = self.store.feed_next_fetch_at(feed.name)
        # Spread first runs over a few seconds; keep a stored future due time (backoff survives restarts).
        start = max(due, now) if due else now
        start += timedelta(seconds=random.uniform(0, min(5.0, feed.interval / 10)))
        self._scheduler.add_job(
            self._run_job, "interval", args=(job_id, partial(self._job_feed, feed.name)), id=job_id,
            name=job_id, seconds=feed.interval, jitter=min(60.0, feed.interval / 10), next_run_time=start,
            replace_existing=True,
        )

    # -- config.toml changes ----------------------------------------------------------------------
    def _sync_config_watch(self) -> None:
        """Watch config.toml (through its folder, and its target's when it is a symlink) iff watch_config."""
        if not self.config.watch_config:
            for w in self._config_watchers:
                w.stop(timeout=1.0)
            self._config_watchers = []
            return
        if self._config_watchers:
            return
        path = self.config.path
        folders: dict[Path, set[str]] = {}
        for p in (path, path.resolve()):
            folders.setdefault(p.parent, set()).add(p.name)
        for folder, names in folders.items():
            w = FolderWatcher(folder, self._config_changed.set, recursive=False, accept=names_filter(names),
                              thread_name="newswatch-watch-config")
            w.start()
            self._config_watchers.append(w)
        self._config_changed.set()  # an edit between loading the file and watching it is not missed

    def _reload_if_changed(self) -> None:
        try:
            digest = file_digest(self.config.path.read_bytes())
        except OSError:
            return  # being replaced, or gone: the next event (or SIGHUP) says when there is a file again
        if digest in (self.config.digest, self._refused_digest):
            return
        if not self.reload(reason=f"{self.config.path.name} changed"):
            self._refused_digest = digest

    def reload(self, reason: str = "SIGHUP") -> bool:
        """SIGHUP or a changed file: validate the new config fully before touching anything; keep the old one
        on error."""
        systemd.reloading()
        try:
            new = load(self.config.path)
            if new.db_path != self.config.db_path:
                raise ConfigError(f"{new.path}: [storage] path cannot change while running; restart instead")
            pipeline = Pipeline(new, self.store, metrics=self.metrics, stop=self.stop_event)
        except Exception as exc:
            log.error("reload refused (%s), keeping the running config: %s", reason, exc)
            systemd.ready("reload refused")
            return False
        self._refused_digest = None
        old, before = self._pipeline, self.config
        self.config, self._pipeline = new, pipeline
        if self._scheduler is not None:
            for job in self._scheduler.get_jobs():
                if job.id.startswith("feed:"):
                    job.remove()
            self._schedule_all()
        if old is not None:
            old.close()
        if self._scheduler is not None:  # the running service, not a test's bare instance
            self._sync_config_watch()
            self._sync_seed_watch(before)
        log.info("config reloaded (%s): %d feeds, %d rules, %d webhooks", reason, len(new.feeds), len(new.rules),
                 len(new.webhooks))
        systemd.ready("reloaded")
        return True

    def _health(self) -> tuple[bool, dict[str, Any]]:
        running = self._scheduler is not None and self._scheduler.running and not self.stop_event.is_set()
        return running, {"jobs_last_ok": {k: round(time.time() - v, 1) for k, v in self._last_ok.items()}}


def _guard_stop(at: float) -> None:
    """Sleep until ``at`` (monotonic); if the process is still there, log where each thread is, and exit 1.

    A daemon thread: a stop that ends in time never hears of it. It still runs while the interpreter joins
    the other threads at exit, which is where a stuck thread would otherwise keep the process forever.
    """
    time.sleep(max(0.0, at - time.monotonic()))
    names = {t.ident: t.name for t in threading.enumerate()}
    me = threading.get_ident()
    stacks = [f"thread {names.get(ident, ident)}:\n" + "".join(traceback.format_stack(frame))
              for ident, frame in sys._current_frames().items() if ident != me]
    log.error("the stop did not end within shutdown_timeout + %gs: exiting now (nothing committed is lost)."
              " Please report this with the stacks below.\n%s", EXIT_GRACE + STOP_GUARD, "\n".join(stacks))
    _exit_process(1)


def _exit_process(code: int) -> NoReturn:
    """End the process now, even with job threads still running (log lines written so far are flushed)."""
    for handler in logging.getLogger().handlers:
        try:
            handler.flush()
        except Exception:  # noqa: S110 - exiting anyway
            pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: S110
            pass
    os._exit(code)

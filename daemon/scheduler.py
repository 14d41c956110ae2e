"""The long-running service: APScheduler jobs, signals, the instance lock, systemd notifications.

Jobs (each ``max_instances=1``, coalesced, never silently skipped):

* ``seeds``       scan the seed folder every ``[seeds] interval``; also woken by the folder watcher
* ``feed:NAME``   one per feed at its interval with jitter; the database decides whether it is due, so a
                  restart keeps backoff and next-due times
* ``deliver``     POST due alerts (first tries and retries) every ``[delivery] interval``; also run right
                  after a pass that queued alerts
* ``checkpoint``  ``wal_checkpoint(TRUNCATE)`` so the WAL cannot grow without bound

Signals: SIGTERM/SIGINT stop (stop taking work, give in-flight work ``shutdown_timeout`` to finish, exit
0); SIGHUP reloads config.toml and keeps the old config if the new one is invalid.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from daemon.config import Config, load
from daemon.errors import ConfigError
from daemon.models import FeedConfig
from daemon.pipeline import Pipeline
from daemon.service import systemd
from daemon.service.http import Metrics, StatusServer
from daemon.service.lock import InstanceLock
from daemon.service.watch import FolderWatcher
from daemon.store import Store

log = logging.getLogger(__name__)


class Service:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.metrics = Metrics(self._stats)
        self.stop_event = threading.Event()
        self._reload_requested = threading.Event()
        self._store: Store | None = None
        self._pipeline: Pipeline | None = None
        self._scheduler: BackgroundScheduler | None = None
        self._last_ok: dict[str, float] = {}
        self._seeds_lock = threading.Lock()
        self._seeds_running = False
        self._seeds_again = False  # a wake-up came while a scan was running

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
        if self.stop_event.is_set():
            return None
        start, now = time.monotonic(), self.store.now()
        error: str | None = None
        result = None
        try:
            self.store.job_started(name, now)
            result = fn()
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.exception("job %s failed: %s", name, error)
        try:
            self.store.job_finished(name, self.store.now(), time.monotonic() - start, error, self._next_run(name))
        except Exception as exc:  # the database itself is failing: log, keep the scheduler alive
            log.error("job %s: cannot record its run: %s", name, exc)
        self.metrics.record_job(name, ok=error is None)
        if error is None:
            self._last_ok[name] = time.time()
        return result

    def _next_run(self, name: str) -> datetime | None:
        job = self._scheduler.get_job(name) if self._scheduler else None
        return job.next_run_time if job is not None else None

    # -- jobs ----------------------------------------------------------------------------------
    def _job_seeds(self) -> None:
        with self._seeds_lock:
            self._seeds_running, self._seeds_again = True, False
        try:
            while True:
                report = self.pipeline.scan_seeds()
                if report.alerts:
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
            # A file was still being written: look again as soon as it has settled.
            when = datetime.fromtimestamp(report.settle_at + 0.05, self.config.tz)
            self._rerun_seeds(max(when, datetime.now(self.config.tz)))

    def _rerun_seeds(self, when: datetime) -> None:
        if self._scheduler is not None and not self.stop_event.is_set():
            self._scheduler.modify_job("seeds", next_run_time=when)

    def _job_feed(self, name: str) -> None:
        reports = self.pipeline.poll_feeds([name])
        if any(r.alerts for r in reports):
            self._job_deliver()

    def _job_deliver(self) -> None:
        self.pipeline.deliver()

    def _job_checkpoint(self) -> None:
        busy, wal_pages, done = self.store.checkpoint()
        if busy:
            log.info("checkpoint: a reader holds the WAL (%d pages, %d checkpointed); will retry", wal_pages, done)

    # -- run --once ----------------------------------------------------------------------------
    def run_once(self) -> int:
        """Exactly one tick of the same jobs the daemon runs, in pipeline order."""
        lock = self._open()
        try:
            self._run_job("seeds", self.pipeline.scan_seeds)
            for feed in self.config.feeds:
                if feed.enabled:
                    self._run_job(f"feed:{feed.name}", partial(self.pipeline.poll_feeds, [feed.name]))
            self._run_job("deliver", self.pipeline.deliver)
            self._run_job("checkpoint", self._job_checkpoint)
        finally:
            self._close(lock)
        return 0

    # -- the daemon ----------------------------------------------------------------------------
    def run_forever(self) -> int:
        lock = self._open()
        server: StatusServer | None = None
        watcher: FolderWatcher | None = None
        try:
            self._install_signals()
            self._scheduler = BackgroundScheduler(
                timezone=self.config.tz,
                executors={"default": ThreadPoolExecutor(max_workers=8)},
                job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            )
            self._schedule_all()
            self._scheduler.start()
            if self.config.seeds_watch:
                watcher = FolderWatcher(self.config.seeds_path, self.wake_seeds)
                watcher.start()
            if self.config.http_listen:
                server = StatusServer(self.config.http_listen, self.metrics, self._health)
                server.start()
            log.info("newswatch running: database %s, seeds %s, %d feeds, %d rules, %d webhooks",
                     self.config.db_path, self.config.seeds_path, len(self.config.feeds), len(self.config.rules),
                     len(self.config.webhooks))
            systemd.ready("watching")
            self._main_loop()
        finally:
            systemd.stopping()
            log.info("stopping: no new work; waiting up to %.0fs for running jobs", self.config.shutdown_timeout)
            if watcher is not None:
                watcher.stop()
            self._shutdown_scheduler()
            if server is not None:
                server.stop()
            self._close(lock)
            log.info("stopped")
        return 0

    def _main_loop(self) -> None:
        interval = systemd.watchdog_interval()
        tick = min(interval, 1.0) if interval else 1.0
        while not self.stop_event.wait(tick):
            if interval and self._scheduler is not None and self._scheduler.running:
                systemd.watchdog()  # only while the scheduler runs: a dead scheduler gets restarted
            if self._reload_requested.is_set():
                self._reload_requested.clear()
                self.reload()

    def _shutdown_scheduler(self) -> None:
        if self._scheduler is None:
            return
        self.stop_event.set()
        if self._pipeline is not None:
            self._pipeline.abort_in_flight_after(self.config.shutdown_timeout)
        done = threading.Thread(target=self._scheduler.shutdown, kwargs={"wait": True}, daemon=True)
        done.start()
        done.join(self.config.shutdown_timeout)
        if done.is_alive():
            log.warning("jobs still running after %.0fs; abandoning them (their batches roll back)",
                        self.config.shutdown_timeout)

    def _close(self, lock: InstanceLock) -> None:
        if self._pipeline is not None:
            self._pipeline.close()
        if self._store is not None:
            try:
                self._store.checkpoint()
            except Exception as exc:  # a reader holds the WAL: fine, the next start checkpoints
                log.debug("final checkpoint skipped: %s", exc)
            self._store.close()
        lock.release()

    def _install_signals(self) -> None:
        def stop(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s", signal.Signals(signum).name)
            self.stop_event.set()

        def hup(_signum: int, _frame: FrameType | None) -> None:
            self._reload_requested.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, hup)

    def wake_seeds(self) -> None:
        """Called by the folder watcher: run the seed scan now, or right after the one in progress."""
        with self._seeds_lock:
            if self._seeds_running:
                self._seeds_again = True
                return
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

    def reload(self) -> bool:
        """SIGHUP: validate the new config fully before touching anything; keep the old one on error."""
        systemd.reloading()
        try:
            new = load(self.config.path)
            if new.db_path != self.config.db_path:
                raise ConfigError(f"{new.path}: [storage] path cannot change while running; restart instead")
            pipeline = Pipeline(new, self.store, metrics=self.metrics, stop=self.stop_event)
        except Exception as exc:
            log.error("reload refused, keeping the running config: %s", exc)
            systemd.ready("reload refused")
            return False
        old = self._pipeline
        self.config, self._pipeline = new, pipeline
        if self._scheduler is not None:
            for job in self._scheduler.get_jobs():
                if job.id.startswith("feed:"):
                    job.remove()
            self._schedule_all()
        if old is not None:
            old.close()
        log.info("config reloaded: %d feeds, %d rules, %d webhooks", len(new.feeds), len(new.rules),
                 len(new.webhooks))
        systemd.ready("reloaded")
        return True

    def _health(self) -> tuple[bool, dict[str, Any]]:
        running = self._scheduler is not None and self._scheduler.running and not self.stop_event.is_set()
        return running, {"jobs_last_ok": {k: round(time.time() - v, 1) for k, v in self._last_ok.items()}}

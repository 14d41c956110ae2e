"""``/healthz`` and Prometheus ``/metrics`` for a service nobody watches until it breaks.

The counters answer the questions an operator has at 7 a.m.: is each feed still fetching, are alerts
leaving, how long do they wait. Queue sizes (pending alerts, article count) are not counters the code
could keep in sync — after a restart or a ``newswatch alerts retry`` they would be wrong — so they are read
from the database at scrape time through a callback the lead provides.

Metrics live in their own ``CollectorRegistry``: the global one is process-wide, so a second ``Metrics``
(tests, a reload) would collide with "Duplicated timeseries".

The server is the standard library's threaded HTTP server in a daemon thread: two endpoints, scraped
every 15 s, do not justify an async stack, and a wedged scrape must never block the scheduler.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.gc_collector import GCCollector
from prometheus_client.process_collector import ProcessCollector

from daemon.errors import ConfigError

log = logging.getLogger(__name__)

StatsFn = Callable[[], Mapping[str, Any]]
HealthFn = Callable[[], tuple[bool, Mapping[str, Any]]]

PREFIX = "newswatch_"
# From "delivered on the next tick" to "retried for days" (delivery backoff reaches 12 h).
LATENCY_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 72 * 3600)

_STATS_DOCS = {
    "alerts": "Alerts in the database by status (read at scrape time).",
    "articles": "Articles stored in the database (read at scrape time).",
}
_NAME_BAD = re.compile(r"[^a-zA-Z0-9_]")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def stats_families(stats: Mapping[str, Any], reserved: Iterable[str] = ()) -> list[Metric]:
    """Turn the lead's stats mapping into gauges read at scrape time.

    ``{"alerts": {"pending": 3}, "articles": 5}`` → ``newswatch_alerts{status="pending"} 3`` and
    ``newswatch_articles 5``.
    Scalars become plain gauges, mappings of numbers become gauges labelled ``status``; other values are
    ignored. Names that would clash with a counter or histogram are skipped: two families with one name
    make the whole scrape unparseable.
    """
    taken = set(reserved)
    families: list[Metric] = []
    for key, value in stats.items():
        name = PREFIX + _NAME_BAD.sub("_", str(key)).strip("_").lower()
        if name == PREFIX or name in taken:
            continue
        doc = _STATS_DOCS.get(str(key), f"newswatch {key} (read at scrape time).")
        if _is_number(value):
            families.append(GaugeMetricFamily(name, doc, value=float(value)))
        elif isinstance(value, Mapping):
            family = GaugeMetricFamily(name, doc, labels=["status"])
            for label, count in value.items():
                if _is_number(count):
                    family.add_metric([str(label)], float(count))
            families.append(family)
        else:
            continue
        taken.add(name)
    return families


class _StatsCollector:
    """Calls the stats callback on each scrape; a failing callback costs the gauges, not the scrape."""

    def __init__(self, owner: Metrics) -> None:
        self._owner = owner

    def collect(self) -> Iterator[Metric]:
        fn = self._owner.stats
        if fn is None:
            return
        try:
            stats = fn()
        except Exception:
            log.exception("metrics stats callback failed; gauges omitted from this scrape")
            self._owner.stats_errors.inc()
            return
        yield from stats_families(stats, self._owner.reserved_names)


class Metrics:
    """Every metric newswatch exports, in one private registry."""

    def __init__(self, stats: StatsFn | None = None, *, process_metrics: bool = True) -> None:
        self.stats = stats
        r = self.registry = CollectorRegistry()
        # First, so a failure it counts in stats_errors shows in the same scrape (collectors run in order).
        r.register(_StatsCollector(self))
        self.fetches = Counter("newswatch_fetches", "Feed fetches by outcome (ok, not_modified, unchanged, error).",
                               ["feed", "outcome"], registry=r)
        self.fetch_errors = Counter("newswatch_fetch_errors", "Failed feed fetches.", ["feed"], registry=r)
        self.articles_ingested = Counter("newswatch_articles_ingested", "New articles stored, by source.",
                                         ["source"], registry=r)
        self.duplicates = Counter("newswatch_duplicates", "Documents skipped as already stored (same content).",
                                  ["source"], registry=r)
        self.alerts_delivered = Counter("newswatch_alerts_delivered", "Alerts a webhook accepted.",
                                        ["webhook"], registry=r)
        self.delivery_failures = Counter("newswatch_delivery_failures", "Failed webhook delivery attempts.",
                                         ["webhook"], registry=r)
        self.job_runs = Counter("newswatch_job_runs", "Scheduled job runs.", ["job"], registry=r)
        self.job_errors = Counter("newswatch_job_errors", "Scheduled job runs that raised.", ["job"], registry=r)
        self.job_last_success = Gauge("newswatch_job_last_success_timestamp_seconds",
                                      "Unix time of the last run of each job that finished without error.",
                                      ["job"], registry=r)
        self.stats_errors = Counter("newswatch_stats_errors", "Scrapes where the stats callback raised.",
                                    registry=r)
        self.delivery_latency = Histogram("newswatch_delivery_latency_seconds",
                                          "Seconds from alert creation to delivery.", ["webhook"],
                                          buckets=LATENCY_BUCKETS, registry=r)
        self.reserved_names = frozenset(
            {"newswatch_fetches", "newswatch_fetch_errors", "newswatch_articles_ingested", "newswatch_duplicates",
             "newswatch_alerts_delivered", "newswatch_delivery_failures", "newswatch_job_runs",
             "newswatch_job_errors", "newswatch_job_last_success_timestamp_seconds", "newswatch_stats_errors",
             "newswatch_delivery_latency_seconds"}
        )
        if process_metrics:  # RSS and open fds: the first things to look at in a months-long process
            ProcessCollector(registry=r)
            GCCollector(registry=r)

    # -- one-line recorders, so call sites stay one line too ------------------------------------

    def record_fetch(self, feed: str, *, ok: bool, not_modified: bool = False, unchanged: bool = False) -> None:
        # unchanged: a 200 with the bytes parsed last time, not parsed again (no validators to send a 304)
        outcome = "error" if not ok else "not_modified" if not_modified else "unchanged" if unchanged else "ok"
        self.fetches.labels(feed=feed, outcome=outcome).inc()
        if not ok:
            self.fetch_errors.labels(feed=feed).inc()

    def record_ingest(self, source: str, *, new: int = 0, duplicates: int = 0) -> None:
        if new:
            self.articles_ingested.labels(source=source).inc(new)
        if duplicates:
            self.duplicates.labels(source=source).inc(duplicates)

    def record_delivery(self, webhook: str, *, ok: bool, latency: float | None = None) -> None:
        """``latency`` is alert creation → delivered, in seconds (only meaningful when ``ok``)."""
        if ok:
            self.alerts_delivered.labels(webhook=webhook).inc()
            if latency is not None:
                self.delivery_latency.labels(webhook=webhook).observe(max(0.0, latency))
        else:
            self.delivery_failures.labels(webhook=webhook).inc()

    def record_job(self, job: str, *, ok: bool) -> None:
        self.job_runs.labels(job=job).inc()
        if ok:
            self.job_last_success.labels(job=job).set(time.time())
        else:
            self.job_errors.labels(job=job).inc()

    @contextmanager
    def job(self, name: str) -> Iterator[None]:
        """Wrap a scheduled job: counts the run, and the error if it raises (the exception propagates)."""
        try:
            yield
        except BaseException:
            self.record_job(name, ok=False)
            raise
        self.record_job(name, ok=True)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def parse_listen(listen: str) -> tuple[str, int]:
    """``"127.0.0.1:9100"``, ``"[::1]:9100"``, ``"0.0.0.0:0"`` → (host, port)."""
    host, sep, port = listen.rpartition(":")
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"expected HOST:PORT such as \"127.0.0.1:9100\", got {listen!r}")
    return host, int(port)


def _health_body(health: HealthFn | None) -> tuple[int, dict[str, Any]]:
    if health is None:
        return 200, {"status": "ok"}
    try:
        ok, details = health()
    except Exception as exc:
        log.exception("health check raised")
        return 503, {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
    body: dict[str, Any] = {"status": "ok" if ok else "unhealthy"}
    body.update({k: v for k, v in details.items() if k != "status"})
    return (200 if ok else 503), body


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10  # a client that connects and never speaks must not hold a thread forever
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, *, head: bool) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            code, obj = _health_body(self.server.health)
            self._send(code, "application/json; charset=utf-8",
                       json.dumps(obj, ensure_ascii=False, default=str).encode("utf-8"), head)
        elif path == "/metrics":
            try:
                payload = self.server.metrics.exposition()
            except Exception:
                log.exception("rendering /metrics failed")
                self._send(500, "text/plain; charset=utf-8", b"metrics unavailable\n", head)
                return
            self._send(200, CONTENT_TYPE_LATEST, payload, head)
        else:
            self._send(404, "text/plain; charset=utf-8", b"not found: try /healthz or /metrics\n", head)

    def _send(self, code: int, ctype: str, body: bytes, head: bool) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    metrics: Metrics
    health: HealthFn | None


class StatusServer:
    """``StatusServer("127.0.0.1:9100", metrics, health).start()``; port 0 picks a free port (``.port``)."""

    def __init__(self, listen: str, metrics: Metrics, health: HealthFn | None = None) -> None:
        self.host, self._requested_port = parse_listen(listen)
        self.metrics = metrics
        self.health = health
        self._port = self._requested_port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port once started (the real one when 0 was asked for)."""
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        """Bind now (so a busy port fails startup loudly) and serve in a daemon thread."""
        if self._server is not None:
            return
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        server_cls = type("_BoundServer", (_Server,), {"address_family": family})
        try:
            server = server_cls((self.host, self._requested_port), _Handler)
        except OSError as exc:
            raise ConfigError(
                f"http.listen {self.host}:{self._requested_port}: cannot listen ({exc.strerror or exc}); "
                "pick another address or stop what is using it"
            ) from exc
        server.metrics = self.metrics
        server.health = self.health
        self._server = server
        self._port = int(server.server_address[1])
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="newswatch-http", daemon=True
        )
        self._thread.start()
        log.info("status server listening", extra={"url": self.url})

    def stop(self, timeout: float = 5.0) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

"""StatusServer and Metrics, scraped with httpx over 127.0.0.1."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from daemon.errors import ConfigError
from daemon.service.http import Metrics, StatusServer, parse_listen, stats_families


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


class Health:
    def __init__(self) -> None:
        self.ok = True
        self.raise_ = False

    def __call__(self) -> tuple[bool, Mapping[str, Any]]:
        if self.raise_:
            raise RuntimeError("database is locked")
        return self.ok, {"scheduler": "running", "last_seeds_pass": "2026-11-23T10:15:02+07:00"}


@pytest.fixture
def stats_box() -> dict[str, Any]:
    return {"alerts": {"pending": 3, "delivered": 10, "failed": 0}, "articles": 5}


@pytest.fixture
def served(stats_box: dict[str, Any]) -> Iterator[tuple[StatusServer, Metrics, Health]]:
    metrics = Metrics(lambda: stats_box)
    health = Health()
    server = StatusServer("127.0.0.1:0", metrics, health)
    server.start()
    yield server, metrics, health
    server.stop()


def test_healthz_ok_and_unhealthy(served: tuple[StatusServer, Metrics, Health]) -> None:
    server, _, health = served
    assert server.port > 0
    r = httpx.get(f"{server.url}/healthz", timeout=5)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {"status": "ok", "scheduler": "running", "last_seeds_pass": "2026-11-23T10:15:02+07:00"}

    health.ok = False
    r = httpx.get(f"{server.url}/healthz", timeout=5)
    assert r.status_code == 503
    assert r.json()["status"] == "unhealthy"

    health.raise_ = True
    r = httpx.get(f"{server.url}/healthz", timeout=5)
    assert r.status_code == 503
    assert r.json() == {"status": "error", "error": "RuntimeError: database is locked"}


def test_metrics_counters_histogram_and_stats_gauges(
    served: tuple[StatusServer, Metrics, Health], stats_box: dict[str, Any]
) -> None:
    server, m, _ = served
    m.record_fetch("vnexpress", ok=True)
    m.record_fetch("vnexpress", ok=True, not_modified=True)
    m.record_fetch("tuoitre", ok=False)
    m.record_ingest("seeds", new=5, duplicates=2)
    m.record_delivery("zalo", ok=True, latency=12.5)
    m.record_delivery("zalo", ok=False)
    with m.job("seeds"):
        pass
    with pytest.raises(ValueError), m.job("feeds"):
        raise ValueError("boom")

    r = httpx.get(f"{server.url}/metrics", timeout=5)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    s = _samples(r.text)
    assert s[("newswatch_fetches_total", (("feed", "vnexpress"), ("outcome", "ok")))] == 1
    assert s[("newswatch_fetches_total", (("feed", "vnexpress"), ("outcome", "not_modified")))] == 1
    assert s[("newswatch_fetches_total", (("feed", "tuoitre"), ("outcome", "error")))] == 1
    assert s[("newswatch_fetch_errors_total", (("feed", "tuoitre"),))] == 1
    assert ("newswatch_fetch_errors_total", (("feed", "vnexpress"),)) not in s
    assert s[("newswatch_articles_ingested_total", (("source", "seeds"),))] == 5
    assert s[("newswatch_duplicates_total", (("source", "seeds"),))] == 2
    assert s[("newswatch_alerts_delivered_total", (("webhook", "zalo"),))] == 1
    assert s[("newswatch_delivery_failures_total", (("webhook", "zalo"),))] == 1
    assert s[("newswatch_delivery_latency_seconds_count", (("webhook", "zalo"),))] == 1
    assert s[("newswatch_delivery_latency_seconds_sum", (("webhook", "zalo"),))] == 12.5
    assert s[("newswatch_delivery_latency_seconds_bucket", (("le", "10.0"), ("webhook", "zalo")))] == 0
    assert s[("newswatch_delivery_latency_seconds_bucket", (("le", "30.0"), ("webhook", "zalo")))] == 1
    assert s[("newswatch_job_runs_total", (("job", "seeds"),))] == 1
    assert s[("newswatch_job_runs_total", (("job", "feeds"),))] == 1
    assert s[("newswatch_job_errors_total", (("job", "feeds"),))] == 1
    assert ("newswatch_job_errors_total", (("job", "seeds"),)) not in s
    assert abs(s[("newswatch_job_last_success_timestamp_seconds", (("job", "seeds"),))] - time.time()) < 60
    assert s[("newswatch_alerts", (("status", "pending"),))] == 3
    assert s[("newswatch_alerts", (("status", "delivered"),))] == 10
    assert s[("newswatch_alerts", (("status", "failed"),))] == 0
    assert s[("newswatch_articles", ())] == 5

    # gauges are read at scrape time, not at registration
    stats_box["articles"] = 6
    s = _samples(httpx.get(f"{server.url}/metrics", timeout=5).text)
    assert s[("newswatch_articles", ())] == 6


def test_failing_stats_callback_keeps_the_scrape(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> Mapping[str, Any]:
        raise RuntimeError("database is locked")

    m = Metrics(broken, process_metrics=False)
    m.record_fetch("a", ok=True)
    server = StatusServer("127.0.0.1:0", m)
    server.start()
    try:
        r = httpx.get(f"{server.url}/metrics", timeout=5)
    finally:
        server.stop()
    assert r.status_code == 200
    s = _samples(r.text)
    assert s[("newswatch_fetches_total", (("feed", "a"), ("outcome", "ok")))] == 1
    assert s[("newswatch_stats_errors_total", ())] == 1
    assert not any(name == "newswatch_articles" for name, _ in s)
    assert "stats callback failed" in caplog.text


def test_two_metrics_instances_do_not_collide() -> None:
    a, b = Metrics(), Metrics()
    a.record_fetch("x", ok=True)
    assert b"newswatch_fetches_total{" not in b.exposition()
    assert b'newswatch_fetches_total{feed="x",outcome="ok"} 1.0' in a.exposition()


def test_not_found_and_head(served: tuple[StatusServer, Metrics, Health]) -> None:
    server, _, _ = served
    with httpx.Client(timeout=5) as client:
        assert client.get(f"{server.url}/").status_code == 404
        assert client.get(f"{server.url}/metricsx").status_code == 404
        assert client.get(f"{server.url}/metrics?name[]=x").status_code == 200
        head = client.head(f"{server.url}/healthz")
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) > 0


def test_stop_closes_the_port() -> None:
    server = StatusServer("127.0.0.1:0", Metrics(process_metrics=False))
    server.start()
    port = server.port
    assert httpx.get(f"{server.url}/healthz", timeout=5).json() == {"status": "ok"}
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 3
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    server.stop()  # idempotent


def test_busy_port_is_a_config_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match=rf"http.listen 127.0.0.1:{port}: cannot listen"):
            StatusServer(f"127.0.0.1:{port}", Metrics(process_metrics=False)).start()


@pytest.mark.parametrize(
    ("listen", "expected"),
    [("127.0.0.1:9100", ("127.0.0.1", 9100)), ("[::1]:0", ("::1", 0)), ("localhost:80", ("localhost", 80))],
)
def test_parse_listen(listen: str, expected: tuple[str, int]) -> None:
    assert parse_listen(listen) == expected


@pytest.mark.parametrize("listen", ["9100", ":9100", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:70000"])
def test_parse_listen_rejects(listen: str) -> None:
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_listen(listen)


def test_stats_families_shapes_and_clashes() -> None:
    fams = stats_families(
        {"alerts": {"pending": 1, "bogus": "x"}, "articles": 2, "feeds failing": 1, "flag": True,
         "note": "text", "fetches": 9},
        reserved={"newswatch_fetches"},
    )
    by_name = {f.name: f for f in fams}
    assert set(by_name) == {"newswatch_alerts", "newswatch_articles", "newswatch_feeds_failing"}
    assert [(s.labels, s.value) for s in by_name["newswatch_alerts"].samples] == [({"status": "pending"}, 1.0)]

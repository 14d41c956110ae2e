"""Issue 5 acceptance: what an operator sees — `newswatch status`, `/healthz`, `/metrics`, JSON logs.

Real processes only: the CLI and the daemon run as ``python -m daemon``; feeds and webhooks are real
servers on 127.0.0.1.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import RULES, Background, Receiver, Servers, cli_env, drop, free_port, hook, reply, write_config

Run = Callable[..., subprocess.CompletedProcess[str]]

FEED = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Tin địa phương</title>'
    "<link>http://127.0.0.1/</link><description>d</description>"
    '<item><guid isPermaLink="false">f1</guid><title>Hội nghị giao ban khối Đảng</title>'
    "<link>http://127.0.0.1/f1.html</link><description>Sáng 20-11, hội nghị giao ban công tác quý IV.</description>"
    "<pubDate>Fri, 20 Nov 2026 08:00:00 +0700</pubDate></item>"
    '<item><guid isPermaLink="false">f2</guid><title>Quán triệt Nghị quyết 57</title>'
    "<link>http://127.0.0.1/f2.html</link><description>Chiều 21-11, Đảng ủy phường quán triệt Nghị quyết 57."
    "</description><pubDate>Sat, 21 Nov 2026 15:00:00 +0700</pubDate></item>"
    "</channel></rss>"
).encode()
JOBS = {"seeds", "feed:local", "feed:broken", "deliver", "checkpoint"}


@pytest.fixture
def feed_server(loopback: Servers) -> str:
    """``/local.rss`` serves two items; everything else is 404."""
    server = loopback()
    server.static("/local.rss", FEED, ctype="application/rss+xml; charset=utf-8")
    server.fallback = reply(404, b"not here", {"Content-Type": "text/plain"})
    return server.url("")


def feeds(base: str) -> str:
    return (f'[[feeds]]\nname = "local"\nurl = "{base}/local.rss"\ninterval = "1h"\n'
            f'[[feeds]]\nname = "broken"\nurl = "{base}/gone.rss"\ninterval = "1h"\n')


JOB_COLUMNS = ("NAME", "RUNS", "ERRORS", "LAST RUN", "LAST OK", "NOTE")
FEED_COLUMNS = ("NAME", "HEALTH", "LAST", "LAST SUCCESS", "NEXT POLL", "ITEMS", "NOTE")


def table_under(lines: list[str], label: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """The rows of the table `status` prints beside ``label``, cut at the header's column offsets.

    Cutting by offsets is the point: a row whose cells drift (a flag pushing the name along) reads wrong.
    """
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{label} ") and "NAME" in line)
    header = lines[start]
    offsets = [header.index(f"  {c}") + 2 if i else header.index(c) for i, c in enumerate(columns)]
    rows = []
    for line in lines[start + 1 :]:
        if not line.startswith(" " * offsets[0]):
            break
        for at in offsets[1:]:
            assert line[at - 1 : at] in (" ", ""), f"column out of line at {at}: {line!r}"
        cells = [line[a:b].strip() for a, b in zip(offsets, [*offsets[1:], None], strict=True)]
        rows.append(dict(zip(columns, cells, strict=True)))
    return rows


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every non-empty line must be one JSON object (what a log shipper assumes)."""
    records = []
    for line in text.splitlines():
        if line.strip():
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise AssertionError(f"not a JSON line: {line!r}") from exc
            assert isinstance(obj, dict) and {"time", "level", "logger", "message"} <= set(obj), line
            records.append(obj)
    return records


def test_status_counts_jobs_feeds_and_size(project: Path, run_cli: Run, receiver: Receiver, feed_server: str) -> None:
    write_config(project, RULES + hook(receiver.url) + feeds(feed_server))
    drop(project / "seeds", "empty.txt", "")
    once = run_cli("--log-format", "json", "run", "--once")
    records = json_lines(once.stderr)
    assert any(r["level"] == "WARNING" and "empty.txt" in r["message"] for r in records), records
    assert any(r["level"] == "WARNING" and "broken" in r["message"] for r in records), records

    info = json.loads(run_cli("status", "--json").stdout)
    db = project / "state" / "news.db"
    assert info["database"] == str(db)
    assert info["database_bytes"] >= db.stat().st_size > 0
    assert info["schema_version"] >= 1
    # 5 samples + 2 feed items. f2 cites Nghị quyết 57 in title and body, but a first fetch alerts nobody.
    assert (info["articles"], info["sightings"], info["matches"]) == (7, 7, 4)
    assert info["alerts"] == {"pending": 0, "delivered": 2, "failed": 0}
    assert info["seed_files"] == {"ingested": 5, "skipped": 1}
    jobs = {j["name"]: j for j in info["jobs"]}
    assert set(jobs) == JOBS
    for job in jobs.values():
        assert job["runs"] == 1 and job["errors"] == 0, job  # a failing feed is not a crashed job...
        assert job["last_run_at"].endswith("+07:00")
    # ... but its job row carries the feed's failure, from the feeds table
    assert (jobs["feed:broken"]["feed_health"], jobs["feed:broken"]["feed_consecutive_errors"]) == ("failing", 1)
    assert "404" in jobs["feed:broken"]["feed_last_error"]
    assert (jobs["feed:local"]["feed_health"], jobs["feed:local"]["feed_consecutive_errors"]) == ("ok", 0)
    by_name = {f["name"]: f for f in info["feeds"]}
    assert set(by_name) == {"local", "broken"}
    local, broken = by_name["local"], by_name["broken"]
    assert (local["last_status"], local["items_seen"], local["last_error"], local["stale"]) == (200, 2, None, False)
    assert broken["last_status"] == 404 and "404" in broken["last_error"] and broken["consecutive_errors"] == 1
    # Added a moment ago and failing: failing, not stale (stale is failing for longer than stale_after).
    assert (broken["health"], broken["stale"], broken["stale_reason"]) == ("failing", False, None)
    assert broken["failing_since"].endswith("+07:00")
    assert info["disabled_webhooks"] == {}
    assert info["service"] == {"running": False, "pid": None, "lock": str(db) + ".lock"}

    text = run_cli("status").stdout
    lines = text.splitlines()
    assert lines[0].startswith("service    not running")
    assert lines[1].startswith(f"database   {db} (") and "schema v" in lines[1]
    assert "articles   7 (7 sightings, 4 matches)" in lines
    assert "alerts     0 pending, 2 delivered, 0 failed" in lines
    assert "seed files 5 ingested, 1 skipped" in lines
    jobs_shown = {r["NAME"]: r for r in table_under(lines, "jobs", JOB_COLUMNS)}
    assert set(jobs_shown) == JOBS
    for name in JOBS:
        assert (jobs_shown[name]["RUNS"], jobs_shown[name]["ERRORS"]) == ("1", "0"), jobs_shown[name]
    assert jobs_shown["feed:broken"]["NOTE"].startswith("feed failing: HTTP 404")
    assert jobs_shown["feed:broken"]["NOTE"].endswith("(1 failed poll in a row)")
    assert jobs_shown["feed:local"]["NOTE"] == ""
    feeds_shown = {r["NAME"]: r for r in table_under(lines, "feeds", FEED_COLUMNS)}
    assert {k: feeds_shown["broken"][k] for k in ("HEALTH", "LAST", "LAST SUCCESS", "ITEMS")} == {
        "HEALTH": "failing", "LAST": "404", "LAST SUCCESS": "never", "ITEMS": "0"}
    assert {k: feeds_shown["local"][k] for k in ("HEALTH", "LAST", "ITEMS", "NOTE")} == {
        "HEALTH": "ok", "LAST": "200", "ITEMS": "2", "NOTE": ""}
    assert feeds_shown["local"]["LAST SUCCESS"].endswith("+07:00")


def test_status_on_a_fresh_database_and_a_bad_config(project: Path, run_cli: Run) -> None:
    info = json.loads(run_cli("status", "--json").stdout)
    assert (info["articles"], info["sightings"], info["jobs"], info["feeds"]) == (0, 0, [], [])
    assert info["alerts"] == {"pending": 0, "delivered": 0, "failed": 0}
    (project / "config.toml").write_text("[storage]\npath = 5\n", encoding="utf-8")
    proc = run_cli("status", check=False)
    assert proc.returncode == 3 and proc.stderr.startswith("newswatch: config error: ")
    assert "Traceback" not in proc.stderr
    proc = run_cli("--log-format", "json", "status", check=False)  # as a unit file would run it
    (record,) = json_lines(proc.stderr)
    assert proc.returncode == 3 and record["level"] == "ERROR" and "storage.path" in record["message"]


def metric_samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


@pytest.mark.service
def test_running_daemon_serves_healthz_and_metrics_and_logs_json(
        project: Path, receiver: Receiver, procs: list[Background]) -> None:
    port, closed = free_port(), free_port()
    write_config(project, f'[http]\nlisten = "127.0.0.1:{port}"\n'
                          + '[[rules]]\nname = "nq57"\nkeywords = ["Nghị quyết 57"]\n'
                          + hook(receiver.url) + hook(f"http://127.0.0.1:{closed}/", name="down"))
    drop(project / "seeds", "empty.txt", "")
    daemon = Background(project, "--log-format", "json", "run")
    procs.append(daemon)
    base = f"http://127.0.0.1:{port}"
    want = {
        ("newswatch_articles_ingested_total", (("source", "seeds"),)): 5.0,
        ("newswatch_articles", ()): 5.0,
        ("newswatch_alerts", (("status", "pending"),)): 1.0,  # the copy for the dead webhook waits
        ("newswatch_alerts", (("status", "delivered"),)): 1.0,
        ("newswatch_alerts", (("status", "failed"),)): 0.0,
        ("newswatch_alerts_delivered_total", (("webhook", "office"),)): 1.0,
    }
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    with httpx.Client(trust_env=False, timeout=5) as http:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                resp = http.get(f"{base}/metrics")
            except httpx.TransportError:
                resp = None
            if resp is not None and resp.status_code == 200:
                samples = metric_samples(resp.text)
                if all(samples.get(k) == v for k, v in want.items()):
                    break
            time.sleep(0.1)
        assert {k: samples.get(k) for k in want} == want, daemon.err
        assert samples[("newswatch_delivery_failures_total", (("webhook", "down"),))] >= 1
        assert samples[("newswatch_job_runs_total", (("job", "seeds"),))] >= 1
        assert samples[("newswatch_job_last_success_timestamp_seconds", (("job", "seeds"),))] > time.time() - 60
        assert any(name == "newswatch_delivery_latency_seconds_count" for name, _ in samples)
        assert ("process_resident_memory_bytes", ()) in samples

        health = http.get(f"{base}/healthz")
        assert health.status_code == 200 and health.headers["content-type"].startswith("application/json")
        body = health.json()
        assert body["status"] == "ok" and "seeds" in body["jobs_last_ok"]
        assert http.get(f"{base}/nothing").status_code == 404

        second = subprocess.run([sys.executable, "-m", "daemon", "--config", str(project / "config.toml"),
                                 "--log-format", "json", "run", "--once"],
                                capture_output=True, text=True, timeout=30, env=cli_env(), cwd=project)
        assert second.returncode == 4
        (refusal,) = json_lines(second.stderr)
        assert "another newswatch" in refusal["message"]

        assert daemon.stop() == 0
        with pytest.raises(httpx.TransportError):
            http.get(f"{base}/healthz")
    records = json_lines("\n".join(daemon.err))
    messages = [r["message"] for r in records]
    assert any(m.startswith("newswatch running") for m in messages)
    assert any("empty.txt" in m for m in messages)
    assert any(r["level"] == "WARNING" and "webhook down" in r["message"] for r in records)
    assert messages[-1] == "stopped"
    assert all(r["time"].endswith("+07:00") for r in records)


@pytest.mark.service
def test_status_names_the_running_service_and_keeps_columns_with_a_stale_feed(
        project: Path, run_cli: Run, receiver: Receiver, feed_server: str, procs: list[Background]) -> None:
    write_config(project, RULES + hook(receiver.url) + feeds(feed_server)
                 + f'[[feeds]]\nname = "a-much-longer-feed-name"\nurl = "{feed_server}/local.rss"\n')
    daemon = Background(project, "run")
    procs.append(daemon)
    daemon.wait_line("newswatch running", stream="err")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # the three feeds' first polls are spread over a few seconds
        info = json.loads(run_cli("status", "--json").stdout)
        if {f["name"]: f.get("last_fetch_at") is not None for f in info["feeds"]} == dict.fromkeys(
                ("a-much-longer-feed-name", "broken", "local"), True):
            break
        time.sleep(0.2)
    assert info["service"]["running"] is True and info["service"]["pid"] == daemon.proc.pid, info["service"]
    text = run_cli("status").stdout.splitlines()
    assert text[0] == f"service    running (pid {daemon.proc.pid})"

    # As if the broken feed had been failing for three days: now it is stale.
    sql(project, "UPDATE feeds SET failing_since = '2000-01-01T00:00:00+07:00' WHERE name = 'broken'")
    for command in ("status", "feeds"):
        lines = run_cli(command).stdout.splitlines()
        if command == "feeds":
            lines = [" " * 11 + line if i else "feeds      " + line for i, line in enumerate(lines)]
        shown = {r["NAME"]: r for r in table_under(lines, "feeds", FEED_COLUMNS)}  # asserts the alignment
        assert set(shown) == {"a-much-longer-feed-name", "broken", "local"}
        assert shown["broken"]["HEALTH"] == "STALE" and shown["broken"]["LAST"] == "404"
        assert shown["broken"]["NOTE"].startswith("never fetched successfully, failing since 2000-01-01T00:00:00")
        assert shown["local"]["HEALTH"] == shown["a-much-longer-feed-name"]["HEALTH"] == "ok"
        assert shown["local"]["ITEMS"] == "2" and shown["local"]["LAST SUCCESS"].endswith("+07:00")
    assert daemon.stop() == 0
    assert run_cli("status").stdout.startswith("service    not running")
    assert json.loads(run_cli("status", "--json").stdout)["service"]["running"] is False


def sql(project: Path, statement: str) -> None:
    with sqlite3.connect(project / "state" / "news.db", timeout=10) as conn:
        conn.execute(statement)

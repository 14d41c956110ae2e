"""Issue 3 acceptance: alerts from the shipped rules to real receivers, through the real CLI processes.

Everything here is a real process (``python -m daemon ...``) talking to a real server on 127.0.0.1:
``newswatch listen`` for the demo path, the ``receiver`` fixture where the test needs the raw request.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.helpers import HOOK_SECRET as SECRET
from tests.helpers import RULES, Background, Receiver, drop, free_port, hook, shipped_config, sql, write_config

Run = Callable[..., subprocess.CompletedProcess[str]]

OTHER_SECRET = "whsec_" + base64.b64encode(b"not-the-secret-the-sender-uses!!").decode()
NQ57_TITLE = "Trao Bằng khen của Văn phòng Trung ương Đảng đối với các cá nhân có thành tích xuất sắc trong năm 2025"
CT34_TITLE = "Làm tốt công tác tham mưu, tổng hợp phục vụ lãnh đạo các cấp trong chỉ đạo, điều hành"


# -- helpers ------------------------------------------------------------------------------------------


def alerts(run_cli: Run, *args: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(run_cli("alerts", "--json", *args).stdout)
    return rows


def by_rule(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["rule"]: r for r in rows}


def alert_count(listener: Background) -> int:
    return sum("article.matched" in line for line in listener.out)


# -- 1. the demo path: shipped rules, shipped secret, `newswatch listen` ---------------------------------


def test_shipped_rules_reach_newswatch_listen_signed(project: Path, run_cli: Run, procs: list[Background]) -> None:
    port = free_port()
    shipped_config(project, port)
    listener = Background(project, "listen", "--port", str(port))  # secret: the configured webhook's
    procs.append(listener)
    listener.wait_line("listening on")
    assert any("signatures checked" in line for line in listener.out), listener.out
    run_cli("run", "--once")
    listener.wait_for(lambda lines: sum("article.matched" in x for x in lines) == 2)
    text = "\n".join(listener.out)
    assert "rule:    nq57" in text and "rule:    ct34" in text
    assert f"title:   {NQ57_TITLE}" in text
    assert f"title:   {CT34_TITLE}" in text
    assert "«Nghị quyết số 57-NQ/TW»" in text and "«Chỉ thị số 34-CT/TU»" in text
    assert "rejected" not in text and "duplicate" not in text
    rows = sql(project, "SELECT rule, status, id FROM alerts ORDER BY rule")
    assert [r[:2] for r in rows] == [("ct34", "delivered"), ("nq57", "delivered")]
    for _, _, alert_id in rows:
        assert f"webhook-id={alert_id}" in text
    listener.stop()


def test_alerts_queue_while_nobody_listens_and_arrive_when_the_receiver_starts(
        project: Path, run_cli: Run, procs: list[Background]) -> None:
    port = free_port()
    shipped_config(project, port)
    proc = run_cli("run", "--once")  # nobody listens on the port
    assert "Connection refused" in proc.stderr or "cannot connect" in proc.stderr, proc.stderr
    pending = alerts(run_cli, "--status", "pending")
    assert sorted(r["rule"] for r in pending) == ["ct34", "nq57"]
    assert all(r["webhook"] == "demo" and r["delivered_at"] is None for r in pending)
    assert any("cannot connect" in (r["last_error"] or "") for r in pending)
    assert run_cli("alerts", "--status", "delivered").stdout.strip() == "no alerts with status delivered"

    # Push the retry far out: the receiver coming up must not have to wait for the backoff slot.
    sql(project, "UPDATE alerts SET next_attempt_at = '2099-01-01T00:00:00+07:00'")
    listener = Background(project, "listen", "--port", str(port))
    procs.append(listener)
    listener.wait_line("2 queued alert(s) for demo are due now")
    run_cli("run", "--once")
    listener.wait_for(lambda lines: sum("article.matched" in x for x in lines) == 2)
    text = "\n".join(listener.out)
    assert NQ57_TITLE in text and CT34_TITLE in text and "rejected" not in text
    assert dict(sql(project, "SELECT id, status FROM alerts")) == {r["id"]: "delivered" for r in pending}
    listener.stop()


def test_listen_rejects_a_wrong_signature_and_the_alerts_stay_queued(project: Path, run_cli: Run,
                                                                     procs: list[Background]) -> None:
    port = free_port()
    shipped_config(project, port)
    listener = Background(project, "listen", "--port", str(port), "--secret", OTHER_SECRET)
    procs.append(listener)
    listener.wait_line("listening on")
    run_cli("run", "--once")
    listener.wait_for(lambda lines: sum("rejected" in x for x in lines) == 2)
    assert all("signature does not match" in x for x in listener.out if "rejected" in x)
    assert alert_count(listener) == 0
    rows = sql(project, "SELECT status, last_error FROM alerts")
    assert len(rows) == 2 and all(st == "pending" and err.startswith("HTTP 401") for st, err in rows), rows


# -- 2. the payload, verified with the standardwebhooks package; no secret at rest or in logs ------------


def test_payload_shape_and_signatures_and_no_secret_in_the_database_or_logs(
        project: Path, run_cli: Run, receiver: Receiver, procs: list[Background]) -> None:
    write_config(project, RULES + hook(receiver.url))
    once = run_cli("--log-level", "DEBUG", "run", "--once")
    got = receiver.wait_for(lambda r: len(r) == 2)
    rows = dict(sql(project, "SELECT rule, id FROM alerts"))
    events: dict[str, dict[str, Any]] = {}
    for req in got:
        event = Webhook(SECRET).verify(req.body, req.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(OTHER_SECRET).verify(req.body, req.headers)
        tampered = req.body.replace(b'"type":"article.matched"', b'"type":"article.matcheD"', 1)
        assert tampered != req.body
        with pytest.raises(WebhookVerificationError):
            Webhook(SECRET).verify(tampered, req.headers)
        assert req.headers["content-type"].startswith("application/json")
        events[event["data"]["rule"]] = event
        assert req.headers["webhook-id"] == event["data"]["alert_id"] == rows[event["data"]["rule"]]
    assert set(events) == {"nq57", "ct34"}

    for event in events.values():
        assert set(event) == {"type", "timestamp", "data"}
        assert event["type"] == "article.matched"
        assert datetime.fromisoformat(event["timestamp"]).utcoffset() is not None
        assert event["timestamp"].endswith("+07:00")
        assert set(event["data"]) == {"alert_id", "rule", "matches", "article", "story"}
        story = event["data"]["story"]  # a sample is a story of its own, from the seed folder
        assert story == {"id": event["data"]["article"]["id"], "articles": 1, "sources": ["seeds"]}
        assert set(event["data"]["article"]) == {"id", "title", "url", "source", "category", "published_at",
                                                 "content_hash", "excerpt"}
        for m in event["data"]["matches"]:
            assert set(m) == {"keyword", "text", "field", "snippet"}
            assert m["field"] in ("title", "body")
            assert f"«{m['text']}»" in m["snippet"]
    nq57, ct34 = events["nq57"]["data"], events["ct34"]["data"]
    assert [(m["keyword"], m["text"], m["field"]) for m in nq57["matches"]] == [
        ("Nghị quyết 57", "Nghị quyết số 57-NQ/TW", "body")]
    assert [(m["keyword"], m["text"]) for m in ct34["matches"]] == [("Chỉ thị 34", "Chỉ thị số 34-CT/TU")]
    a = nq57["article"]
    (stored,) = sql(project, "SELECT id, title, source, content_hash, published_at, category FROM articles"
                             " WHERE id = ?", a["id"])
    assert (a["id"], a["title"], a["source"], a["content_hash"], a["published_at"], a["category"]) == stored
    assert a["title"] == NQ57_TITLE and a["source"] == "seeds" and a["content_hash"].startswith("v2:")
    assert a["published_at"].startswith("2026-01-10") and a["url"] is None
    assert 0 < len(a["excerpt"]) <= 301 and a["excerpt"].endswith("…")
    assert ct34["article"]["title"] == CT34_TITLE and ct34["article"]["category"] == "Chính trị"

    # A running daemon keeps recent writes in the WAL: look at the files as they are while it runs.
    daemon = Background(project, "--log-level", "DEBUG", "run")
    procs.append(daemon)
    daemon.wait_line("newswatch running", stream="err")
    drop(project / "seeds", "moi.txt", "title: Tin mới\n\nHội nghị quán triệt Nghị quyết 57 về chuyển đổi số.\n")
    receiver.wait_for(lambda r: len(r) == 3)
    time.sleep(0.3)  # the delivered mark is written after the POST returns
    state = sorted((project / "state").iterdir())
    wal = project / "state" / "news.db-wal"
    assert wal in state and wal.stat().st_size > 0, state
    # Read them before the stop: a clean close checkpoints and removes -wal and -shm (they were still there
    # afterwards only while a connection of this test, left to the garbage collector, kept them open).
    contents = {path: path.read_bytes() for path in state}
    assert daemon.stop() == 0
    raw_key = base64.b64decode(SECRET.removeprefix("whsec_"))
    needles = [SECRET.encode(), SECRET.removeprefix("whsec_").encode(), raw_key]
    for path, data in contents.items():
        for needle in needles:
            assert needle not in data, f"the webhook secret is stored in {path.name}"
    logs = once.stderr + once.stdout + "\n".join(daemon.err + daemon.out)
    assert "DEBUG" in logs  # the most verbose level was really on
    for needle in needles:
        assert needle.decode("latin-1") not in logs


# -- 3. operator commands: alerts, --retry, --all-failed, webhook test / enable ---------------------------


def test_alerts_listing_retry_and_all_failed(project: Path, run_cli: Run, receiver: Receiver) -> None:
    write_config(project, RULES + hook(receiver.url))
    receiver.status = 400
    run_cli("run", "--once")
    rows = by_rule(alerts(run_cli))
    assert {r: (v["status"], v["attempts"]) for r, v in rows.items()} == {"nq57": ("pending", 1),
                                                                           "ct34": ("pending", 1)}
    assert all(v["last_error"].startswith("HTTP 400") for v in rows.values())
    text = run_cli("alerts").stdout
    for v in rows.values():
        line = next(x for x in text.splitlines() if x.startswith(v["id"]))
        assert "pending" in line and v["rule"] in line and "office" in line and "HTTP 400" in line

    nq, ct = rows["nq57"]["id"], rows["ct34"]["id"]
    sql(project, "UPDATE alerts SET status = 'failed' WHERE id = ?", nq)  # as if its three days ran out
    assert [r["id"] for r in alerts(run_cli, "--status", "failed")] == [nq]

    receiver.status = 204
    assert f"alert {nq} re-queued" in run_cli("alerts", "--retry", nq).stdout
    assert sql(project, "SELECT status, attempts, last_error FROM alerts WHERE id = ?", nq) == [("pending", 0, None)]
    run_cli("run", "--once")  # the re-queued alert is due now; the other still waits for its retry time
    assert receiver.ids() == [nq]
    assert sql(project, "SELECT status FROM alerts WHERE id = ?", ct) == [("pending",)]
    history = sql(project, "SELECT status_code FROM delivery_attempts WHERE alert_id = ? ORDER BY id", nq)
    assert history == [(400,), (204,)]  # re-queueing kept the history

    sql(project, "UPDATE alerts SET status = 'failed' WHERE id = ?", ct)
    assert "1 failed alerts re-queued" in run_cli("alerts", "--all-failed").stdout
    run_cli("run", "--once")
    assert receiver.ids() == [nq, ct]
    assert sql(project, "SELECT DISTINCT status FROM alerts") == [("delivered",)]

    # A delivered alert is not re-queued (it would be sent twice), and an unknown id is an error.
    assert run_cli("alerts", "--retry", nq, check=False).returncode == 1
    assert sql(project, "SELECT status FROM alerts WHERE id = ?", nq) == [("delivered",)]
    assert run_cli("alerts", "--retry", "al_nope", check=False).returncode == 1


def test_webhook_test_prints_the_receivers_answer(project: Path, run_cli: Run, receiver: Receiver) -> None:
    closed = free_port()
    write_config(project, hook(receiver.url) + hook(f"http://127.0.0.1:{closed}/", name="nobody"))
    proc = run_cli("webhook", "test", "office")
    assert "answered: 204" in proc.stdout
    (req,) = receiver.requests
    event = Webhook(SECRET).verify(req.body, req.headers)
    assert event["type"] == "newswatch.test"
    assert SECRET not in proc.stdout + proc.stderr

    receiver.status = 500
    proc = run_cli("webhook", "test", "office", check=False)
    assert proc.returncode == 1 and "answered: 500" in proc.stdout
    proc = run_cli("webhook", "test", "nobody", check=False)
    assert proc.returncode == 1 and "no answer" in proc.stdout
    proc = run_cli("webhook", "test", "missing", check=False)
    assert proc.returncode == 2 and "no webhook named 'missing'" in proc.stderr  # a usage error, not bad config


def test_410_disables_the_webhook_until_enabled(project: Path, run_cli: Run, receiver: Receiver) -> None:
    write_config(project, RULES + hook(receiver.url))
    receiver.status = 410
    proc = run_cli("run", "--once")
    assert "WEBHOOK office DISABLED" in proc.stderr
    status = run_cli("status").stdout
    assert "office is DISABLED" in status and "newswatch webhook enable office" in status
    disabled = json.loads(run_cli("status", "--json").stdout)["disabled_webhooks"]
    assert list(disabled) == ["office"] and "410" in disabled["office"]["reason"]
    run_cli("run", "--once")  # still disabled: nothing is tried, nothing is lost
    assert sql(project, "SELECT count(*) FROM delivery_attempts") == [(1,)]
    assert sql(project, "SELECT DISTINCT status FROM alerts") == [("pending",)]

    receiver.status = 204
    assert "enabled again" in run_cli("webhook", "enable", "office").stdout
    run_cli("run", "--once")
    assert sorted(receiver.ids()) == sorted(r[0] for r in sql(project, "SELECT id FROM alerts"))
    assert sql(project, "SELECT DISTINCT status FROM alerts") == [("delivered",)]


# -- 4. `newswatch match` reads the archive; new rules apply to new articles only -------------------------


def test_match_reads_the_archive_and_a_new_rule_applies_to_new_articles_only(project: Path, run_cli: Run,
                                                                             receiver: Receiver) -> None:
    write_config(project, RULES + hook(receiver.url))
    run_cli("run", "--once")
    assert len(receiver.requests) == 2
    found = json.loads(run_cli("match", "nq57", "--json").stdout)
    assert [f["title"] for f in found] == [NQ57_TITLE]
    assert [(m["keyword"], m["text"]) for m in found[0]["matches"]] == [("Nghị quyết 57", "Nghị quyết số 57-NQ/TW")]
    text = run_cli("match", "ct34").stdout
    assert "would match 1 stored article(s)" in text and CT34_TITLE in text and "no alerts are sent" in text
    # Every sample was published more than 30 days before the test machine's today (2026-11 or later).
    assert json.loads(run_cli("match", "nq57", "--since", "30d", "--json").stdout) == []

    cfg = project / "config.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + '[[rules]]\nname = "vptu"\nkeywords = ["Văn phòng Thành ủy"]\n',
                   encoding="utf-8")
    archive = json.loads(run_cli("match", "vptu", "--json").stdout)
    assert len(archive) >= 3  # most samples mention the office: a storm if the rule ran over the archive
    assert sql(project, "SELECT count(*) FROM alerts") == [(2,)]  # `match` sent and queued nothing
    run_cli("run", "--once")
    assert sql(project, "SELECT count(*) FROM alerts WHERE rule = 'vptu'") == [(0,)]
    assert sql(project, "SELECT count(*) FROM matches WHERE rule = 'vptu'") == [(0,)]
    assert len(receiver.requests) == 2

    drop(project / "seeds", "moi.txt", "title: Giao ban Văn phòng Thành ủy\n\n"
                                       "Sáng nay, Văn phòng Thành ủy tổ chức giao ban công tác tháng.\n")
    run_cli("run", "--once")
    got = receiver.wait_for(lambda r: len(r) == 3)
    data = got[2].json["data"]
    assert data["rule"] == "vptu" and data["article"]["title"] == "Giao ban Văn phòng Thành ủy"
    assert sql(project, "SELECT count(*) FROM alerts WHERE rule = 'vptu'") == [(1,)]
    recent = json.loads(run_cli("match", "vptu", "--since", "30d", "--json").stdout)
    assert [f["title"] for f in recent] == ["Giao ban Văn phòng Thành ủy"]

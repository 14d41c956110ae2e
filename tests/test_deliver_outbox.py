"""Delivery runs against real receivers on 127.0.0.1: nothing lost, nothing marked early, no webhook
holding up another. Time is driven with ``now=`` instead of sleeping."""

from __future__ import annotations

import io
import itertools
import json
import logging
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from daemon.deliver import payload
from daemon.deliver.outbox import deliver_due, send_test
from daemon.deliver.receiver import make_receiver
from daemon.models import WebhookConfig
from tests.helpers import (
    SECRET,
    T0,
    AlertStore,
    Hit,
    Receiver,
    Reply,
    Script,
    add_alert,
    add_article,
    alert_row,
    always,
    later,
    open_store,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AlertStore]:
    s = open_store(tmp_path)
    yield s
    s.close()


def hook(name: str, url: str, **kw: object) -> WebhookConfig:
    return WebhookConfig(name=name, url=url, **kw)  # type: ignore[arg-type]


_article_numbers = itertools.count()


def queue(store: AlertStore, webhook: str, n: int, *, prefix: str = "al", created_at: datetime = T0) -> list[str]:
    ids = []
    for i in range(n):
        alert_id = f"{prefix}_{webhook}_{i:02d}"
        add_alert(store, alert_id, add_article(store, next(_article_numbers)), webhook,
                  created_at=created_at + timedelta(seconds=i))
        ids.append(alert_id)
    return ids


def dead_port() -> int:
    """A port nobody listens on (bound then closed): connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_flaky_receiver_gets_every_alert_exactly_once_signed(store: AlertStore,
                                                             receivers: Callable[[Script], Receiver]) -> None:
    """500 for the first four requests, then 200: every alert arrives once (by webhook-id), all signed."""
    def flaky(_s: Receiver, _r: Hit) -> Reply:
        return (500, {}, b"busy") if len(_s.requests) < 4 else (200, {}, b"ok")

    rx = receivers(flaky)
    ids = queue(store, "vp", 5)
    hooks = [hook("vp", rx.url, secret=SECRET)]
    now = later(1)
    for _ in range(12):
        deliver_due(store, hooks, now=now, rng=random.Random(3))
        if store.alert_counts()["delivered"] == 5:
            break
        now += timedelta(hours=3)
    assert store.alert_counts() == {"pending": 0, "delivered": 5, "failed": 0}
    assert sorted(rx.delivered_ids()) == ids  # exactly once each
    assert len(rx.requests) == 9  # 4 failures + 5 successes: a failing webhook is not hammered
    wh = Webhook(SECRET)
    for r in rx.requests:
        event = wh.verify(r.body, r.headers)
        assert event["data"]["alert_id"] == r.headers["webhook-id"]
        assert r.headers["content-type"] == "application/json"
        assert r.headers["user-agent"].startswith("newswatch/")
    first_id = rx.requests[0].headers["webhook-id"]
    assert [r.headers["webhook-id"] for r in rx.requests[:4]] == [first_id] * 4  # same id on every retry
    history = store.attempts_for(first_id)
    assert [a.status_code for a in history] == [500, 500, 500, 500, 200]
    assert alert_row(store, first_id)["attempts"] == 5


def test_refused_connection_keeps_alerts_pending_until_a_later_run(store: AlertStore,
                                                                   receivers: Callable[[Script], Receiver]) -> None:
    ids = queue(store, "vp", 3)
    down = hook("vp", f"http://127.0.0.1:{dead_port()}/hook/TOKEN-abc123")
    now = later(10)
    report = deliver_due(store, [down], now=now)
    assert (report.delivered, report.retried, report.webhooks["vp"].deferred) == (0, 1, 2)
    for alert_id in ids:
        row = alert_row(store, alert_id)
        assert row["status"] == "pending"
        assert datetime.fromisoformat(row["next_attempt_at"]) > now
        assert "TOKEN-abc123" not in (row["last_error"] or "")  # URL tokens never reach the database
    (attempt,) = store.attempts_for(ids[0])
    assert attempt.status_code is None and "connect" in (attempt.error or "")
    assert store.attempts_for(ids[1]) == []  # deferred, not attempted
    assert alert_row(store, ids[1])["attempts"] == 0

    assert deliver_due(store, [down], now=later(11)).retried == 0  # nothing due yet: no traffic

    rx = receivers(always(204))
    up = replace(down, url=rx.url)
    report = deliver_due(store, [up], now=later(60))
    assert report.delivered == 3
    assert rx.delivered_ids() == ids  # in order


class CrashAfterPost(AlertStore):
    """The process 'dies' between the receiver's 2xx and the database mark."""

    def mark_delivered(self, alert_ids: object, at: object) -> int:
        raise RuntimeError("simulated crash before marking delivered")


def test_crash_between_post_and_mark_redelivers_with_same_id(tmp_path: Path,
                                                             receivers: Callable[[Script], Receiver]) -> None:
    rx = receivers(always(200))
    setup = open_store(tmp_path)
    (alert_id,) = queue(setup, "vp", 1)
    setup.close()
    hooks = [hook("vp", rx.url, secret=SECRET)]

    crashing = CrashAfterPost(tmp_path / "news.db")
    report = deliver_due(crashing, hooks, now=later(1))
    crashing.close()
    assert report.delivered == 0 and "simulated crash" in report.webhooks["vp"].errors[0]
    assert rx.delivered_ids() == [alert_id]

    fresh = open_store(tmp_path)
    assert alert_row(fresh, alert_id)["status"] == "pending"
    assert deliver_due(fresh, hooks, now=later(2)).delivered == 1
    assert rx.delivered_ids() == [alert_id, alert_id]  # the same webhook-id: the receiver can dedupe
    assert alert_row(fresh, alert_id)["status"] == "delivered"
    assert deliver_due(fresh, hooks, now=later(3)).delivered == 0
    assert len(rx.requests) == 2
    fresh.close()


def test_hanging_receiver_does_not_delay_another(store: AlertStore, receivers: Callable[[Script], Receiver]) -> None:
    hang = receivers(always(0))  # accepts, reads, never answers (30 s)
    quick = receivers(always(204))
    queue(store, "slow", 2)
    (fast_id,) = queue(store, "fast", 1)
    hooks = [hook("slow", hang.url, timeout=1.5), hook("fast", quick.url, timeout=1.5)]
    started = time.monotonic()
    report = deliver_due(store, hooks, now=later(1))
    elapsed = time.monotonic() - started
    assert quick.delivered_ids() == [fast_id]
    assert quick.requests[0].at - started < 1.0
    assert 1.4 <= elapsed < 4.0  # the slow one is cut at its 1.5 s deadline
    assert report.webhooks["fast"].delivered == 1
    assert report.webhooks["slow"].retried == 1 and report.webhooks["slow"].deferred == 1
    (attempt,) = store.attempts_for("al_slow_00")
    assert attempt.status_code is None and "deadline" in (attempt.error or "")
    assert 1400 <= attempt.duration_ms < 3000
    assert len(hang.requests) == 1


@pytest.mark.parametrize("as_date", [False, True])
def test_429_retry_after_is_honoured(store: AlertStore, receivers: Callable[[Script], Receiver], as_date: bool) -> None:
    def limited(_s: Receiver, _r: Hit) -> Reply:
        value = format_datetime(datetime.now().astimezone() + timedelta(seconds=900), usegmt=True) if as_date \
            else "900"
        return 429, {"Retry-After": value}, b"slow down"

    rx = receivers(limited)
    (alert_id,) = queue(store, "vp", 1)
    now = later(1)
    deliver_due(store, [hook("vp", rx.url)], now=now)
    row = alert_row(store, alert_id)
    wait = (datetime.fromisoformat(row["next_attempt_at"]) - now).total_seconds()
    assert 880 <= wait <= 905  # Retry-After, not the 5 s first step of the schedule
    assert "429" in row["last_error"]


def test_redirect_is_not_followed_and_counts_as_failure(store: AlertStore,
                                                        receivers: Callable[[Script], Receiver]) -> None:
    def moved(_s: Receiver, r: Hit) -> Reply:
        return (200, {}, b"") if r.path == "/new" else (302, {"Location": "/new"}, b"")

    rx = receivers(moved)
    (alert_id,) = queue(store, "vp", 1)
    report = deliver_due(store, [hook("vp", rx.url)], now=later(1))
    assert (report.delivered, report.retried) == (0, 1)
    assert [r.path for r in rx.requests] == ["/hook"]
    row = alert_row(store, alert_id)
    assert row["status"] == "pending" and row["attempts"] == 1
    assert "HTTP 302" in row["last_error"] and "redirect" in row["last_error"]


def test_410_disables_webhook_and_keeps_alerts(store: AlertStore, receivers: Callable[[Script], Receiver],
                                               caplog: pytest.LogCaptureFixture) -> None:
    gone = receivers(always(410))
    other = receivers(always(200))
    ids = queue(store, "vp", 3)
    (other_id,) = queue(store, "chat", 1)
    hooks = [hook("vp", gone.url, secret=SECRET), hook("chat", other.url)]
    with caplog.at_level(logging.WARNING):
        report = deliver_due(store, hooks, now=later(1))
    assert report.webhooks["vp"].disabled and report.webhooks["chat"].delivered == 1
    assert list(store.disabled_webhooks()) == ["vp"]
    loud = [r for r in caplog.records if r.levelno == logging.ERROR and "vp" in r.getMessage()]
    assert loud and "410" in loud[0].getMessage()
    assert SECRET not in caplog.text
    assert all(alert_row(store, i)["status"] == "pending" for i in ids)
    assert len(gone.requests) == 1

    deliver_due(store, hooks, now=later(3600))
    assert len(gone.requests) == 1  # disabled: not tried again
    assert store.enable_webhook("vp")
    fixed = [hook("vp", other.url)]
    assert deliver_due(store, fixed, now=later(3601)).delivered == 3
    assert other.delivered_ids() == [other_id, *ids]


def test_schedule_runs_out_then_retry_alert_requeues(store: AlertStore, receivers: Callable[[Script], Receiver],
                                                     caplog: pytest.LogCaptureFixture) -> None:
    broken = receivers(always(503))
    (alert_id,) = queue(store, "vp", 1)
    hooks = [hook("vp", broken.url)]
    deliver_due(store, hooks, now=later(1))
    assert alert_row(store, alert_id)["status"] == "pending"
    with caplog.at_level(logging.ERROR):
        report = deliver_due(store, hooks, now=T0 + timedelta(days=3, seconds=1))
    assert report.failed == 1
    row = alert_row(store, alert_id)
    assert (row["status"], row["attempts"]) == ("failed", 2)
    assert any(alert_id in r.getMessage() and "given up" in r.getMessage() for r in caplog.records)
    assert deliver_due(store, hooks, now=T0 + timedelta(days=4)).webhooks == {}  # dead letters are not due

    assert store.retry_alert(alert_id, now=T0 + timedelta(days=4))
    ok = receivers(always(200))
    report = deliver_due(store, [hook("vp", ok.url)], now=T0 + timedelta(days=4, seconds=1))
    assert report.delivered == 1
    assert [a.status_code for a in store.attempts_for(alert_id)] == [503, 503, 200]  # history kept


def test_storm_becomes_one_digest(store: AlertStore, receivers: Callable[[Script], Receiver]) -> None:
    answers = iter([500, 200])
    rx = receivers(lambda _s, _r: (next(answers), {}, b""))
    ids = queue(store, "vp", 5)
    hooks = [hook("vp", rx.url, secret=SECRET, max_alerts_per_pass=3)]

    report = deliver_due(store, hooks, now=later(10))
    assert (report.retried, report.webhooks["vp"].digests) == (5, 1)
    rows = [alert_row(store, i) for i in ids]
    assert {r["attempts"] for r in rows} == {1}
    assert len({r["next_attempt_at"] for r in rows}) == 1  # rescheduled together

    report = deliver_due(store, hooks, now=later(3600))
    assert report.delivered == 5
    assert len(rx.requests) == 2
    digest_id = payload.digest_id(ids)
    assert [r.headers["webhook-id"] for r in rx.requests] == [digest_id, digest_id]
    event = Webhook(SECRET).verify(rx.requests[1].body, rx.requests[1].headers)
    assert event["type"] == "article.matched.digest"
    assert event["data"]["digest_id"] == digest_id
    assert [a["alert_id"] for a in event["data"]["alerts"]] == ids
    assert {a.message_id for i in ids for a in store.attempts_for(i)} == {digest_id}


def test_at_limit_alerts_go_one_by_one(store: AlertStore, receivers: Callable[[Script], Receiver]) -> None:
    rx = receivers(always(204))
    ids = queue(store, "vp", 3)
    deliver_due(store, [hook("vp", rx.url, max_alerts_per_pass=3)], now=later(10))
    assert rx.delivered_ids() == ids


def test_chat_format_and_extra_headers_on_the_wire(store: AlertStore, receivers: Callable[[Script], Receiver]) -> None:
    rx = receivers(always(200))
    queue(store, "slack", 1)
    deliver_due(store, [hook("slack", rx.url, format="slack", headers={"X-Office": "VP"})], now=later(1))
    (req,) = rx.requests
    assert req.headers["x-office"] == "VP"
    assert "webhook-signature" not in req.headers and req.headers["webhook-id"] == "al_slack_00"
    assert "*Đảng bộ*" in json.loads(req.body)["text"]  # the body hit, bold (the title hit is in the title)


def test_unknown_and_disabled_in_config_are_left_alone(store: AlertStore,
                                                       receivers: Callable[[Script], Receiver]) -> None:
    rx = receivers(always(200))
    queue(store, "removed", 1)
    queue(store, "off", 1)
    report = deliver_due(store, [hook("off", rx.url, enabled=False)], now=later(1))
    assert report.unknown == {"removed": 1}
    assert rx.requests == []
    assert store.alert_counts()["pending"] == 2


def test_secret_never_stored_or_logged(tmp_path: Path, store: AlertStore, receivers: Callable[[Script], Receiver],
                                       caplog: pytest.LogCaptureFixture) -> None:
    rx = receivers(always(500))
    queue(store, "vp", 2)
    with caplog.at_level(logging.DEBUG):
        deliver_due(store, [hook("vp", rx.url, secret=SECRET)], now=later(1))
    assert "al_vp_00" in caplog.text and "vp" in caplog.text
    assert SECRET not in caplog.text and SECRET.removeprefix("whsec_") not in caplog.text
    with store.read() as conn:
        dump = "\n".join(conn.iterdump())
    assert SECRET.removeprefix("whsec_") not in dump


def test_send_test_against_the_receiver() -> None:
    out = io.StringIO()
    rx = make_receiver("127.0.0.1", 0, SECRET, out)
    thread = threading.Thread(target=rx.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{rx.port}/"
        assert send_test(hook("vp", url, secret=SECRET)) == (204, "")
        assert rx.received[0].event["type"] == "newswatch.test"
        status, text = send_test(hook("vp", url, secret="whsec_QUJDREVGR0hJSktMTU5PUA=="))
        assert status == 401 and "signature" in text
        status, text = send_test(hook("vp", f"http://127.0.0.1:{dead_port()}/"))
        assert status is None and "connect" in text
    finally:
        rx.shutdown()
        rx.server_close()


def test_pass_budget_leaves_the_rest_due_for_the_next_run(store: AlertStore,
                                                          receivers: Callable[[Script], Receiver]) -> None:
    rx = receivers(always(204))
    ids = queue(store, "vp", 3)
    report = deliver_due(store, [hook("vp", rx.url)], now=later(10), budget=0.0)
    assert report.delivered == 1 and report.webhooks["vp"].deferred == 0
    assert [a.id for a in store.due_alerts("vp", later(10))] == ids[1:]  # untouched, still due now
    assert deliver_due(store, [hook("vp", rx.url)], now=later(11)).delivered == 2
    assert rx.delivered_ids() == ids

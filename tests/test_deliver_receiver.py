"""`newswatch listen`: verifies signatures, prints alerts readably, spots duplicate deliveries."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from daemon.deliver import formats
from daemon.deliver.outbox import deliver_due
from daemon.deliver.receiver import Receiver, make_receiver, serve
from daemon.deliver.signing import webhook_headers
from daemon.models import WebhookConfig
from tests.helpers import SECRET, T0, add_alert, add_article, later, open_store


@pytest.fixture
def listening() -> Iterator[tuple[Receiver, io.StringIO]]:
    out = io.StringIO()
    rx = make_receiver("127.0.0.1", 0, SECRET, out)
    thread = threading.Thread(target=rx.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield rx, out
    rx.shutdown()
    rx.server_close()


def test_prints_alerts_and_spots_duplicates(tmp_path: Path, listening: tuple[Receiver, io.StringIO]) -> None:
    rx, out = listening
    store = open_store(tmp_path)
    add_alert(store, "al_1", add_article(store, 1), "listen")
    hooks = [WebhookConfig(name="listen", url=f"http://127.0.0.1:{rx.port}/", secret=SECRET)]
    assert deliver_due(store, hooks, now=later(1)).delivered == 1
    text = out.getvalue()
    assert "article.matched" in text and "webhook-id=al_1" in text
    assert "rule:    van-phong" in text
    # The title hit is marked in the title; its snippet (the title again) is not printed.
    assert "title:   «Văn phòng Thành ủy» tổng kết năm 2025 (bài 1)" in text
    assert "source:  seeds, published 2026-01-10T08:00:00+07:00" in text
    assert "url:     https://example.vn/bai-1" in text
    assert "snippet: tiền lệ, «Đảng bộ» và cơ quan" in text and text.count("tổng kết năm 2025") == 1

    with store.tx() as conn:  # as if the daemon died before marking it: it is sent again
        conn.execute("UPDATE alerts SET status = 'pending', next_attempt_at = ? WHERE id = 'al_1'",
                     (store.iso(T0),))
    assert deliver_due(store, hooks, now=later(2)).delivered == 1
    store.close()
    assert "duplicate delivery of webhook-id=al_1" in out.getvalue()
    assert [r.duplicate for r in rx.received] == [False, True]


def test_digest_is_printed_alert_by_alert(tmp_path: Path, listening: tuple[Receiver, io.StringIO]) -> None:
    rx, out = listening
    store = open_store(tmp_path)
    for i in range(3):
        add_alert(store, f"al_{i}", add_article(store, i), "listen")
    hooks = [WebhookConfig(name="listen", url=f"http://127.0.0.1:{rx.port}/", secret=SECRET, max_alerts_per_pass=2)]
    assert deliver_due(store, hooks, now=later(1)).delivered == 3
    store.close()
    text = out.getvalue()
    assert "article.matched.digest" in text and "(3 alerts)" in text
    for i in range(3):
        assert f"(bài {i})" in text and f"(alert al_{i})" in text


def test_bad_signature_is_refused_and_said(listening: tuple[Receiver, io.StringIO]) -> None:
    rx, out = listening
    body = b'{"type":"article.matched","data":{}}'
    headers = webhook_headers("al_x", int(time.time()), body, "whsec_QUJDREVGR0hJSktMTU5PUA==")
    r = httpx.post(f"http://127.0.0.1:{rx.port}/", content=body, headers=headers)
    assert r.status_code == 401 and "signature" in r.text
    r = httpx.post(f"http://127.0.0.1:{rx.port}/", content=body)
    assert r.status_code == 401 and "missing" in r.text
    good = webhook_headers("al_y", int(time.time()), b"not json", SECRET)
    assert httpx.post(f"http://127.0.0.1:{rx.port}/", content=b"not json", headers=good).status_code == 400
    assert "rejected webhook-id=al_x" in out.getvalue()
    assert rx.received == []


def test_chat_bodies_are_shown_as_text(listening: tuple[Receiver, io.StringIO]) -> None:
    rx, out = listening
    hook = WebhookConfig(name="x", url="http://127.0.0.1:1/", format="slack")
    body = formats.render_probe(hook, T0 + timedelta(hours=1))
    r = httpx.post(f"http://127.0.0.1:{rx.port}/", content=body,
                   headers=webhook_headers("t1", int(time.time()), body, SECRET))
    assert r.status_code == 204
    assert "[chat message]" in out.getvalue() and "Thử kết nối" in out.getvalue()


def test_serve_runs_until_stopped_without_secret() -> None:
    out = io.StringIO()
    stop = threading.Event()
    thread = threading.Thread(target=serve, args=("127.0.0.1", 0, None, out, stop), daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not (m := re.search(r"http://127\.0\.0\.1:(\d+)/", out.getvalue())) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert m, out.getvalue()
    assert "NOT checked" in out.getvalue()
    r = httpx.post(f"http://127.0.0.1:{m.group(1)}/", json={"type": "newswatch.test", "data": {"message": "xin chào"}},
                   headers={"webhook-id": "t1"})
    assert r.status_code == 204
    assert "xin chào" in out.getvalue()
    stop.set()
    thread.join(5)
    assert not thread.is_alive()

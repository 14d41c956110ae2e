"""Shared pieces for the delivery tests: a real store file, rows inserted the way ingestion writes them,
and a scriptable HTTP receiver on 127.0.0.1. (No tests here; imported by the test_deliver_* modules.)"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from daemon.store.alerts import AlertTables
from daemon.text.normalize import content_hash, fold

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2026, 1, 10, 8, 0, 0, tzinfo=TZ)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

BODY = (
    "Năm 2025, trong bối cảnh khối lượng công việc lớn, nhiều nhiệm vụ mới, khó, chưa có tiền lệ, Đảng bộ "
    "và cơ quan Văn phòng Thành ủy đã nêu cao tinh thần đoàn kết, trách nhiệm, chủ động tham mưu, phục vụ "
    "hiệu quả sự lãnh đạo, chỉ đạo của Thường trực, Ban Thường vụ Thành ủy. Kết quả, Đảng bộ hoàn thành 9/9 "
    "chỉ tiêu chủ yếu, thực hiện 130/130 đầu việc theo chương trình công tác và các nhiệm vụ đột xuất."
)


class AlertStore(AlertTables):
    """What the lead's Store will contain for these tables."""


def open_store(path: Path) -> AlertStore:
    return AlertStore(path / "news.db")


def add_article(store: AlertTables, n: int, *, title: str | None = None, body: str = BODY,
                url: str | None = "https://example.vn/bai-{n}") -> int:
    title = title or f"Văn phòng Thành ủy tổng kết năm 2025 (bài {n})"
    body = f"{body} Bài số {n}."
    with store.tx() as conn:
        cur = conn.execute(
            """INSERT INTO articles (content_hash, title, body, url, source, category, published_at,
                                     ingested_at, folded)
               VALUES (?, ?, ?, ?, 'seeds', 'Thời sự', ?, ?, ?)""",
            (content_hash(title, body), title, body, url.format(n=n) if url else None, store.iso(T0), store.iso(T0),
             fold(title + " " + body)),
        )
        return int(cur.lastrowid or 0)


def add_alert(store: AlertTables, alert_id: str, article_id: int, webhook: str, *, rule: str = "van-phong",
              created_at: datetime = T0, next_attempt_at: datetime | None = None) -> None:
    """An alert plus its matches, as ingestion writes them (one transaction)."""
    with store.tx() as conn:
        conn.execute(
            """INSERT INTO alerts (id, article_id, rule, webhook, status, created_at, next_attempt_at)
               VALUES (?, ?, ?, ?, 'pending', ?, ?)""",
            (alert_id, article_id, rule, webhook, store.iso(created_at), store.iso(next_attempt_at or created_at)),
        )
        for kw, text, fld, snip in (
            ("văn phòng thành ủy", "Văn phòng Thành ủy", "title", "«Văn phòng Thành ủy» tổng kết năm 2025"),
            ("đảng bộ", "Đảng bộ", "body", "tiền lệ, «Đảng bộ» và cơ quan <Văn phòng> & Thành ủy"),
        ):
            exists = conn.execute(
                "SELECT 1 FROM matches WHERE article_id = ? AND rule = ? AND keyword = ?", (article_id, rule, kw)
            ).fetchone()
            if not exists:
                conn.execute(
                    """INSERT INTO matches (article_id, rule, keyword, matched_text, field, snippet, created_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?)""",
                    (article_id, rule, kw, text, fld, snip, store.iso(created_at)),
                )


def alert_row(store: AlertTables, alert_id: str) -> dict[str, Any]:
    with store.read() as conn:
        row = conn.execute("SELECT * FROM alerts WHERE id = ?", (alert_id,)).fetchone()
    assert row is not None, alert_id
    return dict(row)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float  # time.monotonic() when the request arrived

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


Reply = tuple[int, dict[str, str], bytes]
Script = Callable[["Scripted", Seen], Reply]


@dataclass
class Scripted:
    """A real HTTP server whose answers a test scripts; records every request it got."""

    script: Script
    requests: list[Seen] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)  # ends any sleeping handler
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def delivered_ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.requests if 200 <= r.status < 300]


def start(script: Script) -> Scripted:
    state = Scripted(script)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, body, 0, time.monotonic())
            status, headers, reply = state.script(state, seen)
            seen.status = status
            state.requests.append(seen)
            if status == 0:  # hang: never answer until the test ends
                state.release.wait(30)
                return
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        do_GET = do_POST

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.server = server
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return state


def stop(state: Scripted) -> None:
    state.release.set()
    if state.server is not None:
        state.server.shutdown()
        state.server.server_close()


def always(status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> Script:
    return lambda _s, _r: (status, headers or {}, body)


def receivers() -> Iterator[Callable[[Script], Scripted]]:
    """Generator body for a fixture that starts receivers and stops them all at teardown."""
    started: list[Scripted] = []

    def make(script: Script) -> Scripted:
        s = start(script)
        started.append(s)
        return s

    yield make
    for s in started:
        stop(s)


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)

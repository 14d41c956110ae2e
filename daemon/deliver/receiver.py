"""``newswatch listen``: a tiny webhook receiver to try a configuration end to end without a chat server.

It checks signatures the way a real receiver should (401 and the reason when they do not verify),
prints each alert readably, and points out a repeated ``webhook-id``: seeing "duplicate delivery" after
restarting the daemon mid-send is at-least-once delivery working as designed. The same server object
doubles as a test fixture (``port=0`` picks a free port; ``received`` keeps every accepted message).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, tzinfo
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from daemon.config import DEFAULT_TIMEZONE
from daemon.deliver.signing import verify
from daemon.match.snippet import mark

MAX_BODY = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Received:
    msg_id: str
    event: Any  # the decoded JSON body
    duplicate: bool


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, port: int, secret: str | None, out: TextIO, tz: tzinfo) -> None:
        super().__init__((host, port), _Handler)
        self.secret = secret
        self.out = out
        self.tz = tz  # for the times it prints itself, in the zone the alerts' own times are in
        self.received: list[Received] = []
        self._seen: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def emit(self, text: str) -> None:
        with self._lock:
            self.out.write(text + "\n")
            self.out.flush()

    def accept(self, msg_id: str, event: Any) -> str | None:
        """Record a message; returns when the id was first seen if it is a repeat."""
        with self._lock:
            first = self._seen.get(msg_id)
            if first is None:
                self._seen[msg_id] = datetime.now(self.tz).isoformat(timespec="seconds")
            self.received.append(Received(msg_id, event, first is not None))
            return first


def _alert_lines(data: Any) -> list[str]:
    """One alert: the title with its own hits marked, where it is from, then the body's snippets.

    A title hit's snippet is the title again, so it is shown as marks in the title line instead; a
    seed has no URL, so there is no "url: None" line but the source and date it does have.
    """
    if not isinstance(data, dict):
        return [f"  {data!r}"]
    found = data.get("article")
    article: dict[str, Any] = found if isinstance(found, dict) else {}
    matches = [m for m in data.get("matches") or [] if isinstance(m, dict)]
    title = str(article.get("title") or "")
    in_title = [str(m.get("text")) for m in matches if m.get("field") == "title" and str(m.get("text")) in title]
    lines = [
        f"  rule:    {data.get('rule')}   (alert {data.get('alert_id')})",
        f"  title:   {mark(title, in_title)}",
    ]
    origin = [str(article["source"])] if article.get("source") else []
    if article.get("published_at"):
        origin.append(f"published {article['published_at']}")
    if origin:
        lines.append(f"  source:  {', '.join(origin)}")
    if article.get("url"):
        lines.append(f"  url:     {article['url']}")
    lines.extend(f"  snippet: {m.get('snippet')}" for m in matches
                 if not (m.get("field") == "title" and str(m.get("text")) in in_title))
    return lines


def describe(event: Any, msg_id: str) -> str:
    """A message as an operator wants to read it in a terminal."""
    if not isinstance(event, dict):
        return f"? {msg_id}: {event!r}"
    kind = event.get("type")
    head = f"[{event.get('timestamp', '-')}] {kind or 'message'}  webhook-id={msg_id}"
    data = event.get("data")
    if kind == "article.matched":
        return "\n".join([head, *_alert_lines(data)])
    if kind == "article.matched.digest" and isinstance(data, dict):
        alerts = data.get("alerts") or []
        lines = [f"{head}  ({len(alerts)} alerts)"]
        for i, item in enumerate(alerts, 1):
            lines.append(f" {i}.")
            lines.extend(_alert_lines(item))
        return "\n".join(lines)
    if kind == "newswatch.test" and isinstance(data, dict):
        return f"{head}\n  {data.get('message')}"
    if kind == "briefing.ready" and isinstance(data, dict):  # the Markdown is in the files; its size here
        period, counts = data.get("period") or {}, data.get("counts") or {}
        return (f"{head}\n  {data.get('title')} ({data.get('name')}): {period.get('kind')} {period.get('start')}"
                f" – {period.get('end')}\n  {counts.get('articles')} articles, {counts.get('stories')} stories,"
                f" {counts.get('outlets')} outlets; files {', '.join(data.get('files') or [])} in {data.get('folder')}"
                f"\n  ({len(data.get('markdown') or '')} characters of Markdown)")
    if kind == "rule.spike" and isinstance(data, dict):
        return (f"{head}\n  {data.get('title')} ({data.get('rule')}): {data.get('count')} articles on"
                f" {data.get('day')}, 14-day mean {data.get('mean')} (factor {data.get('factor')})")
    text = event.get("text") or event.get("content")  # a chat-format body pointed at this receiver
    if isinstance(text, str):
        return f"[chat message]  webhook-id={msg_id}\n  " + text.replace("\n", "\n  ")
    return f"{head}\n  {json.dumps(event, ensure_ascii=False)[:500]}"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver
    server_version = "newswatch-listen/0.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the receiver prints its own readable lines."""

    def _answer(self, status: int, text: str = "") -> None:
        body = text.encode("utf-8")
        self.send_response(status)
        if body:
            self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._answer(413, "body too large\n")
            return
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        msg_id = headers.get("webhook-id", "-")
        if self.server.secret:
            problem = verify(self.server.secret, headers, body, time.time())
            if problem:
                self.server.emit(f"✗ rejected webhook-id={msg_id}: {problem}")
                self._answer(401, f"signature check failed: {problem}\n")
                return
        try:
            event = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            self.server.emit(f"✗ webhook-id={msg_id}: body is not UTF-8 JSON ({exc})")
            self._answer(400, "body is not UTF-8 JSON\n")
            return
        first = self.server.accept(msg_id, event)
        if first is not None:
            self.server.emit(f"↺ duplicate delivery of webhook-id={msg_id} (first received {first})")
        else:
            self.server.emit(describe(event, msg_id))
        self._answer(204)


def make_receiver(host: str = "127.0.0.1", port: int = 8787, secret: str | None = None,
                  out: TextIO | None = None, tz: tzinfo | None = None) -> Receiver:
    """``tz``: the configured zone (default: the config's default, Asia/Ho_Chi_Minh), not the machine's."""
    return Receiver(host, port, secret, out if out is not None else sys.stdout,
                    tz if tz is not None else ZoneInfo(DEFAULT_TIMEZONE))


def serve(host: str, port: int, secret: str | None, out: TextIO, stop: threading.Event | None = None) -> None:
    """Run until ``stop`` is set (or forever, until KeyboardInterrupt, when there is none)."""
    server = make_receiver(host, port, secret, out)
    checks = "signatures checked" if secret else "signatures NOT checked (no --secret)"
    server.emit(f"listening on http://{host}:{server.port}/ ({checks})")
    try:
        if stop is None:
            server.serve_forever(poll_interval=0.5)
            return
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                  name="newswatch-listen", daemon=True)
        thread.start()
        stop.wait()
        server.shutdown()
        thread.join()
    finally:
        server.server_close()

"""What the tests share, imported as ``tests.helpers`` (fixtures live in conftest.py; no test module imports
another): one routed HTTP server on 127.0.0.1 that every test serving feeds or receiving webhooks builds on,
the webhook receiver made from it, real CLI processes in the background, and sample data.

One server kind instead of one per test module, so timing behaviour (TCP_NODELAY, a handler thread per
connection, a stop event that ends every slow handler at teardown) is the same wherever a test relies on it.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from daemon.store.alerts import AlertTables
from daemon.store.events import Outbox
from daemon.text.normalize import content_hash, fold

# -- the routed loopback server ---------------------------------------------------------------------------


@dataclass
class Hit:
    """One request as the server got it; ``status`` is what it answered (0 while unanswered, or never)."""

    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    at: float  # time.monotonic() when the request arrived
    status: int = 0

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class Exchange(BaseHTTPRequestHandler):
    """The request handler every route gets: the raw handler plus the recorded hit and the server's stop event."""

    disable_nagle_algorithm = True  # TCP_NODELAY: small writes (drips, headers) leave at once
    server: _Threaded
    hit: Hit

    @property
    def stop(self) -> threading.Event:
        """Set at teardown: a handler that sleeps or drips waits on this, so it ends with its test."""
        return self.server.owner.stop

    def send_response(self, code: int, message: str | None = None) -> None:
        self.hit.status = code
        super().send_response(code, message)

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        """A whole answer with its Content-Length."""
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _serve(self) -> None:
        owner = self.server.owner
        body = b""
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            body = self.rfile.read(length)
        self.hit = Hit(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                       time.monotonic())
        with owner.lock:
            owner.hits.append(self.hit)
            owner.active += 1
            owner.max_active = max(owner.max_active, owner.active)
        try:
            owner.handler_for(self.path)(self)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up on purpose (a deadline, a size cap)
        finally:
            with owner.lock:
                owner.active -= 1

    do_GET = do_POST = do_PUT = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


Handler = Callable[[Exchange], None]


class _Threaded(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    owner: LoopbackServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # clients hanging up are expected here
            super().handle_error(request, client_address)


def reply(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Handler:
    """A canned answer, the same to every request (a gzipped body is bytes plus its Content-Encoding)."""
    return lambda ex: ex.reply(status, body, headers)


def redirect(status: int, location: str) -> Handler:
    return reply(status, b"", {"Location": location})


NOT_FOUND = reply(404, b"<html><body>Not found</body></html>", {"Content-Type": "text/html"})


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 answering from routes a test registers, recording every request.

    Routes map a path (query string included, as sent) to a handler; ``fallback`` answers the rest.
    """

    def __init__(self, *, http11: bool = False) -> None:
        self.routes: dict[str, Handler] = {}
        self.fallback: Handler = NOT_FOUND
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.active = 0
        self.max_active = 0
        handler = type("Exchange11", (Exchange,), {"protocol_version": "HTTP/1.1"}) if http11 else Exchange
        self._httpd = _Threaded(("127.0.0.1", 0), handler)
        self._httpd.owner = self
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path: str, handler: Handler) -> str:
        self.routes[path] = handler
        return self.url(path)

    def static(self, path: str, body: bytes, status: int = 200, ctype: str = "application/rss+xml",
               headers: dict[str, str] | None = None) -> str:
        """A canned answer at ``path`` (a feed unless ``ctype`` says otherwise); returns its URL."""
        return self.route(path, reply(status, body, {"Content-Type": ctype, **(headers or {})}))

    def handler_for(self, path: str) -> Handler:
        return self.routes.get(path, self.fallback)

    def close(self) -> None:
        self.stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()


class Servers:
    """Starts loopback servers for one test and closes them all at its end (the ``loopback`` fixture)."""

    def __init__(self) -> None:
        self.started: list[LoopbackServer] = []

    def __call__(self, *, http11: bool = False) -> LoopbackServer:
        self.started.append(LoopbackServer(http11=http11))
        return self.started[-1]

    def close(self) -> None:
        for s in self.started:
            s.close()


# -- slow and streamed bodies ----------------------------------------------------------------------------


def drip(seconds_between: float, stall_after: float | None = None, length: int | None = None) -> Handler:
    """A 200 whose body trickles in; with ``length``, a Content-Length the drip never reaches."""

    def handler(ex: Exchange) -> None:
        ex.send_response(200)
        ex.send_header("Content-Type", "application/rss+xml")
        if length is not None:
            ex.send_header("Content-Length", str(length))
        ex.send_header("Connection", "close")
        ex.end_headers()
        ex.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
        ex.wfile.flush()
        started = time.monotonic()
        while not ex.stop.is_set() and time.monotonic() - started < 10:
            if stall_after is not None and time.monotonic() - started > stall_after:
                ex.stop.wait(10)
                break
            ex.wfile.write(b" ")
            ex.wfile.flush()
            ex.stop.wait(seconds_between)
        ex.close_connection = True

    return handler


def never_answers(ex: Exchange) -> None:
    ex.stop.wait(10)


def streamed(body_pieces: Callable[[], Iterator[bytes]], headers: dict[str, str]) -> Handler:
    """A body without Content-Length (read until close), so only the streaming cap can stop it."""

    def handler(ex: Exchange) -> None:
        ex.send_response(200)
        for k, v in headers.items():
            ex.send_header(k, v)
        ex.send_header("Connection", "close")
        ex.end_headers()
        for piece in body_pieces():
            ex.wfile.write(piece)
        ex.close_connection = True

    return handler


# -- a webhook receiver on the loopback server ------------------------------------------------------------

Reply = tuple[int, dict[str, str], bytes]
Script = Callable[["Receiver", Hit], Reply]


@dataclass
class Receiver:
    """A webhook receiver: its own loopback server answering every path (``url`` ends in /hook).

    It answers ``status`` unless a ``script`` decides per request; status 0 hangs until the test ends.
    ``requests`` holds every request with the status it got; ``wait_for``, ``ids`` and ``alert_ids``
    look only at the delivered (2xx) ones.
    """

    server: LoopbackServer
    status: int = 204
    script: Script | None = None
    requests: list[Hit] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server.fallback = self._answer

    @property
    def url(self) -> str:
        return self.server.url("/hook")

    @property
    def lock(self) -> threading.Lock:
        return self.server.lock

    def _answer(self, ex: Exchange) -> None:
        with self.lock:
            status = self.status
        # The script sees the requests before this one (a "fail the first four" script counts them).
        status, headers, body = self.script(self, ex.hit) if self.script else (status, {}, b"")
        ex.hit.status = status
        with self.lock:
            self.requests.append(ex.hit)
        if status == 0:  # hang: never answer until the test ends
            ex.stop.wait(30)
            return
        ex.reply(status, body, headers)

    def delivered(self) -> list[Hit]:
        with self.lock:
            return [r for r in self.requests if 200 <= r.status < 300]

    def delivered_ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.delivered()]

    def ids(self) -> list[str]:
        return [r.headers.get("webhook-id", "") for r in self.delivered()]

    def alert_ids(self) -> list[str]:
        """Every alert id received, whether sent alone or inside a digest."""
        ids: list[str] = []
        for r in self.delivered():
            data = r.json["data"]
            ids += [a["alert_id"] for a in data["alerts"]] if "alerts" in data else [data["alert_id"]]
        return ids

    def wait_for(self, predicate: Callable[[list[Hit]], bool], timeout: float = 10) -> list[Hit]:
        deadline = time.monotonic() + timeout
        snapshot: list[Hit] = []
        while time.monotonic() < deadline:
            snapshot = self.delivered()
            if predicate(snapshot):
                return snapshot
            time.sleep(0.02)
        raise AssertionError(f"receiver: condition not met in {timeout}s; got {len(snapshot)} requests")


def always(status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> Script:
    return lambda _s, _r: (status, headers or {}, body)


# -- a project folder and the real CLI ------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "seeds").glob("*.txt"))
TONES = "\u0300\u0301\u0303\u0309\u0323"


def to_cp1258(text: str) -> bytes:
    """Encode as Windows Vietnamese the way real cp1258 files are: base letters precomposed, tones combining."""
    decomposed = unicodedata.normalize("NFD", text)
    # Recompose everything but the five tone marks (cp1258 has â ê ô ă ơ ư đ, not the toned letters).
    chunks: list[str] = []
    buf = ""
    tones = ""
    for ch in decomposed:
        if ch in TONES:
            tones += ch
        elif unicodedata.combining(ch):
            buf += ch
        else:
            chunks.append(unicodedata.normalize("NFC", buf) + tones)
            buf, tones = ch, ""
    chunks.append(unicodedata.normalize("NFC", buf) + tones)
    return "".join(chunks).encode("cp1258")


def write_config(folder: Path, extra: str = "", *, seeds: str = "seeds") -> Path:
    cfg = folder / "config.toml"
    cfg.write_text(
        f'[storage]\npath = "state/news.db"\n[seeds]\npath = "{seeds}"\ninterval = "1s"\n'
        '[delivery]\ninterval = "1s"\n' + extra,
        encoding="utf-8",
    )
    return cfg


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSWATCH_", "NOTIFY_SOCKET", "WATCHDOG_"))}
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Background:
    """A CLI command running as a real process, its stdout and stderr lines collected as they arrive."""

    def __init__(self, project: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.out: list[str] = []
        self.err: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "daemon", "--config", str(project / "config.toml"), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
            env=env or cli_env(), cwd=project,
        )
        self._readers = [threading.Thread(target=self._read, args=(s, d), daemon=True)
                         for s, d in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for t in self._readers:
            t.start()

    @staticmethod
    def _read(stream: Any, lines: list[str]) -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))

    def wait_for(self, predicate: Callable[[list[str]], bool], *, stream: str = "out", timeout: float = 15) -> None:
        lines = self.out if stream == "out" else self.err
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(list(lines)):
                return
            if self.proc.poll() is not None and predicate(list(lines)) is False:
                time.sleep(0.1)  # let the readers drain, then give up
                if predicate(list(lines)):
                    return
                break
            time.sleep(0.02)
        raise AssertionError(f"condition not met in {timeout}s (exit {self.proc.poll()});\nstdout:\n"
                             + "\n".join(self.out) + "\nstderr:\n" + "\n".join(self.err))

    def wait_line(self, text: str, *, stream: str = "out", timeout: float = 15) -> None:
        self.wait_for(lambda lines: any(text in line for line in lines), stream=stream, timeout=timeout)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            for t in self._readers:
                t.join(5)
            raise AssertionError(f"the process did not exit within {timeout}s of signal {sig};\nstderr:\n"
                                 + "\n".join(self.err)) from None
        for t in self._readers:
            t.join(5)
        return code


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- sample config and rules, database peeks -------------------------------------------------------------

SHIPPED_URL = "http://127.0.0.1:8787/"
SHIPPED_SECRET = "whsec_bmV3c3dhdGNoLWRlbW8tc2VjcmV0LWNoYW5nZS1tZSE="
HOOK_SECRET = "whsec_" + base64.b64encode(b"alerts-cli-test-secret-0123456789").decode()
RULES = '[[rules]]\nname = "nq57"\nkeywords = ["Nghị quyết 57"]\n[[rules]]\nname = "ct34"\nkeywords = ["Chỉ thị 34"]\n'


# The briefing's tests: a rule with a human title (a section heading) and one every sample matches.
BRIEF_RULES = """
[[rules]]
name = "nq57"
title = "Nghị quyết 57-NQ/TW về khoa học, công nghệ"
keywords = ["Nghị quyết 57"]

[[rules]]
name = "thanh-uy"
keywords = ["Thành ủy"]
"""


def shipped_config(project: Path, port: int) -> None:
    """The shipped config.toml as is, except the demo webhook's port and a fast delivery interval."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    assert SHIPPED_URL in text and SHIPPED_SECRET in text and 'interval = "10s"' in text
    text = text.replace(SHIPPED_URL, f"http://127.0.0.1:{port}/").replace('interval = "10s"', 'interval = "1s"')
    (project / "config.toml").write_text(text, encoding="utf-8")


def hook(url: str, name: str = "office", secret: str | None = HOOK_SECRET) -> str:
    return (f'[[webhooks]]\nname = "{name}"\nurl = "{url}"\ntimeout = "3s"\n'
            + (f'secret = "{secret}"\n' if secret else ""))


def sql(project: Path, statement: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(project / "state" / "news.db", timeout=10) as conn:
        return conn.execute(statement, params).fetchall()


def drop(folder: Path, name: str, text: str) -> None:
    """A new seed file dated 5 s back, so `run --once` does not leave it to settle."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    old = time.time() - 5
    os.utime(path, (old, old))


NQ57 = "Nghị quyết 57"
RULE = f'[[rules]]\nname = "nq57"\nkeywords = ["{NQ57}"]\n'


def receiver_hook(receiver: Receiver) -> str:
    """A webhook entry sending to ``receiver``, unsigned."""
    return f'[[webhooks]]\nname = "office"\nurl = "{receiver.url}"\ntimeout = "3s"\n'


def run_daemon(project: Path, env: dict[str, str] | None = None) -> Background:
    """`python -m daemon run` as systemd or a person starts it; its log is ``.err``."""
    return Background(project, "run", env=env)


def drop_renamed(folder: Path, name: str, text: str) -> None:
    """Write atomically (temp name, then rename), the way a well-behaved producer drops a file."""
    tmp = folder / f".{name}.part"
    tmp.write_text(text, encoding="utf-8")
    tmp.rename(folder / name)


# -- the CLI's own shape ----------------------------------------------------------------------------------

Command = tuple[tuple[str, ...], argparse.ArgumentParser]


def cli_commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[Command]:
    """Every command and subcommand with its parser, so tests cover commands added later without a list."""
    found: list[Command] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                assert helps.get(name), f"command {' '.join((*prefix, name))!r} has no help text"
                found.append(((*prefix, name), sub))
                found += cli_commands(sub, (*prefix, name))
    return found


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """systemd unit syntax: like INI, but keys repeat (each line adds), and '\\' continues a line."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"setting outside a section: {line!r}"
        key, sep, value = line.partition("=")
        assert sep, f"not KEY=VALUE: {line!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


# -- delivery data: a real store file, rows inserted the way ingestion writes them ------------------------

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2026, 1, 10, 8, 0, 0, tzinfo=TZ)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

BODY = (
    "Năm 2025, trong bối cảnh khối lượng công việc lớn, nhiều nhiệm vụ mới, khó, chưa có tiền lệ, Đảng bộ "
    "và cơ quan Văn phòng Thành ủy đã nêu cao tinh thần đoàn kết, trách nhiệm, chủ động tham mưu, phục vụ "
    "hiệu quả sự lãnh đạo, chỉ đạo của Thường trực, Ban Thường vụ Thành ủy. Kết quả, Đảng bộ hoàn thành 9/9 "
    "chỉ tiêu chủ yếu, thực hiện 130/130 đầu việc theo chương trình công tác và các nhiệm vụ đột xuất."
)


class AlertStore(Outbox):
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


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# -- Debian's headless Chromium, driven by Playwright ----------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextmanager
def chromium(profile: Path) -> Iterator[Any]:
    """A browser context of /usr/bin/chromium (nothing is downloaded) with a fresh profile folder.

    Tests using it skip themselves where the package or Playwright is missing (``skipif(not CHROMIUM.exists())``).
    """
    import pytest

    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(  # a fresh profile folder: --user-data-dir
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()

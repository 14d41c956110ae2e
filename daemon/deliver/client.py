"""One POST with a hard total deadline, never following redirects, never raising.

httpx timeouts bound each phase (connect, each read, each write), not the request: a receiver that
trickles a byte every few seconds could hold a delivery worker forever. So the request runs in a
short-lived helper thread and the caller stops waiting at the deadline; the helper's own per-phase
timeouts (set to the same deadline) make it give up soon after. A request abandoned this way may
still have reached the receiver, which is why alerts carry a stable ``webhook-id``.

Errors are returned as text for one log line and the ``delivery_attempts`` row. Webhook URLs often
carry a token (Slack paths, Telegram bot tokens), so the URL is scrubbed from every error text.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

USER_AGENT = "newswatch/0.1 (webhook delivery)"
MAX_RESPONSE_BYTES = 64 * 1024
ERROR_TEXT_CHARS = 300


@dataclass(frozen=True, slots=True)
class PostResult:
    status: int | None  # None: no HTTP answer (refused, timeout, TLS, ...)
    error: str | None  # None exactly when the answer was 2xx
    duration_ms: int
    text: str = ""  # start of the response body
    retry_after: str | None = None  # the raw Retry-After header

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def redact(message: str, url: str) -> str:
    """Remove the URL, and its path and query (where tokens live), from an error text."""
    parts = urlsplit(url)
    for secret in (url, parts.path + (f"?{parts.query}" if parts.query else ""), parts.query):
        if len(secret) > 1:
            message = message.replace(secret, "…")
    return message


def _describe(exc: BaseException) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _exchange(client: httpx.Client, url: str, body: bytes, headers: Mapping[str, str],
              deadline: float) -> tuple[int, str, str | None]:
    timeout = httpx.Timeout(deadline)
    with client.stream("POST", url, content=body, headers=dict(headers), timeout=timeout,
                       follow_redirects=False) as resp:
        chunks: list[bytes] = []
        size = 0
        for chunk in resp.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= MAX_RESPONSE_BYTES:
                break
        raw = b"".join(chunks)[:MAX_RESPONSE_BYTES]
        text = raw.decode(resp.encoding or "utf-8", errors="replace")
        return resp.status_code, text, resp.headers.get("retry-after")


def post(client: httpx.Client, url: str, body: bytes, headers: Mapping[str, str], deadline: float) -> PostResult:
    """POST ``body``; the answer (or the reason there is none) within ``deadline`` seconds, always."""
    done = threading.Event()
    outcome: list[tuple[int, str, str | None] | BaseException] = []

    def run() -> None:
        try:
            outcome.append(_exchange(client, url, body, headers, deadline))
        except Exception as exc:  # every failure becomes a recorded attempt
            outcome.append(exc)
        finally:
            done.set()

    started = time.monotonic()
    threading.Thread(target=run, name="webhook-post", daemon=True).start()
    finished = done.wait(deadline)
    duration_ms = int((time.monotonic() - started) * 1000)
    # httpx's per-phase timeouts equal the deadline, so the helper's own timeout and the wait above race
    # at the deadline: either way it is the same outcome and the same message.
    if not finished or isinstance(outcome[0], httpx.TimeoutException):
        return PostResult(None, f"no answer within the {deadline:g} s deadline", duration_ms)
    result = outcome[0]
    if isinstance(result, BaseException):
        return PostResult(None, redact(_describe(result), url)[:ERROR_TEXT_CHARS], duration_ms)
    status, text, retry_after = result
    if 200 <= status < 300:
        return PostResult(status, None, duration_ms, text, retry_after)
    snippet = " ".join(text.split())[:200]
    error = f"HTTP {status}" + (f": {snippet}" if snippet else "")
    if 300 <= status < 400:
        error += " (redirects are not followed: update the webhook URL)"
    return PostResult(status, redact(error, url)[:ERROR_TEXT_CHARS], duration_ms, text, retry_after)


def new_client() -> httpx.Client:
    """Shared by the per-webhook workers of one run (httpx clients are thread-safe)."""
    return httpx.Client(headers={"User-Agent": USER_AGENT}, follow_redirects=False)

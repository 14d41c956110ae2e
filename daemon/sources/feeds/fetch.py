"""HTTP for feeds: one shared client, bounded concurrency, hard limits, and no exceptions out.

Limits are enforced here rather than trusted to httpx, because a service that runs for months meets
every kind of broken server:

* a TOTAL deadline per request: httpx's read timeout restarts with every chunk, so a server dripping
  a byte a second would never time out. Before the response, every httpx timeout is set to the time
  left; once the body streams, a watchdog shuts the socket down at the deadline.
* a cap on the DECODED body, enforced while streaming: gzip/deflate are decompressed here with a
  bounded output per step, so a gzip bomb costs at most ``max_bytes`` of memory.
* redirects are followed by hand: at most ``max_redirects``, http/https only, and a permanent
  redirect is reported (``moved_to``) so the store can remember the new address.

``fetch`` and ``fetch_all`` return a ``FetchResult`` for every feed, with ``error`` set on failure.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import httpx

from daemon.config import FetchSettings, human_size
from daemon.errors import FeedError
from daemon.headers import parse_retry_after
from daemon.models import Document, FeedConfig
from daemon.sources.feeds.items import entry_url, feed_documents, lead_text
from daemon.sources.feeds.results import FeedState, FetchResult
from daemon.sources.feeds.schedule import parse_max_age
from daemon.text.dates import VN_TZ
from daemon.text.html import strip_outlet_prefix
from daemon.text.normalize import normalize_body

log = logging.getLogger(__name__)

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
FULL_TEXT_BELOW = 1000  # a feed body shorter than this is taken to be only the lead
PAGE_CACHE_SIZE = 2048  # extracted pages remembered, so a lead-only feed does not refetch every poll
_READ_CHUNK = 64 * 1024
_PERMANENT = (301, 308)
_REDIRECTS = (301, 302, 303, 307, 308)
_CROSS_ORIGIN_DROP = ("authorization", "cookie")


class _Failed(FeedError):
    """One line for ``FetchResult.error``; carries what is known about the response. Never leaves this module."""

    def __init__(self, message: str, status: int | None = None, url: str | None = None,
                 headers: Mapping[str, str] | None = None, moved_to: str | None = None) -> None:
        super().__init__("", message)
        self.message = message
        self.status = status
        self.url = url
        self.headers = headers or {}
        self.moved_to = moved_to


@dataclass(frozen=True, slots=True)
class _Response:
    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    moved_to: str | None


class _Deadline:
    """A total time budget; after it passes, the attached socket is shut down to wake a blocked read."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def left(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise _Failed(self.message())
        return left

    def message(self) -> str:
        return f"timed out after {self.seconds:g} s (total deadline)"

    def attach(self, response: httpx.Response) -> None:
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        with self._lock:
            self._sock = sock if isinstance(sock, socket.socket) else None
            if self.expired:
                self._shutdown()

    def detach(self) -> None:
        with self._lock:
            self._sock = None

    def _shutdown(self) -> None:
        if self._sock is not None:
            try:
                # The base-class call, also for TLS sockets: it must not touch the SSL object that the
                # reading thread is using, only wake it up.
                socket.socket.shutdown(self._sock, socket.SHUT_RDWR)
            except OSError:
                pass

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            self._shutdown()

    def cancel(self) -> None:
        self._timer.cancel()


class _Decoder:
    """Content-Encoding decoding with bounded output, so compressed input cannot outgrow the cap."""

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding.strip().lower()
        if self._encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
            raise _Failed(f"unsupported Content-Encoding {encoding!r}")
        self._z: Any = None
        if self._encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes, limit: int) -> Iterator[bytes]:
        """Yield decoded pieces of at most ``limit + 1`` bytes each (enough to detect an overflow)."""
        if self._encoding in ("", "identity"):
            yield data
            return
        if self._z is None:  # "deflate": zlib-wrapped per the RFC, but some servers send it raw
            zlib_header = len(data) >= 2 and data[0] & 0x0F == 8 and ((data[0] << 8) | data[1]) % 31 == 0
            self._z = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
        try:
            yield self._z.decompress(data, limit + 1)
            while self._z.unconsumed_tail and not self._z.eof:
                out = self._z.decompress(self._z.unconsumed_tail, limit + 1)
                if not out:
                    break
                yield out
        except zlib.error as exc:
            raise _Failed(f"corrupt compressed body: {exc}") from None


class FeedFetcher:
    """Fetches feeds (and, for ``full_text`` feeds, article pages) through one shared httpx client."""

    def __init__(self, settings: FetchSettings, tz: ZoneInfo = VN_TZ) -> None:
        self.settings = settings
        self.tz = tz
        pool = max(settings.concurrency, 1)
        self._client = httpx.Client(
            follow_redirects=False,
            limits=httpx.Limits(max_connections=pool * 2, max_keepalive_connections=pool),
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=settings.timeout,
            trust_env=False,
        )
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._hosts_lock = threading.Lock()
        self._pages: OrderedDict[str, str] = OrderedDict()
        self._pages_lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> FeedFetcher:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- public ----------------------------------------------------------------------------------
    def fetch_all(self, jobs: Sequence[tuple[FeedConfig, FeedState]]) -> list[FetchResult]:
        """Fetch many feeds concurrently; results come back in the order of ``jobs``."""
        if not jobs:
            return []
        workers = max(1, min(self.settings.concurrency, len(jobs)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="feed") as pool:
            return list(pool.map(lambda job: self.fetch(*job), jobs))

    def fetch(self, feed: FeedConfig, state: FeedState) -> FetchResult:
        """Poll one feed and parse it here. Never raises: every failure is a ``FetchResult`` with ``error`` set."""
        return self.parse(feed, self.download(feed, state))

    def download(self, feed: FeedConfig, state: FeedState) -> FetchResult:
        """Poll one feed without parsing it: a result whose ``body`` is still to be parsed (``parse``, or a
        worker process: ``daemon.prepare_feeds``), or a final one (a failure, a 304, unchanged bytes).

        A 200 whose body has the SHA-256 of the last body parsed (``state.body_sha256``) is ``unchanged``:
        many outlets send no validators and the same bytes at every poll, and parsing them again would
        only find the items seen already. Never raises.
        """
        started = time.monotonic()
        url = state.url or feed.url
        try:
            return self._download(feed, state, url, started)
        except _Failed as exc:
            return self._failure(feed, exc, url, started)
        except Exception as exc:  # a bug or an unforeseen library error: report it, keep the pass going
            log.exception("feed %s: unexpected error", feed.name)
            return self._failure(feed, _Failed(f"unexpected error: {type(exc).__name__}: {exc}"), url, started)

    def parse(self, feed: FeedConfig, result: FetchResult, known: Collection[str] = ()) -> FetchResult:
        """Parse a downloaded body in this process (a ``full_text`` feed's pages are fetched here too).

        ``known``: keys of the items the last poll found, left out of the documents (``feed_documents``).
        A result without a body (a failure, a 304, unchanged bytes) comes back as it is. Never raises.
        """
        if result.body is None:
            return result
        started = time.monotonic() - result.elapsed
        try:
            documents, warning, keys = feed_documents(
                result.body, source=feed.name, url=result.url, content_type=result.content_type,
                fetched_at=datetime.now(self.tz), tz=self.tz, full_text=self._full_text if feed.full_text else None,
                known=known)
        except FeedError as exc:
            return parsed_result(result, error=exc.reason, elapsed=time.monotonic() - started)
        except Exception as exc:  # a bug or an unforeseen library error: report it, keep the pass going
            log.exception("feed %s: unexpected error", feed.name)
            return parsed_result(result, error=f"unexpected error: {type(exc).__name__}: {exc}",
                                 elapsed=time.monotonic() - started)
        if warning:
            log.debug("feed %s: %s", feed.name, warning)
        return parsed_result(result, documents=documents, warning=warning, keys=keys,
                             elapsed=time.monotonic() - started)

    # -- internals -------------------------------------------------------------------------------
    def _failure(self, feed: FeedConfig, exc: _Failed, url: str, started: float) -> FetchResult:
        message = " ".join(exc.message.split())
        log.debug("feed %s: %s", feed.name, message)
        return FetchResult(
            feed=feed.name,
            url=exc.url or url,
            status=exc.status,
            moved_to=exc.moved_to,
            error=message,
            retry_after=parse_retry_after(exc.headers.get("retry-after")),
            max_age=None,
            elapsed=time.monotonic() - started,
        )

    def _download(self, feed: FeedConfig, state: FeedState, url: str, started: float) -> FetchResult:
        headers = {"Accept": FEED_ACCEPT, **dict(feed.headers)}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        resp = self._get(url, headers)
        etag = resp.headers.get("etag") or None
        last_modified = resp.headers.get("last-modified") or None
        common: dict[str, Any] = {
            "feed": feed.name, "url": resp.url, "status": resp.status, "moved_to": resp.moved_to,
            "retry_after": parse_retry_after(resp.headers.get("retry-after")),
            "max_age": parse_max_age(resp.headers.get("cache-control")),
        }
        if resp.status == 304:
            return FetchResult(**common, not_modified=True, etag=etag or state.etag,
                               last_modified=last_modified or state.last_modified,
                               elapsed=time.monotonic() - started)
        digest = hashlib.sha256(resp.body).hexdigest()
        if digest == state.body_sha256:
            log.debug("feed %s: the same %d bytes as last time; not parsed again", feed.name, len(resp.body))
            return FetchResult(**common, unchanged=True, etag=etag, last_modified=last_modified, body_sha256=digest,
                               elapsed=time.monotonic() - started)
        return FetchResult(**common, etag=etag, last_modified=last_modified, body_sha256=digest, body=resp.body,
                           content_type=resp.headers.get("content-type"), elapsed=time.monotonic() - started)

    @contextmanager
    def _host_slot(self, url: str) -> Iterator[None]:
        host = urlsplit(url).netloc.lower()
        with self._hosts_lock:
            sem = self._hosts.get(host)
            if sem is None:
                sem = self._hosts[host] = threading.BoundedSemaphore(max(self.settings.per_host, 1))
        with sem:
            yield

    def _get(self, url: str, headers: Mapping[str, str]) -> _Response:
        """GET with manual redirects, a total deadline and a decoded-size cap."""
        s = self.settings
        headers = dict(headers)
        moved_to: str | None = None
        permanent_so_far = True
        deadline: _Deadline | None = None
        try:
            for _hop in range(s.max_redirects + 1):
                scheme = urlsplit(url).scheme.lower()
                if scheme not in ("http", "https"):
                    raise _Failed(f"refusing URL with scheme {scheme + ':' if scheme else '(none)'} ({url})",
                                  url=url, moved_to=moved_to)
                with self._host_slot(url):
                    if deadline is None:
                        deadline = _Deadline(s.timeout)  # starts once we may talk to the host
                    status, resp_headers, body, location = self._exchange(url, headers, deadline)
                if location is None:
                    return _Response(url, status, resp_headers, body, moved_to)
                target = urljoin(url, location)
                permanent_so_far = permanent_so_far and status in _PERMANENT
                if permanent_so_far:
                    moved_to = target
                log.debug("redirect %s %s → %s", status, url, target)
                if urlsplit(target).netloc.lower() != urlsplit(url).netloc.lower():
                    for name in list(headers):
                        if name.lower() in _CROSS_ORIGIN_DROP:
                            del headers[name]
                url = target
            raise _Failed(f"too many redirects (more than {s.max_redirects})", url=url, moved_to=moved_to)
        except _Failed as exc:
            exc.url = exc.url or url
            exc.moved_to = exc.moved_to or moved_to
            raise
        finally:
            if deadline is not None:
                deadline.cancel()

    def _exchange(self, url: str, headers: Mapping[str, str],
                  deadline: _Deadline) -> tuple[int, Mapping[str, str], bytes, str | None]:
        """One request/response. Returns (status, headers, body, redirect location or None)."""
        with _http_errors(deadline, url):
            request = self._client.build_request("GET", url, headers=headers, timeout=deadline.left())
            response = self._client.send(request, stream=True)
        try:
            deadline.attach(response)
            status = response.status_code
            resp_headers = {k.lower(): v for k, v in response.headers.items()}
            location = response.headers.get("location")
            if status in _REDIRECTS and location:
                return status, resp_headers, b"", location.strip()
            if status == 304:
                return status, resp_headers, b"", None
            if status >= 400 or status < 200:
                raise _Failed(f"HTTP {status} {response.reason_phrase}".strip(), status, url, resp_headers)
            if status in _REDIRECTS:
                raise _Failed(f"HTTP {status} redirect without a Location header", status, url, resp_headers)
            # The server has answered: a body cut off from here on (deadline, reset) keeps that status.
            with _http_errors(deadline, url, status, resp_headers):
                body = self._read_body(response, deadline, status, url, resp_headers)
            return status, resp_headers, body, None
        finally:
            deadline.detach()
            response.close()

    def _read_body(self, response: httpx.Response, deadline: _Deadline, status: int, url: str,
                   headers: Mapping[str, str]) -> bytes:
        cap = self.settings.max_bytes
        too_big = f"body larger than {human_size(cap)}"
        encoding = headers.get("content-encoding", "")
        length = headers.get("content-length", "")
        if not encoding and length.isdigit() and int(length) > cap:
            raise _Failed(f"{too_big} (Content-Length {length})", status, url, headers)
        decoder = _Decoder(encoding)
        buf = bytearray()
        for chunk in response.iter_raw(_READ_CHUNK):
            if deadline.expired:
                raise _Failed(deadline.message(), status, url, headers)
            deadline.left()
            for piece in decoder.feed(chunk, cap - len(buf)):
                buf += piece
                if len(buf) > cap:
                    raise _Failed(too_big, status, url, headers)
        if deadline.expired:
            raise _Failed(deadline.message(), status, url, headers)
        return bytes(buf)

    # -- full text -------------------------------------------------------------------------------
    def _full_text(self, entry: Mapping[str, Any], base: str) -> str | None:
        """The article page's main text when the feed carries only a lead; None keeps the lead."""
        url = entry_url(entry, base)
        lead = lead_text(entry, base)
        if not url or len(lead) >= FULL_TEXT_BELOW:
            return None
        with self._pages_lock:
            if url in self._pages:
                self._pages.move_to_end(url)
                return self._pages[url]
        try:
            resp = self._get(url, {"Accept": PAGE_ACCEPT})
            text = _extract(resp.body, resp.url)
        except _Failed as exc:
            log.info("full text of %s: %s; keeping the feed's lead", url, exc.message)
            return None
        except Exception:
            log.exception("full text of %s failed; keeping the feed's lead", url)
            return None
        if not text or len(text) <= len(lead):
            return None
        with self._pages_lock:
            self._pages[url] = text
            while len(self._pages) > PAGE_CACHE_SIZE:
                self._pages.popitem(last=False)
        return text


def parsed_result(downloaded: FetchResult, *, documents: list[Document] | None = None, warning: str | None = None,
                  keys: tuple[str, ...] = (), error: str | None = None, elapsed: float) -> FetchResult:
    """A downloaded result once its body is parsed, here or in a worker process: its documents, or the
    reason it gave none (then, as for every failure, no validators and no hash: nothing was kept)."""
    if error is not None:
        return replace(downloaded, body=None, content_type=None, error=" ".join(error.split()), etag=None,
                       last_modified=None, body_sha256=None, max_age=None, elapsed=elapsed)
    return replace(downloaded, body=None, content_type=None, documents=documents or [], warning=warning,
                   item_keys=keys, elapsed=elapsed)


def _extract(html: bytes, url: str) -> str | None:
    """Main text of an article page (trafilatura), cleaned like feed text."""
    if not html.strip():
        return None
    import trafilatura  # noqa: PLC0415 - heavy import, only for full_text feeds

    text = trafilatura.extract(html, url=url, include_comments=False, include_tables=False,
                               include_images=False, favor_precision=True)
    if not isinstance(text, str) or not text.strip():
        return None
    return strip_outlet_prefix(normalize_body(text))


@contextmanager
def _http_errors(deadline: _Deadline, url: str, status: int | None = None,
                 headers: Mapping[str, str] | None = None) -> Iterator[None]:
    """httpx's exceptions as one-line reasons, telling the total deadline apart from a phase timeout.

    ``status``/``headers``: what the server already answered, when the failure comes while reading the body.
    """
    try:
        yield
    except httpx.TimeoutException:
        message = deadline.message() if deadline.expired else f"timed out after {deadline.seconds:g} s"
        raise _Failed(message, status, url, headers) from None
    except httpx.HTTPError as exc:
        raise _Failed(_describe(exc, deadline), status, url, headers) from None


def _describe(exc: httpx.HTTPError, deadline: _Deadline) -> str:
    if deadline.expired:
        return deadline.message()
    if isinstance(exc, httpx.ConnectError):
        return f"connection failed: {exc or type(exc).__name__}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"HTTP protocol error: {exc}"
    return f"{type(exc).__name__}: {exc}"

"""A feed poll's CPU work in a worker process: parse the body, build and prepare its items, match them.

Parsing (feedparser) and turning items into clean text take about 40 ms for a feed of 50 items, all of
it in Python: in the main process, which also fetches and writes SQLite, a pass over many feeds kept one
core busy and left the other idle. The downloaded bytes go to the service's worker processes
(``daemon.prepare.Workers``, the ones a seed bulk import uses) and come back as plain tuples
(``daemon.models.Wire``); the poll's decision and its one transaction stay in the main process.

The worker does for every item the last poll did not see (``known``) what the main process would do for
the new ones only (prepare, match, and the sketch when stories are on): it cannot know which the
database has seen, and doing it there is cheaper than a second round trip.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from daemon import prepare as _prepare
from daemon.errors import FeedError
from daemon.models import FeedConfig, Match, Prepared, Wire
from daemon.sources.feeds.fetch import parsed_result
from daemon.sources.feeds.items import feed_documents
from daemon.sources.feeds.results import FetchResult

FeedItems = list[tuple[Prepared, tuple[Match, ...]]]


def feed_task(feed: FeedConfig, downloaded: FetchResult, fetched_at: datetime, known: Collection[str]) -> Wire:
    """What the worker needs of a downloaded feed, as a plain tuple (``known``: ``feed_documents``)."""
    return feed.name, downloaded.url, downloaded.body, downloaded.content_type, fetched_at.timestamp(), tuple(known)


def prepare_feed(task: Wire) -> Wire | str:
    """In a worker: (warning, [(prepared, [matches])…], item keys) as wire tuples, or the one-line reason
    the body gave no items (a parse error, or a bug: reported as the feed's error, the pass goes on)."""
    assert _prepare._worker is not None  # the worker's state, set by its initializer
    tz, matcher, stories = _prepare._worker
    name, url, body, content_type, fetched_at, known = task
    try:
        documents, warning, keys = feed_documents(body, source=name, url=url, content_type=content_type,
                                                  fetched_at=datetime.fromtimestamp(fetched_at, tz), tz=tz,
                                                  known=frozenset(known))
        items: list[Wire] = []
        for doc in documents:
            p = _prepare.prepare(doc, stories=stories)
            matches = matcher.match(p.doc.title, p.doc.body, p.doc.source)
            items.append((p.to_wire(), [m.to_wire() for m in matches]))
    except FeedError as exc:
        return exc.reason
    except Exception as exc:  # a bug, or a library's surprise: this feed's error, not the worker's end
        return f"unexpected error: {type(exc).__name__}: {exc}"
    return warning, items, keys


def feed_outcome(downloaded: FetchResult, wire: Wire | str, elapsed: float) -> tuple[FetchResult, FeedItems]:
    """The worker's answer as the fetch result the poll's decision reads, and the prepared items (with
    their matches) in the order of its documents."""
    if isinstance(wire, str):
        return parsed_result(downloaded, error=wire, elapsed=elapsed), []
    warning, packed, keys = wire
    items: FeedItems = [(Prepared.from_wire(p), tuple(Match.from_wire(m) for m in matches)) for p, matches in packed]
    documents = [p.doc for p, _ in items]
    return parsed_result(downloaded, documents=documents, warning=warning, keys=keys, elapsed=elapsed), items


def worker_died(downloaded: FetchResult, exc: BaseException, elapsed: float) -> FetchResult:
    """A worker died while parsing this feed twice in a row (the pool was replaced in between)."""
    reason: Any = exc or type(exc).__name__
    return parsed_result(downloaded, error=f"the worker process parsing this feed died ({reason})", elapsed=elapsed)

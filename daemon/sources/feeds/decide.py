"""What one poll of one feed changes: a pure decision, applied by one store write.

From what the fetch returned, what the feed's row holds and which items the feed delivered before,
``decide_poll`` works out everything the poll changes: the documents to ingest (and whether they may
alert), the feed row's new values, and when to poll next. It reads no clock and no database, so the
rules of a poll (back-off, the quiet first fetch, when a redirect is adopted, what a 304 or a body
unchanged since the last parse keeps) are tested as a plain function, and the pipeline stores the
articles and the feed's row in one transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from daemon.models import Document, FeedConfig
from daemon.sources.feeds.results import FetchResult
from daemon.sources.feeds.schedule import next_fetch_delay

FeedValue = str | int | datetime | None


@dataclass(frozen=True, slots=True)
class FeedRow:
    """The part of a feed's stored row that a poll's outcome depends on (defaults: a feed never polled)."""

    consecutive_errors: int = 0
    items_seen: int = 0
    first_fetch_done: bool = False
    failing_since: datetime | None = None  # when the current run of failed polls began


@dataclass(frozen=True, slots=True)
class FeedUpdate:
    """The feed's row after a poll: only the columns that change, with their new values.

    ``configured_url`` creates the row if it is missing (a feed polled before ``sync_feeds`` saw it).
    """

    name: str
    configured_url: str
    columns: Mapping[str, FeedValue]


@dataclass(frozen=True, slots=True)
class PollDecision:
    documents: tuple[Document, ...]  # items the feed never delivered before, to be deduped and stored
    kept: tuple[int, ...]  # where each of ``documents`` stands in ``FetchResult.documents``
    feed: FeedUpdate
    attempt: int  # failures in a row including this poll; 0 after a success
    delay: float  # seconds until the next poll
    quiet: bool  # the feed's first fetch: its items are stored and matched but queue no alert


def decide_poll(feed: FeedConfig, result: FetchResult, row: FeedRow, seen: Collection[str], *, now: datetime,
                max_backoff: float) -> PollDecision:
    """The outcome of one poll. ``seen`` holds the item keys (locators) this feed delivered before."""
    first = not row.first_fetch_done
    quiet = first and not feed.alert_on_first_fetch
    kept = tuple(i for i, d in enumerate(result.documents) if d.locator not in seen)
    documents = tuple(replace(d, alert=False) if quiet else d for d in (result.documents[i] for i in kept))
    # One count, used for both the back-off and the stored row.
    attempt = row.consecutive_errors + 1 if result.error is not None else 0
    delay = next_fetch_delay(feed.interval, result, attempt, max_backoff)
    columns: dict[str, FeedValue] = {
        "last_status": result.status,
        "consecutive_errors": attempt,
        "last_fetch_at": now,
        "next_fetch_at": now + timedelta(seconds=delay),
    }
    if result.error is not None:
        # Validators, URL and warning stay: they describe the last poll that worked. A redirect seen on the
        # way to a failure is not adopted, or a 301 to a dead page would replace a good address for good.
        columns |= {"last_error": result.error, "failing_since": row.failing_since or now}
    else:
        columns |= {"last_error": None, "failing_since": None, "last_success_at": now}
        if result.moved_to:
            columns["url"] = result.moved_to
        if first:
            columns["first_fetch_done"] = 1
        if result.not_modified or result.unchanged:
            # A 304 may omit the validators; the ones we sent are still good. Unchanged bytes were not parsed:
            # the warning, the count and the body's hash stay those of the poll that parsed them.
            validators = (("etag", result.etag), ("last_modified", result.last_modified))
            columns |= {k: v for k, v in validators if v is not None}
        else:
            columns |= {"etag": result.etag, "last_modified": result.last_modified, "last_warning": result.warning,
                        "items_seen": row.items_seen + len(documents), "body_sha256": result.body_sha256}
            if documents:
                columns["last_new_at"] = now
    return PollDecision(documents, kept, FeedUpdate(feed.name, feed.url, columns), attempt, delay, quiet)

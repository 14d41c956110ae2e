"""The ``feeds`` table: conditional-GET state, schedule and health of every configured feed.

This row is what lets a restart resume politely (ETag/Last-Modified, next_fetch_at, the URL after a
permanent redirect) and what ``newswatch status`` reads to tell an operator which feed has gone quiet.
Only the feed's own row is ever written here. A poll's row is written by ``write_poll``, inside the
transaction that stores the poll's articles (``ArticleTables.ingest``): a poll is one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from daemon.errors import StoreError
from daemon.models import FeedConfig
from daemon.store.db import Database

if TYPE_CHECKING:  # imported where polls need them, not by every command that opens a Store
    from daemon.sources.feeds.decide import FeedRow, FeedUpdate
    from daemon.sources.feeds.results import FeedState

# What a poll may change in a feed's row (FeedUpdate.columns); name and configured_url are config's.
POLL_COLUMNS = frozenset({
    "url", "etag", "last_modified", "last_status", "last_error", "last_warning", "consecutive_errors",
    "last_fetch_at", "last_success_at", "last_new_at", "next_fetch_at", "items_seen", "first_fetch_done",
    "failing_since", "body_sha256",
})


class FeedTables(Database):
    """Store mixin for per-feed state."""

    def sync_feeds(self, feeds: Iterable[FeedConfig]) -> None:
        """Make sure every configured feed has a row; an edited URL starts over from the new one.

        Rows of feeds no longer configured are kept: their history still explains old articles.
        """
        with self.tx() as conn:
            for feed in feeds:
                row = conn.execute("SELECT configured_url FROM feeds WHERE name = ?", (feed.name,)).fetchone()
                if row is None:
                    conn.execute("INSERT INTO feeds (name, url, configured_url) VALUES (?, ?, ?)",
                                 (feed.name, feed.url, feed.url))
                elif row["configured_url"] != feed.url:
                    # The operator changed the address: drop the redirect target and the validators,
                    # which belong to the old URL, and poll the new one right away.
                    conn.execute(
                        "UPDATE feeds SET url = ?, configured_url = ?, etag = NULL, last_modified = NULL,"
                        " body_sha256 = NULL, consecutive_errors = 0, failing_since = NULL, next_fetch_at = NULL"
                        " WHERE name = ?",
                        (feed.url, feed.url, feed.name),
                    )

    def feed_state(self, name: str) -> FeedState:
        from daemon.sources.feeds.results import FeedState  # noqa: PLC0415

        with self.read() as conn:
            row = conn.execute("SELECT url, etag, last_modified, body_sha256 FROM feeds WHERE name = ?",
                               (name,)).fetchone()
        if row is None:
            raise StoreError(f"feed {name!r} has no row in the database (sync_feeds was not called for it)")
        return FeedState(url=row["url"], etag=row["etag"], last_modified=row["last_modified"],
                         body_sha256=row["body_sha256"])

    def due_feed_names(self, now: datetime) -> set[str]:
        """Feeds whose next poll is due (or was never scheduled)."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT name FROM feeds WHERE next_fetch_at IS NULL OR next_fetch_at <= ?", (self.iso(now),)
            ).fetchall()
        return {r["name"] for r in rows}

    def feed_row(self, name: str) -> FeedRow:
        """What the outcome of this feed's next poll depends on (a feed without a row was never polled)."""
        from daemon.sources.feeds.decide import FeedRow  # noqa: PLC0415

        with self.read() as conn:
            row = conn.execute("SELECT consecutive_errors, items_seen, first_fetch_done, failing_since FROM feeds"
                               " WHERE name = ?", (name,)).fetchone()
        if row is None:
            return FeedRow()
        return FeedRow(int(row[0]), int(row[1]), bool(row[2]), _when(row[3]))

    def feed_health(self, now: datetime, stale_after: float) -> list[dict[str, Any]]:
        """Every feed row plus ``stale`` (and ``stale_reason``) for ``newswatch status``.

        Stale means: failing with no success for longer than ``stale_after`` (for a feed that never
        worked, counted from its first failed poll), or working but bringing nothing new for longer than
        ``stale_after``. A feed whose first polls failed a minute ago is failing, not stale.
        """
        limit = now - timedelta(seconds=stale_after)
        with self.read() as conn:
            rows = [dict(r) for r in conn.execute("SELECT * FROM feeds ORDER BY name").fetchall()]
        for row in rows:
            reason = _stale_reason(row, limit)
            row["stale"] = reason is not None
            row["stale_reason"] = reason
        return rows


def write_poll(conn: sqlite3.Connection, update: FeedUpdate, iso: Callable[[datetime], str]) -> None:
    """Apply one poll's decision to the feed's row, inside the caller's transaction."""
    unknown = update.columns.keys() - POLL_COLUMNS
    if unknown:
        raise StoreError(f"feed {update.name!r}: a poll cannot set {', '.join(sorted(unknown))}")
    conn.execute("INSERT OR IGNORE INTO feeds (name, url, configured_url) VALUES (?, ?, ?)",
                 (update.name, update.configured_url, update.configured_url))
    if not update.columns:
        return
    values = [iso(v) if isinstance(v, datetime) else v for v in update.columns.values()]
    conn.execute(f"UPDATE feeds SET {', '.join(f'{c} = ?' for c in update.columns)} WHERE name = ?",
                 (*values, update.name))


def _when(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _stale_reason(row: dict[str, Any], limit: datetime) -> str | None:
    success, new = _when(row["last_success_at"]), _when(row["last_new_at"])
    errors = row["consecutive_errors"]
    if errors:
        # No success for longer than the limit, counted from the last success or, for a feed that never
        # worked, from its first failed poll. (Rows failing since before schema v2 have no failing_since.)
        began = success or _when(row.get("failing_since"))
        if began is None or began < limit:
            if success is None:
                since = f", failing since {row['failing_since']}" if row.get("failing_since") else ""
                return f"never fetched successfully{since} ({errors} errors: {row['last_error']})"
            return f"failing since {row['last_success_at']}: {row['last_error']}"
    if new is not None and new < limit:
        return f"no new items since {row['last_new_at']}"
    return None

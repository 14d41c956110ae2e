"""The ``feeds`` table: conditional-GET state, schedule and health of every configured feed.

This row is what lets a restart resume politely (ETag/Last-Modified, next_fetch_at, the URL after a
permanent redirect) and what ``newswatch status`` reads to tell an operator which feed has gone quiet.
Only the feed's own row is ever written here; articles are the pipeline's business.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from daemon.errors import StoreError
from daemon.models import FeedConfig
from daemon.sources.feeds.results import FeedState, FetchResult
from daemon.store.db import Database


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
                        " consecutive_errors = 0, failing_since = NULL, next_fetch_at = NULL WHERE name = ?",
                        (feed.url, feed.url, feed.name),
                    )

    def feed_state(self, name: str) -> FeedState:
        with self.read() as conn:
            row = conn.execute("SELECT url, etag, last_modified FROM feeds WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise StoreError(f"feed {name!r} has no row in the database (sync_feeds was not called for it)")
        return FeedState(url=row["url"], etag=row["etag"], last_modified=row["last_modified"])

    def due_feed_names(self, now: datetime) -> set[str]:
        """Feeds whose next poll is due (or was never scheduled)."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT name FROM feeds WHERE next_fetch_at IS NULL OR next_fetch_at <= ?", (self.iso(now),)
            ).fetchall()
        return {r["name"] for r in rows}

    def record_fetch(self, feed: FeedConfig, result: FetchResult, *, new_items: int, now: datetime,
                     next_fetch_at: datetime) -> None:
        """Write the outcome of one poll into the feed's row (and nothing else).

        ``new_items`` counts items this feed had not delivered before; ``items_seen`` sums them, so it is
        the number of distinct items the feed has ever carried.

        A redirect target is only adopted from a poll that worked: a 301 to a dead page must not
        replace a good address for good.
        """
        at, nxt = self.iso(now), self.iso(next_fetch_at)
        with self.tx() as conn:
            conn.execute("INSERT OR IGNORE INTO feeds (name, url, configured_url) VALUES (?, ?, ?)",
                         (feed.name, feed.url, feed.url))
            if result.error is not None:
                conn.execute(
                    "UPDATE feeds SET last_status = ?, last_error = ?, consecutive_errors = consecutive_errors + 1,"
                    " failing_since = coalesce(failing_since, ?), last_fetch_at = ?, next_fetch_at = ? WHERE name = ?",
                    (result.status, result.error, at, at, nxt, feed.name),
                )
                return
            url_sql = ", url = ?" if result.moved_to else ""
            url_arg: tuple[str, ...] = (result.moved_to,) if result.moved_to else ()
            if result.not_modified:
                conn.execute(
                    "UPDATE feeds SET last_status = ?, last_error = NULL, consecutive_errors = 0, failing_since = NULL,"
                    " etag = coalesce(?, etag), last_modified = coalesce(?, last_modified),"
                    f" last_fetch_at = ?, last_success_at = ?, next_fetch_at = ?{url_sql} WHERE name = ?",
                    (result.status, result.etag, result.last_modified, at, at, nxt, *url_arg, feed.name),
                )
                return
            conn.execute(
                "UPDATE feeds SET last_status = ?, last_error = NULL, last_warning = ?, consecutive_errors = 0,"
                " failing_since = NULL,"
                " etag = ?, last_modified = ?, last_fetch_at = ?, last_success_at = ?,"
                " last_new_at = CASE WHEN ? > 0 THEN ? ELSE last_new_at END,"
                f" items_seen = items_seen + ?, next_fetch_at = ?{url_sql} WHERE name = ?",
                (result.status, result.warning, result.etag, result.last_modified, at, at, new_items, at,
                 new_items, nxt, *url_arg, feed.name),
            )

    def consecutive_errors(self, name: str) -> int:
        """Failures in a row so far, for the back-off decision after ``record_fetch``."""
        with self.read() as conn:
            row = conn.execute("SELECT consecutive_errors FROM feeds WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def mark_first_fetch_done(self, name: str) -> None:
        with self.tx() as conn:
            conn.execute("UPDATE feeds SET first_fetch_done = 1 WHERE name = ?", (name,))

    def is_first_fetch(self, name: str) -> bool:
        """True until the first successful poll has been ingested (its items then alert nobody)."""
        with self.read() as conn:
            row = conn.execute("SELECT first_fetch_done FROM feeds WHERE name = ?", (name,)).fetchone()
        return row is None or not row[0]

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

"""Scheduling state and the numbers `newswatch status` and `/metrics` report.

Next-due times and last results live in the ``jobs`` table so that a restart neither re-runs everything
at once nor forgets what failed, and so that ``run --once`` is just one tick of the same jobs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from daemon.store.db import Database


class JobTables(Database):
    def job_started(self, name: str, now: datetime) -> None:
        with self.tx() as conn:
            conn.execute(
                "INSERT INTO jobs (name, last_run_at, runs) VALUES (?, ?, 1) ON CONFLICT (name) DO UPDATE SET"
                " last_run_at = excluded.last_run_at, runs = runs + 1",
                (name, self.iso(now)),
            )

    def job_finished(self, name: str, now: datetime, duration: float, error: str | None,
                     next_run_at: datetime | None = None) -> None:
        with self.tx() as conn:
            conn.execute(
                "UPDATE jobs SET last_duration_ms = ?, next_run_at = coalesce(?, next_run_at),"
                " last_ok_at = CASE WHEN ? IS NULL THEN ? ELSE last_ok_at END,"
                " last_error = ?, errors = errors + (? IS NOT NULL) WHERE name = ?",
                (int(duration * 1000), self.iso(next_run_at) if next_run_at else None, error, self.iso(now),
                 error, error, name),
            )

    def feed_next_fetch_at(self, name: str) -> datetime | None:
        """When the feed is next due (NULL: now); the scheduler starts a feed's job no earlier."""
        with self.read() as conn:
            row = conn.execute("SELECT next_fetch_at FROM feeds WHERE name = ?", (name,)).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def jobs(self) -> list[dict[str, Any]]:
        with self.read() as conn:
            return [dict(r) for r in conn.execute("SELECT * FROM jobs ORDER BY name")]

    def counts(self) -> dict[str, Any]:
        """Counts for status and metrics, from the ``counts`` table the triggers keep (schema._v9): a
        count(*) walks its whole table, and status would walk seven of them on every call."""
        with self.read() as conn:
            kept = dict(conn.execute("SELECT name, n FROM counts").fetchall())
            feeds = int(conn.execute("SELECT count(*) FROM feeds").fetchone()[0])  # one row a feed: small
            # A few events a day (briefings, spikes): counted from their status index, no trigger needed.
            events = {str(k): int(v) for k, v in conn.execute("SELECT status, count(*) FROM events GROUP BY status")}

        def by_status(table: str) -> dict[str, int]:
            prefix = f"{table}:"
            return {k.removeprefix(prefix): int(v) for k, v in sorted(kept.items()) if k.startswith(prefix) and v}

        return {
            **{name: int(kept.get(name, 0)) for name in ("articles", "sightings", "matches", "stories",
                                                         "stories_with_copies")},
            "alerts": {"pending": 0, "delivered": 0, "failed": 0, **by_status("alerts")},
            "seed_files": by_status("seed_files"),
            "events": {"pending": 0, "delivered": 0, "failed": 0, **events},
            "feeds": feeds,
        }

    def database_size(self) -> int:
        """Bytes on disk: the database file plus its WAL."""
        total = 0
        for suffix in ("", "-wal", "-shm"):
            p = self.path.with_name(self.path.name + suffix)
            if p.exists():
                total += p.stat().st_size
        return total

"""The event outbox: messages that are not article alerts (``briefing.ready``, ``rule.spike``).

They go through the same delivery run as alerts (``daemon.deliver.outbox``): the same signing, backoff,
dead letter and 410 handling, with the same guarantees. Each row is one (event, webhook) with its request
body already rendered for the webhook's format, because what it says (a briefing's Markdown, a spike's
counts) is fixed when it is made; the signature is computed at each attempt, as for alerts. The id is
stable (derived from the event's type, key and webhook), so queuing the same event twice is one row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from daemon.store.alerts import AlertTables
from daemon.store.db import Database, first_column_in

EventRow = tuple[str, str, str, str, str]  # (id, type, key, webhook, body)


def event_id(kind: str, key: str, webhook: str) -> str:
    """Stable id of the event for one webhook; also the ``webhook-id`` header receivers dedupe on."""
    return "ev_" + hashlib.sha256(f"{kind}\x1f{key}\x1f{webhook}".encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class DueEvent:
    id: str
    webhook: str
    type: str
    created_at: datetime
    attempts: int
    body: bytes


class EventTables(Database):
    """Store methods for ``events`` and ``event_attempts``."""

    def queue_events(self, events: Sequence[EventRow], now: datetime | None = None) -> int:
        """Queue events not queued before (same id: ignored); how many are new."""
        stamp = self.iso(now or self.now())
        with self.tx() as conn:
            cur = conn.executemany(
                "INSERT OR IGNORE INTO events (id, type, key, webhook, body, status, created_at, next_attempt_at)"
                " VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)", [(*e, stamp, stamp) for e in events])
            return max(cur.rowcount, 0)

    def events_queued(self, kind: str, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` already have an event of this type (any webhook, any status)."""
        with self.read() as conn:
            return first_column_in(conn, "SELECT DISTINCT key FROM events WHERE type = ? AND key IN ({marks})",
                                   keys, [kind])

    def due_event_counts(self, now: datetime) -> dict[str, int]:
        with self.read() as conn:
            rows = conn.execute(
                "SELECT e.webhook, count(*) FROM events e WHERE e.status = 'pending' AND e.next_attempt_at <= ?"
                " AND e.webhook NOT IN (SELECT name FROM webhooks WHERE disabled_at IS NOT NULL) GROUP BY e.webhook",
                (self.iso(now),)).fetchall()
        return {str(r[0]): int(r[1]) for r in rows}

    def due_events(self, webhook: str, now: datetime, limit: int = 100) -> list[DueEvent]:
        """Oldest first, as alerts."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT id, webhook, type, created_at, attempts, body FROM events WHERE webhook = ?"
                " AND status = 'pending' AND next_attempt_at <= ? ORDER BY created_at, id LIMIT ?",
                (webhook, self.iso(now), limit)).fetchall()
        return [DueEvent(r[0], r[1], r[2], datetime.fromisoformat(r[3]), int(r[4]), r[5].encode("utf-8"))
                for r in rows]

    def record_event_attempt(self, event: str, webhook: str, *, at: datetime, status_code: int | None,
                             error: str | None, duration_ms: int) -> None:
        with self.tx() as conn:
            conn.execute("INSERT INTO event_attempts (event_id, webhook, attempted_at, status_code, error, duration_ms)"
                         " VALUES (?, ?, ?, ?, ?, ?)", (event, webhook, self.iso(at), status_code, error, duration_ms))

    def event_delivered(self, event: str, at: datetime) -> None:
        with self.tx() as conn:
            conn.execute("UPDATE events SET status = 'delivered', delivered_at = ?, attempts = attempts + 1,"
                         " last_error = NULL WHERE id = ? AND status = 'pending'", (self.iso(at), event))

    def event_retry(self, event: str, when: datetime, error: str) -> None:
        with self.tx() as conn:
            conn.execute("UPDATE events SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?"
                         " WHERE id = ? AND status = 'pending'", (self.iso(when), error, event))

    def event_failed(self, event: str, error: str) -> None:
        """Dead letter, as for alerts: ``newswatch alerts --all-failed`` re-queues it."""
        with self.tx() as conn:
            conn.execute("UPDATE events SET status = 'failed', attempts = attempts + 1, last_error = ?"
                         " WHERE id = ? AND status = 'pending'", (error, event))

    def retry_failed_events(self, now: datetime | None = None, event: str | None = None) -> int:
        """Re-queue failed events (or the one ``event``, pending or failed); how many."""
        where = "id = ? AND status != 'delivered'" if event is not None else "status = 'failed'"
        with self.tx() as conn:
            cur = conn.execute(f"UPDATE events SET status = 'pending', next_attempt_at = ?, attempts = 0,"
                               f" last_error = NULL WHERE {where}",
                               (self.iso(now or self.now()), *((event,) if event is not None else ())))
            return cur.rowcount

    def event_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("pending", "delivered", "failed"), 0)
        with self.read() as conn:
            for status, n in conn.execute("SELECT status, count(*) FROM events GROUP BY status"):
                counts[str(status)] = int(n)
        return counts


class Outbox(AlertTables, EventTables):
    """The outbox as delivery sees it: alerts and events."""

"""The alert outbox: what is due, what was tried, what is delivered, what gave up.

Ingestion writes one ``alerts`` row per (article, rule, webhook) in the same transaction as the article,
so an alert exists exactly when its article does. Delivery then only moves rows between states here,
each move in its own short transaction *after* the HTTP request: a crash between the POST and the mark
leaves the alert pending and it is sent again with the same id (at-least-once; the receiver dedupes on
``webhook-id``). Every attempt is kept in ``delivery_attempts`` so a re-queued alert keeps its history.

Secrets never reach this module: webhooks are known here only by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict, cast

from daemon.models import Match
from daemon.store.db import Database
from daemon.store.stories import StoryFacts, story_facts

STATUSES = ("pending", "delivered", "failed")


@dataclass(frozen=True, slots=True)
class AlertArticle:
    """The article fields a webhook message carries (the body only to cut an excerpt from)."""

    id: int
    title: str
    url: str | None
    source: str
    category: str | None
    published_at: str | None
    content_hash: str
    body: str


@dataclass(frozen=True, slots=True)
class DueAlert:
    """A pending alert ready to send, with everything needed to render it without another query."""

    id: str
    webhook: str
    rule: str
    created_at: datetime
    attempts: int
    article: AlertArticle
    matches: tuple[Match, ...]
    story: StoryFacts | None = None  # the article's story as it stands when the alert is sent


class AlertSummary(TypedDict):
    """One line of ``newswatch alerts`` (a plain dict, so ``--json`` prints it as is)."""

    id: str
    webhook: str
    rule: str
    status: str
    created_at: str
    next_attempt_at: str
    attempts: int
    last_error: str | None
    delivered_at: str | None
    article_id: int
    title: str
    url: str | None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One row of ``delivery_attempts``."""

    alert_id: str
    webhook: str
    message_id: str
    attempted_at: str
    status_code: int | None
    error: str | None
    duration_ms: int


class DisabledWebhook(TypedDict):
    disabled_at: str
    reason: str | None


def _marks(n: int) -> str:
    return ",".join("?" * n)


class AlertTables(Database):
    """Store methods for ``alerts``, ``delivery_attempts`` and ``webhooks``."""

    # -- what to send ----------------------------------------------------------------------------
    def due_counts(self, now: datetime) -> dict[str, int]:
        """Due alerts per webhook (disabled webhooks left out): tells delivery which workers to start."""
        with self.read() as conn:
            rows = conn.execute(
                """SELECT a.webhook, count(*) FROM alerts a
                   WHERE a.status = 'pending' AND a.next_attempt_at <= ?
                     AND a.webhook NOT IN (SELECT name FROM webhooks WHERE disabled_at IS NOT NULL)
                   GROUP BY a.webhook""",
                (self.iso(now),),
            ).fetchall()
        return {str(r[0]): int(r[1]) for r in rows}

    def due_alerts(self, webhook: str, now: datetime, limit: int = 100) -> list[DueAlert]:
        """Oldest first, so a webhook receives alerts in the order they were raised."""
        with self.read() as conn:
            rows = conn.execute(
                """SELECT a.id, a.webhook, a.rule, a.created_at, a.attempts,
                          r.id AS article_id, r.title, r.url, r.source, r.category, r.published_at,
                          r.content_hash, r.body, r.story_id
                   FROM alerts a JOIN articles r ON r.id = a.article_id
                   WHERE a.webhook = ? AND a.status = 'pending' AND a.next_attempt_at <= ?
                     AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.name = a.webhook
                                     AND w.disabled_at IS NOT NULL)
                   ORDER BY a.created_at, a.id LIMIT ?""",
                (webhook, self.iso(now), limit),
            ).fetchall()
            keys = {(int(r["article_id"]), str(r["rule"])) for r in rows}
            found: dict[tuple[int, str], list[Match]] = {k: [] for k in keys}
            article_ids = sorted({k[0] for k in keys})
            if article_ids:
                for m in conn.execute(
                    f"""SELECT article_id, rule, keyword, matched_text, field, snippet FROM matches
                        WHERE article_id IN ({_marks(len(article_ids))}) ORDER BY id""",
                    article_ids,
                ):
                    key = (int(m["article_id"]), str(m["rule"]))
                    if key in found:
                        found[key].append(Match(m["rule"], m["keyword"], m["matched_text"], m["field"], m["snippet"]))
            stories = story_facts(conn, (int(r["story_id"]) for r in rows if r["story_id"] is not None))
        return [
            DueAlert(
                id=r["id"],
                webhook=r["webhook"],
                rule=r["rule"],
                created_at=datetime.fromisoformat(r["created_at"]),
                attempts=int(r["attempts"]),
                article=AlertArticle(
                    id=int(r["article_id"]),
                    title=r["title"],
                    url=r["url"],
                    source=r["source"],
                    category=r["category"],
                    published_at=r["published_at"],
                    content_hash=r["content_hash"],
                    body=r["body"],
                ),
                matches=tuple(found[(int(r["article_id"]), str(r["rule"]))]),
                story=stories.get(r["story_id"]) if r["story_id"] is not None else None,
            )
            for r in rows
        ]

    # -- what happened ---------------------------------------------------------------------------
    def record_attempt(
        self,
        alert_ids: Sequence[str],
        webhook: str,
        message_id: str,
        *,
        at: datetime,
        status_code: int | None,
        error: str | None,
        duration_ms: int,
    ) -> None:
        """One row per alert, even for a digest, so each alert's history is complete on its own."""
        stamp = self.iso(at)
        with self.tx() as conn:
            conn.executemany(
                """INSERT INTO delivery_attempts
                   (alert_id, webhook, message_id, attempted_at, status_code, error, duration_ms)
                   VALUES (?, ?, ?, ?, ?, ?, ?)""",
                [(a, webhook, message_id, stamp, status_code, error, duration_ms) for a in alert_ids],
            )

    def mark_delivered(self, alert_ids: Sequence[str], at: datetime) -> int:
        """Only pending rows move: a row re-queued or failed meanwhile by an operator is left as they set it."""
        with self.tx() as conn:
            cur = conn.execute(
                f"""UPDATE alerts SET status = 'delivered', delivered_at = ?, attempts = attempts + 1,
                       last_error = NULL
                    WHERE status = 'pending' AND id IN ({_marks(len(alert_ids))})""",
                [self.iso(at), *alert_ids],
            )
            return cur.rowcount

    def schedule_retry(self, alert_id: str, next_attempt_at: datetime, error: str) -> None:
        with self.tx() as conn:
            conn.execute(
                """UPDATE alerts SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?
                   WHERE id = ? AND status = 'pending'""",
                (self.iso(next_attempt_at), error, alert_id),
            )

    def defer_alerts(self, alert_ids: Sequence[str], until: datetime) -> None:
        """Push back alerts that were not tried (their webhook just failed): no attempt is counted."""
        if not alert_ids:
            return
        with self.tx() as conn:
            conn.execute(
                f"""UPDATE alerts SET next_attempt_at = max(next_attempt_at, ?)
                    WHERE status = 'pending' AND id IN ({_marks(len(alert_ids))})""",
                [self.iso(until), *alert_ids],
            )

    def mark_failed(self, alert_id: str, error: str) -> None:
        """Dead letter: kept with its history until an operator runs ``newswatch alerts retry``."""
        with self.tx() as conn:
            conn.execute(
                """UPDATE alerts SET status = 'failed', attempts = attempts + 1, last_error = ?
                   WHERE id = ? AND status = 'pending'""",
                (error, alert_id),
            )

    # -- operator commands -----------------------------------------------------------------------
    def retry_alert(self, alert_id: str, now: datetime | None = None) -> bool:
        """Re-queue one alert (any status but delivered); the attempts history stays in delivery_attempts."""
        with self.tx() as conn:
            cur = conn.execute(
                """UPDATE alerts SET status = 'pending', next_attempt_at = ?, attempts = 0, last_error = NULL
                   WHERE id = ? AND status != 'delivered'""",
                (self.iso(now or self.now()), alert_id),
            )
            return cur.rowcount == 1

    def make_due(self, webhooks: Sequence[str], now: datetime | None = None) -> int:
        """Pending alerts of these webhooks become due now (a receiver just came up); attempts are kept."""
        if not webhooks:
            return 0
        stamp = self.iso(now or self.now())
        marks = ",".join("?" * len(webhooks))
        with self.tx() as conn:
            cur = conn.execute(
                f"UPDATE alerts SET next_attempt_at = ? WHERE status = 'pending' AND next_attempt_at > ?"
                f" AND webhook IN ({marks})",
                (stamp, stamp, *webhooks),
            )
            return cur.rowcount

    def retry_all_failed(self, now: datetime | None = None) -> int:
        with self.tx() as conn:
            cur = conn.execute(
                """UPDATE alerts SET status = 'pending', next_attempt_at = ?, attempts = 0, last_error = NULL
                   WHERE status = 'failed'""",
                (self.iso(now or self.now()),),
            )
            return cur.rowcount

    def list_alerts(
        self, status: str | Iterable[str] | None = None, *, webhook: str | None = None, limit: int = 100
    ) -> list[AlertSummary]:
        """Newest first: the operator looks for what just happened."""
        where: list[str] = []
        args: list[Any] = []
        if status is not None:
            wanted = [status] if isinstance(status, str) else list(status)
            unknown = set(wanted) - set(STATUSES)
            if unknown:
                raise ValueError(f"unknown alert status {sorted(unknown)} (one of {', '.join(STATUSES)})")
            where.append(f"a.status IN ({_marks(len(wanted))})")
            args.extend(wanted)
        if webhook is not None:
            where.append("a.webhook = ?")
            args.append(webhook)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self.read() as conn:
            rows = conn.execute(
                f"""SELECT a.id, a.webhook, a.rule, a.status, a.created_at, a.next_attempt_at, a.attempts,
                           a.last_error, a.delivered_at, a.article_id, r.title, r.url
                    FROM alerts a JOIN articles r ON r.id = a.article_id
                    {clause} ORDER BY a.created_at DESC, a.id DESC LIMIT ?""",
                [*args, limit],
            ).fetchall()
        return [cast(AlertSummary, dict(r)) for r in rows]

    def alert_counts(self) -> dict[str, int]:
        """Every status present, zero included, so dashboards see a stable set of keys."""
        counts = dict.fromkeys(STATUSES, 0)
        with self.read() as conn:
            for status, n in conn.execute("SELECT status, count(*) FROM alerts GROUP BY status"):
                counts[str(status)] = int(n)
        return counts

    def attempts_for(self, alert_id: str) -> list[Attempt]:
        with self.read() as conn:
            rows = conn.execute(
                """SELECT alert_id, webhook, message_id, attempted_at, status_code, error, duration_ms
                   FROM delivery_attempts WHERE alert_id = ? ORDER BY id""",
                (alert_id,),
            ).fetchall()
        return [Attempt(**dict(r)) for r in rows]

    # -- webhook state ---------------------------------------------------------------------------
    def disable_webhook(self, name: str, reason: str, at: datetime | None = None) -> None:
        with self.tx() as conn:
            conn.execute(
                """INSERT INTO webhooks (name, disabled_at, disabled_reason) VALUES (?, ?, ?)
                   ON CONFLICT(name) DO UPDATE SET disabled_at = excluded.disabled_at,
                                                   disabled_reason = excluded.disabled_reason""",
                (name, self.iso(at or self.now()), reason),
            )

    def enable_webhook(self, name: str) -> bool:
        """True when it was disabled; its pending alerts go out on the next delivery run."""
        with self.tx() as conn:
            cur = conn.execute(
                """UPDATE webhooks SET disabled_at = NULL, disabled_reason = NULL
                   WHERE name = ? AND disabled_at IS NOT NULL""",
                (name,),
            )
            return cur.rowcount == 1

    def disabled_webhooks(self) -> dict[str, DisabledWebhook]:
        """By name: iterating gives the names, ``--json`` gives when and why."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT name, disabled_at, disabled_reason FROM webhooks WHERE disabled_at IS NOT NULL ORDER BY name"
            ).fetchall()
        return {r[0]: DisabledWebhook(disabled_at=r[1], reason=r[2]) for r in rows}

"""The JSON event a "json" webhook receives, and the ids that make retries recognisable.

The event is self-contained (article, rule, every match with its snippet) so a receiver never has to
call back into newswatch; UTF-8 with ``ensure_ascii=False`` keeps Vietnamese readable in logs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from daemon.store.alerts import DueAlert

EVENT_TYPE = "article.matched"
DIGEST_TYPE = "article.matched.digest"
TEST_TYPE = "newswatch.test"
EXCERPT_CHARS = 300


def excerpt(body: str, limit: int = EXCERPT_CHARS) -> str:
    """The start of the body, cut at a word boundary and marked with … when cut."""
    text = " ".join(body.split())
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]
    space = cut.rfind(" ")
    head = cut[:space] if space > limit // 2 else text[:limit]
    return head.rstrip(" ,;:.-–") + "…"


def digest_id(alert_ids: Sequence[str]) -> str:
    """Same set of alerts, same id: a retried digest is recognisably the same message."""
    joined = "\n".join(sorted(alert_ids)).encode("utf-8")
    return "digest_" + hashlib.sha256(joined).hexdigest()[:32]


def alert_data(alert: DueAlert) -> dict[str, Any]:
    a = alert.article
    story = alert.story
    return {
        "alert_id": alert.id,
        "rule": alert.rule,
        "matches": [{"keyword": m.keyword, "text": m.text, "field": m.field, "snippet": m.snippet}
                    for m in alert.matches],
        "article": {
            "id": a.id,
            "title": a.title,
            "url": a.url,
            "source": a.source,
            "category": a.category,
            "published_at": a.published_at,
            "content_hash": a.content_hash,
            "excerpt": excerpt(a.body),
        },
        **({"story": {"id": story.id, "articles": story.articles, "sources": list(story.sources)}} if story else {}),
    }


def alert_event(alert: DueAlert, now: datetime) -> dict[str, Any]:
    return {"type": EVENT_TYPE, "timestamp": now.isoformat(timespec="seconds"), "data": alert_data(alert)}


def digest_event(alerts: Sequence[DueAlert], now: datetime) -> dict[str, Any]:
    return {
        "type": DIGEST_TYPE,
        "timestamp": now.isoformat(timespec="seconds"),
        "data": {"digest_id": digest_id([a.id for a in alerts]), "alerts": [alert_data(a) for a in alerts]},
    }


def probe_event(webhook: str, now: datetime) -> dict[str, Any]:
    return {
        "type": TEST_TYPE,
        "timestamp": now.isoformat(timespec="seconds"),
        "data": {"webhook": webhook, "message": f"Thử kết nối từ newswatch tới webhook {webhook!r}."},
    }


def encode(event: dict[str, Any]) -> bytes:
    """The bytes of every webhook request body, the json event's and the chat formats' alike: compact UTF-8."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

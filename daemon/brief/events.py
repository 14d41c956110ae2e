"""The outbox rows a briefing and a spike queue, one per webhook, each body rendered for its format.

``briefing.ready`` (JSON): the briefing's id, name, title, period, counts, file names and its whole
Markdown; a chat webhook gets the chat text instead. ``rule.spike``: the rule, the day, its count and the
14-day mean it exceeded. Ids are stable (``store.events.event_id``), so a spike is queued once per
(rule, day, webhook) however many times it is seen, and a briefing once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from daemon.brief import chat
from daemon.brief.labels import day_text, label, mean_text
from daemon.brief.model import Briefing
from daemon.deliver.formats import STYLES, chat_body
from daemon.deliver.payload import encode
from daemon.models import Rule, WebhookConfig
from daemon.store.events import EventRow, event_id

READY = "briefing.ready"
SPIKE = "rule.spike"


def _event(kind: str, now: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "timestamp": now.isoformat(timespec="seconds"), "data": data}


def ready_events(b: Briefing, markdown: str, files: Sequence[str], folder: str,
                 hooks: Sequence[WebhookConfig]) -> list[EventRow]:
    data = {"briefing_id": b.id, "name": b.name, "title": b.title,
            "period": {"kind": b.period.kind, "start": b.period.start.isoformat(), "end": b.period.end.isoformat()},
            "counts": {"articles": b.articles, "stories": b.stories, "outlets": b.outlets,
                       "documents": len(b.documents), "spikes": len(b.trend.spikes),
                       "sections": {s.rule: len(s.items) + s.more for s in b.sections}},
            "files": list(files), "folder": folder, "markdown": markdown}
    rows: list[EventRow] = []
    for hook in hooks:
        if hook.format in STYLES:
            body = encode(chat_body(hook, chat.render(hook.format, b, tuple(files))))
        else:
            body = encode(_event(READY, b.made_at, data))
        rows.append((event_id(READY, b.id, hook.name), READY, b.id, hook.name, body.decode("utf-8")))
    return rows


def spike_key(rule: str, day: date) -> str:
    return f"{rule}@{day.isoformat()}"


def spike_events(rule: Rule, day: date, count: int, mean: float, *, now: datetime,
                 hooks: Sequence[WebhookConfig]) -> list[EventRow]:
    title, factor = rule.title or rule.name, rule.spike_factor
    key = spike_key(rule.name, day)
    ratio = f"{count / mean:.1f}".replace(".", ",") if mean else "∞"
    rows: list[EventRow] = []
    for hook in hooks:
        if hook.format in STYLES:
            style = STYLES[hook.format]
            text = (style.bold(style.escape(label("spike_event", title=title))) + "\n" + style.escape(
                label("spike_event_text", count=count, day=day_text(day), ratio=ratio, mean=mean_text(mean))))
            body = encode(chat_body(hook, text))
        else:
            body = encode(_event(SPIKE, now, {"rule": rule.name, "title": title, "day": day.isoformat(), "count": count,
                                              "mean": round(mean, 2), "factor": factor}))
        rows.append((event_id(SPIKE, key, hook.name), SPIKE, key, hook.name, body.decode("utf-8")))
    return rows

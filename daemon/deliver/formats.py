"""Message bodies for chat receivers (Slack/Mattermost, Discord, Telegram) and for plain JSON.

Offices mostly read alerts in a chat room, so each chat format gets a short readable message: the
title, the link, the rule, and the snippet with the matched words in bold. Each platform rejects a
message over its length limit, which would turn one long title into an alert retried for three days,
so every renderer fits its text under the limit by shortening fields and, for a digest, by listing
as many alerts as fit followed by "… và N tin khác".
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from datetime import datetime

from daemon.deliver import payload
from daemon.models import WebhookConfig
from daemon.store.alerts import DueAlert

LIMITS = {"slack": 4000, "discord": 2000, "telegram": 4096}
TITLE_CHARS = 300
SNIPPET_CHARS = 400
SNIPPETS_SHOWN = 3

_MARKED = re.compile(r"«([^«»]*)»")
_DISCORD_SPECIAL = re.compile(r"([\\*_~|`\[\]])")


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class _Style:
    """How one chat dialect escapes text and writes bold and links."""

    def __init__(self, escape: Callable[[str], str], bold: Callable[[str], str],
                 link: Callable[[str, str], str]) -> None:
        self.escape = escape
        self.bold = bold
        self.link = link

    def snippet(self, raw: str) -> str:
        """Escape first, then turn «match» into bold (the guillemets survive every escaper)."""
        return _MARKED.sub(lambda m: self.bold(m.group(1)), self.escape(_clip(raw, SNIPPET_CHARS)))


def _slack_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _discord_escape(s: str) -> str:
    return _DISCORD_SPECIAL.sub(r"\\\1", s)


STYLES = {
    # Slack and Mattermost both auto-link a bare URL; Mattermost does not read Slack's <url|text>.
    "slack": _Style(_slack_escape, lambda s: f"*{s}*", lambda url, _t: _slack_escape(url)),
    # <url> suppresses Discord's embed preview, which would repeat the title.
    "discord": _Style(_discord_escape, lambda s: f"**{s}**", lambda url, _t: f"<{url}>"),
    "telegram": _Style(lambda s: html.escape(s, quote=False), lambda s: f"<b>{s}</b>",
                       lambda url, t: f'<a href="{html.escape(url, quote=True)}">{t}</a>'),
}


def carried(alert: DueAlert) -> str:
    """"5 báo cùng đưa" (carried by 5 outlets) when more than one outlet carried the alert's story."""
    story = alert.story
    return f"{len(story.sources)} báo cùng đưa" if story is not None and len(story.sources) > 1 else ""


def _block(style: _Style, alert: DueAlert, *, full: bool) -> str:
    """One alert: full (title, link, rule, snippets) for a single message, one line for a digest."""
    title = style.escape(_clip(alert.article.title, TITLE_CHARS))
    rule = style.escape(alert.rule)
    url = alert.article.url
    outlets = carried(alert)
    if not full:
        line = f"• {style.bold(title)} — {rule}" + (f" — {outlets}" if outlets else "")
        return f"{line} — {style.link(url, 'link')}" if url else line
    lines = [f"🔔 {style.bold(title)}"]
    if url:
        lines.append(style.link(url, style.escape(url)))
    lines.append(f"Quy tắc: {rule}")
    if outlets:
        lines.append(style.escape(f"{outlets}: {', '.join(alert.story.sources)}" if alert.story else outlets))
    # A hit in the title is already in the bold title line; its snippet would only repeat the title.
    snippets = [m for m in alert.matches if not (m.field == "title" and m.text in alert.article.title)]
    lines.extend(f"› {style.snippet(m.snippet)}" for m in snippets[:SNIPPETS_SHOWN])
    if len(snippets) > SNIPPETS_SHOWN:
        lines.append(f"(+{len(snippets) - SNIPPETS_SHOWN} chỗ khớp khác)")
    return "\n".join(lines)


def fit(header: str, blocks: Sequence[str], limit: int, sep: str) -> str:
    """Header plus as many blocks as fit, then how many were left out."""
    out = header
    for i, block in enumerate(blocks):
        rest = len(blocks) - i - 1
        tail = f"{sep}… và {rest} tin khác" if rest else ""
        candidate = f"{out}{sep}{block}" if out else block
        if len(candidate) + len(tail) > limit:
            more = f"… và {len(blocks) - i} tin khác"
            return f"{out}{sep}{more}" if out else more
        out = candidate
    return out


def chat_text(fmt: str, alerts: Sequence[DueAlert], *, digest: bool) -> str:
    style = STYLES[fmt]
    limit = LIMITS[fmt]
    if not digest:
        (alert,) = alerts
        text = _block(style, alert, full=True)
        if len(text) > limit:  # a monster URL or title: fall back to the one-line form, then to the title
            text = _block(style, alert, full=False)
        if len(text) > limit:
            text = style.bold(style.escape(_clip(alert.article.title, 200)))
        return text
    header = f"📰 {len(alerts)} tin mới khớp quy tắc theo dõi:"
    return fit(header, [_block(style, a, full=False) for a in alerts], limit, "\n")


def chat_body(webhook: WebhookConfig, text: str) -> dict[str, object]:
    if webhook.format == "slack":
        return {"text": text}
    if webhook.format == "discord":
        return {"content": text}
    return {"chat_id": webhook.chat_id, "text": text, "parse_mode": "HTML", "disable_web_page_preview": True}


def render(webhook: WebhookConfig, alerts: Sequence[DueAlert], now: datetime, *, digest: bool) -> bytes:
    """The request body for ``alerts`` (one alert, or several as a digest) in the webhook's format."""
    if not alerts:
        raise ValueError("nothing to render")
    if not digest and len(alerts) != 1:
        raise ValueError("a single message carries exactly one alert")
    if webhook.format == "json":
        event = payload.digest_event(alerts, now) if digest else payload.alert_event(alerts[0], now)
        return payload.encode(event)
    if webhook.format not in STYLES:
        raise ValueError(f"unknown webhook format {webhook.format!r}")
    return payload.encode(chat_body(webhook, chat_text(webhook.format, alerts, digest=digest)))


def render_probe(webhook: WebhookConfig, now: datetime) -> bytes:
    """The body of ``newswatch webhook test``: proves the URL, secret and format before a real alert."""
    if webhook.format == "json":
        return payload.encode(payload.probe_event(webhook.name, now))
    style = STYLES[webhook.format]
    text = style.escape(f"✅ Thử kết nối từ newswatch tới webhook “{webhook.name}” lúc "
                        f"{now.isoformat(timespec='seconds')}.")
    return payload.encode(chat_body(webhook, text))

"""What each webhook format puts on the wire: the JSON event, digests, and the three chat dialects."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from daemon.deliver import formats, payload
from daemon.models import WebhookConfig
from daemon.store.alerts import DueAlert
from tests.helpers import T0, add_alert, add_article, open_store


def due(tmp_path: Path, n: int = 1, *, title: str | None = None, url: str | None = "https://example.vn/bai-{n}",
        webhook: str = "vp") -> list[DueAlert]:
    store = open_store(tmp_path)
    for i in range(n):
        add_alert(store, f"al_{i:03d}", add_article(store, i, title=title, url=url), webhook)
    alerts = store.due_alerts(webhook, T0 + timedelta(seconds=1), limit=1000)
    store.close()
    assert len(alerts) == n
    return alerts


def hook(fmt: str, **kw: Any) -> WebhookConfig:
    return WebhookConfig(name="vp", url="http://127.0.0.1:9/hook", format=fmt,
                         chat_id="-100123" if fmt == "telegram" else None, **kw)


def test_json_event_shape(tmp_path: Path) -> None:
    (alert,) = due(tmp_path)
    raw = formats.render(hook("json"), [alert], T0, digest=False)
    assert "Văn phòng Thành ủy".encode() in raw  # ensure_ascii=False: readable UTF-8, not \\u escapes
    event = json.loads(raw)
    assert event["type"] == "article.matched"
    assert event["timestamp"] == "2026-01-10T08:00:00+07:00"
    data = event["data"]
    assert data["alert_id"] == "al_000"
    assert data["rule"] == "van-phong"
    assert [m["keyword"] for m in data["matches"]] == ["văn phòng thành ủy", "đảng bộ"]
    assert set(data["matches"][0]) == {"keyword", "text", "field", "snippet"}
    art = data["article"]
    assert set(art) == {"id", "title", "url", "source", "category", "published_at", "content_hash", "excerpt"}
    assert art["url"] == "https://example.vn/bai-0"
    assert art["content_hash"].startswith("v2:")
    assert art["published_at"] == "2026-01-10T08:00:00+07:00"
    assert 200 < len(art["excerpt"]) <= 301
    assert art["excerpt"].endswith("…")


def test_excerpt_cuts_on_a_word_boundary() -> None:
    text = " ".join(f"Đảng bộ{i}" for i in range(100))
    ex = payload.excerpt(text)
    assert len(ex) <= 301
    head = ex.removesuffix("…")
    assert ex.endswith("…") and len(head) > 250
    assert text.startswith(head) and text[len(head)] == " "  # the cut falls between two words
    assert payload.excerpt("  ngắn   gọn \n thôi ") == "ngắn gọn thôi"
    assert payload.excerpt("x" * 400) == "x" * 300 + "…"  # no space at all: hard cut


def test_digest_event_and_stable_id(tmp_path: Path) -> None:
    alerts = due(tmp_path, 4)
    event = json.loads(formats.render(hook("json"), alerts, T0, digest=True))
    assert event["type"] == "article.matched.digest"
    ids = [a["alert_id"] for a in event["data"]["alerts"]]
    assert ids == ["al_000", "al_001", "al_002", "al_003"]
    assert event["data"]["digest_id"] == payload.digest_id(list(reversed(ids)))
    assert payload.digest_id(ids) != payload.digest_id(ids[:3])


def test_slack_bolds_matches_and_escapes(tmp_path: Path) -> None:
    (alert,) = due(tmp_path, title="Tin <b>nóng</b> & mới")
    body = json.loads(formats.render(hook("slack"), [alert], T0, digest=False))
    assert set(body) == {"text"}
    text = body["text"]
    assert "*Tin &lt;b&gt;nóng&lt;/b&gt; &amp; mới*" in text
    assert "*Văn phòng Thành ủy*" in text and "«" not in text
    assert "&lt;Văn phòng&gt; &amp; Thành ủy" in text
    assert "https://example.vn/bai-0" in text and "van-phong" in text


@pytest.mark.parametrize("fmt", ["slack", "discord", "telegram"])
def test_a_title_hit_is_not_repeated_as_a_snippet(tmp_path: Path, fmt: str) -> None:
    (alert,) = due(tmp_path)  # its title contains the title hit "Văn phòng Thành ủy"
    assert [m.field for m in alert.matches] == ["title", "body"]
    body = json.loads(formats.render(hook(fmt), [alert], T0, digest=False))
    text = body.get("text") or body["content"]
    assert text.count("tổng kết năm 2025") == 1, text  # the title line only
    assert text.count("›") == 1 and "Đảng bộ" in text  # the body's snippet


def test_discord_bold_and_length_limit(tmp_path: Path) -> None:
    (alert,) = due(tmp_path, title="Nghị quyết *57* về chuyển_đổi số")
    text = json.loads(formats.render(hook("discord"), [alert], T0, digest=False))["content"]
    assert r"**Nghị quyết \*57\* về chuyển\_đổi số**" in text
    assert "**Văn phòng Thành ủy**" in text
    assert "<https://example.vn/bai-0>" in text


def test_telegram_html(tmp_path: Path) -> None:
    (alert,) = due(tmp_path, title="A < B & C")
    body = json.loads(formats.render(hook("telegram"), [alert], T0, digest=False))
    assert body["chat_id"] == "-100123"
    assert body["parse_mode"] == "HTML"
    assert body["disable_web_page_preview"] is True
    text = body["text"]
    assert "<b>A &lt; B &amp; C</b>" in text
    assert "<b>Văn phòng Thành ủy</b>" in text
    assert "&lt;Văn phòng&gt;" in text
    assert '<a href="https://example.vn/bai-0">' in text


@pytest.mark.parametrize("fmt", ["slack", "discord", "telegram"])
def test_chat_digest_lists_alerts_within_the_limit(tmp_path: Path, fmt: str) -> None:
    alerts = due(tmp_path, 150)
    body = json.loads(formats.render(hook(fmt), alerts, T0, digest=True))
    text = body.get("text") or body.get("content")
    assert isinstance(text, str)
    assert len(text) <= formats.LIMITS[fmt]
    assert text.startswith("📰 150 tin")
    assert "bài 0)" in text  # the oldest alerts are listed first
    assert text.rstrip().endswith("tin khác")
    listed = text.count("• ")
    assert 5 <= listed < 150
    assert f"… và {150 - listed} tin khác" in text


@pytest.mark.parametrize("fmt", ["slack", "discord", "telegram"])
def test_monster_title_and_url_still_fit(tmp_path: Path, fmt: str) -> None:
    (alert,) = due(tmp_path, title="Tiêu đề rất dài " * 500, url="https://example.vn/" + "x" * 5000)
    body = json.loads(formats.render(hook(fmt), [alert], T0, digest=False))
    text = body.get("text") or body.get("content")
    assert isinstance(text, str)
    assert 0 < len(text) <= formats.LIMITS[fmt]
    assert "Tiêu đề rất dài" in text


@pytest.mark.parametrize("fmt", ["json", "slack", "discord", "telegram"])
def test_probe_renders_in_every_format(fmt: str) -> None:
    body = json.loads(formats.render_probe(hook(fmt), T0))
    if fmt == "json":
        assert body["type"] == "newswatch.test"
        assert body["data"]["webhook"] == "vp"
    else:
        text = body.get("text") or body.get("content")
        assert isinstance(text, str) and "vp" in text


def test_render_refuses_nonsense(tmp_path: Path) -> None:
    alerts = due(tmp_path, 2)
    with pytest.raises(ValueError):
        formats.render(hook("json"), alerts, T0, digest=False)
    with pytest.raises(ValueError):
        formats.render(hook("json"), [], T0, digest=True)

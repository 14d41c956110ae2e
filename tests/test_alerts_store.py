"""The outbox tables on a real SQLite file: due selection, attempts history, state moves, operator commands."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.helpers import T0, AlertStore, add_alert, add_article, alert_row, later, open_store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AlertStore]:
    s = open_store(tmp_path)
    yield s
    s.close()


def test_due_alerts_join_article_and_their_own_matches(store: AlertStore) -> None:
    a1 = add_article(store, 1)
    a2 = add_article(store, 2)
    add_alert(store, "al_b", a2, "vp", created_at=later(10))
    add_alert(store, "al_a", a1, "vp")
    add_alert(store, "al_other_rule", a1, "vp", rule="dai-hoi", created_at=later(20))
    add_alert(store, "al_future", a1, "chat", next_attempt_at=later(3600))
    with store.tx() as conn:  # a match of another rule on the same article must not leak in
        conn.execute("DELETE FROM matches WHERE rule = 'dai-hoi' AND keyword = 'đảng bộ'")

    due = store.due_alerts("vp", later(60))
    assert [a.id for a in due] == ["al_a", "al_b", "al_other_rule"]  # oldest first
    first = due[0]
    assert first.rule == "van-phong" and first.webhook == "vp" and first.attempts == 0
    assert first.created_at == T0
    assert first.article.id == a1 and first.article.title.endswith("(bài 1)")
    assert first.article.url == "https://example.vn/bai-1" and first.article.content_hash.startswith("v2:")
    assert [m.keyword for m in first.matches] == ["văn phòng thành ủy", "đảng bộ"]
    assert all(m.rule == "van-phong" for m in first.matches)
    assert [m.keyword for m in due[2].matches] == ["văn phòng thành ủy"]

    assert [a.id for a in store.due_alerts("vp", later(15))] == ["al_a", "al_b"]
    assert store.due_alerts("chat", later(60)) == []
    assert [a.id for a in store.due_alerts("chat", later(3600))] == ["al_future"]
    assert len(store.due_alerts("vp", later(60), limit=2)) == 2
    assert store.due_counts(later(60)) == {"vp": 3}
    assert store.due_counts(later(7200)) == {"vp": 3, "chat": 1}


def test_disabled_webhook_is_not_due_until_enabled(store: AlertStore) -> None:
    add_alert(store, "al_1", add_article(store, 1), "vp")
    store.disable_webhook("vp", "receiver answered 410 Gone", at=T0)
    assert store.due_alerts("vp", later(60)) == []
    assert store.due_counts(later(60)) == {}
    assert store.disabled_webhooks() == {
        "vp": {"disabled_at": "2026-01-10T08:00:00+07:00", "reason": "receiver answered 410 Gone"}
    }
    assert alert_row(store, "al_1")["status"] == "pending"  # nothing lost
    assert store.enable_webhook("vp") is True
    assert store.enable_webhook("vp") is False
    assert store.disabled_webhooks() == {}
    assert [a.id for a in store.due_alerts("vp", later(60))] == ["al_1"]


def test_attempts_retry_delivered_failed(store: AlertStore) -> None:
    art = add_article(store, 1)
    add_alert(store, "al_1", art, "vp")
    add_alert(store, "al_2", art, "vp", rule="dai-hoi")
    store.record_attempt(["al_1"], "vp", "al_1", at=later(1), status_code=500, error="HTTP 500", duration_ms=12)
    store.schedule_retry("al_1", later(6), "HTTP 500")
    row = alert_row(store, "al_1")
    assert (row["status"], row["attempts"], row["last_error"]) == ("pending", 1, "HTTP 500")
    assert row["next_attempt_at"] == "2026-01-10T08:00:06+07:00"
    assert [a.id for a in store.due_alerts("vp", later(3))] == ["al_2"]

    store.defer_alerts(["al_2"], later(100))
    assert alert_row(store, "al_2")["attempts"] == 0
    assert alert_row(store, "al_2")["next_attempt_at"] == "2026-01-10T08:01:40+07:00"
    store.defer_alerts(["al_2"], later(50))  # never pulls an alert earlier
    assert alert_row(store, "al_2")["next_attempt_at"] == "2026-01-10T08:01:40+07:00"

    store.record_attempt(["al_1"], "vp", "al_1", at=later(7), status_code=204, error=None, duration_ms=8)
    assert store.mark_delivered(["al_1"], later(7)) == 1
    row = alert_row(store, "al_1")
    assert (row["status"], row["attempts"], row["last_error"]) == ("delivered", 2, None)
    assert row["delivered_at"] == "2026-01-10T08:00:07+07:00"
    assert store.mark_delivered(["al_1"], later(8)) == 0  # only pending rows move

    store.mark_failed("al_2", "HTTP 500")
    assert alert_row(store, "al_2")["status"] == "failed"
    history = store.attempts_for("al_1")
    assert [(a.status_code, a.error, a.duration_ms) for a in history] == [(500, "HTTP 500", 12), (204, None, 8)]
    assert {a.message_id for a in history} == {"al_1"}
    assert store.alert_counts() == {"pending": 0, "delivered": 1, "failed": 1}


def test_retry_requeues_and_keeps_history(store: AlertStore) -> None:
    art = add_article(store, 1)
    for i in range(3):
        add_alert(store, f"al_{i}", art, "vp", rule=f"r{i}")
        store.record_attempt([f"al_{i}"], "vp", f"al_{i}", at=later(1), status_code=None, error="refused",
                             duration_ms=1)
        store.mark_failed(f"al_{i}", "refused")
    assert store.retry_alert("al_0", now=later(10)) is True
    row = alert_row(store, "al_0")
    assert (row["status"], row["attempts"], row["last_error"]) == ("pending", 0, None)
    assert row["next_attempt_at"] == "2026-01-10T08:00:10+07:00"
    assert len(store.attempts_for("al_0")) == 1
    assert store.retry_alert("nope") is False
    assert store.retry_all_failed(now=later(20)) == 2
    assert store.alert_counts() == {"pending": 3, "delivered": 0, "failed": 0}
    store.mark_delivered(["al_1"], later(30))
    assert store.retry_alert("al_1") is False  # delivered stays delivered


def test_list_alerts(store: AlertStore) -> None:
    art = add_article(store, 1)
    add_alert(store, "al_old", art, "vp")
    add_alert(store, "al_new", art, "chat", created_at=later(60))
    store.mark_failed("al_old", "HTTP 404")
    everything = store.list_alerts()
    assert [a["id"] for a in everything] == ["al_new", "al_old"]  # newest first
    (failed,) = store.list_alerts("failed")
    assert (failed["id"], failed["status"], failed["last_error"], failed["attempts"]) == \
        ("al_old", "failed", "HTTP 404", 1)
    assert failed["title"].endswith("(bài 1)") and failed["url"] == "https://example.vn/bai-1"
    assert [a["id"] for a in store.list_alerts(["pending", "failed"], webhook="chat")] == ["al_new"]
    assert len(store.list_alerts(limit=1)) == 1
    assert json.loads(json.dumps(failed))["id"] == "al_old"
    with pytest.raises(ValueError, match="unknown alert status"):
        store.list_alerts("lost")


def test_state_survives_reopen(tmp_path: Path) -> None:
    s = open_store(tmp_path)
    add_alert(s, "al_1", add_article(s, 1), "vp")
    s.schedule_retry("al_1", T0 + timedelta(hours=1), "HTTP 503")
    s.disable_webhook("chat", "gone")
    s.close()
    s2 = open_store(tmp_path)
    assert alert_row(s2, "al_1")["attempts"] == 1
    assert list(s2.disabled_webhooks()) == ["chat"]
    s2.close()

"""FeedTables against a real SQLite file: sync, state, due feeds, recording polls, health.

A poll is recorded as the pipeline records it: ``decide_poll`` (pure), then the one store write
(``ingest`` with the feed's row), so these tests check what reaches the row.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from daemon.errors import StoreError
from daemon.models import Document, FeedConfig, Match, StorySettings
from daemon.prepare import prepare
from daemon.sources.feeds.decide import FeedRow, FeedUpdate, decide_poll
from daemon.sources.feeds.results import FeedState, FetchResult
from daemon.store import Store
from daemon.store.articles import NewItem
from daemon.text.dates import VN_TZ

T0 = datetime(2026, 8, 21, 10, 0, tzinfo=VN_TZ)
FEED = FeedConfig(name="vptu", url="https://vptu.vn/rss")
OTHER = FeedConfig(name="dn", url="https://dn.vn/rss")


S = Store


@pytest.fixture
def store(tmp_path: Path) -> S:
    s = S(tmp_path / "t.db")
    s.sync_feeds([FEED, OTHER])
    return s


def record(s: S, feed: FeedConfig, result: FetchResult, *, now: datetime) -> None:
    """One poll's write as the pipeline makes it; the next poll is due one interval (15 min) later."""
    seen = s.seen_locators(feed.name, [d.locator for d in result.documents])
    decision = decide_poll(feed, result, s.feed_row(feed.name), seen, now=now, max_backoff=6 * 3600)
    s.ingest([NewItem(prepare(d)) for d in decision.documents], feed=decision.feed)


def doc(i: int) -> Document:
    return Document(source="vptu", locator=f"g{i}", title=f"t{i}", body=f"b{i}")


def ok(**kw: object) -> FetchResult:
    base: dict[str, object] = {"feed": "vptu", "url": FEED.url, "status": 200, "etag": '"e1"',
                               "last_modified": "Fri, 21 Aug 2026 03:00:00 GMT", "documents": [doc(1), doc(2)]}
    base.update(kw)
    return FetchResult(**base)  # type: ignore[arg-type]


def row(s: S, name: str = "vptu") -> dict[str, object]:
    return next(r for r in s.feed_health(T0, 86400) if r["name"] == name)


def test_sync_inserts_and_state_is_configured_url(store: S) -> None:
    assert store.feed_state("vptu") == FeedState(url=FEED.url, etag=None, last_modified=None)
    with pytest.raises(StoreError, match="nope"):
        store.feed_state("nope")


def test_new_feeds_are_due_then_scheduled(store: S) -> None:
    assert store.due_feed_names(T0) == {"vptu", "dn"}
    record(store, FEED, ok(), now=T0)
    assert store.due_feed_names(T0 + timedelta(minutes=14)) == {"dn"}
    assert store.due_feed_names(T0 + timedelta(minutes=15)) == {"vptu", "dn"}


def test_success_records_validators_counts_and_times(store: S) -> None:
    record(store, FEED, ok(warning="malformed XML, 2 items recovered"), now=T0)
    r = row(store)
    assert (r["etag"], r["last_modified"], r["last_status"]) == ('"e1"', "Fri, 21 Aug 2026 03:00:00 GMT", 200)
    assert r["items_seen"] == 2 and r["consecutive_errors"] == 0
    assert r["last_fetch_at"] == r["last_success_at"] == r["last_new_at"] == "2026-08-21T10:00:00+07:00"
    assert r["last_warning"] == "malformed XML, 2 items recovered"
    assert store.feed_state("vptu") == FeedState(FEED.url, '"e1"', "Fri, 21 Aug 2026 03:00:00 GMT")
    # no new items: last_new_at stays, and items_seen (distinct items ever carried) does not grow
    record(store, FEED, ok(), now=T0 + timedelta(hours=1))
    r = row(store)
    assert r["items_seen"] == 2 and r["last_new_at"] == "2026-08-21T10:00:00+07:00"
    assert r["last_warning"] is None


def test_errors_count_up_and_reset_on_success(store: S) -> None:
    fail = FetchResult(feed="vptu", url=FEED.url, status=500, error="HTTP 500 Internal Server Error")
    for i in range(3):
        at = T0 + timedelta(minutes=i)
        record(store, FEED, fail, now=at)
    r = row(store)
    assert r["consecutive_errors"] == 3 and r["last_error"] == "HTTP 500 Internal Server Error"
    assert r["last_success_at"] is None and r["last_status"] == 500
    assert store.feed_row("vptu").consecutive_errors == 3
    record(store, FEED, ok(), now=T0 + timedelta(hours=1))
    r = row(store)
    assert r["consecutive_errors"] == 0 and r["last_error"] is None


def test_error_keeps_validators_and_does_not_adopt_redirect(store: S) -> None:
    record(store, FEED, ok(), now=T0)
    fail = FetchResult(feed="vptu", url="https://new.vn/rss", status=404, moved_to="https://new.vn/rss",
                       error="HTTP 404 Not Found")
    record(store, FEED, fail, now=T0)
    assert store.feed_state("vptu") == FeedState(FEED.url, '"e1"', "Fri, 21 Aug 2026 03:00:00 GMT")


def test_moved_to_is_adopted_and_a_config_change_resets(store: S) -> None:
    record(store, FEED, ok(moved_to="https://vptu.vn/feed.xml", url="https://vptu.vn/feed.xml"), now=T0)
    assert store.feed_state("vptu").url == "https://vptu.vn/feed.xml"
    store.sync_feeds([FEED])  # unchanged config: the redirect target stays
    assert store.feed_state("vptu").url == "https://vptu.vn/feed.xml"
    store.sync_feeds([FeedConfig(name="vptu", url="https://vptu.vn/rss2")])
    assert store.feed_state("vptu") == FeedState("https://vptu.vn/rss2", None, None)
    assert "vptu" in store.due_feed_names(T0)


def test_not_modified_touches_only_schedule_and_status(store: S) -> None:
    record(store, FEED, ok(), now=T0)
    later = T0 + timedelta(minutes=15)
    nm = FetchResult(feed="vptu", url=FEED.url, status=304, not_modified=True, etag=None)
    record(store, FEED, nm, now=later)
    r = row(store)
    assert r["last_status"] == 304 and r["items_seen"] == 2 and r["etag"] == '"e1"'
    assert r["last_success_at"] == "2026-08-21T10:15:00+07:00" and r["last_new_at"] == "2026-08-21T10:00:00+07:00"
    assert r["next_fetch_at"] == "2026-08-21T10:30:00+07:00"


def test_first_fetch_flag(store: S) -> None:
    assert not store.feed_row("vptu").first_fetch_done and store.feed_row("unknown") == FeedRow()
    record(store, FEED, FetchResult(feed="vptu", url=FEED.url, error="HTTP 500"), now=T0)
    assert not store.feed_row("vptu").first_fetch_done  # a failure is no first fetch
    record(store, FEED, ok(), now=T0)
    assert store.feed_row("vptu") == FeedRow(consecutive_errors=0, items_seen=2, first_fetch_done=True)
    assert not store.feed_row("dn").first_fetch_done


def test_record_fetch_creates_missing_row(tmp_path: Path) -> None:
    s = S(tmp_path / "t.db")
    record(s, FEED, ok(), now=T0)
    assert s.feed_state("vptu").etag == '"e1"'


def test_health_flags_stale_feeds(store: S) -> None:
    day = 86400.0
    fail = FetchResult(feed="dn", url=OTHER.url, error="connection failed: refused")
    record(store, FEED, ok(), now=T0)
    record(store, OTHER, fail, now=T0)
    health = {r["name"]: r for r in store.feed_health(T0 + timedelta(hours=1), 2 * day)}
    assert not health["vptu"]["stale"]
    assert not health["dn"]["stale"] and health["dn"]["failing_since"] == store.iso(T0)  # failing for an hour only
    record(store, OTHER, fail, now=T0 + timedelta(days=1))
    health = {r["name"]: r for r in store.feed_health(T0 + timedelta(days=2, hours=1), 2 * day)}
    assert health["dn"]["failing_since"] == store.iso(T0)  # where the run of failures began
    assert health["dn"]["stale"] and "never fetched successfully, failing since" in health["dn"]["stale_reason"]
    # vptu succeeds but brings nothing new for three days: silent
    record(store, FEED, ok(), now=T0 + timedelta(days=3))
    health = {r["name"]: r for r in store.feed_health(T0 + timedelta(days=3), 2 * day)}
    assert health["vptu"]["stale"] and "no new items" in health["vptu"]["stale_reason"]
    # a feed that worked, then failed for longer than stale_after
    record(store, FEED, ok(documents=[doc(3)]), now=T0 + timedelta(days=3))
    fail_v = FetchResult(feed="vptu", url=FEED.url, error="HTTP 500")
    record(store, FEED, fail_v, now=T0 + timedelta(days=4))
    health = {r["name"]: r for r in store.feed_health(T0 + timedelta(days=4), 2 * day)}
    assert not health["vptu"]["stale"]
    health = {r["name"]: r for r in store.feed_health(T0 + timedelta(days=5, hours=1), 2 * day)}
    assert health["vptu"]["stale"] and "failing since" in health["vptu"]["stale_reason"]


def test_a_poll_is_one_transaction_with_its_articles(store: S) -> None:
    """If the feed's row cannot be written, the poll's articles are not stored either (and vice versa)."""
    with store.tx() as conn:
        conn.execute("CREATE TRIGGER feeds_fail BEFORE UPDATE ON feeds BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(StoreError, match="disk full"):
        record(store, FEED, ok(), now=T0)
    assert store.counts()["articles"] == 0
    assert row(store)["last_fetch_at"] is None and store.seen_locators("vptu", ["g1", "g2"]) == set()
    with store.tx() as conn:
        conn.execute("DROP TRIGGER feeds_fail")
    record(store, FEED, ok(), now=T0)
    assert store.counts()["articles"] == 2 and row(store)["items_seen"] == 2


def test_a_poll_sets_only_columns_it_owns(store: S) -> None:
    bad = FeedUpdate("vptu", FEED.url, {"configured_url": "https://evil.example/rss", "last_status": 200})
    with pytest.raises(StoreError, match="configured_url"):
        store.ingest([], feed=bad)
    assert row(store)["last_status"] is None


def _poll_items(source: str, *texts: str) -> list[NewItem]:
    """Items of one poll, each matching a rule that alerts one webhook, with stories' sketches."""
    items = []
    for i, text in enumerate(texts):
        p = prepare(Document(source=source, locator=f"{source}-{i}", title=f"Tin {text[:20]}", body=text),
                    stories=True)
        items.append(NewItem(p, [Match("nq57", "Nghị quyết 57", "Nghị quyết 57", "body", "…")], [("nq57", "office")],
                             p.sketch))
    return items


REPORT = ("Sáng 21/8, Ban Thường vụ Tỉnh ủy tổ chức hội nghị quán triệt Nghị quyết 57-NQ/TW về đột phá phát triển"
          " khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số quốc gia, với 1.250 đại biểu tại 54 điểm cầu.")


def _polls() -> list[tuple[list[NewItem], FeedUpdate]]:
    """Two feeds' polls: the second carries the first's report again (a duplicate across the polls), a copy
    of it under its own byline (joins its story, queues no second alert), and a text of its own."""
    first = _poll_items("vptu", REPORT, "Đoàn kiểm tra số 3 làm việc với Đảng ủy xã Tân Phú về Nghị quyết 57.")
    second = _poll_items("dn", REPORT, "(TTXVN) - " + REPORT + " Ảnh: TTXVN",
                         "Huyện ủy tổng kết 5 năm thực hiện Chỉ thị 05 và Nghị quyết 57 ở các chi bộ.")
    return [(first, FeedUpdate("vptu", FEED.url, {"last_status": 200, "items_seen": 2})),
            (second, FeedUpdate("dn", OTHER.url, {"last_status": 200, "items_seen": 3}))]


def _contents(s: S) -> dict[str, object]:
    with s.read() as conn:
        return {table: [tuple(r) for r in conn.execute(sql)] for table, sql in {
            "articles": "SELECT id, content_hash, source, story_id FROM articles ORDER BY id",
            "sightings": "SELECT article_id, source, locator, is_first FROM sightings ORDER BY id",
            "matches": "SELECT article_id, rule FROM matches ORDER BY id",
            "alerts": "SELECT id, article_id, webhook FROM alerts ORDER BY id",
            "stories": "SELECT id, article_count, source_count FROM stories ORDER BY id",
            "feeds": "SELECT name, last_status, items_seen FROM feeds ORDER BY name"}.items()}


def _summary(r: object) -> tuple[object, ...]:
    return (len(r.new), len(r.duplicates), r.matches, r.alerts, r.joined, r.held)  # type: ignore[attr-defined]


def test_polls_stored_together_are_stored_and_reported_as_one_after_another(tmp_path: Path) -> None:
    """What a pass does with the polls it has ready at once: the same rows and per-poll reports as one
    ``ingest`` per poll (a text met in the earlier poll is a duplicate, a copy joins its story)."""
    together, apart = S(tmp_path / "together.db"), S(tmp_path / "apart.db")
    for s in (together, apart):
        s.sync_feeds([FEED, OTHER])
    reports = together.ingest_polls(_polls(), stories=StorySettings())
    alone = [apart.ingest(items, feed=feed, stories=StorySettings()) for items, feed in _polls()]
    assert [_summary(r) for r in reports] == [_summary(r) for r in alone] == [(2, 0, 2, 2, 0, 0), (2, 1, 2, 1, 1, 1)]
    assert _contents(together) == _contents(apart)
    assert _contents(together)["feeds"] == [("dn", 200, 3), ("vptu", 200, 2)]


def test_polls_stored_together_are_one_transaction(store: S) -> None:
    """A failure writing the last poll's feed row leaves none of the polls stored: the pass stops, and every
    feed it did not record stays due."""
    with store.tx() as conn:
        conn.execute("CREATE TRIGGER feeds_fail BEFORE UPDATE ON feeds WHEN new.name = 'dn'"
                     " BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(StoreError, match="disk full"):
        store.ingest_polls(_polls(), stories=StorySettings())
    contents = _contents(store)
    assert all(not contents[t] for t in ("articles", "sightings", "matches", "alerts", "stories"))
    assert contents["feeds"] == [("dn", None, 0), ("vptu", None, 0)]
    with store.tx() as conn:
        conn.execute("DROP TRIGGER feeds_fail")
    assert [len(r.new) for r in store.ingest_polls(_polls(), stories=StorySettings())] == [2, 2]

"""FeedTables against a real SQLite file: sync, state, due feeds, recording polls, health.

A poll is recorded as the pipeline records it: ``decide_poll`` (pure), then the one store write
(``ingest`` with the feed's row), so these tests check what reaches the row.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from daemon.errors import StoreError
from daemon.models import Document, FeedConfig
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

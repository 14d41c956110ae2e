"""decide_poll: the whole outcome of one feed poll as a plain function, no database, no clock, no server."""

from __future__ import annotations

from datetime import datetime, timedelta

from daemon.models import Document, FeedConfig
from daemon.sources.feeds.decide import FeedRow, decide_poll
from daemon.sources.feeds.results import FetchResult
from daemon.text.dates import VN_TZ

NOW = datetime(2026, 8, 21, 10, 0, tzinfo=VN_TZ)
FEED = FeedConfig(name="vptu", url="https://vptu.vn/rss", interval=900)
H = 3600.0
POLLED = FeedRow(consecutive_errors=0, items_seen=5, first_fetch_done=True)


def doc(key: str) -> Document:
    return Document(source="vptu", locator=key, title=f"Tin {key}", body=f"Nội dung {key}")


def ok(*keys: str, **kw: object) -> FetchResult:
    base: dict[str, object] = {"feed": "vptu", "url": FEED.url, "status": 200, "etag": '"e2"',
                               "last_modified": "Fri, 21 Aug 2026 03:00:00 GMT", "body_sha256": "ab12",
                               "documents": [doc(k) for k in keys]}
    base.update(kw)
    return FetchResult(**base)  # type: ignore[arg-type]


def fail(**kw: object) -> FetchResult:
    base: dict[str, object] = {"feed": "vptu", "url": FEED.url, "status": 503, "error": "HTTP 503 Service Unavailable"}
    base.update(kw)
    return FetchResult(**base)  # type: ignore[arg-type]


def test_a_poll_with_new_items_sets_the_whole_row() -> None:
    d = decide_poll(FEED, ok("a", "b", "c", warning="1 item recovered"), POLLED, {"b"}, now=NOW, max_backoff=6 * H)
    assert [x.locator for x in d.documents] == ["a", "c"] and d.kept == (0, 2)
    assert all(x.alert for x in d.documents) and not d.quiet
    assert (d.attempt, d.delay) == (0, 900)
    assert d.feed.name == "vptu" and d.feed.configured_url == FEED.url
    assert d.feed.columns == {
        "last_status": 200, "consecutive_errors": 0, "last_fetch_at": NOW, "next_fetch_at": NOW + timedelta(minutes=15),
        "last_error": None, "failing_since": None, "last_success_at": NOW, "etag": '"e2"',
        "last_modified": "Fri, 21 Aug 2026 03:00:00 GMT",
        "last_warning": "1 item recovered", "items_seen": 7, "last_new_at": NOW, "body_sha256": "ab12",
    }


def test_unchanged_bytes_record_the_poll_and_keep_what_their_parse_found() -> None:
    """A 200 with the bytes parsed last time: a working poll, nothing parsed, so nothing about the items moves."""
    same = FetchResult(feed="vptu", url=FEED.url, status=200, unchanged=True, body_sha256="ab12")
    d = decide_poll(FEED, same, POLLED, set(), now=NOW, max_backoff=6 * H)
    assert d.documents == () and d.kept == ()
    assert d.feed.columns == {
        "last_status": 200, "consecutive_errors": 0, "last_fetch_at": NOW, "next_fetch_at": NOW + timedelta(minutes=15),
        "last_error": None, "failing_since": None, "last_success_at": NOW,
    }


def test_nothing_new_keeps_last_new_at_and_items_seen() -> None:
    d = decide_poll(FEED, ok("a"), POLLED, {"a"}, now=NOW, max_backoff=6 * H)
    assert d.documents == ()
    assert d.feed.columns["items_seen"] == 5 and "last_new_at" not in d.feed.columns
    assert d.feed.columns["last_warning"] is None  # a clean parse clears the last warning


def test_the_error_count_is_decided_once_for_the_backoff_and_the_row() -> None:
    row = FeedRow(consecutive_errors=2, items_seen=5, first_fetch_done=True)
    d = decide_poll(FEED, fail(), row, set(), now=NOW, max_backoff=6 * H)
    assert d.attempt == 3 and d.delay == 900 * 4
    assert d.feed.columns == {"last_status": 503, "consecutive_errors": 3, "last_fetch_at": NOW,
                              "next_fetch_at": NOW + timedelta(hours=1), "last_error": "HTTP 503 Service Unavailable",
                              "failing_since": NOW}


def test_a_run_of_failures_keeps_the_time_it_began_until_a_poll_works() -> None:
    began = NOW - timedelta(days=3)
    failing = FeedRow(consecutive_errors=4, first_fetch_done=True, failing_since=began)
    assert decide_poll(FEED, fail(), failing, set(), now=NOW, max_backoff=6 * H).feed.columns["failing_since"] == began
    assert decide_poll(FEED, ok("a"), failing, set(), now=NOW, max_backoff=6 * H).feed.columns["failing_since"] is None


def test_a_failure_neither_adopts_a_redirect_nor_ends_the_first_fetch() -> None:
    moved = fail(status=404, error="HTTP 404 Not Found", moved_to="https://new.vn/rss", url="https://new.vn/rss")
    columns = decide_poll(FEED, moved, FeedRow(), set(), now=NOW, max_backoff=6 * H).feed.columns
    assert "url" not in columns and "first_fetch_done" not in columns and "etag" not in columns


def test_a_success_adopts_a_permanent_redirect() -> None:
    moved = ok("a", moved_to="https://vptu.vn/feed.xml", url="https://vptu.vn/feed.xml")
    assert decide_poll(FEED, moved, POLLED, set(), now=NOW, max_backoff=6 * H).feed.columns["url"] == \
        "https://vptu.vn/feed.xml"


def test_server_hints_and_the_ceiling_shape_the_next_poll() -> None:
    slow = decide_poll(FEED, fail(retry_after=2 * H), POLLED, set(), now=NOW, max_backoff=6 * H)
    assert slow.feed.columns["next_fetch_at"] == NOW + timedelta(hours=2)
    row = FeedRow(consecutive_errors=40, first_fetch_done=True)
    capped = decide_poll(FEED, fail(), row, set(), now=NOW, max_backoff=6 * H)
    assert capped.attempt == 41 and capped.delay == 6 * H
    cached = decide_poll(FEED, ok(max_age=1800), POLLED, set(), now=NOW, max_backoff=6 * H)
    assert cached.delay == 1800


def test_not_modified_touches_status_and_schedule_only() -> None:
    nm = FetchResult(feed="vptu", url=FEED.url, status=304, not_modified=True)
    d = decide_poll(FEED, nm, POLLED, set(), now=NOW, max_backoff=6 * H)
    assert d.documents == ()
    assert d.feed.columns == {"last_status": 304, "consecutive_errors": 0, "last_fetch_at": NOW,
                              "next_fetch_at": NOW + timedelta(minutes=15), "last_error": None,
                              "failing_since": None, "last_success_at": NOW}
    fresh = FetchResult(feed="vptu", url=FEED.url, status=304, not_modified=True, etag='"e3"')
    assert decide_poll(FEED, fresh, POLLED, set(), now=NOW, max_backoff=6 * H).feed.columns["etag"] == '"e3"'


def test_the_first_fetch_is_quiet_and_ends_with_its_first_success() -> None:
    first = decide_poll(FEED, ok("a", "b"), FeedRow(), set(), now=NOW, max_backoff=6 * H)
    assert first.quiet and [x.alert for x in first.documents] == [False, False]
    assert first.feed.columns["first_fetch_done"] == 1 and first.feed.columns["items_seen"] == 2
    later = decide_poll(FEED, ok("a", "b", "c"), FeedRow(0, 2, True), {"a", "b"}, now=NOW, max_backoff=6 * H)
    assert not later.quiet and [x.alert for x in later.documents] == [True]
    assert "first_fetch_done" not in later.feed.columns


def test_alert_on_first_fetch_lets_the_first_items_alert() -> None:
    loud = FeedConfig(name="vptu", url=FEED.url, alert_on_first_fetch=True)
    d = decide_poll(loud, ok("a"), FeedRow(), set(), now=NOW, max_backoff=6 * H)
    assert not d.quiet and [x.alert for x in d.documents] == [True]
    assert d.feed.columns["first_fetch_done"] == 1

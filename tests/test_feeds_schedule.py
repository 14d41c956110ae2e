"""When to poll next: exponential back-off on errors, server hints honoured within bounds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from daemon.headers import parse_retry_after
from daemon.sources.feeds.results import FetchResult
from daemon.sources.feeds.schedule import next_fetch_delay, parse_max_age

H = 3600.0
OK = FetchResult(feed="f", url="http://x/")
FAIL = FetchResult(feed="f", url="http://x/", error="HTTP 500 Internal Server Error")


def test_success_polls_at_interval() -> None:
    assert next_fetch_delay(900, OK, 0, 6 * H) == 900


@pytest.mark.parametrize(("n", "expected"), [(1, 900), (2, 1800), (3, 3600), (4, 7200), (5, 14400), (6, 21600),
                                             (7, 21600), (500, 21600)])
def test_errors_back_off_exponentially_up_to_cap(n: int, expected: float) -> None:
    assert next_fetch_delay(900, FAIL, n, 6 * H) == expected


def test_error_count_zero_is_treated_as_first_error() -> None:
    assert next_fetch_delay(900, FAIL, 0, 6 * H) == 900


def test_max_age_lengthens_but_never_shortens_or_exceeds_cap() -> None:
    assert next_fetch_delay(900, FetchResult(feed="f", url="u", max_age=1800), 0, 6 * H) == 1800
    assert next_fetch_delay(900, FetchResult(feed="f", url="u", max_age=60), 0, 6 * H) == 900
    assert next_fetch_delay(900, FetchResult(feed="f", url="u", max_age=10 * 86400), 0, 6 * H) == 6 * H


def test_retry_after_honoured_on_error_within_cap() -> None:
    r = FetchResult(feed="f", url="u", error="HTTP 503", retry_after=2 * H)
    assert next_fetch_delay(900, r, 1, 6 * H) == 2 * H
    r = FetchResult(feed="f", url="u", error="HTTP 429", retry_after=30)
    assert next_fetch_delay(900, r, 1, 6 * H) == 900
    r = FetchResult(feed="f", url="u", error="HTTP 503", retry_after=100 * H)
    assert next_fetch_delay(900, r, 1, 6 * H) == 6 * H


def test_interval_longer_than_cap_is_respected() -> None:
    assert next_fetch_delay(12 * H, OK, 0, 6 * H) == 12 * H
    assert next_fetch_delay(12 * H, FAIL, 3, 6 * H) == 12 * H


def test_parse_retry_after() -> None:
    now = datetime(2026, 8, 21, 10, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Fri, 21 Aug 2026 10:05:00 GMT", now) == 300
    assert parse_retry_after("Fri, 21 Aug 2026 09:00:00 GMT", now) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_parse_max_age() -> None:
    assert parse_max_age("public, max-age=600") == 600
    assert parse_max_age("s-maxage=60, max-age=300") == 300  # s-maxage is for shared caches, not us
    assert parse_max_age("s-maxage=60") is None
    assert parse_max_age("max-age=600, no-cache") is None
    assert parse_max_age("no-store") is None
    assert parse_max_age("public") is None
    assert parse_max_age(None) is None

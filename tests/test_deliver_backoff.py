"""The retry schedule: values, jitter bounds, the three-day deadline, Retry-After parsing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from daemon.deliver import backoff
from daemon.headers import parse_retry_after


def test_base_schedule_values() -> None:
    assert [backoff.base_delay(n) for n in range(1, 10)] == [
        5, 300, 1800, 7200, 18000, 36000, 43200, 43200, 43200,
    ]
    with pytest.raises(ValueError):
        backoff.base_delay(0)


@pytest.mark.parametrize("failures", [1, 2, 4, 7])
def test_jitter_stays_within_ten_percent_and_varies(failures: int) -> None:
    rng = random.Random(7)
    base = backoff.base_delay(failures)
    values = [backoff.retry_delay(failures, rng=rng) for _ in range(500)]
    assert all(base * 0.9 <= v <= base * 1.1 for v in values)
    assert max(values) - min(values) > base * 0.15  # really spread, not a constant
    assert len(set(values)) > 400


def test_retry_after_replaces_schedule_and_is_bounded() -> None:
    assert backoff.retry_delay(1, retry_after=120) == 120
    assert backoff.retry_delay(9, retry_after=3) == 3
    assert backoff.retry_delay(1, retry_after=10 * 86400) == 12 * 3600
    assert backoff.retry_delay(1, retry_after=-5) == 0


def test_next_attempt_clamps_to_deadline_then_gives_up() -> None:
    created = datetime(2026, 1, 10, 8, tzinfo=UTC)
    assert backoff.next_attempt(created, created, 5) == created + timedelta(seconds=5)
    near_end = created + timedelta(days=3, hours=-1)
    assert backoff.next_attempt(created, near_end, 43200) == created + timedelta(days=3)
    assert backoff.next_attempt(created, created + timedelta(days=3), 5) is None


def test_whole_schedule_spans_three_days() -> None:
    """Fail every time: about a dozen attempts, the last exactly at the deadline, then dead letter."""
    created = now = datetime(2026, 1, 10, 8, tzinfo=UTC)
    rng = random.Random(1)
    tries = [now]
    failures = 0
    while True:
        failures += 1
        nxt = backoff.next_attempt(created, now, backoff.retry_delay(failures, rng=rng))
        if nxt is None:
            break
        now = nxt
        tries.append(now)
    assert tries[-1] == created + backoff.GIVE_UP_AFTER
    assert 10 <= len(tries) <= 14
    assert (tries[1] - tries[0]).total_seconds() == pytest.approx(5, rel=0.11)
    assert (tries[2] - tries[1]).total_seconds() == pytest.approx(300, rel=0.11)
    assert (tries[7] - tries[6]).total_seconds() == pytest.approx(43200, rel=0.11)


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 10, 1, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after(" 7 ", now) == 7
    http_date = format_datetime(now + timedelta(minutes=10), usegmt=True)
    assert parse_retry_after(http_date, now) == 600
    past = format_datetime(now - timedelta(minutes=10), usegmt=True)
    assert parse_retry_after(past, now) == 0
    for junk in (None, "", "soon", "-5", "1.5"):
        assert parse_retry_after(junk, now) is None

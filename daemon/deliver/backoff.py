"""When to try a failed alert again, and when to give up.

The schedule spreads about a dozen attempts over three days: quick retries catch a receiver restarting,
the long tail rides out a weekend outage of an office's chat server. Jitter (±10 %) keeps alerts that
failed together from hammering the receiver together when it comes back. After ``GIVE_UP_AFTER`` the
alert is dead-lettered (status ``failed``) and waits for an operator's ``newswatch alerts retry``.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

SCHEDULE: tuple[float, ...] = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0)  # 5 s, 5 min, 30 min, 2 h, 5 h, 10 h
THEN_EVERY = 12 * 3600.0
GIVE_UP_AFTER = timedelta(days=3)
JITTER = 0.10
MAX_RETRY_AFTER = 12 * 3600.0


def base_delay(failures: int) -> float:
    """Delay after the ``failures``-th failed attempt (1 = the first), before jitter."""
    if failures < 1:
        raise ValueError(f"failures counts from 1, got {failures}")
    return SCHEDULE[failures - 1] if failures <= len(SCHEDULE) else THEN_EVERY


def jittered(delay: float, rng: random.Random | None = None) -> float:
    return delay * (1.0 + (rng or random).uniform(-JITTER, JITTER))


def retry_delay(failures: int, *, retry_after: float | None = None, rng: random.Random | None = None) -> float:
    """Seconds to wait after the ``failures``-th failure.

    A receiver's ``Retry-After`` replaces the schedule (it knows its own load), bounded so a bogus
    value cannot park an alert for a year.
    """
    if retry_after is not None:
        return min(max(retry_after, 0.0), MAX_RETRY_AFTER)
    return jittered(base_delay(failures), rng)


def next_attempt(created_at: datetime, now: datetime, delay: float) -> datetime | None:
    """The time of the next try, or None when the alert has run out of time (dead letter).

    The last try is pulled in to the deadline rather than skipped, so every alert gets a chance at
    the very end of its three days.
    """
    deadline = created_at + GIVE_UP_AFTER
    if now >= deadline:
        return None
    return min(now + timedelta(seconds=delay), deadline)

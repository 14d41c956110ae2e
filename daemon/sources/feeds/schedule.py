"""When to poll a feed next: pure decisions, so the rules can be tested without clocks or servers.

A failing feed is retried less and less often (it is probably down for a while, and hammering it
helps nobody); a healthy one is polled at its configured interval unless the server asks, via
``Cache-Control: max-age`` or ``Retry-After``, for more patience. The server never gets to make us
poll *more* often than configured, nor to silence a feed for longer than ``max_backoff``.
"""

from __future__ import annotations

import re

from daemon.sources.feeds.results import FetchResult

_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|[,\s])(?:no-cache|no-store)(?:$|[,\s=])", re.IGNORECASE)


def next_fetch_delay(interval: float, result: FetchResult, consecutive_errors: int, max_backoff: float) -> float:
    """Seconds until the next poll.

    ``consecutive_errors`` counts failures in a row including this one (0 after a success).
    Errors back off as interval·2^(n-1); server hints only ever lengthen the wait. The ceiling is
    ``max_backoff``, unless the configured interval is itself longer (then the interval rules).
    """
    ceiling = max(max_backoff, interval)
    if result.error is not None:
        n = min(max(consecutive_errors, 1), 64)
        delay = interval * 2.0 ** (n - 1)
    else:
        delay = interval
        if result.max_age is not None:
            delay = max(delay, result.max_age)
    if result.retry_after is not None:
        delay = max(delay, result.retry_after)
    return min(delay, ceiling)


def parse_max_age(cache_control: str | None) -> float | None:
    """``Cache-Control: max-age=N`` in seconds; None when absent or when caching is forbidden."""
    if not cache_control or _NO_CACHE.search(cache_control):
        return None
    m = _MAX_AGE.search(cache_control)
    return float(m.group(1)) if m else None

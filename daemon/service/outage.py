"""A condition that makes every pass fail while it lasts (the disk is full), reported without flooding the log.

``Outage`` only decides *when* to say something; the caller words the line. The first failure is reported at
once; while failures go on, at most one report per ``every`` seconds, with how many failures there were since
the previous one; and one report when it is over. It is over when something that failed during it works again:
something that never failed (a job whose few small writes still fit on the disk) proves nothing about the
writes that did not fit.

The limit of one failure report per ``every`` seconds holds across outages too: a disk that keeps filling up
again right after it had room (each pass frees a little, the next one fills it) gives at most one "failing"
and one "over" line a minute. An outage that was never reported is not reported as over either.

Pure: the caller passes the time, so tests need no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Notice:
    kind: Literal["started", "ongoing", "ended"]
    duration: float  # seconds since the outage started
    failures: int  # started, ongoing: failures since the previous notice; ended: failures during the outage


class Outage:
    def __init__(self, every: float = 60.0) -> None:
        self.every = every
        self._started: float | None = None  # when the current outage began; None: none is going on
        self._announced = False  # the current outage has been reported
        self._last_report: float | None = None  # when a failure was last reported (in any outage)
        self._unreported = 0  # failures since the last report
        self._total = 0  # failures in the current outage
        self._failed: set[str] = set()  # keys that failed in the current outage

    @property
    def active(self) -> bool:
        return self._started is not None

    def failed(self, key: str, now: float) -> Notice | None:
        """``key`` (a job's name) just failed for this reason; the notice to log, if one is due."""
        if self._started is None:
            self._started, self._announced, self._total = now, False, 0
        self._failed.add(key)
        self._total += 1
        self._unreported += 1
        if self._last_report is not None and now - self._last_report < self.every:
            return None
        notice = Notice("ongoing" if self._announced else "started", now - self._started, self._unreported)
        self._announced, self._last_report, self._unreported = True, now, 0
        return notice

    def worked(self, key: str, now: float) -> Notice | None:
        """``key`` just worked; the "it is over" notice when ``key`` had failed during a reported outage."""
        if self._started is None or key not in self._failed:
            return None
        notice = None
        if self._announced:
            notice = Notice("ended", now - self._started, self._total)
            self._unreported = 0
        # (an outage never reported leaves its failures to be counted in the next report)
        self._started, self._announced, self._total = None, False, 0
        self._failed.clear()
        return notice


def human_duration(seconds: float) -> str:
    """"45s", "3m 20s", "2h 05m": for a log line an operator reads."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"

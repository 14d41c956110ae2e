"""Which stretch of time a briefing covers, from a date or from a schedule (pure).

A period is made when it ends. A day with ``at = "07:00"`` runs from 07:00 the day before to 07:00 on
the day (the briefing on the desk at seven covers the last 24 hours); without ``at`` it is the calendar
day. A week is the seven days ending the same way (made on ``weekday``); a month is the calendar month,
from its first day at ``at`` (or midnight) to the next month's, made on the next month's first day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Period:
    kind: str  # day | week | month
    start: datetime
    end: datetime
    day: date  # the date it is named by: the day it ends on, or a day of its month

    def key(self) -> str:
        """How files and ids name it: "2026-12-01" (day, week) or "2026-11" (month)."""
        return self.day.strftime("%Y-%m") if self.kind == "month" else self.day.isoformat()


def _boundary(day: date, at: tuple[int, int, int] | None, tz: ZoneInfo) -> datetime:
    hour, minute, second = at or (0, 0, 0)
    return datetime.combine(day, time(hour, minute, second), tz)


def _first_of_next(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def period_of(kind: str, day: date, at: tuple[int, int, int] | None, tz: ZoneInfo) -> Period:
    """The period named by ``day``: the day or week ending on it, or the month holding it."""
    if kind == "month":
        first = day.replace(day=1)
        return Period(kind, _boundary(first, at, tz), _boundary(_first_of_next(first), at, tz), first)
    span = 7 if kind == "week" else 1
    end_day = day if at is not None else day + timedelta(days=1)
    return Period(kind, _boundary(end_day - timedelta(days=span), at, tz), _boundary(end_day, at, tz), day)


def latest_complete(kind: str, now: datetime, at: tuple[int, int, int] | None, tz: ZoneInfo,
                    weekday: int | None = None) -> Period:
    """The latest period that has ended by ``now`` (a weekly one ending on ``weekday`` when given)."""
    day = now.astimezone(tz).date()
    if kind == "month":
        period = period_of(kind, day, at, tz)
        while period.end > now:
            period = period_of(kind, period.start.date() - timedelta(days=1), at, tz)
        return period
    if kind == "week" and weekday is not None:
        day -= timedelta(days=(day.weekday() - weekday) % 7)
    step = timedelta(days=7 if kind == "week" and weekday is not None else 1)
    period = period_of(kind, day, at, tz)
    while period.end > now:
        day -= step
        period = period_of(kind, day, at, tz)
    return period


def following(period: Period, at: tuple[int, int, int] | None, tz: ZoneInfo, weekly: bool) -> Period:
    """The next period of the same schedule (for a week: seven days on; a day: one)."""
    if period.kind == "month":
        return period_of("month", _first_of_next(period.day), at, tz)
    return period_of(period.kind, period.day + timedelta(days=7 if period.kind == "week" and weekly else 1), at, tz)


def preceding(period: Period, at: tuple[int, int, int] | None, tz: ZoneInfo, weekly: bool) -> Period:
    if period.kind == "month":
        return period_of("month", period.day - timedelta(days=1), at, tz)
    return period_of(period.kind, period.day - timedelta(days=7 if period.kind == "week" and weekly else 1), at, tz)

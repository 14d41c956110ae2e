"""Issue 9 item 4, the decision: a full disk is reported once, then once a minute while it lasts, then once
when writes work again (the service's use of it, on a real full database: test_service_disk_full.py)."""

from __future__ import annotations

from daemon.service.outage import Notice, Outage, human_duration

# -- the decision ---------------------------------------------------------------------------------------


def test_first_failure_is_reported_then_once_a_minute_then_the_end() -> None:
    o = Outage(every=60)
    assert o.failed("seeds", 0.0) == Notice("started", 0.0, 1)
    assert [o.failed("seeds", t) for t in (1.0, 2.0, 30.0, 59.9)] == [None] * 4
    assert o.failed("deliver", 60.0) == Notice("ongoing", 60.0, 5)  # every failure since the last report
    assert o.failed("seeds", 61.0) is None
    assert o.failed("seeds", 125.0) == Notice("ongoing", 125.0, 2)
    assert o.active
    assert o.worked("seeds", 130.0) == Notice("ended", 130.0, 8)
    assert not o.active
    assert o.worked("seeds", 131.0) is None  # said once


def test_only_something_that_failed_can_end_it() -> None:
    """A job whose small writes still fit proves nothing about the big ones that do not."""
    o = Outage(every=60)
    o.failed("seeds", 0.0)
    assert o.worked("checkpoint", 1.0) is None
    assert o.active
    assert o.worked("seeds", 2.0) == Notice("ended", 2.0, 1)


def test_a_disk_that_fills_again_at_once_gives_at_most_two_lines_a_minute() -> None:
    o = Outage(every=60)
    lines = []
    for t in range(0, 180, 2):  # fails, works, fails, works ... every two seconds for three minutes
        lines.append(o.failed("seeds", float(t)))
        lines.append(o.worked("seeds", t + 1.0))
    said = [n for n in lines if n is not None]
    assert [n.kind for n in said] == ["started", "ended"] * 3
    assert [n.failures for n in said if n.kind == "started"] == [1, 30, 30]


def test_nothing_is_said_when_nothing_failed() -> None:
    o = Outage()
    assert o.worked("seeds", 0.0) is None
    assert not o.active


def test_human_duration() -> None:
    assert [human_duration(s) for s in (0.4, 45, 60, 200, 3600, 7530)] == ["0s", "45s", "1m 00s", "3m 20s",
                                                                           "1h 00m", "2h 05m"]

"""The pure decision (``daemon.stories.assign``) on hand-made sketches: what "within reach" means, for the
body rule and the lead rule, whether the member is in the window or arrived earlier in the same batch."""

from __future__ import annotations

from daemon.models import Sketch, StorySettings
from daemon.stories.assign import Arrival, assign
from daemon.stories.window import Member, Window

DAY = 86400.0
BODY = tuple(range(1000, 1060))  # one report's body keys: a copy has them all
LEAD = tuple(range(5000, 5012))
SETTINGS = StorySettings()  # window 7 days, lead window 2 days


def report(aid: int, seen: float, published: float | None, short: bool = False) -> Arrival:
    sketch = Sketch((), LEAD, True, ()) if short else Sketch(BODY, LEAD, False, ())
    return Arrival(aid, sketch, seen, published)


def stories(arrivals: list[Arrival], window: Window | None = None) -> list[int]:
    return assign(arrivals, window or Window(), SETTINGS).stories


def test_copies_published_within_the_window_join_in_one_batch_and_across_batches() -> None:
    assert stories([report(1, 0.0, 0.0), report(2, 0.0, 6 * DAY), report(3, 0.0, None)]) == [1, 1, 1]
    w = Window()
    w.add(Member.of(1, 1, 0.0, 0.0, Sketch(BODY, LEAD, False, ())))
    assert stories([report(2, 6 * DAY, None), report(3, 7 * DAY, 7 * DAY)], w) == [1, 1]


def test_a_copy_published_further_apart_than_the_window_starts_its_own_story() -> None:
    """An archive imported in one day: last year's report does not glue to this year's, in one batch or
    against the window; a copy first seen too long after the member does not join either."""
    year = 365 * DAY
    assert stories([report(1, 0.0, 0.0), report(2, 0.0, year), report(3, 0.0, 7.5 * DAY)]) == [1, 2, 3]
    w = Window()
    w.add(Member.of(1, 1, 0.0, None, Sketch(BODY, LEAD, False, ())))
    assert stories([report(2, 8 * DAY, None)], w) == [2]


def test_a_title_and_lead_item_joins_by_its_lead_within_the_lead_window_only() -> None:
    assert stories([report(1, 0.0, 0.0), report(2, DAY, DAY, short=True)]) == [1, 1]
    assert stories([report(1, 0.0, 0.0), report(2, 3 * DAY, 3 * DAY, short=True)]) == [1, 2]
    assert stories([report(1, 0.0, 0.0), report(2, DAY, 3 * DAY, short=True)]) == [1, 2]

"""Which story an arriving article joins: the pure decision, given what the store found for its keys.

The store hands over, for every key of the arriving articles, the articles seen within the window that
have that key (``postings``, most recent first, at most ``POSTINGS`` of them) and a few facts about each
of those articles (``Member``). Everything else is decided here, in arrival order, so that two copies in
the same batch find each other just as a copy finds one stored a day ago.

* A key carried by articles of ``COMMON`` or more different stories in the window is a formula, not a
  report ("quán triệt, triển khai thực hiện Nghị quyết", a list of attendees' titles): it is left out on
  both sides. A key shared by forty copies of one report is not: what is counted is stories, not articles.
* Body rule: the share of the shorter article's sampled clauses that the two have in common, at least
  ``threshold``, with at least ``MIN_SHARED`` clauses in common.
* Lead rule: when either article is a title-and-lead item (``Sketch.short``), the same share over the
  keys of their titles and leads, and only within ``lead_window``.
* Within the window: the member was first seen at most ``window`` before the arrival, and when both
  carry a publication date (not a fallback), those are at most ``window`` apart too (an archive imported
  in one day must not glue last year's report to this year's).

The best-scoring member's story wins; none means a new story, whose id is the arriving article's id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from daemon.models import StorySettings
from daemon.stories.sketch import Sketch

POSTINGS = 48  # most recent articles read per key: bounds a look-up however many articles are stored
COMMON = 8  # a key in this many different stories within the window is a formula
MIN_SHARED = 3  # body clauses (sampled) two articles must share, whatever the share
MIN_SHARED_LEAD = 2  # title and lead clauses two articles must share under the lead rule (or all of
# the shorter lead's, when it has only one: a feed item whose description repeats its title)


@dataclass(frozen=True, slots=True)
class Member:
    """An article already assigned to a story, as a candidate for the arrivals' stories."""

    article_id: int
    story_id: int
    seen_at: datetime
    published_at: datetime | None  # None when unknown or a fallback date
    body_n: int  # how many sampled body keys it has
    lead_n: int
    short: bool


@dataclass(frozen=True, slots=True)
class Arrival:
    article_id: int
    sketch: Sketch
    seen_at: datetime
    published_at: datetime | None


def _near(a: Arrival, m: Member, window: float) -> bool:
    if (a.seen_at - m.seen_at).total_seconds() > window:
        return False
    if a.published_at is not None and m.published_at is not None:
        return abs((a.published_at - m.published_at).total_seconds()) <= window
    return True


def _shares(keys: Sequence[int], postings: Mapping[int, list[int]], story_of: Mapping[int, int],
            ) -> tuple[dict[int, int], int]:
    """Per candidate article, how many of ``keys`` it has; and how many of ``keys`` are not formulas."""
    shared: dict[int, int] = {}
    rare = 0
    for key in keys:
        ids = postings.get(key)
        if not ids:
            rare += 1
            continue
        if len({story_of[i] for i in ids}) >= COMMON:
            continue
        rare += 1
        for i in dict.fromkeys(ids):
            shared[i] = shared.get(i, 0) + 1
    return shared, rare


def _best(a: Arrival, postings: Mapping[int, list[int]], members: Mapping[int, Member],
          story_of: Mapping[int, int], settings: StorySettings) -> int | None:
    best: tuple[float, int] | None = None  # (score, -member id): the higher score, then the earlier member
    body, rare = _shares(a.sketch.body, postings, story_of)
    for aid, n in body.items():
        m = members[aid]
        if n < MIN_SHARED or not _near(a, m, settings.window):
            continue
        score = n / max(1, min(rare, m.body_n))
        if score >= settings.threshold and (best is None or (score, -aid) > best):
            best = (score, -aid)
    lead, rare_lead = _shares(a.sketch.lead, postings, story_of)
    for aid, n in lead.items():
        m = members[aid]
        shorter = max(1, min(rare_lead, m.lead_n))
        if not (a.sketch.short or m.short) or n < min(MIN_SHARED_LEAD, shorter) \
                or not _near(a, m, settings.lead_window):
            continue
        score = n / shorter
        if score >= settings.threshold and (best is None or (score, -aid) > best):
            best = (score, -aid)
    return None if best is None else members[-best[1]].story_id


def assign(arrivals: Sequence[Arrival], postings: Mapping[int, Sequence[int]], members: Mapping[int, Member],
           settings: StorySettings) -> list[int]:
    """The story id of each arrival, in order; each arrival is a candidate for the ones after it."""
    lists = {k: list(v) for k, v in postings.items()}
    known = dict(members)
    story_of = {m.article_id: m.story_id for m in known.values()}
    out: list[int] = []
    for a in arrivals:
        story = _best(a, lists, known, story_of, settings)
        sid = a.article_id if story is None else story
        out.append(sid)
        known[a.article_id] = Member(a.article_id, sid, a.seen_at, a.published_at, len(a.sketch.body),
                                     len(a.sketch.lead), a.sketch.short)
        story_of[a.article_id] = sid
        for key in (*a.sketch.body, *a.sketch.lead):
            lists.setdefault(key, []).insert(0, a.article_id)
    return out

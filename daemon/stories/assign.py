"""Which story an arriving article joins: the pure decision, given what the store found for its keys.

The store hands over, for every key of the arriving articles, the articles seen within the window that
have that key (``postings``, most recent first, at most ``POSTINGS`` of them) and a few facts about each
of those articles (``Member``). Everything else is decided here, in arrival order, so that two copies in
the same batch find each other just as a copy finds one stored a day ago.

* A key carried by articles of ``COMMON`` or more different stories in the window is a formula, not a
  report ("quán triệt, triển khai thực hiện Nghị quyết", a list of attendees' titles): it is left out on
  both sides. A key shared by forty copies of one report is not: what is counted is stories, not articles.
* Body rule: the share of the shorter article's sampled shingles (formulas left out) that the two have
  in common, at least ``threshold``, with at least ``MIN_SHARED`` shingles in common; and the same
  figures (``_agree``: dates, counts, amounts), which is what two reports written from one set of
  formulas differ in.
* Lead rule: when either article is a title-and-lead item (``Sketch.short``), the same share over the
  keys of their titles and leads, and only within ``lead_window``.
* Within the window: the member was first seen at most ``window`` before the arrival, and when both
  carry a publication date (not a fallback), those are at most ``window`` apart too (an archive imported
  in one day must not glue last year's report to this year's).

The best-scoring member's story wins; none means a new story, whose id is the arriving article's id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, repeat

from daemon.models import StorySettings
from daemon.stories.sketch import Sketch

POSTINGS = 48  # most recent articles read per key: bounds a look-up however many articles are stored
COMMON = 16  # a key in this many different stories within the window is a formula
FIGURES = 0.6  # share of the shorter list of figures two articles must have in common (when both have one)
SAME_FIGURES = 1.0  # ... and with this share (and 3 or more), fewer shingles suffice:
LOOSE = 0.6  # the threshold times this
STRICT = 0.8  # the share of shingles asked when there are no figures to compare
MIN_SHARED = 2  # body shingles (sampled) two articles must share, whatever the share
MIN_SHARED_LEAD = 2  # title and lead shingles two articles must share under the lead rule (or all of
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
    numbers: frozenset[int] = frozenset()


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


def _agree(score: float, a: Arrival, m: Member, threshold: float) -> bool:
    """Near-copy: enough shingles in common, and the same figures (dates, counts, amounts).

    Figures are the stronger evidence: the same three or more figures and nothing else let a heavily
    edited copy in with fewer shingles in common (``threshold`` × ``LOOSE``); without figures on both
    sides to compare, a higher share of shingles is asked (``STRICT``).
    """
    if not (a.sketch.numbers and m.numbers):
        return score >= max(threshold, STRICT)
    shared = len(m.numbers.intersection(a.sketch.numbers))
    fewer = min(len(a.sketch.numbers), len(m.numbers))
    figures = shared / fewer
    if fewer == 1:  # one date in a lead: some evidence, not enough alone
        return figures == 1 and score >= max(threshold, STRICT)
    if figures >= FIGURES and shared >= 2 and score >= threshold:
        return True
    return shared >= 3 and figures >= SAME_FIGURES and score >= threshold * LOOSE


def _shares(keys: Sequence[int], postings: Mapping[int, list[int]], common: set[int]
            ) -> tuple[dict[int, int], int]:
    """Per candidate article, how many of ``keys`` it has; and how many of ``keys`` are not formulas.

    Counted by ``Counter`` over the chained lists: the loop over every posting runs in C (a bulk import's
    arrivals meet up to ``POSTINGS`` articles per key, thousands of postings each).
    """
    rare = [key for key in keys if key not in common]
    return Counter(chain.from_iterable(map(postings.get, rare, repeat(())))), len(rare)


def _best(a: Arrival, postings: Mapping[int, list[int]], members: Mapping[int, Member],
          common: set[int], settings: StorySettings) -> int | None:
    best: tuple[float, int] | None = None  # (score, -member id): the higher score, then the earlier member
    body, rare = _shares(a.sketch.body, postings, common)
    # The member's formulas are not counted either: of its keys, about the share of the arrival's that are
    # not formulas (two articles on one topic carry about as much of its formulas). Without figures to
    # agree on, that estimate is not trusted.
    keep = rare / len(a.sketch.body) if a.sketch.body and a.sketch.numbers else 1.0
    for aid, n in body.items():
        m = members.get(aid)
        if m is None or n < MIN_SHARED or not _near(a, m, settings.window):
            continue
        score = min(1.0, n / max(1.0, min(rare, m.body_n * keep)))
        if _agree(score, a, m, settings.threshold) and (best is None or (score, -aid) > best):
            best = (score, -aid)
    lead, rare_lead = _shares(a.sketch.lead, postings, common)
    keep = 1.0
    for aid, n in lead.items():
        m = members.get(aid)
        if m is None:
            continue
        shorter = max(1.0, min(rare_lead, m.lead_n * keep))
        if not (a.sketch.short or m.short) or n < min(MIN_SHARED_LEAD, shorter) \
                or not _near(a, m, settings.lead_window):
            continue
        score = min(1.0, n / shorter)
        if _agree(score, a, m, settings.threshold) and (best is None or (score, -aid) > best):
            best = (score, -aid)
    return None if best is None else members[-best[1]].story_id


def assign(arrivals: Sequence[Arrival], postings: Mapping[int, Sequence[int]], members: Mapping[int, Member],
           settings: StorySettings, spread: Mapping[int, int] | None = None) -> list[int]:
    """The story id of each arrival, in order; each arrival is a candidate for the ones after it.

    ``spread``: key -> in how many stories the store found it (at least ``COMMON``: a formula, and its
    articles are not passed); without it, counted from the members.

    A key's list of articles is kept to its ``POSTINGS`` most recent here too, so that a bulk import
    (500 articles a batch) decides as a poll of a few articles does, and at the same bounded cost: without
    the bound, a key carried by hundreds of articles of one story made each arrival count them all
    (measured: 1.7 ms an article in a 20,000-file import, most of the single writer's time).
    """
    lists = {k: list(v) for k, v in postings.items()}
    known = dict(members)
    count = dict(spread) if spread is not None else {k: len({known[i].story_id for i in v}) for k, v in lists.items()}
    formulas = {k for k, n in count.items() if n >= COMMON}
    added: dict[int, set[int]] = {}  # key -> stories this batch added it to
    out: list[int] = []
    for a in arrivals:
        story = _best(a, lists, known, formulas, settings)
        sid = a.article_id if story is None else story
        out.append(sid)
        known[a.article_id] = Member(a.article_id, sid, a.seen_at, a.published_at, len(a.sketch.body),
                                     len(a.sketch.lead), a.sketch.short, frozenset(a.sketch.numbers))
        for key in (*a.sketch.body, *a.sketch.lead):
            if key in formulas:
                continue
            found = lists.setdefault(key, [])
            found.insert(0, a.article_id)
            if len(found) > POSTINGS:  # as the store reads it: the most recent POSTINGS only
                found.pop()
            mine = added.setdefault(key, set())
            if sid not in mine:
                mine.add(sid)
                if count.get(key, 0) + len(mine) >= COMMON:
                    formulas.add(key)
    return out

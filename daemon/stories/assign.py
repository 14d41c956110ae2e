"""Which story an arriving article joins: the pure decision, given the window's recent members.

The store hands over its ``Window`` (``daemon.stories.window``: the members first seen within reach,
and for each shingle key the members that have it). Everything else is decided here, in
arrival order, and each arrival joins the window at once, so that two copies in the same batch find
each other just as a copy finds one stored a day ago.

* Candidates: the members that share keys with the arrival, formulas aside (a key found in many
  different stories); only those sharing ``MIN_SHARED`` or more are looked at (picked in C loops).
* Body rule: the share of the shorter article's sampled shingles that the two have in common, at least
  ``threshold``, with at least ``MIN_SHARED`` shingles in common; and the same figures (``_agree``:
  dates, counts, amounts), which is what two reports written from one set of formulas differ in.
* Lead rule: when either article is a title-and-lead item (``Sketch.short``), the same share over the
  keys of their titles and leads, and only within ``lead_window``.
* Within the window: the member was first seen at most ``window`` before the arrival, and when both
  carry a publication date (not a fallback), those are at most ``window`` apart too (an archive imported
  in one day must not glue last year's report to this year's).
* **Merging.** When an arrival is a near-copy of members of two stories or more, those are one report
  that was split: two heavily edited copies that did not match each other arrived first. The arrival
  joins the earliest of them, and the later ones are merged into it (``Decision.merges``).

No member matching means a new story, whose id is the arriving article's id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import compress, repeat
from operator import le, mul, truediv

from daemon.models import StorySettings
from daemon.stories.sketch import Sketch
from daemon.stories.window import Member, Window

FIGURES = 0.6  # share of the shorter list of figures two articles must have in common (when both have one)
SAME_FIGURES = 1.0  # ... and with this share (and 3 or more), fewer shingles suffice:
LOOSE = 0.6  # the threshold times this
STRICT = 0.8  # the share of shingles asked when there are no figures to compare
MIN_SHARED = 2  # body shingles (sampled) two articles must share, whatever the share
MIN_SHARED_LEAD = 2  # title and lead shingles two articles must share under the lead rule (or all of
# the shorter lead's, when it has only one: a feed item whose description repeats its title)


@dataclass(frozen=True, slots=True)
class Arrival:
    article_id: int
    sketch: Sketch
    seen_at: float  # epoch seconds
    published_at: float | None


@dataclass(slots=True)
class Decision:
    """Each arrival's story (in order), and the stories merged into others (story id -> into id)."""

    stories: list[int] = field(default_factory=list)
    merges: dict[int, int] = field(default_factory=dict)


def _near(a: Arrival, m: Member, window: float) -> bool:
    if a.seen_at - m.seen_at > window:
        return False
    if a.published_at is not None and m.published_at is not None:
        return abs(a.published_at - m.published_at) <= window
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


def _matching(a: Arrival, window: Window, settings: StorySettings) -> tuple[set[int], list[int], list[int]]:
    """The stories with a member that the arrival is a near-copy of; and the arrival's body and lead
    keys that are not formulas.

    Which member of a story matches best does not matter (the arrival joins the earliest story, and the
    others merge into it): once a story is found, its other members are skipped.
    """
    rare = window.rare(a.sketch.body)
    # The member's formulas are not counted either: of its keys, about the share of the arrival's that are
    # not formulas (two articles on one topic carry about as much of its formulas). Without figures to
    # agree on, that estimate is not trusted.
    keep = len(rare) / len(a.sketch.body) if a.sketch.body and a.sketch.numbers else 1.0
    found: set[int] = set()
    members, threshold, loose = window.members, settings.threshold, settings.threshold * LOOSE
    shared = window.shared(rare)
    # The share of the shorter sketch in common, for every candidate sharing MIN_SHARED keys or more, in C
    # loops: most candidates share a few formula-like keys and score far below ``loose``.
    candidates = list(compress(shared, map(le, repeat(MIN_SHARED), shared.values())))
    sizes = map(mul, map(window.sizes.__getitem__, candidates), repeat(keep))
    scores = list(map(truediv, map(shared.__getitem__, candidates),
                      map(max, repeat(1.0), map(min, repeat(float(len(rare))), sizes))))
    for aid, share in zip(compress(candidates, map(le, repeat(loose), scores)), filter(partial(le, loose), scores),
                          strict=True):
        m = members[aid]
        if m.story_id in found:
            continue
        if _near(a, m, settings.window) and _agree(min(1.0, share), a, m, threshold):
            found.add(m.story_id)
    lead = window.rare(a.sketch.lead)
    for aid, n in window.shared(lead, short_only=not a.sketch.short).items():
        m = members[aid]
        if m.story_id in found:
            continue
        shorter = max(1, min(len(lead), len(m.lead)))
        score = min(1.0, n / shorter)
        if n >= min(MIN_SHARED_LEAD, shorter) and score >= loose and _near(a, m, settings.lead_window) \
                and _agree(score, a, m, threshold):
            found.add(m.story_id)
    return found, rare, lead


def assign(arrivals: Sequence[Arrival], window: Window, settings: StorySettings) -> Decision:
    """The story of each arrival, in order; each arrival joins ``window`` as a candidate for the next."""
    out = Decision()
    for a in arrivals:
        found, rare, lead = _matching(a, window, settings)
        sid = a.article_id
        if found:
            sid = min(found)  # the earliest story: ids are first articles' ids, and those grow with time
            for later in found:
                if later != sid:
                    window.merge(later, sid)
                    out.merges[later] = sid
            # an earlier merge of this batch may point to a story merged since: follow to the end
            for story, into in out.merges.items():
                if into in out.merges:
                    out.merges[story] = out.merges[into]
        out.stories.append(sid)
        window.add(Member.of(a.article_id, sid, a.seen_at, a.published_at, a.sketch), (rare, lead))
    out.stories = [_final(s, out.merges) for s in out.stories]
    return out


def _final(story: int, merges: dict[int, int]) -> int:
    while story in merges:
        story = merges[story]
    return story

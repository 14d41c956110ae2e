"""Which story an arriving article joins: the pure decision, given the window's recent members.

The store hands over its ``Window`` (``daemon.stories.window``: the members first seen within reach,
and for each shingle key the members that have it). Everything else is decided here, in
arrival order, and each arrival joins the window at once, so that two copies in the same batch find
each other just as a copy finds one stored a day ago.

* Candidates: the members that share keys with the arrival, formulas aside (a key found in many
  different stories); only those sharing ``MIN_SHARED`` or more, and whose share passes the threshold
  times ``LOOSE``, are looked at: counted and scored for ``CHUNK`` arrivals at once in numpy
  (``Window.search``), which cost 100 µs an arrival in a loop per arrival.
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

from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from math import nan as NAN
from typing import TYPE_CHECKING

from daemon.models import StorySettings
from daemon.stories.sketch import Sketch
from daemon.stories.window import Keys, Member, Window

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from daemon.stories.postings import Floats, Ints

FIGURES = 0.6  # share of the shorter list of figures two articles must have in common (when both have one)
SAME_FIGURES = 1.0  # ... and with this share (and 3 or more), fewer shingles suffice:
LOOSE = 0.6  # the threshold times this
STRICT = 0.8  # the share of shingles asked when there are no figures to compare
MIN_SHARED = 2  # body shingles (sampled) two articles must share, whatever the share
MIN_SHARED_LEAD = 2  # title and lead shingles two articles must share under the lead rule (or all of
# the shorter lead's, when it has only one: a feed item whose description repeats its title)
CHUNK = 100  # arrivals searched at once (a feed poll's worth): the formulas are those of the chunk's start


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


def _near(owner: Ints, seq: Ints, times: tuple[Floats, Floats], window: Window, reach: float) -> npt.NDArray[np.bool_]:
    """Which (arrival, member) pairs are within ``reach``: the member first seen at most ``reach`` before
    the arrival, and their publication dates at most ``reach`` apart when both are known. In numpy, before
    any pair reaches Python: in an archive imported at once, most pairs that pass on shingles are reports
    published months apart that share sentences (``times``: the arrivals' first-seen and published times)."""
    import numpy as np  # noqa: PLC0415

    seen, published = times
    m_seen, m_published = window.times_of(seq, seen, published)
    a_published = published[owner]
    unknown = np.isnan(a_published) | np.isnan(m_published)
    return (seen[owner] - m_seen <= reach) & (unknown | (np.abs(a_published - m_published) <= reach))


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


def _survivors(arrivals: Sequence[Arrival], bodies: Sequence[Keys], leads: Sequence[Keys], window: Window,
               settings: StorySettings) -> tuple[list[list[tuple[int, float]]], list[list[tuple[int, float]]]]:
    """Per arrival, the members (article id, score) within reach whose shingles pass the loose threshold:
    by the body rule, and by the lead rule. Counted and scored for the whole batch in numpy
    (``Window.search``): most candidates share a few formula-like keys and score far below it; the few
    left are checked in Python.
    """
    import numpy as np  # noqa: PLC0415

    n = len(arrivals)
    loose = settings.threshold * LOOSE
    times = (np.fromiter((a.seen_at for a in arrivals), np.float64, n),
             np.fromiter((NAN if a.published_at is None else a.published_at for a in arrivals), np.float64, n))
    body_sizes = [len(a.sketch.body) for a in arrivals]
    lead_sizes = [len(a.sketch.lead) for a in arrivals]
    batch_ids = [a.article_id for a in arrivals]
    everywhere = [body + lead for body, lead in zip(bodies, leads, strict=True)]  # what each will be listed under

    # One search of the index for the bodies' keys and the title-and-lead items' leads (queries n + j: the
    # lead of the j-th of those); one of the title-and-lead members' leads for the full articles' leads.
    short = [i for i, a in enumerate(arrivals) if a.sketch.short]
    full = [i for i, a in enumerate(arrivals) if not a.sketch.short]
    query, seq, shared = window.search([*range(n), *short], [*bodies, *(leads[i] for i in short)], everywhere)
    in_lead = query >= n
    lead_owner = np.asarray(short, np.int64)[query[in_lead] - n] if short else query[in_lead]
    lead_seq, lead_shared = seq[in_lead], shared[in_lead]
    owner, seq, shared = query[~in_lead], seq[~in_lead], shared[~in_lead]

    # Body rule: the share of the shorter sketch in common. The member's formulas are not counted either:
    # of its keys, about the share of the arrival's that are not formulas (two articles on one topic carry
    # about as much of its formulas). Without figures to agree on, that estimate is not trusted.
    rare = np.asarray([len(b) for b in bodies], np.float64)
    keep = np.asarray([len(b) / len(a.sketch.body) if a.sketch.body and a.sketch.numbers else 1.0
                       for a, b in zip(arrivals, bodies, strict=True)], np.float64)
    enough = shared >= MIN_SHARED
    owner, seq, shared = owner[enough], seq[enough], shared[enough]
    sizes = window.sizes_of(seq, body_sizes) * keep[owner]
    score = np.minimum(1.0, shared / np.maximum(1.0, np.minimum(rare[owner], sizes)))
    passes = score >= loose
    passes[passes] = _near(owner[passes], seq[passes], times, window, settings.window)
    body = _grouped(n, owner[passes], seq[passes], score[passes], window=window, batch_ids=batch_ids)

    # Lead rule: title and lead against every member's lead (a title-and-lead item, above), or against
    # title-and-lead members' (a full article).
    short_leads = [lead if a.sketch.short else array("q") for a, lead in zip(arrivals, leads, strict=True)]
    query, seq, shared = window.search(full, [leads[i] for i in full], short_leads, short_only=True)
    full_owner = np.asarray(full, np.int64)[query] if full else query
    owner = np.concatenate((lead_owner, full_owner))
    seq, shared = np.concatenate((lead_seq, seq)), np.concatenate((lead_shared, shared))
    lengths = np.asarray([len(lead) for lead in leads], np.float64)
    shorter = np.maximum(1.0, np.minimum(lengths[owner], window.sizes_of(seq, lead_sizes, lead=True)))
    score = np.minimum(1.0, shared / shorter)
    passes = (shared >= np.minimum(MIN_SHARED_LEAD, shorter)) & (score >= loose)
    passes[passes] = _near(owner[passes], seq[passes], times, window, settings.lead_window)
    lead = _grouped(n, owner[passes], seq[passes], score[passes], window=window, batch_ids=batch_ids)
    return body, lead


def _grouped(n: int, owner: Ints, seq: Ints, score: Floats, *, window: Window,
             batch_ids: Sequence[int]) -> list[list[tuple[int, float]]]:
    """Per arrival (of ``n``), its members that passed, as (article id, score)."""
    out: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    ids = window.ids_of(seq, batch_ids)
    for i, aid, share in zip(owner.tolist(), ids, score.tolist(), strict=True):
        out[i].append((aid, share))
    return out


def _matching(a: Arrival, body: list[tuple[int, float]], lead: list[tuple[int, float]], window: Window,
              settings: StorySettings) -> set[int]:
    """The stories with a member that the arrival is a near-copy of, of the members its shingles passed
    (within reach: ``_near``).

    Which member of a story matches best does not matter (the arrival joins the earliest story, and the
    others merge into it): once a story is found, its other members are skipped.
    """
    found: set[int] = set()
    members, threshold = window.members, settings.threshold
    for passed in (body, lead):
        for aid, score in passed:
            m = members.get(aid)
            if m is None or m.story_id in found:
                continue
            if _agree(score, a, m, threshold):
                found.add(m.story_id)
    return found


def assign(arrivals: Sequence[Arrival], window: Window, settings: StorySettings) -> Decision:
    """The story of each arrival, in order; each arrival joins ``window`` as a candidate for the next.

    Arrivals are taken ``CHUNK`` at a time: a chunk is searched at once, then its arrivals decided one by
    one (each joins the window before the next is decided), then indexed; so the formulas a chunk leaves
    out are those of its start.
    """
    out = Decision()
    for start in range(0, len(arrivals), CHUNK):
        chunk = arrivals[start : start + CHUNK]
        bodies = [window.rare(a.sketch.body) for a in chunk]
        leads = [window.rare(a.sketch.lead) for a in chunk]
        by_body, by_lead = _survivors(chunk, bodies, leads, window, settings)
        for i, a in enumerate(chunk):
            found = _matching(a, by_body[i], by_lead[i], window, settings)
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
            window.join(Member.of(a.article_id, sid, a.seen_at, a.published_at, a.sketch), (bodies[i], leads[i]))
        window.index_joined()
    out.stories = [_final(s, out.merges) for s in out.stories]
    return out


def _final(story: int, merges: dict[int, int]) -> int:
    while story in merges:
        story = merges[story]
    return story

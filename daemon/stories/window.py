"""The articles a new arrival may join: the window's recent members, held in memory by the store.

Looking candidates up in SQLite cost more than the rest of an ingest together (about 60 keys an article,
each an indexed range of up to 48 rows, then the candidates' facts, then writing the keys: ≈ 450 µs an
article). A window holds, per member, its story, times, figures and keys (compact arrays), and an index
from each key to the members that have it (the most recent ``POSTINGS``: ``daemon.stories.postings``,
sorted arrays of 16 bytes a key). How many keys an arrival shares with each member is counted in one
look-up of all its keys.

It is bounded by time (members first seen more than the reach ago leave it) and by count
(``CAPACITY`` members: a bulk import of hundreds of thousands of articles in one day keeps the most
recent ones). Nothing here touches SQLite: ``daemon.store.stories`` builds it from the articles' text
on the first ingest after a start, keeps it in step with other processes' writes, and drops it when a
transaction fails.

A key found in ``COMMON`` or more different stories of the window is a *formula* ("quán triệt, triển
khai thực hiện Nghị quyết", attendees' titles): it finds no candidates and is left out of comparisons.
Forty copies of one report are one story, so a report's own keys never count as formulas. What is
counted is the stories a key was brought by, in a fixed array of 16-bit counters indexed by the key's
low bits (``SLOTS``, 4 MB): the first article of each story adds its keys, leaving the window takes
them off, and a key that takes its counter to ``COMMON`` is a formula from then on (a set: checking
the keys of an arrival is one C loop). A rare key sharing its counter with a formula by chance would
be one only if it came after (with 2^21 counters, about one in a thousand).
"""

from __future__ import annotations

from array import array
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, filterfalse
from typing import TYPE_CHECKING

from daemon.models import Sketch

if TYPE_CHECKING:
    from daemon.stories.postings import Postings

POSTINGS = 48  # most recent members listed per key: bounds a look-up however many are stored
COMMON = 16  # a key in this many different stories of the window is a formula
CAPACITY = 30_000  # members held at most (≈ 1.5 KB each with keys all new, measured: 45 MB at most)
SLOTS = 1 << 21  # counters of stories per key
_SLOT = SLOTS - 1


@dataclass(slots=True)
class Member:
    """An article already assigned to a story, as a candidate for the arrivals' stories."""

    article_id: int
    story_id: int
    seen_at: float  # epoch seconds when newswatch first saw it
    published_at: float | None  # None when unknown or a fallback date
    body: array[int]
    lead: array[int]
    short: bool
    numbers: frozenset[int]
    counted: bool  # its keys are in the counters (it started its story)

    @classmethod
    def of(cls, article_id: int, story_id: int, seen_at: float, published_at: float | None, s: Sketch) -> Member:
        return cls(article_id, story_id, seen_at, published_at, array("q", s.body), array("q", s.lead), s.short,
                   frozenset(s.numbers), article_id == story_id)


class Window:
    """Recent members by id, the members of each key, and how many stories brought each key."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        from daemon.stories.postings import Postings  # noqa: PLC0415 - numpy, for what builds a window only

        self.capacity = capacity
        self.members: dict[int, Member] = {}
        self.order: deque[int] = deque()  # member ids, first seen first (ids grow: they join in id order)
        self.index: Postings = Postings(POSTINGS)  # key -> member ids, oldest first
        # the lead keys of title-and-lead members again: a full article compares its lead with those only
        self.short_leads: Postings = Postings(POSTINGS)
        self.counts = array("H", bytes(2 * SLOTS))  # stories per key (by its low bits)
        self.formulas: set[int] = set()  # the keys that took their counter to COMMON or past it
        self.stories: dict[int, list[int]] = {}  # story id -> its members in the window
        self.sizes: dict[int, int] = {}  # member id -> how many body keys it has (scores in C loops: assign)
        self.high = 0  # the highest article id ever added (what a rebuild or a sync goes on from)

    def __len__(self) -> int:
        return len(self.members)

    def add(self, m: Member, rare: tuple[list[int], list[int]] | None = None) -> None:
        """A member joins; its keys that are formulas already are not listed (no look-up reads them).

        ``rare``: its body's and lead's keys that are not formulas, when the caller has them already.
        """
        aid = m.article_id
        self.members[aid] = m
        self.sizes[aid] = len(m.body)
        self.order.append(aid)
        self.stories.setdefault(m.story_id, []).append(aid)
        self.high = max(self.high, aid)
        body, lead = rare if rare is not None else (self.rare(m.body), self.rare(m.lead))
        full = [self.index] if self.index.add(body + lead, aid) else []
        if m.short and self.short_leads.add(lead, aid):
            full.append(self.short_leads)
        if m.counted:
            counts, formulas = self.counts, self.formulas
            for key in chain(m.body, m.lead):
                slot = key & _SLOT
                n = counts[slot] + 1
                if n <= 0xFFFF:
                    counts[slot] = n
                if n >= COMMON:
                    formulas.add(key)
        while len(self.order) > self.capacity:
            self._drop(self.order[0])
        for postings in full:  # after the drops: what left the window is not merged in
            postings.merge(self.order[0])

    def evict(self, before: float) -> None:
        """Members first seen before ``before`` leave (no arrival can reach them any more)."""
        while self.order and self.members[self.order[0]].seen_at < before:
            self._drop(self.order[0])

    def _drop(self, article_id: int) -> None:
        self.order.popleft()
        m = self.members.pop(article_id)
        del self.sizes[article_id]
        mates = self.stories.get(m.story_id)
        if mates is not None:
            mates.remove(article_id)
            if not mates:
                del self.stories[m.story_id]
        if m.counted:  # (its postings stay until the index's next merge: look-ups skip members gone)
            counts, formulas = self.counts, self.formulas
            for key in chain(m.body, m.lead):
                slot = key & _SLOT
                n = counts[slot]
                if n:
                    counts[slot] = n = n - 1
                if n < COMMON and formulas:
                    formulas.discard(key)

    def rare(self, keys: Sequence[int]) -> list[int]:
        """The keys that are not formulas (a C loop)."""
        return list(filterfalse(self.formulas.__contains__, keys))

    def shared(self, keys: Sequence[int], *, short_only: bool = False) -> Counter[int]:
        """Member id -> how many of ``keys`` it has (as far as the index's lists of ``POSTINGS`` tell).

        ``short_only``: lead keys, counted among title-and-lead members only.
        """
        return (self.short_leads if short_only else self.index).count(keys, self.members)

    def merge(self, story: int, into: int) -> None:
        """``story``'s members now belong to ``into``."""
        for aid in self.stories.pop(story, []):
            self.members[aid].story_id = into
            self.stories.setdefault(into, []).append(aid)

    def restory(self, story_of: dict[int, int]) -> None:
        """Members' stories as the database has them now (after another process merged some)."""
        for aid, sid in story_of.items():
            m = self.members.get(aid)
            if m is not None and m.story_id != sid:
                mates = self.stories.get(m.story_id)
                if mates is not None:
                    mates.remove(aid)
                    if not mates:
                        del self.stories[m.story_id]
                m.story_id = sid
                self.stories.setdefault(sid, []).append(aid)


"""The articles a new arrival may join: the window's recent members, held in memory by the store.

Looking candidates up in SQLite cost more than the rest of an ingest together (about 60 keys an article,
each an indexed range of up to 48 rows, then the candidates' facts, then writing the keys: ≈ 450 µs an
article). A window holds, per member, its story, times, figures and keys (compact arrays), and an index
from each key to the members that have it (the most recent ``POSTINGS``: ``daemon.stories.postings``,
sorted numpy runs of 16 bytes a key). How many keys each arrival of a batch shares with each member, of
the window or of the batch's earlier arrivals, is counted for the whole batch at once (``search``): a
few dozen numpy calls, where a look-up per arrival cost 45 µs.

Members are numbered as they join (``Member.seq``); the index lists those numbers, and the lengths of
each member's keys are kept by number in arrays, so that the arrivals' scores are computed in numpy too.
An arrival *joins* at once (its story is known to the arrivals after it, and so are its keys, through
``search``'s ``newcomers``), and is *indexed* with the rest of its batch (``index_joined``): its postings,
its counters, and the members that its batch pushes out.

It is bounded by time (members first seen more than the reach ago leave it) and by count
(``CAPACITY`` members: a bulk import of hundreds of thousands of articles in one day keeps the most
recent ones). Nothing here touches SQLite: ``daemon.store.stories`` builds it from the articles' text
on the first ingest after a start, keeps it in step with other processes' writes, and drops it when a
transaction fails.

A key found in ``COMMON`` or more different stories of the window is a *formula* ("quán triệt, triển
khai thực hiện Nghị quyết", attendees' titles): it finds no candidates and is left out of comparisons.
Forty copies of one report are one story, so a report's own keys never count as formulas. What is
counted is the stories a key was brought by, in a fixed array of counters indexed by the key's low bits
(``SLOTS``, 8 MB): the first article of each story adds its keys, leaving the window takes them off,
and a key that takes its counter to ``COMMON`` is a formula from then on (a set: checking the keys of
an arrival is one C loop). Counters change when a batch is indexed, so within a batch (at most
``daemon.stories.assign.CHUNK`` arrivals) the formulas are those of its start. A rare key sharing its
counter with a formula by chance would be one only if it came after (with 2^21 counters, about one in a
thousand).
"""

from __future__ import annotations

from array import array
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, filterfalse
from math import nan as NAN
from typing import TYPE_CHECKING, Any, TypeAlias

from daemon.models import Sketch

if TYPE_CHECKING:
    from daemon.stories.postings import Floats, Ints, Postings

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
    seq: int = -1  # its number in the window, from when it joined

    @classmethod
    def of(cls, article_id: int, story_id: int, seen_at: float, published_at: float | None, s: Sketch) -> Member:
        return cls(article_id, story_id, seen_at, published_at, array("q", s.body), array("q", s.lead), s.short,
                   frozenset(s.numbers), article_id == story_id)


Hits = tuple["Ints", "Ints", "Ints"]  # (arrival, member number, keys in common), sorted by arrival
Keys: TypeAlias = "array[int]"  # of "q": shingle keys as numpy reads them, without a conversion each


def flat(parts: Iterable[Sequence[int]]) -> Ints:
    """The keys of ``parts`` one after another, as int64 (each array of keys copied whole, not key by key)."""
    import numpy as np  # noqa: PLC0415

    out = array("q")
    for part in parts:
        out.extend(part)
    keys: Ints = np.frombuffer(out, np.int64)
    return keys


def labelled(parts: Sequence[Sequence[int]]) -> tuple[Ints, Ints]:
    """``flat(parts)``, and beside each key the index of the part it came from."""
    import numpy as np  # noqa: PLC0415

    sizes = np.fromiter(map(len, parts), np.int64, len(parts))
    return flat(parts), np.repeat(np.arange(len(parts)), sizes)


def _numbered(listed: Sequence[tuple[Member, Keys]]) -> tuple[Ints, Ints]:
    """Postings: the keys each member is listed under, and beside each key the member's number."""
    import numpy as np  # noqa: PLC0415

    keys, at = labelled([keys for _, keys in listed])
    return keys, np.fromiter((m.seq for m, _ in listed), np.int64, len(listed))[at]


class Window:
    """Recent members by id, the members of each key, and how many stories brought each key."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        import numpy as np  # noqa: PLC0415 - numpy, for what builds a window only

        from daemon.stories.postings import Postings  # noqa: PLC0415

        self.capacity = capacity
        self.members: dict[int, Member] = {}
        self.order: deque[int] = deque()  # member ids, first joined first
        self.index: Postings = Postings(POSTINGS)  # key -> member numbers, oldest first
        # the lead keys of title-and-lead members again: a full article compares its lead with those only
        self.short_leads: Postings = Postings(POSTINGS)
        self.counts = np.zeros(SLOTS, np.int32)  # stories per key (by its low bits)
        self.formulas: set[int] = set()  # the keys that took their counter to COMMON or past it
        self.stories: dict[int, list[int]] = {}  # story id -> its members in the window
        self.high = 0  # the highest article id ever added (what a rebuild or a sync goes on from)
        self.seq = 0  # the next member's number
        # by member number, from ``base``: its article id, how many body and lead keys it has, when it was
        # first seen and published (NaN: unknown)
        self.base = 0
        self.ids = array("q")
        self.body_sizes = array("q")
        self.lead_sizes = array("q")
        self.seen = array("d")
        self.published = array("d")
        self._joined: list[tuple[Member, Keys, Keys]] = []  # joined, not indexed yet
        self._compacted = 0  # the oldest number when the index was last compacted

    def __len__(self) -> int:
        return len(self.members)

    @property
    def oldest(self) -> int:
        """The number of the oldest member still in the window (look-ups leave out those below)."""
        return self.members[self.order[0]].seq if self.order else self.seq

    def add(self, m: Member, rare: tuple[Keys, Keys] | None = None) -> None:
        """A member joins and is indexed at once (``join`` and ``index_joined``)."""
        self.join(m, rare)
        self.index_joined()

    def join(self, m: Member, rare: tuple[Keys, Keys] | None = None) -> None:
        """A member joins: the arrivals after it see its story; its keys are indexed by ``index_joined``.

        ``rare``: its body's and lead's keys that are not formulas (those listed), when the caller has them.
        """
        aid = m.article_id
        m.seq = self.seq
        self.seq += 1
        self.members[aid] = m
        self.order.append(aid)
        self.stories.setdefault(m.story_id, []).append(aid)
        self.high = max(self.high, aid)
        self.ids.append(aid)
        self.body_sizes.append(len(m.body))
        self.lead_sizes.append(len(m.lead))
        self.seen.append(m.seen_at)
        self.published.append(NAN if m.published_at is None else m.published_at)
        body, lead = rare if rare is not None else (self.rare(m.body), self.rare(m.lead))
        self._joined.append((m, body, lead))

    def index_joined(self) -> None:
        """The joined members' postings and counters; then the members over ``capacity`` leave."""
        joined, self._joined = self._joined, []
        if not joined:
            return
        listed = _numbered([(m, body + lead) for m, body, lead in joined])
        short = [(m, lead) for m, _, lead in joined if m.short and lead]
        counted = [m for m, _, _ in joined if m.counted]
        if counted:
            self._count(counted, 1)
        while len(self.order) > self.capacity:
            self._drop(len(self.order) - self.capacity)
        oldest = self.oldest
        self.index.add(*listed, oldest)
        if short:
            self.short_leads.add(*_numbered(short), oldest)
        if oldest - self._compacted > self.capacity // 2:  # half the window has turned over since the last
            self.index.compact(oldest)
            self.short_leads.compact(oldest)
            self._compacted = oldest
            self._trim(oldest)

    def evict(self, before: float) -> None:
        """Members first seen before ``before`` leave (no arrival can reach them any more)."""
        self.index_joined()
        n = 0
        for aid in self.order:
            if self.members[aid].seen_at >= before:
                break
            n += 1
        if n:
            self._drop(n)

    def _drop(self, n: int) -> None:
        """The ``n`` oldest members leave (their postings stay until the index's next merge: look-ups skip
        members gone)."""
        gone = []
        for _ in range(n):
            m = self.members.pop(self.order.popleft())
            mates = self.stories.get(m.story_id)
            if mates is not None:
                mates.remove(m.article_id)
                if not mates:
                    del self.stories[m.story_id]
            if m.counted:
                gone.append(m)
        if gone:
            self._count(gone, -1)

    def _count(self, members: Sequence[Member], step: int) -> None:
        """Members that started their stories add their keys to the counters (1) or take them off (-1);
        the keys that reach ``COMMON`` become formulas, those that fall below it stop being ones."""
        import numpy as np  # noqa: PLC0415

        keys = flat(chain.from_iterable((m.body, m.lead) for m in members))
        slots = keys & _SLOT
        np.add.at(self.counts, slots, np.int32(step))  # a Python int step is 40x slower
        if step > 0:
            self.formulas.update(keys[self.counts[slots] >= COMMON].tolist())
        elif self.formulas:
            self.formulas.difference_update(keys[self.counts[slots] < COMMON].tolist())

    def _trim(self, oldest: int) -> None:
        """The per-number arrays from the oldest member on (the numbers before are never looked up again)."""
        cut = oldest - self.base
        if cut > len(self.ids) // 2:
            self.ids, self.body_sizes, self.lead_sizes = self.ids[cut:], self.body_sizes[cut:], self.lead_sizes[cut:]
            self.seen, self.published = self.seen[cut:], self.published[cut:]
            self.base = oldest

    def rare(self, keys: Sequence[int]) -> Keys:
        """The keys that are not formulas (a C loop), as an array: numpy reads it without converting."""
        return array("q", filterfalse(self.formulas.__contains__, keys))

    def search(self, places: Sequence[int], queries: Sequence[Keys], newcomers: Sequence[Keys],
               *, short_only: bool = False) -> Hits:
        """For each query (keys of an arrival of a batch, at ``places[i]`` in it): the members that list
        those keys, with how many; members of the window, and the batch's arrivals placed before it, which
        will be listed under ``newcomers`` (by place) and numbered from ``self.seq`` on. Returned as (query
        index, member number, keys in common), sorted by query.

        ``short_only``: counted among title-and-lead members only (``newcomers`` then gives the leads of the
        batch's title-and-lead items).
        """
        import numpy as np  # noqa: PLC0415

        from daemon.stories.postings import pair_counts  # noqa: PLC0415

        wanted, labels = labelled(queries)
        if not len(wanted):
            return wanted, wanted, wanted
        order = np.argsort(wanted)  # sorted, the binary searches are about 3x faster
        wanted, labels = wanted[order], labels[order]
        o1, s1 = (self.short_leads if short_only else self.index).find(wanted, labels)
        o2, s2 = self._among(newcomers, wanted, labels, np.asarray(places, np.int64))
        label, seq = np.concatenate((o1, o2)), np.concatenate((s1, s2))
        alive = seq >= self.oldest
        return pair_counts(label[alive], seq[alive])

    def _among(self, newcomers: Sequence[Keys], wanted: Ints, labels: Ints, places: Ints) -> tuple[Ints, Ints]:
        """(label, number) of the batch's arrivals placed before each query that will be listed under its
        keys: all of them (a batch is ``CHUNK`` arrivals at most, so a key lists at most that many)."""
        import numpy as np  # noqa: PLC0415

        from daemon.stories.postings import lookup, run_of  # noqa: PLC0415

        keys, place = labelled(newcomers)
        if not len(keys):
            return keys, keys
        order = np.argsort(keys, kind="stable")
        label, at, _ = lookup(run_of(keys[order], place[order]), wanted, labels, len(keys))
        before = at < places[label]
        return label[before], at[before] + self.seq

    def sizes_of(self, seqs: Ints, batch_sizes: Sequence[int], lead: bool = False) -> Ints:
        """The body's (or lead's) key counts of these members, by number: of the window's members, and of
        the batch's arrivals (numbered from ``self.seq`` on, in ``batch_sizes``)."""
        sizes: Ints = self._by_number(self.lead_sizes if lead else self.body_sizes, batch_sizes, seqs)
        return sizes

    def times_of(self, seqs: Ints, batch_seen: Floats, batch_published: Floats) -> tuple[Floats, Floats]:
        """When these members were first seen and published (NaN: unknown), by number (the batch's arrivals
        numbered from ``self.seq`` on)."""
        seen: Floats = self._by_number(self.seen, batch_seen, seqs)
        published: Floats = self._by_number(self.published, batch_published, seqs)
        return seen, published

    def ids_of(self, seqs: Ints, batch_ids: Sequence[int]) -> list[int]:
        """The article ids of these members, by number (the batch's arrivals numbered from ``self.seq`` on)."""
        out: list[int] = self._by_number(self.ids, batch_ids, seqs).tolist()
        return out

    def _by_number(self, column: array[Any], batch: Sequence[Any] | Floats, seqs: Ints) -> Any:
        """``column``'s values (from ``base`` on), then the batch's, at these members' numbers."""
        import numpy as np  # noqa: PLC0415

        kind = np.float64 if column.typecode == "d" else np.int64
        return np.concatenate((np.frombuffer(column, kind), np.asarray(batch, kind)))[seqs - self.base]

    def shared(self, keys: Sequence[int], *, short_only: bool = False) -> Counter[int]:
        """Member id -> how many of ``keys`` it has (as far as the index's lists of ``POSTINGS`` tell)."""
        self.index_joined()
        _, seqs, n = self.search([0], [array("q", keys)], [], short_only=short_only)
        return Counter(dict(zip(self.ids_of(seqs, []), n.tolist(), strict=True)))

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

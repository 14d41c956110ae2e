"""Key -> the window's members that have it, in about 16 bytes a key rather than 200.

A dict of lists costs about 200 bytes a key (an int object, a list object, the dict's slot), and a window
of 30,000 articles of new text holds some 1.7 million keys: 340 MB of the service's memory, measured.
Here most postings live in two numpy arrays sorted by key (the key, the member's id: 16 bytes), which a
look-up reads with one binary search per key for all the keys of an arrival at once. The postings added
since the last merge are kept in a small dict of lists, merged into the arrays when they reach
``MERGE_AT``: the two parts are sorted runs, so the merge is a linear stable sort.

Members that left the window are not taken out one by one: a look-up leaves them out (``alive``), and
the next merge drops every posting of an id below the oldest member still there. That relies on members
joining in increasing id order, which the window's callers keep (article ids grow with arrival).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Container, Sequence
from itertools import chain, filterfalse

import numpy as np
import numpy.typing as npt

MERGE_AT = 200_000  # postings in the dict before they are merged into the arrays (≈ 20 MB at most)

_Ints = npt.NDArray[np.int64]


class Postings:
    """The ``limit`` most recent members of each key (ids ascending within a key).

    The dict holds a key's one member as a plain int, a list only from the second: lists are objects the
    cyclic garbage collector walks, and a walk over a million of them at each collection was most of the
    cost of adding a member to the old index.
    """

    def __init__(self, limit: int, merge_at: int = MERGE_AT) -> None:
        self.limit = limit
        self.merge_at = merge_at
        self.keys: _Ints = np.empty(0, np.int64)
        self.ids: _Ints = np.empty(0, np.int64)
        self.fresh: dict[int, int | list[int]] = {}
        self.pending = 0  # postings in ``fresh``

    def __len__(self) -> int:
        return len(self.keys) + self.pending

    def add(self, keys: Sequence[int], member: int) -> bool:
        """``member`` listed under ``keys``; True when it is time to ``merge``."""
        fresh, limit = self.fresh, self.limit
        for key in keys:
            had = fresh.get(key)
            if had is None:
                fresh[key] = member
            elif isinstance(had, int):
                fresh[key] = [had, member]
            else:
                if len(had) >= limit:
                    del had[0]
                had.append(member)
        self.pending += len(keys)
        return self.pending >= self.merge_at

    def count(self, keys: Sequence[int], alive: Container[int]) -> Counter[int]:
        """Member id -> how many of ``keys`` list it (members not in ``alive`` left out).

        A key may list up to twice ``limit`` members between merges (the arrays' and the dict's).
        """
        hits: list[int] = []
        get = self.fresh.get
        for key in keys:
            had = get(key)
            if had is None:
                continue
            if isinstance(had, int):
                hits.append(had)
            else:
                hits += had
        if len(self.keys) and keys:
            wanted = np.fromiter(keys, np.int64, len(keys))
            hi = self.keys.searchsorted(wanted, "right")
            lo = np.maximum(self.keys.searchsorted(wanted, "left"), hi - self.limit)
            n = hi - lo
            total = int(n.sum())
            if total:
                ends = np.cumsum(n)
                at = np.repeat(lo - (ends - n), n) + np.arange(total)  # each key's range, one after another
                hits += self.ids[at].tolist()
        found = Counter(hits)
        for gone in list(filterfalse(alive.__contains__, found)):
            del found[gone]
        return found

    def merge(self, oldest: int) -> None:
        """The dict's postings into the arrays, without those of ids below ``oldest`` (they left)."""
        keys, ids = self.keys, self.ids
        if self.fresh:
            values = self.fresh.values()
            sizes = [1 if isinstance(v, int) else len(v) for v in values]
            fk = np.repeat(np.fromiter(self.fresh, np.int64, len(sizes)), sizes)
            fi = np.fromiter(chain.from_iterable((v,) if isinstance(v, int) else v for v in values), np.int64,
                             sum(sizes))
            by_key = np.argsort(fk, kind="stable")
            keys, ids = np.concatenate((keys, fk[by_key])), np.concatenate((ids, fi[by_key]))
        keep = ids >= oldest
        keys, ids = keys[keep], ids[keep]
        order = np.argsort(keys, kind="stable")  # two sorted runs, and the older ids first within a key
        keys, ids = keys[order], ids[order]
        if len(keys) > 1:
            starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
            ends = np.append(starts[1:], len(keys))
            recent = np.repeat(ends, ends - starts) - np.arange(len(keys)) <= self.limit
            if not recent.all():
                keys, ids = keys[recent], ids[recent]
        self.keys, self.ids = keys, ids
        self.fresh = {}
        self.pending = 0

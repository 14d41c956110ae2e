"""Key -> the window's members that have it, as a few sorted numpy runs: 16 bytes a key, looked up a batch
of arrivals at a time.

A dict of lists costs about 200 bytes a key (an int object, a list object, the dict's slot), and a window
of 30,000 articles of new text holds some 1.7 million keys: 340 MB of the service's memory, measured.
Here postings live in arrays sorted by key (each distinct key once, where its members start, and the
members' sequence numbers: 16 bytes a posting of a key found once, 4 for each further one), in runs:
each batch of members joining the window is sorted into a run of its own, and two runs are merged when
the newer is as long as the one before it (a binary counter: a posting is merged about log2(window /
batch) times, and there are as many runs at most). The arrivals of a batch are looked up together, with
one binary search per run for all their keys, sorted: a few dozen numpy calls a batch, not a Python
loop a key.

Members are numbered in the order they join (``seq``), so the postings of a key are in joining order
within a run, and those of a newer run come after. Members that left the window are not taken out one
by one: a look-up leaves out sequence numbers below the oldest member's, and merges (and ``compact``)
drop them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.signedinteger[Any]]  # int64, or int32 where a run keeps positions and member numbers
Floats = npt.NDArray[np.float64]
_EMPTY: Ints = np.empty(0, np.int64)


Run = tuple[Ints, Ints, Ints]  # keys (distinct, sorted); where each key's members start in the next (int32);
# the members' numbers (int32)


def lookup(run: Run, wanted: Ints, labels: Ints, limit: int | Ints) -> tuple[Ints, Ints, Ints]:
    """In one run: (label, seq) for each of the last ``limit`` members of each wanted key (a number, or one
    per wanted key), the label being the wanted key's; and how many each wanted key found. ``wanted``
    sorted is faster (numpy's binary search starts from the last answer)."""
    keys, starts, seqs = run
    found = np.zeros(len(wanted), np.int64)
    if not len(keys):
        return _EMPTY, _EMPTY, found
    at = np.minimum(keys.searchsorted(wanted), len(keys) - 1)
    hit = keys[at] == wanted
    at = at[hit]
    hi = starts[at + 1]
    lo = np.maximum(starts[at], hi - (limit if isinstance(limit, int) else limit[hit]))
    n = hi - lo
    found[hit] = n
    total = int(n.sum())
    if not total:
        return _EMPTY, _EMPTY, found
    ends = np.cumsum(n)
    positions = np.repeat(lo - (ends - n), n) + np.arange(total)  # each key's range, one after another
    return np.repeat(labels[hit], n), seqs[positions], found


DENSE_CELLS = 1 << 22  # a dense count's table at most (32 MB of int64): above it, sorting is the way


def pair_counts(labels: Ints, seqs: Ints) -> tuple[Ints, Ints, Ints]:
    """Each distinct (label, seq) pair, sorted by label then seq, and how many times it occurs.

    ``np.unique`` sorts the pairs. A bulk import of near-copies makes that sort the decision's largest
    cost: each key of an arrival lists the latest ``limit`` members of its story, some 40 postings a key
    and 1.7 million a chunk, all among the few hundred members of the window's latest stretch. When the
    pairs fit a small table (labels × the span of the seqs), they are counted in it instead
    (``np.bincount``: one pass, no sort), and the table's nonzero cells come out in the same order.
    """
    if not len(seqs):
        return labels, seqs, seqs
    labels = labels.astype(np.int64, copy=False)
    low = int(seqs.min())
    span = int(seqs.max()) - low + 1
    cells = (int(labels.max()) + 1) * span
    if cells > DENSE_CELLS or cells > 8 * len(seqs):  # a sparse table: sorting n pairs costs less
        pairs, n = np.unique(labels * span + (seqs - low), return_counts=True)
    else:
        table = np.bincount(labels * span + (seqs - low), minlength=cells)
        pairs = np.flatnonzero(table)
        n = table[pairs]
    return pairs // span, pairs % span + low, n


def run_of(keys: Ints, seqs: Ints) -> Run:
    """A run of postings sorted by key (seqs in order within a key). Positions and member numbers are
    32-bit: a posting of a key found once costs 16 bytes (key, start, member)."""
    if not len(keys):
        return _EMPTY, np.zeros(1, np.int32), _EMPTY.astype(np.int32)
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    return keys[starts], np.append(starts, len(keys)).astype(np.int32), seqs.astype(np.int32, copy=False)


def _expanded(run: Run) -> Ints:
    keys, starts, _ = run
    out: Ints = np.repeat(keys, np.diff(starts))
    return out


class Postings:
    """The ``limit`` most recent members of each key (each run keeps that many; a look-up takes that many
    over all the runs, newest first)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.runs: list[Run] = []  # oldest run first

    def __len__(self) -> int:
        return sum(len(seqs) for _, _, seqs in self.runs)

    def add(self, keys: Ints, seqs: Ints, oldest: int) -> None:
        """A batch of postings, ``seqs`` ascending and above every one already here; ``oldest``: the first
        sequence number still in the window (a merge drops those below)."""
        if not len(keys):
            return
        order = np.argsort(keys, kind="stable")
        self.runs.append(run_of(keys[order], seqs[order]))
        while len(self.runs) > 1 and len(self.runs[-1][2]) >= len(self.runs[-2][2]):
            older, newer = self.runs[-2], self.runs[-1]
            merged = self._merged(np.concatenate((_expanded(older), _expanded(newer))),
                                  np.concatenate((older[2], newer[2])), oldest)
            self.runs[-2:] = [merged] if len(merged[2]) else []

    def compact(self, oldest: int) -> None:
        """Drop the postings of members below ``oldest`` from every run."""
        runs = []
        for run in self.runs:
            keep = run[2] >= oldest
            if keep.all():
                runs.append(run)
            elif keep.any():
                runs.append(run_of(_expanded(run)[keep], run[2][keep]))
        self.runs = runs

    def find(self, wanted: Ints, labels: Ints) -> tuple[Ints, Ints]:
        """(label, seq) of the ``limit`` most recent postings of each wanted key, over all the runs (newest
        run first: each key's quota shrinks by what a run gave)."""
        quota = np.full(len(wanted), self.limit, np.int64)
        found_labels, found_seqs = [], []
        for run in reversed(self.runs):
            o, s, n = lookup(run, wanted, labels, quota)
            found_labels.append(o)
            found_seqs.append(s)
            quota -= n
            if not quota.any():
                break
        if not found_labels:
            return _EMPTY, _EMPTY
        if len(found_labels) == 1:
            return found_labels[0], found_seqs[0]
        return np.concatenate(found_labels), np.concatenate(found_seqs)

    def _merged(self, keys: Ints, seqs: Ints, oldest: int) -> Run:
        """Two runs, older first, as one: those gone dropped, the ``limit`` most recent of each key kept."""
        keep = seqs >= oldest
        keys, seqs = keys[keep], seqs[keep]
        order = np.argsort(keys, kind="stable")  # two sorted runs, and the older seqs first within a key
        keys, seqs = keys[order], seqs[order]
        run = run_of(keys, seqs)
        starts = run[1]
        if len(seqs) > len(run[0]) and (np.diff(starts) > self.limit).any():
            ends = np.repeat(starts[1:], np.diff(starts))
            recent = ends - np.arange(len(keys)) <= self.limit
            run = run_of(keys[recent], seqs[recent])
        return run

"""The window's key index (``daemon.stories.postings``) and its batch search (``Window.search``): the same
answers as a plain dict of lists, across runs and merges, with members leaving; and the few bytes a key
that are its reason to exist."""

from __future__ import annotations

import random
import tracemalloc
from array import array

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.models import Sketch
from daemon.stories.postings import Postings, pair_counts
from daemon.stories.window import POSTINGS, Member, Window

LIMIT = 3


def found(p: Postings, wanted: list[int], oldest: int) -> list[tuple[int, int]]:
    """(key, seq) pairs a look-up gives, members gone left out."""
    keys = np.asarray(sorted(wanted), np.int64)
    labels, seqs = p.find(keys, keys)
    return sorted((k, s) for k, s in zip(labels.tolist(), seqs.tolist(), strict=True) if s >= oldest)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.lists(st.integers(-3, 12), max_size=6, unique=True), min_size=1, max_size=5),
                min_size=1, max_size=12),
       st.lists(st.integers(0, 4), min_size=12, max_size=12), st.data())
def test_look_ups_match_a_dict_of_lists_across_runs_and_departures(
        batches: list[list[list[int]]], leaving: list[int], data: st.DataObject) -> None:
    p = Postings(LIMIT)
    lists: dict[int, list[int]] = {}
    seq = oldest = 0
    for batch, gone in zip(batches, leaving, strict=False):
        keys, seqs = [], []
        for member in batch:
            for k in member:
                keys.append(k)
                seqs.append(seq)
                lists.setdefault(k, []).append(seq)
            seq += 1
        oldest = min(seq, oldest + gone)
        p.add(np.asarray(keys, np.int64), np.asarray(seqs, np.int64), oldest)
    wanted = data.draw(st.lists(st.integers(-4, 13), max_size=8, unique=True))
    got = found(p, wanted, oldest)
    assert len(got) == len(set(got))
    # every pair is a posting: the LIMIT most recent of each key, those still there
    assert all(s in lists[k] for k, s in got)
    recent = {(k, s) for k in wanted for s in lists.get(k, [])[-LIMIT:] if s >= oldest}
    assert recent == set(got), (recent, got)  # no more: the quota holds over all the runs
    p.compact(oldest)
    assert found(p, wanted, oldest) == got
    assert all(s >= oldest for run in p.runs for s in run[2].tolist())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 400)), max_size=300), st.integers(0, 1 << 33))
def test_pairs_are_counted_as_a_sort_counts_them_whether_the_table_is_dense_or_not(
        pairs: list[tuple[int, int]], offset: int) -> None:
    labels = np.asarray([label for label, _ in pairs], np.int64)
    seqs = np.asarray([seq + offset for _, seq in pairs], np.int64)  # member numbers far from 0: a long run
    got = pair_counts(labels, seqs)
    keys, n = np.unique(labels * (1 << 40) + seqs, return_counts=True)
    assert got[0].tolist() == (keys >> 40).tolist()
    assert got[1].tolist() == (keys & ((1 << 40) - 1)).tolist()
    assert got[2].tolist() == n.tolist()


def test_a_dense_count_is_taken_when_the_pairs_crowd_a_few_members(monkeypatch: pytest.MonkeyPatch) -> None:
    """Near-copies: many postings among a few hundred members (the case the table is for), counted in the
    table; a window's worth of different members, sorted; both as a sort counts them."""
    rng = np.random.default_rng(5)
    crowded = (rng.integers(0, 100, 200_000), rng.integers(10_000, 10_250, 200_000))
    sparse = (rng.integers(0, 100, 2_000), rng.integers(0, 30_000, 2_000))
    tables = []
    bincount = np.bincount
    monkeypatch.setattr(np, "bincount", lambda *a, **k: tables.append(1) or bincount(*a, **k))
    for labels, seqs in (crowded, sparse):
        got = pair_counts(labels, seqs)
        keys, n = np.unique(labels * (1 << 40) + seqs, return_counts=True)
        assert np.array_equal(got[0], keys >> 40) and np.array_equal(got[2], n)
        assert np.array_equal(got[1], keys & ((1 << 40) - 1))
        assert len(tables) == 1  # the crowded pairs were counted in a table, the sparse ones sorted


def test_a_merge_keeps_the_most_recent_members_of_a_key_and_drops_those_gone() -> None:
    p = Postings(LIMIT)
    for seq in range(8):
        p.add(np.asarray([5, 100 + seq], np.int64), np.asarray([seq, seq], np.int64), oldest=3 if seq == 7 else 0)
    assert len(p.runs) == 1  # eight runs of one member merged like a binary counter: into one
    assert found(p, [5], 0) == [(5, 5), (5, 6), (5, 7)]
    assert found(p, [101, 102, 103, 104], 0) == [(103, 3), (104, 4)]  # 1 and 2 left: their postings went
    assert len(p) == 3 + 5


def test_a_batch_search_finds_earlier_arrivals_of_the_batch_but_not_later_ones() -> None:
    def member(aid: int, keys: tuple[int, ...]) -> Member:
        return Member.of(aid, aid, float(aid), None, Sketch(keys, (), False, ()))

    w = Window()
    w.add(member(1, (10, 11, 12)))
    # the batch: arrivals 0, 1, 2 (numbered 1, 2, 3 when they join), each listed under its keys
    newcomers = [array("q", keys) for keys in ([10, 20], [20, 30], [30, 10])]
    query, seq, n = w.search([0, 1, 2], newcomers, newcomers)
    got = {(q, s): c for q, s, c in zip(query.tolist(), seq.tolist(), n.tolist(), strict=True)}
    assert got == {(0, 0): 1, (1, 1): 1, (2, 0): 1, (2, 1): 1, (2, 2): 1}


def test_a_full_window_of_new_text_costs_under_3_kb_a_member() -> None:
    """30,000 feed items of all-new text made the old dict-of-lists index 340 MB (10.7 KB a member, measured here)."""
    rng = random.Random(7)
    n = 6000
    sketches = [Sketch(tuple(rng.getrandbits(63) for _ in range(30)), tuple(rng.getrandbits(63) for _ in range(25)),
                       False, (rng.getrandbits(32),)) for _ in range(n)]
    tracemalloc.start()
    try:
        w = Window(capacity=n)
        before = tracemalloc.get_traced_memory()[0]
        for aid, s in enumerate(sketches, start=1):
            w.join(Member.of(aid, aid, float(aid), None, s))
            if aid % 100 == 0:
                w.index_joined()
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    per_member = used / n
    assert per_member < 3000, f"{per_member:.0f} bytes a member"
    assert len(w.index) == 55 * n and POSTINGS >= LIMIT

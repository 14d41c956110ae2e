"""The window's key index (``daemon.stories.postings``): the same answers as a plain dict of lists, across
merges, with members leaving; and the few bytes a key that are its reason to exist."""

from __future__ import annotations

import random
import tracemalloc
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.models import Sketch
from daemon.stories.postings import Postings
from daemon.stories.window import POSTINGS, Member, Window

LIMIT = 3


def model(lists: dict[int, list[int]], keys: list[int], alive: set[int]) -> Counter[int]:
    return Counter(m for k in keys for m in lists.get(k, [])[-LIMIT:] if m in alive)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.integers(-3, 12), max_size=6, unique=True), min_size=1, max_size=40),
       st.integers(1, 12), st.integers(0, 40), st.data())
def test_look_ups_match_a_dict_of_lists_across_merges_and_departures(
        members: list[list[int]], merge_at: int, gone: int, data: st.DataObject) -> None:
    p = Postings(LIMIT, merge_at=merge_at)
    lists: dict[int, list[int]] = {}
    for aid, keys in enumerate(members, start=1):
        if p.add(keys, aid):
            p.merge(oldest=min(gone, aid) + 1)
        for k in keys:
            lists.setdefault(k, []).append(aid)
    alive = set(range(min(gone, len(members)) + 1, len(members) + 1))
    asked = data.draw(st.lists(st.integers(-4, 13), max_size=8, unique=True))
    got = p.count(asked, alive)
    want = model(lists, asked, alive)
    # Between merges a key may list up to twice the limit (the arrays' and the dict's): never fewer than
    # the most recent LIMIT, and nothing that is not there or not alive.
    assert all(got[m] >= n for m, n in want.items()), (got, want)
    assert all(m in alive and n <= len([k for k in asked if m in lists.get(k, [])]) for m, n in got.items())
    p.merge(oldest=min(gone, len(members)) + 1)
    assert p.count(asked, alive) == want


def test_a_merge_keeps_the_most_recent_members_of_a_key_and_drops_those_gone() -> None:
    p = Postings(LIMIT)
    for aid in range(1, 8):
        p.add([5, 100 + aid], aid)
    p.merge(oldest=3)
    assert p.count([5], alive=range(1, 100)) == {5: 1, 6: 1, 7: 1}
    assert p.count([101, 102, 103], alive=range(1, 100)) == {3: 1}  # 1 and 2 left: their postings went
    assert len(p) == 3 + 5 and not p.fresh


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
            w.add(Member.of(aid, aid, float(aid), None, s))
        w.index.merge(w.order[0])
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    per_member = used / n
    assert per_member < 3000, f"{per_member:.0f} bytes a member"
    assert len(w.index) == 55 * n and POSTINGS >= LIMIT

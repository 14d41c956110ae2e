"""The stories' in-memory window (``daemon.stories.window``): bounded by time and count, formulas counted
by stories, and what leaves it leaves its index and its counters too."""

from __future__ import annotations

from daemon.models import Sketch
from daemon.stories.window import COMMON, Member, Window


def member(aid: int, story: int, seen: float, keys: tuple[int, ...]) -> Member:
    return Member.of(aid, story, seen, None, Sketch(keys, (), False, ()))


def test_members_leave_by_time_and_by_count_and_take_their_keys_along() -> None:
    w = Window(capacity=3)
    for aid in range(1, 5):
        w.add(member(aid, aid, float(aid), (100, 200 + aid)))
    assert list(w.members) == [2, 3, 4]  # the fourth pushed the first out
    assert w.shared([100, 201, 202]) == {2: 2, 3: 1, 4: 1}
    w.evict(before=3.5)
    assert list(w.members) == [4] and w.shared([100, 202, 203]) == {4: 1}
    assert w.shared([202]) == {} and w.stories == {4: [4]}


def test_a_key_brought_by_common_stories_is_a_formula_until_they_leave() -> None:
    w = Window()
    for aid in range(1, COMMON + 1):
        w.add(member(aid, aid, float(aid), (7, 1000 + aid)))
    assert list(w.rare([7, 1001])) == [1001]
    # Copies joining one story do not make their keys formulas: only the stories' first articles count.
    for aid in range(100, 100 + 2 * COMMON):
        w.add(member(aid, 1, 50.0, (8,)))
    assert list(w.rare([8])) == [8]
    w.evict(before=10.0)  # the first nine stories leave: the key is in fewer than COMMON stories again
    assert list(w.rare([7])) == [7]


def test_a_merge_moves_the_members_of_a_story() -> None:
    w = Window()
    w.add(member(1, 1, 0.0, (1,)))
    w.add(member(2, 2, 0.0, (2,)))
    w.add(member(3, 2, 0.0, (3,)))
    w.merge(2, 1)
    assert {aid: m.story_id for aid, m in w.members.items()} == {1: 1, 2: 1, 3: 1}
    assert w.stories == {1: [1, 2, 3]}
    w.restory({3: 9})  # as another process left it
    assert w.members[3].story_id == 9 and w.stories == {1: [1, 2], 9: [3]}

"""The repeated-title rules behind snippets (issue 9 item 15), as pure functions."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.match import Matcher
from daemon.match.snippet import lead_overlap, mark, snippet
from daemon.models import Rule

LEAD = "Quán triệt Nghị quyết 57 tại Đảng ủy phường. Sáng 20-11, hội nghị quán triệt Nghị quyết 57-NQ/TW."


def test_lead_overlap_finds_the_repeated_title_and_only_that() -> None:
    title = "Quán triệt Nghị quyết 57 tại Đảng ủy phường"
    assert LEAD[lead_overlap(title, LEAD):].startswith("Sáng 20-11")
    assert LEAD[lead_overlap("Quán triệt Nghị quyết 57 tại…", LEAD):].startswith("Đảng ủy")  # a title cut short
    assert lead_overlap("Hội nghị quán triệt", LEAD) == 0
    assert lead_overlap("", LEAD) == 0 and lead_overlap("…", LEAD) == 0


def test_snippet_context_stops_at_the_floor_unless_the_match_is_before_it() -> None:
    floor = lead_overlap("Quán triệt Nghị quyết 57 tại Đảng ủy phường", LEAD)
    at = LEAD.rindex("Nghị quyết 57")
    assert snippet(LEAD, at, at + 13, floor=floor) == "…Sáng 20-11, hội nghị quán triệt «Nghị quyết 57»-NQ/TW."
    assert snippet(LEAD, at, at + 13).startswith("Quán triệt Nghị quyết 57 tại")  # without it: the title again
    assert snippet(LEAD, 11, 24, floor=floor).startswith("Quán triệt «Nghị quyết 57»")


def test_mark_marks_every_occurrence_and_leaves_other_text_alone() -> None:
    assert mark("Đảng bộ và Đảng bộ", ["Đảng bộ"]) == "«Đảng bộ» và «Đảng bộ»"
    assert mark("Nghị quyết 57", ["Nghị quyết 57", "quyết"]) == "«Nghị quyết 57»"
    assert mark("không có", ["Đảng", ""]) == "không có"


def test_a_lead_line_hit_is_reported_once_but_a_separate_title_keeps_both() -> None:
    matcher = Matcher([Rule(name="nq57", keywords=("Nghị quyết 57",))])
    seed = matcher.match("Quán triệt Nghị quyết 57 tại Đảng ủy phường", LEAD, "seeds")
    assert [(m.field, m.text) for m in seed] == [("title", "Nghị quyết 57"), ("body", "Nghị quyết 57-NQ/TW")]
    assert seed[1].snippet.startswith("…Sáng 20-11")
    feed = matcher.match("Tin mới về Nghị quyết 57", LEAD, "feed")
    assert [m.field for m in feed] == ["title", "body", "body"]


def _reference_snippet(text: str, start: int, end: int, context: int, floor: int) -> str:
    """The snippet as first written: every part squashed on its own, the cuts from lists."""
    import re

    def squash(s: str) -> str:
        return re.sub(r"\s+", " ", s)

    lowest = floor if start >= floor else 0
    left_from = max(lowest, start - context)
    if left_from > 0 and not text[left_from - 1].isspace():
        cuts = [i for i in (text.find(" ", left_from, start), text.find("\n", left_from, start)) if i != -1]
        left_from = min(cuts) + 1 if cuts else start
    right_to = min(len(text), end + context)
    if right_to < len(text) and not text[right_to].isspace():
        cuts = [i for i in (text.rfind(" ", end, right_to + 1), text.rfind("\n", end, right_to + 1)) if i != -1]
        right_to = max(cuts) if cuts else end
    return (("…" if left_from > 0 else "") + squash(text[left_from:start]).lstrip() + "«" + squash(text[start:end])
            + "»" + squash(text[end:right_to]).rstrip() + ("…" if right_to < len(text) else ""))


_SNIPPET_PIECES = ["Đảng", "bộ", " ", "  ", "\n", "\n\n", "\t", "\u00a0", "\x85", "57", "…", "xã", "«"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_SNIPPET_PIECES), min_size=1, max_size=40).map("".join), st.data())
def test_the_snippet_is_what_squashing_each_part_gives(text: str, data: st.DataObject) -> None:
    """The shown stretch is squashed only when it has something to squash: the same snippet either way."""
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    context = data.draw(st.integers(0, 12))
    floor = data.draw(st.integers(0, len(text)))
    assert snippet(text, start, end, context, floor) == _reference_snippet(text, start, end, context, floor)

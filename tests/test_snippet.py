"""The repeated-title rules behind snippets (issue 9 item 15), as pure functions."""

from __future__ import annotations

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

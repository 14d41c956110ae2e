"""Document references: what is parsed out of keywords and found in text, field by field."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemon.text.docrefs import DOC_TYPES, DocRef, agrees, find_docrefs, parse_docref


@pytest.mark.parametrize(
    ("keyword", "expected"),
    [
        ("Nghị quyết 57", DocRef("NQ", "57")),
        ("nghị quyết số 57", DocRef("NQ", "57")),
        ("nghi quyet 57", DocRef("NQ", "57")),
        ("NQ 57", DocRef("NQ", "57")),
        ("nq 57", DocRef("NQ", "57")),  # keywords may be typed in lower case
        ("57-NQ/TW", DocRef("NQ", "57", None, "TW")),
        ("57 - NQ / TW", DocRef("NQ", "57", None, "TW")),
        ("Nghị quyết số 57-NQ/TW", DocRef("NQ", "57", None, "TW")),
        ("Chỉ thị 34-CT/TU", DocRef("CT", "34", None, "TU")),
        ("Chỉ thị 34", DocRef("CT", "34")),
        ("Quyết định 1519/QĐ-TTg", DocRef("QĐ", "1519", None, "TTG")),
        ("1519/qd-ttg", DocRef("QĐ", "1519", None, "TTG")),
        ("Nghị định 13/2023/NĐ-CP", DocRef("NĐ", "13", 2023, "CP")),
        ("Quy định 08-QĐi/TW", DocRef("QĐi", "8", None, "TW")),
        ("Chương trình 15-CTr/TU", DocRef("CTr", "15", None, "TU")),
        ("Luật số 15/2012/QH13", DocRef("Luật", "15", 2012, "QH13")),
        ("Nghị quyết liên tịch 01", DocRef("NQLT", "1")),
        ("Tờ trình 12", DocRef("TTr", "12")),
        ("Đề án 06", DocRef("ĐA", "6")),
    ],
)
def test_parse_docref(keyword: str, expected: DocRef) -> None:
    assert parse_docref(keyword) == expected


@pytest.mark.parametrize(
    "keyword",
    ["57", "Nghị quyết", "Nghị quyết 57 của Bộ Chính trị", "Nghị quyết 57, 66", "Đảng bộ", "NQ/TW", "57a", "regex:x"],
)
def test_not_a_docref(keyword: str) -> None:
    assert parse_docref(keyword) is None


def spans(text: str) -> list[tuple[DocRef, str]]:
    return [(ref, text[s:e]) for ref, s, e in find_docrefs(text)]


def test_list_with_type_word_gives_each_number_that_type() -> None:
    assert spans("Thực hiện Nghị quyết 57, 66 và 68 của Bộ Chính trị") == [
        (DocRef("NQ", "57"), "Nghị quyết 57"),
        (DocRef("NQ", "66"), "66"),
        (DocRef("NQ", "68"), "68"),
    ]


def test_list_of_codes() -> None:
    text = "các Nghị quyết số 57-NQ/TW, 59-NQ/TW, 66-NQ/TW và 68-NQ/TW"
    assert [(r.number, r.issuer, t) for r, t in spans(text)] == [
        ("57", "TW", "Nghị quyết số 57-NQ/TW"),
        ("59", "TW", "59-NQ/TW"),
        ("66", "TW", "66-NQ/TW"),
        ("68", "TW", "68-NQ/TW"),
    ]


def test_dates_and_counts_are_not_references() -> None:
    text = "ngày 22/12/2024, đến 34 điểm cầu, 10-6-2019, 9/9 chỉ tiêu, 130/130 đầu việc, nhiệm kỳ 2020-2025"
    assert find_docrefs(text) == []


def test_signing_date_is_not_read_as_the_year() -> None:
    assert spans("Nghị quyết 57-NQ/TW ngày 22/12/2024") == [(DocRef("NQ", "57", None, "TW"), "Nghị quyết 57-NQ/TW")]


def test_two_types_in_one_sentence() -> None:
    assert [(r.type, r.number) for r, _ in spans("Chỉ thị 34 và Kết luận 21-KL/TW, Quyết định 5")] == [
        ("CT", "34"),
        ("KL", "21"),
        ("QĐ", "5"),
    ]


def test_lower_case_abbreviation_in_prose_is_ignored_but_full_word_is_not() -> None:
    assert find_docrefs("ct 34 và tt 5") == []
    assert [r.number for r, _ in spans("chỉ thị 34")] == ["34"]


@pytest.mark.parametrize(
    ("wanted", "found", "expected"),
    [
        (DocRef("NQ", "57"), DocRef("NQ", "57", 2024, "TW"), True),
        (DocRef("NQ", "57", None, "TW"), DocRef("NQ", "57"), True),
        (DocRef("NQ", "57", None, "TW"), DocRef("NQ", "57", None, "TU"), False),
        (DocRef("NĐ", "13", 2023, "CP"), DocRef("NĐ", "13", 2024, "CP"), False),
        (DocRef("NQ", "57"), DocRef("CT", "57"), False),
        (DocRef("NQ", "57"), DocRef("NQ", "570"), False),
    ],
)
def test_agrees(wanted: DocRef, found: DocRef, expected: bool) -> None:
    assert agrees(wanted, found) is expected


def test_type_table_has_no_duplicate_codes() -> None:
    codes = [code for code, _ in DOC_TYPES]
    assert len(codes) == len(set(codes))


@given(
    st.sampled_from([name for _, names in DOC_TYPES for name in names]),
    st.integers(min_value=1, max_value=99999),
)
def test_every_type_word_round_trips(name: str, number: int) -> None:
    """Whatever a keyword names, the same words in an article are found as that document."""
    ref = parse_docref(f"{name} {number}")
    assert ref is not None and ref.number == str(number)
    found = find_docrefs(f"Theo {name} số {number} của Ban.")
    assert [r for r, _, _ in found] == [ref]


def test_the_type_alternation_prefers_the_longest_form_like_a_flat_list_would() -> None:
    import re

    from daemon.text.docrefs import _alternation

    forms = {"quy", "quy định", "quyết định", "ct", "ctr", "tt", "ttlt", "ttr", "nq", "nqlt"}
    trie = re.compile(_alternation(forms))
    flat = re.compile("|".join(re.escape(f) for f in sorted(forms, key=lambda f: (-len(f), f))))
    for text in ("quy định", "quyết định", "quy chế", "ctr", "ct 5", "ttlt", "ttr", "ttx", "nqlt", "nq", "n"):
        got, want = trie.match(text), flat.match(text)
        assert (got and got.group()) == (want and want.group()), text


ANCHOR_TEXT = ("Nghị quyết số 57-NQ/TW, 59-NQ/TW và 68; theo QĐ 12/2023/NĐ-CP.\n(Chỉ thị 34) “Luật số 15/2012/QH13”"
               " nq 5 ct 3, 1519/QĐ-TTg; 18-10 và 2024. No. 7-KL/TW…Kết luận 3")


def test_the_anchor_found_by_the_character_before_it_is_the_one_a_lookbehind_finds() -> None:
    """``_anchor`` (a pattern the regex engine can skip ahead on) gives, from every position, what the plain
    pattern's search gives: the same start and the same match."""
    from daemon.text.docrefs import _ANCHOR, _anchor

    for text in (ANCHOR_TEXT, ANCHOR_TEXT.lower(), "57-NQ/TW", "Nghị quyết 57", "x", ""):
        low = text.lower()
        for pos in range(len(low) + 1):
            plain = _ANCHOR.search(low, pos)
            got = _anchor(low, pos)
            assert (got and (got[0], got[1].end(), got[1]["word"])) == (
                plain and (plain.start(), plain.end(), plain["word"])), (text, pos)


def test_references_built_once_are_the_same_when_the_table_of_them_starts_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from daemon.text import docrefs

    expected = find_docrefs(ANCHOR_TEXT)
    assert len(expected) >= 8
    monkeypatch.setattr(docrefs, "_BUILT_MAX", 2)
    monkeypatch.setattr(docrefs, "_BUILT", {})
    assert find_docrefs(ANCHOR_TEXT) == expected == find_docrefs(ANCHOR_TEXT)
    assert len(docrefs._BUILT) <= 2


def test_a_scan_until_an_index_finds_what_the_whole_scan_finds_up_to_there() -> None:
    """A prefix of the whole scan's references, holding each one that starts at or before ``until`` (with
    the rest of its list: "Nghị quyết 57, 66 và 68" is one list however early it is cut)."""
    whole = find_docrefs(ANCHOR_TEXT)
    for until in range(-1, len(ANCHOR_TEXT) + 1):
        part = find_docrefs(ANCHOR_TEXT, until=until)
        assert part == whole[: len(part)], until
        assert all(ref in part for ref in whole if ref[1] <= until), until
    assert find_docrefs("Các Nghị quyết 57, 66 và 68", until=4) == find_docrefs("Các Nghị quyết 57, 66 và 68")
    assert find_docrefs("Các Nghị quyết 57, 66 và 68", until=3) == []

"""Rules as a whole: all/exclude/sources, regex, snippets, dedupe and cap, and the real sample articles."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.errors import ConfigError
from daemon.match import MAX_MATCHES_PER_RULE, Matcher
from daemon.match.snippet import snippet
from daemon.models import Rule
from daemon.text.normalize import normalize, normalize_body

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

BODY = normalize_body(
    "Đảng bộ và cơ quan Văn phòng Thành ủy đã nêu cao tinh thần đoàn kết.\n\n"
    "Đẩy mạnh chuyển đổi số trong các cơ quan Đảng theo tinh thần Nghị quyết số 57-NQ/TW của Bộ Chính trị."
)


def names(matcher: Matcher, body: str = BODY, source: str = "seeds", title: str = "") -> list[str]:
    return sorted({m.rule for m in matcher.match(title, body, source)})


def test_any_keyword_fires() -> None:
    m = Matcher([Rule("r", ("không có", "chuyển đổi số"))])
    assert [(x.keyword, x.text) for x in m.match("", BODY, "seeds")] == [("chuyển đổi số", "chuyển đổi số")]


def test_all_terms_must_all_appear() -> None:
    rules = [
        Rule("both", ("chuyển đổi số",), all=("Nghị quyết 57", "Bộ Chính trị")),
        Rule("missing", ("chuyển đổi số",), all=("Nghị quyết 57", "Quốc hội")),
    ]
    assert names(Matcher(rules)) == ["both"]


def test_all_terms_do_not_produce_matches() -> None:
    m = Matcher([Rule("r", ("chuyển đổi số",), all=("Bộ Chính trị",))])
    assert [x.keyword for x in m.match("", BODY, "seeds")] == ["chuyển đổi số"]


def test_exclude_vetoes_the_rule() -> None:
    rules = [
        Rule("vetoed", ("chuyển đổi số",), exclude=("Thành ủy",)),
        Rule("vetoed-folded", ("chuyển đổi số",), exclude=("thanh uy",)),
        Rule("vetoed-docref", ("chuyển đổi số",), exclude=("57-NQ/TW",)),
        Rule("kept", ("chuyển đổi số",), exclude=("Quốc hội", "57-NQ/TU")),
    ]
    assert names(Matcher(rules)) == ["kept"]


def test_sources_restrict_the_rule() -> None:
    rules = [Rule("any", ("Đảng bộ",)), Rule("feed-only", ("Đảng bộ",), sources=("vnexpress",))]
    m = Matcher(rules)
    assert names(m, source="seeds") == ["any"]
    assert names(m, source="vnexpress") == ["any", "feed-only"]


def test_title_and_body_are_both_searched_title_first() -> None:
    m = Matcher([Rule("r", ("Đảng bộ",))])
    got = m.match("Đảng bộ thành phố tổng kết năm", BODY, "seeds")
    assert [(x.field, x.text) for x in got] == [("title", "Đảng bộ"), ("body", "Đảng bộ")]


def test_regex_keyword_is_case_insensitive_on_normalized_text() -> None:
    m = Matcher([Rule("r", (r"regex:chuyển\s+đổi\s+SỐ",))])
    assert [x.text for x in m.match("", BODY, "seeds")] == ["chuyển đổi số"]


def test_regex_written_with_old_tone_placement_still_matches() -> None:
    m = Matcher([Rule("r", ("regex:thành uỷ",))])
    assert [x.text for x in m.match("", BODY, "seeds")] == ["Thành ủy"]


def test_regex_in_all_and_exclude() -> None:
    rules = [
        Rule("all-ok", ("Đảng bộ",), all=(r"regex:\d+-NQ/TW",)),
        Rule("excluded", ("Đảng bộ",), exclude=(r"regex:\d+-NQ/TW",)),
    ]
    assert names(Matcher(rules)) == ["all-ok"]


def test_bad_regex_is_a_config_error_naming_the_rule() -> None:
    with pytest.raises(ConfigError, match="theo-doi-nq57") as info:
        Matcher([Rule("ok", ("x",)), Rule("theo-doi-nq57", ("regex:(unclosed",))])
    assert "(unclosed" in str(info.value)


def test_bad_regex_in_exclude_is_also_caught() -> None:
    with pytest.raises(ConfigError, match="rule 'r'"):
        Matcher([Rule("r", ("x",), exclude=("regex:[",))])


def test_same_text_in_same_field_is_reported_once() -> None:
    body = normalize_body("Đảng bộ họp. Đảng bộ bầu. ĐẢNG BỘ tổng kết.")
    m = Matcher([Rule("r", ("Đảng bộ",))])
    assert [x.text for x in m.match("", body, "seeds")] == ["Đảng bộ", "ĐẢNG BỘ"]


def test_matches_per_rule_are_capped() -> None:
    body = " ".join(f"Nghị quyết {n}" for n in range(1, 60))
    m = Matcher([Rule("r", tuple(f"Nghị quyết {n}" for n in range(1, 60)))])
    got = m.match("", body, "seeds")
    assert len(got) == MAX_MATCHES_PER_RULE
    assert got[0].text == "Nghị quyết 1"


def test_rules_sharing_a_keyword_each_get_their_match() -> None:
    m = Matcher([Rule("a", ("Nghị quyết 57",)), Rule("b", ("NQ 57", "Đảng bộ")), Rule("c", ("Nghị quyết 58",))])
    got = m.match("", BODY, "seeds")
    assert [(x.rule, x.keyword, x.text) for x in got] == [
        ("a", "Nghị quyết 57", "Nghị quyết số 57-NQ/TW"),
        ("b", "Đảng bộ", "Đảng bộ"),
        ("b", "NQ 57", "Nghị quyết số 57-NQ/TW"),
    ]


def test_empty_keyword_never_fires() -> None:
    assert Matcher([Rule("r", ("   ",))]).match("", BODY, "seeds") == []


def test_snippet_marks_the_match_and_cuts_on_word_boundaries() -> None:
    words = " ".join(f"từ{i}" for i in range(60))
    text = f"{words} Nghị quyết 57 {words}"
    start = text.index("Nghị quyết 57")
    s = snippet(text, start, start + len("Nghị quyết 57"))
    assert "«Nghị quyết 57»" in s
    assert s.startswith("…") and s.endswith("…")
    left, right = s[1:-1].split("«Nghị quyết 57»")
    assert all(w.startswith("từ") and w[2:].isdigit() for w in left.split())  # no word cut in half
    assert all(w.startswith("từ") and w[2:].isdigit() for w in right.split())
    assert 60 <= len(left) <= 81 and 60 <= len(right) <= 81


def test_snippet_of_short_text_has_no_ellipsis_and_no_line_breaks() -> None:
    assert snippet("Đảng bộ\n\nhọp", 0, 7) == "«Đảng bộ» họp"


def test_snippet_in_a_match() -> None:
    m = Matcher([Rule("r", ("57-NQ/TW",))])
    (got,) = m.match("", BODY, "seeds")
    assert got.snippet.startswith("…")
    assert "tinh thần «Nghị quyết số 57-NQ/TW» của Bộ Chính trị." in got.snippet


def test_nfd_and_old_tones_in_the_article_are_matched_and_reported_normalized() -> None:
    raw = unicodedata.normalize("NFD", "Uỷ ban hoà giải và Đảng bộ")
    m = Matcher([Rule("r", ("Ủy ban hòa giải", "dang bo"))])
    assert [x.text for x in m.match(raw, "", "seeds")] == ["Ủy ban hòa giải", "Đảng bộ"]


vietnamese = st.text(alphabet=st.sampled_from(list("aăâeêioôơuưyđAĐ ̣̀́̃̉bcgh57-/,")), max_size=60)


@settings(max_examples=200, deadline=None)
@given(vietnamese)
def test_normalization_form_never_changes_the_outcome(noise: str) -> None:
    m = Matcher([Rule("a", ("Đảng bộ", "dang", "Nghị quyết 57")), Rule("b", ("hòa",))])
    text = f"{noise} Đảng bộ hoà {noise}"
    nfc = m.match("", normalize_body(text), "s")
    for form in ("NFD", "NFC", "NFKD"):
        assert m.match("", unicodedata.normalize(form, text), "s") == nfc
    for x in nfc:
        assert f"«{x.text}»" in x.snippet


def seed(name_prefix: str) -> tuple[str, str]:
    (path,) = SEEDS.glob(f"{name_prefix}_*.txt")
    lines = path.read_text(encoding="utf-8").strip().split("\n")
    return normalize(lines[0]), normalize_body("\n".join(lines[1:]))


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_sample_articles(prefix: str) -> None:
    m = Matcher([Rule("nq57", ("Nghị quyết 57",)), Rule("ct34", ("Chỉ thị 34",)), Rule("qd", ("13140-QĐ/TU",))])
    title, body = seed(prefix)
    got = {(x.rule, x.text) for x in m.match(title, body, "seeds")}
    expected = {
        "000": {("nq57", "Nghị quyết số 57-NQ/TW")},
        "003": {("ct34", "Chỉ thị số 34-CT/TU"), ("qd", "Quyết định số 13140-QĐ/TU")},
    }.get(prefix, set())
    assert got == expected


def test_many_keywords_find_the_same_as_few() -> None:
    """Ten thousand unrelated keywords change nothing about what the office's own keywords find."""
    own = [Rule("nq57", ("Nghị quyết 57",)), Rule("dang", ("Đảng bộ", "chuyen doi so"))]
    noise = [Rule(f"n{i}", (f"Nghị quyết {1000 + i}", f"từ khóa số {i}", f"tu khoa {i}")) for i in range(3400)]
    few, many = Matcher(own), Matcher(own + noise)
    for prefix in ("000", "001", "003"):
        title, body = seed(prefix)
        assert many.match(title, body, "seeds") == few.match(title, body, "seeds")


def test_views_keep_every_character_in_place() -> None:
    from daemon.match.textforms import fold_view
    from daemon.text.chars import lower_view

    text = "İstanbul Đảng bộ ĐẢNG a\u0301"  # "İ" lower-cases to two characters; a stray combining mark
    assert len(lower_view(text)) == len(text) == len(fold_view(text))
    assert lower_view(text).endswith("đảng bộ đảng a\u0301")
    assert fold_view(text).endswith("dang bo dang a\u0301")


def test_a_huge_digit_run_does_not_break_matching() -> None:
    # Python refuses int() on digit strings over 4,300 long; a hostile article must not stop the pass.
    m = Matcher([Rule("nq57", ("Nghị quyết 57",))])
    found = m.match("Tin", "9" * 5000 + " theo Nghị quyết số 57-NQ/TW của Bộ Chính trị", "seeds")
    assert [x.text for x in found] == ["Nghị quyết số 57-NQ/TW"]


def test_a_reference_far_into_a_long_article_and_a_long_list_are_found() -> None:
    m = Matcher([Rule("nq57", ("Nghị quyết 57",)), Rule("ct34", ("Chỉ thị 34-CT/TU",))])
    filler = "Văn phòng cấp ủy tham mưu tổng hợp phục vụ lãnh đạo. " * 400  # numbers far from any window
    body = (filler + "Các Nghị quyết " + ", ".join(str(i) for i in range(10, 56)) + " và 57 được quán triệt. "
            + filler + "Thực hiện Chỉ thị số 34-CT/TU, " + "năm 2024 có 34 điểm cầu.")
    found = {(x.rule, x.text) for x in m.match("Tin", body, "seeds")}
    assert found == {("nq57", "57"), ("ct34", "Chỉ thị số 34-CT/TU")}


# -- the two ways plain ASCII keywords are found, against the folded view they stand for ------------------

_MIXED = ("aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
          "AĂÂĐÊÔƠƯÀÁẠẰẮẶỀẾỆỒỐỘỜỚỢỪỨỰ İKÅ≠=<≮ 0123456789,.–“”-_\n")


def _folded_oracle(keyword: str, text: str) -> list[tuple[int, int]]:
    """Where the folded view of ``text`` holds the folded keyword as a whole word: the definition."""
    from daemon.match.textforms import fold_view, whole_word

    pattern, viewed = fold_view(normalize(keyword)), fold_view(text)
    starts = [i for i in range(len(viewed)) if viewed.startswith(pattern, i)]
    return [(i, i + len(pattern)) for i in starts if whole_word(viewed, i, i + len(pattern))]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=_MIXED, min_size=1, max_size=60), st.integers(0, 59), st.integers(1, 8))
def test_a_folded_regex_finds_exactly_what_the_folded_view_holds(text: str, start: int, length: int) -> None:
    from daemon.match.matcher import _folded_spans
    from daemon.match.textforms import fold_view, folded_regex

    body = normalize_body(text)
    keyword = normalize(fold_view(body)[start : start + length])  # a piece of the text itself: it often hits
    if not keyword or fold_view(keyword) != keyword or any(ch.isalpha() and not ch.isascii() for ch in keyword):
        return
    assert _folded_spans(folded_regex(keyword), body) == _folded_oracle(keyword, body)


def test_folded_regex_knows_every_spelling_of_a_letter() -> None:
    from daemon.match.textforms import folded_regex

    regex = folded_regex("dang bo")
    assert [m.group() for m in regex.finditer("Đảng bộ, ĐẢNG BỘ, dang bo, đang bò, dang  bo, dangbo")] == [
        "Đảng bộ", "ĐẢNG BỘ", "dang bo", "đang bò"]
    assert folded_regex("kelvin").fullmatch("\u212aelvin")  # KELVIN SIGN decomposes to K


def test_few_and_many_ascii_keywords_find_the_same() -> None:
    """Up to FOLDED_DIRECT_MAX ASCII keywords take one regex each; more take the folded view: same answers."""
    from daemon.match.matcher import FOLDED_DIRECT_MAX

    own = [Rule("vp", ("van phong cap uy", "dang bo", "nghi quyet", "tham muu")), Rule("x", ("thanh uy",))]
    noise = [Rule(f"n{i}", (f"tu khoa {i}",)) for i in range(FOLDED_DIRECT_MAX)]
    few, many = Matcher(own), Matcher(own + noise)
    assert few._folded is None and many._folded is not None
    found = 0
    for prefix in ("000", "001", "002", "003", "004"):
        title, body = seed(prefix)
        got = few.match(title, body, "seeds")
        assert got == many.match(title, body, "seeds")
        found += len(got)
    assert found > 5


_PIECES = ["57", "057", "0057", "570", "5", "05", "0", "00", "123456", "0123456", "2", " ", ", ", "-NQ/TW", "/",
           "٣", "５", "\n", "số"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=12).map("".join),
       st.sampled_from(["57", "5", "0", "570", "123456"]))
def test_followed_numbers_are_found_wherever_a_digit_run_is_that_number(text: str, number: str) -> None:
    import re

    from daemon.match.matcher import _numbers_in, _occurrences

    def value(run: str) -> str:
        return run.lstrip("0") or "0"

    runs = [(m.start(), m.end()) for m in re.finditer(r"[0-9]+", text) if m.end() - m.start() <= 6]
    expected = [(s, e) for s, e in runs if value(text[s:e]) == number]
    assert (number in _numbers_in(text)) == bool(expected)
    if number != "0":  # (the matcher never follows number 0: no document has it)
        assert [span for span in _occurrences(text, number) if span[1] - span[0] <= 6] == expected


def test_an_ascii_keyword_with_other_punctuation_is_found_by_both_ways() -> None:
    from daemon.match.matcher import FOLDED_DIRECT_MAX

    own = [Rule("covid", ("covid–19",))]  # an en dash: still a plain (folded) keyword, no letter with marks
    noise = [Rule(f"n{i}", (f"tu khoa {i}",)) for i in range(FOLDED_DIRECT_MAX)]
    for matcher in (Matcher(own), Matcher(own + noise)):
        assert [m.text for m in matcher.match("", "Phòng chống dịch COVID–19 tại Đảng bộ.", "seeds")] == ["COVID–19"]

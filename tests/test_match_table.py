"""One keyword, one sentence, fires or not: the matching semantics as a table.

Sentences are given to the matcher the way the pipeline does (``normalize_body``), except where the row
is about robustness to un-normalized input (NFD, old tone placement); those go in raw.
"""

from __future__ import annotations

import unicodedata

import pytest

from daemon.match import Matcher
from daemon.models import Rule
from daemon.text.normalize import normalize_body


def nfd(s: str) -> str:
    return unicodedata.normalize("NFD", s)


# (keyword, sentence, expected matched text or None when the rule must not fire)
CASES: list[tuple[str, str, str | None]] = [
    # Whole words: digits and letters are word characters.
    ("Nghị quyết 57", "Thực hiện Nghị quyết 57 của Bộ Chính trị.", "Nghị quyết 57"),
    ("Nghị quyết 57", "Thực hiện Nghị quyết 570 về đất đai.", None),
    ("Nghị quyết 57", "Theo Nghị quyết 157 của Quốc hội.", None),
    ("Nghị quyết 57", "Theo Nghị quyết 57a (dự thảo).", None),
    ("dang", "Cán bộ đang công tác tại cơ sở.", "đang"),
    ("dang", "Bảo đảm dangerous goods.", None),
    ("cấp ủy", "Văn phòng cấp ủy các cấp", "cấp ủy"),
    ("cấp ủy", "Văn phòng cấp ủyviên", None),
    ("57", "Tổ 57 có 12 đảng viên", "57"),
    ("57", "Năm 157 trước Công nguyên", None),
    ("57", "Phòng 57a tầng 3", None),
    ("oa", "Văn hóa và xã hội", None),
    ("ủy", "Thường trực Thành ủy", "ủy"),
    # Case and normalization.
    ("Đảng bộ", "ĐẢNG BỘ THÀNH PHỐ HUẾ", "ĐẢNG BỘ"),
    ("Đảng bộ", nfd("Đại hội Đảng bộ thành phố"), "Đảng bộ"),
    (nfd("Đảng bộ"), "Đại hội Đảng bộ thành phố", "Đảng bộ"),
    ("hòa bình", "Giữ vững hoà bình, ổn định.", "hòa bình"),
    ("hoà bình", "Giữ vững hòa bình, ổn định.", "hòa bình"),
    ("Ủy ban", "Uỷ ban nhân dân thành phố", "Ủy ban"),
    ("thủy lợi", nfd("Công trình thuỷ lợi"), "thủy lợi"),
    # Diacritics: given → exact; absent → folded.
    ("Đảng", "Cán bộ đang công tác tại cơ sở.", None),
    ("Đảng", "Công tác xây dựng Đảng được triển khai.", "Đảng"),
    ("đang", "Công tác xây dựng Đảng được triển khai.", None),
    ("dang bo", "Đại hội Đảng bộ thành phố lần thứ XVII", "Đảng bộ"),
    ("DANG BO", "Đại hội đảng bộ các cấp", "đảng bộ"),
    ("nghi quyet 57", "Theo tinh thần Nghị quyết số 57-NQ/TW", "Nghị quyết số 57-NQ/TW"),
    ("chuyen doi so", "Đẩy mạnh chuyển đổi số trong cơ quan Đảng", "chuyển đổi số"),
    ("Hoàng", "Ảnh: T. Hoang", None),
    ("hoang", "Ảnh: T. Hoàng", "Hoàng"),
    # Document references: keyword forms × text forms.
    ("Nghị quyết 57", "theo tinh thần Nghị quyết số 57-NQ/TW của Bộ Chính trị", "Nghị quyết số 57-NQ/TW"),
    ("Nghị quyết 57", "Nghị quyết 57-NQ/TW ngày 22/12/2024 về đột phá", "Nghị quyết 57-NQ/TW"),
    ("Nghị quyết 57", "Triển khai NQ số 57 tại cơ sở", "NQ số 57"),
    ("Nghị quyết 57", "Triển khai NQ 57 tại cơ sở", "NQ 57"),
    ("Nghị quyết 57", "Kế hoạch thực hiện 57-NQ/TW", "57-NQ/TW"),
    ("Nghị quyết 57", "quán triệt nghị quyết số 57 của Bộ Chính trị", "nghị quyết số 57"),
    ("Nghị quyết 57", nfd("quán triệt Nghị quyết số 57-NQ/TW"), "Nghị quyết số 57-NQ/TW"),
    ("Nghị quyết 66", "Thực hiện Nghị quyết 57, 66 và 68 của Bộ Chính trị", "66"),
    ("Nghị quyết 68", "Thực hiện Nghị quyết 57, 66 và 68 của Bộ Chính trị", "68"),
    ("NQ 59", "các Nghị quyết số 57-NQ/TW, 59-NQ/TW, 66-NQ/TW và 68-NQ/TW", "59-NQ/TW"),
    ("68-NQ/TW", "các Nghị quyết số 57-NQ/TW, 59-NQ/TW, 66-NQ/TW và 68-NQ/TW", "68-NQ/TW"),
    ("Nghị quyết 60", "các Nghị quyết số 57-NQ/TW, 59-NQ/TW, 66-NQ/TW và 68-NQ/TW", None),
    ("57-NQ/TW", "theo Nghị quyết số 57-NQ/TW", "Nghị quyết số 57-NQ/TW"),
    ("57-NQ/TW", "theo Nghị quyết số 57-NQ/TU của Thành ủy", None),
    ("57-NQ/TW", "theo Nghị quyết 57/NQ-CP của Chính phủ", None),
    ("57/NQ-CP", "theo Nghị quyết 57/NQ-CP của Chính phủ", "Nghị quyết 57/NQ-CP"),
    ("57-NQ/TW", "Nghị quyết 57 đi vào cuộc sống", "Nghị quyết 57"),  # the article leaves the issuer out
    ("Nghị quyết số 57-NQ/TW", "Thực hiện 57-NQ/TW", "57-NQ/TW"),
    ("Nghị quyết 57", "Thực hiện Chỉ thị 57 của Ban Bí thư", None),
    ("Chỉ thị 57", "Thực hiện Nghị quyết 57 của Bộ Chính trị", None),
    ("Nghị quyết 57", "Thực hiện Nghị quyết 570-NQ/TW", None),
    ("Chỉ thị 34", "ban hành Chỉ thị số 34-CT/TU về cải cách hành chính", "Chỉ thị số 34-CT/TU"),
    ("Chỉ thị 34-CT/TU", "ban hành Chỉ thị số 34-CT/TU về cải cách hành chính", "Chỉ thị số 34-CT/TU"),
    ("Chỉ thị 34-CT/TU", "ban hành Chỉ thị số 34-CT/TW", None),
    ("Chỉ thị 34", "đến 34 điểm cầu tỉnh ủy, thành ủy", None),
    ("Quyết định 1519/QĐ-TTg", "theo Quyết định số 1519/QĐ-TTg của Thủ tướng", "Quyết định số 1519/QĐ-TTg"),
    ("Quyết định 1519/QĐ-TTg", "theo Quyết định số 1519/QĐ-UBND của tỉnh", None),
    ("Quyết định 1519", "theo 1519/QĐ-TTg của Thủ tướng", "1519/QĐ-TTg"),
    ("Quy định 1519", "theo 1519/QĐ-TTg của Thủ tướng", None),  # Quy định (QĐi) is not Quyết định (QĐ)
    ("Quy định 08", "thực hiện Quy định số 08-QĐi/TW về nêu gương", "Quy định số 08-QĐi/TW"),
    ("Nghị định 13/2023/NĐ-CP", "tuân thủ Nghị định 13/2023/NĐ-CP về bảo vệ dữ liệu", "Nghị định 13/2023/NĐ-CP"),
    ("Nghị định 13/2023/NĐ-CP", "tuân thủ Nghị định 13/2024/NĐ-CP", None),
    ("Nghị định 13", "tuân thủ 13/2023/NĐ-CP về bảo vệ dữ liệu", "13/2023/NĐ-CP"),
    ("Nghị định 13", "tuân thủ Thông tư 13/2023/TT-BCA", None),
    ("Kết luận 21", "Triển khai Kết luận số 21-KL/TW của Trung ương", "Kết luận số 21-KL/TW"),
    ("Quyết định 13140", "ban hành Quyết định số 13140-QĐ/TU ngày 10-6-2019", "Quyết định số 13140-QĐ/TU"),
    ("Quyết định 10", "ban hành Quyết định số 13140-QĐ/TU ngày 10-6-2019", None),
    ("Nghị quyết 9", "Nghị quyết số 09-NQ/TW về văn hóa", "Nghị quyết số 09-NQ/TW"),
    ("Luật 15/2012/QH13", "theo Luật số 15/2012/QH13", "Luật số 15/2012/QH13"),
    ("NQ 57", "Thảo luận về nq 57 trên diễn đàn", None),  # lower-case abbreviation in prose is not a citation
    # A phrase that is not one reference stays a phrase.
    ("Nghị quyết 57 của Bộ Chính trị", "theo Nghị quyết 57 của Bộ Chính trị", "Nghị quyết 57 của Bộ Chính trị"),
    ("Nghị quyết 57 của Bộ Chính trị", "theo Nghị quyết số 57-NQ/TW của Bộ Chính trị", None),
    ("Nghị quyết Đại hội XIV", "quán triệt Nghị quyết Đại hội XIV của Đảng", "Nghị quyết Đại hội XIV"),
]


@pytest.mark.parametrize(("keyword", "sentence", "expected"), CASES)
def test_keyword_against_sentence(keyword: str, sentence: str, expected: str | None) -> None:
    matcher = Matcher([Rule("r", (keyword,))])
    raw = sentence != normalize_body(sentence)
    body = sentence if raw else normalize_body(sentence)
    matches = matcher.match("", body, "seeds")
    if expected is None:
        assert matches == [], f"{keyword!r} should not fire on {sentence!r}"
    else:
        assert [m.text for m in matches] == [expected]
        assert matches[0].keyword == keyword
        assert matches[0].field == "body"


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert sum(1 for *_, e in CASES if e is None) >= 15

"""parse_seed on the shipped samples and on the other shapes offices drop into the seed folder."""

from __future__ import annotations

import codecs
import unicodedata
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.errors import SeedFileError, SourceError
from daemon.models import Document
from daemon.sources.seedfile import MAX_SEED_BYTES, TITLE_MAX, parse_seed
from daemon.text.dates import VN_TZ
from daemon.text.normalize import content_hash, normalize_body

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
MTIME = datetime(2026, 11, 23, 10, 0, tzinfo=VN_TZ)


def seed(prefix: str) -> tuple[bytes, str]:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_bytes(), path.name


def parse(raw: bytes | str, mtime: datetime = MTIME) -> Document:
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    return parse_seed(data, relpath="sub/x.txt", mtime=mtime)


# -- the five shipped samples ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("prefix", "published", "raw_date"),
    [
        ("000", datetime(2026, 1, 10, tzinfo=VN_TZ), "2026-01-10"),
        ("001", datetime(2026, 1, 15, tzinfo=VN_TZ), "2026-01-15"),
        ("002", datetime(2025, 11, 25, tzinfo=VN_TZ), "2025-11-25"),
        ("003", datetime(2024, 10, 18, 19, 14, tzinfo=VN_TZ), "19:14, 18/10/2024 (GMT+7)"),
        ("004", datetime(2025, 12, 25, tzinfo=VN_TZ), "Chiều 25-12"),
    ],
)
def test_sample_dates(prefix: str, published: datetime, raw_date: str) -> None:
    raw, name = seed(prefix)
    doc = parse_seed(raw, relpath=name, mtime=MTIME)
    assert (doc.source, doc.locator) == ("seeds", name)
    assert doc.published_at == published
    assert doc.published_at is not None and doc.published_at.tzinfo is not None
    assert doc.published_raw == raw_date
    assert doc.date_inferred is False
    assert doc.url is None
    assert 0 < len(doc.title) <= TITLE_MAX
    assert doc.body == normalize_body(doc.body) and len(doc.body) > 1000


def test_sample_003_title_category_and_body() -> None:
    doc = parse_seed(*seed("003")[:1], relpath="003.txt", mtime=MTIME)
    assert doc.category == "Chính trị"
    assert doc.title == "Làm tốt công tác tham mưu, tổng hợp phục vụ lãnh đạo các cấp trong chỉ đạo, điều hành"
    assert doc.body.startswith("Chiều 18-10, Văn phòng Thành ủy tổ chức hội nghị")  # "ĐNO - " stripped
    assert "19:14" not in doc.body and "Chính trị\n" not in doc.body
    assert doc.body.endswith("NGỌC PHÚ")  # the lone "." line of the web copy is gone


def test_sample_000_title_is_the_first_sentence_of_the_lead() -> None:
    doc = parse_seed(seed("000")[0], relpath="000.txt", mtime=MTIME)
    assert doc.title == (
        "Trao Bằng khen của Văn phòng Trung ương Đảng đối với các cá nhân có thành tích xuất sắc trong năm 2025"
    )
    assert doc.body.startswith("Trao Bằng khen của Văn phòng")  # the lead stays in the body ...
    assert "date 2026" not in doc.body  # ... the date marker does not
    assert "9/9 chỉ tiêu" in doc.body


def test_sample_001_title_is_the_lead_line() -> None:
    doc = parse_seed(seed("001")[0], relpath="001.txt", mtime=MTIME)
    assert doc.title == "Khen thưởng các tập thể có thành tích xuất sắc trong thực hiện nhiệm vụ"
    assert doc.category is None


def test_sample_004_long_lead_gives_a_cut_title() -> None:
    doc = parse_seed(seed("004")[0], relpath="004.txt", mtime=MTIME)
    assert doc.title.startswith("Chiều 25-12, Thành ủy TPHCM tổ chức Hội nghị tổng kết")
    assert doc.title.endswith("…") and len(doc.title) <= TITLE_MAX
    assert not doc.title[:-1].endswith(" ")
    assert doc.body.startswith(doc.title[:-1])  # cut at a word boundary of the lead


def test_sample_004_year_follows_the_file_time() -> None:
    raw = seed("004")[0]
    assert parse_seed(raw, relpath="x", mtime=datetime(2026, 1, 5, tzinfo=VN_TZ)).published_at == datetime(
        2025, 12, 25, tzinfo=VN_TZ
    )
    assert parse_seed(raw, relpath="x", mtime=datetime(2025, 12, 1, tzinfo=VN_TZ)).published_at == datetime(
        2024, 12, 25, tzinfo=VN_TZ
    )


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
@pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16", "utf-16-be", "utf-16-le", "nfd+crlf"])
def test_samples_parse_the_same_whatever_the_encoding(prefix: str, codec: str) -> None:
    raw, name = seed(prefix)
    text = raw.decode("utf-8")
    if codec == "nfd+crlf":
        data = unicodedata.normalize("NFD", text).replace("\n", "\r\n").encode("utf-8")
    else:
        data = text.encode(codec)
    assert parse_seed(data, relpath=name, mtime=MTIME) == parse_seed(raw, relpath=name, mtime=MTIME)


# -- header block ----------------------------------------------------------------------------------
def test_header_block_values_win() -> None:
    doc = parse(
        "Title: Hội nghị  Văn phòng cấp uỷ\n"
        "URL: https://example.vn/bai-viet?id=1\n"
        "date: 2025-03-04T08:30:00+07:00\n"
        "Source: Báo Đà Nẵng\n"
        "category: Xây dựng Đảng\n"
        "author: ignored\n"
        "\n"
        "Chính trị\n\nTiêu đề khác\n\n19:14, 18/10/2024 (GMT+7)\n\nChiều 18-10, nội dung bài."
    )
    assert doc.title == "Hội nghị Văn phòng cấp ủy"  # normalized
    assert doc.url == "https://example.vn/bai-viet?id=1"
    assert doc.published_at == datetime(2025, 3, 4, 8, 30, tzinfo=VN_TZ)
    assert doc.published_raw == "2025-03-04T08:30:00+07:00"
    assert doc.category == "Xây dựng Đảng"
    assert doc.source == "seeds"  # the header's source is the outlet, not where newswatch got the article
    assert doc.outlet == "Báo Đà Nẵng"
    assert doc.body == "Chiều 18-10, nội dung bài."
    assert "Báo Đà Nẵng" not in doc.body


def test_the_outlet_is_normalized_and_absent_without_a_header() -> None:
    nfd = unicodedata.normalize("NFD", "Báo Thừa Thiên Huế")
    assert parse(f"source:  {nfd}\n\nNội dung bài viết.").outlet == "Báo Thừa Thiên Huế"
    assert parse("Nội dung bài viết không có tiêu đề.").outlet is None


def test_header_without_title_or_date_falls_back_to_the_text() -> None:
    doc = parse("url: http://example.vn/a\n\nSáng 18-10, đoàn công tác làm việc. Ông A phát biểu.")
    assert doc.url == "http://example.vn/a"
    assert doc.title == "Sáng 18-10, đoàn công tác làm việc"
    assert doc.published_at == datetime(2026, 10, 18, tzinfo=VN_TZ)
    assert doc.date_inferred is False


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd", "example.vn/a", "https://",
                                 "http://[x/a"])
def test_header_url_must_be_http(url: str) -> None:
    assert parse(f"title: T\nurl: {url}\n\nNội dung.").url is None


def test_unparseable_header_date_is_ignored() -> None:
    doc = parse("title: T\ndate: hôm qua\n\nNội dung không có ngày.")
    assert doc.published_at == MTIME and doc.date_inferred is True and doc.published_raw is None


@pytest.mark.parametrize(
    "text",
    [
        "Ghi chú: bài này chưa duyệt\n\nNội dung.",  # not ASCII key
        "Note: draft\n\nNội dung.",  # ASCII, but no known key
        "title: T\nMột dòng không phải khóa\n\nNội dung.",  # a line that is not key: value
    ],
)
def test_not_a_header(text: str) -> None:
    doc = parse(text)
    assert doc.body.split("\n", 1)[0] == text.split("\n", 1)[0]


def test_header_only_is_an_error() -> None:
    with pytest.raises(SeedFileError, match="no article text"):
        parse("title: Chỉ có tiêu đề\ndate: 2025-03-04\n\n   \n")
    with pytest.raises(SeedFileError, match="no article text"):
        parse("title: Chỉ có tiêu đề\ndate: 2025-03-04")


# -- other shapes ----------------------------------------------------------------------------------
def test_date_lead_with_time() -> None:
    doc = parse(" date 2025-03-04T08:30:00+07:00 Tin nhanh. Nội dung tiếp.\n\nĐoạn hai.")
    assert doc.published_at == datetime(2025, 3, 4, 8, 30, tzinfo=VN_TZ)
    assert doc.title == "Tin nhanh"
    assert doc.body == "Tin nhanh. Nội dung tiếp.\n\nĐoạn hai."


def test_breadcrumb_category_and_dateline_first() -> None:
    doc = parse("Thời sự > Chính trị\nHội nghị tổng kết\nThứ sáu, 18/10/2024 - 19:14\n\nNội dung bài viết.")
    assert (doc.category, doc.title) == ("Chính trị", "Hội nghị tổng kết")
    assert doc.published_at == datetime(2024, 10, 18, 19, 14, tzinfo=VN_TZ)
    assert doc.body == "Nội dung bài viết."


def test_dateline_as_first_line_takes_the_title_from_the_body() -> None:
    doc = parse("18/10/2024\n\nVăn phòng Thành ủy họp. Nội dung.")
    assert doc.published_at == datetime(2024, 10, 18, tzinfo=VN_TZ)
    assert (doc.title, doc.category) == ("Văn phòng Thành ủy họp", None)


def test_a_sentence_before_the_dateline_is_not_a_category() -> None:
    doc = parse("Tin tức, sự kiện trong ngày.\nHội nghị tổng kết\n18/10/2024\n\nNội dung.")
    assert doc.category is None and doc.title == "Hội nghị tổng kết"


def test_a_date_mentioned_in_the_lead_is_used_but_the_text_is_kept() -> None:
    doc = parse("Ngày 18/10/2024, Văn phòng Thành ủy tổ chức hội nghị.\n\nĐoạn hai.")
    assert doc.published_at == datetime(2024, 10, 18, tzinfo=VN_TZ)
    assert doc.published_raw == "18/10/2024"
    assert doc.body.startswith("Ngày 18/10/2024, Văn phòng")


def test_implausible_dateline_falls_back() -> None:
    doc = parse("Tiêu đề\n18/10/2099\n\nNội dung không có ngày khác.")
    assert doc.published_at == MTIME and doc.date_inferred is True
    assert doc.title == "Tiêu đề"


def test_no_date_anywhere_uses_mtime() -> None:
    doc = parse("Đảng bộ hoàn thành 9/9 chỉ tiêu, thực hiện 130/130 đầu việc.")
    assert doc.published_at == MTIME
    assert doc.date_inferred is True and doc.published_raw is None


def test_naive_mtime_is_read_in_the_zone() -> None:
    doc = parse_seed(b"Noi dung", relpath="a.txt", mtime=datetime(2026, 11, 23, 10, 0))
    assert doc.published_at == MTIME


def test_published_at_is_expressed_in_the_given_zone() -> None:
    utc = ZoneInfo("UTC")
    doc = parse_seed(b"19:14, 18/10/2024 (GMT+7)\n\nNoi dung", relpath="a.txt", mtime=MTIME, tz=utc)
    assert doc.published_at == datetime(2024, 10, 18, 12, 14, tzinfo=utc)
    assert doc.published_at is not None and doc.published_at.utcoffset() is not None
    assert doc.published_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


# -- titles ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("first_line", "title"),
    [
        ("Trao Bằng khen năm 2025. Ảnh T. Hoàng", "Trao Bằng khen năm 2025"),
        ("Ông T. Hoàng phát biểu. Sau đó", "Ông T. Hoàng phát biểu"),
        ("Đoàn công tác đến TP. Huế làm việc. Tiếp theo", "Đoàn công tác đến TP. Huế làm việc"),
        ("Có nên đổi mới? Đây là câu hỏi", "Có nên đổi mới?"),
        ("Tăng 1.5 lần so với năm trước", "Tăng 1.5 lần so với năm trước"),
        ("Chờ đợi... và hy vọng", "Chờ đợi... và hy vọng"),
    ],
)
def test_title_is_the_first_sentence(first_line: str, title: str) -> None:
    assert parse(first_line + "\n\nĐoạn hai.").title == title


def test_long_titles_are_cut_at_a_word_boundary() -> None:
    words = " ".join(f"từ{i}" for i in range(100))
    doc = parse(f"title: {words}\n\nNội dung.")
    assert len(doc.title) <= TITLE_MAX and doc.title.endswith("…")
    assert words.startswith(doc.title[:-1]) and words[len(doc.title) - 1] == " "


def test_one_long_word_title_is_cut_hard() -> None:
    doc = parse("x" * 500)
    assert doc.title == "x" * (TITLE_MAX - 1) + "…"


# -- refusals --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b"   \n\t\r\n\xc2\xa0 \n", "white space"),
        (codecs.BOM_UTF8 + b"\xe2\x80\x8b\n", "white space"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        (b"PK\x03\x04\x14\x00\x00\x00", "zip"),
        (b"abc\x00\x00\x00\x01\x02\x00", "binary"),
        (b"Th\x81nh \x8d\x90", "undecodable"),
        (b"\n.\n-\n", "no article text"),
    ],
)
def test_refused_files(raw: bytes, reason: str) -> None:
    with pytest.raises(SeedFileError, match=reason) as info:
        parse_seed(raw, relpath="sub/bad.txt", mtime=MTIME)
    assert isinstance(info.value, SourceError)
    assert info.value.source == "sub/bad.txt"
    assert str(info.value).startswith("sub/bad.txt: ")


def test_oversize_is_refused_before_decoding() -> None:
    raw = b"a" * (MAX_SEED_BYTES + 1)
    with pytest.raises(SeedFileError, match="too large"):
        parse_seed(raw, relpath="big.txt", mtime=MTIME)
    assert parse_seed(b"a" * MAX_SEED_BYTES, relpath="ok.txt", mtime=MTIME).body == "a" * MAX_SEED_BYTES


def test_outlet_prefix_does_not_change_the_content_hash() -> None:
    plain = parse("Sáng 1-5, đoàn công tác làm việc tại Hà Nội. Nội dung.")
    prefixed = parse("(Chinhphu.vn) - Sáng 1-5, đoàn công tác làm việc tại Hà Nội. Nội dung.")
    assert prefixed.body == plain.body
    assert prefixed.title == plain.title == "Sáng 1-5, đoàn công tác làm việc tại Hà Nội"
    assert content_hash(prefixed.title, prefixed.body) == content_hash(plain.title, plain.body)
    assert parse("Hà Nội - Sáng 1-5, đoàn công tác.").body.startswith("Hà Nội - ")  # a place dateline stays


# -- the body is canonical without a second pass (parse_seed types it CanonicalBody) ----------------------
_SEED_PIECES = [
    "title: Tin\n", "date: 2026-01-10\n", "\n", "\n\n\n", " ", "\u00a0", "\t", "\r\n", "date 2026-01-10 ",
    "Chính trị\n", "19:14, 18/10/2024 (GMT+7)\n", "(Chinhphu.vn) - ", "TTO - ", "ĐNO – ", "Hoà bình", "uỷ ban",
    "tho\u0301a", "Đảng bộ", "quý", ".", "…", "“Trích”", "- ", "a\u0301", "\u0301", "Chiều 25-12", "57-NQ/TW",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_SEED_PIECES), min_size=1, max_size=25).map("".join))
def test_a_parsed_body_is_already_canonical(text: str) -> None:
    from daemon.text.normalize import _normalize_body

    try:
        doc = parse(text)
    except SeedFileError:
        return
    assert _normalize_body(doc.body) == doc.body  # the pure pass, not the type parse_seed gave it


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["", ".", " ", "…", "-", "Tin", "a b", "—"]), max_size=8).map("\n".join))
def test_tidy_body_drops_exactly_the_wordless_end_lines(text: str) -> None:
    import re

    from daemon.sources.seedfile import _tidy_body

    lines = text.split("\n")
    wordy = [i for i, line in enumerate(lines) if re.search(r"\w", line)]
    expected = "\n".join(lines[wordy[0] : wordy[-1] + 1]) if wordy else ""
    assert _tidy_body(text) == expected

"""Vietnamese and broken-RFC date forms as real feeds and articles write them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.text.dates import (
    _RFC822,
    VN_TZ,
    _clean,
    _parse_loose,
    _parse_rfc822,
    find_dateline,
    infer_partial_date,
    is_plausible,
    parse_datetime,
)

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def vn(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:  # noqa: PLR0917
    return datetime(year, month, day, hour, minute, second, tzinfo=VN_TZ)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # ISO 8601
        ("2026-01-10", vn(2026, 1, 10)),
        ("2026-01-10T08:00:00+07:00", vn(2026, 1, 10, 8)),
        ("2026-01-10T01:00:00Z", vn(2026, 1, 10, 8)),
        ("2026-01-10T08:00:00.123+0700", vn(2026, 1, 10, 8)),
        ("2026-01-10 08:30", vn(2026, 1, 10, 8, 30)),
        ("2026-01-10T08:00:00-05:00", vn(2026, 1, 10, 20)),
        # RFC 822 and its Vietnamese-feed variants
        ("Fri, 21 Aug 2026 23:19:06 +07:00", vn(2026, 8, 21, 23, 19, 6)),
        ("Fri, 21 Aug 2026 23:19:06 +0700", vn(2026, 8, 21, 23, 19, 6)),
        ("Fri, 21 Aug 2026 23:19:06 +07", vn(2026, 8, 21, 23, 19, 6)),
        ("Fri, 21 Aug 2026 23:19:06 GMT+7", vn(2026, 8, 21, 23, 19, 6)),
        ("Fri, 21 Aug 2026 23:19:06 GMT+07:00", vn(2026, 8, 21, 23, 19, 6)),
        ("Fri, 21 Aug 2026 23:19:06 GMT", vn(2026, 8, 22, 6, 19, 6)),
        ("Fri, 21 Aug 2026 23:19:06 UTC", vn(2026, 8, 22, 6, 19, 6)),
        ("21 Aug 2026 23:19:06 +0700", vn(2026, 8, 21, 23, 19, 6)),
        ("Mon, 21 Aug 2026 23:19:06 +0700", vn(2026, 8, 21, 23, 19, 6)),  # wrong weekday
        ("Friday, 21 August 2026 23:19 +0700", vn(2026, 8, 21, 23, 19)),
        ("Fri, 21 Aug 26 23:19:06 +0700", vn(2026, 8, 21, 23, 19, 6)),  # two-digit year
        ("Sat, 22 Aug 2026 01:00:00 -0500", vn(2026, 8, 22, 13)),
        ("Fri, 21 Aug 2026 12:00:00 EST", vn(2026, 8, 22, 0)),
        ("Fri, 29 May 2026 04:36:40 CET", vn(2026, 5, 29, 10, 36, 40)),  # feedparser: UTC, an hour late
        ("Fri, 29 May 2026 04:36:40 CEST", vn(2026, 5, 29, 9, 36, 40)),
        ("Fri, 29 May 2026 13:00:00 JST", vn(2026, 5, 29, 11)),
        ("Fri, 29 May 2026 12:00:00 SGT", vn(2026, 5, 29, 11)),
        ("Aug 21, 2026 11:19 PM", vn(2026, 8, 21, 23, 19)),
        ("Fri, 21 Aug 2026 23:19:06", vn(2026, 8, 21, 23, 19, 6)),  # no zone: local
        # US month-first with a 12-hour clock (ASP.NET feeds)
        ("8/22/2026 9:50:00 PM", vn(2026, 8, 22, 21, 50)),
        ("8/22/2026 9:50:00\u202fPM", vn(2026, 8, 22, 21, 50)),
        ("8/22/2026 9:50:00\u00a0AM", vn(2026, 8, 22, 9, 50)),
        ("8/9/2026 12:05:00 AM", vn(2026, 8, 9, 0, 5)),
        ("8/9/2026 12:05:00 PM", vn(2026, 8, 9, 12, 5)),
        ("22/8/2026 9:50 PM", vn(2026, 8, 22, 21, 50)),  # 22 cannot be a month
        ("8/9/2026 9:50 CH", vn(2026, 8, 9, 21, 50)),  # Vietnamese locale: CH = chiều (PM)
        # Vietnamese article forms: day first
        ("19:14, 18/10/2024 (GMT+7)", vn(2024, 10, 18, 19, 14)),
        ("18/10/2024 19:14", vn(2024, 10, 18, 19, 14)),
        ("18-10-2024", vn(2024, 10, 18)),
        ("18.10.2024", vn(2024, 10, 18)),
        ("18/10/2024", vn(2024, 10, 18)),
        ("08/10/2024", vn(2024, 10, 8)),  # both ≤ 12 and no AM/PM: day first
        ("10/18/2024", vn(2024, 10, 18)),  # 18 cannot be a month
        ("18/10/24", vn(2024, 10, 18)),
        ("2024/10/18 07:05", vn(2024, 10, 18, 7, 5)),
        ("Thứ sáu, 18/10/2024, 19:14 GMT+7", vn(2024, 10, 18, 19, 14)),
        ("Thứ Sáu, 18/10/2024 - 19:14", vn(2024, 10, 18, 19, 14)),
        ("Thứ 6, 18/10/2024 19:14 (GMT+7)", vn(2024, 10, 18, 19, 14)),
        ("Chủ nhật, 20/10/2024", vn(2024, 10, 20)),
        ("ngày 18 tháng 10 năm 2024", vn(2024, 10, 18)),
        ("Ngày 18 tháng 10 năm 2024, 19:14", vn(2024, 10, 18, 19, 14)),
        ("18h30 ngày 18/10/2024", vn(2024, 10, 18, 18, 30)),
        ("Cập nhật lúc 19:14 18/10/2024", vn(2024, 10, 18, 19, 14)),
        (" 18/10/2024 \n", vn(2024, 10, 18)),
    ],
)
def test_parse_datetime(raw: str, expected: datetime) -> None:
    got = parse_datetime(raw)
    assert got == expected
    assert got is not None and got.utcoffset() == timedelta(hours=7)  # expressed in the zone asked for


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "hello",
        "9/9 chỉ tiêu",
        "130/130",
        "6/2022 - 6/2025",
        "2020-2025",
        "31/02/2024",
        "32/10/2024",
        "18/13/2024 25:00",
        "18/10/2024 24:30",
        "13/14/2024",
        "Fri, 21 Foo 2026 23:19:06 +0700",
        "Fri, 21 Aug 2026 23:19:06 +2500",
        "18/10/2024 Văn phòng Thành ủy tổ chức hội nghị",
        "Chiều 18-10",
        "2024/10/2024",
        "x" * 500,
        "1" * 40,
    ],
)
def test_parse_datetime_refuses(raw: str) -> None:
    assert parse_datetime(raw) is None


def test_naive_times_are_in_the_given_zone() -> None:
    utc = ZoneInfo("UTC")
    got = parse_datetime("18/10/2024 19:14", tz=utc)
    assert got == datetime(2024, 10, 18, 19, 14, tzinfo=UTC)
    assert got is not None and got.utcoffset() == timedelta(0)
    assert parse_datetime("18/10/2024 19:14 GMT+7", tz=utc) == datetime(2024, 10, 18, 12, 14, tzinfo=UTC)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789/-.: ,()+GMTAPhaàngytháểmămSáuThứ\u202f\u00a0ZzT"), max_size=40))
def test_parse_datetime_never_raises_and_is_always_aware(raw: str) -> None:
    got = parse_datetime(raw)
    assert got is None or (got.tzinfo is not None and got.utcoffset() == timedelta(hours=7))


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2099, 12, 31)))
def test_round_trip_of_written_forms(dt: datetime) -> None:
    dt = dt.replace(second=0, microsecond=0, tzinfo=VN_TZ)
    assert parse_datetime(dt.strftime("%H:%M, %d/%m/%Y (GMT+7)")) == dt
    assert parse_datetime(dt.strftime("%a, %d %b %Y %H:%M:%S +0700")) == dt
    assert parse_datetime(dt.isoformat()) == dt
    hour12 = dt.strftime("%I").lstrip("0") or "12"
    assert parse_datetime(f"{dt.month}/{dt.day}/{dt.year} {hour12}:{dt:%M}:00\u202f{dt:%p}") == dt


# -- find_dateline ---------------------------------------------------------------------------------
def test_find_dateline_in_seed_003() -> None:
    text = (SEEDS / "003_66c6c28c11c30f85.txt").read_text(encoding="utf-8")
    found = find_dateline(text)
    assert found == (vn(2024, 10, 18, 19, 14), "19:14, 18/10/2024 (GMT+7)")


@pytest.mark.parametrize(
    ("text", "expected", "raw"),
    [
        ("Tiêu đề\n\nCập nhật: Thứ sáu, 18/10/2024 19:14\n\nNội dung", vn(2024, 10, 18, 19, 14), None),
        ("Tiêu đề\nNgày 18/10/2024, Văn phòng Thành ủy tổ chức hội nghị.", vn(2024, 10, 18), "18/10/2024"),
        ("Sáng 18/10/2024 lúc 08:30, đoàn công tác...", vn(2024, 10, 18, 8, 30), "18/10/2024 lúc 08:30"),
        ("Hà Nội, ngày 18 tháng 10 năm 2024\nQUYẾT ĐỊNH", vn(2024, 10, 18), "ngày 18 tháng 10 năm 2024"),
        ("Bài viết (19:14, 18/10/2024 (GMT+7)) rồi", vn(2024, 10, 18, 19, 14), "19:14, 18/10/2024 (GMT+7)"),
    ],
)
def test_find_dateline_inside_lines(text: str, expected: datetime, raw: str | None) -> None:
    found = find_dateline(text)
    assert found is not None and found[0] == expected
    if raw is not None:
        assert found[1] == raw


@pytest.mark.parametrize(
    "text",
    [
        (SEEDS / "004_24433ae2ab323b24.txt").read_text(encoding="utf-8"),  # only "Chiều 25-12": no year
        "Đảng bộ hoàn thành 9/9 chỉ tiêu, thực hiện 130/130 đầu việc (từ tháng 6/2022 - 6/2025).",
        "\n" * 12 + "18/10/2024",  # beyond the first lines
        "",
    ],
)
def test_find_dateline_finds_nothing(text: str) -> None:
    assert find_dateline(text) is None


# -- infer_partial_date ----------------------------------------------------------------------------
REF = vn(2026, 11, 23, 10)


@pytest.mark.parametrize(
    ("text", "expected", "raw"),
    [
        ("Chiều 25-12, Thành ủy TPHCM tổ chức Hội nghị", vn(2025, 12, 25), "Chiều 25-12"),
        ("Sáng 18-10, Văn phòng Thành ủy", vn(2026, 10, 18), "Sáng 18-10"),
        ("Tối 3/2, đoàn đại biểu", vn(2026, 2, 3), "Tối 3/2"),
        ("Trưa 1-5 tại Hà Nội", vn(2026, 5, 1), "Trưa 1-5"),
        ("Ngày 25-12 tới", vn(2025, 12, 25), "Ngày 25-12"),
        ("ĐÊM 22/11, mưa lớn", vn(2026, 11, 22), "ĐÊM 22/11"),
        ("sáng nay (25/12), hội nghị", vn(2025, 12, 25), "sáng nay (25/12)"),
        ("Rạng sáng 24-11, cơ quan", vn(2026, 11, 24), "Rạng sáng 24-11"),  # within the one-day grace
        ("ĐNO - Chiều 18-10, Văn phòng Thành ủy", vn(2026, 10, 18), "Chiều 18-10"),
    ],
)
def test_infer_partial_date(text: str, expected: datetime, raw: str) -> None:
    assert infer_partial_date(text, REF) == (expected, raw)


def test_infer_partial_date_from_seed_004() -> None:
    text = (SEEDS / "004_24433ae2ab323b24.txt").read_text(encoding="utf-8")
    assert infer_partial_date(text, REF) == (vn(2025, 12, 25), "Chiều 25-12")


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        (vn(2026, 1, 2), vn(2026, 1, 1)),
        (vn(2025, 12, 31, 23), vn(2026, 1, 1)),  # a day of grace crosses the new year
        (vn(2025, 12, 30), vn(2025, 1, 1)),
    ],
)
def test_infer_partial_date_year_choice(reference: datetime, expected: datetime) -> None:
    assert infer_partial_date("Sáng 1-1, lễ chào cờ", reference) == (expected, "Sáng 1-1")


def test_infer_partial_date_29_february_goes_back_to_a_leap_year() -> None:
    assert infer_partial_date("Chiều 29-2, hội nghị", vn(2026, 11, 23)) == (vn(2024, 2, 29), "Chiều 29-2")


def test_infer_partial_date_accepts_a_naive_reference() -> None:
    assert infer_partial_date("Chiều 25-12, hội nghị", datetime(2026, 11, 23)) == (vn(2025, 12, 25), "Chiều 25-12")


@pytest.mark.parametrize(
    "text",
    [
        "Đảng bộ hoàn thành 9/9 chỉ tiêu chủ yếu, thực hiện 130/130 đầu việc",
        "Trong 3 năm qua (từ tháng 6/2022 - 6/2025), Văn phòng",
        "Ngày 25-12-2025, Thành ủy",  # a full date is find_dateline's business
        "Chiều 32-12, Thành ủy",
        "Chiều 25-13, Thành ủy",
        "Buổi chiều, 25 đại biểu",
        "x" * 300 + " Chiều 25-12, Thành ủy",  # outside the lead
        "Nhiều 25-12",  # "chiều" inside another word
    ],
)
def test_infer_partial_date_refuses(text: str) -> None:
    assert infer_partial_date(text, REF) is None


# -- is_plausible ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("dt", "ok"),
    [
        (REF, True),
        (REF + timedelta(hours=23), True),
        (REF + timedelta(days=1, minutes=1), False),
        (vn(1990, 1, 1, 7), True),
        (vn(1989, 12, 31), False),
        (vn(2000, 1, 1), True),
        (datetime(2026, 11, 23, 10), True),  # naive: read as Vietnam time
    ],
)
def test_is_plausible(dt: datetime, ok: bool) -> None:
    assert is_plausible(dt, REF) is ok


def test_is_plausible_compares_instants_not_wall_clocks() -> None:
    new_york = timezone(timedelta(hours=-5))
    assert is_plausible(datetime(2026, 11, 23, 20, 0, tzinfo=new_york), REF)  # 08:00 on the 24th in Vietnam
    assert not is_plausible(datetime(2026, 11, 24, 0, 0, tzinfo=new_york), REF)  # 12:00 on the 24th in Vietnam


def _outcome(read: Callable[[str, ZoneInfo], datetime | None], text: str, tz: ZoneInfo) -> object:
    try:
        when = read(text, tz)
    except (ValueError, OverflowError) as exc:
        return type(exc)
    return when, when and when.tzinfo, when and when.utcoffset()


@settings(max_examples=800, deadline=None)
@given(st.sampled_from(["", "Fri, ", "Mon, ", "sun, ", "Friday, ", "Fri,"]), st.integers(0, 39),
       st.sampled_from(["Jan", "May", "Dec", "dec", "Mai", "Sept"]), st.integers(0, 10_000), st.integers(0, 30),
       st.integers(0, 99), st.integers(0, 99),
       st.sampled_from(["GMT", "UT", "UTC", "Z", "+0700", "-0500", "+07:00", "+1500", "+0760", "-0000", "EST", "ICT",
                        "+07", "GMT+7", ""]),
       st.sampled_from([ZoneInfo("Asia/Ho_Chi_Minh"), ZoneInfo("UTC"), ZoneInfo("America/New_York")]))
def test_strict_rfc822_is_read_as_the_loose_reader_reads_it(  # noqa: PLR0917
    weekday: str, day: int, month: str, year: int, hour: int, minute: int, second: int, zone: str, tz: ZoneInfo
) -> None:
    raw = f"{weekday}{day:0{1 + day % 2}d} {month} {year:04d} {hour:02d}:{minute:02d}:{second:02d} {zone}"
    text = _clean(raw)
    if _RFC822.fullmatch(text) is None:
        assert _parse_rfc822(text, tz) is None
    else:
        assert _outcome(_parse_rfc822, text, tz) == _outcome(_parse_loose, text, tz), raw

"""Read the dates Vietnamese news sites and feeds actually write.

Feeds break RFC 822 in many ways (``+07`` or ``GMT+7`` zones, wrong weekdays, US-style
``8/22/2026 9:50:00 PM`` from ASP.NET sites, two-digit years) and articles use Vietnamese forms
(``19:14, 18/10/2024 (GMT+7)``, ``Thứ sáu, 18/10/2024``, ``ngày 18 tháng 10 năm 2024``). A wrong date
puts an article in the wrong day of an office's report, so anything we cannot read with confidence is
None rather than a guess.

Conventions (every returned datetime is timezone-aware and expressed in ``tz``):

- Day/month order of numeric dates ``a/b/yyyy`` (also with ``-`` or ``.``): Vietnamese is day first, so
  ``a`` is the day. The month comes first only when the text proves it is US style: it has an AM/PM
  marker (only the US form ``M/D/YYYY h:mm:ss AM`` writes one; Vietnamese ``SA``/``CH`` count too) and
  ``a`` ≤ 12, or ``a`` ≤ 12 < ``b`` so that no other reading exists. ``yyyy/mm/dd`` is year first.
- A time without a zone is local time in ``tz``. ``GMT+7`` means UTC+7 (as Vietnamese sites mean it, not
  the inverted POSIX sense); ``GMT``/``UTC``/``Z`` are UTC; the RFC 822 US zone names are honoured.
- A date without a time is midnight in ``tz``: inventing an hour would invent precision, and midnight
  keeps the calendar day whatever zone the reader later converts to within Asia.
- Two-digit years: 00–69 → 2000s, 70–99 → 1900s (anything before 1990 is implausible anyway).
- A weekday that contradicts the date is ignored: feeds get it wrong, the numbers are right.
- Dates without a year (``Chiều 25-12``) are only read by ``infer_partial_date``, and only after a
  day-part word, because bare ``9/9`` or ``130/130`` in a lead are counts, not dates. The year is the
  latest one that does not put the date after the reference time (one day of grace), time is midnight.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MIN_PLAUSIBLE_YEAR = 1990
FUTURE_GRACE = timedelta(days=1)
DATELINE_LINES = 10  # find_dateline looks this many lines into the article ...
DATELINE_CHARS = 2000  # ... and never further than this
LEAD_CHARS = 300  # infer_partial_date only reads the lead
_MAX_RAW = 200  # a single date string longer than this is not a date string

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
# Zone abbreviations with one meaning (not IST: India, Ireland or Israel). A date with a name left out is
# read by feedparser, which takes any name it does not know for UTC: a CET date came out an hour late.
_NAMED_ZONES = {
    "gmt": 0, "utc": 0, "ut": 0, "z": 0, "ict": 7,
    "est": -5, "edt": -4, "cst": -6, "cdt": -5, "mst": -7, "mdt": -6, "pst": -8, "pdt": -7,
    "bst": 1, "cet": 1, "cest": 2, "eet": 2, "eest": 3, "msk": 3, "wib": 7, "sgt": 8, "hkt": 8, "jst": 9,
    "kst": 9, "aest": 10, "aedt": 11,
}  # fmt: skip
_MONTH_RE = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_WEEKDAY_RE = (
    r"(?:thứ\s*(?:hai|ba|tư|năm|sáu|bảy|[2-7])|chủ\s*nhật|"
    r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday|rsday)?\.?)"
)

# -- parse_datetime pieces (matched against the cleaned, lower-cased string) ----------------------
_ISO = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[t ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(z|[+-]\d{2}(?::?\d{2})?)?"
)
_ZONE_WITH_OFFSET = re.compile(r"\(?\s*\b(?:gmt|utc|ut)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?(?!\d)\s*\)?")
_DATE_VI = re.compile(r"(?<!\d)(\d{1,2})\s*tháng\s*(\d{1,2})\s*(?:năm|,)?\s*(\d{4})(?!\d)")
_DATE_NUM = re.compile(r"(?<![\d:])(\d{1,4})\s*([/.-])\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})(?![\d:])")
_DATE_DMY_NAME = re.compile(rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th)?[\s-]*({_MONTH_RE})[\s,-]*(\d{{4}}|\d{{2}})(?![\d:])")
_DATE_MDY_NAME = re.compile(rf"\b({_MONTH_RE})\s*(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}}|\d{{2}})(?![\d:])")
_TIME = re.compile(
    r"(?<![\d.])(\d{1,2})\s*[:h]\s*(\d{2})(?:\s*:\s*(\d{2})(?:[.,]\d+)?)?(?!\d)"
    r"(?:\s*(am|pm|a\.m\.|p\.m\.|sa|ch)\b)?"
    r"(?:\s*([+-])(\d{1,4})(?::(\d{2}))?(?!\d))?"
)
# What _parse_loose reads of the strict RFC 822 form, whole: the weekday it ignores, the day and month
# _DATE_DMY_NAME takes, the time _TIME takes with its offset, or a zone name _ZONE_NAME takes.
_RFC822 = re.compile(
    r"(?:(?:mon|tue|wed|thu|fri|sat|sun), )?(\d{1,2}) (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec) (\d{4}) "
    r"(\d{2}):(\d{2}):(\d{2}) (?:(gmt|utc|ut|z)|([+-]\d{4}))"
)
_ZONE_NAME = re.compile(r"\b(" + "|".join(_NAMED_ZONES) + r")\b")
_FILLER = re.compile(
    rf"{_WEEKDAY_RE}|\b(?:cn|t[2-7])\b|ngày\s*đăng|cập\s*nhật|đăng\s*lúc|ngày|lúc|vào|giờ|"
    r"\b(?:published|updated|posted|on|at)\b"
)
_PUNCT_ONLY = re.compile(r"[\s,;|()\[\]\-–—/.:]*")

# -- patterns that find dates inside running text --------------------------------------------------
_TIME_TXT = r"\d{1,2}\s*[:h]\s*\d{2}(?::\d{2})?(?:\s*(?:am|pm|sa|ch)\b)?"
_DATE_TXT = (
    rf"(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{4}}|\d{{4}}-\d{{1,2}}-\d{{1,2}}"
    rf"|(?:ngày\s+)?\d{{1,2}}\s+tháng\s+\d{{1,2}}(?:\s+năm|,)\s+\d{{4}}"
    rf"|\d{{1,2}}\s+{_MONTH_RE},?\s+\d{{4}}|{_MONTH_RE}\s+\d{{1,2}},?\s+\d{{4}})"
)
_DATE_IN_TEXT = re.compile(
    rf"(?<![\w/.:-])(?:{_WEEKDAY_RE}[,\s]+)?(?:{_TIME_TXT}[,\s-]+(?:ngày\s+)?)?{_DATE_TXT}"
    rf"(?:[,\s-]+(?:lúc\s+)?{_TIME_TXT})?(?:\s*\(?\s*(?:gmt|utc)\s*[+-]\s*\d{{1,2}}(?::?\d{{2}})?\s*\)?)?"
    r"(?![\w/])",
    re.IGNORECASE,
)
# Every form _DATE_IN_TEXT knows has a four-digit year: a line without one is skipped (the big pattern
# costs ~100 ns a character, this one a tenth of that).
_FOUR_DIGITS = re.compile(r"\d{4}")
_PARTIAL = re.compile(
    r"(?<!\w)((?:rạng\s+)?sáng|trưa|chiều|tối|đêm|ngày)(?:\s+(?:hôm\s+)?(?:nay|qua))?"
    r"\s*\(?\s*(\d{1,2})\s*[-/]\s*(\d{1,2})\s*\)?(?!\s*[-/.]\s*\d)(?![\w/])",
    re.IGNORECASE,
)


def parse_datetime(raw: str, tz: ZoneInfo = VN_TZ) -> datetime | None:
    """Parse one date string from a feed or an article; None when it is not (only) a date."""
    if not raw:  # also a None slipped in from a feed library
        return None
    text = _clean(raw)
    if not text or len(text) > _MAX_RAW:
        return None
    try:
        rfc = _parse_rfc822(text, tz)
        if rfc is not None:
            return rfc
        iso = _parse_iso(text, tz)
        return iso if iso is not None else _parse_loose(text, tz)
    except (ValueError, OverflowError):
        return None


_DATELINE_MAX = 80  # the longest line taken whole as a dateline ("Thứ Sáu, 18/10/2024, 19:14 (GMT+7)")


def find_dateline(text: str, tz: ZoneInfo = VN_TZ) -> tuple[datetime, str] | None:
    """The first full date (with a year) in an article's first lines, with the raw text it came from.

    A line that is nothing but a date (``19:14, 18/10/2024 (GMT+7)``) is returned whole; otherwise the
    date found inside a line, with the time and zone written next to it.
    """
    head = unicodedata.normalize("NFC", text[: DATELINE_CHARS * 2])[:DATELINE_CHARS]
    for line in head.split("\n")[:DATELINE_LINES]:
        candidate = line.strip()
        if not candidate:
            continue
        # Only a short line can be "nothing but a date"; a paragraph is searched for dates inside it.
        whole = parse_datetime(candidate, tz) if len(candidate) <= _DATELINE_MAX else None
        if whole is not None:
            return whole, candidate
        if _FOUR_DIGITS.search(candidate) is None:
            continue
        for m in _DATE_IN_TEXT.finditer(candidate):
            found = parse_datetime(m.group(0), tz)
            if found is not None:
                return found, m.group(0).strip()
    return None


def infer_partial_date(text: str, reference: datetime, tz: ZoneInfo = VN_TZ) -> tuple[datetime, str] | None:
    """A year-less date after a day-part word in the lead (``Chiều 25-12``), placed in the past of ``reference``.

    Returns midnight of that day in ``tz`` and the matched text, or None when the lead has no such date.
    """
    lead = unicodedata.normalize("NFC", text[: LEAD_CHARS * 2])[:LEAD_CHARS]
    limit = _aware(reference, tz) + FUTURE_GRACE
    for m in _PARTIAL.finditer(lead):
        day, month = int(m.group(2)), int(m.group(3))
        if not (1 <= month <= 12 and 1 <= day <= 31):
            continue
        # Nine years back always reaches a leap year, so 29-2 finds one too.
        for year in range(limit.year, limit.year - 9, -1):
            try:
                when = datetime(year, month, day, tzinfo=tz)
            except ValueError:
                continue
            if when <= limit:
                return when, m.group(0).strip()
    return None


def is_plausible(dt: datetime, now: datetime) -> bool:
    """Whether a published date can be believed: not more than a day ahead of ``now``, not before 1990.

    Naive values are read as Vietnam time so that a caller's slip cannot raise here.
    """
    dt, now = _aware(dt, VN_TZ), _aware(now, VN_TZ)
    floor = datetime(MIN_PLAUSIBLE_YEAR, 1, 1, tzinfo=UTC)
    return floor <= dt <= now + FUTURE_GRACE


# -- helpers ---------------------------------------------------------------------------------------
def _clean(raw: str) -> str:
    """NFC, every kind of space (U+00A0, U+202F ...) as one plain space, lower case."""
    text = unicodedata.normalize("NFC", raw)
    return " ".join(text.split()).casefold()


def _aware(dt: datetime, tz: tzinfo) -> datetime:
    return dt if dt.tzinfo is not None and dt.utcoffset() is not None else dt.replace(tzinfo=tz)


def _parse_iso(text: str, tz: ZoneInfo) -> datetime | None:
    m = _ISO.fullmatch(text)
    if m is None:
        return None
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    hour, minute, second = (int(g) if g else 0 for g in m.group(4, 5, 6))
    zone: tzinfo = tz
    if m.group(7):
        zone = _offset_zone(m.group(7))
    return _build((year, month, day), (hour, minute, second), zone, tz)


def _parse_rfc822(text: str, tz: ZoneInfo) -> datetime | None:
    """The strict RFC 822 form of nearly every ``pubDate`` ("fri, 29 may 2026 04:36:40 gmt"/"+0700"), read
    as ``_parse_loose`` reads it (None: anything else, for it to read). One match instead of its nine
    searches: a feed item's date cost 0.39 times the instructions."""
    m = _RFC822.fullmatch(text)
    if m is None:
        return None
    day, month, year, hour, minute, second, named, offset = m.groups()
    zone = _offset_zone(offset) if offset else timezone(timedelta(hours=_NAMED_ZONES[named]))
    return _build((int(year), _MONTHS[month], int(day)), (int(hour), int(minute), min(int(second), 59)), zone, tz)


def _parse_loose(text: str, tz: ZoneInfo) -> datetime | None:
    zone: tzinfo | None = None
    m = _ZONE_WITH_OFFSET.search(text)
    if m is not None:
        zone = _fixed(m.group(1), int(m.group(2)), int(m.group(3) or 0))
        text = _cut(text, m)

    time_m = _TIME.search(text)
    meridiem = time_m.group(4) if time_m else None
    parsed_date = _find_date(text, has_meridiem=meridiem is not None)
    if parsed_date is None:
        return None
    (year, month, day), date_m = parsed_date
    text = _cut(text, date_m)

    hour = minute = second = 0
    time_m = _TIME.search(text)
    if time_m is not None:
        hour, minute = int(time_m.group(1)), int(time_m.group(2))
        second = min(int(time_m.group(3) or 0), 59)  # a leap second is not worth a None
        hour = _apply_meridiem(hour, time_m.group(4))
        if time_m.group(5):
            zone = _offset_zone(time_m.group(5) + time_m.group(6) + (time_m.group(7) or ""))
        text = _cut(text, time_m)

    if zone is None:
        named = _ZONE_NAME.search(text)
        if named is not None:
            zone = timezone(timedelta(hours=_NAMED_ZONES[named.group(1)]))
            text = _cut(text, named)
    if not _PUNCT_ONLY.fullmatch(_FILLER.sub(" ", text)):
        return None
    return _build((year, month, day), (hour, minute, second), zone or tz, tz)


def _find_date(text: str, *, has_meridiem: bool) -> tuple[tuple[int, int, int], re.Match[str]] | None:
    m = _DATE_VI.search(text)
    if m is not None:
        return (int(m.group(3)), int(m.group(2)), int(m.group(1))), m
    m = _DATE_NUM.search(text)
    if m is not None:
        first, second, year_text = m.group(1), int(m.group(3)), m.group(4)
        if len(first) == 4:
            if len(year_text) == 4:
                return None  # 2024/10/2024 is no date
            return (int(first), second, int(year_text)), m
        if len(first) == 3:
            return None
        a, year = int(first), _full_year(year_text)
        month_first = (has_meridiem and a <= 12) or (a <= 12 < second)
        return ((year, a, second) if month_first else (year, second, a)), m
    m = _DATE_DMY_NAME.search(text)
    if m is not None:
        return (_full_year(m.group(3)), _MONTHS[m.group(2)[:3]], int(m.group(1))), m
    m = _DATE_MDY_NAME.search(text)
    if m is not None:
        return (_full_year(m.group(3)), _MONTHS[m.group(1)[:3]], int(m.group(2))), m
    return None


def _full_year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def _apply_meridiem(hour: int, meridiem: str | None) -> int:
    if meridiem is None or hour > 12:
        return hour  # "13:00 PM" is a 24-hour clock with a stray marker
    if meridiem in ("am", "a.m.", "sa"):
        return 0 if hour == 12 else hour
    return hour if hour == 12 else hour + 12


def _offset_zone(text: str) -> tzinfo:
    """``z``, ``+07``, ``+0700``, ``+07:00``, ``+7`` → a fixed offset."""
    if text == "z":
        return UTC
    sign, digits = text[0], text[1:].replace(":", "")
    if len(digits) <= 2:
        return _fixed(sign, int(digits), 0)
    return _fixed(sign, int(digits[:-2]), int(digits[-2:]))


def _fixed(sign: str, hours: int, minutes: int) -> tzinfo:
    if hours > 14 or minutes > 59:
        raise ValueError("offset out of range")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if sign == "-" else delta)


def _build(ymd: tuple[int, int, int], hms: tuple[int, int, int], zone: tzinfo, tz: ZoneInfo) -> datetime:
    date(*ymd)  # raises ValueError for 31/02 and the like
    return datetime(*ymd, *hms, tzinfo=zone).astimezone(tz)


def _cut(text: str, m: re.Match[str]) -> str:
    return text[: m.start()] + " " + text[m.end() :]

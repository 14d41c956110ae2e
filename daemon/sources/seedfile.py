"""One seed file's bytes → a ``Document``. Pure: the folder scanner reads the file and passes the bytes.

Seed files come from copy-paste, export tools and scrapers, so there is no single format. In order:

1. An optional header block: ``key: value`` lines (ASCII keys, case-insensitive) ended by a blank line
   (a file of nothing but such lines is a header without an article, and refused),
   with at least one of ``title``, ``url``, ``date``, ``source``, ``category``; other keys are ignored.
   Explicit values win over anything guessed from the text. ``source`` names the outlet (the paper the
   text was copied from) and becomes ``Document.outlet``, not ``Document.source``: the source is where
   newswatch got the article (``"seeds"``), what sightings record and rules' ``sources`` filter on.
   ``url`` is kept only when it is http(s), since it ends up as a link in alerts.
2. A first line ``date 2026-01-10 <lead ...>`` (the export tool's form): the date is that day at
   midnight (see ``daemon.text.dates``), the lead is the start of the body and its first sentence the
   title. Like a header value, this date is trusted as written.
3. A dateline near the top (``19:14, 18/10/2024 (GMT+7)`` on a line of its own, within the first few
   lines): the line just before it is the title, a short line before that the category (the last part
   of a breadcrumb ``Thời sự > Chính trị``); the body is what follows the dateline.
4. Otherwise a full date in the first lines, then a year-less date in the lead (``Chiều 25-12``) placed
   before the file's mtime. Dates found in the text must be plausible against the file's mtime.
   ``date_inferred`` is True only when nothing in the file gave a date and the mtime is used.

Titles not given explicitly are the first sentence of the first line (without its final period), and
any title is cut at a word boundary to at most 200 characters. Trailing lines with no letters or digits
(a lone "." left by a web page copy) are dropped from the body, and so is an outlet prefix such as
``ĐNO - `` or ``(Chinhphu.vn) - `` (``daemon.text.html.strip_outlet_prefix``, the feed items' rule), so a
seed and a feed copy of one article get the same content hash.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from daemon.errors import SeedFileError
from daemon.models import SEEDS_SOURCE, Document
from daemon.text.dates import VN_TZ, find_dateline, infer_partial_date, is_plausible, parse_datetime
from daemon.text.decode import DecodeError, decode_bytes
from daemon.text.html import strip_outlet_prefix
from daemon.text.normalize import CanonicalBody, normalize, normalize_body

MAX_SEED_BYTES = 5 * 1024 * 1024
TITLE_MAX = 200
HEADER_KEYS = frozenset({"title", "url", "date", "source", "category"})
DATELINE_MAX_LINE = 12  # a dateline block must start within this many non-empty lines ...
PREAMBLE_MAX_LINES = 3  # ... with at most this many lines (breadcrumb, category, title) before it
PREAMBLE_MAX_CHARS = 300  # each no longer than a headline
CATEGORY_MAX_CHARS = 40
CATEGORY_MAX_WORDS = 6

_HEADER_LINE = re.compile(r"([A-Za-z][A-Za-z0-9_-]{0,30})\s*:\s*(.*)")
_DATE_LEAD = re.compile(
    r"date\s*:?\s+(\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?)(?=\s|$)[ \t]*",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?…]+[\"”»')]*(?=\s)")
_ABBREVIATIONS = frozenset({"tp", "ths", "ts", "pgs", "gs", "bs", "ks", "mr", "mrs", "ms", "dr", "st", "v.v", "tt"})
_BREADCRUMB = re.compile(r"\s*[>»›|]\s*")
_HAS_WORD = re.compile(r"\w")


def parse_seed(raw: bytes, *, relpath: str, mtime: datetime, tz: ZoneInfo = VN_TZ) -> Document:
    """Parse one seed file; raise ``SeedFileError(relpath, reason)`` when it holds no readable article."""
    if len(raw) > MAX_SEED_BYTES:
        raise SeedFileError(relpath, f"too large ({len(raw):,} bytes, limit {MAX_SEED_BYTES:,})")
    try:
        decoded, _encoding = decode_bytes(raw)
    except DecodeError as exc:
        raise SeedFileError(relpath, str(exc)) from None
    text: str = normalize_body(decoded)
    if not text:
        raise SeedFileError(relpath, "no text (only white space)")

    header, text = _split_header(text)
    title = header.get("title")
    category = header.get("category")
    published_at: datetime | None = None
    published_raw: str | None = None
    if "date" in header:
        published_at = parse_datetime(header["date"], tz)
        published_raw = header["date"] if published_at else None

    lead_date = _DATE_LEAD.match(text)
    if lead_date is not None and (when := parse_datetime(lead_date.group(1), tz)) is not None:
        if published_at is None:
            published_at, published_raw = when, lead_date.group(1)
        text = text[lead_date.end() :].lstrip()
    else:
        block = _dateline_block(text, tz)
        if block is not None:
            preamble, when, raw_date, text = block
            if published_at is None and is_plausible(when, mtime):
                published_at, published_raw = when, raw_date
            if title is None and preamble:
                title = preamble[-1]
            if category is None and len(preamble) >= 2:
                category = _category(preamble[-2])

    # The same piece arrives through a feed with the prefix stripped; both copies must hash alike.
    # Whole lines of a canonical text, the first perhaps without a leading prefix, stripped, are canonical
    # (every property of the form is per character, per line or per syllable; test_seedfile checks the
    # claim on generated files): typed so, the body is not normalized again by prepare and matching.
    body = CanonicalBody(strip_outlet_prefix(_tidy_body(text)).strip())
    if not body:
        raise SeedFileError(relpath, "no article text (only a header or a date)")

    date_inferred = False
    if published_at is None:
        found = find_dateline(body, tz) or infer_partial_date(body, mtime, tz)
        if found is not None and is_plausible(found[0], mtime):
            published_at, published_raw = found
    if published_at is None:
        published_at, date_inferred = mtime if mtime.tzinfo else mtime.replace(tzinfo=tz), True

    return Document(
        source=SEEDS_SOURCE,
        locator=relpath,
        title=_cut_title(normalize(title) if title else _first_sentence(body)),
        body=body,
        url=_http_url(header.get("url")),
        category=normalize(category) if category else None,
        outlet=normalize(header["source"]) if "source" in header else None,
        published_at=published_at.astimezone(tz),
        published_raw=published_raw,
        date_inferred=date_inferred,
    )


def _split_header(text: str) -> tuple[dict[str, str], str]:
    """The ``key: value`` block before the first blank line (or the end), if it is one, and the rest."""
    block, _blank, rest = text.partition("\n\n")
    fields: dict[str, str] = {}
    for line in block.split("\n"):
        m = _HEADER_LINE.fullmatch(line)
        if m is None:
            return {}, text
        key, value = m.group(1).lower(), m.group(2).strip()
        if key in HEADER_KEYS and value:
            fields.setdefault(key, value)
    if not fields:
        return {}, text  # "Ghi chú: ..." or "Note: ..." as a first paragraph is text, not a header
    return fields, rest


def _dateline_block(text: str, tz: ZoneInfo) -> tuple[list[str], datetime, str, str] | None:
    """``(preamble lines, date, raw date line, text after it)`` when a line of its own is a date."""
    lines = text.split("\n", DATELINE_MAX_LINE * 2)  # the last item keeps the rest of the text unsplit
    preamble: list[str] = []
    for index, line in enumerate(lines[: DATELINE_MAX_LINE * 2]):
        if not line:
            continue
        when = parse_datetime(line, tz)
        if when is not None:
            return preamble, when, line, "\n".join(lines[index + 1 :])
        preamble.append(line)
        if len(preamble) > PREAMBLE_MAX_LINES or len(line) > PREAMBLE_MAX_CHARS:
            return None
    return None


def _category(line: str) -> str | None:
    """A section name (``Chính trị``), not a sentence; the last part of a breadcrumb."""
    name = _BREADCRUMB.split(line)[-1].strip()
    short = len(name) <= CATEGORY_MAX_CHARS and len(name.split()) <= CATEGORY_MAX_WORDS
    if not name or not short or name[-1] in ".!?:;," or not any(ch.isalpha() for ch in name):
        return None
    return name


def _tidy_body(text: str) -> str:
    """Drop the wordless lines at both ends (text is already normalized, so nothing else changes)."""
    lines = text.split("\n")
    while lines and not _HAS_WORD.search(lines[-1]):
        lines.pop()
    start = 0
    while start < len(lines) and not _HAS_WORD.search(lines[start]):
        start += 1
    return "\n".join(lines[start:])


def _first_sentence(body: str) -> str:
    line = body.split("\n", 1)[0]
    for m in _SENTENCE_END.finditer(line):
        following = line[m.end() :].lstrip()[:1]
        if not following or not (following.isupper() or following.isdigit() or following in '"“«('):
            continue
        if m.group(0).startswith(".") and _is_abbreviation(line[: m.start()]):
            continue
        line = line[: m.end()]
        break
    if line.endswith(".") and not line.endswith(".."):
        line = line[:-1]
    return line.strip()


def _is_abbreviation(before: str) -> bool:
    """A period that does not end the sentence: "T. Hoàng", "TP. Huế", "ThS. Lan"."""
    word = before.rsplit(None, 1)[-1] if before.strip() else ""
    return (len(word) == 1 and word.isalpha()) or word.lower() in _ABBREVIATIONS


def _cut_title(title: str) -> str:
    if len(title) <= TITLE_MAX:
        return title
    head = title[: TITLE_MAX - 1]
    space = head.rfind(" ")
    if space >= TITLE_MAX // 2:
        head = head[:space]
    return head.rstrip(" ,;:-–—") + "…"


def _http_url(value: str | None) -> str | None:
    if not value:
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:  # "http://[x": an unclosed IPv6 host is no URL; the file is read all the same
        return None
    return value.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None

"""Feed bytes → feedparser entries, refusing what is unsafe and saying clearly what is broken.

feedparser is forgiving (good: real Vietnamese feeds carry unescaped ``&`` and ``&nbsp;``), but that
forgiveness also turns an HTML error page or a cut-off download into a "feed" with odd entries. So the
bytes are checked first: decoded by what they really are (a declaration saying ISO-8859-1 over UTF-8
bytes is common), refused if they declare entities (entity-expansion bombs), refused if they are an
HTML page with no feed inside. Only then does feedparser see them, always as UTF-8 bytes in a BytesIO:
a ``str`` could be taken for a file name or a URL. A document that lacks the closing root tag
(truncated) keeps only the items whose end tag arrived.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass
from typing import Any

import feedparser

from daemon.errors import FeedError
from daemon.sources.feeds.fastparse import parse_rss
from daemon.text.decode import DecodeError, decode_bytes

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_DECL_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
# Everything that may precede the root element: declaration, comments, PIs, DOCTYPE (with subset).
_PROLOG_ITEM = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\]\s*)?>)", re.DOTALL | re.IGNORECASE)
_ROOT = re.compile(r"\s*<([A-Za-z_][\w:.-]*)")
_ENTITY_DECL = re.compile(r"<!ENTITY", re.IGNORECASE)
_DOCTYPE = re.compile(r"<!DOCTYPE", re.IGNORECASE)
_FEED_ROOTS = {"rss", "feed", "rdf:rdf", "rdf", "channel"}
_ENTRY_END = re.compile(r"</\s*(?:[\w.-]+:)?(?:item|entry)\s*>", re.IGNORECASE)
# A feed element inside an (X)HTML page (some CMSes serve the feed through their page template). Only
# unmistakable start tags count: Atom's namespace on <feed>, a version on <rss>, <rdf:RDF>; a page
# that merely links to its feed or shows feed markup (escaped) has none of them.
_EMBEDDED_FEED = re.compile(
    r"<((?:[\w.-]+:)?feed)\b[^>]*\bxmlns(?::[\w.-]+)?\s*=\s*[\"']http://www\.w3\.org/2005/Atom[\"']"
    r"|<(rss)\b[^>]*\bversion\s*=|<(rdf:RDF)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    entries: list[dict[str, Any]]
    title: str
    version: str
    warning: str | None  # feedparser's complaint when it recovered the entries anyway


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_feed(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode feed bytes to text; return (text, encoding actually used)."""
    text, encoding, _guessed = _decode_feed(body, content_type)
    return text, encoding


def _decode_feed(body: bytes, content_type: str | None) -> tuple[str, str, bool]:
    """(text, encoding, guessed?): guessed when only the shared fallback decoder could tell.

    Order: a byte-order mark; UTF-32 or UTF-16 without BOM (recognized by NUL bytes around the first
    character); strict UTF-8, whatever the declaration claims (UTF-8 bytes almost never decode as
    anything else by accident); then the declared or HTTP charset; then the shared fallback decoder.
    """
    for bom, enc in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                     (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if body.startswith(bom):
            return body.decode(enc, errors="replace"), enc.removesuffix("-sig"), False
    wide = _wide_encoding(body[:4])
    if wide:
        return body.decode(wide, errors="replace"), wide, False
    try:
        return body.decode("utf-8"), "utf-8", False
    except UnicodeDecodeError:
        pass
    declared = _DECL_ENCODING.match(body)
    http = _CHARSET.search(content_type or "")
    for name in (declared.group(1).decode("ascii") if declared else None, http.group(1) if http else None):
        codec = _codec(name)
        if codec and codec not in ("utf-8", "utf-16", "utf-32"):
            try:
                return body.decode(codec), codec, False
            except UnicodeDecodeError:
                continue
    try:
        return *decode_bytes(body), True
    except DecodeError:
        return body.decode("utf-8", errors="replace"), "utf-8 (with replacements)", True


def _wide_encoding(head: bytes) -> str | None:
    """UTF-32/UTF-16 without BOM, from the NUL bytes around the first character (XML 1.0, appendix F).

    An XML document starts with "<" or white space, both ASCII: one non-NUL byte and three NULs in
    UTF-32, one and one in UTF-16. Checked before strict UTF-8, which would accept NUL bytes as text.
    """
    if len(head) < 4:
        return None
    if head[0] and head[1:] == b"\x00\x00\x00":
        return "utf-32-le"
    if head[3] and head[:3] == b"\x00\x00\x00":
        return "utf-32-be"
    if head[0] and not head[1] and head[2] and not head[3]:
        return "utf-16-le"
    if not head[0] and head[1] and not head[2] and head[3]:
        return "utf-16-be"
    return None


def _guess_note(encoding: str) -> str:
    why = {"cp1258": " (reads as Vietnamese)", "cp1252": " (does not read as Vietnamese)"}.get(encoding, "")
    return f"no usable charset declared: guessed {encoding}{why}"


def root_element(text: str) -> str | None:
    """Name of the document's first element (lower-case), skipping the prolog; None if there is none."""
    pos = 0
    while m := _PROLOG_ITEM.match(text, pos):
        if m.end() == pos:
            break
        pos = m.end()
    m = _ROOT.match(text, pos)
    return m.group(1).lower() if m else None


@dataclass(frozen=True, slots=True)
class FeedText:
    """The part of a document feedparser should see, and what was odd about getting it."""

    text: str
    root: str  # the feed element's name, lower-case
    notes: tuple[str, ...] = ()  # benign oddities, reported with the items
    truncated: bool = False  # the end tag of the feed element never arrived


def declares_entities(text: str) -> bool:
    """Does the document declare XML entities? None is needed in a feed or an OPML file, and one that
    expands into another a billion times over is how a small document exhausts a parser's memory."""
    return bool(_DOCTYPE.search(text) and _ENTITY_DECL.search(text))


def check_feed_text(text: str) -> FeedText:
    """Refuse what must not reach the XML parser; find the feed element (also inside an HTML page)."""
    if not text.strip(" \t\r\n\ufeff\x00"):
        raise FeedError("", "empty response body")
    if declares_entities(text):
        raise FeedError("", "refused: the document declares XML entities (possible entity-expansion bomb)")
    root = root_element(text)
    notes: tuple[str, ...] = ()
    if root is None:
        lead = text.lstrip()[:40].replace("\n", " ")
        raise FeedError("", f"not a feed: no XML root element (starts with {lead!r})")
    if root in {"html", "body", "head"}:
        text, root = _unwrap_from_html(text)
        notes = ("the feed is wrapped in an HTML page",)
    if root not in _FEED_ROOTS and ":" not in root:
        raise FeedError("", f"not a feed: root element is <{root}>")
    closing = re.compile(rf"</\s*{re.escape(root)}\s*>", re.IGNORECASE)
    return FeedText(text, root, notes, truncated=not closing.search(text))


def _unwrap_from_html(text: str) -> tuple[str, str]:
    """The feed element inside an HTML page, through its last end tag; the page around it is dropped
    (its own markup, ``<meta charset=utf-8>`` or ``&nbsp;``, is rarely well-formed XML)."""
    m = _EMBEDDED_FEED.search(text)
    if m is None:
        raise FeedError("", "not a feed: got an HTML page")
    name = next(g for g in m.groups() if g)
    ends = list(re.finditer(rf"</\s*{re.escape(name)}\s*>", text[m.start():], re.IGNORECASE))
    inner = text[m.start(): m.start() + ends[-1].end()] if ends else text[m.start():]
    return inner, name.lower()


def _as_utf8_xml(text: str) -> bytes:
    """Re-encode as UTF-8 with a declaration that says so (the original one may have lied)."""
    text = text.lstrip("\ufeff")
    text = _XML_DECL.sub('<?xml version="1.0" encoding="utf-8"?>', text, count=1)
    return text.encode("utf-8", errors="replace")


def _one_line(exc: object) -> str:
    msg = " ".join(str(exc).split()) or type(exc).__name__
    return msg[:200]


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse a feed document; raise ``FeedError`` (source left blank for the caller) when unusable."""
    text, encoding, guessed = _decode_feed(body, content_type)
    doc = check_feed_text(text)
    # No content-location: feedparser's lenient mode would "resolve" a non-URL guid against it, so the
    # same item would change key whenever the feed is slightly broken. Links are resolved in items.
    xml = _as_utf8_xml(doc.text)
    fast = parse_rss(xml) if doc.root == "rss" and not doc.truncated else None
    if fast is not None:  # well-formed RSS 2.0, the common case: read without feedparser, 20 times faster
        entries, title = fast
        version, problem = "rss20", None
    else:
        headers = {"content-type": "application/xml; charset=utf-8"}
        parsed = feedparser.parse(io.BytesIO(xml), response_headers=headers)
        entries = list(parsed.entries)
        title, version = str(parsed.feed.get("title", "")), str(parsed.get("version", ""))
        problem = _one_line(parsed.get("bozo_exception")) if parsed.bozo else None
    notes = [_guess_note(encoding)] if guessed else []
    notes += doc.notes
    if doc.truncated:
        # feedparser also yields the item the cut went through, with whatever part of it arrived; stored,
        # its key would mark the whole item "seen" when it comes complete. Keep the ones whose end tag came.
        entries = entries[: len(_ENTRY_END.findall(doc.text))]
        cut = f"truncated XML: the document ends before </{doc.root}>"
        if not entries:
            raise FeedError("", f"{cut} ({len(doc.text)} characters, no complete item)")
        notes.append(f"{cut}; {len(entries)} complete items kept")
        problem = None  # the parser's complaint is the cut
    if not entries:
        if problem:
            raise FeedError("", f"not a parseable feed: {problem}")
        raise FeedError("", "the feed has no entries")
    if problem:
        notes.append(f"malformed XML, {len(entries)} items recovered: {problem}")
    warning = "; ".join(notes) or None
    return ParsedFeed(entries=entries, title=title, version=version, warning=warning)

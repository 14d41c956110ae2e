"""A feedparser entry → a ``Document``: stable key, clean text, a trustworthy date.

The item key must survive an outlet re-tagging its links for a campaign (``utm_*``, Zalo's
``zarsrc``), or the same item would be "new" at every poll; hence the tracking-parameter scrub.
Vietnamese feeds write dates in forms feedparser does not know ("8/22/2026 9:50:00 PM", "+07"), so
the project's own date parser goes first and feedparser's struct is only the fallback.
"""

from __future__ import annotations

import calendar
import hashlib
import logging
import re
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from daemon.errors import FeedError
from daemon.models import Document
from daemon.sources.feeds.fastparse import RssEntry, date_struct
from daemon.sources.feeds.parse import parse_feed
from daemon.text.dates import VN_TZ, is_plausible, parse_datetime
from daemon.text.html import article_text, html_to_text, strip_outlet_prefix
from daemon.text.normalize import normalize, normalize_body

log = logging.getLogger(__name__)

TRACKING_PARAMS = frozenset(
    {"at_medium", "at_campaign", "at_source", "at_content", "at_term", "at_custom1", "at_custom2", "at_custom3",
     "at_custom4", "at_ptr_name", "at_format", "fbclid", "gclid", "dclid", "gclsrc", "msclkid", "yclid", "igshid",
     "mc_cid", "mc_eid", "_ga", "_gl", "zarsrc", "gidzl", "ref_src", "spm"}
)
TITLE_FROM_BODY_CHARS = 120
# What CMSes and feed plugins write into an empty title or description (compared without case and
# punctuation, whole field only). Kept, it would be stored, hashed and matched as if it were text.
PLACEHOLDERS = frozenset(
    {"no description", "no description available", "no title", "untitled", "no content", "no summary",
     "null", "undefined", "none", "n a", "không có mô tả", "chưa có mô tả", "không có tiêu đề", "không có nội dung"}
)
_NOT_WORD = re.compile(r"[\W_]+")


def _is_tracking(key: str) -> bool:
    k = key.lower()
    return k.startswith("utm_") or k in TRACKING_PARAMS


def clean_url(url: str) -> str:
    """The URL without tracking parameters; other parameters keep their exact spelling and order."""
    url = url.strip()
    parts = urlsplit(url)
    if not parts.query:
        return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, "", parts.fragment))
    kept = [p for p in parts.query.split("&") if p and not _is_tracking(p.split("=", 1)[0])]
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, "&".join(kept), parts.fragment))


def _http_url(value: object, base: str | None = None) -> str | None:
    return _http_text(value, base) if isinstance(value, str) else None


@lru_cache(maxsize=4096)
def _http_text(value: str, base: str | None) -> str | None:
    """Cached: an item's link is read for its text (the outlet's own links), for its key and as its URL,
    and was split up to three times at each reading."""
    value = value.strip()
    if not value or (not base and ":" not in value and "/" not in value):
        return None  # no scheme and no host (urlsplit's errors are about hosts): a guid like "12345"
    try:
        parts = urlsplit(value)
        if base and not parts.scheme:
            value = urljoin(base, value)
            parts = urlsplit(value)
        return clean_url(value) if parts.scheme.lower() in ("http", "https") else None
    except ValueError:  # "http://[x": an unclosed IPv6 host. No URL, as for "12345"; not the whole feed's error
        return None


def item_key(entry: Mapping[str, Any], title: str = "", lead: str = "", base: str | None = None) -> str:
    """Identity of an item within its feed: guid/id, else the cleaned link, else a hash of its text."""
    key = link_key(entry, base)
    if key is not None:
        return key
    digest = hashlib.sha256(f"{normalize(title)}\n{normalize(lead)}".encode()).hexdigest()
    return "h:" + digest[:32]


def link_key(entry: Mapping[str, Any], base: str | None = None) -> str | None:
    """The item's key when its guid or link gives it (None: it is a hash of the text): known without
    turning its HTML into text, so an item seen in the last poll is recognised without that work."""
    guid = entry.get("id")
    if isinstance(guid, str) and guid.strip():
        return _http_url(guid) or guid.strip()
    return entry_url(entry, base)


def _candidate_html(entry: Mapping[str, Any]) -> list[str]:
    """content:encoded / Atom content first, then the summary; the longest clean text wins."""
    values: list[str] = []
    for c in entry.get("content") or []:
        if isinstance(c, Mapping) and isinstance(c.get("value"), str):
            values.append(c["value"])
    summary = entry.get("summary")
    if isinstance(summary, str):
        values.append(summary)
    return values


def _unless_placeholder(text: str) -> str:
    return "" if len(text) <= 40 and _NOT_WORD.sub(" ", text.lower()).strip() in PLACEHOLDERS else text


def lead_text(entry: Mapping[str, Any], base: str | None = None) -> str:
    """The best body the feed itself offers (longest of content and summary, cleaned).

    ``base`` is the feed's URL: with the item's link, it tells the outlet's own (related) links apart.
    """
    best = ""
    site = (entry_url(entry, base), base)
    for html in _candidate_html(entry):
        text = _unless_placeholder(article_text(html, site))
        if len(text) > len(best):
            best = text
    return best


def entry_title(entry: Mapping[str, Any]) -> str:
    """The headline, without the outlet prefix its body also loses ("VOV.VN - …")."""
    raw = entry.get("title")
    if not isinstance(raw, str):
        return ""
    return _unless_placeholder(strip_outlet_prefix(normalize(html_to_text(raw)), title=True))


def _category(entry: Mapping[str, Any]) -> str | None:
    for tag in entry.get("tags") or []:
        if isinstance(tag, Mapping):
            term = tag.get("term") or tag.get("label")
            if isinstance(term, str) and normalize(term):
                return normalize(html_to_text(term))
    return None


def _plain_get(entry: Mapping[str, Any], key: str) -> Any:
    """Read a key without feedparser's deprecated aliasing (updated_parsed → published_parsed)."""
    return dict.get(entry, key) if isinstance(entry, dict) else entry.get(key)


def _raw_date(entry: Mapping[str, Any]) -> str | None:
    for key in ("published", "updated", "created"):
        raw = _plain_get(entry, key)
        if isinstance(raw, str) and raw.strip():
            return raw.strip()
    return None


def entry_date(
    entry: Mapping[str, Any], fetched_at: datetime, tz: ZoneInfo = VN_TZ
) -> tuple[datetime, str | None, bool]:
    """(published_at, raw text, inferred?). Missing or implausible dates fall back to the fetch time."""
    raw = _raw_date(entry)
    dt = parse_datetime(raw, tz) if raw else None
    if dt is None:
        for key in ("published", "updated", "created"):
            struct = date_struct(entry, key) if isinstance(entry, RssEntry) else _plain_get(entry, f"{key}_parsed")
            if struct:
                try:
                    dt = datetime.fromtimestamp(calendar.timegm(struct), UTC).astimezone(tz)
                except (OverflowError, ValueError, TypeError):
                    dt = None
                break
    if dt is None or not is_plausible(dt, fetched_at):
        return fetched_at.astimezone(tz), raw, True
    return dt.astimezone(tz), raw, False


def entry_url(entry: Mapping[str, Any], base: str | None = None) -> str | None:
    """The item's link (relative links resolved against the feed URL), without tracking parameters.

    feedparser copies a permalink-by-default guid into ``link``; a guid like "12345" is no link.
    """
    return _http_url(entry.get("link"), None if entry.get("guidislink") else base)


def to_document(
    entry: Mapping[str, Any],
    *,
    source: str,
    fetched_at: datetime,
    tz: ZoneInfo = VN_TZ,
    body: str | None = None,
    base: str | None = None,
) -> Document | None:
    """Build the Document for one entry; ``body`` overrides the feed's text (full-text fetch).

    ``base`` is the feed's URL, against which relative item links are resolved.
    Returns None for an entry with neither title nor text: there is nothing to store or match.
    """
    title = entry_title(entry)
    lead = lead_text(entry, base)
    text = normalize_body(body) if body else lead
    if not title and not text:
        log.info("feed %s: skipping an item with neither title nor text", source)
        return None
    if not title:
        first = text.split("\n", 1)[0]
        title = first if len(first) <= TITLE_FROM_BODY_CHARS else first[:TITLE_FROM_BODY_CHARS].rsplit(" ", 1)[0] + "…"
    if not text:
        text = title  # a headline-only item: the headline is all there is to hash and match
    published_at, raw, inferred = entry_date(entry, fetched_at, tz)
    return Document(
        source=source,
        locator=item_key(entry, title, lead, base),
        title=title,
        body=text,
        url=entry_url(entry, base),
        category=_category(entry),
        published_at=published_at,
        published_raw=raw,
        date_inferred=inferred,
    )


def feed_documents(
    body: bytes,
    *,
    source: str,
    url: str,
    content_type: str | None,
    fetched_at: datetime,
    tz: ZoneInfo = VN_TZ,
    full_text: Callable[[Mapping[str, Any], str], str | None] | None = None,
    known: Collection[str] = (),
) -> tuple[list[Document], str | None, tuple[str, ...]]:
    """A feed's bytes → its items as Documents, the parser's warning, and the keys of all its items
    (pure, but for ``full_text``).

    ``known``: keys of items delivered before (the last poll's): such an item, recognised by its guid or
    link, is left out of the documents unread, since it would not be ingested again. A feed that gains one
    item then costs one item's work, not fifty. ``full_text(entry, url)`` gives an item's page text
    (``FeedFetcher``) or None to keep the feed's. Raises ``FeedError`` (source left blank) when the bytes
    are no usable feed.
    """
    parsed = parse_feed(body, url=url, content_type=content_type)
    documents: list[Document] = []
    keys: list[str] = []
    for entry in parsed.entries:
        key = link_key(entry, url) if known else None
        if key is not None and key in known:
            keys.append(key)
            continue
        text = full_text(entry, url) if full_text is not None else None
        doc = to_document(entry, source=source, fetched_at=fetched_at, tz=tz, body=text, base=url)
        if doc is not None:
            documents.append(doc)
            keys.append(doc.locator)
    if not keys:
        raise FeedError("", "the feed's entries hold no text")
    return documents, parsed.warning, tuple(keys)

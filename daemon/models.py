"""Plain data passed between pipeline stages.

Sources produce ``Document``s; ``text`` normalizes them; ``match`` turns them into ``Match``es;
``store`` persists them. Config dataclasses (``FeedConfig``, ``Rule``, ``WebhookConfig``) live here
too so that every stage can take them without importing ``config`` (which does file I/O).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from types import MappingProxyType
from typing import Any

SEEDS_SOURCE = "seeds"
# A rule term written with this prefix is a Python regular expression. Here, below both, so that config
# (which refuses one that does not compile) and match (which compiles it) read the same syntax.
REGEX_PREFIX = "regex:"

# The wire form of a type: its fields as a plain tuple, in the order its constructor takes them, for what
# worker processes send back (``daemon.prepare``). Unpickling a frozen slotted dataclass goes through a
# Python-level __setstate__ per object, which cost the main process (the single writer) ~35 µs a file.
Wire = tuple[Any, ...]


def _plain(values: Wire) -> Wire:
    """``values`` with text as plain ``str``: pickle handles a str subclass (the canonical text types of
    ``daemon.text.normalize``) in Python, ~8 µs each. The receiver gets the text without that claim."""
    return tuple(str(v) if isinstance(v, str) else v for v in values)


def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Document:
    """One article candidate as a source found it (not yet normalized or deduplicated).

    A source whose text is canonical already may say so in the type (``daemon.text.normalize``'s
    ``Canonical`` title, ``CanonicalBody`` body: the seed parser does); ``prepare`` then keeps it as it is.
    """

    source: str  # "seeds" or the feed's name
    locator: str  # where it was seen: path relative to the seeds folder, or the feed item's key
    title: str
    body: str
    url: str | None = None
    category: str | None = None
    published_at: datetime | None = None  # timezone-aware
    published_raw: str | None = None  # the date text as found, kept for audit
    date_inferred: bool = False  # True when published_at is a fallback (file time, fetch time)
    alert: bool = True  # False: store and match, but queue no alerts (first fetch of a new feed)
    outlet: str | None = None  # the publication it names ("Báo Đà Nẵng"): a seed header's ``source:``

    def to_wire(self) -> Wire:
        return _plain(_DOCUMENT_WIRE(self))

    @classmethod
    def from_wire(cls, wire: Wire) -> Document:
        return cls(*wire)


# dataclasses.fields() is the constructor's positional order; attrgetter reads them all in one C call.
_DOCUMENT_WIRE = operator.attrgetter(*(f.name for f in fields(Document)))


@dataclass(frozen=True, slots=True)
class StorySettings:
    """`[stories]`: how copies of one report are grouped into one story (``daemon.stories``)."""

    enabled: bool = True
    window: float = 7 * 86400.0  # a copy joins a story when a member of it was first seen this recently
    threshold: float = 0.5  # share of the shorter text's sampled shingles the two must have in common
    lead_window: float = 2 * 86400.0  # a title-and-lead feed item joins by its lead within this long
    alert_each_copy: bool = False  # true: every matching copy alerts, as before stories existed


@dataclass(frozen=True, slots=True)
class Sketch:
    """The sampled shingle keys of an article's body and of its title and lead, and its figures.

    Computed by ``daemon.stories.sketch`` (defined here so that ``Prepared`` can carry it from the
    worker processes that compute it to the store that compares it).
    """

    body: tuple[int, ...]
    lead: tuple[int, ...]
    short: bool = False  # a title and a lead only: compared by its lead
    numbers: tuple[int, ...] = ()  # CRC-32s of its figures ("12-3", "8.000", "80" of "80%")

    def to_wire(self) -> Wire:
        return self.body, self.lead, self.short, self.numbers

    @classmethod
    def from_wire(cls, wire: Wire) -> Sketch:
        return cls(*wire)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A normalized document with its identity, ready to be matched and stored."""

    doc: Document  # title and body in canonical form
    content_hash: str  # "v2:" + SHA-256 of the squashed title and body: the dedupe key
    folded: str  # title and body folded (no diacritics, đ→d), indexed for diacritic-free search
    sketch: Sketch | None = None  # what story assignment compares; None: not computed (stories off, or later)
    # The documents it cites (``text.docrefs.document_codes``), found where it is prepared (a worker process,
    # not the single writer: 20 µs an article); None: not looked for yet.
    codes: tuple[str, ...] | None = None

    def to_wire(self) -> Wire:
        sketch = None if self.sketch is None else self.sketch.to_wire()
        return self.doc.to_wire(), self.content_hash, self.folded, sketch, self.codes

    @classmethod
    def from_wire(cls, wire: Wire) -> Prepared:
        doc, content_hash, folded, sketch, codes = wire
        return cls(Document.from_wire(doc), content_hash, folded, None if sketch is None else Sketch.from_wire(sketch),
                   codes)


@dataclass(frozen=True, slots=True)
class Match:
    """One place where a rule's keyword fired in an article."""

    rule: str
    keyword: str
    text: str  # the matched text exactly as it stands in the article
    field: str  # "title" or "body"
    snippet: str  # context around the match, with the match marked as «…»

    def to_wire(self) -> Wire:
        return _MATCH_WIRE(self)

    @classmethod
    def from_wire(cls, wire: Wire) -> Match:
        return cls(*wire)


_MATCH_WIRE = operator.attrgetter(*(f.name for f in fields(Match)))


@dataclass(frozen=True, slots=True)
class Rule:
    """A `[[rules]]` entry: what the office follows."""

    name: str
    keywords: tuple[str, ...]
    all: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    webhooks: tuple[str, ...] = ()
    title: str | None = None  # what the briefing calls it ("Nghị quyết 57-NQ/TW về khoa học, công nghệ")
    spike_factor: float = 3.0  # a day with more than this × the trailing 14-day mean is a spike (rule.spike)


BRIEF_PERIODS = ("day", "week", "month")
BRIEF_FORMATS = ("md", "html", "docx")


@dataclass(frozen=True, slots=True)
class BriefingConfig:
    """A `[[briefings]]` entry: a press review made on a schedule (``daemon.brief``)."""

    name: str
    title: str  # the unit's name at the top ("Văn phòng Thành ủy")
    at: tuple[int, int, int] | None = None  # (hour, minute, second) in [service] timezone; None: at midnight
    period: str = "day"  # day | week | month
    weekday: int = 0  # week: the day it is made (0 = Monday)
    rules: tuple[str, ...] = ()  # the sections, in this order (default: every rule, in config order)
    webhooks: tuple[str, ...] = ()  # where briefing.ready goes (default: every enabled webhook)
    formats: tuple[str, ...] = ("md", "html")
    out: str = "state/briefs"  # resolved against the config file's folder by config.py
    min_sources: int | None = None  # "Tin nổi bật": stories no rule matched that this many outlets carried


@dataclass(frozen=True, slots=True)
class FeedConfig:
    """A `[[feeds]]` entry."""

    name: str
    url: str
    interval: float = 900.0  # seconds
    headers: Mapping[str, str] = field(default_factory=_empty)
    enabled: bool = True
    full_text: bool = False
    alert_on_first_fetch: bool = False
    title: str | None = None  # what people call it ("Tuổi Trẻ - Thời sự"); `feeds import` sets it, export writes it
    category: str | None = None  # a folder in OPML ("Tin tức/Trong nước"); only `feeds export` reads it


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """A `[[webhooks]]` entry. ``secret`` is resolved from ``secret_env`` at load time."""

    name: str
    url: str
    secret: str | None = field(default=None, repr=False)
    secret_env: str | None = None  # the environment variable the secret came from, to name it in listings
    format: str = "json"  # json | slack | discord | telegram
    chat_id: str | None = None  # telegram only
    max_alerts_per_pass: int = 20
    timeout: float = 10.0  # total deadline per request, seconds
    headers: Mapping[str, str] = field(default_factory=_empty)
    enabled: bool = True

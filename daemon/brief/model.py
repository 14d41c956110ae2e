"""The briefing as data: what every format shows, built once (``build``) and rendered many ways."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from daemon.brief.periods import Period


@dataclass(frozen=True, slots=True)
class Link:
    outlet: str
    url: str


@dataclass(frozen=True, slots=True)
class Item:
    """One story: its title, when it was first seen, who carried it, what it says, where to read it."""

    story_id: int
    title: str
    first_seen: datetime
    outlets: tuple[str, ...]  # first seen first
    articles: int
    summary: str  # one to three sentences from the text: those with the match, else the lead
    links: tuple[Link, ...]


@dataclass(frozen=True, slots=True)
class Section:
    """One followed rule: its stories, most outlets first."""

    rule: str
    title: str  # the rule's `title`, else its name
    items: tuple[Item, ...]
    more: int  # stories left out (beyond MAX_ITEMS)
    mentions: int  # articles of the period the rule matched


@dataclass(frozen=True, slots=True)
class NewDocument:
    code: str  # "NQ 57 (TW)"
    cited: str  # the reference as the article writes it ("Nghị quyết số 57-NQ/TW")
    first_seen: datetime
    title: str  # of the article that cites it first
    outlet: str
    url: str | None
    quote: str  # the sentence that cites it


@dataclass(frozen=True, slots=True)
class Spike:
    rule: str
    title: str
    day: date
    count: int
    mean: float  # of the 14 days before


@dataclass(frozen=True, slots=True)
class Trend:
    """Articles per rule per day over the last TREND_DAYS days of the period, and the spikes among them."""

    days: tuple[date, ...]
    series: tuple[tuple[str, str, tuple[int, ...]], ...]  # (rule, title, one count per day)
    spikes: tuple[Spike, ...]
    factor: float  # the smallest spike_factor among the rules, for the caption


@dataclass(frozen=True, slots=True)
class Briefing:
    id: str
    name: str
    title: str  # the unit's name
    period: Period
    made_at: datetime
    articles: int
    stories: int
    outlets: int
    sections: tuple[Section, ...]
    documents: tuple[NewDocument, ...]
    trend: Trend
    highlights: tuple[Item, ...] | None  # None: not asked for (no min_sources)
    min_sources: int | None = None

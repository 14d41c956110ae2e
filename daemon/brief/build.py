"""From what the store read to the ``Briefing`` (pure): order, summaries, the trend and its spikes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from daemon.brief.model import Briefing, Item, Link, NewDocument, Section, Spike, Trend
from daemon.brief.periods import Period
from daemon.brief.summary import citing_sentence, summarize
from daemon.models import Rule
from daemon.store.briefs import BriefRows, DocumentRow, Hit, StoryRow
from daemon.text.docrefs import doc_code, find_docrefs

TREND_DAYS = 30  # the chart's days, ending with the period's last day
TRAILING_DAYS = 14  # a spike is measured against the mean of this many days before it
MIN_SPIKE = 3  # fewer articles than this in a day is never a spike
MAX_ITEMS = 30  # stories per section; the rest are counted ("… và 5 sự kiện khác")


def trend_days(period: Period) -> tuple[date, ...]:
    last = (period.end - timedelta(seconds=1)).date()
    return tuple(last - timedelta(days=TREND_DAYS - 1 - i) for i in range(TREND_DAYS))


def reads_from(period: Period, tz: ZoneInfo) -> datetime:
    """Where the trend's counts start: the first chart day, minus the trailing days its spikes need."""
    first = trend_days(period)[0] - timedelta(days=TRAILING_DAYS)
    return datetime(first.year, first.month, first.day, tzinfo=tz)


def spikes(daily: Mapping[str, int], days: Sequence[date], factor: float) -> list[tuple[date, int, float]]:
    """Days of ``days`` whose count exceeds ``factor`` × the mean of the TRAILING_DAYS before.

    A spike needs a baseline: a rule that had no mention at all in those days (a rule just added) has
    none, and its first busy day is not a spike. Fewer than MIN_SPIKE articles never is.
    """
    found: list[tuple[date, int, float]] = []
    for day in days:
        count = daily.get(day.isoformat(), 0)
        before = [daily.get((day - timedelta(days=k)).isoformat(), 0) for k in range(1, TRAILING_DAYS + 1)]
        mean = sum(before) / TRAILING_DAYS
        if count >= MIN_SPIKE and sum(before) > 0 and count > factor * mean:
            found.append((day, count, mean))
    return found


def _item(story: StoryRow, hit: Hit | None, texts: Mapping[int, tuple[str, str]], tz: ZoneInfo) -> Item:
    article = hit.article_id if hit is not None else (story.articles[0].id if story.articles else None)
    title, body = texts.get(article, (story.title, "")) if article is not None else (story.title, "")
    links = tuple(Link(a.outlet, url) for a in story.articles if (url := _web(a.url)) is not None)
    return Item(story.id, story.title, datetime.fromisoformat(story.first_seen_at).astimezone(tz), story.outlets,
                story.article_count, summarize(title, body, hit.matched if hit is not None else ()), links)


def _web(url: str | None) -> str | None:
    """Only http(s) links reach a briefing: a feed's ``javascript:`` link must not run in the HTML."""
    return url if url and url.lower().startswith(("http://", "https://")) else None


def _order(items: list[Item]) -> list[Item]:
    return sorted(items, key=lambda i: (-len(i.outlets), -i.articles, i.first_seen, i.story_id))


def _document(row: DocumentRow, texts: Mapping[int, tuple[str, str]], tz: ZoneInfo) -> NewDocument:
    title, body = texts.get(row.article.id, (row.article.title, ""))
    cited, quote = row.code, title
    for text in (body, title):
        span = next(((s, e) for ref, s, e in find_docrefs(text) if doc_code(ref) == row.code), None)
        if span is not None:
            cited, quote = text[span[0]:span[1]], citing_sentence(text, *span)
            break
    return NewDocument(row.code, cited, datetime.fromisoformat(row.first_seen).astimezone(tz), row.article.title,
                       row.article.outlet, _web(row.article.url), quote)


def build(rows: BriefRows, *, briefing_id: str, name: str, title: str, period: Period, made_at: datetime,
          rules: Sequence[Rule], tz: ZoneInfo, min_sources: int | None = None) -> Briefing:
    sections: list[Section] = []
    for rule in rules:
        hits = rows.hits.get(rule.name, [])
        items = _order([_item(rows.story_rows[h.story_id], h, rows.texts, tz) for h in hits
                        if h.story_id in rows.story_rows])
        sections.append(Section(rule.name, rule.title or rule.name, tuple(items[:MAX_ITEMS]),
                                max(0, len(items) - MAX_ITEMS), rows.mentions.get(rule.name, 0)))
    days = trend_days(period)
    series = tuple((r.name, r.title or r.name, tuple(rows.daily.get(r.name, {}).get(d.isoformat(), 0) for d in days))
                   for r in rules)
    found = tuple(Spike(r.name, r.title or r.name, day, count, mean) for r in rules
                  for day, count, mean in spikes(rows.daily.get(r.name, {}), days, r.spike_factor))
    trend = Trend(days, series, found, min((r.spike_factor for r in rules), default=3.0))
    highlights = None
    if min_sources is not None:
        highlights = tuple(_item(rows.story_rows[s], None, rows.texts, tz) for s in rows.highlights
                           if s in rows.story_rows)[:MAX_ITEMS]
    return Briefing(briefing_id, name, title, period, made_at, rows.articles, rows.stories, rows.outlets,
                    tuple(sections), tuple(_document(d, rows.texts, tz) for d in rows.documents), trend, highlights,
                    min_sources)

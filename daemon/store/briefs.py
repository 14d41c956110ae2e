"""What a briefing reads, in one set of queries, and the record of briefings made.

``brief_rows`` reads everything a briefing of one period shows (``daemon.brief.build`` turns it into the
``Briefing`` model, every format renders that): the period's counts, each followed rule's hits with their
stories, outlets and links, the documents first cited in the period, mentions per rule per day for the
trend, and the most-carried stories no rule matched. Every query is bounded by the period (articles by
``ingested_at``, matches by ``created_at``, both indexed), so its cost follows the period's size, not the
archive's.

"In the period" means first seen by newswatch in it (``ingested_at``), as stories and matches are dated:
what reached the office, whatever date an outlet printed.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from daemon.store.db import Database, execute_in
from daemon.store.stories import OUTLET_SQL

LINKS_PER_STORY = 5  # articles of a story whose links a briefing shows


@dataclass(frozen=True, slots=True)
class ArticleRow:
    id: int
    title: str
    url: str | None
    outlet: str  # the feed's name, or a seed file's named outlet ("seeds" without one)
    ingested_at: str


@dataclass(frozen=True, slots=True)
class StoryRow:
    """A story as a briefing shows it: its first article's title, when, its outlets and some links."""

    id: int
    title: str
    first_seen_at: str
    article_count: int
    outlets: tuple[str, ...]  # first seen first
    articles: tuple[ArticleRow, ...]  # the first LINKS_PER_STORY


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule matched an article of the period: which story, and the texts it matched (for the summary)."""

    story_id: int
    article_id: int
    matched: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DocumentRow:
    code: str  # "NQ 57 (TW)"
    first_seen: str
    article: ArticleRow


@dataclass(slots=True)
class BriefRows:
    """Everything one briefing shows, as stored."""

    articles: int = 0
    stories: int = 0
    outlets: int = 0
    hits: dict[str, list[Hit]] = field(default_factory=dict)  # rule -> hits, first seen first, one per story
    mentions: dict[str, int] = field(default_factory=dict)  # rule -> articles of the period it matched
    story_rows: dict[int, StoryRow] = field(default_factory=dict)
    texts: dict[int, tuple[str, str]] = field(default_factory=dict)  # article id -> (title, body) to summarize
    documents: list[DocumentRow] = field(default_factory=list)
    daily: dict[str, dict[str, int]] = field(default_factory=dict)  # rule -> "YYYY-MM-DD" -> articles
    highlights: list[int] = field(default_factory=list)  # story ids, most outlets first


def briefing_id(name: str, kind: str, start: str) -> str:
    """Stable id of the briefing (name, period): made twice, it is the same row."""
    return "br_" + hashlib.sha256(f"{name}\x1f{kind}\x1f{start}".encode()).hexdigest()[:24]


def _json(values: Iterable[object]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def _articles_of(conn: sqlite3.Connection, story_ids: Sequence[int]) -> dict[int, list[ArticleRow]]:
    """The first LINKS_PER_STORY articles of each story, with their outlet."""
    out: dict[int, list[ArticleRow]] = {}
    for cur in execute_in(
            conn,
            "SELECT s.value, a.id, a.title, a.url, coalesce(a.outlet, a.source), a.ingested_at FROM json_each(?) s"
            " JOIN articles a ON a.id IN (SELECT id FROM articles WHERE story_id = s.value ORDER BY id"
            f" LIMIT {LINKS_PER_STORY})", [_json(story_ids)] if story_ids else []):
        for sid, *row in cur:
            out.setdefault(int(sid), []).append(ArticleRow(*row))
    return out


def _daily(conn: sqlite3.Connection, rules: Sequence[str], lo: str, hi: str) -> dict[str, dict[str, int]]:
    """Rule -> local day ("YYYY-MM-DD": times are stored in the configured zone) -> articles matched."""
    out: dict[str, dict[str, int]] = {}
    for rule, day, count in conn.execute(
            "SELECT rule, substr(created_at, 1, 10), count(DISTINCT article_id) FROM matches"
            " WHERE rule IN (SELECT value FROM json_each(?)) AND created_at >= ? AND created_at < ?"
            " GROUP BY rule, substr(created_at, 1, 10)", (_json(rules), lo, hi)):
        out.setdefault(rule, {})[day] = int(count)
    return out


class BriefTables(Database):
    """Store methods for briefings: what one shows, which were made, when scheduling began."""

    def brief_rows(self, start: datetime, end: datetime, rules: Sequence[str], *, trend_from: datetime,
                   min_sources: int | None = None) -> BriefRows:
        """Everything a briefing of [start, end) shows (see the module's docstring), in one read transaction."""
        lo, hi = self.iso(start), self.iso(end)
        rows = BriefRows()
        with self.read() as conn:
            conn.execute("BEGIN")  # one snapshot: counts, hits and stories agree with each other
            try:
                self._read_brief(conn, rows, (lo, hi), rules, trend_lo=self.iso(trend_from), min_sources=min_sources)
            finally:
                conn.execute("COMMIT")
        return rows

    def _read_brief(self, conn: sqlite3.Connection, rows: BriefRows, window_: tuple[str, str], rules: Sequence[str],
                    *, trend_lo: str, min_sources: int | None) -> None:
        lo, hi = window_
        window = "SELECT id, story_id FROM articles WHERE ingested_at >= ? AND ingested_at < ?"
        n, stories = conn.execute(f"SELECT count(*), count(DISTINCT coalesce(story_id, -id)) FROM ({window})",
                                  (lo, hi)).fetchone()
        rows.articles, rows.stories = int(n), int(stories)
        rows.outlets = int(conn.execute(
            f"SELECT count(DISTINCT {OUTLET_SQL}) FROM ({window}) w JOIN articles a ON a.id = w.id"
            " JOIN sightings si ON si.article_id = a.id", (lo, hi)).fetchone()[0])
        matched: dict[tuple[str, int], list[str]] = {}
        story_of: dict[int, int] = {}
        for rule, article_id, story_id, text in conn.execute(
                "SELECT m.rule, m.article_id, coalesce(a.story_id, -a.id), m.matched_text FROM matches m"
                " JOIN articles a ON a.id = m.article_id WHERE m.rule IN (SELECT value FROM json_each(?))"
                " AND m.created_at >= ? AND m.created_at < ? ORDER BY m.article_id, m.id", (_json(rules), lo, hi)):
            matched.setdefault((rule, article_id), []).append(text)
            story_of[article_id] = story_id
        firsts: dict[tuple[str, int], Hit] = {}
        for (rule, article_id), texts in matched.items():
            rows.mentions[rule] = rows.mentions.get(rule, 0) + 1
            key = (rule, story_of[article_id])
            if key not in firsts:  # the story's first matching article of the period speaks for it
                firsts[key] = Hit(story_of[article_id], article_id, tuple(dict.fromkeys(texts)))
        for (rule, _), hit in firsts.items():
            rows.hits.setdefault(rule, []).append(hit)
        if min_sources is not None:
            rows.highlights = [int(r[0]) for r in conn.execute(
                "SELECT s.id FROM stories s WHERE s.id IN (SELECT DISTINCT story_id FROM articles"
                " WHERE ingested_at >= ? AND ingested_at < ? AND story_id IS NOT NULL) AND s.source_count >= ?"
                " AND NOT EXISTS (SELECT 1 FROM articles a2 JOIN matches m ON m.article_id = a2.id"
                "                 WHERE a2.story_id = s.id)"
                " ORDER BY s.source_count DESC, s.article_count DESC, s.id", (lo, hi, min_sources))]
        self._stories(conn, rows, sorted({h.story_id for hits in rows.hits.values() for h in hits}
                                         | set(rows.highlights)))
        summarized = {h.article_id for hits in rows.hits.values() for h in hits}
        summarized |= {rows.story_rows[s].articles[0].id for s in rows.highlights if rows.story_rows[s].articles}
        for cur in execute_in(conn, "SELECT id, title, body FROM articles WHERE id IN ({marks})", summarized):
            rows.texts.update({int(r[0]): (r[1], r[2]) for r in cur})
        for code, first_seen, *article in conn.execute(
                "SELECT d.code, d.first_seen, a.id, a.title, a.url, coalesce(a.outlet, a.source), a.ingested_at,"
                " a.body FROM document_refs d JOIN articles a ON a.id = d.article_id"
                " WHERE d.first_seen >= ? AND d.first_seen < ? ORDER BY d.first_seen, d.code", (lo, hi)):
            rows.documents.append(DocumentRow(code, first_seen, ArticleRow(*article[:5])))
            rows.texts[int(article[0])] = (article[1], article[5])
        rows.daily = _daily(conn, rules, trend_lo, hi)

    @staticmethod
    def _stories(conn: sqlite3.Connection, rows: BriefRows, ids: Sequence[int]) -> None:
        """Story rows for ``ids``; a negative id is an article without a story (``[stories] enabled = false``)."""
        real = [i for i in ids if i > 0]
        articles = _articles_of(conn, real)
        outlets: dict[int, list[str]] = {}
        for cur in execute_in(
                conn, f"SELECT coalesce(a.story_id, -a.id), {OUTLET_SQL} FROM articles a"
                " JOIN sightings si ON si.article_id = a.id WHERE a.story_id IN ({marks})"
                " ORDER BY si.seen_at, si.id", real):
            for sid, outlet in cur:
                names = outlets.setdefault(int(sid), [])
                if outlet not in names:
                    names.append(outlet)
        for cur in execute_in(conn, "SELECT id, title, first_seen_at, article_count FROM stories"
                                    " WHERE id IN ({marks})", real):
            for raw_id, title, first_seen, count in cur:
                sid = int(raw_id)
                rows.story_rows[sid] = StoryRow(sid, title, first_seen, int(count), tuple(outlets.get(sid, ())),
                                                tuple(articles.get(sid, ())))
        loose = [-i for i in ids if i < 0]
        for cur in execute_in(conn, f"SELECT a.id, a.title, a.url, a.ingested_at, {OUTLET_SQL} FROM articles a"
                                    " JOIN sightings si ON si.article_id = a.id WHERE a.id IN ({marks})"
                                    " ORDER BY si.seen_at, si.id", loose):
            for aid, title, url, seen, outlet in cur:
                key = -int(aid)
                old = rows.story_rows.get(key)
                seen_outlets: tuple[str, ...] = old.outlets if old else ()
                if outlet not in seen_outlets:
                    seen_outlets = (*seen_outlets, outlet)
                article = ArticleRow(int(aid), title, url, seen_outlets[0], seen)
                rows.story_rows[key] = StoryRow(key, title, seen, 1, seen_outlets, (article,))

    # -- what was made ---------------------------------------------------------------------------
    def briefing_made(self, briefing: str) -> bool:
        with self.read() as conn:
            return conn.execute("SELECT 1 FROM briefings WHERE id = ?", (briefing,)).fetchone() is not None

    def schedule_since(self, name: str, now: datetime) -> datetime:
        """When the service first knew the scheduled briefing ``name`` (recorded now the first time)."""
        with self.tx() as conn:
            conn.execute("INSERT OR IGNORE INTO briefing_schedules (name, since) VALUES (?, ?)", (name, self.iso(now)))
            since = conn.execute("SELECT since FROM briefing_schedules WHERE name = ?", (name,)).fetchone()[0]
        return datetime.fromisoformat(since)

    def record_briefing(self, record: dict[str, Any], events: Sequence[tuple[str, str, str, str, str]],
                        now: datetime) -> bool:
        """The briefing's row and its ``briefing.ready`` events in one transaction; False if it was made already.

        ``events``: (id, type, key, webhook, body) rows for the outbox (``EventTables``).
        """
        stamp = self.iso(now)
        with self.tx() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO briefings (id, name, period, period_start, period_end, created_at, articles,"
                " stories, outlets, files) VALUES (:id, :name, :period, :period_start, :period_end, :created_at,"
                " :articles, :stories, :outlets, :files)", {**record, "created_at": stamp})
            if cur.rowcount != 1:
                return False
            conn.executemany(
                "INSERT OR IGNORE INTO events (id, type, key, webhook, body, status, created_at, next_attempt_at)"
                " VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)", [(*e, stamp, stamp) for e in events])
        return True

    def briefings_list(self, name: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        with self.read() as conn:
            sql = "SELECT * FROM briefings" + (" WHERE name = ?" if name is not None else "")
            return [dict(r) for r in conn.execute(sql + " ORDER BY period_end DESC, id LIMIT ?",
                                                  (*((name,) if name is not None else ()), limit))]

    def daily_mentions(self, rules: Sequence[str], start: datetime, end: datetime) -> dict[str, dict[str, int]]:
        """Rule -> local day -> articles matched that day, for the spike check (the briefing reads it in brief_rows)."""
        with self.read() as conn:
            return _daily(conn, rules, self.iso(start), self.iso(end))

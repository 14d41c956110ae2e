"""The ``stories`` tables: which story each article belongs to, and what finding it takes.

``assign_stories`` runs inside the transaction that stores a batch of articles (``ArticleTables.ingest``)
and inside each transaction of the backfill: it reads what the batch's shingle keys meet among recent
articles, lets ``daemon.stories.assign`` decide (pure), and writes the decision. A look-up reads at most
``POSTINGS`` rows per key, the most recent first, and only rows of articles first seen within the window
(a range of the primary key): its cost depends on the window, not on how many articles are stored.

``story_keys`` and ``story_sketches`` are internal (what assignment needs); ``stories`` and
``articles.story_id`` are for users.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from daemon.models import SEEDS_SOURCE, StorySettings
from daemon.store.db import Database
from daemon.stories.assign import COMMON, POSTINGS, Arrival, Member, assign
from daemon.stories.sketch import Sketch, sketch

log = logging.getLogger(__name__)

PRUNE_EVERY = 20_000  # articles the window moves on between two prunings of story_keys
BACKFILL_BATCH = 2000  # articles per transaction while the first start after the upgrade assigns stories

# The outlet of one sighting: the feed's name, or for a seed file the outlet its header names.
OUTLET_SQL = f"CASE WHEN si.source = '{SEEDS_SOURCE}' THEN coalesce(a.outlet, si.source) ELSE si.source END"


@dataclass(frozen=True, slots=True)
class StoryFacts:
    """What an alert says about its story when it is sent: how many articles, which outlets."""

    id: int
    articles: int
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NewArticle:
    """An article just inserted (or found without a story by the backfill), to be given its story."""

    article_id: int
    title: str
    sketch: Sketch
    seen_at: str  # ISO, when newswatch first saw it
    published_at: str | None  # ISO, None when unknown or a fallback


def _chunks(items: Sequence[Any], n: int = 500) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _first_id_since(conn: sqlite3.Connection, since: str) -> int:
    """The first article first seen at or after ``since`` (ids grow with ``ingested_at``): one index seek."""
    row = conn.execute("SELECT id FROM articles WHERE ingested_at >= ? ORDER BY ingested_at LIMIT 1",
                       (since,)).fetchone()
    return int(row[0]) if row else 1 << 62


def _postings(conn: sqlite3.Connection, keys: Sequence[int], first_id: int
              ) -> tuple[dict[int, list[int]], dict[int, int]]:
    """key -> the most recent articles (at most ``POSTINGS``, from ``first_id`` on) that have it; and
    key -> in how many stories those are. A key in ``COMMON`` stories or more is a formula: its articles
    are not read."""
    out: dict[int, list[int]] = {}
    spread: dict[int, int] = {}
    sql = ("SELECT j.value, (SELECT count(DISTINCT story_id) || ':' || group_concat(article_id) FROM"
           " (SELECT article_id, story_id FROM story_keys"
           f" WHERE key = j.value AND article_id >= ? ORDER BY article_id DESC LIMIT {POSTINGS}))"
           " FROM json_each(?) j")
    for part in _chunks(keys, 5000):
        for key, found in conn.execute(sql, (first_id, json.dumps(list(part)))):
            if found:
                stories, _, ids = found.partition(":")
                spread[key] = int(stories)
                if spread[key] < COMMON:
                    out[key] = list(map(int, ids.split(",")))
    return out, spread


def _members(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, Member]:
    out: dict[int, Member] = {}
    wanted = sorted(set(ids))
    for part in _chunks(wanted, 5000):
        for r in conn.execute(
            "SELECT article_id, story_id, body_keys, lead_keys, short, seen_at, published_at, numbers"
            " FROM story_sketches WHERE article_id IN (SELECT value FROM json_each(?))", (json.dumps(list(part)),)):
            out[int(r[0])] = Member(int(r[0]), int(r[1]), datetime.fromisoformat(r[5]),
                                    datetime.fromisoformat(r[6]) if r[6] else None, int(r[2]), int(r[3]), bool(r[4]),
                                    frozenset(map(int, r[7].split(","))) if r[7] else frozenset())
    return out


def prune_keys(conn: sqlite3.Connection, below_id: int) -> int:
    """Forget the keys of articles older than any window can reach (``below_id``): one pass over the table.

    Without it the table would hold every article's keys and outgrow the page cache, and each look-up
    would go to disk: measured, 3× the cost with 200,000 articles stored. Pruned, it holds the articles
    of the window whatever the archive's size. (A window made longer later reaches back only as far as
    the keys kept.)
    """
    return conn.execute("DELETE FROM story_keys WHERE article_id < ?", (below_id,)).rowcount


def assign_stories(conn: sqlite3.Connection, new: Sequence[NewArticle], settings: StorySettings,
                   pruned: list[int] | None = None) -> dict[int, int]:
    """Give each new article its story (in order), inside the caller's transaction; article id -> story id.

    ``pruned`` (one id, kept by the caller between calls): the keys below it are gone; once the window has
    moved ``PRUNE_EVERY`` articles past it, older keys are pruned in this transaction.
    """
    if not new:
        return {}
    arrivals = [Arrival(n.article_id, n.sketch, datetime.fromisoformat(n.seen_at),
                        datetime.fromisoformat(n.published_at) if n.published_at else None) for n in new]
    reach = max(settings.window, settings.lead_window)
    since = min(a.seen_at for a in arrivals) - timedelta(seconds=reach)
    first_id = _first_id_since(conn, since.isoformat(timespec="seconds"))
    if pruned is not None and first_id < 1 << 62 and first_id - pruned[0] >= PRUNE_EVERY:
        prune_keys(conn, first_id)
        pruned[0] = first_id
    keys = list(dict.fromkeys(k for n in new for k in (*n.sketch.body, *n.sketch.lead)))
    postings, spread = _postings(conn, keys, first_id)
    # Only articles that share two keys or more with the batch can be a near-copy of one of its articles.
    hits = Counter(i for ids in postings.values() for i in ids)
    members = _members(conn, (i for i, n in hits.items() if n >= 2))
    postings = {k: [i for i in ids if i in members] for k, ids in postings.items()}
    stories = assign(arrivals, postings, members, settings, spread)
    decided = {n.article_id: sid for n, sid in zip(new, stories, strict=True)}
    conn.executemany(
        "INSERT INTO stories (id, title, first_article_id, first_seen_at, last_seen_at, article_count, source_count)"
        " VALUES (?, ?, ?, ?, ?, 0, 0)",
        [(n.article_id, n.title, n.article_id, n.seen_at, n.seen_at) for n in new
         if decided[n.article_id] == n.article_id])
    conn.executemany("UPDATE articles SET story_id = ? WHERE id = ?", [(sid, aid) for aid, sid in decided.items()])
    conn.executemany(
        "INSERT OR REPLACE INTO story_sketches (article_id, story_id, body_keys, lead_keys, short, seen_at,"
        " published_at, numbers) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(n.article_id, decided[n.article_id], len(n.sketch.body), len(n.sketch.lead), int(n.sketch.short),
          n.seen_at, n.published_at, ",".join(map(str, n.sketch.numbers))) for n in new])
    conn.executemany(
        "INSERT OR IGNORE INTO story_keys (key, article_id, story_id) VALUES (?, ?, ?)",
        [(k, n.article_id, decided[n.article_id]) for n in new
         for k in dict.fromkeys((*n.sketch.body, *n.sketch.lead))])
    return decided


def refresh_stories(conn: sqlite3.Connection, seen: Mapping[int, str]) -> None:
    """Recount the articles and outlets of these stories (story id -> the latest arrival's time)."""
    conn.executemany(
        "UPDATE stories SET last_seen_at = max(last_seen_at, ?),"
        " article_count = (SELECT count(*) FROM articles WHERE story_id = stories.id),"
        f" source_count = (SELECT count(DISTINCT {OUTLET_SQL}) FROM articles a"
        "                  JOIN sightings si ON si.article_id = a.id WHERE a.story_id = stories.id)"
        " WHERE id = ?",
        [(stamp, sid) for sid, stamp in seen.items()])


def story_facts(conn: sqlite3.Connection, story_ids: Iterable[int]) -> dict[int, StoryFacts]:
    """Each story's article count and outlets (first seen first), as they stand now."""
    wanted = sorted(set(story_ids))
    out: dict[int, StoryFacts] = {}
    for part in _chunks(wanted):
        marks = ",".join("?" * len(part))
        counts = dict(conn.execute(f"SELECT id, article_count FROM stories WHERE id IN ({marks})", part).fetchall())
        outlets: dict[int, list[str]] = {}
        for sid, outlet in conn.execute(
                f"SELECT a.story_id, {OUTLET_SQL} FROM articles a JOIN sightings si ON si.article_id = a.id"
                f" WHERE a.story_id IN ({marks}) ORDER BY si.seen_at, si.id", part):
            names = outlets.setdefault(int(sid), [])
            if outlet not in names:
                names.append(outlet)
        out.update({int(sid): StoryFacts(int(sid), int(n), tuple(outlets.get(int(sid), ())))
                    for sid, n in counts.items()})
    return out


class StoryTables(Database):
    """Store methods for stories: the backfill and what the commands read."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pruned_below = [0]  # story_keys below this article id are gone (one list: assign_stories moves it)

    def backfill_stories(self, settings: StorySettings, *, batch: int = BACKFILL_BATCH) -> int:
        """Give every article without a story its story, in first-seen order; how many were assigned.

        Runs on each start (cheap when nothing is missing): after the upgrade that adds stories, and after
        a time with ``[stories] enabled = false``. Alerts are not touched: nothing already queued or sent
        is queued again.
        """
        started, done = time.monotonic(), 0
        while True:
            with self.tx() as conn:
                rows = conn.execute(
                    "SELECT id, title, body, ingested_at, published_at, date_inferred FROM articles"
                    " WHERE story_id IS NULL ORDER BY id LIMIT ?", (batch,)).fetchall()
                if not rows:
                    break
                new = [NewArticle(r[0], r[1], sketch(r[1], r[2]), r[3], None if r[5] or not r[4] else r[4])
                       for r in rows]
                decided = assign_stories(conn, new, settings, self.pruned_below)
                latest: dict[int, str] = {}
                for n in new:
                    sid = decided[n.article_id]
                    latest[sid] = max(latest.get(sid, n.seen_at), n.seen_at)
                refresh_stories(conn, latest)
            done += len(rows)
            if len(rows) < batch:
                break
        if done:
            log.info("stories: %d stored articles assigned to stories in %.1f s", done, time.monotonic() - started)
        return done

    def story_count(self) -> int:
        with self.read() as conn:
            return int(conn.execute("SELECT count(*) FROM stories").fetchone()[0])

    def list_stories(self, since: str | None = None, rule: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Stories seen since ``since`` (newest first), each with its articles and outlets.

        ``rule``: only stories with an article the rule matched.
        """
        where: list[str] = []
        args: list[Any] = []
        if since:
            where.append("s.last_seen_at >= ?")
            args.append(since)
        if rule:
            where.append("EXISTS (SELECT 1 FROM matches m JOIN articles a ON a.id = m.article_id"
                         " WHERE a.story_id = s.id AND m.rule = ?)")
            args.append(rule)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self.read() as conn:
            stories = [dict(r) for r in conn.execute(
                "SELECT s.id, s.title, s.first_article_id, s.first_seen_at, s.last_seen_at, s.article_count,"
                f" s.source_count FROM stories s {clause} ORDER BY s.last_seen_at DESC, s.id DESC LIMIT ?",
                [*args, limit])]
            facts = story_facts(conn, [s["id"] for s in stories])
            by_story: dict[int, list[dict[str, Any]]] = {}
            ids = [s["id"] for s in stories]
            for part in _chunks(ids):
                for r in conn.execute(
                        "SELECT a.story_id, a.id, a.title, a.source, a.outlet, a.url, a.published_at, a.ingested_at"
                        f" FROM articles a WHERE a.story_id IN ({','.join('?' * len(part))}) ORDER BY a.id", part):
                    row = dict(r)
                    by_story.setdefault(int(row.pop("story_id")), []).append(row)
        for s in stories:
            s["sources"] = list(facts[s["id"]].sources) if s["id"] in facts else []
            s["articles"] = by_story.get(s["id"], [])
        return stories

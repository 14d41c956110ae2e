"""The ``stories`` tables: which story each article belongs to, and the window that finding it takes.

``decide_stories`` runs inside the transaction that stores a batch of articles (``ArticleTables.ingest``),
before the articles are inserted (each is inserted with its story), and inside each transaction of the
backfill (``assign_stories``): it lets ``daemon.stories.assign`` decide (pure) against the store's
in-memory ``Window`` of recent members. ``write_stories`` writes the decision: new stories, stories
merged into earlier ones.

The window is the store's, built on the first assignment after a start from the text of the articles
first seen within reach (their keys are recomputed, not stored: nothing is written per article but its
``story_id``), and kept in step with the database: when another connection has committed since this
one last looked (``PRAGMA data_version``), the articles it stored join the window and the members'
stories are read again (it may have merged some). A transaction that fails drops the window (it may
hold arrivals that were rolled back); the next assignment builds it again.

``stories`` and ``articles.story_id`` are for users. ``story_keys`` and ``story_sketches`` (schema 6,
what assignment looked up in SQLite before the window) are no longer written, and emptied by schema 9.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from daemon.models import SEEDS_SOURCE, StorySettings
from daemon.store.db import Database
from daemon.stories.assign import CHUNK, Arrival, assign
from daemon.stories.sketch import Sketch, sketch
from daemon.stories.window import CAPACITY, Member, Window

log = logging.getLogger(__name__)

BACKFILL_BATCH = 2000  # articles per transaction while the first start after the upgrade assigns stories

# The outlet of one sighting: the feed's name, or for a seed file the outlet its header names.
OUTLET_SQL = f"CASE WHEN si.source = '{SEEDS_SOURCE}' THEN coalesce(a.outlet, si.source) ELSE si.source END"


@dataclass(frozen=True, slots=True)
class StoryFacts:
    """What an alert says about its story when it is sent: how many articles, which outlets."""

    id: int
    articles: int
    sources: tuple[str, ...]


class Decided(NamedTuple):
    story_of: dict[int, int]  # article id -> story id
    merges: dict[int, int]  # story merged -> the story it went into


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


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def _first_id_since(conn: sqlite3.Connection, since: str) -> int:
    """The first article first seen at or after ``since`` (ids grow with ``ingested_at``): one index seek."""
    row = conn.execute("SELECT id FROM articles WHERE ingested_at >= ? ORDER BY ingested_at LIMIT 1",
                       (since,)).fetchone()
    return int(row[0]) if row else 1 << 62


_MEMBER_SQL = ("SELECT id, story_id, title, body, ingested_at, published_at, date_inferred FROM articles"
               " WHERE id >= ? AND story_id IS NOT NULL ORDER BY id DESC LIMIT ?")


def _add_rows(window: Window, rows: Iterable[sqlite3.Row]) -> None:
    """Stored articles into the window, in id order; indexed every ``CHUNK`` (the formulas they bring are
    known to those after, as when they arrived)."""
    for n, r in enumerate(sorted(rows, key=lambda r: int(r[0])), start=1):
        published = None if r[6] or not r[5] else _epoch(r[5])
        window.join(Member.of(int(r[0]), int(r[1]), _epoch(r[4]), published, sketch(r[2], r[3])))
        if n % CHUNK == 0:
            window.index_joined()
    window.index_joined()


class StoryWindow:
    """The store's window and what keeping it in step with the database needs."""

    def __init__(self) -> None:
        self.window: Window | None = None
        self.version = -1  # PRAGMA data_version when the window was last in step
        self.capacity = CAPACITY

    def drop(self) -> None:
        self.window = None

    def get(self, conn: sqlite3.Connection, since: str) -> Window:
        """The window, built or brought in step with what other connections committed."""
        version = int(conn.execute("PRAGMA data_version").fetchone()[0])
        window = self.window
        if window is None:
            started = time.monotonic()
            window = Window(self.capacity)
            _add_rows(window, conn.execute(_MEMBER_SQL, (_first_id_since(conn, since), self.capacity)))
            if len(window) >= 1000:
                log.info("stories: %d recent articles read into the window in %.1f s", len(window),
                         time.monotonic() - started)
            self.window = window
        elif version != self.version:
            _add_rows(window, conn.execute(_MEMBER_SQL, (max(window.high + 1, _first_id_since(conn, since)),
                                                         self.capacity)))
            if window.order:
                window.restory({int(r[0]): int(r[1]) for r in conn.execute(
                    "SELECT id, story_id FROM articles WHERE id >= ? AND story_id IS NOT NULL", (window.order[0],))})
        self.version = version
        return window


def decide_stories(conn: sqlite3.Connection, new: Sequence[NewArticle], settings: StorySettings,
                   windows: StoryWindow) -> Decided:
    """Each new article's story (in order), and the stories merged; reads only (the window's sync)."""
    if not new:
        return Decided({}, {})
    arrivals = [Arrival(n.article_id, n.sketch, _epoch(n.seen_at), _epoch(n.published_at) if n.published_at else None)
                for n in new]
    reach = max(settings.window, settings.lead_window)
    earliest = min(a.seen_at for a in arrivals) - reach
    since = min(n.seen_at for n in new)
    window = windows.get(conn, (datetime.fromisoformat(since) - timedelta(seconds=reach)).isoformat())
    window.evict(earliest)
    decision = assign(arrivals, window, settings)
    return Decided({n.article_id: sid for n, sid in zip(new, decision.stories, strict=True)}, decision.merges)


def write_stories(conn: sqlite3.Connection, new: Sequence[NewArticle], decided: Decided) -> None:
    """The new stories' rows, and the merges: the merged stories' articles move to the earlier story,
    their rows go (alerts stay with their articles, so a story that alerted has alerted whichever part it
    was in). A new story is written with one article and one outlet (its first sighting's); ``refresh_stories``
    recounts those that more joined."""
    story_of, merges = decided
    conn.executemany(
        "INSERT INTO stories (id, title, first_article_id, first_seen_at, last_seen_at, article_count, source_count)"
        " VALUES (?, ?, ?, ?, ?, 1, 1)",
        [(n.article_id, n.title, n.article_id, n.seen_at, n.seen_at) for n in new
         if story_of[n.article_id] == n.article_id])
    merged = [(into, story) for story, into in merges.items() if story not in story_of]
    if merged:
        conn.executemany("UPDATE articles SET story_id = ? WHERE story_id = ?", merged)
        conn.executemany("UPDATE stories SET first_seen_at = min(first_seen_at,"
                         " (SELECT first_seen_at FROM stories s WHERE s.id = ?)) WHERE id = ?",
                         [(story, into) for into, story in merged])
        conn.executemany("DELETE FROM stories WHERE id = ?", [(story,) for _, story in merged])


def assign_stories(conn: sqlite3.Connection, new: Sequence[NewArticle], settings: StorySettings,
                   windows: StoryWindow) -> dict[int, int]:
    """Give stored articles without a story their story (in order), inside the caller's transaction (the
    backfill); article id -> story id. An ingest decides before it inserts, and inserts each article with
    its story (``ArticleTables._ingest``): an UPDATE of a row rewrites all its text."""
    decided = decide_stories(conn, new, settings, windows)
    write_stories(conn, new, decided)
    conn.executemany("UPDATE articles SET story_id = ? WHERE id = ?",
                     [(sid, aid) for aid, sid in decided.story_of.items()])
    return decided.story_of


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
        self.windows = StoryWindow()

    def backfill_stories(self, settings: StorySettings, *, batch: int = BACKFILL_BATCH) -> int:
        """Give every article without a story its story, in first-seen order; how many were assigned.

        Runs on each start (cheap when nothing is missing): after the upgrade that adds stories, and after
        a time with ``[stories] enabled = false``. Alerts are not touched: nothing already queued or sent
        is queued again.
        """
        started, done = time.monotonic(), 0
        while True:
            with self.windows_dropped_on_error(), self.tx() as conn:
                rows = conn.execute(
                    "SELECT id, title, body, ingested_at, published_at, date_inferred FROM articles"
                    " WHERE story_id IS NULL ORDER BY id LIMIT ?", (batch,)).fetchall()
                if not rows:
                    break
                new = [NewArticle(r[0], r[1], sketch(r[1], r[2]), r[3], None if r[5] or not r[4] else r[4])
                       for r in rows]
                decided = assign_stories(conn, new, settings, self.windows)
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

    def warm_stories(self, settings: StorySettings) -> None:
        """Build the window of recent articles now (the service, before it reports ready), not in the first
        ingest's transaction. Commands that only read stories do not need it."""
        if self.windows.window is None:
            reach = max(settings.window, settings.lead_window)
            with self.read() as conn:
                self.windows.get(conn, self.iso(self.now() - timedelta(seconds=reach)))

    @contextmanager
    def windows_dropped_on_error(self) -> Iterator[None]:
        """A transaction that fails may leave arrivals in the window that the database does not have."""
        try:
            yield
        except BaseException:
            self.windows.drop()
            raise

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

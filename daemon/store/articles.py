"""Articles, sightings, matches, the alert outbox rows and the seed-file ledger.

Everything one article brings is written in ONE transaction: the article, its sighting, its matches,
its alert rows and the ledger entry of the file it came from. A crash therefore leaves either all of it
or none of it, and the next pass redoes the missing work; alert ids are derived from content, so a
redone pass can never create an alert twice.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from daemon.errors import StoreError
from daemon.models import SEEDS_SOURCE, Match, Prepared, StorySettings
from daemon.store.db import execute_in, first_column_in
from daemon.store.feeds import write_poll
from daemon.store.schema import ARTICLE_DATE_SQL
from daemon.store.stories import NewArticle, StoryTables, decide_stories, refresh_stories, write_stories

if TYPE_CHECKING:  # what only writing needs is imported there: every read-only command opens a Store
    from daemon.sources.feeds.decide import FeedUpdate
    from daemon.stories.sketch import Sketch


def _ledger_status(article_id: int | None, path: str, origins: set[tuple[int, str]]) -> str:
    if article_id is None:
        return "skipped"
    return "ingested" if (article_id, path) in origins else "duplicate"


def alert_id(content_hash: str, rule: str, webhook: str) -> str:
    """Stable id of the alert for (article, rule, webhook); also the ``webhook-id`` receivers dedupe on."""
    digest = hashlib.sha256(f"{content_hash}\x1f{rule}\x1f{webhook}".encode()).hexdigest()
    return f"al_{digest[:32]}"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """What the seed scanner learned about one file; written with the article it produced.

    An entry with a content hash produced an article: whether the file is ``ingested`` (it brought the
    article) or a ``duplicate`` is decided by ``ingest``, where duplicates are decided. One without was
    ``skipped`` for ``reason``.
    """

    path: str
    size: int
    mtime_ns: int
    sha256: str | None = None
    content_hash: str | None = None  # links the entry to its article
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class NewItem:
    """One article to ingest, with what matching decided about it."""

    prepared: Prepared
    matches: Sequence[Match] = ()
    alerts: Sequence[tuple[str, str]] = ()  # (rule, webhook) pairs to queue
    sketch: Sketch | None = None  # what story assignment compares (None: stories are off)


class StoredArticle(NamedTuple):
    """An article as `newswatch match` reads it back: its text as stored, with the hash that vouches for it
    (``text.normalize.canonical_by_hash``)."""

    id: int
    title: str
    body: str
    content_hash: str
    source: str
    url: str | None
    published_at: str | None
    ingested_at: str
    dated: str  # ARTICLE_DATE_SQL: published_at, else ingested_at


def _newest_first(article: StoredArticle) -> tuple[str, int]:
    return article.dated, article.id


@dataclass(slots=True)
class IngestReport:
    new: list[tuple[int, Prepared]] = field(default_factory=list)
    duplicates: list[tuple[int, Prepared]] = field(default_factory=list)
    matches: int = 0
    alerts: int = 0
    skipped: int = 0
    joined: int = 0  # new articles that joined an existing story (copies of a report already stored)
    held: int = 0  # alerts not queued: their story had already alerted for that rule and webhook


_ROWS_PER_STATEMENT = 250  # articles per INSERT statement (see ``_insert_articles``)
# The columns ``_insert_articles`` writes, in the order of the row tuples it builds.
_ARTICLE_COLUMNS = ("content_hash", "title", "body", "url", "source", "category", "published_at", "published_raw",
                    "date_inferred", "ingested_at", "folded", "outlet")


class ArticleTables(StoryTables):  # its ingest assigns stories
    # -- dedupe look-ups (before matching, so duplicates cost no matching) -----------------------
    def known_hashes(self, hashes: Iterable[str]) -> dict[str, int]:
        with self.read() as conn:
            return self._ids_of(conn, hashes)

    def seen_locators(self, source: str, locators: Iterable[str]) -> set[str]:
        """Item keys this source has already delivered (identity within a feed)."""
        with self.read() as conn:
            return first_column_in(conn, "SELECT locator FROM sightings WHERE source = ? AND locator IN ({marks})",
                                   locators, [source])

    def ledger(self) -> dict[str, tuple[int, int]]:
        """path -> (size, mtime_ns) of every seed file already handled and not gone since."""
        with self.read() as conn:
            return _pairs(conn, "SELECT path, size, mtime_ns FROM seed_files WHERE status != 'deleted'")

    def ledger_of(self, paths: Iterable[str]) -> dict[str, tuple[int, int]]:
        """``ledger`` for these paths only: a pickup compares the few files it was told about, not 200,000."""
        found: dict[str, tuple[int, int]] = {}
        with self.read() as conn:
            for cur in execute_in(conn, "SELECT path, size, mtime_ns FROM seed_files WHERE status != 'deleted'"
                                  " AND path IN ({marks})", paths):
                found.update((r[0], (r[1], r[2])) for r in cur)
        return found

    def ledger_in(self, folder: str, subfolders: bool = False) -> dict[str, tuple[int, int]]:
        """``ledger`` of the files directly in one folder (relative, ending in "/"; "" for the seed folder),
        or with ``subfolders`` under it: a safety-net re-scan that lists a few folders reads their rows, a
        range of the path index, not 200,000."""
        # Every path under "a/b/" sorts from "a/b/" up to, not including, "a/b0" ("0" follows "/").
        args: list[str | int] = [folder, folder[:-1] + "0"] if folder else []
        where = "path >= ? AND path < ?" if folder else "1"
        if not subfolders and folder:
            where += " AND instr(substr(path, ?), '/') = 0"
            args.append(len(folder) + 1)
        elif not subfolders:
            where = "instr(path, '/') = 0"
        with self.read() as conn:
            return _pairs(conn, f"SELECT path, size, mtime_ns FROM seed_files WHERE {where} AND status != 'deleted'",
                          args)

    def mark_seed_files_deleted(self, paths: Sequence[str], now: datetime | None = None) -> int:
        """Files gone from the seed folder keep their rows, and their articles stay: status ``deleted``."""
        stamp = self.iso(now or self.now())
        marked = 0
        with self.tx() as conn:
            for cur in execute_in(conn, "UPDATE seed_files SET status = 'deleted', deleted_at = ?"
                                  " WHERE status != 'deleted' AND path IN ({marks})", paths, [stamp]):
                marked += cur.rowcount
        return marked

    # -- the write ------------------------------------------------------------------------------
    def ingest(self, items: Sequence[NewItem], ledger: Sequence[LedgerEntry] = (),
               now: datetime | None = None, *, feed: FeedUpdate | None = None,
               stories: StorySettings | None = None) -> IngestReport:
        """Store a batch atomically: new articles with their stories, matches and alerts, sightings of duplicates.

        The batch's bookkeeping goes in the same transaction: the seed files' ledger entries, or the
        polled feed's row (a poll with no new items is a batch of none), so no crash separates them.
        With ``stories`` (and sketches on the items), each new article joins a story or starts one, and
        an alert is queued once per (story, rule, webhook) unless ``alert_each_copy``.
        """
        return self._ingest([items], ledger, now, () if feed is None else (feed,), stories)[0]

    def ingest_polls(self, polls: Sequence[tuple[Sequence[NewItem], FeedUpdate]], now: datetime | None = None, *,
                     stories: StorySettings | None = None) -> list[IngestReport]:
        """Store several feed polls (each its new items and its feed's row) in one transaction; a report each.

        What ``ingest`` does for one poll, for the polls a pass has ready at once: every poll is still all
        or nothing (the transaction holds them all), and the items are deduped and given stories in the
        order given, as one ``ingest`` after another would. A transaction a feed cost the single writer
        about a third of its time in a pass over 1,000 feeds (the commit writing the pages every feed
        touched again, and FTS5 a small index segment a statement): see the README, feed passes.
        """
        return self._ingest([items for items, _ in polls], (), now, [feed for _, feed in polls], stories)

    def _ingest(self, groups: Sequence[Sequence[NewItem]], ledger: Sequence[LedgerEntry], now: datetime | None,
                feeds: Sequence[FeedUpdate], stories: StorySettings | None) -> list[IngestReport]:
        """``ingest`` of the groups' items in one transaction, one report per group (the ledger's skipped
        files are counted in the first)."""
        stamp = self.iso(now or self.now())
        reports = [IngestReport() for _ in groups]
        items = [item for group in groups for item in group]
        with self.windows_dropped_on_error(), self.tx() as conn:
            known: dict[str, int] = {}
            if stories is not None and stories.enabled:
                created, story_of, known = self._insert_with_stories(conn, items, stamp, stories)
            else:
                created, story_of = self._insert_articles(conn, items, stamp), {}
            ids = {**known, **created}
            missing = {i.prepared.content_hash for i in items} - ids.keys()
            missing |= {e.content_hash for e in ledger if e.content_hash and e.content_hash not in ids}
            ids.update(self._ids_of(conn, missing))
            alerted = self._story_alerts(conn, story_of, created) if stories and not stories.alert_each_copy else None
            matches: list[tuple[object, ...]] = []
            alerts: list[list[tuple[object, ...]]] = []  # per group: its report counts those queued
            sightings: list[tuple[object, ...]] = []
            origins: set[tuple[int, str]] = set()  # (article, seed file) pairs where the file brought it
            for report, group in zip(reports, groups, strict=True):
                queued: list[tuple[object, ...]] = []
                before = len(matches)
                for item in group:
                    p, doc = item.prepared, item.prepared.doc
                    article_id = ids[p.content_hash]
                    is_first = created.pop(p.content_hash, None) is not None  # the first item of a hash made it
                    sightings.append((article_id, doc.source, doc.locator, stamp, int(is_first)))
                    if is_first and doc.source == SEEDS_SOURCE:
                        origins.add((article_id, doc.locator))
                    if not is_first:
                        report.duplicates.append((article_id, p))
                        continue
                    report.new.append((article_id, p))
                    matches += [(article_id, m.rule, m.keyword, m.text, m.field, m.snippet, stamp)
                                for m in item.matches]
                    if doc.alert:
                        pairs = item.alerts
                        if alerted is not None and article_id in story_of:
                            done = alerted.setdefault(story_of[article_id], set())
                            pairs = [pair for pair in item.alerts if pair not in done]
                            report.held += len(item.alerts) - len(pairs)
                            done.update(pairs)
                        queued += [(alert_id(p.content_hash, rule, webhook), article_id, rule, webhook, stamp, stamp)
                                   for rule, webhook in pairs]
                report.matches = len(matches) - before
                report.joined = sum(1 for aid, _ in report.new if story_of.get(aid, aid) != aid)
                alerts.append(queued)
            from daemon.text.docrefs import document_codes  # noqa: PLC0415

            cited = [(code, article_id, stamp) for report in reports for article_id, p in report.new
                     for code in (p.codes if p.codes is not None else document_codes(f"{p.doc.title}\n{p.doc.body}"))]
            if cited:  # the first citation of each document, for the briefing (store.briefs)
                conn.executemany("INSERT OR IGNORE INTO document_refs (code, article_id, first_seen) VALUES (?, ?, ?)",
                                 cited)
            conn.executemany(
                "INSERT INTO matches (article_id, rule, keyword, matched_text, field, snippet, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)", matches)
            for report, queued in zip(reports, alerts, strict=True):
                if queued:
                    cur = conn.executemany(
                        "INSERT OR IGNORE INTO alerts (id, article_id, rule, webhook, status, created_at,"
                        " next_attempt_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)", queued)
                    report.alerts = max(cur.rowcount, 0)
            cur = conn.executemany(
                "INSERT OR IGNORE INTO sightings (article_id, source, locator, seen_at, is_first)"
                " VALUES (?, ?, ?, ?, ?)", sightings)
            duplicates = [article_id for report in reports for article_id, _ in report.duplicates]
            if stories is not None and stories.enabled and (story_of or (duplicates and cur.rowcount)):
                # new stories were written with one article and one outlet: only those that more joined, and
                # those of the articles sighted again, are counted again
                touched = {sid for aid, sid in story_of.items() if aid != sid} | self._stories_of(conn, duplicates)
                if touched:
                    refresh_stories(conn, dict.fromkeys(touched, stamp))
            # A seed file is "ingested" when it brought its article, in this batch (origins) or in an earlier
            # pass (it was touched, or deleted and put back); otherwise it is a duplicate.
            linked = [(e, ids[e.content_hash] if e.content_hash else None) for e in ledger]
            origins |= self._seed_origins(conn, [(a, e.path) for e, a in linked if a and (a, e.path) not in origins])
            # An upsert, not INSERT OR REPLACE: a replaced row fires no DELETE trigger, and the status counts
            # (schema._v9) must see the row leave its old status.
            conn.executemany(
                "INSERT INTO seed_files (path, size, mtime_ns, sha256, status, reason, article_id, seen_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET size = excluded.size,"
                " mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256, status = excluded.status,"
                " reason = excluded.reason, article_id = excluded.article_id, seen_at = excluded.seen_at,"
                " deleted_at = NULL",
                [(e.path, e.size, e.mtime_ns, e.sha256, _ledger_status(a, e.path, origins), e.reason, a, stamp)
                 for e, a in linked])
            if reports:
                reports[0].skipped = sum(e.content_hash is None for e in ledger)
            for feed in feeds:
                write_poll(conn, feed, self.iso)
        return reports

    def _insert_with_stories(self, conn: sqlite3.Connection, items: Sequence[NewItem], stamp: str,
                             settings: StorySettings) -> tuple[dict[str, int], dict[int, int], dict[str, int]]:
        """The batch's new articles inserted with their stories: content_hash -> id of the rows created,
        article id -> story id, and content_hash -> id of the articles already stored.

        Stories are decided before the rows exist, on the ids the rows will get (the next ones: this
        transaction holds the write lock), and the new stories written first, so that each article row is
        written once, with its story: setting ``story_id`` after the insert rewrote the whole row, text
        included (15 µs an article, measured). A story's link to its first article is checked at the
        commit (schema v15).
        """
        known = self._ids_of(conn, {item.prepared.content_hash for item in items})
        next_id = int(conn.execute("SELECT coalesce(max(id), 0) + 1 FROM articles").fetchone()[0])
        planned: dict[str, int] = {}
        new: list[NewArticle] = []
        for item in items:
            p, doc = item.prepared, item.prepared.doc
            if p.content_hash in known or p.content_hash in planned:
                continue
            planned[p.content_hash] = next_id
            if item.sketch is not None:
                published = None if doc.date_inferred or doc.published_at is None else self.iso(doc.published_at)
                new.append(NewArticle(next_id, doc.title, item.sketch, stamp, published))
            next_id += 1
        decided = decide_stories(conn, new, settings, self.windows)
        write_stories(conn, new, decided)
        created = self._insert_articles(conn, items, stamp, planned, decided.story_of)
        if created != planned:
            raise StoreError(f"articles inserted with other ids than planned ({len(created)} of {len(planned)})")
        return created, decided.story_of, known

    @staticmethod
    def _story_alerts(conn: sqlite3.Connection, story_of: Mapping[int, int],
                      created: Mapping[str, int]) -> dict[int, set[tuple[str, str]]]:
        """(rule, webhook) pairs already queued for the stories the new articles joined (new stories have none)."""
        joined = sorted({sid for aid, sid in story_of.items() if aid != sid})
        found: dict[int, set[tuple[str, str]]] = {}
        for i in range(0, len(joined), 500):
            part = joined[i : i + 500]
            sql = ("SELECT r.story_id, a.rule, a.webhook FROM alerts a JOIN articles r ON r.id = a.article_id"
                   f" WHERE r.story_id IN ({','.join('?' * len(part))})")
            for sid, rule, webhook in conn.execute(sql, part):
                found.setdefault(int(sid), set()).add((rule, webhook))
        return found

    @staticmethod
    def _stories_of(conn: sqlite3.Connection, article_ids: Sequence[int]) -> set[int]:
        found: set[int] = set()
        batch = sorted(set(article_ids))
        for i in range(0, len(batch), 500):
            part = batch[i : i + 500]
            sql = f"SELECT story_id FROM articles WHERE story_id IS NOT NULL AND id IN ({','.join('?' * len(part))})"
            found.update(int(r[0]) for r in conn.execute(sql, part))
        return found

    @staticmethod
    def _seed_origins(conn: sqlite3.Connection, pairs: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
        """The (article, seed file) pairs among these where the file is the article's first sighting."""
        found: set[tuple[int, str]] = set()
        for cur in execute_in(conn, "SELECT article_id, locator FROM sightings WHERE source = ? AND is_first = 1"
                              " AND locator IN ({marks})", (path for _, path in pairs), [SEEDS_SOURCE]):
            found.update((row[0], row[1]) for row in cur)
        return found

    def _insert_articles(self, conn: sqlite3.Connection, items: Sequence[NewItem], stamp: str,
                         planned: Mapping[str, int] | None = None,
                         story_of: Mapping[int, int] | None = None) -> dict[str, int]:
        """Insert the batch's articles, many rows per statement; content_hash -> id of the rows created.

        Rows per statement matter: FTS5 writes its pending index data to disk at the start of every
        statement that changes it (a statement savepoint), so one trigger-fed insert per article would
        make a tiny index segment per article. Known hashes (and repeats within the batch) are skipped by
        ``ON CONFLICT``, so a duplicate costs no index work. ``planned``: only these hashes, with these
        ids, and their stories (``story_of``).
        """
        columns = _ARTICLE_COLUMNS if planned is None else (*_ARTICLE_COLUMNS, "id", "story_id")
        rows = []
        done: set[str] = set()
        for item in items:
            p, doc = item.prepared, item.prepared.doc
            row: tuple[object, ...] = (
                p.content_hash, doc.title, doc.body, doc.url, doc.source, doc.category,
                self.iso(doc.published_at) if doc.published_at else None, doc.published_raw, int(doc.date_inferred),
                stamp, p.folded, doc.outlet)
            if planned is not None:
                aid = planned.get(p.content_hash)
                if aid is None or p.content_hash in done:  # known, or a repeat within the batch
                    continue
                done.add(p.content_hash)
                row = (*row, aid, (story_of or {}).get(aid))
            rows.append(row)
        marks = f"({', '.join('?' * len(columns))})"
        limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        per_statement = max(1, min(_ROWS_PER_STATEMENT, limit // len(columns)))
        created: dict[str, int] = {}
        for i in range(0, len(rows), per_statement):
            part = rows[i : i + per_statement]
            sql = (
                f"INSERT INTO articles ({', '.join(columns)}) VALUES "
                + ", ".join([marks] * len(part))
                + " ON CONFLICT (content_hash) DO NOTHING RETURNING content_hash, id"
            )
            created.update(conn.execute(sql, [value for row in part for value in row]).fetchall())
        return created

    @staticmethod
    def _ids_of(conn: sqlite3.Connection, hashes: Iterable[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for cur in execute_in(conn, "SELECT content_hash, id FROM articles WHERE content_hash IN ({marks})", hashes):
            found.update(cur.fetchall())
        return found

    # -- reading -------------------------------------------------------------------------------
    def articles_since(self, since: str | None, fts: str | None = None) -> list[StoredArticle]:
        """Archive rows for `newswatch match`; newest first (``dated``, then ``id``, descending).

        ``fts``: only the articles this full-text query finds (``match.prefilter``: a superset of what the
        rule can match, so the matcher reads a fraction of the month). The date is ``ARTICLE_DATE_SQL``,
        which the index ``articles_dated`` holds: a month of a year is read, not the year sorted. Rows
        come as plain tuples in id order and are sorted here: SQLite's sorter would copy every body
        through a temporary b-tree (a quarter of the read, for 20,000 articles).
        """
        where: list[str] = []
        args: list[object] = []
        with self.read() as conn:
            first: int | None = 0  # the lowest id dated since ``since``: the index reads its lists from there on
            if since:
                where.append(f"{ARTICLE_DATE_SQL} >= ?")
                args.append(since)
                first = _first_id_dated_since(conn, since)
                if first is None:
                    return []
            if fts:
                where.append("id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? AND rowid >= ?)")
                args += [fts, first]
            clause = f" WHERE {' AND '.join(where)}" if where else ""
            cursor = conn.cursor()
            cursor.row_factory = None
            rows = cursor.execute(f"SELECT {', '.join(StoredArticle._fields[:-1])}, {ARTICLE_DATE_SQL}"
                                  f" FROM articles{clause}", args).fetchall()
        articles = list(map(StoredArticle._make, rows))
        articles.sort(key=_newest_first, reverse=True)
        return articles


# The lowest id whose ARTICLE_DATE_SQL is at or after a time, from the published_at index (which holds the
# id): one range of index entries, no article read. (SQLite 3.40 reads the table for an expression index.)
_FIRST_PUBLISHED = "SELECT min(id) FROM articles INDEXED BY articles_published_at WHERE published_at >= ?"
_FIRST_UNDATED = ("SELECT min(id) FROM articles INDEXED BY articles_published_at"
                  " WHERE published_at IS NULL AND ingested_at >= ?")


def _first_id_dated_since(conn: sqlite3.Connection, since: str) -> int | None:
    ids = [conn.execute(sql, (since,)).fetchone()[0] for sql in (_FIRST_PUBLISHED, _FIRST_UNDATED)]
    return min((i for i in ids if i is not None), default=None)


def _pairs(conn: sqlite3.Connection, sql: str, args: Sequence[object] = ()) -> dict[str, tuple[int, int]]:
    """``{path: (size, mtime_ns)}`` through a cursor of plain tuples: a ``sqlite3.Row`` per row is a sixth of
    the time of reading 200,000 ledger rows (bench_pickup)."""
    cursor = conn.cursor()
    cursor.row_factory = None
    return {path: (size, mtime_ns) for path, size, mtime_ns in cursor.execute(sql, args)}

"""Full-text search over the articles, by the rules of ``text.search`` (the same as Datasette's box).

The index is ``articles_fts`` (see ``schema._v7``): title and body as written, and their folded copy.
Results are newest first unless asked by relevance; each hit's snippet comes from the body after any
repeat of the title, since the title is shown beside it. Copies of one report (a story) take one row
unless every article is asked for: an office wants "this was reported, +4 copies", not five rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from daemon.match.snippet import lead_overlap
from daemon.store.db import Database
from daemon.text.search import Query, find, highlight, parse

Sort = Literal["newest", "rank"]
SORTS: tuple[Sort, ...] = ("newest", "rank")
_COLUMNS = ("a.id, a.title, a.body, a.url, a.source, a.outlet, a.published_at, a.story_id,"
            " coalesce(s.article_count, 1) AS articles")
# By relevance, FTS5 ranks the matches and only the best ``limit`` rows are read (every match is ranked:
# a word in most articles costs in proportion to the archive).
_SQL = {
    "rank": f"SELECT {_COLUMNS}, r.rank FROM (SELECT rowid, rank FROM articles_fts WHERE articles_fts MATCH ?"
            " ORDER BY rank LIMIT ?) r JOIN articles a ON a.id = r.rowid LEFT JOIN stories s ON s.id = a.story_id"
            " ORDER BY r.rank",
}
# Newest first (published_at, then id, both descending; no date last) reads the matches of the newest ids
# first: FTS5 reads only a rowid range of its lists ("rowid > ? AND rowid <= ?"), so a word in most articles
# costs its hits among the last thousand ids, not among all. Ids grow with ingestion, dates nearly so, but
# not exactly (a bulk import of old files): the range widens (×4) until the ``fetch``-th newest match found
# is newer than every article not read yet, one look at the published_at index, so the answer is exact
# whatever the order. Before, the whole set of matches was gathered, then probed from the newest date down
# (the published_at index): its cost grew with the archive, a common word's with every article.
FIRST_SPAN = 16  # ids read in the first range, per row wanted
_IN_RANGE = ("SELECT a.published_at, a.id FROM articles a WHERE a.id IN (SELECT rowid FROM articles_fts"
             " WHERE articles_fts MATCH ? AND rowid > ? AND rowid <= ?)")
_NEWER_UNREAD = "SELECT 1 FROM articles INDEXED BY articles_published_at WHERE published_at > ? AND id <= ? LIMIT 1"
_BY_ID = f"SELECT {_COLUMNS}, NULL AS rank FROM articles a LEFT JOIN stories s ON s.id = a.story_id WHERE a.id IN"


def _newest_first(key: tuple[str | None, int]) -> tuple[bool, str, int]:
    published, article = key
    return (published is not None, published or "", article)


def _newest(conn: sqlite3.Connection, fts: str, fetch: int) -> list[sqlite3.Row]:
    """The ``fetch`` newest matches of ``fts`` (as ``ORDER BY published_at DESC, id DESC LIMIT fetch``)."""
    high = conn.execute("SELECT max(id) FROM articles").fetchone()[0] or 0
    span = fetch * FIRST_SPAN
    found: list[tuple[str | None, int]] = []
    while high > 0:
        low = max(0, high - span)
        found += conn.execute(_IN_RANGE, (fts, low, high)).fetchall()
        if len(found) >= fetch:
            found = sorted(found, key=_newest_first, reverse=True)[:fetch]
            bound = found[-1][0]
            if bound is not None and conn.execute(_NEWER_UNREAD, (bound, low)).fetchone() is None:
                break  # nothing among the ids not read is newer than the fetch-th match found
        high, span = low, span * 4
    ids = [i for _, i in sorted(found, key=_newest_first, reverse=True)[:fetch]]
    rows: dict[int, sqlite3.Row] = {}
    for i in range(0, len(ids), 500):
        part = ids[i : i + 500]
        rows.update((r["id"], r) for r in conn.execute(f"{_BY_ID} ({','.join('?' * len(part))})", part))
    return [rows[i] for i in ids]


@dataclass(frozen=True, slots=True)
class SearchHit:
    id: int
    title: str
    url: str | None
    source: str
    outlet: str | None
    published_at: str | None
    title_marked: str  # the title with the query's words «marked»
    snippet: str  # from the body, after any repeat of the title
    rank: float | None  # FTS5 bm25, lower is more relevant; with --sort rank only
    story_id: int | None = None
    copies: int = 0  # the other articles of its story (shown as "+N"); 0 when every article is listed


class SearchTables(Database):
    def search(self, query: Query | str, limit: int = 20, sort: Sort = "newest", *,
               per_story: bool = True) -> list[SearchHit]:
        """Articles matching ``query``: any user input is safe (``text.search.parse``; it may raise QueryError).

        ``per_story``: one hit per story, its first article in the chosen order, with how many copies it has.
        Copies take no room, so more rows are read until ``limit`` stories are found or the matches end.
        """
        if isinstance(query, str):
            query = parse(query)
        fetch = limit * 4 if per_story else limit
        with self.read() as conn:
            while True:
                rows = (_newest(conn, query.fts(), fetch) if sort == "newest"
                        else list(conn.execute(_SQL[sort], (query.fts(), fetch))))
                picked = _one_per_story(rows) if per_story else rows
                if len(picked) >= limit or len(rows) < fetch:
                    break
                fetch *= 4
        return _hits(picked[:limit], query, per_story)


def _one_per_story(rows: Sequence[sqlite3.Row]) -> list[sqlite3.Row]:
    seen: set[int] = set()
    picked = []
    for r in rows:
        story = r["story_id"]
        if story is not None:
            if story in seen:
                continue
            seen.add(story)
        picked.append(r)
    return picked


def _hits(rows: Sequence[sqlite3.Row], query: Query, per_story: bool) -> list[SearchHit]:
    """Rows as hits, in order."""
    terms = query.terms
    hits = []
    for r in rows:
        title, body = r["title"], r["body"]
        hits.append(SearchHit(
            r["id"], title, r["url"], r["source"], r["outlet"], r["published_at"],
            highlight(title, find(title, terms), width=len(title)),
            highlight(body, find(body, terms), floor=lead_overlap(title, body)),
            None if r["rank"] is None else float(r["rank"]),
            r["story_id"], int(r["articles"]) - 1 if per_story else 0,
        ))
    return hits

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
# Newest first walks the (covering) published_at index from the end, probes each rowid against the set of
# matches and stops at the limit; only those rows are then read. Joined first and sorted by time, a word in
# every article carried every body through the sorter (5x slower on 100,000 articles). By relevance, FTS5
# ranks the matches and only the best ``limit`` rows are read.
_SQL = {
    "newest": f"SELECT {_COLUMNS}, NULL AS rank FROM (SELECT id, published_at FROM articles"
              " INDEXED BY articles_published_at"
              " WHERE id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)"
              " ORDER BY published_at DESC, id DESC LIMIT ?) t JOIN articles a ON a.id = t.id"
              " LEFT JOIN stories s ON s.id = a.story_id ORDER BY t.published_at DESC, t.id DESC",
    "rank": f"SELECT {_COLUMNS}, r.rank FROM (SELECT rowid, rank FROM articles_fts WHERE articles_fts MATCH ?"
            " ORDER BY rank LIMIT ?) r JOIN articles a ON a.id = r.rowid LEFT JOIN stories s ON s.id = a.story_id"
            " ORDER BY r.rank",
}


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
                rows = list(conn.execute(_SQL[sort], (query.fts(), fetch)))
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

"""Full-text search over the articles, by the rules of ``text.search`` (the same as Datasette's box).

The index is ``articles_fts`` (see ``schema._v6``): title and body as written, and their folded copy.
Results are newest first unless asked by relevance; each hit's snippet comes from the body after any
repeat of the title, since the title is shown beside it.
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
_COLUMNS = "a.id, a.title, a.body, a.url, a.source, a.outlet, a.published_at"
# Newest first walks the (covering) published_at index from the end, probes each rowid against the set of
# matches and stops at the limit; only those rows are then read. Joined first and sorted by time, a word in
# every article carried every body through the sorter (5x slower on 100,000 articles). By relevance, FTS5
# ranks the matches and only the best ``limit`` rows are read.
_SQL = {
    "newest": f"SELECT {_COLUMNS}, NULL AS rank FROM (SELECT id, published_at FROM articles"
              " INDEXED BY articles_published_at"
              " WHERE id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)"
              " ORDER BY published_at DESC, id DESC LIMIT ?) t JOIN articles a ON a.id = t.id"
              " ORDER BY t.published_at DESC, t.id DESC",
    "rank": f"SELECT {_COLUMNS}, r.rank FROM (SELECT rowid, rank FROM articles_fts WHERE articles_fts MATCH ?"
            " ORDER BY rank LIMIT ?) r JOIN articles a ON a.id = r.rowid ORDER BY r.rank",
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


class SearchTables(Database):
    def search(self, query: Query | str, limit: int = 20, sort: Sort = "newest") -> list[SearchHit]:
        """Articles matching ``query``: any user input is safe (``text.search.parse``; it may raise QueryError)."""
        if isinstance(query, str):
            query = parse(query)
        with self.read() as conn:
            rows = list(conn.execute(_SQL[sort], (query.fts(), limit)))
        return _hits(rows, query)


def _hits(rows: Sequence[sqlite3.Row], query: Query) -> list[SearchHit]:
    """Rows as hits, in order. (Where copies of one story will be grouped, once stories exist.)"""
    terms = query.terms
    hits = []
    for r in rows:
        title, body = r["title"], r["body"]
        hits.append(SearchHit(
            r["id"], title, r["url"], r["source"], r["outlet"], r["published_at"],
            highlight(title, find(title, terms), width=len(title)),
            highlight(body, find(body, terms), floor=lead_overlap(title, body)),
            None if r["rank"] is None else float(r["rank"]),
        ))
    return hits

"""How many articles `newswatch match` is about to read, from the full-text index alone (a few ms).

``match`` starts its worker process before it reads the articles (the worker needs as long to start as
the read takes), but only when they will be many: this counts the index's hits from the first article
dated in the window on, without reading one article. It is an estimate: an article ingested late with
an older date counts though ``articles_since`` leaves it out.
"""

from __future__ import annotations

from daemon.store.articles import _first_id_dated_since
from daemon.store.db import Database


def count_candidates(db: Database, since: str | None, fts: str | None) -> int:
    """About as many as ``articles_since(since, fts)`` returns."""
    with db.read() as conn:
        first: int | None = 1  # ids start at 1
        if since:
            first = _first_id_dated_since(conn, since)
            if first is None:
                return 0
        if fts:
            found = conn.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ? AND rowid >= ?",
                                 (fts, first))
        else:
            # Ids from there on, deleted ones too: counting the rows would read the table (0.8 s a month).
            found = conn.execute("SELECT coalesce(max(id) - ? + 1, 0) FROM articles", (first,))
        return int(found.fetchone()[0])

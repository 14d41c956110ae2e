"""The read queries that must not grow with the archive use their indexes (EXPLAIN QUERY PLAN).

bench/bench_archive.py measures them on 1,000,000 articles; these plans are what keeps them fast there, and
a plan is cheap to check on an empty database: a query rewritten into a full scan fails here first.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from daemon.store import Store, articles, search
from daemon.store.schema import ARTICLE_DATE_SQL
from daemon.text.dates import VN_TZ


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    Store(tmp_path / "news.db", VN_TZ).close()
    return sqlite3.connect(tmp_path / "news.db")


def plan(conn: sqlite3.Connection, sql: str, *args: object) -> str:
    return " | ".join(r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", args))


def test_the_seed_ledger_reads_only_files_still_in_the_folder(conn: sqlite3.Connection) -> None:
    assert "COVERING INDEX seed_files_live" in plan(
        conn, "SELECT path, size, mtime_ns FROM seed_files WHERE status != 'deleted'")


def test_a_month_of_articles_is_found_by_the_date_index(conn: sqlite3.Connection) -> None:
    for first in (articles._FIRST_PUBLISHED, articles._FIRST_UNDATED):
        assert "INDEX articles_published_at" in plan(conn, first, "x")
    assert "COVERING INDEX articles_published_at" in plan(conn, articles._FIRST_PUBLISHED, "x")
    rows = plan(conn, f"SELECT id FROM articles WHERE {ARTICLE_DATE_SQL} >= ?"
                f" ORDER BY {ARTICLE_DATE_SQL} DESC, id DESC", "x")
    assert "INDEX articles_dated" in rows and "TEMP B-TREE" not in rows


def test_newest_first_search_reads_a_rowid_range_and_one_index_probe(conn: sqlite3.Connection) -> None:
    in_range = plan(conn, search._IN_RANGE, "x", 0, 1)
    assert "INTEGER PRIMARY KEY" in in_range and "VIRTUAL TABLE INDEX 0:M" in in_range
    assert "COVERING INDEX articles_published_at" in plan(conn, search._NEWER_UNREAD, "x", 1)


def test_recent_stories_come_from_their_index(conn: sqlite3.Connection) -> None:
    stories = plan(conn, "SELECT id FROM stories s WHERE s.last_seen_at >= ? ORDER BY s.last_seen_at DESC, s.id DESC"
                   " LIMIT 100", "x")
    assert "INDEX stories_last_seen" in stories and "TEMP B-TREE" not in stories


def test_status_counts_nothing(conn: sqlite3.Connection) -> None:
    assert "SCAN counts" in plan(conn, "SELECT name, n FROM counts")  # a row per counter, not per article

"""Migration 3 (content hash v2): a database written by a v1 newswatch, opened by this one.

The v1 database is made by the real store with only migration 1 applied, holding rows as v1 stored
them: the title and body prepare() produces, under the v1 hash (SHA-256 of the squashed body alone).
"""

from __future__ import annotations

import hashlib
import sqlite3
import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest

from daemon.models import Document
from daemon.prepare import prepare
from daemon.store import Store, db
from daemon.store.articles import NewItem
from daemon.store.schema import MIGRATIONS
from daemon.text.dates import VN_TZ
from daemon.text.normalize import content_hash, squash

BODY = ("Sáng 12-3, Ban Thường vụ Tỉnh ủy quán triệt Nghị quyết 57-NQ/TW về đột phá phát triển khoa học, "
        "công nghệ.\n\nHội nghị được tổ chức trực tiếp kết hợp trực tuyến đến các đảng bộ trực thuộc.")


def v1_hash(body: str) -> str:
    return "v1:" + hashlib.sha256(squash(body).encode()).hexdigest()


def v1_database(path: Path, docs: list[Document], monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as m:
        m.setattr(db, "MIGRATIONS", MIGRATIONS[:1])
        store = Store(path, VN_TZ)
        assert store.schema_version() == 1
        store.close()
    # Rows written as the v1 store wrote them (by SQL: today's store writes columns v1 did not have).
    conn = sqlite3.connect(path)
    with conn:
        for d in docs:
            p = prepare(d)
            cur = conn.execute(
                "INSERT INTO articles (content_hash, title, body, url, source, ingested_at, folded)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (v1_hash(p.doc.body), p.doc.title, p.doc.body, p.doc.url, p.doc.source, "2026-01-01T00:00:00+07:00",
                 p.folded))
            conn.execute("INSERT INTO sightings (article_id, source, locator, seen_at, is_first)"
                         " VALUES (?, ?, ?, ?, 1)", (cur.lastrowid, p.doc.source, p.doc.locator,
                                                     "2026-01-01T00:00:00+07:00"))
    conn.close()


def docs() -> list[Document]:
    return [Document("seeds", f"bai-{i}.txt", f"Quán triệt Nghị quyết 57 (đợt {i})", f"{BODY} Đợt {i}.")
            for i in range(5)] + [Document("vov", "https://vov.vn/1", "", "Hoà bình, uỷ ban.\r\nKhoẻ.")]


def rows(path: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    with conn:
        return list(conn.execute("SELECT id, content_hash, title, body FROM articles ORDER BY id"))


def test_v1_hashes_become_v2_hashes_of_the_stored_title_and_body(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "news.db"
    v1_database(path, docs(), monkeypatch)
    assert all(r["content_hash"].startswith("v1:") for r in rows(path))

    store = Store(path, VN_TZ)
    assert store.schema_version() == MIGRATIONS[-1].version
    migrated = rows(path)
    assert len(migrated) == 6
    assert [r["content_hash"] for r in migrated] == [content_hash(r["title"], r["body"]) for r in migrated]
    assert [r["content_hash"] for r in migrated] == [prepare(d).content_hash for d in docs()]


def test_an_old_article_arriving_again_meets_its_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "news.db"
    v1_database(path, docs(), monkeypatch)
    store = Store(path, VN_TZ)
    before = {r["title"]: r["id"] for r in rows(path)}
    again = [replace(d, locator=f"copy-{i}", title=unicodedata.normalize("NFD", d.title),
                     body=unicodedata.normalize("NFD", d.body).replace("\n", "\r\n"))
             for i, d in enumerate(docs())]
    report = store.ingest([NewItem(prepare(d)) for d in again])
    assert report.new == []
    assert sorted(i for i, _ in report.duplicates) == sorted(before.values())
    assert store.counts()["articles"] == 6


def test_full_text_search_survives_the_migration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The update trigger is dropped while hashes change and put back: the index stays right."""
    path = tmp_path / "news.db"
    v1_database(path, docs(), monkeypatch)
    store = Store(path, VN_TZ)
    assert [h.title for h in store.search("dot 4")] == ["Quán triệt Nghị quyết 57 (đợt 4)"]
    with store.tx() as conn:
        conn.execute("UPDATE articles SET title = 'Tổng kết công tác' WHERE title LIKE '%đợt 4)'")
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'articles_au'").fetchone()[0] == 1
    assert [h.title for h in store.search("Tổng kết công tác")] == ["Tổng kết công tác"]  # as written: folded is stale
    with store.read() as conn:
        conn.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")


def test_rows_edited_by_hand_into_equal_text_do_not_stop_the_database_opening(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone fixed a typo with sqlite3 and made two rows equal: the older one takes the v2 hash."""
    path = tmp_path / "news.db"
    v1_database(path, docs()[:2], monkeypatch)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE articles SET title = (SELECT title FROM articles WHERE id = 1),"
                     " body = (SELECT body FROM articles WHERE id = 1) WHERE id = 2")
    old = rows(path)[1]["content_hash"]
    Store(path, VN_TZ)
    first, second = rows(path)
    assert first["content_hash"] == content_hash(first["title"], first["body"])
    assert second["content_hash"] == old

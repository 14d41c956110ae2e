"""The seed ledger (``seed_files``) against a real SQLite file: the store, which decides duplicates, also
decides which file of a batch brought an article and which is a duplicate."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import daemon.store.db
from daemon.models import Document
from daemon.prepare import prepare
from daemon.store import Store
from daemon.store.articles import LedgerEntry, NewItem
from daemon.store.schema import MIGRATIONS
from daemon.text.dates import VN_TZ


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "t.db", VN_TZ)


def seed_item(path: str, body: str, source: str = "seeds") -> tuple[NewItem, LedgerEntry]:
    p = prepare(Document(source=source, locator=path, title="Tin", body=body))
    return NewItem(p), LedgerEntry(path, len(body), 1, "sha", p.content_hash)


def statuses(store: Store) -> dict[str, str]:
    with store.read() as conn:
        return {r[0]: r[1] for r in conn.execute("SELECT path, status FROM seed_files")}


def test_the_second_of_two_identical_files_in_one_batch_is_the_duplicate(store: Store) -> None:
    (a, la), (b, lb) = seed_item("a.txt", "Cùng một bài."), seed_item("b.txt", "Cùng một bài.")
    (c, lc) = seed_item("c.txt", "Một bài khác.")
    report = store.ingest([a, b, c], [la, lb, lc, LedgerEntry("x.txt", 0, 1, reason="empty")])
    assert (len(report.new), len(report.duplicates), report.skipped) == (2, 1, 1)
    assert statuses(store) == {"a.txt": "ingested", "b.txt": "duplicate", "c.txt": "ingested", "x.txt": "skipped"}


def test_a_file_read_again_is_still_the_one_its_article_came_from(store: Store) -> None:
    (a, la), (b, lb) = seed_item("a.txt", "Cùng một bài."), seed_item("b.txt", "Cùng một bài.")
    store.ingest([a, b], [la, lb])
    store.ingest([b, a], [lb, la])  # both touched: read again, in the other order
    assert statuses(store) == {"a.txt": "ingested", "b.txt": "duplicate"}


def test_a_file_whose_text_came_first_from_a_feed_is_a_duplicate(store: Store) -> None:
    feed_item, _ = seed_item("guid-1", "Tin từ báo.", source="vptu")
    store.ingest([feed_item])
    item, entry = seed_item("vptu.txt", "Tin từ báo.")
    store.ingest([item], [entry])
    assert statuses(store) == {"vptu.txt": "duplicate"}


def test_deleted_files_keep_their_rows_and_leave_the_scan_ledger(store: Store) -> None:
    (a, la), (b, lb) = seed_item("a.txt", "Bài một."), seed_item("b.txt", "Bài hai.")
    store.ingest([a, b], [la, lb])
    assert store.mark_seed_files_deleted(["a.txt", "never-seen.txt"]) == 1
    assert store.mark_seed_files_deleted(["a.txt"]) == 0  # already marked: its time stays
    assert set(store.ledger()) == {"b.txt"}
    with store.read() as conn:
        row = conn.execute("SELECT status, deleted_at, article_id, sha256 FROM seed_files"
                           " WHERE path = 'a.txt'").fetchone()
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 2
    assert (row[0], row[2] is not None, row[3]) == ("deleted", True, "sha")
    assert row[1].endswith("+07:00")


def test_a_database_from_before_the_ledger_columns_is_migrated(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(daemon.store.db, "MIGRATIONS", MIGRATIONS[:1])
    old = Store(tmp_path / "old.db", VN_TZ)
    with old.tx() as conn:  # a row as version 1 wrote it
        conn.execute("INSERT INTO seed_files (path, size, mtime_ns, sha256, status, seen_at)"
                     " VALUES ('a.txt', 1, 1, 'sha', 'ingested', '2026-01-01T00:00:00+07:00')")
    old.close()
    monkeypatch.setattr(daemon.store.db, "MIGRATIONS", MIGRATIONS)
    new = Store(tmp_path / "old.db", VN_TZ)
    assert new.schema_version() == MIGRATIONS[-1].version
    assert new.ledger() == {"a.txt": (1, 1)}
    assert new.mark_seed_files_deleted(["a.txt"]) == 1
    item, _entry = seed_item("b.txt", "Bài mới.")
    outlet = NewItem(prepare(replace(item.prepared.doc, outlet="Báo Đà Nẵng")))
    ((article_id, _),) = new.ingest([outlet]).new
    with new.read() as conn:
        assert conn.execute("SELECT outlet FROM articles WHERE id = ?", (article_id,)).fetchone()[0] == "Báo Đà Nẵng"

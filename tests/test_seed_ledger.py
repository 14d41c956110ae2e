"""The seed ledger (``seed_files``) against a real SQLite file: the store, which decides duplicates, also
decides which file of a batch brought an article and which is a duplicate."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.models import Document
from daemon.prepare import prepare
from daemon.store import Store
from daemon.store.articles import LedgerEntry, NewItem
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

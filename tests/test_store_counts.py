"""The counts `newswatch status` shows come from a table the triggers keep (schema._v9), not from count(*).

Each test writes through the real store (and by hand, as office staff may with sqlite3), then compares
``Store.counts()`` with the count(*) queries it replaced, on a real SQLite file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from daemon.models import Document, Match, StorySettings
from daemon.prepare import prepare
from daemon.store import Store, db
from daemon.store.articles import LedgerEntry, NewItem
from daemon.store.schema import MIGRATIONS, SCHEMA_VERSION
from daemon.stories.sketch import sketch
from daemon.text.dates import VN_TZ
from tests.helpers import later

BODY = ("Sáng 12-3, Ban Thường vụ Tỉnh ủy quán triệt Nghị quyết 57-NQ/TW về đột phá phát triển khoa học, công nghệ,"
        " đổi mới sáng tạo và chuyển đổi số. Hội nghị được tổ chức trực tiếp kết hợp trực tuyến đến 120 điểm cầu"
        " cấp xã với hơn 3.500 đại biểu tham dự. Đồng chí Bí thư Tỉnh ủy đề nghị các cấp ủy quán triệt sâu sắc.")


def counted(conn: sqlite3.Connection) -> dict[str, Any]:
    """What status counted before the counts table: count(*) of each table."""
    def one(sql: str) -> int:
        return int(conn.execute(sql).fetchone()[0])

    return {
        "articles": one("SELECT count(*) FROM articles"),
        "sightings": one("SELECT count(*) FROM sightings"),
        "matches": one("SELECT count(*) FROM matches"),
        "stories": one("SELECT count(*) FROM stories"),
        "stories_with_copies": one("SELECT count(*) FROM stories WHERE article_count > 1"),
        "alerts": {"pending": 0, "delivered": 0, "failed": 0,
                   **dict(conn.execute("SELECT status, count(*) FROM alerts GROUP BY status").fetchall())},
        "seed_files": dict(conn.execute("SELECT status, count(*) FROM seed_files GROUP BY status").fetchall()),
        "events": {"pending": 0, "delivered": 0, "failed": 0,
                   **dict(conn.execute("SELECT status, count(*) FROM events GROUP BY status").fetchall())},
        "feeds": one("SELECT count(*) FROM feeds"),
    }


def item(locator: str, body: str, *, title: str = "Tỉnh ủy quán triệt Nghị quyết 57", source: str = "seeds",
         alert: bool = True) -> NewItem:
    p = prepare(Document(source=source, locator=locator, title=title, body=body))
    matches = [Match("nq57", "Nghị quyết 57", "Nghị quyết 57-NQ/TW", "body", "…")] if alert else []
    return NewItem(p, matches, [("nq57", "office")] if alert else [], sketch(p.doc.title, p.doc.body))


def fill(store: Store) -> None:
    """Articles from files and a feed, a copy that joins a story, duplicates, skipped and deleted files,
    alerts delivered and failed: every way a counted row comes, goes or changes status."""
    stories = StorySettings()
    a, b = item("a.txt", BODY), item("b.txt", BODY)  # b: the same text, a duplicate
    copy = item("c.txt", "(TTXVN) - " + BODY + " Ảnh: TTXVN", title="Quán triệt Nghị quyết 57-NQ/TW")
    store.ingest([a, b, copy], [LedgerEntry("a.txt", 1, 1, "s", a.prepared.content_hash),
                                LedgerEntry("b.txt", 1, 1, "s", b.prepared.content_hash),
                                LedgerEntry("c.txt", 1, 1, "s", copy.prepared.content_hash),
                                LedgerEntry("x.txt", 0, 1, reason="empty")], stories=stories)
    other = item("guid-1", "Một bài khác hẳn về đại hội Đảng bộ phường An Phú nhiệm kỳ 2025-2030.", source="vptu",
                 title="Đại hội Đảng bộ phường An Phú", alert=False)
    store.ingest([other, item("guid-2", BODY, source="vptu")], stories=stories)  # a sighting of a stored text
    # a.txt rewritten: a new article (its own story, so it alerts); x.txt now readable: skipped → duplicate
    changed = item("a.txt", "Ủy ban Kiểm tra Tỉnh ủy Lai Châu tổng kết công tác kiểm tra, giám sát năm 2025.")
    store.ingest([changed], [LedgerEntry("a.txt", 2, 2, "t", changed.prepared.content_hash),
                             LedgerEntry("x.txt", 5, 2, "u", a.prepared.content_hash)], stories=stories)
    store.mark_seed_files_deleted(["b.txt"])
    pending = [r["id"] for r in store.list_alerts(status="pending")]
    assert len(pending) >= 2, pending
    store.mark_delivered(pending[:1], later(1))
    store.mark_failed(pending[1], "410")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "news.db", VN_TZ)


def test_counts_follow_every_write_of_the_store(store: Store) -> None:
    fill(store)
    with store.read() as conn:
        expected = counted(conn)
    assert store.counts() == expected
    assert expected["stories_with_copies"] == 1 and expected["seed_files"]["deleted"] == 1  # the fill did all that


def test_counts_follow_rows_deleted_and_edited_by_hand(store: Store) -> None:
    fill(store)
    conn = sqlite3.connect(store.path)
    with conn:
        conn.execute("DELETE FROM matches WHERE id = (SELECT min(id) FROM matches)")
        conn.execute("UPDATE alerts SET status = 'pending' WHERE status = 'failed'")
        conn.execute("UPDATE stories SET article_count = 1 WHERE article_count > 1")
        conn.execute("DELETE FROM seed_files WHERE status = 'skipped'")
    conn.close()
    with store.read() as c:
        assert store.counts() == counted(c)


def test_an_empty_database_counts_nothing(store: Store) -> None:
    assert store.counts() == {"articles": 0, "sightings": 0, "matches": 0, "stories": 0, "stories_with_copies": 0,
                              "alerts": {"pending": 0, "delivered": 0, "failed": 0}, "seed_files": {},
                              "events": {"pending": 0, "delivered": 0, "failed": 0}, "feeds": 0}


def test_the_migration_counts_what_an_older_database_holds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = [m for m in MIGRATIONS if m.name != "counts kept by triggers, for status"]
    assert len(before) == len(MIGRATIONS) - 1
    with monkeypatch.context() as m:
        m.setattr(db, "MIGRATIONS", tuple(before))
        old = Store(tmp_path / "news.db", VN_TZ)
        fill(old)
        with old.read() as conn:
            expected = counted(conn)
        old.close()
    store = Store(tmp_path / "news.db", VN_TZ)
    assert store.schema_version() == SCHEMA_VERSION
    assert store.counts() == expected

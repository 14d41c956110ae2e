"""Newest-first search reads the newest ids first and widens the range until the answer is exact.

Ids follow ingestion, dates only nearly (a bulk import of old files, a feed's late items, articles with
no date), so the order of the results must be exactly ``published_at DESC, id DESC`` whatever the ids:
compared here with that ORDER BY over every match, on a real SQLite file, with the first range made one
id per row wanted so that most searches take several widenings.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import daemon.store.search
from daemon.models import Document
from daemon.prepare import prepare
from daemon.store import Store
from daemon.store.articles import NewItem
from daemon.text.dates import VN_TZ
from daemon.text.search import parse

WORDS = ["Đảng", "đang", "bộ", "Đà", "Nẵng", "đã", "tỉnh", "ủy", "hòa", "bình", "số", "chuyển", "đổi", "khen"]
QUERIES = ["Đảng", "dang", "da nang", '"Đảng bộ"', "tỉnh ủy", "hoà", "chuyển*", "khen OR bình", "Đảng -đã",
           "số tỉnh ủy Đà", "nothing"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    rng = random.Random(14)
    store = Store(tmp_path_factory.mktemp("newest") / "news.db", VN_TZ)
    start = datetime(2026, 1, 1, tzinfo=VN_TZ)
    items = []
    for i in range(600):
        # Mostly in id order, some far older (imported late), some with the same minute, some undated.
        when = start + timedelta(minutes=i if rng.random() < 0.7 else rng.randint(0, 600))
        doc = Document("seeds", f"f{i}.txt", " ".join(rng.sample(WORDS, 3)), " ".join(rng.choices(WORDS, k=12)),
                       published_at=None if rng.random() < 0.05 else when)
        items.append(NewItem(prepare(doc)))
    for i in range(0, len(items), 100):
        store.ingest(items[i : i + 100])
    return store


def expected(store: Store, query: str, limit: int) -> list[int]:
    with store.read() as conn:
        return [r[0] for r in conn.execute(
            "SELECT id FROM articles WHERE id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)"
            " ORDER BY published_at DESC, id DESC LIMIT ?", (parse(query).fts(), limit))]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("limit", [1, 7, 50, 1000])
def test_newest_first_is_exact_however_ids_and_dates_disagree(store: Store, query: str, limit: int,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(daemon.store.search, "FIRST_SPAN", 1)
    hits = store.search(query, limit=limit, per_story=False)
    assert [h.id for h in hits] == expected(store, query, limit)


def test_the_shuffled_archive_really_has_ids_out_of_date_order(store: Store) -> None:
    with store.read() as conn:
        dates = [r[0] for r in conn.execute("SELECT published_at FROM articles WHERE published_at IS NOT NULL"
                                            " ORDER BY id")]
        undated = conn.execute("SELECT count(*) FROM articles WHERE published_at IS NULL").fetchone()[0]
    assert dates != sorted(dates) and undated > 0  # else the test above would prove nothing


def test_newest_first_on_an_empty_archive(tmp_path: Path) -> None:
    assert Store(tmp_path / "news.db", VN_TZ).search("Đảng") == []

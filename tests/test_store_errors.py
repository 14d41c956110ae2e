"""Issue 10 item 1: one exception tree, used. The store is the boundary for SQLite's errors: each
``sqlite3.Error`` leaves it as a ``StoreError`` whose class comes from SQLite's result code, and every write
(not only an ingest batch) waits out a connection that holds the write lock.

Every SQLite error here is SQLite's own (a second connection holding the lock, ``max_page_count``, a file that
is not a database); nothing is mocked.
"""

from __future__ import annotations

import importlib
import logging
import pickle
import pkgutil
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

import daemon
from daemon import errors
from daemon.errors import (
    ConfigError,
    DecodeError,
    FeedError,
    NewswatchError,
    SeedFileError,
    SourceError,
    StoreBusy,
    StoreCorrupt,
    StoreError,
    StoreFull,
)
from daemon.models import Document, FeedConfig
from daemon.prepare import prepare
from daemon.store import Store, db
from daemon.store.articles import NewItem
from daemon.text.dates import VN_TZ

T0 = datetime(2026, 8, 21, 10, 0, tzinfo=VN_TZ)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "news.db", VN_TZ)
    yield s
    s.close()


def items(n: int, start: int = 0) -> list[NewItem]:
    return [NewItem(prepare(Document(source="seeds", locator=f"f{i}.txt", title=f"Bài {i}",
                                     body=f"Nội dung bài {i}. " + "Văn phòng Thành ủy. " * 60)))
            for i in range(start, start + n)]


# -- the tree ------------------------------------------------------------------------------------------


def _daemon_exceptions() -> set[type[BaseException]]:
    found: set[type[BaseException]] = set()
    for info in pkgutil.walk_packages(daemon.__path__, "daemon."):
        if info.name == "daemon.__main__":
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseException) and value.__module__ == info.name:
                found.add(value)
    return found


def test_every_exception_class_of_the_daemon_is_in_the_tree() -> None:
    found = _daemon_exceptions()
    names = {c.__qualname__ for c in found}
    assert {"_Invalid", "_Failed", "DecodeError", "StoreFull"} <= names
    assert [c.__qualname__ for c in found if not issubclass(c, NewswatchError)] == []


def test_the_docstring_draws_the_tree_the_code_has() -> None:
    doc = errors.__doc__ or ""
    drawn: dict[str, str] = {}
    parents = ["NewswatchError"]
    assert re.search(r"^ {4}NewswatchError$", doc, re.M)
    for line in doc.splitlines():
        m = re.match(r"^ {4}((?:[│ ] {3})*)[├└]── (\w+)", line)
        if m:
            depth = len(m.group(1)) // 4
            del parents[depth + 1:]
            drawn[m.group(2)] = parents[depth]
            parents.append(m.group(2))
    public = {name: cls for name, cls in vars(errors).items()
              if isinstance(cls, type) and issubclass(cls, NewswatchError) and cls is not NewswatchError}
    assert set(drawn) == set(public)
    assert {name: cls.__bases__[0].__name__ for name, cls in public.items()} == drawn


def test_the_private_errors_and_decode_error_sit_in_the_tree() -> None:
    from daemon.config import parse_duration
    from daemon.sources.feeds.fetch import _Failed

    with pytest.raises(ConfigError, match="--since: expected a duration"):
        parse_duration("soon", "--since")
    failed = _Failed("HTTP 503 Service Unavailable", 503)
    assert isinstance(failed, FeedError) and str(failed) == "HTTP 503 Service Unavailable" and failed.status == 503
    assert issubclass(DecodeError, SourceError) and issubclass(DecodeError, ValueError)
    assert str(DecodeError("empty file")) == "empty file"


@pytest.mark.parametrize("error", [
    SeedFileError("a.txt", "empty file"), DecodeError("binary content (PNG image)"), FeedError("", "HTTP 404"),
    StoreFull("news.db: full", sqlite_errorcode=13, sqlite_errorname="SQLITE_FULL"), ConfigError("x: bad"),
])
def test_errors_survive_pickling(error: NewswatchError) -> None:
    """Worker processes of a bulk import send results back pickled; their errors must come back intact."""
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error) and str(back) == str(error) and back.__dict__ == error.__dict__


# -- the store as the boundary ----------------------------------------------------------------------------


def test_a_file_that_is_not_a_database_is_store_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "news.db"
    path.write_bytes(b"this is not an SQLite database, it is a text file someone saved here\n" * 100)
    with pytest.raises(StoreCorrupt, match="cannot open database") as info:
        Store(path, VN_TZ)
    assert info.value.sqlite_errorname == "SQLITE_NOTADB"
    assert isinstance(info.value.__cause__, sqlite3.DatabaseError)
    assert ".recover" in str(info.value)


def test_a_full_database_is_store_full_and_the_store_stays_usable(store: Store) -> None:
    store.ingest(items(2))
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreFull, match="no room to write") as info:
        store.ingest(items(200, start=10))
    assert info.value.sqlite_errorcode == sqlite3.SQLITE_FULL
    assert isinstance(info.value.__cause__, sqlite3.OperationalError)
    assert not store.conn.in_transaction  # rolled back
    assert store.counts()["articles"] == 2
    store.conn.execute("PRAGMA max_page_count = 1073741823")
    assert len(store.ingest(items(200, start=10)).new) == 200


def test_a_closed_store_raises_store_error_not_a_programming_error(store: Store) -> None:
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.counts()["articles"]
    with pytest.raises(StoreError, match="closed"):
        store.job_started("seeds", T0)
    assert store.close() is True  # idempotent


def test_sqlite_errors_inside_a_read_or_a_write_become_store_errors(store: Store) -> None:
    with pytest.raises(StoreError, match="no such table") as info, store.read() as conn:
        conn.execute("SELECT * FROM no_such_table")
    assert type(info.value) is StoreError and info.value.sqlite_errorname == "SQLITE_ERROR"
    with pytest.raises(StoreError, match="UNIQUE constraint"), store.tx() as conn:
        conn.execute("INSERT INTO jobs (name) VALUES ('x')")
        conn.execute("INSERT INTO jobs (name) VALUES ('x')")
    assert store.jobs() == []  # the first insert rolled back with the second


@pytest.fixture
def quick_busy(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    """The same retry loop with short waits: SQLite's busy timeout 20 ms, pauses of 20 ms × try."""
    store.conn.execute("PRAGMA busy_timeout = 20")
    monkeypatch.setattr(db, "BUSY_BACKOFF_S", 0.02)
    return store


def hold_write_lock(path: Path, seconds: float) -> threading.Thread:
    ready = threading.Event()

    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        ready.set()
        time.sleep(seconds)
        other.execute("ROLLBACK")
        other.close()

    thread = threading.Thread(target=hold)
    thread.start()
    ready.wait(5)
    return thread


WRITES = {
    "ingest": lambda s: s.ingest(items(1)),
    "job_started": lambda s: s.job_started("seeds", T0),
    "sync_feeds": lambda s: s.sync_feeds([FeedConfig(name="f", url="https://example.vn/rss")]),
    "disable_webhook": lambda s: s.disable_webhook("office", "410 Gone", T0),
    "retry_all_failed": lambda s: s.retry_all_failed(T0),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_every_write_waits_out_another_writer(quick_busy: Store, write: object,
                                              caplog: pytest.LogCaptureFixture) -> None:
    holder = hold_write_lock(quick_busy.path, 0.15)
    with caplog.at_level(logging.WARNING, "daemon.store.db"):
        write(quick_busy)  # type: ignore[operator]
    holder.join()
    assert any("database busy" in r.getMessage() for r in caplog.records)


def test_a_writer_that_never_lets_go_is_store_busy_after_every_try(quick_busy: Store) -> None:
    holder = hold_write_lock(quick_busy.path, 1.0)
    try:
        with pytest.raises(StoreBusy, match=f"gave up after {db.BUSY_TRIES} tries") as info:
            quick_busy.job_started("seeds", T0)
    finally:
        holder.join()
    assert info.value.sqlite_errorcode is not None and info.value.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
    quick_busy.job_started("seeds", T0)  # and the store works again once it is free
    assert [j["name"] for j in quick_busy.jobs()] == ["seeds"]


def test_reads_go_on_while_a_write_waits_for_the_lock(quick_busy: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between tries the write does not keep the connection: the service's reads (status, metrics) go on."""
    monkeypatch.setattr(db, "BUSY_BACKOFF_S", 0.2)
    holder = hold_write_lock(quick_busy.path, 0.6)
    writer = threading.Thread(target=lambda: quick_busy.job_started("seeds", T0))
    writer.start()
    time.sleep(0.1)
    start = time.monotonic()
    assert quick_busy.counts()["articles"] == 0
    assert time.monotonic() - start < 0.15
    writer.join()
    holder.join()


def test_a_state_folder_that_cannot_be_made_is_a_store_error_for_the_lock_and_the_store(tmp_path: Path) -> None:
    from daemon.service.lock import InstanceLock

    (tmp_path / "state").write_text("a file where the state folder should be\n", encoding="utf-8")
    with pytest.raises(StoreError, match="cannot create the instance lock"):
        InstanceLock(tmp_path / "state" / "news.db.lock").acquire()
    with pytest.raises(StoreError, match="cannot create its folder"):
        Store(tmp_path / "state" / "news.db", VN_TZ)

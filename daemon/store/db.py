"""The connection: pragmas, migrations, transactions, time stamps.

One connection per ``Store``, shared by the scheduler's threads behind a lock: writes are short
(network I/O never happens inside a transaction), and a single writer is what SQLite wants anyway.
WAL mode lets people read the file with sqlite3 or Datasette while the service writes; a reader holding
a snapshot makes a writer wait at most ``busy_timeout``, and the caller retries the batch.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from daemon.errors import StoreError
from daemon.store.schema import MIGRATIONS

BUSY_TIMEOUT_MS = 5000


def iso(dt: datetime, tz: ZoneInfo) -> str:
    """ISO 8601 in the configured zone, seconds precision: text order is time order."""
    return dt.astimezone(tz).isoformat(timespec="seconds")


class Database:
    """Owns the sqlite3 connection. Subclasses (the table mixins) use ``tx()`` and ``read()``."""

    def __init__(self, path: str | Path, tz: ZoneInfo | str = "Asia/Ho_Chi_Minh") -> None:
        self.path = Path(path)
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"{self.path}: cannot switch to WAL mode (got {mode})")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            # 32 MB of page cache: the FTS index's b-tree pages stay in memory during bulk inserts.
            self.conn.execute("PRAGMA cache_size = -32768")
            # Checkpoint every ~40 MB of WAL instead of 4 MB: index and FTS pages rewritten many times in a
            # burst are copied back once. The periodic checkpoint job still truncates the WAL.
            self.conn.execute("PRAGMA wal_autocheckpoint = 10000")
            self.conn.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open database: {exc}") from None

    # -- time ------------------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.now(self.tz)

    def iso(self, dt: datetime) -> str:
        return iso(dt, self.tz)

    # -- transactions ----------------------------------------------------------------------------
    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: take the write lock up front, fail fast)."""
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """Reads share the connection's lock so they never interleave with a write in progress."""
        with self._lock:
            yield self.conn

    # -- schema ----------------------------------------------------------------------------------
    def _migrate(self) -> None:
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TEXT NOT NULL)"
        )
        done = {row[0] for row in self.conn.execute("SELECT version FROM _migrations")}
        known = max(m.version for m in MIGRATIONS)
        if done and max(done) > known:
            raise StoreError(
                f"{self.path}: schema version {max(done)} is newer than this newswatch ({known}); upgrade it"
            )
        for m in MIGRATIONS:
            if m.version in done:
                continue
            with self.tx() as conn:
                m.apply(conn)
                conn.execute(
                    "INSERT INTO _migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (m.version, m.name, self.iso(self.now())),
                )

    def schema_version(self) -> int:
        with self.read() as conn:
            return int(conn.execute("SELECT max(version) FROM _migrations").fetchone()[0] or 0)

    def checkpoint(self) -> tuple[int, int, int]:
        """``wal_checkpoint(TRUNCATE)``: (busy, wal pages, checkpointed). busy=1 when a reader blocks it."""
        with self._lock:
            row = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            return int(row[0]), int(row[1]), int(row[2])

    def close(self) -> None:
        with self._lock:
            self.conn.close()

"""The connection: pragmas, migrations, transactions, time stamps, and the error boundary.

One connection per ``Store``, shared by the scheduler's threads behind a lock: writes are short
(network I/O never happens inside a transaction), and a single writer is what SQLite wants anyway.
WAL mode lets people read the file with sqlite3 or Datasette while the service writes.

This module is where SQLite's errors stop: every ``sqlite3.Error`` raised by ``tx()``, ``read()`` or the
methods here leaves as a ``StoreError`` whose class is chosen by SQLite's result code (``StoreBusy``,
``StoreFull``, ``StoreCorrupt``; see ``daemon.errors``), with the original chained as its cause. Every write
goes through ``tx()``, which retries its ``BEGIN IMMEDIATE`` while another connection holds the write lock:
in WAL mode that is the one place a write waits for others (readers never block a writer), so nothing of
the transaction has run yet and nothing needs redoing.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from daemon.errors import StoreBusy, StoreCorrupt, StoreError, StoreFull
from daemon.store.schema import MIGRATIONS, SCHEMA_VERSION

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000  # SQLite waits this long for a lock before answering SQLITE_BUSY
BUSY_TRIES = 6  # tries of a write's BEGIN IMMEDIATE while another connection holds the write lock
BUSY_BACKOFF_S = 0.5  # pause after the n-th busy try: n × this (on top of the busy timeout itself)
IN_BATCH = 500  # values per ``IN (...)`` list (``execute_in``)

_BUSY = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
_CORRUPT = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})


def iso(dt: datetime, tz: ZoneInfo) -> str:
    """ISO 8601 in the configured zone, seconds precision: text order is time order."""
    return dt.astimezone(tz).isoformat(timespec="seconds")


def execute_in(conn: sqlite3.Connection, sql: str, values: Iterable[object],
               before: Sequence[object] = ()) -> Iterator[sqlite3.Cursor]:
    """Run ``sql`` once per batch of the distinct ``values``, its ``{marks}`` standing for the batch's ``?``s
    (as in ``... IN ({marks})``), bound after ``before``; yields each batch's cursor.

    A statement binds at most 999 parameters in SQLite before 3.32 (and 32,766 since): a look-up of a
    whole bulk import's hashes or paths would not fit in one.
    """
    batch = list(dict.fromkeys(values))
    for i in range(0, len(batch), IN_BATCH):
        part = batch[i : i + IN_BATCH]
        yield conn.execute(sql.format(marks=",".join("?" * len(part))), [*before, *part])


def first_column_in(conn: sqlite3.Connection, sql: str, values: Iterable[object],
                    before: Sequence[object] = ()) -> set[Any]:
    """``execute_in``'s rows, first column only, as one set: "which of these are there already"."""
    found: set[Any] = set()
    for cur in execute_in(conn, sql, values, before):
        found.update(row[0] for row in cur)
    return found


def store_error(exc: sqlite3.Error, path: Path, doing: str) -> StoreError:
    """The ``StoreError`` for an ``sqlite3`` exception, chosen by its primary result code."""
    code: int | None = getattr(exc, "sqlite_errorcode", None)
    name: str | None = getattr(exc, "sqlite_errorname", None)
    primary = code & 0xFF if code is not None else None
    what = f"{exc} ({name})" if name else str(exc)
    kind: type[StoreError] = StoreError
    if primary in _BUSY:
        kind = StoreBusy
        message = f"{path}: {doing}: another connection holds the database lock: {what}"
    elif primary == sqlite3.SQLITE_FULL:
        kind = StoreFull
        message = (f"{path}: {doing}: no room to write: {what}; {_free_space(path)}. Nothing was written;"
                   " the work is redone once there is room")
    elif primary in _CORRUPT:
        kind = StoreCorrupt
        message = (f"{path}: {doing}: the database file is damaged: {what}. Stop the service, keep a copy of"
                   f" the file, then try `sqlite3 {path} .recover`")
    elif isinstance(exc, sqlite3.ProgrammingError) and "closed database" in str(exc):
        message = f"{path}: {doing}: the database is closed (the service is stopping)"
    else:
        message = f"{path}: {doing}: {what}"
    return kind(message, sqlite_errorcode=code, sqlite_errorname=name)


def _free_space(path: Path) -> str:
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return "free space unknown"
    return f"{free / 1e6:.1f} MB free on its file system" if free else "its file system is full"


@dataclass(frozen=True, slots=True)
class DatabaseProbe:
    """What `newswatch check` reads from a database without opening it for writing."""

    schema_version: int | None  # None: no file yet; 0: no newswatch schema in it yet (the next start makes it)
    disabled_webhooks: Mapping[str, str] = field(default_factory=dict)  # name → when a 410 Gone disabled it


def probe_database(path: Path) -> DatabaseProbe:
    """The database at ``path``, read-only: nothing is created, migrated or locked (check must not change
    what it checks). A file that is not a database, or cannot be read, raises ``StoreError``."""
    if not path.exists():
        return DatabaseProbe(None)
    conn = None
    # Read-write but only read from: closing as the last connection removes the -wal and -shm files that even a
    # read-only connection creates. Neither mode creates the database. Read-only when writing is not allowed.
    for mode in ("rw", "ro"):
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True,
                                   timeout=BUSY_TIMEOUT_MS / 1000)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            break
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
                conn = None
            if mode == "ro":
                raise store_error(exc, path, "cannot open database") from exc
    assert conn is not None
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "_migrations" not in tables:
            return DatabaseProbe(0)
        version = int(conn.execute("SELECT max(version) FROM _migrations").fetchone()[0] or 0)
        disabled: dict[str, str] = {}
        if "webhooks" in tables:
            disabled = {r[0]: r[1] for r in conn.execute(
                "SELECT name, disabled_at FROM webhooks WHERE disabled_at IS NOT NULL ORDER BY name")}
        return DatabaseProbe(version, disabled)
    except sqlite3.Error as exc:
        raise store_error(exc, path, "cannot read it") from exc
    finally:
        conn.close()


class Database:
    """Owns the sqlite3 connection. Subclasses (the table mixins) use ``tx()`` and ``read()``."""

    def __init__(self, path: str | Path, tz: ZoneInfo | str = "Asia/Ho_Chi_Minh", *,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.path = Path(path)
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._clock = clock
        self._lock = threading.RLock()
        self._closed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot create its folder: {exc.strerror or exc}") from None
        try:
            self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                        timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as exc:
            raise store_error(exc, self.path, "cannot open database") from exc
        try:
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
        except BaseException as exc:
            self.conn.close()
            if isinstance(exc, sqlite3.Error):
                raise store_error(exc, self.path, "cannot open database") from exc
            raise

    # -- time ------------------------------------------------------------------------------------
    def now(self) -> datetime:
        """The time every write stamps; ``clock`` replaces the wall clock (bench_archive builds a year of
        archive in an hour by moving it as articles are stored)."""
        return self._clock() if self._clock is not None else datetime.now(self.tz)

    def iso(self, dt: datetime) -> str:
        return iso(dt, self.tz)

    # -- transactions ----------------------------------------------------------------------------
    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: take the write lock up front).

        While another connection holds the write lock, the BEGIN is tried ``BUSY_TRIES`` times (each try
        waiting up to the busy timeout, with a growing pause between tries during which this connection is
        free for the service's reads), then ``StoreBusy`` is raised. Any failure inside rolls back.
        """
        self._begin()
        try:
            try:
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException as exc:
                self._rollback()
                if isinstance(exc, sqlite3.Error):
                    raise store_error(exc, self.path, "write failed") from exc
                raise
        finally:
            self._lock.release()

    def _begin(self) -> None:
        """Take ``_lock`` and open the write transaction; returns holding the lock, or raises without it."""
        for attempt in range(1, BUSY_TRIES + 1):
            self._lock.acquire()
            try:
                self._check_open("write failed")
                self.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.Error as exc:
                self._lock.release()
                error = store_error(exc, self.path, "write failed")
                if not isinstance(error, StoreBusy):
                    raise error from exc
                if attempt == BUSY_TRIES:
                    raise StoreBusy(f"{error} (gave up after {attempt} tries)", sqlite_errorcode=error.sqlite_errorcode,
                                    sqlite_errorname=error.sqlite_errorname) from exc
                reason = str(exc)
            except BaseException:
                self._lock.release()
                raise
            pause = BUSY_BACKOFF_S * attempt
            log.warning("database busy (%s); retrying the write in %.1fs", reason, pause)
            time.sleep(pause)
        raise AssertionError("unreachable")

    def _rollback(self) -> None:
        if not self.conn.in_transaction:  # SQLite already rolled back (some errors do that themselves)
            return
        try:
            self.conn.execute("ROLLBACK")
        except sqlite3.Error as exc:  # the original error is the one to report
            log.debug("rollback failed: %s", exc)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """Reads share the connection's lock so they never interleave with a write in progress."""
        with self._lock:
            self._check_open("read failed")
            try:
                yield self.conn
            except sqlite3.Error as exc:
                raise store_error(exc, self.path, "read failed") from exc

    def _check_open(self, doing: str) -> None:
        if self._closed:
            raise StoreError(f"{self.path}: {doing}: the database is closed (the service is stopping)")

    # -- schema ----------------------------------------------------------------------------------
    def _migrate(self) -> None:
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TEXT NOT NULL)"
        )
        done = {row[0] for row in self.conn.execute("SELECT version FROM _migrations")}
        known = SCHEMA_VERSION
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

    def checkpoint(self, *, wait: bool = True) -> tuple[int, int, int]:
        """``wal_checkpoint(TRUNCATE)``: (busy, wal pages, checkpointed). busy=1 when a reader blocks it.

        ``wait=False`` makes a single try that does not wait for readers (``run --once``, shutdown): a reader
        holding a snapshot would otherwise keep it waiting the whole busy timeout.
        """
        with self.read() as conn:
            if not wait:
                conn.execute("PRAGMA busy_timeout = 0")
            try:
                row = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                if not wait:
                    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            return int(row[0]), int(row[1]), int(row[2])

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, timeout: float | None = None) -> bool:
        """Close the connection; from now on every call raises ``StoreError``. Idempotent.

        With ``timeout``, gives up after that long when another thread is still inside a transaction and
        returns False: the caller is about to end the process, and SQLite rolls the unfinished transaction
        back on the next open (committed transactions are in the WAL already).
        """
        self._closed = True
        if not self._lock.acquire(timeout=-1 if timeout is None else max(0.0, timeout)):
            return False
        try:
            self.conn.close()
        finally:
            self._lock.release()
        return True

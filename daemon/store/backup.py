"""`newswatch backup PATH`: a consistent copy of the live database, taken while the service writes to it.

Copying ``news.db`` with ``cp`` while the service runs can give a file that never existed: pages from
before and after a write, and none of what is still in the WAL. SQLite's online backup copies the pages
of one read snapshot instead; in WAL mode that snapshot never blocks the writer, so the service keeps
ingesting and delivering during the copy.

The copy is written under a hidden temporary name in the target's folder, switched out of WAL mode (a
backup is one self-contained file), checked (``integrity_check`` and the FTS index's own check), synced
to disk, and only then given its name. A crash, a full disk or a failed check therefore never leaves a
half-written file under the name someone would restore from, and an existing file is only replaced when
asked to (``force``), atomically.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from daemon.errors import StoreError
from daemon.store.db import BUSY_TIMEOUT_MS


class BadTarget(StoreError):
    """The backup path is one a backup must not be written to (as given): exists, a folder, the database."""


@dataclass(frozen=True, slots=True)
class BackupReport:
    source: Path
    target: Path
    size: int  # bytes of the finished copy
    seconds: float
    schema_version: int
    counts: dict[str, int] = field(default_factory=dict)  # rows per table, alerts per status


def _reason(exc: BaseException) -> str:
    """What went wrong, in the words an operator acts on ("the disk is full", "permission denied")."""
    if isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL":
        return "the disk is full"
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return "the disk is full"
        return (exc.strerror or str(exc)).lower()
    return str(exc)


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    def one(sql: str) -> int:
        return int(conn.execute(sql).fetchone()[0])

    counts = {table: one(f"SELECT count(*) FROM {table}")
              for table in ("articles", "sightings", "matches", "feeds")}
    for status in ("pending", "delivered", "failed"):
        counts[f"alerts_{status}"] = one(f"SELECT count(*) FROM alerts WHERE status = '{status}'")
    return counts


def _check(conn: sqlite3.Connection, target: Path) -> None:
    problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    if problems != ["ok"]:
        raise StoreError(f"backup to {target} failed its integrity check: {'; '.join(problems[:3])}")
    try:  # the full-text index must agree with the articles it indexes
        conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"backup to {target} failed the full-text index check: {exc}") from None


def _fsync(path: Path, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(tmp: Path, target: Path, *, force: bool) -> None:
    """Give the finished copy its name: replace atomically, or refuse an existing file without a race."""
    if force:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)  # fails if the name exists, even one created a moment ago
    except FileExistsError:
        raise BadTarget(f"{target} already exists; add --force to replace it") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        if target.exists():  # a file system without hard links: check, then rename
            raise BadTarget(f"{target} already exists; add --force to replace it") from None
        os.rename(tmp, target)
        return
    tmp.unlink()


def backup(source: Path, target: Path, *, force: bool = False) -> BackupReport:
    """Copy the database at ``source`` to ``target``; raises StoreError (BadTarget) with one clear line."""
    started = time.monotonic()
    source, target = Path(source), Path(target).expanduser()
    if target.is_dir():
        raise BadTarget(f"{target} is a folder; give the backup a file name, e.g. {target / 'news.db'}")
    if target.exists() and target.resolve() == source.resolve():
        raise BadTarget(f"{target} is the live database itself; back it up somewhere else")
    if target.exists() and not force:
        raise BadTarget(f"{target} already exists; add --force to replace it")
    folder = target.parent
    if not folder.is_dir():
        raise StoreError(f"cannot write the backup {target}: no such folder {folder}")
    if not source.is_file():
        raise StoreError(f"{source}: no database to back up (has `newswatch run` used this config yet?)")
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise StoreError(f"cannot write the backup {target}: {_reason(exc)} ({folder})") from None
    os.close(fd)
    tmp = Path(name)
    try:
        src = sqlite3.connect(f"file:{source}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        dst = sqlite3.connect(tmp, isolation_level=None)
        try:
            src.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            src.backup(dst)  # all pages in one step: one read snapshot, so the copy is consistent
            dst.execute("PRAGMA journal_mode = DELETE")  # a self-contained file, no -wal beside it
            _check(dst, target)
            version = int(dst.execute("SELECT max(version) FROM _migrations").fetchone()[0] or 0)
            counts = _counts(dst)
        finally:
            dst.close()
            src.close()
        _fsync(tmp)
        _publish(tmp, target, force=force)
        _fsync(folder, directory=True)
    except StoreError:
        raise
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(f"backup to {target} failed: {_reason(exc)}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return BackupReport(source, target, target.stat().st_size, time.monotonic() - started, version, counts)

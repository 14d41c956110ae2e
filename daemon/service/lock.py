"""One running instance per database.

Two daemons on one SQLite file would both fetch, both match and both deliver: every alert twice. The
guard is an ``flock`` on a separate lock file beside the database (never the database itself: SQLite
has its own POSIX locks on that file and closing any descriptor to it would drop them). ``flock`` is
tied to the open file description, so the kernel releases it when the holder dies for any reason,
``kill -9`` included; there is no stale-pidfile cleanup to get wrong. The pid written into the file is
only for the operator's error message and ``newswatch status``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path
from types import TracebackType

from daemon.errors import AlreadyRunning, StoreError

LOCK_SUFFIX = ".lock"


def _read_pid(fd: int) -> int | None:
    try:
        raw = os.pread(fd, 64, 0)
    except OSError:
        return None
    text = raw.decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


def _guarded_name(lock_path: Path) -> Path:
    """`state/news.db.lock` guards `state/news.db`; the message names what the operator knows."""
    name = lock_path.name
    return lock_path.with_name(name[: -len(LOCK_SUFFIX)]) if name.endswith(LOCK_SUFFIX) else lock_path


def already_running_message(lock_path: Path, pid: int | None) -> str:
    who = f"pid {pid}" if pid is not None else "pid unknown"
    return (
        f"another newswatch ({who}) is running on {_guarded_name(lock_path)}; stop it first "
        f"(lock file {lock_path})"
    )


class InstanceLock:
    """Exclusive, non-blocking, released by the kernel when the process dies.

    Use as ``with InstanceLock(cfg.lock_path): ...`` or call ``acquire()`` / ``release()``.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise ``AlreadyRunning`` naming the holder's pid (``StoreError`` when the lock file
        cannot be made or written: the state folder is not usable, so the database would not be either).

        The file is opened without truncating: wiping it before we own the lock would erase the
        running instance's pid from the message we are about to print.
        """
        if self._fd is not None:
            raise RuntimeError(f"{self.path}: lock already acquired by this object")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:  # the state folder is not writable: the database could not be either
            raise StoreError(f"{self.path}: cannot create the instance lock: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _read_pid(fd)
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise AlreadyRunning(already_running_message(self.path, holder)) from None
            raise StoreError(f"{self.path}: cannot take the instance lock: {exc.strerror or exc}") from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        except OSError as exc:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            raise StoreError(f"{self.path}: cannot write the instance lock: {exc.strerror or exc}") from None
        self._fd = fd

    def release(self) -> None:
        """Idempotent. The file stays: unlinking it would let a racing starter lock a dead inode."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def probe(path: Path) -> tuple[bool, int | None]:
    """Is an instance holding ``path``, and which pid? (for `newswatch status`).

    Probes with a shared lock so it never blocks and never disturbs a running daemon. The pid is None
    when the lock is free, or held by a holder that has not written its pid yet.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False, None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return True, _read_pid(fd)
            raise
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False, None
    finally:
        os.close(fd)

"""Linux inotify through ctypes: the seed watcher needs what ``watchfiles`` folds away.

``watchfiles`` reports a file that was renamed into place and one still being copied in the same way
("added"), and drops the kernel's queue-overflow notice; the seed pickup needs both: a file renamed in
or closed by its writer is complete and can be read at once, and an overflow means events were lost and
the folder must be scanned in full. Nothing here knows about seed files: events in, events out.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import struct
from collections.abc import Iterator
from dataclasses import dataclass

IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_UNMOUNT = 0x00002000
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ONLYDIR = 0x01000000
IN_EXCL_UNLINK = 0x04000000
IN_ISDIR = 0x40000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC

_HEADER = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of NUL-padded name


@dataclass(frozen=True, slots=True)
class Event:
    wd: int  # -1 for a queue overflow
    mask: int
    name: str  # "" for an event on the watched folder itself


class Inotify:
    """One inotify instance; ``read(timeout)`` returns what arrived (or nothing when the timeout passed).

    Raises ``OSError`` where the kernel refuses (no inotify: not Linux; the watch limit reached).
    """

    def __init__(self) -> None:
        name = ctypes.util.find_library("c")
        try:
            self._libc = ctypes.CDLL(name, use_errno=True)
            self._add = self._libc.inotify_add_watch
            init = self._libc.inotify_init1
        except (OSError, AttributeError) as exc:
            raise OSError(f"inotify is not available here ({exc})") from None
        self._add.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32)
        fd = int(init(IN_NONBLOCK | IN_CLOEXEC))
        if fd < 0:
            raise _errno_error("inotify_init1")
        self.fd = fd
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._poll = select.poll()
        self._poll.register(self.fd, select.POLLIN)
        self._poll.register(self._wake_r, select.POLLIN)

    def add_watch(self, path: str, mask: int) -> int:
        wd = int(self._add(self.fd, os.fsencode(path), mask))
        if wd < 0:
            raise _errno_error(f"inotify_add_watch {path}")
        return wd

    def wake(self) -> None:
        """Make a ``read`` blocked in another thread return now (a stop)."""
        try:
            os.write(self._wake_w, b"x")
        except OSError:  # the pipe is full (woken already) or closed
            pass

    def read(self, timeout: float | None) -> list[Event]:
        """Block until events arrive, ``wake()`` is called, or ``timeout`` seconds pass."""
        ready = self._poll.poll(None if timeout is None else int(timeout * 1000))
        if any(fd == self._wake_r for fd, _ in ready):
            try:
                os.read(self._wake_r, 4096)
            except BlockingIOError:
                pass
        if not any(fd == self.fd for fd, _ in ready):
            return []
        events: list[Event] = []
        while True:
            try:
                buf = os.read(self.fd, 256 * 1024)
            except BlockingIOError:
                return events
            events.extend(_parse(buf))

    def close(self) -> None:
        for fd in (self.fd, self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass


def _parse(buf: bytes) -> Iterator[Event]:
    offset = 0
    while offset + _HEADER.size <= len(buf):
        wd, mask, _cookie, length = _HEADER.unpack_from(buf, offset)
        start = offset + _HEADER.size
        name = os.fsdecode(buf[start:start + length].rstrip(b"\0"))
        offset = start + length
        yield Event(wd, mask, name)


def _errno_error(what: str) -> OSError:
    code = ctypes.get_errno()
    return OSError(code, f"{what}: {os.strerror(code)}")

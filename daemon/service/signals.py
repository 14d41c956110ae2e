"""The service's signals, received without taking a lock.

A Python signal handler runs in the main thread between two bytecodes, possibly inside a ``with lock``
of the code it interrupted. A handler that takes a lock can then wait forever for the main thread, that
is for itself: ``Event.set()`` does (CI caught a SIGTERM that arrived while the main loop was inside
``stop_event.wait()``, and the stop hung), and so does logging. So the handlers here only set plain
attributes, and the main loop is woken by the byte that CPython's own C handler writes to the socket
given to ``signal.set_wakeup_fd``. The stop guard (a thread that ends a stop that hangs) is woken the
same way, by a byte written with ``os.write``: a system call, no lock.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import time
from types import FrameType


class Signals:
    """What SIGTERM/SIGINT and SIGHUP asked for, for the main loop to act on."""

    def __init__(self) -> None:
        self.stop_signal: int | None = None
        self.stop_at: float | None = None  # monotonic time of the stop request: the deadline counts from here
        self.reload = False
        # Made by ``install``: a command that never installs the handlers (``run --once``) opens nothing.
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None  # kept open for the process's life: the C handler writes to it
        self._guard_r = self._guard_w = -1

    def install(self) -> None:
        self._wake_r, wake_w = socket.socketpair()
        for s in (self._wake_r, wake_w):
            s.setblocking(False)
        self._wake_w = wake_w
        self._guard_r, self._guard_w = os.pipe()
        os.set_blocking(self._guard_w, False)
        signal.set_wakeup_fd(wake_w.fileno(), warn_on_full_buffer=False)
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_hup)

    def _on_stop(self, signum: int, _frame: FrameType | None) -> None:
        self.stop_signal = signum
        self.request_stop()

    def _on_hup(self, _signum: int, _frame: FrameType | None) -> None:
        self.reload = True

    def request_stop(self) -> None:
        """A stop begins (a signal, or the main loop ending otherwise): the guard starts counting."""
        if self.stop_at is None:
            self.stop_at = time.monotonic()
        if self._guard_w < 0:
            return  # not installed: no guard to wake
        try:
            os.write(self._guard_w, b"s")
        except OSError:  # full (a byte is there already) or closed: the guard is awake either way
            pass

    def wait(self, timeout: float) -> None:
        """Until a signal arrives or ``timeout`` seconds pass (after ``install``)."""
        assert self._wake_r is not None
        ready, _, _ = select.select([self._wake_r], [], [], timeout)
        if ready:
            try:
                while self._wake_r.recv(64):
                    pass
            except BlockingIOError:
                pass

    def wait_for_stop(self) -> float:
        """Block until a stop is requested (the guard's thread, after ``install``); the monotonic time it
        was requested."""
        while self.stop_at is None:
            os.read(self._guard_r, 1)
        return self.stop_at

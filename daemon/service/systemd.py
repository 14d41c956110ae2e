"""sd_notify(3) without libsystemd or a Python dependency.

The protocol is one datagram of ``KEY=VALUE`` lines to the AF_UNIX socket named in ``$NOTIFY_SOCKET``.
With ``Type=notify`` systemd waits for ``READY=1`` before calling the unit started (so ``systemctl start``
fails loudly on a bad config instead of "succeeding" and dying a second later), and with ``WatchdogSec=``
it restarts a daemon that stops sending ``WATCHDOG=1`` — a hung scheduler is caught, not just a crash.

Outside systemd (``$NOTIFY_SOCKET`` unset: a terminal, tests, Docker) every call is a cheap no-op, so
callers never need to check where they run.
"""

from __future__ import annotations

import logging
import os
import socket
import time

log = logging.getLogger(__name__)

_SEND_TIMEOUT = 1.0


def _address(raw: str) -> str | None:
    """A leading "@" names a Linux abstract socket, spelled with a NUL byte on the wire."""
    if raw.startswith("@"):
        return "\0" + raw[1:]
    if raw.startswith("/"):
        return raw
    return None  # e.g. "vsock:..." (VMs): not something a service on this host is given


def notify(message: str) -> bool:
    """Send one notification; True when it was handed to the socket.

    Never raises: a service must not die because its supervisor's socket went away. Failures are logged.
    """
    raw = os.environ.get("NOTIFY_SOCKET")
    if not raw:
        return False
    addr = _address(raw)
    if addr is None:
        log.warning("NOTIFY_SOCKET=%r is not a unix socket address; not notifying systemd", raw)
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.settimeout(_SEND_TIMEOUT)
            sock.connect(addr)
            sock.sendall(message.encode("utf-8"))
    except OSError as exc:
        log.warning("cannot notify systemd via %s: %s", raw, exc)
        return False
    return True


def _one_line(text: str) -> str:
    """A newline would start a new KEY=VALUE assignment, so status text is flattened."""
    return " ".join(text.split())


def ready(status_text: str | None = None) -> bool:
    """Startup finished (config loaded, lock taken, DB migrated, scheduler running)."""
    msg = "READY=1"
    if status_text:
        msg += f"\nSTATUS={_one_line(status_text)}"
    return notify(msg)


def reloading() -> bool:
    """SIGHUP received; follow with ``ready()`` once the new config is in place.

    MONOTONIC_USEC lets systemd ≥ 253 match this reload with the ``READY=1`` that ends it.
    """
    usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    return notify(f"RELOADING=1\nMONOTONIC_USEC={usec}")


def stopping() -> bool:
    """Shutdown began; systemd shows "deactivating" instead of assuming a hang."""
    return notify("STOPPING=1")


def watchdog() -> bool:
    """I am alive. Send from the scheduler's own loop so a stuck scheduler stops the pings."""
    return notify("WATCHDOG=1")


def status(text: str) -> bool:
    """Free text shown by ``systemctl status newswatch`` (e.g. "42 articles, 0 alerts pending")."""
    return notify(f"STATUS={_one_line(text)}")


def watchdog_interval() -> float | None:
    """How often to ping, in seconds: half of ``WatchdogSec=`` as sd_watchdog_enabled(3) advises.

    None when no watchdog is configured or it is meant for another process (``$WATCHDOG_PID`` set to a
    pid that is not ours, e.g. a child that inherited the environment).
    """
    raw_usec = os.environ.get("WATCHDOG_USEC", "")
    try:
        usec = int(raw_usec)
    except ValueError:
        return None
    if usec <= 0:
        return None
    raw_pid = os.environ.get("WATCHDOG_PID")
    if raw_pid:
        try:
            if int(raw_pid) != os.getpid():
                return None
        except ValueError:
            return None
    return usec / 2 / 1_000_000

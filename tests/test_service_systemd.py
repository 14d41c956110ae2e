"""sd_notify against a real datagram socket the test binds, reading the messages back."""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.service import systemd


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """A path socket like systemd's /run/systemd/notify; falls back to a short dir if tmp_path is too long."""
    path = tmp_path / "notify.sock"
    if len(str(path)) > 100:  # sun_path is 108 bytes
        path = Path(tempfile.mkdtemp(prefix="nw")) / "n.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield sock
    sock.close()


def _recv(sock: socket.socket) -> str:
    return sock.recv(4096).decode("utf-8")


def test_unset_socket_is_a_noop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert systemd.notify("READY=1") is False
    assert systemd.ready() is False
    assert systemd.watchdog() is False


def test_messages_arrive(notify_socket: socket.socket) -> None:
    assert systemd.ready("started: 3 feeds") is True
    assert _recv(notify_socket) == "READY=1\nSTATUS=started: 3 feeds"
    assert systemd.watchdog() is True
    assert _recv(notify_socket) == "WATCHDOG=1"
    assert systemd.status("Đang theo dõi 12 nguồn\n3 cảnh báo chờ")
    assert _recv(notify_socket) == "STATUS=Đang theo dõi 12 nguồn 3 cảnh báo chờ"
    assert systemd.stopping()
    assert _recv(notify_socket) == "STOPPING=1"
    assert systemd.reloading()
    lines = _recv(notify_socket).split("\n")
    assert lines[0] == "RELOADING=1"
    key, _, value = lines[1].partition("=")
    assert key == "MONOTONIC_USEC" and int(value) > 0


def test_abstract_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"newswatch-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert systemd.notify("READY=1") is True
        assert _recv(sock) == "READY=1"


def test_dead_socket_returns_false_without_raising(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone.sock"))
    assert systemd.watchdog() is False


def test_unsupported_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", "vsock:2:1234")
    assert systemd.notify("READY=1") is False


@pytest.mark.parametrize(
    ("usec", "pid", "expected"),
    [
        ("60000000", None, 30.0),
        ("60000000", "self", 30.0),
        ("60000000", "other", None),
        ("20000000", "garbage", None),
        (None, None, None),
        ("0", None, None),
        ("abc", None, None),
    ],
)
def test_watchdog_interval(
    monkeypatch: pytest.MonkeyPatch, usec: str | None, pid: str | None, expected: float | None
) -> None:
    for var, val in (("WATCHDOG_USEC", usec), ("WATCHDOG_PID", pid)):
        if val is None:
            monkeypatch.delenv(var, raising=False)
        else:
            val = {"self": str(os.getpid()), "other": str(os.getpid() + 1)}.get(val, val)
            monkeypatch.setenv(var, val)
    assert systemd.watchdog_interval() == expected

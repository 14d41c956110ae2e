"""Shared fixtures: a throw-away project folder (config + seeds + state), ways to run the real CLI (to the
end, or in the background while a test watches its output), and a webhook receiver on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Receiver, Script, Servers

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "seeds").glob("*.txt"))
TONES = "\u0300\u0301\u0303\u0309\u0323"


def to_cp1258(text: str) -> bytes:
    """Encode as Windows Vietnamese the way real cp1258 files are: base letters precomposed, tones combining."""
    decomposed = unicodedata.normalize("NFD", text)
    # Recompose everything but the five tone marks (cp1258 has â ê ô ă ơ ư đ, not the toned letters).
    chunks: list[str] = []
    buf = ""
    tones = ""
    for ch in decomposed:
        if ch in TONES:
            tones += ch
        elif unicodedata.combining(ch):
            buf += ch
        else:
            chunks.append(unicodedata.normalize("NFC", buf) + tones)
            buf, tones = ch, ""
    chunks.append(unicodedata.normalize("NFC", buf) + tones)
    return "".join(chunks).encode("cp1258")


def write_config(folder: Path, extra: str = "", *, seeds: str = "seeds") -> Path:
    cfg = folder / "config.toml"
    cfg.write_text(
        f'[storage]\npath = "state/news.db"\n[seeds]\npath = "{seeds}"\ninterval = "1s"\n'
        '[delivery]\ninterval = "1s"\n' + extra,
        encoding="utf-8",
    )
    return cfg


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder laid out like the repo: config.toml, seeds/ with the five samples, state/."""
    (tmp_path / "seeds").mkdir()
    (tmp_path / "state").mkdir()
    for sample in SAMPLES:
        shutil.copy2(sample, tmp_path / "seeds" / sample.name)
        # Fixed file time, so "Chiều 25-12" (no year) resolves the same whatever day the tests run.
        os.utime(tmp_path / "seeds" / sample.name, (1_795_000_000, 1_795_000_000))  # 2026-11-18
    write_config(tmp_path)
    return tmp_path


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSWATCH_", "NOTIFY_SOCKET", "WATCHDOG_"))}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
def run_cli(project: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `python -m daemon --config <project>/config.toml ARGS` as a real process."""

    def run(*args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "daemon", "--config", str(project / "config.toml"), *args],
            capture_output=True, text=True, timeout=timeout, env=cli_env(), cwd=project, check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc

    return run


# -- servers on 127.0.0.1 --------------------------------------------------------------------------------


@pytest.fixture
def loopback() -> Iterator[Servers]:
    """``loopback()`` starts a routed server (tests.helpers.LoopbackServer); all are closed at teardown."""
    servers = Servers()
    yield servers
    servers.close()


@pytest.fixture
def receivers(loopback: Servers) -> Callable[[Script | None], Receiver]:
    """``receivers(script)`` starts another webhook receiver, each on its own server."""
    return lambda script=None: Receiver(loopback(), script=script)


@pytest.fixture
def receiver(receivers: Callable[[Script | None], Receiver]) -> Receiver:
    """A webhook receiver answering 204 (or ``receiver.status``) to every request."""
    return receivers(None)


# -- real processes in the background -----------------------------------------------------------------


class Background:
    """A CLI command running as a real process, its stdout and stderr lines collected as they arrive."""

    def __init__(self, project: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.out: list[str] = []
        self.err: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "daemon", "--config", str(project / "config.toml"), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
            env=env or cli_env(), cwd=project,
        )
        self._readers = [threading.Thread(target=self._read, args=(s, d), daemon=True)
                         for s, d in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for t in self._readers:
            t.start()

    @staticmethod
    def _read(stream: Any, lines: list[str]) -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))

    def wait_for(self, predicate: Callable[[list[str]], bool], *, stream: str = "out", timeout: float = 15) -> None:
        lines = self.out if stream == "out" else self.err
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(list(lines)):
                return
            if self.proc.poll() is not None and predicate(list(lines)) is False:
                time.sleep(0.1)  # let the readers drain, then give up
                if predicate(list(lines)):
                    return
                break
            time.sleep(0.02)
        raise AssertionError(f"condition not met in {timeout}s (exit {self.proc.poll()});\nstdout:\n"
                             + "\n".join(self.out) + "\nstderr:\n" + "\n".join(self.err))

    def wait_line(self, text: str, *, stream: str = "out", timeout: float = 15) -> None:
        self.wait_for(lambda lines: any(text in line for line in lines), stream=stream, timeout=timeout)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        for t in self._readers:
            t.join(5)
        return code


@pytest.fixture
def procs() -> Iterator[list[Background]]:
    started: list[Background] = []
    yield started
    for p in started:
        if p.proc.poll() is None:
            p.proc.kill()
            p.proc.wait(10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])

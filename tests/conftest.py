"""Shared fixtures: a throw-away project folder (config + seeds + state), ways to run the real CLI (to the
end, or in the background while a test watches its output), and servers on 127.0.0.1. What they are built
from (and everything else tests share) is in tests/helpers.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import SAMPLES, Background, Receiver, Script, Servers, cli_env, write_config


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

    def make(script: Script | None = None) -> Receiver:
        return Receiver(loopback(), script=script)

    return make


@pytest.fixture
def receiver(receivers: Callable[[Script | None], Receiver]) -> Receiver:
    """A webhook receiver answering 204 (or ``receiver.status``) to every request."""
    return receivers(None)


# -- real processes in the background -----------------------------------------------------------------


@pytest.fixture
def procs() -> Iterator[list[Background]]:
    started: list[Background] = []
    yield started
    for p in started:
        if p.proc.poll() is None:
            p.proc.kill()
            p.proc.wait(10)

"""deploy/newswatch-backup.{service,timer}: valid units, and the command they run really makes a backup."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import cli_env, parse_unit

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
SERVICE, TIMER = DEPLOY / "newswatch-backup.service", DEPLOY / "newswatch-backup.timer"
Run = Callable[..., subprocess.CompletedProcess[str]]


def test_the_timer_runs_the_backup_daily_and_catches_up() -> None:
    timer = parse_unit(TIMER.read_text(encoding="utf-8"))
    assert timer["Timer"]["OnCalendar"] == ["*-*-* 03:30:00"]
    assert timer["Timer"]["Persistent"] == ["yes"]
    assert timer["Install"]["WantedBy"] == ["timers.target"]
    service = parse_unit(SERVICE.read_text(encoding="utf-8"))["Service"]
    assert service["Type"] == ["oneshot"] and service["User"] == ["newswatch"]
    assert "/var/backups/newswatch" in service["ReadWritePaths"][0].split()
    assert service["PrivateNetwork"] == ["yes"] and service["ProtectSystem"] == ["strict"]


def test_the_units_exec_start_writes_a_rotating_checked_copy(project: Path, run_cli: Run, tmp_path: Path) -> None:
    """The ExecStart line as systemd would run it (%% → %), with the paths of this test's project."""
    run_cli("run", "--once")
    (exec_start,) = parse_unit(SERVICE.read_text(encoding="utf-8"))["Service"]["ExecStart"]
    assert exec_start.startswith("/bin/sh -c '") and exec_start.endswith("'")
    out = tmp_path / "backups"
    out.mkdir()
    script = (exec_start.removeprefix("/bin/sh -c '").removesuffix("'").replace("%%", "%")
              .replace("/opt/newswatch/.venv/bin/newswatch", f"{sys.executable} -m daemon")
              .replace("/etc/newswatch/config.toml", str(project / "config.toml"))
              .replace("/var/backups/newswatch", str(out)))
    for _ in range(2):  # the second run of the day replaces the first (--force), atomically
        proc = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, timeout=60,
                              env=cli_env(), cwd=project, check=False)
        assert proc.returncode == 0, proc.stderr
    weekday = subprocess.run(["date", "+%u"], capture_output=True, text=True, check=True).stdout.strip()
    assert [p.name for p in out.iterdir()] == [f"news-{weekday}.db"]
    with sqlite3.connect(out / f"news-{weekday}.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM articles").fetchone() == (5,)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    for unit in (SERVICE, TIMER):
        text = unit.read_text(encoding="utf-8").replace("/opt/newswatch/.venv/bin/newswatch", "/bin/true")
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    proc = subprocess.run(["systemd-analyze", "verify", str(tmp_path / SERVICE.name), str(tmp_path / TIMER.name)],
                          capture_output=True, text=True, timeout=30, check=False)
    relevant = [line for line in (proc.stdout + proc.stderr).splitlines() if "newswatch-backup" in line]
    assert proc.returncode == 0 and not relevant, proc.stdout + proc.stderr

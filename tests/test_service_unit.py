"""A cheap guard on deploy/newswatch.service: the settings the daemon's code relies on are there."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import parse_unit

UNIT = Path(__file__).resolve().parents[1] / "deploy" / "newswatch.service"


@pytest.fixture(scope="module")
def unit() -> dict[str, dict[str, list[str]]]:
    return parse_unit(UNIT.read_text(encoding="utf-8"))


def test_sections(unit: dict[str, dict[str, list[str]]]) -> None:
    assert set(unit) == {"Unit", "Service", "Install"}
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def test_service_contract(unit: dict[str, dict[str, list[str]]]) -> None:
    svc = unit["Service"]
    assert svc["Type"] == ["notify"]
    assert svc["ExecStart"] == ["/opt/newswatch/.venv/bin/newswatch --config /etc/newswatch/config.toml run"]
    assert svc["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert svc["WatchdogSec"] == ["60"]
    assert svc["Restart"] == ["on-failure"]
    assert svc["User"] == ["newswatch"]
    assert svc["StateDirectory"] == ["newswatch"]
    assert svc["KillSignal"] == ["SIGTERM"]
    assert svc["TimeoutStopSec"] == ["20"]
    assert svc["UMask"] == ["0027"]


def test_hardening(unit: dict[str, dict[str, list[str]]]) -> None:
    svc = unit["Service"]
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices", "ProtectKernelTunables",
                "ProtectKernelModules", "ProtectKernelLogs", "RestrictNamespaces", "LockPersonality",
                "MemoryDenyWriteExecute"):
        assert svc.get(key) == ["yes"], key
    assert svc["ProtectSystem"] == ["strict"]
    assert "/var/lib/newswatch" in svc["ReadWritePaths"]
    assert svc["RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6"]
    assert "@system-service" in svc["SystemCallFilter"]
    assert svc["CapabilityBoundingSet"] == [""]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    """systemd's own parser: catches misspelled keys and bad values. ExecStart is swapped for a binary
    that exists here, since the real one is only on an installed host."""
    text = UNIT.read_text(encoding="utf-8").replace("/opt/newswatch/.venv/bin/newswatch", "/bin/true")
    copy = tmp_path / "newswatch.service"
    copy.write_text(text, encoding="utf-8")
    proc = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=30)
    relevant = [line for line in (proc.stdout + proc.stderr).splitlines() if "newswatch.service" in line]
    assert proc.returncode == 0 and not relevant, proc.stdout + proc.stderr

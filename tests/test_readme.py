"""The README documents what exists (issue 9 item 19): every command, every make target, the status columns."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

from daemon.cli import build_parser
from daemon.cli.status import feeds_table, jobs_table
from tests.helpers import cli_commands

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
ROOT_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def test_every_command_is_in_the_command_table() -> None:
    table = README[README.index("## Commands") : README.index("## Running as a service")]
    for path, sub in cli_commands(build_parser()):
        if sub._subparsers is not None and path == ("webhook",):
            continue  # a group: its actions are listed
        assert f"| `newswatch {' '.join(path)}" in table, f"newswatch {' '.join(path)} is not in the README"


def test_every_make_target_is_explained() -> None:
    phony = re.search(r"^\.PHONY: (.+)$", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)
    assert phony
    for target in set(phony.group(1).split()) - {"clean"}:
        assert f"make {target}" in README, f"`make {target}` is not in the README"


def test_the_status_and_feeds_columns_are_explained() -> None:
    section = README[README.index("### Status and feeds") : README.index("## Running as a service")]
    headers = feeds_table([], ROOT_TZ)[0].split("  ") + jobs_table([], ROOT_TZ)[0].split("  ")
    for column in {h.strip() for h in headers if h.strip()} - {"NAME", "NOTE", "LAST RUN", "LAST OK"}:
        assert f"`{column}`" in section, f"column {column} is not explained"
    for health in ("new", "ok", "failing", "STALE", "disabled", "removed"):
        assert f"`{health}`" in section, health
    assert "`match RULE` without `--since` reads the whole archive" in README

"""Every command documents itself (a command without help text fails here)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from daemon.cli import build_parser, main
from tests.helpers import cli_commands


def test_every_command_and_option_has_help() -> None:
    commands = cli_commands(build_parser())
    names = {" ".join(c) for c, _ in commands}
    expected = {"run", "search", "status", "feeds", "fetch", "alerts", "match", "webhook", "webhook test",
                "webhook enable", "listen", "backup", "feeds import", "feeds export", "check", "rules", "webhooks"}
    assert expected <= names
    for name, sub in commands:
        assert sub.description, f"{' '.join(name)} has no description"
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            assert action.help, f"option {action.dest!r} of {' '.join(name)!r} has no help text"


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["search", "--help"], ["webhook", "test", "--help"]])
def test_help_exits_zero(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    assert "usage: newswatch" in capsys.readouterr().out


def test_bad_config_exits_3_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "c.toml"
    bad.write_text("[seeds]\nintervl = 1\n")
    assert main(["--config", str(bad), "status"]) == 3
    err = capsys.readouterr().err
    assert "did you mean 'interval'" in err
    assert "Traceback" not in err

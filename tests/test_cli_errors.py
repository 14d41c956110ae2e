"""Issue 9 item 13/14: a user's mistake gets one clear line and the documented exit status, never a traceback.

Every command is run as a real process (``python -m daemon``) with bad arguments; the table below must
name every command the parser knows, so a new command without a case fails here.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from daemon.cli import build_parser
from tests.helpers import Background, cli_commands, cli_env, free_port, write_config

USAGE, RUNTIME, CONFIG = 2, 1, 3

# (argv after --config, exit status, text the one line must contain)
Case = tuple[tuple[str, ...], int, str]


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    """A port something already listens on (what a second `newswatch listen` meets)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def cases(busy: int, folder: Path) -> list[Case]:
    (folder / "taken.db").write_bytes(b"")
    return [
        (("nonsense",), USAGE, "invalid choice: 'nonsense'"),
        ((), USAGE, "the following arguments are required: COMMAND"),
        (("--log-level", "LOUD", "status"), USAGE, "LOUD"),
        (("run", "--forever"), USAGE, "unrecognized arguments: --forever"),
        (("search", ""), USAGE, "nothing to search for"),
        (("search", "!!! ..."), USAGE, "nothing to search for"),
        (("search", "dang", "--limit", "0"), USAGE, "--limit: must be at least 1, got 0"),
        (("search", "dang", "--limit", "ten"), USAGE, "--limit: expected a whole number, got 'ten'"),
        (("search", "dang", "--sort", "best"), USAGE, "invalid choice: 'best'"),
        (("search", "NOT dang"), USAGE, "only excludes words: give at least one word to look for"),
        (("ui", "--port", "99999"), USAGE, "--port: must be between 0 and 65535, got 99999"),
        (("status", "--verbose"), USAGE, "unrecognized arguments: --verbose"),
        (("feeds", "local"), USAGE, "invalid choice: 'local'"),
        (("feeds", "import"), USAGE, "the following arguments are required: FILE"),
        (("feeds", "import", str(folder / "missing.opml")), RUNTIME, "missing.opml: cannot read it: no such file"),
        (("feeds", "import", str(folder / "taken.db")), RUNTIME, "taken.db: the file is empty"),
        (("feeds", "export", str(folder)), RUNTIME, "is a folder; give the OPML file a name"),
        (("check", "--verbose"), USAGE, "unrecognized arguments: --verbose"),
        (("rules", "nq57"), USAGE, "unrecognized arguments: nq57"),
        (("webhooks", "office"), USAGE, "unrecognized arguments: office"),
        (("stories", "--since", "10y"), USAGE, "--since: expected a duration like"),
        (("stories", "--rule", "nope"), USAGE, "no rule named 'nope' in "),
        (("stories", "--limit", "0"), USAGE, "--limit: must be at least 1, got 0"),
        (("fetch", "nope"), USAGE, "no feed named 'nope' in "),
        (("fetch",), USAGE, "the following arguments are required: name"),
        (("alerts", "--status", "lost"), USAGE, "invalid choice: 'lost'"),
        (("alerts", "--limit", "-3"), USAGE, "--limit: must be at least 1, got -3"),
        (("alerts", "--retry", "al_x", "--all-failed"), USAGE, "not allowed with argument"),
        (("alerts", "--retry", "al_nope"), RUNTIME, "no pending or failed alert al_nope"),
        (("match", "nope"), USAGE, "no rule named 'nope' in "),
        (("match", "nq57", "--since", "10y"), USAGE, "--since: expected a duration like"),
        (("match", "nq57", "--since=-5d"), USAGE, "--since: expected a duration like"),
        (("match", "nq57", "--since", "-5d"), USAGE, "--since: expected one argument"),
        (("webhook",), USAGE, "the following arguments are required: ACTION"),
        (("webhook", "test", "nope"), USAGE, "no webhook named 'nope' in "),
        (("webhook", "enable", "nope"), USAGE, "no webhook named 'nope' in "),
        (("listen", "--port", "99999"), USAGE, "--port: must be between 0 and 65535, got 99999"),
        (("listen", "--port", str(busy)), RUNTIME, f"cannot listen on 127.0.0.1:{busy}: address already in use"),
        (("listen", "--host", "no.such.host.invalid"), RUNTIME, "cannot listen on no.such.host.invalid:8787"),
        (("brief", "--name", "nope"), USAGE, "no briefing named 'nope' in "),
        (("brief", "--date", "2026-13-01"), USAGE, "--date: expected YYYY-MM-DD, got '2026-13-01'"),
        (("brief", "--format", "pdf"), USAGE, "invalid choice: 'pdf'"),
        (("brief", "--format", "html", "--out", str(folder)), RUNTIME, "brief: cannot write"),
        (("backup",), USAGE, "the following arguments are required: PATH"),
        (("backup", str(folder / "taken.db")), USAGE, "already exists; add --force to replace it"),
        (("backup", str(folder / "no" / "such" / "dir" / "b.db")), RUNTIME, "no such folder"),
        (("backup", str(folder)), USAGE, "is a folder; give the backup a file name"),
    ]


def run(folder: Path, argv: tuple[str, ...], config: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "daemon", "--config", str(config or folder / "config.toml"), *argv],
                          capture_output=True, text=True, timeout=60, env=cli_env(), cwd=folder, check=False)


def test_every_command_with_bad_arguments_says_one_line_and_the_documented_status(
        project: Path, busy_port: int) -> None:
    write_config(project, '[[feeds]]\nname = "local"\nurl = "http://127.0.0.1:9/feed.rss"\n'
                          '[[rules]]\nname = "nq57"\nkeywords = ["Nghị quyết 57"]\n'
                          '[[webhooks]]\nname = "office"\nurl = "http://127.0.0.1:9/hook"\n')
    table = cases(busy_port, project)
    commands = {c[0] for c, _ in cli_commands(build_parser())}
    covered = {argv[0] for argv, _, _ in table if argv and not argv[0].startswith("-")}
    assert commands <= covered, f"no bad-argument case for: {sorted(commands - covered)}"

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda case: run(project, case[0]), table))
    failures = []
    for (argv, status, text), proc in zip(table, results, strict=True):
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        ok = (proc.returncode == status and len(lines) == 1 and lines[0].startswith("newswatch")
              and text in lines[0] and "Traceback" not in proc.stderr + proc.stdout)
        if not ok:
            failures.append(f"{' '.join(argv) or '(nothing)'}: exit {proc.returncode} (want {status}), "
                            f"stderr {proc.stderr!r}, stdout {proc.stdout[:200]!r}")
    assert not failures, "\n".join(failures)


def test_a_missing_config_is_a_config_error(project: Path) -> None:
    proc = run(project, ("status",), config=project / "missing.toml")
    lines = proc.stderr.splitlines()
    assert proc.returncode == CONFIG and len(lines) == 1 and "missing.toml" in lines[0], proc.stderr


def test_under_json_logs_a_usage_error_is_one_json_line(project: Path) -> None:
    write_config(project, '[[rules]]\nname = "nq57"\nkeywords = ["Nghị quyết 57"]\n')
    for argv in (("--log-format", "json", "match", "nq57", "--since", "10y"),
                 ("--log-format", "json", "match", "nope"),
                 ("--log-format=json", "search", "")):
        proc = run(project, argv)
        (line,) = proc.stderr.splitlines()
        record = json.loads(line)
        assert proc.returncode == USAGE and record["level"] == "ERROR", (argv, proc.stderr)
        assert record["message"].startswith(("match:", "search:")), record


def test_a_second_listen_on_the_same_port_is_one_line(project: Path, procs: list[Background]) -> None:
    port = free_port()
    first = Background(project, "listen", "--port", str(port))
    procs.append(first)
    first.wait_line("listening on")
    proc = run(project, ("listen", "--port", str(port)))
    assert proc.returncode == RUNTIME and proc.stdout == "", proc.stdout
    assert proc.stderr == (f"newswatch: cannot listen on 127.0.0.1:{port}: address already in use"
                           " (another `newswatch listen`? try --port)\n")
    assert first.proc.poll() is None  # the first one is undisturbed

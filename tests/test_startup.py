"""Issue 14 item 2: a read-only command starts without importing what it does not use.

On the 1,000,000-article archive `newswatch search` took p95 175-187 ms as a process while its query took
20 ms: the rest was Python importing the whole daemon (the parser imported every command's module, and the
store the feed poller's and the matcher's) before the first row was read. Each command now imports its
own module when it runs (``daemon.cli.parser.Command``). Every command here runs as a real process under
``python -X importtime``, whose report names every module the process imported, and fails naming the
first module a change brings back.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from daemon.cli import build_parser
from daemon.cli.common import UsageError
from daemon.cli.parser import Command
from tests.helpers import RULES, cli_commands, cli_env, free_port, hook, write_config

Run = Callable[..., subprocess.CompletedProcess[str]]

# Only fetching, sending, the running service, the briefing and the UI need these; no read-only command does.
HEAVY = ("httpx", "feedparser", "trafilatura", "apscheduler", "watchfiles", "prometheus_client", "matplotlib",
         "docx", "datasette", "sqlite_utils")
NOT_READING = (*HEAVY, "daemon.pipeline", "daemon.prepare", "daemon.prepare_feeds", "daemon.scheduler",
               "daemon.brief", "daemon.ui", "daemon.deliver", "daemon.sources", "daemon.cli.check",
               "daemon.cli.listing", "daemon.cli.brief", "daemon.cli.ui", "daemon.cli.feedlist")
# The keyword compiler and its document-reference patterns: only `match` (and writing) use them.
NOT_MATCHING = (*NOT_READING, "daemon.match.matcher", "daemon.match.compile", "daemon.text.docrefs", "ahocorasick")
# What a search does not read: the tables of the writers, story assignment, the briefing's queries.
NOT_WRITING = (*NOT_MATCHING, "daemon.store.tables", "daemon.store.articles", "daemon.store.briefs",
               "daemon.store.alerts", "daemon.stories")
# Neither a config nor a database to read.
NOTHING = (*NOT_MATCHING, "daemon.config", "daemon.store", "daemon.text", "sqlite3", "tomllib", "zoneinfo")

CASES: list[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = [
    # (arguments, modules it must not import, modules it must import: proof that the report was read)
    (("--version",), NOTHING, ("daemon.cli.parser",)),
    (("--help",), NOTHING, ("daemon.cli.parser",)),
    (("search", "nghị quyết"), NOT_WRITING, ("daemon.store", "daemon.text.search", "daemon.match.snippet")),
    (("search", "dang bo", "--json"), NOT_WRITING, ("daemon.store",)),
    (("status",), NOT_MATCHING, ("daemon.store", "daemon.cli.status")),
    (("stories", "--since", "3650d"), NOT_MATCHING, ("daemon.store", "daemon.stories")),
    (("alerts",), NOT_MATCHING, ("daemon.store",)),
    (("match", "nq57"), NOT_READING, ("daemon.store", "daemon.match.matcher")),
]


def imported(stderr: str) -> set[str]:
    """The modules ``-X importtime`` reports: "import time: self | cumulative | <indent>name" lines."""
    return {line.rsplit("|", 1)[1].strip() for line in stderr.splitlines() if line.startswith("import time:")
            and line.count("|") == 2} - {"imported package"}


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` (a module or a package, with its submodules) are among ``modules``."""
    return sorted(m for m in modules for n in names if m == n or m.startswith(f"{n}."))


def test_read_only_commands_import_only_what_they_use(project: Path, run_cli: Run) -> None:
    write_config(project, RULES + hook(f"http://127.0.0.1:{free_port()}/"))  # nobody listens: alerts stay queued
    run_cli("run", "--once")  # the five seeds, so every command has rows to show (and snippets to make)

    def run(argv: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-X", "importtime", "-m", "daemon",
                               "--config", str(project / "config.toml"), *argv],
                              capture_output=True, text=True, timeout=60, env=cli_env(), cwd=project, check=False)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run, [argv for argv, _, _ in CASES]))
    failures = []
    for (argv, unused, used), proc in zip(CASES, results, strict=True):
        modules = imported(proc.stderr)
        command = " ".join(argv)
        if proc.returncode != 0:
            failures.append(f"{command}: exit {proc.returncode}: {proc.stderr[-500:]}")
        elif missing := [m for m in used if not loaded(modules, (m,))]:
            failures.append(f"{command}: did not import {missing}: is the -X importtime report still read?")
        elif extra := loaded(modules, unused):
            failures.append(f"{command}: imports {extra}, which it does not use")
    assert not failures, "\n".join(failures)


def test_the_report_is_read_as_python_writes_it() -> None:
    """``imported`` must see what the interpreter reports, or the test above could never fail."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import json.decoder"], capture_output=True,
                          text=True, timeout=30, env=cli_env(), check=True)
    modules = imported(proc.stderr)
    assert {"json", "json.decoder"} <= modules
    assert loaded(modules, ("json",)) and not loaded(modules, ("jso",))


def test_every_command_names_a_function_that_exists() -> None:
    """A command's function is named by a string until it runs: a typo would surface only then."""
    named = []
    for words, sub in cli_commands(build_parser()):
        func = sub.get_default("func")
        if isinstance(func, Command):
            fn = func.resolve()
            assert callable(fn), f"{' '.join(words)}: {func!r} is not a function"
            named.append(" ".join(words))
    assert {"search", "status", "stories", "match", "alerts", "run", "check", "brief", "ui", "feeds import",
            "webhook test"} <= set(named)


FROZEN_AT_EXIT = """
import atexit, gc, sys
atexit.register(lambda: print("frozen", gc.get_freeze_count()))
from daemon.cli import console
sys.argv[0] = "newswatch"
raise SystemExit(console())
"""


def test_the_command_leaves_its_objects_to_the_exit(project: Path) -> None:
    """Python's shutdown would otherwise collect garbage over every object the imports made (14-18 ms of a
    100 ms search); ``console`` freezes them first, whether the command returns or argparse exits."""
    for argv in (["status"], ["--version"]):
        proc = subprocess.run([sys.executable, "-c", FROZEN_AT_EXIT, "--config", str(project / "config.toml"), *argv],
                              capture_output=True, text=True, timeout=60, env=cli_env(), cwd=project, check=False)
        assert proc.returncode == 0, proc.stderr
        frozen = int(proc.stdout.rsplit("frozen ", 1)[1])
        assert frozen > 10_000, f"{argv}: only {frozen} objects frozen"


GOOD = [["search", "dang bo", "--limit", "5"], ["--config", "x.toml", "status", "--json"],
        ["--conf", "search", "stories"], ["--log-level=DEBUG", "match", "nq57", "--since", "3d"],
        ["feeds", "import", "a.opml", "--dry-run"], ["feeds"], ["webhook", "enable", "office"],
        ["alerts", "--retry", "al_x"], ["--log-format", "json", "backup", "b.db"], ["--config", "run", "run"]]
BAD = [[], ["nonsense"], ["search"], ["webhook"], ["--", "search"], ["status", "--verbose"], ["--config"],
       ["feeds", "local"], ["--log", "x", "status"], ["--config", "x"], ["search", "a", "--limit", "0"]]


def parsed(words: list[str], *, whole: bool) -> dict[str, Any] | str:
    """What the parser makes of ``words``, built whole or for them alone: the values, or the error line."""
    try:
        return {k: repr(v) for k, v in vars(build_parser(None if whole else words).parse_args(words)).items()}
    except UsageError as exc:
        return f"usage error: {exc}"


@pytest.mark.parametrize("words", GOOD + BAD, ids=" ".join)
def test_the_parser_built_for_a_command_line_reads_it_as_the_whole_one(words: list[str]) -> None:
    assert parsed(words, whole=False) == parsed(words, whole=True)


def test_the_parser_builds_only_the_named_command() -> None:
    def commands(words: list[str]) -> list[str]:
        (sub,) = [a for a in build_parser(words)._actions if isinstance(a, argparse._SubParsersAction)]
        return sorted(sub.choices)

    assert commands(["--config", "c.toml", "search", "x"]) == ["search"]
    assert commands(["--version"]) == []
    assert len(commands(["--help"])) == len(commands(["nonsense"])) == len(cli_commands(build_parser())) - 4

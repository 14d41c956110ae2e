"""Commands that do not fetch start without the network and scheduling libraries.

httpx alone costs about 110 ms to import, paid on every `newswatch status` when the store pulled it in
through ``daemon.sources.feeds`` (issue 10). One fresh interpreter imports the store and what
`newswatch listen` serves with (it runs until Ctrl-C), then runs each other such command through ``main``
and notes which of these libraries are loaded by then, so the first step to bring one back is named.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.helpers import RULES, cli_env, free_port, hook, write_config

Run = Callable[..., subprocess.CompletedProcess[str]]

# What only fetching, sending and the running service need (daemon/service/__init__.py promises the last two).
HEAVY = ("httpx", "feedparser", "trafilatura", "apscheduler", "watchfiles", "prometheus_client")
COMMANDS = (
    ["--version"],
    ["status"],
    ["status", "--json"],
    ["feeds", "--json"],
    ["feeds", "export"],
    ["check"],
    ["rules"],
    ["webhooks", "--json"],
    ["search", "nghị quyết"],
    ["alerts"],
    ["alerts", "--all-failed"],
    ["match", "nq57"],
    ["webhook", "enable", "office"],
    ["backup", "backup.db"],
)
PROBE = """
import json, sys
config, out, heavy, commands = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
report = []
import daemon.store
report.append(["import daemon.store", 0, [m for m in heavy if m in sys.modules]])
import daemon.deliver.receiver
report.append(["import daemon.deliver.receiver", 0, [m for m in heavy if m in sys.modules]])
from daemon.cli import main
for words in commands:
    try:
        code = main(["--config", config, *words])
    except SystemExit as exc:  # --version
        code = exc.code
    report.append([" ".join(words), code, [m for m in heavy if m in sys.modules]])
with open(out, "w", encoding="utf-8") as f:
    json.dump(report, f)
"""


def test_commands_that_do_not_fetch_load_no_http_feed_or_scheduler_library(project: Path, run_cli: Run) -> None:
    write_config(project, RULES + hook(f"http://127.0.0.1:{free_port()}/"))  # nobody listens: alerts stay queued
    run_cli("run", "--once")  # the five seeds, so every command has rows to show
    out = project / "loaded.json"
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(project / "config.toml"), str(out), json.dumps(HEAVY),
         json.dumps(COMMANDS)],
        capture_output=True, text=True, timeout=60, env=cli_env(), cwd=project, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert [(name, code) for name, code, _ in report] == [("import daemon.store", 0),
                                                          ("import daemon.deliver.receiver", 0),
                                                          *((" ".join(c), 0) for c in COMMANDS)], proc.stderr
    assert {name: loaded for name, _, loaded in report if loaded} == {}

"""Issue 9 item 17: each delivery run that sends anything logs one INFO line with its counts.

Real processes: ``python -m daemon run --once`` against a real receiver on 127.0.0.1 and a closed port.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.helpers import RULES, Receiver, free_port, hook, write_config

Run = Callable[..., subprocess.CompletedProcess[str]]


def delivery_lines(stderr: str) -> list[dict[str, str]]:
    records = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    return [r for r in records if r["message"].startswith("delivery run:")]


def test_one_info_line_per_delivery_run_with_counts(project: Path, run_cli: Run, receiver: Receiver) -> None:
    closed = free_port()
    write_config(project, RULES + hook(receiver.url) + hook(f"http://127.0.0.1:{closed}/", name="down"))
    once = run_cli("--log-format", "json", "run", "--once")
    receiver.wait_for(lambda r: len(r) == 2)
    (line,) = delivery_lines(once.stderr)  # one line for four alerts (2 rules x 2 webhooks), not one each
    assert line["level"] == "INFO" and line["logger"] == "daemon.deliver.outbox"
    message = line["message"]
    assert message.startswith("delivery run: 2 delivered, 1 to retry, 0 given up, 1 deferred"), message
    assert "office: 2 delivered" in message and "down: 1 to retry, 1 deferred" in message, message

    again = run_cli("--log-format", "json", "run", "--once")  # nothing due: no line every interval
    assert delivery_lines(again.stderr) == [], again.stderr

"""Issue 9 item 15: what `listen`, `match` and `search` print says each thing once, in the configured zone.

A seed without a title line takes its lead's first sentence as the title, so that sentence is title and
body at once; it used to come back as a title snippet, a body snippet and a search snippet. Real
processes throughout (``python -m daemon``), the machine's zone forced to UTC so that "+07:00" can
only come from the config.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.helpers import Background, cli_env, drop, free_port, shipped_config, sql

Run = Callable[..., subprocess.CompletedProcess[str]]

LEAD = ("Quán triệt Nghị quyết 57 tại Đảng ủy phường Bến Thành. Sáng 20-11, Đảng ủy phường tổ chức hội nghị"
        " quán triệt.\n\nHội nghị nhấn mạnh yêu cầu thực hiện nghiêm Nghị quyết 57-NQ/TW.\n")
TITLE = "Quán triệt Nghị quyết 57 tại Đảng ủy phường Bến Thành"
SENTENCE = "tại Đảng ủy phường Bến Thành"  # appears once in the article: in its lead line


def utc_env() -> dict[str, str]:
    return {**cli_env(), "TZ": "UTC"}


def block(lines: list[str], marker: str) -> list[str]:
    """The lines of the one printed message that contains ``marker``."""
    starts = [i for i, line in enumerate(lines) if line.startswith("[")] + [len(lines)]
    for a, b in itertools.pairwise(starts):
        if any(marker in line for line in lines[a:b]):
            return lines[a:b]
    raise AssertionError(f"no message with {marker!r} in:\n" + "\n".join(lines))


def test_a_lead_line_that_is_the_title_is_said_once(project: Path, run_cli: Run, procs: list[Background]) -> None:
    port = free_port()
    shipped_config(project, port)
    drop(project / "seeds", "lead.txt", LEAD)
    listener = Background(project, "listen", "--port", str(port), env=utc_env())
    procs.append(listener)
    listener.wait_line("listening on")
    run_cli("run", "--once")
    listener.wait_for(lambda lines: sum("article.matched" in x for x in lines) == 3)
    lead = block(listener.out, "Bến Thành")
    text = "\n".join(lead)
    assert "  title:   Quán triệt «Nghị quyết 57» tại Đảng ủy phường Bến Thành" in lead, text
    assert text.count(SENTENCE) == 1, text
    assert [x for x in lead if x.startswith("  snippet:")] == [
        "  snippet: …tổ chức hội nghị quán triệt. Hội nghị nhấn mạnh yêu cầu thực hiện nghiêm «Nghị quyết 57-NQ/TW»."
    ], text
    assert re.search(r"^  source:  seeds, published 2026-\d\d-\d\dT00:00:00\+07:00$", text, re.M), text
    assert not any(x.startswith("  url:") for x in listener.out), "a seed has no URL: no url line"
    assert "None" not in "\n".join(listener.out)
    assert sql(project, "SELECT field FROM matches m JOIN articles a ON a.id = m.article_id"
                        " WHERE a.title = ? ORDER BY m.id", TITLE) == [("title",), ("body",)]

    shown = run_cli("match", "nq57").stdout
    assert shown.count(SENTENCE) == 1, shown
    assert "Quán triệt «Nghị quyết 57» tại Đảng ủy phường Bến Thành" in shown

    found = run_cli("search", "quan triet").stdout.splitlines()
    i = next(i for i, line in enumerate(found) if SENTENCE in line)
    assert found[i].endswith("«Quán triệt» Nghị quyết 57 tại Đảng ủy phường Bến Thành")
    assert SENTENCE not in found[i + 2] and "hội nghị «quán triệt»" in found[i + 2], found
    # A shipped sample: its title is its lead line, whole.
    sample = run_cli("search", "nhan bang khen").stdout
    assert sample.count("Trần Quốc Thắng (ngoài cùng, bên trái)") == 1, sample


def test_test_events_and_duplicate_notices_print_the_configured_zone(
        project: Path, run_cli: Run, procs: list[Background]) -> None:
    port = free_port()
    shipped_config(project, port)
    listener = Background(project, "listen", "--port", str(port), env=utc_env())
    procs.append(listener)
    listener.wait_line("listening on")
    probe = subprocess.run(
        [sys.executable, "-m", "daemon", "--config", str(project / "config.toml"), "webhook", "test", "demo"],
        capture_output=True, text=True, timeout=60, env=utc_env(), cwd=project, check=False)
    assert probe.returncode == 0 and "answered: 204" in probe.stdout, probe.stdout + probe.stderr
    listener.wait_line("newswatch.test")
    (head,) = [x for x in listener.out if "newswatch.test" in x]
    assert re.match(r"^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00\] newswatch.test", head), head

    run_cli("run", "--once")
    listener.wait_for(lambda lines: sum("article.matched" in x for x in lines) == 2)
    sql(project, "UPDATE alerts SET status = 'pending', next_attempt_at = '2000-01-01T00:00:00+07:00'"
                 " WHERE rule = 'nq57'")  # as if the daemon died between the POST and the mark
    run_cli("run", "--once")
    listener.wait_line("duplicate delivery")
    (notice,) = [x for x in listener.out if "duplicate delivery" in x]
    assert re.search(r"\(first received \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00\)$", notice), notice

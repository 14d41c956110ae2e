"""Issue 15 item 3: a running service reloads config.toml on its own when the file changes.

The real `python -m daemon run` process; the file is edited the ways people and tools do it (written in
place, replaced by a rename) and never signalled.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.helpers import NQ57, RULE, Background, Receiver, write_config
from tests.helpers import drop_renamed as drop
from tests.helpers import receiver_hook as hook
from tests.helpers import run_daemon as daemon

pytestmark = pytest.mark.service


def replace(cfg: Path, text: str) -> None:
    """What an editor or `feeds import` does: write a temporary file, rename it over the config."""
    tmp = cfg.with_name(".config.toml.swp")
    tmp.write_text(text, encoding="utf-8")
    tmp.rename(cfg)


def lines_with(d: Background, text: str) -> list[str]:
    return [line for line in d.err if text in line]


def test_an_edited_rule_is_picked_up_within_seconds_without_a_signal(
        project: Path, receiver: Receiver, procs: list[Background]) -> None:
    write_config(project, hook(receiver))
    cfg = project / "config.toml"
    d = daemon(project)
    procs.append(d)
    d.wait_line("newswatch running", stream="err")
    time.sleep(1.0)
    assert receiver.requests == [] and not lines_with(d, "reload")  # watching started: no reload of an unchanged file

    # An invalid edit is refused once, and the running config is kept; a touch without a change is not an edit.
    cfg.write_text(cfg.read_text(encoding="utf-8") + "[[rules]\nbroken", encoding="utf-8")
    d.wait_line("reload refused (config.toml changed)", stream="err", timeout=10)
    os.utime(cfg)
    time.sleep(1.5)
    assert len(lines_with(d, "reload refused")) == 1, d.err
    assert not lines_with(d, "Traceback")

    start = time.monotonic()
    replace(cfg, cfg.read_text(encoding="utf-8").replace("[[rules]\nbroken", RULE))
    d.wait_line("config reloaded (config.toml changed)", stream="err", timeout=10)
    elapsed = time.monotonic() - start
    assert elapsed < 4, f"reload took {elapsed:.1f}s"
    assert "1 rules" in lines_with(d, "config reloaded")[0]

    drop(project / "seeds", "watch.txt", f"title: Sau khi sửa tệp cấu hình\n\nBài mới nhắc tới {NQ57}.\n")
    got = receiver.wait_for(lambda r: len(r) == 1, timeout=10)
    assert got[0].json["data"]["rule"] == "nq57"
    assert got[0].json["data"]["article"]["title"] == "Sau khi sửa tệp cấu hình"

    # Written in place (no rename) works too, and turning watching off is itself picked up.
    cfg.write_text("[service]\nwatch_config = false\n" + cfg.read_text(encoding="utf-8"), encoding="utf-8")
    d.wait_for(lambda err: sum("config reloaded" in line for line in err) == 2, stream="err", timeout=10)
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(RULE, ""), encoding="utf-8")
    time.sleep(2.0)
    assert len(lines_with(d, "config reloaded")) == 2, d.err  # no longer watched
    assert d.stop() == 0

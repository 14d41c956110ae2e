"""Issue 9, the seed folder: bad entries cost only themselves, symlinks stay inside the folder, and the
ledger ``seed_files`` tells the truth. Each test runs ``python -m daemon run --once`` as a real process on
real files, symlinks and a real SQLite file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Run = Callable[..., subprocess.CompletedProcess[str]]


def article(i: int) -> str:
    return (f"title: Bài thử nghiệm số {i}\n\nSáng 18-10, Văn phòng Thành ủy họp lần thứ {i} về công tác "
            f"tham mưu, tổng hợp. Hội nghị số {i} đã thống nhất các nội dung trọng tâm.\n")


def aged(*paths: Path) -> None:
    """Date files (or the links themselves) 5 s back: a file modified within the last second waits."""
    old = time.time() - 5
    for p in paths:
        os.utime(p, (old, old), follow_symlinks=not p.is_symlink())


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    aged(path)
    return path


def link(path: Path, target: str | Path) -> Path:
    path.symlink_to(target)
    aged(path)
    return path


def sql(project: Path, statement: str, *params: object) -> list[Any]:
    with sqlite3.connect(project / "state" / "news.db") as conn:
        return conn.execute(statement, params).fetchall()


def ledger(project: Path) -> dict[str, tuple[str, str | None]]:
    return {r[0]: (r[1], r[2]) for r in sql(project, "SELECT path, status, reason FROM seed_files")}


def lines_naming(stderr: str, name: str) -> list[str]:
    return [line for line in stderr.splitlines() if name in line]


# -- item 2: a symlink loop costs only itself ---------------------------------------------------------


def test_a_symlink_loop_costs_only_itself(project: Path, run_cli: Run) -> None:
    seeds = project / "seeds"
    for i in range(20):
        write(seeds / f"bulk_{i:02d}.txt", article(i))
    link(seeds / "a.txt", "b.txt")
    link(seeds / "b.txt", "a.txt")
    link(seeds / "gone.txt", "no-such-file.txt")
    proc = run_cli("run", "--once")
    assert sql(project, "SELECT count(*) FROM articles")[0][0] == 25, proc.stderr
    rows = ledger(project)
    assert rows["a.txt"][0] == rows["b.txt"][0] == rows["gone.txt"][0] == "skipped"
    assert "loop" in (rows["a.txt"][1] or "") and "loop" in (rows["b.txt"][1] or "")
    assert "broken symlink" in (rows["gone.txt"][1] or "")
    for name in ("a.txt", "b.txt", "gone.txt"):
        assert len(lines_naming(proc.stderr, name)) == 1, proc.stderr
    assert "traceback" not in proc.stderr.lower()
    again = run_cli("run", "--once")  # recorded once, not once per pass
    assert not lines_naming(again.stderr, "a.txt"), again.stderr



"""Issue 9 item 20: `newswatch backup PATH` copies the live database consistently, checked, atomically.

Real processes (``python -m daemon run`` writing while ``python -m daemon backup`` copies), real SQLite
files, and for the full-disk case a real (tiny) tmpfs.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import RULES, Background, Receiver, cli_env, drop, hook, write_config

Run = Callable[..., subprocess.CompletedProcess[str]]
COUNTS = re.compile(r"^  (\d+) articles, (\d+) sightings, (\d+) matches, (\d+) feeds; "
                    r"alerts (\d+) pending, (\d+) delivered, (\d+) failed$", re.M)


def article(i: int) -> str:
    cites = "quán triệt Nghị quyết 57-NQ/TW về chuyển đổi số" if i % 7 == 0 else "bàn công tác quý IV"
    return (f"title: Bản tin số {i}\n\nSáng nay, Đảng ủy phường số {i} họp và {cites}. "
            f"Hội nghị thống nhất {i * 37 % 1000} nội dung, giao Văn phòng theo dõi, đôn đốc thực hiện.\n")


def seed_many(folder: Path, n: int, start: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    old = time.time() - 5
    for i in range(start, start + n):
        path = folder / f"bulk_{i:05d}.txt"
        path.write_text(article(i), encoding="utf-8")
        os.utime(path, (old, old))


def in_copy(path: Path, sql: str) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_backup_while_the_daemon_writes_is_consistent_and_restores(
        project: Path, run_cli: Run, receiver: Receiver, procs: list[Background],
        tmp_path_factory: pytest.TempPathFactory) -> None:
    write_config(project, RULES + hook(receiver.url))
    seed_many(project / "seeds" / "bulk", 1500)
    run_cli("run", "--once")
    daemon = Background(project, "run")
    procs.append(daemon)
    daemon.wait_line("newswatch running", stream="err")

    stop = threading.Event()

    def keep_writing() -> None:  # new articles (and alerts) arrive while the copies are taken
        i = 10_000
        while not stop.is_set():
            drop(project / "seeds", f"live_{i}.txt", article(i))
            i += 1
            time.sleep(0.01)

    writer = threading.Thread(target=keep_writing, daemon=True)
    writer.start()
    out = tmp_path_factory.mktemp("backups")
    copies: list[tuple[Path, tuple[int, ...]]] = []
    try:
        for n in range(3):
            target = out / f"news-{n}.db"
            proc = run_cli("backup", str(target))
            assert proc.stderr == "", proc.stderr
            head, _ = proc.stdout.splitlines()
            assert head.startswith(f"backup of {project / 'state' / 'news.db'} written to {target}: ")
            assert re.search(r": \d+\.\d MB, integrity ok, schema v\d+, \d+\.\d s$", head), head
            m = COUNTS.search(proc.stdout)
            assert m, proc.stdout
            copies.append((target, tuple(int(x) for x in m.groups())))
            time.sleep(0.3)
    finally:
        stop.set()
        writer.join(5)
    assert daemon.stop() == 0

    seen = [counts[0] for _, counts in copies]
    assert seen[0] >= 1505 and seen == sorted(seen) and seen[-1] > seen[0], seen  # taken while writes went on
    for target, counts in copies:
        assert in_copy(target, "PRAGMA integrity_check") == [("ok",)]
        assert in_copy(target, "PRAGMA journal_mode") == [("delete",)]  # one self-contained file
        assert not target.with_name(target.name + "-wal").exists()
        got = in_copy(target, "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM sightings),"
                              " (SELECT count(*) FROM matches), (SELECT count(*) FROM feeds),"
                              " (SELECT count(*) FROM alerts WHERE status = 'pending'),"
                              " (SELECT count(*) FROM alerts WHERE status = 'delivered'),"
                              " (SELECT count(*) FROM alerts WHERE status = 'failed')")
        assert got == [counts]  # what it printed is what it wrote
        # One snapshot: each article arrived with its sighting and its alerts, in one transaction.
        assert in_copy(target, "SELECT count(*) FROM articles WHERE id NOT IN (SELECT article_id FROM sightings)"
                       ) == [(0,)]
        assert in_copy(target, "SELECT count(*) FROM alerts WHERE article_id NOT IN (SELECT id FROM articles)"
                       ) == [(0,)]
        assert in_copy(target, "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'bulk OR phuong'"
                       )[0][0] == counts[0]
    assert leftovers(out) == []

    # Restore as the README says: stop, remove the WAL files, copy the backup in, start.
    last, counts = copies[-1]
    restored = tmp_path_factory.mktemp("restored")
    (restored / "state").mkdir()
    (restored / "seeds").mkdir()
    write_config(restored, RULES)
    shutil.copy2(last, restored / "state" / "news.db")
    proc = subprocess.run([sys.executable, "-m", "daemon", "--config", str(restored / "config.toml"),
                           "search", "phuong so 3", "--sort", "rank"], capture_output=True, text=True, timeout=60,
                          cwd=restored, env=cli_env(), check=True)
    assert "[9] Bản tin «số 3»" in proc.stdout.splitlines()[0], proc.stdout


def test_an_existing_file_is_kept_unless_force_and_force_replaces_it(project: Path, run_cli: Run) -> None:
    run_cli("run", "--once")
    target = project / "backups" / "news.db"
    target.parent.mkdir()
    target.write_text("yesterday's backup", encoding="utf-8")
    proc = run_cli("backup", str(target), check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"newswatch backup: {target} already exists; add --force to replace it\n"
    assert target.read_text(encoding="utf-8") == "yesterday's backup"
    proc = run_cli("backup", "--force", str(target))
    assert "integrity ok" in proc.stdout and "  5 articles, 5 sightings" in proc.stdout
    assert in_copy(target, "SELECT count(*) FROM articles") == [(5,)]
    assert leftovers(target.parent) == []
    live = project / "state" / "news.db"
    proc = run_cli("backup", "--force", str(live), check=False)
    assert proc.returncode == 2 and "is the live database itself" in proc.stderr
    assert in_copy(live, "PRAGMA integrity_check") == [("ok",)]


def test_no_database_yet_is_one_line(project: Path, run_cli: Run) -> None:
    proc = run_cli("backup", str(project / "b.db"), check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "no database to back up" in proc.stderr and not (project / "b.db").exists()


@contextlib.contextmanager
def mounted(where: Path, options: str) -> Iterator[None]:
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()})")
    try:
        yield
    finally:
        subprocess.run(["umount", str(where)], check=False)


def test_a_full_disk_is_one_line_and_leaves_nothing(project: Path, run_cli: Run) -> None:
    run_cli("run", "--once")
    assert (project / "state" / "news.db").stat().st_size > 100_000
    small = project / "small"
    with mounted(small, "size=64k"):
        target = small / "news.db"
        proc = run_cli("backup", str(target), check=False)
        assert proc.returncode == 1 and proc.stdout == ""
        assert proc.stderr == f"newswatch: backup to {target} failed: the disk is full\n"
        assert list(small.iterdir()) == []  # no half-written file, no temporary one
    assert run_cli("status").returncode == 0  # the live database is untouched


def test_an_unwritable_folder_is_one_line(project: Path, run_cli: Run) -> None:
    run_cli("run", "--once")
    folder = project / "locked"
    if os.geteuid() != 0:
        folder.mkdir(mode=0o555)
        context: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    else:  # root writes through permission bits: use a read-only file system instead
        context = mounted(folder, "ro,size=64k")
    with context:
        proc = run_cli("backup", str(folder / "news.db"), check=False)
        assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
        assert proc.stderr.startswith(f"newswatch: cannot write the backup {folder / 'news.db'}: ")
        assert "read-only file system" in proc.stderr or "permission denied" in proc.stderr

"""Issue 16 acceptance: in a seed folder of 20,000 files, the real daemon picks up a dropped file without
re-scanning the folder, and the full scan (at the start, and the periodic safety net) still finds what no
event announced: the safety net lists only the folders that changed, and every full_rescan_interval it
stats every file, for a file rewritten in place without an event (here through another hard link)."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

from daemon.store import Store
from daemon.text.dates import VN_TZ
from tests.helpers import NQ57, RULE, Background, Receiver, drop, drop_renamed, receiver_hook, write_config

pytestmark = pytest.mark.service

KNOWN = 20_000


def known_folder(project: Path, n: int) -> None:
    """``n`` small seed files the database has already seen (their ledger rows written directly: ingesting
    20,000 articles is bench_ingest's business, and would take this test a minute)."""
    seeds = project / "seeds"
    for sample in seeds.iterdir():
        sample.unlink()  # (the samples would alert)
    old = int((time.time() - 86400) * 1e9)
    rows = []
    body = "Tin lưu trữ của Văn phòng Thành ủy về công tác tham mưu, giúp việc.\n".encode()
    for i in range(n):
        name = f"luu_{i:05d}.txt"
        fd = os.open(seeds / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, body)
        os.close(fd)
        os.utime(seeds / name, ns=(old, old))
        rows.append((name, len(body), old, "skipped", "known before the test", "2026-01-01T00:00:00+07:00"))
    Store(project / "state" / "news.db", VN_TZ).close()
    with sqlite3.connect(project / "state" / "news.db") as conn:
        conn.executemany("INSERT INTO seed_files (path, size, mtime_ns, status, reason, seen_at)"
                         " VALUES (?, ?, ?, ?, ?, ?)", rows)


def configure(project: Path, receiver: Receiver, rescan: str, seeds: str = "") -> None:
    # [seeds] interval = "1s": passes every second. The test's articles are one sentence apart, near-copies
    # to the stories' lead rule: each must alert, since what is tested is that each file is read.
    write_config(project, RULE + receiver_hook(receiver) + "[stories]\nalert_each_copy = true\n")
    cfg = project / "config.toml"
    cfg.write_text(cfg.read_text().replace("[delivery]", f'rescan_interval = "{rescan}"\n{seeds}[delivery]'))


def article(title: str) -> str:
    return f"title: {title}\n\nSáng nay, Thành ủy quán triệt {NQ57} về khoa học, công nghệ ({title}).\n"


def full_scans(d: Background) -> list[str]:
    return [line for line in d.err if "seeds: full scan" in line]


def test_a_drop_into_20000_files_is_picked_up_without_a_full_scan(
        project: Path, receiver: Receiver, procs: list[Background], tmp_path: Path) -> None:
    known_folder(project, KNOWN)
    seeds = project / "seeds"
    configure(project, receiver, "1h")
    d = Background(project, "--log-level", "DEBUG", "run")
    procs.append(d)
    d.wait_line(f"seeds: full scan (the watch started): {KNOWN} unchanged", stream="err", timeout=30)
    time.sleep(2.5)  # two periodic passes go by: with the watcher, they re-scan nothing
    start = time.monotonic()
    drop_renamed(seeds, "moi.txt", article("Tin mới nhất"))
    got = receiver.wait_for(lambda r: len(r) == 1, timeout=10)
    assert got[0].json["data"]["article"]["title"] == "Tin mới nhất"
    assert got[0].at - start < 2.0
    d.wait_line("seeds: targeted pickup of 1 path, no full scan: moi.txt", stream="err")
    assert len(full_scans(d)) == 1, full_scans(d)  # only the one at the start
    assert d.stop() == 0

    # Written while nothing watched: the full scan at the next start finds it.
    drop(seeds, "khi-tat.txt", article("Tin viết khi dịch vụ tắt"))
    # And a change no event announces: the file's other name, outside the folder, is written to.
    outside = tmp_path / "ngoai.txt"
    os.link(seeds / "moi.txt", outside)
    configure(project, receiver, "1s", 'full_rescan_interval = "4s"\n')
    d = Background(project, "--log-level", "DEBUG", "run")
    procs.append(d)
    got = receiver.wait_for(lambda r: len(r) == 2, timeout=30)
    assert got[1].json["data"]["article"]["title"] == "Tin viết khi dịch vụ tắt"
    assert any(f"{KNOWN + 1} unchanged, 1 new or changed" in line for line in full_scans(d)), full_scans(d)
    # The safety net every second trusts the folder's time: its 20,002 files are not looked at.
    d.wait_line(f"seeds: safety-net scan (the periodic safety net): 1 of 1 folders unchanged, not listed"
                f" ({KNOWN + 2} files in them); 0 listed", stream="err", timeout=15)
    outside.write_text(article("Tin sửa qua tên khác"), encoding="utf-8")
    os.utime(outside, (time.time() - 5, time.time() - 5))
    got = receiver.wait_for(lambda r: len(r) == 3, timeout=20)
    assert got[2].json["data"]["article"]["title"] == "Tin sửa qua tên khác"
    # Found by the scan that stats every file (every full_rescan_interval), which no folder's time announced.
    every = [line for line in full_scans(d) if "(the periodic safety net, every file (full_rescan_interval))" in line]
    assert any("1 new or changed" in line for line in every), full_scans(d)
    assert not any("safety-net scan" in line and "1 new or changed" in line for line in d.err)
    assert not any("targeted pickup" in line and "moi.txt" in line for line in d.err)  # no event had said so
    assert d.stop() == 0


def test_without_the_watcher_every_pass_scans_the_folder(project: Path, receiver: Receiver,
                                                          procs: list[Background]) -> None:
    configure(project, receiver, "1h", "watch = false\n")
    d = Background(project, "--log-level", "DEBUG", "run")
    procs.append(d)
    receiver.wait_for(lambda r: len(r) == 1, timeout=20)  # sample 000 cites Nghị quyết số 57-NQ/TW
    drop(project / "seeds", "moi.txt", article("Tin mới"))
    got = receiver.wait_for(lambda r: len(r) == 2, timeout=10)  # found by the next 1 s pass, rescan or not
    assert got[1].json["data"]["article"]["title"] == "Tin mới"
    assert len([line for line in full_scans(d) if "(no watcher)" in line]) >= 2
    assert not any("targeted pickup" in line for line in d.err)
    assert d.stop() == 0


def test_a_reload_that_moves_the_seed_folder_watches_the_new_one(project: Path, receiver: Receiver,
                                                                  procs: list[Background]) -> None:
    configure(project, receiver, "1h")
    d = Background(project, "--log-level", "DEBUG", "run")
    procs.append(d)
    receiver.wait_for(lambda r: len(r) == 1, timeout=20)  # sample 000
    (project / "seeds2").mkdir()
    cfg = project / "config.toml"
    cfg.write_text(cfg.read_text().replace('path = "seeds"', 'path = "seeds2"'))
    d.wait_line("config reloaded", stream="err")
    # The new folder's watch asks for a full scan as it starts: a drop before it ends is found by that scan.
    d.wait_for(lambda lines: sum("seeds: full scan (the watch started)" in line for line in lines) >= 2, stream="err")
    drop_renamed(project / "seeds2", "moi.txt", article("Tin ở thư mục mới"))
    got = receiver.wait_for(lambda r: len(r) == 2, timeout=10)
    assert got[1].json["data"]["article"]["title"] == "Tin ở thư mục mới"
    d.wait_line("seeds: targeted pickup of 1 path, no full scan: moi.txt", stream="err")
    assert d.stop() == 0


def test_a_new_date_folder_is_found_by_listing_only_the_folders_that_changed(
        project: Path, receiver: Receiver, procs: list[Background]) -> None:
    configure(project, receiver, "1h")
    d = Background(project, "--log-level", "DEBUG", "run")
    procs.append(d)
    receiver.wait_for(lambda r: len(r) == 1, timeout=20)  # sample 000
    day = project / "seeds" / "2026" / "12" / "02"
    day.mkdir(parents=True)  # its file may come before the folder is watched: the folder's listing finds it
    drop(day, "tin.txt", article("Tin trong thư mục ngày mới"))
    got = receiver.wait_for(lambda r: len(r) == 2, timeout=15)
    assert got[1].json["data"]["article"]["title"] == "Tin trong thư mục ngày mới"
    d.wait_line("seeds: safety-net scan (folder 2026/ appeared)", stream="err")
    assert len(full_scans(d)) == 1, full_scans(d)  # only the start's: no event was lost, no file re-stat'ed
    assert d.stop() == 0

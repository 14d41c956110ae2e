"""rescan() on real folders against a real ledger: the safety net lists only the folders that changed, and
still finds every file added, removed or renamed (issue 16)."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import pytest

from daemon.sources.folder import FolderMemory, ScanResult, rescan, scan
from daemon.store import Store
from daemon.store.articles import LedgerEntry
from daemon.text.dates import VN_TZ

TEXT = "Sáng 18-10, Văn phòng Thành ủy họp về công tác tham mưu. Hội nghị thống nhất nội dung.\n"
DAYS = ("2026/11/28", "2026/11/29", "2026/11/30", "2026/12/01")


def later() -> float:
    """A scan time after every file and folder here has settled (the folders' times are then trusted)."""
    return time.time() + 10


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "news.db", VN_TZ)


def date_folders(root: Path) -> None:
    for day in DAYS:
        (root / day).mkdir(parents=True)
        for i in range(3):
            (root / day / f"tin{i}.txt").write_text(f"{TEXT}{day} số {i}.\n", encoding="utf-8")
    (root / "goc.txt").write_text(TEXT, encoding="utf-8")


def record(store: Store, result: ScanResult) -> None:
    """What a pass stores: the ledger entries of what it found, and the deleted ones marked."""
    found = [*result.changed, *(s for s, _ in result.skipped)]
    store.ingest([], [LedgerEntry(s.relpath, s.size, s.mtime_ns, reason="test") for s in found])
    if result.deleted:
        store.mark_seed_files_deleted(result.deleted)


def relpaths(result: ScanResult) -> list[str]:
    return [s.relpath for s in result.changed]


def test_an_unchanged_tree_lists_no_folder_and_stats_no_file(tmp_path: Path, store: Store) -> None:
    seeds = tmp_path / "seeds"
    date_folders(seeds)
    first = scan(seeds, store.ledger(), later())
    record(store, first)
    assert len(relpaths(first)) == 13
    again = rescan(seeds, first.folders, store.ledger_in, later())
    # The root, 2026/, 2026/11/, 2026/12/ and the four days: none listed, none of the 13 files stat'ed.
    assert (again.kept, again.listed, again.kept_files, again.unchanged) == (8, 0, 13, 0)
    assert (again.changed, again.deleted, again.errors) == ([], [], [])


def test_what_was_added_removed_or_renamed_is_found_and_only_those_folders_are_listed(
        tmp_path: Path, store: Store) -> None:
    seeds = tmp_path / "seeds"
    date_folders(seeds)
    memory = FolderMemory()
    first = scan(seeds, store.ledger(), later())
    record(store, first)
    memory.keep(seeds, first)

    (seeds / "2026/12/01/moi.txt").write_text(f"{TEXT}Mới.\n", encoding="utf-8")  # added
    (seeds / "2026/11/28/tin0.txt").unlink()  # removed
    (seeds / "2026/11/29/tin1.txt").rename(seeds / "2026/11/29/tin1-doi-ten.txt")  # renamed in its folder
    (seeds / "2026/11/30/tin2.txt").rename(seeds / "2026/12/01/tin2-chuyen.txt")  # moved to another folder
    (seeds / "2026/12/02").mkdir()  # a new day
    (seeds / "2026/12/02/hom-nay.txt").write_text(f"{TEXT}Hôm nay.\n", encoding="utf-8")
    os.rename(seeds / "2026/11/29", seeds / "2026/11/29-cu")  # a folder renamed: its files are new paths

    result = rescan(seeds, memory.folders, store.ledger_in, later())
    assert relpaths(result) == ["2026/11/29-cu/tin0.txt", "2026/11/29-cu/tin1-doi-ten.txt",
                                "2026/11/29-cu/tin2.txt", "2026/12/01/moi.txt", "2026/12/01/tin2-chuyen.txt",
                                "2026/12/02/hom-nay.txt"]
    assert result.deleted == ["2026/11/28/tin0.txt", "2026/11/29/tin0.txt", "2026/11/29/tin1.txt",
                              "2026/11/29/tin2.txt", "2026/11/30/tin2.txt"]
    # Listed: 2026/11/ (a folder renamed in it), 2026/12/ (a day added), and the five days changed or
    # new; only the root and 2026/ were trusted (goc.txt never stat'ed).
    assert (result.listed, result.kept) == (7, 2)
    assert result.unchanged == 2 + 2 + 3  # 28 and 30 keep two files each, 01 its three
    record(store, result)
    memory.keep(seeds, result)
    assert relpaths(scan(seeds, store.ledger(), later())) == []  # the ledger now matches the folder exactly
    calm = rescan(seeds, memory.folders, store.ledger_in, later())
    assert (calm.listed, calm.changed, calm.deleted) == (0, [], [])


def test_a_folder_removed_takes_its_ledger_rows_with_it(tmp_path: Path, store: Store) -> None:
    seeds = tmp_path / "seeds"
    date_folders(seeds)
    first = scan(seeds, store.ledger(), later())
    record(store, first)
    for name in ("tin0.txt", "tin1.txt", "tin2.txt"):
        (seeds / "2026/11" / "28" / name).unlink()
    (seeds / "2026/11/28").rmdir()
    result = rescan(seeds, first.folders, store.ledger_in, later())
    assert result.deleted == ["2026/11/28/tin0.txt", "2026/11/28/tin1.txt", "2026/11/28/tin2.txt"]
    assert (result.listed, result.changed) == (1, [])  # 2026/11/ only


def test_a_rewrite_in_place_is_left_to_the_scan_of_every_file(tmp_path: Path, store: Store) -> None:
    """The trade-off, shown: a folder's time does not change when a file in it is rewritten."""
    seeds = tmp_path / "seeds"
    date_folders(seeds)
    first = scan(seeds, store.ledger(), later())
    record(store, first)
    (seeds / "2026/11/30/tin1.txt").write_text(f"{TEXT}Sửa tại chỗ, dài hơn.\n", encoding="utf-8")
    assert rescan(seeds, first.folders, store.ledger_in, later()).changed == []
    assert relpaths(scan(seeds, store.ledger(), later())) == ["2026/11/30/tin1.txt"]


def test_a_folder_modified_just_before_its_listing_is_listed_again(tmp_path: Path, store: Store) -> None:
    """Its time may not change again within the same tick of the file system's clock."""
    seeds = tmp_path / "seeds"
    date_folders(seeds)
    old = time.time() - 60
    for path in seeds.rglob("*.txt"):
        os.utime(path, (old, old))  # (the files settled, not their folders' change times)
    first = scan(seeds, store.ledger(), time.time())  # every folder was just made
    assert len(relpaths(first)) == 13
    record(store, first)
    again = rescan(seeds, first.folders, store.ledger_in, later())
    assert (again.kept, again.listed, again.unchanged) == (0, 8, 13)


def test_a_folder_holding_a_symlink_is_always_listed(tmp_path: Path, store: Store) -> None:
    seeds = tmp_path / "seeds"
    date_folders(seeds)
    (seeds / "2026/12/01/lien-ket.txt").symlink_to(seeds / "goc.txt")
    first = scan(seeds, store.ledger(), later())
    record(store, first)
    again = rescan(seeds, first.folders, store.ledger_in, later())
    assert (again.listed, again.unchanged) == (1, 4)  # 2026/12/01/: a link's target changes without it


def test_the_ledger_of_one_folder_is_a_range_of_paths(store: Store) -> None:
    paths = ["a.txt", "2026/01/x.txt", "2026/01/y.txt", "2026/01/sub/z.txt", "2026/010/w.txt", "2026/0.txt",
             "2026/01.txt", "2026/02/v.txt"]
    store.ingest([], [LedgerEntry(p, 1, 2, reason="test") for p in paths])
    store.mark_seed_files_deleted(["2026/01/y.txt"])
    assert set(store.ledger_in("2026/01/")) == {"2026/01/x.txt"}
    assert set(store.ledger_in("2026/01/", True)) == {"2026/01/x.txt", "2026/01/sub/z.txt"}
    assert set(store.ledger_in("")) == {"a.txt"}
    assert set(store.ledger_in("", True)) == set(paths) - {"2026/01/y.txt"}
    assert store.ledger_in("2026/01/")["2026/01/x.txt"] == (1, 2)


def test_the_pipeline_trusts_only_a_memory_of_this_folder_from_a_pass_that_finished(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from daemon.config import loads
    from daemon.pipeline import Pipeline

    seeds = tmp_path / "seeds"
    date_folders(seeds)
    config = loads(f'[storage]\npath = "{tmp_path / "news.db"}"\n[seeds]\npath = "{seeds}"\n', tmp_path / "c.toml")
    stop = threading.Event()
    pipeline = Pipeline(config, Store(config.db_path, config.tz), stop=stop)
    memory = FolderMemory()
    caplog.set_level(logging.DEBUG, logger="daemon.pipeline")
    time.sleep(2.1)  # (the files settle, and the folders are old enough to be trusted: RECENT_FOLDER)
    assert pipeline.scan_seeds(full=True, folders=memory, every_file=False).new == 13  # no memory yet
    assert "seeds: full scan" in caplog.text and len(memory.folders) == 8
    caplog.clear()
    (seeds / "2026/12/01/moi.txt").write_text(f"{TEXT}Mới.\n", encoding="utf-8")
    os.utime(seeds / "2026/12/01/moi.txt", (time.time() - 5, time.time() - 5))
    # Rewritten in place, and the watcher said so: its folder is not listed, the path is looked at anyway.
    rewritten = seeds / "2026/11/30/tin1.txt"
    rewritten.write_text(f"{TEXT}Sửa tại chỗ.\n", encoding="utf-8")
    os.utime(rewritten, (time.time() - 5, time.time() - 5))
    report = pipeline.scan_seeds({"2026/11/30/tin1.txt": time.time()}, full=True, folders=memory, every_file=False)
    assert report.new == 2
    assert "seeds: safety-net scan" in caplog.text and "7 of 8 folders unchanged" in caplog.text
    assert not memory.usable_for(tmp_path / "elsewhere")  # a moved seed folder is scanned in full
    stop.set()  # a pass that stops before its end leaves nothing to trust
    pipeline.scan_seeds(full=True, folders=memory, every_file=False)
    assert memory.folders == {} and not memory.usable_for(seeds)

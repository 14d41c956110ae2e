"""scan_paths() on real folders: a pickup stats only the paths it was told about, with the rules of scan()."""

from __future__ import annotations

import os
import time
from pathlib import Path

from daemon.sources.folder import ScanResult, scan, scan_paths

TEXT = "Sáng 18-10, Văn phòng Thành ủy họp về công tác tham mưu. Hội nghị thống nhất nội dung.\n"


def write(path: Path, text: str = TEXT, *, age: float = 0.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if age:
        when = time.time() - age
        os.utime(path, (when, when))
    return path


def ledger_of(result: ScanResult) -> dict[str, tuple[int, int]]:
    return {s.relpath: (s.size, s.mtime_ns) for s in result.changed} | {
        s.relpath: (s.size, s.mtime_ns) for s, _ in result.skipped}


def test_only_the_given_paths_are_looked_at(tmp_path: Path) -> None:
    for i in range(30):
        write(tmp_path / f"old{i:02d}.txt", age=60)
    write(tmp_path / "new.txt", age=5)
    result = scan_paths(tmp_path, {"new.txt": None}, {}, time.time())
    assert [s.relpath for s in result.changed] == ["new.txt"]
    assert result.unchanged == 0 and not result.deleted  # the 30 others were neither stat'ed nor "deleted"


def test_a_file_renamed_in_is_read_at_once_and_one_being_written_waits(tmp_path: Path) -> None:
    write(tmp_path / "renamed.txt")
    write(tmp_path / "writing.txt")
    done = time.time()  # the watcher saw renamed.txt complete (moved in, or closed by its writer)
    result = scan_paths(tmp_path, {"renamed.txt": done, "writing.txt": None}, {}, time.time())
    assert [s.relpath for s in result.changed] == ["renamed.txt"]
    assert [s.relpath for s in result.settling] == ["writing.txt"]


def test_a_closed_file_waits_for_its_quiet_moment_only(tmp_path: Path) -> None:
    write(tmp_path / "closed.txt")
    quiet_until = time.time() + 0.2  # closed by its writer just now: complete unless it reopens it
    result = scan_paths(tmp_path, {"closed.txt": quiet_until}, {}, time.time())
    assert [s.relpath for s in result.settling] == ["closed.txt"]
    assert result.settle_at == quiet_until  # not a second after its modification
    assert [s.relpath for s in scan_paths(tmp_path, {"closed.txt": quiet_until}, {}, quiet_until).changed] == [
        "closed.txt"]


def test_a_file_written_again_after_it_was_complete_waits_again(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt")
    done = time.time() - 0.5
    os.utime(path, (time.time(), time.time()))  # modified after the event that said it was complete
    result = scan_paths(tmp_path, {"a.txt": done}, {}, time.time())
    assert [s.relpath for s in result.settling] == ["a.txt"]


def test_unchanged_gone_and_unknown_paths(tmp_path: Path) -> None:
    kept = write(tmp_path / "kept.txt", age=60)
    st = kept.stat()
    ledger = {"kept.txt": (st.st_size, st.st_mtime_ns), "gone.txt": (10, 1)}
    result = scan_paths(tmp_path, {"kept.txt": None, "gone.txt": None, "never.txt": None}, ledger, time.time())
    assert result.unchanged == 1 and not result.changed
    assert result.deleted == ["gone.txt"]  # never.txt came and went between two passes: nothing to record


def test_hidden_names_other_types_and_folders(tmp_path: Path) -> None:
    write(tmp_path / ".upload.txt.part", age=5)
    write(tmp_path / "~lock.txt", age=5)
    write(tmp_path / ".hidden" / "x.txt", age=5)
    write(tmp_path / "report.docx", age=5)
    (tmp_path / "2026").mkdir()
    paths: dict[str, float | None] = dict.fromkeys(
        [".upload.txt.part", "~lock.txt", ".hidden/x.txt", "report.docx", "2026"])
    result = scan_paths(tmp_path, paths, {}, time.time())
    assert not result.changed
    assert {s.relpath: r for s, r in result.skipped} == {
        "report.docx": ".docx files are not read: only plain-text .txt and .md files are (save it as .txt)"}
    assert result.rescan  # a folder: only a full scan can say what came with it


def test_symlinks_follow_the_scan_rules(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    write(seeds / "2026" / "x.txt", age=5)
    write(tmp_path / "outside.txt", age=5)
    (seeds / "latest.txt").symlink_to("2026/x.txt")
    (seeds / "passwd.txt").symlink_to(tmp_path / "outside.txt")
    # (a link not followed is judged by its own time, like any file: 10 s later it has settled)
    result = scan_paths(seeds, {"latest.txt": None, "passwd.txt": None}, {}, time.time() + 10)
    assert [(s.relpath, s.path) for s in result.changed] == [("latest.txt", str(seeds / "2026" / "x.txt"))]
    assert "outside the seed folder" in dict((s.relpath, r) for s, r in result.skipped)["passwd.txt"]


def test_a_missing_seed_folder_marks_nothing_deleted(tmp_path: Path) -> None:
    result = scan_paths(tmp_path / "unmounted", {"a.txt": None}, {"a.txt": (1, 1)}, time.time())
    assert result.missing and not result.deleted


def test_a_full_scan_also_spares_complete_files_the_wait(tmp_path: Path) -> None:
    write(tmp_path / "renamed.txt")
    write(tmp_path / "writing.txt")
    done = time.time()
    result = scan(tmp_path, {}, time.time(), complete={"renamed.txt": done})
    assert [s.relpath for s in result.changed] == ["renamed.txt"]
    assert [s.relpath for s in result.settling] == ["writing.txt"]


def test_scan_paths_agrees_with_scan(tmp_path: Path) -> None:
    """The same files give the same verdicts by either road (the ledger compare included)."""
    for i in range(5):
        write(tmp_path / f"sub{i % 2}" / f"f{i}.txt", f"{TEXT}Số {i}.\n", age=30)
    write(tmp_path / "empty.bin", age=30)
    full = scan(tmp_path, {}, time.time())
    rels = [s.relpath for s in full.changed] + [s.relpath for s, _ in full.skipped]
    picked = scan_paths(tmp_path, dict.fromkeys(rels), {}, time.time())
    assert [(s.relpath, s.size, s.mtime_ns) for s in picked.changed] == [
        (s.relpath, s.size, s.mtime_ns) for s in full.changed]
    assert picked.skipped == full.skipped
    again = scan_paths(tmp_path, dict.fromkeys(rels), ledger_of(full), time.time())
    assert again.unchanged == len(rels) and not again.changed and not again.skipped

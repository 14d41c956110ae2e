"""scan() and read_seed() on real folders with real files and symlinks: what is read, what is skipped and why."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from daemon.sources.folder import ScanResult, scan

TEXT = "Sáng 18-10, Văn phòng Thành ủy họp về công tác tham mưu. Hội nghị thống nhất nội dung.\n"


def later() -> float:
    """A scan time after every file here has settled."""
    return time.time() + 10


def files(folder: Path, n: int, prefix: str = "f") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"{prefix}{i:02d}.txt").write_text(f"{TEXT}Số {i}.\n", encoding="utf-8")


def changed(result: ScanResult) -> list[str]:
    return [s.relpath for s in result.changed]


def skipped(result: ScanResult) -> dict[str, str]:
    return {s.relpath: reason for s, reason in result.skipped}


def test_a_symlink_loop_costs_only_itself(tmp_path: Path) -> None:
    files(tmp_path, 20)
    (tmp_path / "a.txt").symlink_to("b.txt")
    (tmp_path / "b.txt").symlink_to("a.txt")
    (tmp_path / "gone.txt").symlink_to("nowhere.txt")
    result = scan(tmp_path, {}, later())
    assert changed(result) == [f"f{i:02d}.txt" for i in range(20)]
    reasons = skipped(result)
    assert set(reasons) == {"a.txt", "b.txt", "gone.txt"}
    assert "loop" in reasons["a.txt"] and "loop" in reasons["b.txt"]
    assert "broken symlink" in reasons["gone.txt"] and "nowhere.txt" in reasons["gone.txt"]


def test_a_skipped_link_is_unchanged_on_the_next_pass(tmp_path: Path) -> None:
    (tmp_path / "a.txt").symlink_to("a.txt")
    ((seed, _reason),) = scan(tmp_path, {}, later()).skipped
    again = scan(tmp_path, {seed.relpath: (seed.size, seed.mtime_ns)}, later())
    assert (again.skipped, again.unchanged) == ([], 1)


def test_a_folder_that_cannot_be_listed_is_an_error_and_its_siblings_are_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files(tmp_path / "locked", 2)
    files(tmp_path / "open", 2)
    real_scandir = os.scandir

    def scandir(path: str) -> object:  # EACCES cannot be produced here: the tests run as root
        if os.path.basename(path) == "locked":
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr("daemon.sources.folder.os.scandir", scandir)
    result = scan(tmp_path, {}, later())
    assert changed(result) == ["open/f00.txt", "open/f01.txt"]
    assert result.errors == ["locked/: folder cannot be listed: Permission denied"]

"""scan() and read_seed() on real folders with real files and symlinks: what is read, what is skipped and why."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.errors import SeedFileError
from daemon.sources.folder import ScanResult, SeedFile, read_seed, scan
from daemon.text.dates import VN_TZ

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


# -- symlinks: followed only inside the seed folder unless follow_symlinks -----------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder next to the seed folder, with one article and a subfolder."""
    files(tmp_path / "outside", 1, "o")
    files(tmp_path / "outside" / "dir", 1, "d")
    (tmp_path / "seeds").mkdir()
    return tmp_path / "outside"


def test_links_to_files_outside_are_skipped_and_named(tmp_path: Path, outside: Path) -> None:
    seeds = tmp_path / "seeds"
    (seeds / "passwd.txt").symlink_to("/etc/passwd")
    (seeds / "o.txt").symlink_to(outside / "o00.txt")
    (seeds / "rel.txt").symlink_to("../outside/o00.txt")
    (seeds / "ext").symlink_to(outside / "dir")
    result = scan(seeds, {}, later())
    assert changed(result) == []
    reasons = skipped(result)
    assert set(reasons) == {"passwd.txt", "o.txt", "rel.txt", "ext"}
    assert "file outside the seed folder (/etc/passwd)" in reasons["passwd.txt"]
    assert "folder outside the seed folder" in reasons["ext"] and "follow_symlinks" in reasons["ext"]
    # Described by the link itself: a link keeps its verdict until it (or the setting) changes.
    seed = next(s for s, _ in result.skipped if s.relpath == "passwd.txt")
    st = os.lstat(seeds / "passwd.txt")
    assert (seed.path, seed.size, seed.mtime_ns) == (str(seeds / "passwd.txt"), st.st_size, st.st_mtime_ns)


def test_follow_symlinks_reads_them_from_their_targets(tmp_path: Path, outside: Path) -> None:
    seeds = tmp_path / "seeds"
    (seeds / "o.txt").symlink_to(outside / "o00.txt")
    (seeds / "ext").symlink_to(outside / "dir")
    result = scan(seeds, {}, later(), follow_symlinks=True)
    assert changed(result) == ["ext/d00.txt", "o.txt"]
    by_rel = {s.relpath: s for s in result.changed}
    assert by_rel["o.txt"].path == os.path.realpath(outside / "o00.txt")
    assert by_rel["o.txt"].size == (outside / "o00.txt").stat().st_size
    doc, _sha = read_seed(by_rel["o.txt"], VN_TZ)
    assert doc.locator == "o.txt" and "Số 0" in doc.body


def test_links_inside_the_folder_are_followed_and_linked_folders_not_entered(tmp_path: Path) -> None:
    files(tmp_path / "sub", 1)
    (tmp_path / "alias.txt").symlink_to("sub/f00.txt")
    (tmp_path / "here").symlink_to(".")
    (tmp_path / "sub" / "up").symlink_to("..")
    (tmp_path / "again").symlink_to("sub")
    result = scan(tmp_path, {}, later())
    assert changed(result) == ["alias.txt", "sub/f00.txt"]
    assert result.skipped == []
    assert read_seed(result.changed[0], VN_TZ)[0].body == read_seed(result.changed[1], VN_TZ)[0].body


def test_loops_of_folder_links_end_and_each_folder_is_read_once(tmp_path: Path, outside: Path) -> None:
    seeds = tmp_path / "seeds"
    (outside / "dir" / "self").symlink_to(".")
    (outside / "dir" / "back").symlink_to("..")  # outside/, which holds dir/ and a link into seeds/
    (outside / "into-seeds").symlink_to(seeds)
    (seeds / "ext").symlink_to(outside / "dir")
    (seeds / "ext2").symlink_to(outside / "dir")
    (seeds / "up").symlink_to("..")  # tmp_path: outside/ and seeds/ again
    files(seeds, 1)
    result = scan(seeds, {}, later(), follow_symlinks=True)
    rels = changed(result)
    read = sorted(os.path.realpath(s.path) for s in result.changed)
    assert len(read) == len(set(read)), rels  # no file twice, whichever way it was reached
    assert set(read) == {os.path.realpath(p) for p in (outside / "o00.txt", outside / "dir" / "d00.txt",
                                                        seeds / "f00.txt")}
    assert "f00.txt" in rels
    loops = {rel for rel, reason in skipped(result).items() if "scanned already" in reason}
    assert {"ext/self", "ext2"} <= loops or {"ext2/self", "ext"} <= loops, skipped(result)


def test_a_file_swapped_for_a_symlink_after_the_scan_is_not_followed(tmp_path: Path) -> None:
    files(tmp_path, 1)
    (tmp_path / "secret").write_text("Mật khẩu: hoa-sen-57.\n", encoding="utf-8")
    (seed,) = scan(tmp_path / "", {}, later()).changed
    os.unlink(seed.path)
    os.symlink(tmp_path / "secret", seed.path)
    with pytest.raises(SeedFileError, match="became a symlink"):
        read_seed(seed, VN_TZ)


def test_a_pipe_named_like_a_seed_file_is_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    os.utime(tmp_path / "pipe.txt", (time.time() - 5, time.time() - 5))
    result = scan(tmp_path, {}, later())
    assert result.changed == []
    fake = SeedFile(str(tmp_path / "pipe.txt"), "pipe.txt", 0, 0)  # as if it became a pipe after the scan
    with pytest.raises(SeedFileError, match="not a regular file"):
        read_seed(fake, VN_TZ)


# -- other file types ----------------------------------------------------------------------------------


def test_files_of_other_types_are_skipped_with_their_type(tmp_path: Path) -> None:
    files(tmp_path, 1)
    (tmp_path / "report.docx").write_bytes(b"PK\x03\x04")
    (tmp_path / "Thumbs.DB").write_bytes(b"\x00")
    (tmp_path / "README").write_text("ghi chú", encoding="utf-8")
    (tmp_path / "UPPER.TXT").write_text(TEXT, encoding="utf-8")
    (tmp_path / "docs").symlink_to("report.docx")
    os.mkfifo(tmp_path / "pipe.txt")
    result = scan(tmp_path, {}, later())
    assert changed(result) == ["UPPER.TXT", "f00.txt"]
    reasons = skipped(result)
    assert set(reasons) == {"report.docx", "Thumbs.DB", "README", "docs", "pipe.txt"}
    assert reasons["report.docx"].startswith(".docx files are not read")
    assert reasons["README"].startswith("no .txt or .md suffix")
    assert reasons["pipe.txt"].startswith("not a regular file")
    ledger = {s.relpath: (s.size, s.mtime_ns) for s, _ in result.skipped}
    again = scan(tmp_path, ledger, later())
    assert (again.skipped, again.unchanged) == ([], 5)


# -- deleted files -------------------------------------------------------------------------------------


def test_files_gone_from_the_folder_are_reported_deleted(tmp_path: Path) -> None:
    files(tmp_path / "sub", 3)
    (tmp_path / "skipped.docx").write_bytes(b"PK")
    first = scan(tmp_path, {}, later())
    ledger = {s.relpath: (s.size, s.mtime_ns) for s in first.changed} | {
        s.relpath: (s.size, s.mtime_ns) for s, _ in first.skipped}
    (tmp_path / "sub" / "f01.txt").unlink()
    (tmp_path / "skipped.docx").unlink()
    (tmp_path / "sub" / "f02.txt").rename(tmp_path / "sub" / ".f02.txt")  # hidden now: not in the folder
    result = scan(tmp_path, ledger, later())
    assert result.deleted == ["skipped.docx", "sub/f01.txt", "sub/f02.txt"]
    assert (result.unchanged, result.changed) == (1, [])


def test_nothing_under_a_folder_that_cannot_be_listed_is_deleted(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    files(tmp_path / "locked", 2)
    files(tmp_path / "open", 1)
    ledger = {s.relpath: (s.size, s.mtime_ns) for s in scan(tmp_path, {}, later()).changed}
    real_scandir = os.scandir

    def scandir(path: str) -> object:  # EACCES cannot be produced here: the tests run as root
        if os.path.basename(path) == "locked" or (path == str(tmp_path) and refuse_root):
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr("daemon.sources.folder.os.scandir", scandir)
    refuse_root = False
    assert scan(tmp_path, ledger, later()).deleted == []
    (tmp_path / "open" / "f00.txt").unlink()
    assert scan(tmp_path, ledger, later()).deleted == ["open/f00.txt"]
    refuse_root = True
    result = scan(tmp_path, ledger, later())
    assert result.deleted == [] and result.errors[0].startswith(f"seed folder {tmp_path}: folder cannot be listed")


def test_a_file_dated_in_the_future_is_read_not_left_settling(tmp_path: Path) -> None:
    """A copy from a machine whose clock is ahead would otherwise wait for ever (and --once for 60 s)."""
    files(tmp_path, 2)
    now = time.time()
    ahead = now + 3600
    os.utime(tmp_path / "f00.txt", (ahead, ahead))
    result = scan(tmp_path, {}, now + 5)
    assert changed(result) == ["f00.txt", "f01.txt"] and result.settling == []
    just_written = now + 5 + 0.5  # half a second "ahead": file-system time stamps can run a little fast
    os.utime(tmp_path / "f01.txt", (just_written, just_written))
    assert [s.relpath for s in scan(tmp_path, {}, now + 5).settling] == ["f01.txt"]


def test_a_file_taken_away_between_the_scan_and_its_reading_is_no_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """A drop box with another reader: the file listed by the scan is gone when it is opened. No warning, no
    ledger row (which the next pass would then report "gone from the folder"); the other files are read."""
    import logging

    import daemon.pipeline
    from daemon.config import loads
    from daemon.pipeline import Pipeline
    from daemon.sources.folder import GONE
    from daemon.store import Store

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name in ("stays.txt", "taken.txt"):
        (seeds / name).write_text(f"title: {name}\n\nBài viết {name} về công tác văn phòng.\n", encoding="utf-8")
        os.utime(seeds / name, (time.time() - 10, time.time() - 10))
    with pytest.raises(SeedFileError) as gone:
        read_seed(SeedFile(str(seeds / "nowhere.txt"), "nowhere.txt", 10, 1), VN_TZ)
    assert gone.value.reason == GONE
    real = daemon.pipeline.process_seeds

    def taken_first(seeds_: list[SeedFile], *args: object, **kwargs: object) -> object:
        (seeds / "taken.txt").unlink()  # after the scan listed it, before it is read
        return real(seeds_, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(daemon.pipeline, "process_seeds", taken_first)
    config = loads(f'[storage]\npath = "{tmp_path / "news.db"}"\n[seeds]\npath = "{seeds}"\n', tmp_path / "c.toml")
    pipeline = Pipeline(config, Store(config.db_path, config.tz))
    caplog.set_level(logging.INFO)
    report = pipeline.scan_seeds()
    assert report.new == 1 and report.skipped == 0 and report.errors == []
    assert "taken.txt" not in caplog.text, caplog.text
    monkeypatch.setattr(daemon.pipeline, "process_seeds", real)
    pipeline.scan_seeds()
    assert "gone from the folder" not in caplog.text and "taken.txt" not in caplog.text, caplog.text
    with pipeline.store.read() as conn:
        assert [r[0] for r in conn.execute("SELECT path FROM seed_files")] == ["stays.txt"]


@settings(max_examples=300, deadline=None)
@given(length=st.integers(0, 40), size=st.integers(0, 40), limit=st.integers(0, 20))
def test_a_bounded_read_is_one_read_to_the_limit(length: int, size: int, limit: int) -> None:
    """Whatever size fstat said (the file may have grown or shrunk since), the bytes are those of one read
    of ``MAX_SEED_BYTES + 1``, which the reader used to ask for at once."""
    import io

    from daemon.sources import folder

    data = bytes(range(length))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(folder, "MAX_SEED_BYTES", limit)
        got = folder._read_bounded(io.BufferedReader(io.BytesIO(data), buffer_size=8), size)
    assert got == data[: limit + 1]


def test_a_seed_grown_past_the_limit_is_refused(tmp_path: Path) -> None:
    from daemon.sources.seedfile import MAX_SEED_BYTES

    path = tmp_path / "a.txt"
    path.write_bytes(b"x" * 10)
    seed = SeedFile(str(path), "a.txt", 10, path.stat().st_mtime_ns)
    path.write_bytes(b"Hoa binh " * (MAX_SEED_BYTES // 9 + 1))  # grown after the scan saw 10 bytes
    with pytest.raises(SeedFileError, match="too large"):
        read_seed(seed, VN_TZ)

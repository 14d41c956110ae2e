"""Issue 2 acceptance, end to end through the real CLI and a real SQLite file."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

from tests.helpers import to_cp1258

Run = Callable[..., subprocess.CompletedProcess[str]]


def settle(folder: Path) -> None:
    """Date new files 5 s back: a file modified within the last second is left for the next pass."""
    old = time.time() - 5
    for f in folder.rglob("*.*"):
        if not f.name.startswith("0"):
            os.utime(f, (old, old))


def db(project: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(project / "state" / "news.db")
    conn.row_factory = sqlite3.Row
    return conn


def test_run_once_twice_leaves_exactly_five_articles(project: Path, run_cli: Run) -> None:
    run_cli("run", "--once")
    run_cli("run", "--once")
    with db(project) as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 5
        assert conn.execute("SELECT count(*) FROM sightings").fetchone()[0] == 5
        rows = {r["locator"]: r for r in conn.execute(
            "SELECT s.locator, a.* FROM articles a JOIN sightings s ON s.article_id = a.id")}
    by_prefix = {name[:3]: row for name, row in rows.items()}
    assert by_prefix["000"]["published_at"].startswith("2026-01-10")
    assert by_prefix["001"]["published_at"].startswith("2026-01-15")
    assert by_prefix["002"]["published_at"].startswith("2025-11-25")
    assert by_prefix["003"]["published_at"] == "2024-10-18T19:14:00+07:00"
    assert by_prefix["003"]["title"] == ("Làm tốt công tác tham mưu, tổng hợp phục vụ lãnh đạo các cấp trong chỉ đạo,"
                                         " điều hành")
    assert by_prefix["003"]["category"] == "Chính trị"
    assert by_prefix["004"]["published_at"].startswith("2025-12-25")
    for row in rows.values():
        assert 0 < len(row["title"]) <= 200
        assert row["content_hash"].startswith("v2:")
        assert row["ingested_at"].endswith("+07:00")
        assert unicodedata.is_normalized("NFC", row["body"])


def test_copies_and_reencodings_are_the_same_article(project: Path, run_cli: Run) -> None:
    run_cli("run", "--once")
    seeds = project / "seeds"
    sample = sorted(seeds.glob("000_*.txt"))[0]
    text = sample.read_text(encoding="utf-8")
    shutil.copy(sample, seeds / "copy-under-another-name.txt")
    (seeds / "nfd.txt").write_text(unicodedata.normalize("NFD", text), encoding="utf-8")
    (seeds / "utf16.txt").write_text(text, encoding="utf-16")
    (seeds / "utf8-bom.txt").write_text(text, encoding="utf-8-sig")
    (seeds / "crlf.txt").write_bytes(text.replace("\n", "\r\n").encode())
    (seeds / "old-tones.txt").write_text(text.replace("hòa", "hoà").replace("ủy", "uỷ"), encoding="utf-8")
    (seeds / "cp1258.txt").write_bytes(to_cp1258(text))
    (seeds / "sub").mkdir()
    (seeds / "sub" / "nested.md").write_text(text, encoding="utf-16-be")
    settle(seeds)
    run_cli("run", "--once")
    with db(project) as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 5
        sightings = conn.execute(
            "SELECT locator FROM sightings s JOIN articles a ON a.id = s.article_id WHERE a.content_hash ="
            " (SELECT content_hash FROM articles WHERE id = (SELECT article_id FROM sightings WHERE locator = ?))",
            (sample.name,)).fetchall()
        assert {r[0] for r in sightings} == {sample.name, "copy-under-another-name.txt", "nfd.txt", "utf16.txt",
                                             "utf8-bom.txt", "crlf.txt", "old-tones.txt", "cp1258.txt",
                                             "sub/nested.md"}
        statuses = dict(conn.execute("SELECT path, status FROM seed_files").fetchall())
        assert statuses["cp1258.txt"] == "duplicate"
        assert statuses[sample.name] == "ingested"


def test_bad_files_are_skipped_recorded_and_do_not_stop_the_pass(project: Path, run_cli: Run) -> None:
    seeds = project / "seeds"
    (seeds / "empty.txt").write_bytes(b"")
    (seeds / "blank.txt").write_bytes(b"  \n\n \t\n")
    (seeds / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20)
    (seeds / "huge.txt").write_bytes(b"a " * (3 * 1024 * 1024))
    (seeds / "zz-good.txt").write_text("title: Tin mới\n\nMột bài viết mới về Nghị quyết 57.\n", encoding="utf-8")
    settle(seeds)
    proc = run_cli("run", "--once")
    with db(project) as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 6
        skipped = dict(conn.execute("SELECT path, reason FROM seed_files WHERE status = 'skipped'").fetchall())
    assert set(skipped) == {"empty.txt", "blank.txt", "image.txt", "huge.txt"}
    for name in skipped:
        assert sum(name in line for line in proc.stderr.splitlines()) == 1, proc.stderr
    # Skipped files are not retried until they change.
    proc = run_cli("run", "--once")
    assert "empty.txt" not in proc.stderr


def test_search_is_diacritic_insensitive_and_safe(project: Path, run_cli: Run) -> None:
    run_cli("run", "--once")
    found = json.loads(run_cli("search", "nghi quyet 57", "--json").stdout)
    assert found and found[0]["title"].startswith("Trao Bằng khen")
    assert "«" in found[0]["snippet"]
    with_marks = json.loads(run_cli("search", "Nghị quyết 57", "--json").stdout)
    assert [h["id"] for h in with_marks] == [h["id"] for h in found]
    for nasty in ['C++', '"unbalanced', "NEAR(", "a AND OR", "'; DROP TABLE articles; --", "đ"]:
        proc = run_cli("search", nasty)
        assert proc.returncode == 0, proc.stderr
    proc = run_cli("search", "*", check=False)  # no word at all: a usage error, not "no article matches"
    assert proc.returncode == 2 and "nothing to search for" in proc.stderr, proc.stderr
    text = run_cli("search", "van phong thanh uy").stdout
    assert "Văn phòng Thành ủy" in text


def test_sqlite_utils_search_finds_dang_bo_both_ways(project: Path, run_cli: Run) -> None:
    run_cli("run", "--once")
    dbfile = str(project / "state" / "news.db")
    exe = Path(sys.executable).with_name("sqlite-utils")
    for query in ("dang bo", "đảng bộ"):
        proc = subprocess.run([str(exe), "search", dbfile, "articles", query, "-c", "title"],
                              capture_output=True, text=True, check=True)
        titles = [row["title"] for row in json.loads(proc.stdout)]
        assert any(t.startswith("Trao Bằng khen") for t in titles), (query, titles)
        assert len(titles) >= 3, (query, titles)


def test_rules_match_the_samples_and_queue_no_alert_without_webhooks(project: Path, run_cli: Run) -> None:
    cfg = project / "config.toml"
    cfg.write_text(cfg.read_text() + '[[rules]]\nname = "nq57"\nkeywords = ["Nghị quyết 57"]\n'
                   '[[rules]]\nname = "ct34"\nkeywords = ["Chỉ thị 34"]\n')
    run_cli("run", "--once")
    with db(project) as conn:
        hits = {(r[0], r[1][:3]) for r in conn.execute(
            "SELECT m.rule, s.locator FROM matches m JOIN sightings s ON s.article_id = m.article_id")}
        assert hits == {("nq57", "000"), ("ct34", "003")}
        assert conn.execute("SELECT count(*) FROM alerts").fetchone()[0] == 0

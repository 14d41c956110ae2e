"""A small corpus where folding merges different words (đã/Đà, đang/Đảng), shared by the search tests."""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from pathlib import Path

from tests.helpers import cli_env, write_config

# name -> (title, date, body); ids follow name order (the seed scan reads files in path order).
ARTICLES = {
    "1-danang": ("Du lịch Đà Nẵng", "2026-01-05 08:00", "Thành phố Đà Nẵng đón khách quốc tế."),
    "2-dauy": ("Đảng ủy họp", "2026-01-04 08:00", "Đảng ủy đã họp, đang bàn cách nâng cao chất lượng."),
    "3-dangbo": ("Đại hội Đảng bộ", "2026-01-03 08:00", "Đại hội Đảng bộ tỉnh. Tỉnh ủy Quảng Nam chỉ đạo."),
    "4-nhamay": ("Nhà máy đang chạy", "2026-01-02 08:00", "Nhà máy đang chạy hết công suất, chuyển đổi số."),
    "5-hoabinh": ("Hoà bình", "2026-01-01 08:00", "Hoà bình và hợp tác, chuyển giao công nghệ."),
    "6-lead": ("", "2025-12-31 08:00", "Đà Nẵng mở rộng sân bay. Công trình khởi công tháng sau."),
}
ID = {name: i for i, name in enumerate(ARTICLES, start=1)}
NFD_HOA = unicodedata.normalize("NFD", "hòa")


def make_corpus(folder: Path) -> Path:
    """A project folder with the corpus ingested by a real `run --once`; returns the database path."""
    (folder / "seeds").mkdir()
    (folder / "state").mkdir()
    for name, (title, date, body) in ARTICLES.items():
        header = (f"title: {title}\n" if title else "") + f"date: {date}\n\n"
        path = folder / "seeds" / f"{name}.txt"
        path.write_text(header + body + "\n", encoding="utf-8")
        os.utime(path, (1_795_000_000, 1_795_000_000))
    write_config(folder)
    subprocess.run([sys.executable, "-m", "daemon", "--config", str(folder / "config.toml"), "run", "--once"],
                   capture_output=True, text=True, timeout=120, env=cli_env(), cwd=folder, check=True)
    return folder / "state" / "news.db"

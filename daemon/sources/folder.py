"""The seed folder: plain ``.txt``/``.md`` files people (or other tools) drop in.

A re-scan must stay cheap with thousands of files, so the scan only ``stat``s: a file whose size and
modification time match the ledger is not read again. A file modified within the last second may still
be being written; it waits for the next pass instead of being ingested half-written.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from daemon.errors import SeedFileError
from daemon.models import Document
from daemon.sources.seedfile import MAX_SEED_BYTES, parse_seed

SUFFIXES = (".txt", ".md")
SETTLE_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class SeedFile:
    path: str  # as the OS gives it (a str, not a Path: a scan makes one per file, and workers get them)
    relpath: str  # POSIX-style, relative to the seeds folder: the ledger key and the sighting locator
    size: int
    mtime_ns: int


@dataclass(slots=True)
class ScanResult:
    changed: list[SeedFile] = field(default_factory=list)  # new or modified since the ledger saw them
    settling: list[SeedFile] = field(default_factory=list)  # modified too recently; next pass
    unchanged: int = 0
    missing: bool = False  # the folder itself does not exist


def _walk(root: str) -> Iterator[os.DirEntry[str]]:
    stack = [root]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    if entry.name.startswith((".", "~")):
                        continue  # hidden files, editor swap files, partial downloads
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.name.lower().endswith(SUFFIXES) and entry.is_file():
                        yield entry
        except OSError:
            continue


def scan(root: Path, ledger: Mapping[str, tuple[int, int]], now: float,
         settle: float = SETTLE_SECONDS) -> ScanResult:
    """Compare the folder with the ledger using ``stat`` only; never reads file contents."""
    result = ScanResult()
    if not root.is_dir():
        result.missing = True
        return result
    top = os.fspath(root)
    prefix = len(os.path.join(top, ""))  # entry paths are the root joined with the relative path
    for entry in _walk(top):
        try:
            st = entry.stat()
        except OSError:
            continue
        rel = entry.path[prefix:].replace(os.sep, "/")
        if ledger.get(rel) == (st.st_size, st.st_mtime_ns):
            result.unchanged += 1
            continue
        seed = SeedFile(entry.path, rel, st.st_size, st.st_mtime_ns)
        if now - st.st_mtime_ns / 1e9 < settle:
            result.settling.append(seed)
        else:
            result.changed.append(seed)
    result.changed.sort(key=lambda s: s.relpath)
    return result


def read_seed(seed: SeedFile, tz: ZoneInfo) -> tuple[Document, str]:
    """Read and parse one seed file; returns the document and the SHA-256 of its bytes.

    Raises ``SeedFileError`` (with the relative path as source) for anything that is not an article.
    """
    if seed.size > MAX_SEED_BYTES:
        raise SeedFileError(seed.relpath, f"too large ({seed.size:,} bytes, limit {MAX_SEED_BYTES:,})")
    try:
        with open(seed.path, "rb") as file:
            raw = file.read()
    except OSError as exc:
        raise SeedFileError(seed.relpath, f"unreadable: {exc.strerror or exc}") from None
    mtime = datetime.fromtimestamp(seed.mtime_ns / 1e9, tz)
    doc = parse_seed(raw, relpath=seed.relpath, mtime=mtime, tz=tz)
    return doc, hashlib.sha256(raw).hexdigest()

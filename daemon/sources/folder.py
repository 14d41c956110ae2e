"""The seed folder: plain ``.txt``/``.md`` files people (or other tools) drop in.

A re-scan must stay cheap with thousands of files, so the scan only ``stat``s: a file whose size and
modification time match the ledger is not read again. A file modified within the last second may still
be being written; it waits for the next pass instead of being ingested half-written.

One bad entry costs only itself: a symlink loop, a broken link, a file of another type (``.docx``) is
reported and recorded in the ledger, so once per file, not once per pass; a folder that cannot be listed
is reported on every pass. The scan goes on with the siblings.

Symlinks are followed only to targets inside the seed folder: a link to ``/etc/passwd`` dropped in by
mistake (or by someone else) must not become a searchable article. ``follow_symlinks`` lifts that for
installations that link other folders in on purpose. A linked folder inside the seed folder is not
entered (its files are scanned where they are), and with ``follow_symlinks`` each folder is entered once
(by device and inode), so a loop of folder links ends and nothing is read twice.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from daemon.errors import SeedFileError
from daemon.models import Document
from daemon.sources.seedfile import MAX_SEED_BYTES, parse_seed

SUFFIXES = (".txt", ".md")
SETTLE_SECONDS = 1.0
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True, slots=True)
class SeedFile:
    path: str  # as the OS gives it (a str, not a Path: a scan makes one per file, and workers get them)
    relpath: str  # POSIX-style, relative to the seeds folder: the ledger key and the sighting locator
    size: int
    mtime_ns: int

    def to_wire(self) -> tuple[str, str, int, int]:
        """A plain tuple for worker processes (``daemon.models.Wire`` says why)."""
        return self.path, self.relpath, self.size, self.mtime_ns

    @classmethod
    def from_wire(cls, wire: tuple[str, str, int, int]) -> SeedFile:
        return cls(*wire)


@dataclass(slots=True)
class ScanResult:
    changed: list[SeedFile] = field(default_factory=list)  # new or modified since the ledger saw them
    settling: list[SeedFile] = field(default_factory=list)  # modified too recently; next pass
    skipped: list[tuple[SeedFile, str]] = field(default_factory=list)  # not to be read, and why
    deleted: list[str] = field(default_factory=list)  # in the ledger, gone from the folder
    errors: list[str] = field(default_factory=list)  # folders not listed, entries not stat'ed (every pass)
    unchanged: int = 0
    missing: bool = False  # the folder itself does not exist
    rescan: bool = False  # scan_paths met a folder: only a full scan can say what is in it
    settle_at: float | None = None  # epoch seconds when the first of the settling files may be read


def scan(root: Path, ledger: Mapping[str, tuple[int, int]], now: float,
         settle: float = SETTLE_SECONDS, *, follow_symlinks: bool = False,
         complete: Mapping[str, float | None] | None = None) -> ScanResult:
    """Compare the folder with the ledger using ``stat`` only; never reads file contents.

    What the ledger has and the folder no longer shows is ``deleted``, except under a folder that could
    not be listed (its files may well be there) and when the seed folder itself is missing (an unmounted
    share must not mark the whole archive deleted).

    A regular file costs one ``stat`` and nothing more (its type comes with the listing); symlinks, rare,
    are resolved one by one. ``complete``: what the watcher knows of files it saw written (``scan_paths``).
    """
    known = complete or {}
    result = ScanResult()
    if not root.is_dir():
        result.missing = True
        return result
    top = os.fspath(root)
    prefix = len(os.path.join(top, ""))  # entry paths are the root joined with the relative path
    real_top = os.path.realpath(top)
    entered = {_folder_id(os.stat(top))} if follow_symlinks else set()
    remaining = dict(ledger)  # what is left once the scan has seen its files: the deleted ones
    unlisted: list[str] = []  # folders (relative, with "/"; "" for the seed folder) not listed in full
    stack = [top]
    pop = remaining.pop
    while stack:
        folder = stack.pop()
        # Entry paths are the folder joined with the name; the relative one is built from a prefix.
        base = folder[prefix:].replace(os.sep, "/") + "/" if len(folder) > len(top) else ""
        try:
            with _listing(folder) as listing:
                for entry in listing:
                    name = entry.name
                    if name[0] in ".~":
                        continue  # hidden files, editor swap files, partial downloads
                    reason: str | None = None
                    path = f"{folder}{os.sep}{name}"
                    rel = base + name
                    try:
                        if entry.is_symlink():
                            link = _follow_link(path, real_top, follow_symlinks, entered, stack)
                            if link is None:
                                continue  # a folder: queued, or scanned where it is
                            st, reason, path = link
                        elif entry.is_dir(follow_symlinks=False):
                            if follow_symlinks:  # a folder reached through a link already is not entered again
                                key = _folder_id(entry.stat(follow_symlinks=False))
                                if key in entered:
                                    continue
                                entered.add(key)
                            stack.append(path)
                            continue
                        else:
                            st = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue  # gone between the listing and the stat
                    except OSError as exc:  # (an I/O error): not deleted, but not readable either
                        remaining.pop(rel, None)
                        result.errors.append(f"{rel}: cannot stat: {exc.strerror or exc}")
                        continue
                    if pop(rel, None) == (st.st_size, st.st_mtime_ns):
                        result.unchanged += 1  # (a file skipped before included: it is reported once)
                        continue
                    _classify(result, SeedFile(path, rel, st.st_size, st.st_mtime_ns), st.st_mode, reason,
                              now=now, settle=settle, complete=known.get(rel))
        except OSError as exc:  # unreadable, or the listing broke off: what was listed is kept
            # Reported on every pass (like a missing folder): the files in it cannot be seen until fixed.
            where = folder[prefix:].replace(os.sep, "/") + "/" if len(folder) >= prefix else ""
            unlisted.append(where)
            result.errors.append(f"{where or f'seed folder {folder}'}: folder cannot be listed: {exc.strerror or exc}")
    if remaining:
        kept = tuple(unlisted)
        result.deleted = sorted(p for p in remaining if not (kept and p.startswith(kept)))
    result.changed.sort(key=lambda s: s.relpath)
    result.skipped.sort(key=lambda s: s[0].relpath)
    return result


@contextmanager
def _listing(folder: str) -> Iterator[Iterator[os.DirEntry[str]]]:
    """``os.scandir`` through the folder's descriptor where the OS allows it: each entry's ``stat`` is then
    an ``fstatat`` of its name, not a walk of its whole path (a tenth less system time at 200,000 files)."""
    if os.scandir not in os.supports_fd:
        with os.scandir(folder) as entries:
            yield entries
        return
    fd = os.open(folder, _DIR_FLAGS)
    try:
        with os.scandir(fd) as by_fd:
            yield by_fd
    finally:
        os.close(fd)


def scan_paths(root: Path, paths: Mapping[str, float | None], ledger: Mapping[str, tuple[int, int]], now: float,
               settle: float = SETTLE_SECONDS, *, follow_symlinks: bool = False) -> ScanResult:
    """``scan`` of only these paths (relative, POSIX: what the watcher said changed), against their
    ledger entries (``ledger`` may hold only those).

    Each path maps to the time from which it is known complete (renamed into place; closed by its writer,
    plus a quiet moment in case it reopens it), or None. A file not modified since is read from then,
    however recently it was written; the others settle as in ``scan``. A path that is gone is
    ``deleted`` if the ledger has it. A path that turns out to be a folder (or a link to one outside the
    seed folder, with ``follow_symlinks``) cannot be scanned here: ``rescan`` says a full scan is needed.
    """
    result = ScanResult()
    if not root.is_dir():
        result.missing = True
        return result
    top = os.fspath(root)
    real_top = os.path.realpath(top)
    for rel, complete in sorted(paths.items()):
        if hidden(rel):
            continue
        path = os.path.join(top, *rel.split("/"))
        try:
            st = os.lstat(path)
            reason: str | None = None
            if stat.S_ISDIR(st.st_mode):
                result.rescan = True
                continue
            if stat.S_ISLNK(st.st_mode):
                queued: list[str] = []
                link = _follow_link(path, real_top, follow_symlinks, set(), queued)
                if link is None:
                    result.rescan = result.rescan or bool(queued)
                    continue
                st, reason, path = link
        except (FileNotFoundError, NotADirectoryError):
            if rel in ledger:
                result.deleted.append(rel)
            continue
        except OSError as exc:
            result.errors.append(f"{rel}: cannot stat: {exc.strerror or exc}")
            continue
        if ledger.get(rel) == (st.st_size, st.st_mtime_ns):
            result.unchanged += 1
            continue
        _classify(result, SeedFile(path, rel, st.st_size, st.st_mtime_ns), st.st_mode, reason, now=now,
                  settle=settle, complete=complete)
    return result


def hidden(relpath: str) -> bool:
    """Names the scan never reads (``.part`` uploads, ``~`` editor files), in any folder on the path."""
    return any(part.startswith((".", "~")) for part in relpath.split("/"))


def _classify(result: ScanResult, seed: SeedFile, mode: int, reason: str | None, *, now: float, settle: float,
              complete: float | None) -> None:
    """Where a new or changed entry goes: to read, to skip (and why), or to wait for."""
    if reason is None:
        if not seed.relpath.rsplit("/", 1)[-1].lower().endswith(SUFFIXES):
            reason = _not_read(seed.relpath.rsplit("/", 1)[-1])
        elif not stat.S_ISREG(mode):
            reason = "not a regular file (a pipe, socket or device)"
    modified = seed.mtime_ns / 1e9
    # Modified just now: it may still be being written, unless it was known complete (renamed into place,
    # or closed by its writer) since. A time further ahead than that is a wrong clock (a copy from
    # another machine), not a write in progress: waiting for it to settle would wait for ever.
    if complete is not None and modified <= complete:
        if now < complete:  # complete as of a moment still to come (a closed file's quiet time)
            _hold(result, seed, complete)
            return
    elif -settle < now - modified < settle:
        _hold(result, seed, modified + settle)
        return
    if reason is not None:
        result.skipped.append((seed, reason))
    else:
        result.changed.append(seed)


def _hold(result: ScanResult, seed: SeedFile, until: float) -> None:
    result.settling.append(seed)
    result.settle_at = until if result.settle_at is None else min(result.settle_at, until)


def _follow_link(path: str, real_top: str, follow: bool, entered: set[tuple[int, int]],
                 stack: list[str]) -> tuple[os.stat_result, str | None, str] | None:
    """What a symlink is: a file to read (its target's stat, no reason, the resolved target, which is
    opened without following links), one to skip (the link's own stat, the reason, the link), or ``None``
    for a folder, queued or scanned where it is.

    A link that is not followed is described by its own ``lstat``: it is reported once, not on every pass,
    and again when the link or the setting changes.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        own = os.lstat(path)
        if exc.errno == errno.ELOOP:
            return own, "symlink loop (the link leads back to itself)", path
        if exc.errno == errno.ENOENT:
            return own, f"broken symlink (its target {os.readlink(path)} does not exist)", path
        return own, f"symlink cannot be followed: {exc.strerror or exc}", path
    target = os.path.realpath(path)
    inside = target == real_top or target.startswith(os.path.join(real_top, ""))
    folder = stat.S_ISDIR(st.st_mode)
    if not inside and not follow:
        return (os.lstat(path), f"symlink to a {'folder' if folder else 'file'} outside the seed folder ({target});"
                " not followed unless [seeds] follow_symlinks = true", path)
    if not folder:
        return st, None, target
    if inside:
        return None
    if _folder_id(st) in entered:
        return os.lstat(path), "symlink to a folder scanned already (a loop of folder links)", path
    entered.add(_folder_id(st))
    stack.append(path)
    return None


def _not_read(name: str) -> str:
    """Why a file of another type is skipped: someone dropped it here expecting it to be read."""
    suffix = os.path.splitext(name)[1]
    if suffix:
        return f"{suffix} files are not read: only plain-text .txt and .md files are (save it as .txt)"
    return "no .txt or .md suffix: not read (rename it if it is plain text)"


def _folder_id(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


def read_seed(seed: SeedFile, tz: ZoneInfo) -> tuple[Document, str]:
    """Read and parse one seed file; returns the document and the SHA-256 of its bytes.

    Raises ``SeedFileError`` (with the relative path as source) for anything that is not an article.
    """
    if seed.size > MAX_SEED_BYTES:
        raise SeedFileError(seed.relpath, f"too large ({seed.size:,} bytes, limit {MAX_SEED_BYTES:,})")
    try:
        # The scan decided on what it saw; a file swapped for a symlink (or a pipe) since then is refused
        # here rather than followed (or waited on forever). A followed link's path is its resolved target.
        fd = os.open(seed.path, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SeedFileError(seed.relpath, "became a symlink after the scan; looked at again next time") from None
        raise SeedFileError(seed.relpath, f"unreadable: {exc.strerror or exc}") from None
    with open(fd, "rb") as file:
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise SeedFileError(seed.relpath, "not a regular file")
            raw = file.read(MAX_SEED_BYTES + 1)  # grown since the scan: parse_seed refuses it, unread to the end
        except OSError as exc:
            raise SeedFileError(seed.relpath, f"unreadable: {exc.strerror or exc}") from None
    mtime = datetime.fromtimestamp(seed.mtime_ns / 1e9, tz)
    doc = parse_seed(raw, relpath=seed.relpath, mtime=mtime, tz=tz)
    return doc, hashlib.sha256(raw).hexdigest()

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

``rescan`` is the cheap safety net (issue 16): a folder whose own (device, inode, mtime, ctime) is what the
last listing of it saw has had no entry added, removed or renamed since, so its files are not listed nor
``stat``ed; only the folders that changed are, against their own ledger rows. A file rewritten in place
changes no folder: the watcher sees that, and ``scan`` (every file ``stat``ed) is still run now and then.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
from collections.abc import Callable, Iterator, Mapping
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
# A folder modified this recently when it was listed may be modified again within the same tick of the
# file system's clock (coarse on Linux, 2 s on FAT, the server's on NFS) without its time changing: it is
# listed again by the next ``rescan`` instead of being trusted.
RECENT_FOLDER = 2.0
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
    folders: dict[str, FolderState] = field(default_factory=dict)  # what the listings saw, for ``rescan``
    listed: int = 0  # folders listed (``rescan``: those that changed or are new)
    kept: int = 0  # folders ``rescan`` did not list: unchanged since their last listing
    kept_files: int = 0  # the files in those, neither listed nor stat'ed


@dataclass(frozen=True, slots=True)
class FolderState:
    """What the last listing of one folder saw; ``rescan`` skips the folder while ``stamp`` still holds."""

    stamp: tuple[int, int, int, int] | None  # st_dev, st_ino, st_mtime_ns, st_ctime_ns; None: list it again
    subfolders: tuple[str, ...]  # the folders it holds, as the scan enters them (entered even when skipped)
    files: int  # the other entries it held (counted, not trusted: a skipped folder's files are not looked at)


@dataclass(slots=True)
class FolderMemory:
    """The folders of one seed folder as its last scan saw them, kept by the service between passes (a
    start, an overflow, a moved folder scan every file anyway, and refill it). ``rescan`` needs it
    complete: filled by a ``scan`` of this root, and updated only by passes that finished."""

    root: str = ""
    folders: dict[str, FolderState] = field(default_factory=dict)

    def usable_for(self, root: Path) -> bool:
        return bool(self.folders) and self.root == os.fspath(root)

    def keep(self, root: Path, result: ScanResult) -> None:
        self.root, self.folders = os.fspath(root), result.folders

    def forget(self) -> None:
        self.root, self.folders = "", {}


# The ledger rows directly in a folder (relative, ending in "/"; "" for the seed folder), or with ``True``
# in it and every folder under it: ``Store.ledger_in``.
LedgerIn = Callable[[str, bool], Mapping[str, tuple[int, int]]]


def scan(root: Path, ledger: Mapping[str, tuple[int, int]], now: float,
         settle: float = SETTLE_SECONDS, *, follow_symlinks: bool = False,
         complete: Mapping[str, float | None] | None = None) -> ScanResult:
    """Compare the folder with the ledger using ``stat`` only; never reads file contents.

    What the ledger has and the folder no longer shows is ``deleted``, except under a folder that could
    not be listed (its files may well be there) and when the seed folder itself is missing (an unmounted
    share must not mark the whole archive deleted).

    A regular file costs one ``stat`` and nothing more (its type comes with the listing); symlinks, rare,
    are resolved one by one. ``complete``: what the watcher knows of files it saw written (``scan_paths``).
    ``folders`` in the result is what a later ``rescan`` needs.
    """
    return _Walk(root, now, settle, follow_symlinks, complete).run(dict(ledger), None, None)


def rescan(root: Path, memory: Mapping[str, FolderState], ledger_in: LedgerIn, now: float,
           settle: float = SETTLE_SECONDS, *, follow_symlinks: bool = False,
           complete: Mapping[str, float | None] | None = None) -> ScanResult:
    """``scan``, but a folder unchanged since its listing in ``memory`` (the ``folders`` of the last scan or
    rescan of ``root``) is not listed: its subfolders are entered, its files taken as they were. A folder
    that changed or is new is listed and its files ``stat``ed against its own ledger rows (``ledger_in``);
    a folder gone since takes its ledger rows with it (``deleted``).

    Finds every file added, removed or renamed; not a file rewritten in place in an unchanged folder.
    """
    return _Walk(root, now, settle, follow_symlinks, complete).run({}, memory, ledger_in)


def include(result: ScanResult, paths: ScanResult) -> None:
    """Add to a ``rescan`` what ``scan_paths`` found of the watcher's paths it did not see: a file rewritten
    in place (the watcher saw it; no folder's time did) is in a folder the rescan did not list."""
    result.changed = sorted([*result.changed, *paths.changed], key=lambda s: s.relpath)
    result.skipped = sorted([*result.skipped, *paths.skipped], key=lambda s: s[0].relpath)
    result.settling += paths.settling
    result.deleted = sorted({*result.deleted, *paths.deleted})
    result.errors += paths.errors
    if paths.settle_at is not None:
        result.settle_at = paths.settle_at if result.settle_at is None else min(result.settle_at, paths.settle_at)


class _Walk:
    """One scan's state: ``run`` with the whole ledger (``scan``) or a memory of folders (``rescan``)."""

    def __init__(self, root: Path, now: float, settle: float, follow_symlinks: bool,
                 complete: Mapping[str, float | None] | None) -> None:
        self.root, self.now, self.settle, self.follow = root, now, settle, follow_symlinks
        self.known = complete or {}
        self.result = ScanResult()
        self.top = os.fspath(root)
        self.prefix = len(os.path.join(self.top, ""))  # entry paths are the root joined with the relative path
        self.real_top = os.path.realpath(self.top)
        self.entered: set[tuple[int, int]] = set()  # with follow_symlinks: the folders entered, by id

    def run(self, remaining: dict[str, tuple[int, int]], memory: Mapping[str, FolderState] | None,
            ledger_in: LedgerIn | None) -> ScanResult:
        """``remaining``: the ledger left once the scan has seen its files (the deleted ones)."""
        result = self.result
        if not self.root.is_dir():
            result.missing = True
            return result
        top = self.top
        if self.follow:
            self.entered.add(_folder_id(os.stat(top)))
        unlisted: list[str] = []  # folders (relative, with "/"; "" for the seed folder) not listed in full
        stack = [top]
        while stack:
            folder = stack.pop()
            # Entry paths are the folder joined with the name; the relative one is built from a prefix.
            base = self._relative(folder)
            old = memory.get(folder) if memory is not None else None
            try:
                st = os.stat(folder)
            except FileNotFoundError:  # gone since the listing that queued it (or the memory had it)
                if ledger_in is not None:
                    remaining.update(ledger_in(base, True))
                continue
            except OSError as exc:
                unlisted.append(base)
                result.errors.append(f"{base or f'seed folder {folder}'}: folder cannot be listed:"
                                     f" {exc.strerror or exc}")
                continue
            stamp = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
            if memory is not None and old is not None and old.stamp == stamp:
                result.kept += 1
                result.kept_files += old.files
                result.folders[folder] = old
                stack.extend(old.subfolders)
                continue
            if ledger_in is not None:
                remaining.update(ledger_in(base, False))
            subfolders: list[str] = []
            try:
                files, plain = self._list(folder, base, remaining, subfolders)
            except OSError as exc:  # unreadable, or the listing broke off: what was listed is kept
                # Reported on every pass (like a missing folder): the files in it cannot be seen until fixed.
                unlisted.append(base)
                result.errors.append(f"{base or f'seed folder {folder}'}: folder cannot be listed:"
                                     f" {exc.strerror or exc}")
                continue
            finally:
                stack.extend(subfolders)
            result.listed += 1
            if old is not None and ledger_in is not None:
                for gone in set(old.subfolders).difference(subfolders):  # its rows go with it
                    remaining.update(ledger_in(self._relative(gone), True))
            # A folder with links in it is listed every time: a link's target can change without it.
            trusted = plain and (self.now - max(st.st_mtime_ns, st.st_ctime_ns) / 1e9) >= RECENT_FOLDER
            result.folders[folder] = FolderState(stamp if trusted else None, tuple(subfolders), files)
        if remaining:
            kept = tuple(unlisted)
            result.deleted = sorted(p for p in remaining if not (kept and p.startswith(kept)))
        result.changed.sort(key=lambda s: s.relpath)
        result.skipped.sort(key=lambda s: s[0].relpath)
        return result

    def _relative(self, folder: str) -> str:
        return folder[self.prefix:].replace(os.sep, "/") + "/" if len(folder) > len(self.top) else ""

    def _list(self, folder: str, base: str, remaining: dict[str, tuple[int, int]],
              stack: list[str]) -> tuple[int, bool]:
        """List one folder: its files compared with ``remaining``, its folders pushed on ``stack``.
        Returns how many other entries it holds, and whether none of them was a symlink or unreadable."""
        result, follow, entered, real_top = self.result, self.follow, self.entered, self.real_top
        pop = remaining.pop
        plain = True
        seen = _files_seen(result)
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
                        plain = False
                        link = _follow_link(path, real_top, follow, entered, stack)
                        if link is None:
                            continue  # a folder: queued, or scanned where it is
                        st, reason, path = link
                    elif entry.is_dir(follow_symlinks=False):
                        if follow:  # a folder reached through a link already is not entered again
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
                    plain = False
                    remaining.pop(rel, None)
                    result.errors.append(f"{rel}: cannot stat: {exc.strerror or exc}")
                    continue
                if pop(rel, None) == (st.st_size, st.st_mtime_ns):
                    result.unchanged += 1  # (a file skipped before included: it is reported once)
                    continue
                _classify(result, SeedFile(path, rel, st.st_size, st.st_mtime_ns), st.st_mode, reason,
                          now=self.now, settle=self.settle, complete=self.known.get(rel))
        return _files_seen(result) - seen, plain


def _files_seen(result: ScanResult) -> int:
    """(Counted from the result, not in the loop: the loop over 200,000 entries is the scan's cost.)"""
    return result.unchanged + len(result.changed) + len(result.settling) + len(result.skipped)


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


# The reason for a file removed between the scan and its reading (a drop box's other reader took it): not
# an error, nothing to record. Compared as a string: it crosses from worker processes as the reason.
GONE = "gone before it was read"


def _read_bounded(file: io.BufferedReader, size: int) -> bytes:
    """The file's bytes, up to ``MAX_SEED_BYTES + 1`` (one more says it is too large: parse_seed refuses it,
    unread to the end).

    Asking for that limit at once makes the reader allocate (and give back) 5 MB for a 5 KB file, which
    the kernel maps and unmaps: 25 µs of system time, a worker's 800 µs a file being mostly user time.
    The size ``fstat`` gave is asked for first, one byte more to see the end;
    a file grown since then is read on to the limit, so the bytes are the same as one read to the limit
    (a buffered ``read(n)`` returns fewer than n bytes only at the end of the file).
    """
    raw = file.read(min(size, MAX_SEED_BYTES) + 1)
    if size < len(raw) <= MAX_SEED_BYTES:
        raw += file.read(MAX_SEED_BYTES + 1 - len(raw))
    return raw


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
        if exc.errno == errno.ENOENT:
            raise SeedFileError(seed.relpath, GONE) from None
        raise SeedFileError(seed.relpath, f"unreadable: {exc.strerror or exc}") from None
    with open(fd, "rb") as file:
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise SeedFileError(seed.relpath, "not a regular file")
            raw = _read_bounded(file, st.st_size)
        except OSError as exc:
            raise SeedFileError(seed.relpath, f"unreadable: {exc.strerror or exc}") from None
    mtime = datetime.fromtimestamp(seed.mtime_ns / 1e9, tz)
    doc = parse_seed(raw, relpath=seed.relpath, mtime=mtime, tz=tz)
    return doc, hashlib.sha256(raw).hexdigest()

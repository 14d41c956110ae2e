"""Add ``[[feeds]]`` entries to config.toml without touching a byte of what is already there.

config.toml is a documented file people maintain by hand: its comments explain the office's choices. So new
entries are inserted as text, every existing line kept as it was: after the last ``[[feeds]]`` entry (before
the comments that introduce the next section), else after the commented-out ``# [[feeds]]`` examples, else at
the end. A round-tripping TOML library (tomlkit) would re-render the document, and puts a new entry after
those introducing comments, under the wrong heading. The edit is then proved rather than trusted: the new
text must read (tomllib) exactly as the old one plus the new entries, and load as a valid config, or nothing
is written. The file is replaced atomically, so a running service (or its watcher) never reads half of it.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from daemon.config import loads
from daemon.errors import ConfigError

_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\"' -]+?)\s*\]\]?\s*(?:#.*)?$")
_FEEDS_HEADER = re.compile(r"^\s*\[\[\s*feeds\s*\]\]\s*(?:#.*)?$")
_COMMENTED_FEEDS = re.compile(r"^\s*#\s*\[\[\s*feeds\s*\]\]")


def toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, except that TOML also wants DEL escaped."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007F")


def render_tables(name: str, tables: Sequence[Mapping[str, str]], newline: str = "\n") -> str:
    blocks = [newline.join([f"[[{name}]]", *(f"{k} = {toml_string(v)}" for k, v in t.items())]) for t in tables]
    return (newline * 2).join(blocks) + newline


def _insert_at(lines: list[str]) -> int | None:
    """The line index where new ``[[feeds]]`` entries read best, or None for the end of the file."""
    last = max((i for i, line in enumerate(lines) if _FEEDS_HEADER.match(line)), default=None)
    if last is None:
        examples = max((i for i, line in enumerate(lines) if _COMMENTED_FEEDS.match(line)), default=None)
        if examples is None:
            return None
        end = examples
        while end + 1 < len(lines) and lines[end + 1].lstrip().startswith("#"):
            end += 1
        return end + 1
    end = next((i for i in range(last + 1, len(lines)) if _HEADER.match(lines[i])), len(lines))
    # Back over the blank lines and the comments that lead into the next section.
    while end > last + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    # ...but a comment directly under the last entry's keys (no blank line between) is part of it.
    while end < len(lines) and lines[end].lstrip().startswith("#"):
        end += 1
    return end


def _with_tables(text: str, at: int | None, block: str, newline: str) -> str:
    lines = text.splitlines(keepends=True)
    if at is None or at >= len(lines):
        body = text if not text or text.endswith(("\n", "\r")) else text + newline
        return body + (newline if body.strip() else "") + block
    before, after = "".join(lines[:at]), "".join(lines[at:])
    if before and not before.endswith(("\n", "\r")):
        before += newline
    return before + newline + block + (newline if after.strip() and after[:1] not in "\r\n" else "") + after


def add_tables(text: str, path: Path, name: str, tables: Sequence[Mapping[str, str]]) -> str:
    """``text`` with ``[[name]]`` entries added; ``ConfigError`` when that cannot be done cleanly."""
    try:
        before = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    current = before.get(name, [])
    if not isinstance(current, list):
        raise ConfigError(f"{path}: {name} is not written as [[{name}]] entries; cannot add to it")
    expected: dict[str, Any] = {**before, name: [*current, *map(dict, tables)]}
    newline = "\r\n" if "\r\n" in text else "\n"
    block = render_tables(name, tables, newline)
    lines = text.splitlines()
    for at in dict.fromkeys((_insert_at(lines), None)):  # the best place, else the end of the file
        candidate = _with_tables(text, at, block, newline)
        try:
            if tomllib.loads(candidate) == expected:
                return candidate
        except tomllib.TOMLDecodeError:
            continue
    raise ConfigError(f"{path}: cannot add [[{name}]] entries without changing the rest of the file"
                      f" (is {name} written as an inline array?)")


def add_feeds(path: Path, tables: Sequence[Mapping[str, str]]) -> None:
    """Append ``[[feeds]]`` entries to the config file at ``path``, validated, atomically."""
    target = path.resolve()  # a symlinked config: edit the file, keep the link
    try:
        raw = target.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror or exc}") from None
    text = raw.decode("utf-8", errors="replace")
    new = add_tables(text, path, "feeds", tables)
    loads(new, path)  # the result must be a config the service accepts
    write_atomically(target, new.encode("utf-8"), unchanged_from=raw)


def write_atomically(path: Path, data: bytes, *, unchanged_from: bytes | None = None) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``.

    A reader sees the old file or the new one, never half of one. An existing file keeps its permissions
    (and owner, when allowed); ``unchanged_from``: refuse if someone changed the file since it was read.
    """
    try:
        old = path.stat()
    except FileNotFoundError:
        old = None
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if old is not None:
            os.chmod(tmp, stat.S_IMODE(old.st_mode))
            try:
                os.chown(tmp, old.st_uid, old.st_gid)
            except OSError:
                pass  # not ours to give away: the new file is the writer's, with the same permissions
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        if unchanged_from is not None and path.read_bytes() != unchanged_from:
            raise ConfigError(f"{path}: changed while it was being edited; nothing written, run the command again")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise

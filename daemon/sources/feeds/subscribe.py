"""Which feeds of an imported list are new, and the name each one gets in config.toml (pure).

A feed is already configured when its address is the same after the differences that never make two
feeds: ``http`` or ``https``, the case of the host, a default port, a trailing slash, a fragment, tracking
parameters (``utm_*``). Readers export whichever form they were given, so comparing addresses as written
would subscribe the office to the same feed twice. Names are ASCII slugs of the title ("Tuổi Trẻ - Thời
sự" → ``tuoi-tre-thoi-su``), since a name is typed on the command line (`newswatch fetch NAME`) and stored
as an article's ``source``; the title itself is kept beside it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from daemon.models import SEEDS_SOURCE, FeedConfig
from daemon.sources.feeds.items import clean_url
from daemon.sources.feeds.opml import Outline
from daemon.text.normalize import fold

SLUG_MAX = 40
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class NewFeed:
    """A ``[[feeds]]`` entry to add."""

    name: str
    url: str
    title: str | None
    category: str | None

    def table(self) -> dict[str, str]:
        """The entry's keys as config.toml writes them (only those with a value)."""
        keys = {"name": self.name, "url": self.url, "title": self.title, "category": self.category}
        return {k: v for k, v in keys.items() if v}


@dataclass(frozen=True, slots=True)
class Skipped:
    outline: Outline
    reason: str


@dataclass(frozen=True, slots=True)
class ImportPlan:
    added: tuple[NewFeed, ...]
    skipped: tuple[Skipped, ...]


def url_key(url: str) -> str:
    """The address with what never distinguishes two feeds taken out; equal keys are the same feed."""
    parts = urlsplit(clean_url(url))
    host = (parts.hostname or "").rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    scheme = parts.scheme.lower()
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    if parts.username is not None:
        netloc = f"{parts.username}@{netloc}"
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(("http", netloc, path, parts.query, ""))


def slug(title: str, url: str) -> str:
    """An ASCII name from the title, else from the host ("vnexpress-net"); "feed" when neither gives one."""
    for source in (title, (urlsplit(url).hostname or "").removeprefix("www.")):
        text = _NOT_SLUG.sub("-", fold(source).lower()).strip("-")
        if len(text) > SLUG_MAX:
            cut = text[: SLUG_MAX + 1]
            text = cut[: cut.rfind("-")] if "-" in cut else text[:SLUG_MAX]
        if text:
            return text.strip("-")
    return "feed"


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def plan_import(outlines: Iterable[Outline], configured: Sequence[FeedConfig]) -> ImportPlan:
    """The outlines that are new, named uniquely, in the file's order; the others with the reason."""
    by_key = {url_key(f.url): f.name for f in configured}
    taken = {f.name for f in configured} | {SEEDS_SOURCE}
    seen: dict[str, int] = {}
    added: list[NewFeed] = []
    skipped: list[Skipped] = []
    for outline in outlines:
        key = url_key(outline.url)
        if key in by_key:
            skipped.append(Skipped(outline, f"already configured as {by_key[key]!r}"))
            continue
        if key in seen:
            skipped.append(Skipped(outline, f"listed twice in the file (first at line {seen[key]})"))
            continue
        seen[key] = outline.line
        name = _unique(slug(outline.title, outline.url), taken)
        taken.add(name)
        title = outline.title if outline.title != name else None  # a name exported as the text says nothing more
        added.append(NewFeed(name=name, url=outline.url, title=title or None, category=outline.category))
    return ImportPlan(tuple(added), tuple(skipped))

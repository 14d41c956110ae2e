"""OPML subscription lists, in and out: what Feedly, Inoreader, Miniflux and FreshRSS export and import.

Reading is all or nothing: `feeds import` adds the file's feeds or, when any part of it is unusable, none of
them, so a problem is one ``OpmlError`` naming the file and the line rather than a half-done import. The
bytes are decoded as a feed's are (a declaration that lies about the encoding is common) and a document
declaring entities is refused before any XML parser sees it, as feeds are. Folders (outlines holding
outlines) become each feed's ``category``, nested ones joined with "/"; export writes them back the same way,
so a list survives a round trip through newswatch with its folders.
"""

from __future__ import annotations

import xml.parsers.expat
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import NoReturn
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

from daemon.errors import OpmlError
from daemon.models import FeedConfig
from daemon.text.normalize import normalize

MAX_BYTES = 10 * 1024 * 1024  # a list of thousands of feeds is a few hundred KB


@dataclass(frozen=True, slots=True)
class Outline:
    """One feed of an OPML file."""

    url: str
    title: str  # the outline's title, else its text; "" when it has neither
    category: str | None  # the folders it sits in, "Tin tức/Trong nước"
    line: int  # where it is in the file, for messages


@dataclass(frozen=True, slots=True)
class Opml:
    title: str  # <head><title>
    feeds: tuple[Outline, ...]


@dataclass
class _Frame:
    attrs: dict[str, str]
    line: int
    children: int = 0


@dataclass
class _Reader:
    """expat callbacks; a problem is raised from the callback as the ``OpmlError`` (it ends the parse)."""

    name: str
    frames: list[_Frame] = field(default_factory=list)
    path: list[str] = field(default_factory=list)  # element names from the root down
    feeds: list[Outline] = field(default_factory=list)
    title: list[str] = field(default_factory=list)
    parser: xml.parsers.expat.XMLParserType | None = None

    def line(self) -> int:
        return self.parser.CurrentLineNumber if self.parser is not None else 0

    def fail(self, message: str, line: int | None = None) -> NoReturn:
        raise OpmlError(self.name, f"line {line or self.line()}: {message}")

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if not self.path and name.lower() != "opml":
            self.fail(f"not an OPML file: the root element is <{name}>")
        self.path.append(name.lower())
        if name.lower() == "outline" and "body" in self.path:
            if self.frames:
                self.frames[-1].children += 1
            self.frames.append(_Frame({k.lower(): v for k, v in attrs.items()}, self.line()))

    def end(self, name: str) -> None:
        self.path.pop()
        if name.lower() == "outline" and self.frames:
            frame = self.frames.pop()
            url = frame.attrs.get("xmlurl", "").strip()
            if url or not frame.children:
                self.feeds.append(self._feed(frame, url))

    def text(self, data: str) -> None:
        if self.path[-2:] == ["head", "title"]:
            self.title.append(data)

    def _feed(self, frame: _Frame, url: str) -> Outline:
        title = _label(frame.attrs)
        named = f" {title!r}" if title else ""
        if not url:
            self.fail(f"outline{named} has no xmlUrl (a feed outline needs the feed's address)", frame.line)
        url = _feed_scheme(url)
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            self.fail(f"outline{named}: xmlUrl {url!r} is not an http:// or https:// address", frame.line)
        folders = [_label(f.attrs) for f in self.frames]
        category = "/".join(f for f in folders if f) or _category_attr(frame.attrs)
        return Outline(url=url, title=title, category=category, line=frame.line)

    def entity(self, *_args: object) -> None:
        self.fail("refused: the file declares XML entities (possible entity-expansion bomb)")


def _label(attrs: dict[str, str]) -> str:
    return normalize(attrs.get("title") or attrs.get("text") or "")


def _category_attr(attrs: dict[str, str]) -> str | None:
    """OPML 2.0's ``category="/Tin tức/Trong nước,/other"``: the first one, when no folder says it."""
    first = attrs.get("category", "").split(",")[0].strip().strip("/")
    return normalize(first) or None


def _feed_scheme(url: str) -> str:
    """``feed://host/x`` and ``feed:https://host/x``, which some old readers write, are plain web addresses."""
    if url.lower().startswith("feed:"):
        rest = url[5:]
        return rest if rest.lower().startswith(("http://", "https://")) else "http:" + rest
    return url


def parse_opml(data: bytes, name: str) -> Opml:
    """The feeds of an OPML 1.0/2.0 file; ``OpmlError`` (naming ``name`` and the line) when it is unusable."""
    # Here, not at the top: the feed parser's module loads feedparser, which `feeds export` does not need.
    from daemon.sources.feeds.parse import declares_entities, decode_feed  # noqa: PLC0415

    if len(data) > MAX_BYTES:
        raise OpmlError(name, f"too big for an OPML file ({len(data)} bytes; at most {MAX_BYTES})")
    text, _encoding = decode_feed(data)
    if not text.strip(" \t\r\n\ufeff\x00"):
        raise OpmlError(name, "the file is empty")
    if declares_entities(text):
        raise OpmlError(name, "refused: the file declares XML entities (possible entity-expansion bomb)")
    reader = _Reader(name)
    parser = xml.parsers.expat.ParserCreate()
    reader.parser = parser
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.text
    parser.EntityDeclHandler = reader.entity  # the check above already refused them; never expand one anyway
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(text.lstrip("\ufeff"), True)
    except xml.parsers.expat.ExpatError as exc:
        reason = xml.parsers.expat.ErrorString(exc.code)
        raise OpmlError(name, f"not valid XML: {reason} (line {exc.lineno}, column {exc.offset + 1})") from None
    if not reader.feeds:
        raise OpmlError(name, "no feeds in it (no <outline> with an xmlUrl inside <body>)")
    return Opml(title=" ".join("".join(reader.title).split()), feeds=tuple(reader.feeds))


# ---------------------------------------------------------------------------------------------
# export


@dataclass
class _Folder:
    name: str
    items: list[_Folder | FeedConfig] = field(default_factory=list)

    def folder(self, name: str) -> _Folder:
        for item in self.items:
            if isinstance(item, _Folder) and item.name == name:
                return item
        new = _Folder(name)
        self.items.append(new)
        return new


def render_opml(feeds: Sequence[FeedConfig], *, title: str, created: datetime) -> str:
    """OPML 2.0 of ``feeds`` in their order, each ``category`` a folder ("a/b" nested), as readers import it."""
    root = _Folder("")
    for feed in feeds:
        node = root
        for part in (feed.category or "").split("/"):
            if part.strip():
                node = node.folder(part.strip())
        node.items.append(feed)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<opml version="2.0">', "  <head>",
             f"    <title>{escape(title)}</title>", f"    <dateCreated>{format_datetime(created)}</dateCreated>",
             "  </head>", "  <body>"]
    lines += _render(root.items, 2)
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def _render(items: Sequence[_Folder | FeedConfig], depth: int) -> list[str]:
    pad = "  " * depth
    out: list[str] = []
    for item in items:
        if isinstance(item, _Folder):
            out.append(f"{pad}<outline text={quoteattr(item.name)} title={quoteattr(item.name)}>")
            out += _render(item.items, depth + 1)
            out.append(f"{pad}</outline>")
        else:
            label = quoteattr(item.title or item.name)
            out.append(f'{pad}<outline type="rss" text={label} title={label} xmlUrl={quoteattr(item.url)}/>')
    return out

"""HTML fragments from feeds → the article's own words.

Feed items carry HTML: a thumbnail wrapped in a link, the lead, and often a trailing list of "related"
links, image captions and the outlet's byline prefix ("TTO - "). None of that is the article, and all of
it would change the content hash whenever the outlet reshuffles its sidebar, so it is removed here,
before anything is hashed or matched. Only the stdlib ``html.parser`` is used: feed fragments are
small and sloppy, and a forgiving tokenizer plus a few structural rules beats a full DOM.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urlsplit

from daemon.text.normalize import Canonical, CanonicalBody, normalize_body


def _tags(names: str) -> frozenset[str]:
    return frozenset(names.split())


# Subtrees that never hold article text.
_DROP = _tags(
    "script style noscript template iframe object embed svg canvas video audio source picture img figcaption "
    "form button input select textarea head title meta link nav"
)
_VOID = _tags("area base br col embed hr img input link meta param source track wbr")
# Blocks separated by a blank line, and blocks separated by a single line break.
_PARAGRAPH = _tags(
    "p div h1 h2 h3 h4 h5 h6 blockquote section article aside header footer figure table ul ol pre "
    "address main details summary dl hr"
)
_LINE = _tags("br li tr dt dd caption")
# class/id values that mark related-article boxes and captions in Vietnamese CMSes
# ("box-tinlienquan", "related-news", "PhotoCMS_Caption", "image_caption", "xemthem" ...).
_JUNK_CLASS = re.compile(r"related|relate-|lien[-_ ]?quan|caption|xem[-_ ]?them|see[-_ ]?also|read[-_ ]?more",
                         re.IGNORECASE)

# Private-use sentinels around link text, so line rules can tell "only links" from prose.
_LINK_OPEN, _LINK_CLOSE = "\ue000", "\ue001"
_LINK_SPAN = re.compile(f"{_LINK_OPEN}[^{_LINK_CLOSE}]*{_LINK_CLOSE}")
_SPACES = re.compile(r"[ \t\n\r\f\v\u00a0]+")
# What may sit beside links on a line that is still "just links": bullets, separators.
_ONLY_PUNCT = re.compile(r"^[\s\W_]*$")

# Headings that introduce a block of other articles; everything from them on is not this article.
_RELATED_MARKER = re.compile(
    r"^[\W_]*(xem thêm|tin liên quan|bài liên quan|đọc thêm|tin cùng chuyên mục|có thể bạn quan tâm|"
    r"mời (?:quý )?(?:độc giả|bạn đọc) xem thêm|tin khác|bài viết liên quan|see also|related)\b",
    re.IGNORECASE,
)
# Lines that are obviously photo captions: "…phát biểu. Ảnh: NGỌC PHÚ", "(Ảnh: TTXVN)", "Ảnh minh họa".
_CAPTION = re.compile(
    r"(?:^\(?ảnh minh họa\)?\.?$"
    r"|^(?:ảnh|nguồn ảnh|photo)\s*:"
    r"|(?:^|\s)\(?(?-i:Ảnh|ẢNH|Nguồn ảnh|Nguồn|Photo)\s*:\s*"
    r"[^\s.!?:,;()]+(?:(?:\.\s?|\s|/)[^\s.!?:,;()]+){0,4}\)?\.?$)",
    re.IGNORECASE,
)
_CAPTION_MAX = 300
# The longest line _CAPTION takes without a colon: "(ảnh minh họa)." (re's IGNORECASE matches one
# character for one), with room to spare.
_CAPTION_NO_COLON_MAX = 20

# Outlet prefixes: "(Chinhphu.vn) - ", "(Dân trí) - ", "(PLO)- ", "(CLO) ", "VOV.VN - ", "TTO - ", "ĐNO - ".
_PAREN_PREFIX = re.compile(r"^\(\s*([^()\n]{2,30}?)\s*\)\s*(?:[-–—:|]\s*)?")
_BARE_PREFIX = re.compile(r"^([^\s()\-–—]{2,20}(?: [^\s()\-–—]{2,12})?)\s*[-–—]\s+")
_DOMAIN = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.(?:vn|com|net|org|info)$", re.IGNORECASE)


@dataclass(slots=True)
class _Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[_Node | str] = field(default_factory=list)


class _TreeBuilder(HTMLParser):
    """Builds a forgiving tree: unknown end tags are ignored, unclosed tags close at their parent's end."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root")
        self._stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, {k: v or "" for k, v in attrs})
        self._stack[-1].children.append(node)
        if tag not in _VOID:
            self._stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._stack[-1].children.append(_Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._stack) - 1, 0, -1):
            if self._stack[i].tag == tag:
                del self._stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self._stack[-1].children.append(data)


# A fragment made only of text, plain start and end tags with quoted (or simple bare) attribute values, and
# no element whose content HTMLParser reads raw: the tokens HTMLParser gives for it, found by one regex a
# token. Anything else (a comment, a declaration, a "<" that opens no tag, an unusual attribute) is left to
# HTMLParser. ASCII white space only: HTMLParser ends a tag's name at those alone.
_WS = "[ \t\n\r\f]"
_TOKEN = re.compile(
    rf"""([^<]+)
       | <([a-zA-Z][a-zA-Z0-9]*)
          ((?:{_WS}+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:{_WS}*={_WS}*(?:"[^"]*"|'[^']*'|[^\s"'=<>`/]+(?={_WS}|>)))?)*)
          {_WS}*(/?)>
       | </([a-zA-Z][a-zA-Z0-9]*){_WS}*>
       | ([\s\S])""", re.VERBOSE)
_ATTR = re.compile(rf"""{_WS}+([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:{_WS}*={_WS}*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`/]+)))?""")
# Elements whose content HTMLParser reads as raw text (in some Python version or other).
_RAW_TEXT = _tags("script style textarea title xmp iframe noembed noframes noscript plaintext")


def _parse_simple(html: str) -> _Node | None:
    """The tree ``HTMLParser`` builds, for the plain fragments nearly every feed sends (a lead, an image
    link, a list of related links), at a third of its cost; None for anything else. Feed items are
    turned into text in the worker processes of a pass, and this tokenizing was a third of their time: so
    ``_TreeBuilder``'s steps are written out here rather than called per token."""
    root = _Node("#root", {}, [])
    stack = [root]
    children = root.children
    # _TOKEN's last alternative takes any one character the others do not: the matches are contiguous,
    # and that one means a token this path does not know.
    for text, start, attrs, closed, end, _other in _TOKEN.findall(html):
        if text:
            children.append(unescape(text) if "&" in text else text)
        elif start:
            tag = start.lower()
            if tag in _RAW_TEXT:
                return None
            node = _Node(tag, _attributes(attrs) if attrs else {}, [])
            children.append(node)
            if not closed and tag not in _VOID:
                stack.append(node)
                children = node.children
        elif end:
            tag = end.lower()
            for i in range(len(stack) - 1, 0, -1):
                if stack[i].tag == tag:
                    del stack[i:]
                    children = stack[-1].children
                    break
        else:
            return None
    return root


def _attributes(attrs: str) -> dict[str, str]:
    """A start tag's attributes as ``_TreeBuilder`` keeps them (names lower-cased, the last of a name
    wins, a bare name is "")."""
    pairs: dict[str, str] = {}
    for name, double, single, bare in _ATTR.findall(attrs):  # a bare name: "" (not None), as it ends up anyway
        value = double or single or bare
        pairs[name.lower()] = unescape(value) if "&" in value else value
    return pairs


def _parse(html: str) -> _Node:
    html = unicodedata.normalize("NFC", html)
    simple = _parse_simple(html)
    if simple is not None:
        return simple
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def _is_junk(node: _Node, article: bool) -> bool:
    if node.tag in _DROP:
        return True
    if not article:
        return False
    marks = f"{node.attrs.get('class', '')} {node.attrs.get('id', '')}"
    return bool(_JUNK_CLASS.search(marks))


@lru_cache(maxsize=4096)
def _host(url: str) -> str | None:
    """The site of a URL, as the outlet's own links are told apart by. Cached: every item of a feed asks
    for the feed's URL's, and ``urlsplit`` costs more than the rest of a short item's links."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.removeprefix("www.").removeprefix("m.") if host else None


def _same_site(host: str, own: frozenset[str]) -> bool:
    """``host`` is one of ``own`` or a subdomain of one, or the other way round (vov.vn, vov2.vov.vn)."""
    return any(host == h or host.endswith("." + h) or h.endswith("." + host) for h in own)


def _may_be_related(href: str, own: frozenset[str] | None) -> bool:
    """A link that can be one of the outlet's own articles: relative, or to the outlet's site.

    With ``own`` unknown (None), every link can.
    """
    if own is None:
        return True
    href = href.strip()
    if href.lower().startswith(("mailto:", "tel:")):
        return False
    host = _host(href)
    return host is None or _same_site(host, own)


def _render(node: _Node, out: list[str | int], article: bool, pre: bool = False,
            own: frozenset[str] | None = None) -> None:
    """Flatten to text pieces and break markers (1: line, 2: paragraph); ``_join`` merges the markers."""
    for child in node.children:
        if isinstance(child, str):
            out.append(child if pre else _one_spaced(child))
            continue
        if _is_junk(child, article):
            continue
        tag = child.tag
        if tag == "br":
            out.append("\n")  # explicit: two <br> make a blank line, unlike nested blocks
            continue
        brk = 2 if tag in _PARAGRAPH else 1 if tag in _LINE else 0
        if brk:
            out.append(brk)
        if tag == "a" and article and _may_be_related(child.attrs.get("href", ""), own):
            out.append(_LINK_OPEN)
            _render(child, out, article, pre, own)
            out.append(_LINK_CLOSE)
        else:
            _render(child, out, article, pre or tag == "pre", own)
        if brk:
            out.append(brk)


def _join(parts: list[str | int]) -> str:
    """Block boundaries collapse (``</li><li>`` is one line break, ``</p></div><p>`` one blank line)."""
    buf: list[str] = []
    pending = 0
    for part in parts:
        if isinstance(part, int):
            pending = max(pending, part)
            continue
        if pending and not part.strip(" "):
            continue  # indentation between blocks
        if pending and buf:
            buf.append("\n" * pending)
        pending = 0
        buf.append(part)
    return "".join(buf)


def _unmark(text: str) -> str:
    """``text`` without link sentinels. Two ``replace`` calls, not ``str.translate``: on non-ASCII text
    (every Vietnamese line) ``translate`` looks every character up in its table: 9.5 µs for a lead's
    paragraph, 27 times the cost."""
    return text.replace(_LINK_OPEN, "").replace(_LINK_CLOSE, "")


def _link_only(line: str) -> bool:
    """A line whose words are all inside links: a related-article title, not prose."""
    if _LINK_OPEN not in line:
        return False
    rest = _LINK_SPAN.sub("", line)
    return bool(_ONLY_PUNCT.match(rest)) and bool(_unmark(line).strip())


def _strip_non_article(lines: list[str]) -> list[str]:
    """Cut related-links blocks and caption lines; ``lines`` still carry link sentinels."""
    kept = [ln for ln in lines if ln.strip()]
    # 1. A "Xem thêm:" / "Tin liên quan:" heading after some text ends the article.
    for i, ln in enumerate(kept):
        if i > 0 and _RELATED_MARKER.match(_unmark(ln).strip()):
            kept = kept[:i]
            break
    # 2. Trailing lines that are only links (other titles appended after the lead).
    while len(kept) > 1 and _link_only(kept[-1]):
        kept.pop()
    # 3. Runs of two or more link-only lines anywhere: a related box in the middle.
    result: list[str] = []
    i = 0
    while i < len(kept):
        j = i
        while j < len(kept) and _link_only(kept[j]):
            j += 1
        if j - i >= 2:
            i = j
            continue
        if j == i:
            j = i + 1
        result.extend(kept[i:j])
        i = j
    # 4. Obvious photo captions.
    return [ln for ln in result if not _is_caption(_unmark(ln).strip())]


def _is_caption(line: str) -> bool:
    # Every caption but a bare "Ảnh minh họa" has a colon: lines without one (nearly all) skip the search,
    # which tries its alternatives at every space of the line (10 µs for a lead's paragraph).
    if len(line) > _CAPTION_MAX or (":" not in line and len(line) > _CAPTION_NO_COLON_MAX):
        return False
    return bool(_CAPTION.search(line))


def _one_spaced(text: str) -> str:
    """White space runs (line breaks too) as one space. Most text nodes have none but single spaces, and
    saying so (``isprintable``: every white space but " " is unprintable) is a C pass, where the regular
    expression stops at every space."""
    return text if text.isprintable() and "  " not in text else _SPACES.sub(" ", text)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: tags gone, entities decoded, blocks on their own lines.

    Used for titles and anything else that is not an article body (no content is judged or dropped,
    apart from scripts, styles and other non-text elements).
    """
    if "<" not in html and "&" not in html:
        return normalize_body(html)
    out: list[str | int] = []
    _render(_parse(html), out, article=False)
    return normalize_body(_join(out))


def article_text(html: str, site: Iterable[str | None] = ()) -> str:
    """The article's own text from a feed item's HTML (summary or content:encoded).

    Beyond ``html_to_text``: drops image links, captions, related-article boxes and link lists,
    "Xem thêm:" tails and the outlet prefix, so that the same article hashes the same wherever it
    is seen and however the outlet decorates its feed.

    ``site``: URLs of the outlet (the item's link, the feed). Related articles are the outlet's own
    pages, so when it is known, a list of links to other sites (a podcast's show notes, sources) is
    the item's content and stays.
    """
    hosts = frozenset(h for h in (_host(u) for u in site if u) if h)
    out: list[str | int] = []
    _render(_parse(html), out, article=True, own=hosts or None)
    text = normalize_body(_join(out))
    lines = _strip_non_article(text.split("\n"))
    body = normalize_body(_unmark("\n\n".join(lines)))
    return strip_outlet_prefix(body)


def _looks_like_outlet(name: str) -> bool:
    """"TTO", "ĐNO", "VOV.VN", "Chinhphu.vn", "VTC News", "Dân trí" — not "TP.HCM" or "Hà Nội" datelines."""
    words = name.split()
    if not 1 <= len(words) <= 3 or any(ch.isdigit() for ch in name[:1]):
        return False
    if _DOMAIN.match(name):
        return True
    if name.upper().startswith("TP") or name in {"HN", "HÀ NỘI"}:
        return False  # "TP.HCM - ", "TPHCM - ": place datelines carry information
    return all(w.replace(".", "").isupper() and w.replace(".", "").isalpha() for w in words)


def strip_outlet_prefix(text: str, *, title: bool = False) -> str:
    """Remove the outlet's byline prefix at the start of a body ("(Chinhphu.vn) - ", "TTO - ").

    Different outlets republish the same piece with their own prefix; without this the copies
    would not hash equal. Parenthesized prefixes are taken when short (a name, not a sentence);
    bare ones only when they look like an acronym or a domain, so place datelines survive.

    ``title``: a headline starts with its subject far more often than a body does ("ASEAN - Trung
    Quốc …", "(Trực tiếp) Lễ khai mạc …"), so there a bare prefix must be a domain ("VOV.VN - ") and a
    parenthesized one must be followed by a dash or look like an outlet ("(PLO) ").
    """
    head = text.lstrip()
    m = _PAREN_PREFIX.match(head)
    if m:
        name = m.group(1)
        followed_by_dash = m.group(0).rstrip().endswith(("-", "–", "—", ":", "|"))
        short = len(name.split()) <= 3 and not name.lower().startswith(("ảnh", "video", "tiếp theo"))
        if short and (followed_by_dash or _looks_like_outlet(name) or (name[:1].isupper() and not title)):
            rest = head[m.end():]
            if rest.strip():
                return _same_form(text, rest.lstrip())
        return text
    m = _BARE_PREFIX.match(head)
    if m and (_DOMAIN.match(m.group(1)) if title else _looks_like_outlet(m.group(1))):
        rest = head[m.end():]
        if rest.strip():
            return _same_form(text, rest.lstrip())
    return text


def _same_form(text: str, rest: str) -> str:
    """``rest``, the words of ``text`` after its prefix, typed canonical when ``text`` is: the end of a
    canonical text from a word on is canonical too (the prefix ends with a bracket, a dash or a space, so
    no "qu" or combining sequence is cut), and an item whose lead or title lost a prefix would otherwise
    be normalized again from scratch by ``prepare``."""
    if isinstance(text, Canonical):
        return Canonical(rest)
    return CanonicalBody(rest) if isinstance(text, CanonicalBody) else rest

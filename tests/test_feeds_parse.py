"""Feed bytes → entries: encodings, refusals (HTML, truncation, entity bombs), benign malformation."""

from __future__ import annotations

import time
import unicodedata

import pytest

from daemon.errors import FeedError
from daemon.sources.feeds.parse import decode_feed, parse_feed, root_element
from tests.helpers import to_cp1258

TITLE = "Đảng bộ Văn phòng Thành ủy hoàn thành 9/9 chỉ tiêu"
URL = "http://127.0.0.1/feed.rss"


def rss(items: str, decl: str = '<?xml version="1.0" encoding="UTF-8"?>') -> str:
    return f'{decl}\n<rss version="2.0"><channel><title>Tin</title><link>http://e.vn/</link>{items}</channel></rss>\n'


def item(title: str = TITLE, guid: str = "g1") -> str:
    return f"<item><title>{title}</title><guid>{guid}</guid><description>Nội dung</description></item>"


def titles(body: bytes, content_type: str | None = None) -> list[str]:
    return [e["title"] for e in parse_feed(body, url=URL, content_type=content_type).entries]


def test_utf8() -> None:
    assert titles(rss(item()).encode()) == [TITLE]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "utf-32", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_with_and_without_bom(codec: str) -> None:
    wide = codec[:6] if codec[4:6] in ("16", "32") else ""
    doc = rss(item(), decl=f'<?xml version="1.0" encoding="{wide.upper()}"?>' if wide else "")
    assert titles(doc.encode(codec)) == [TITLE]
    assert decode_feed(doc.encode(codec))[1].startswith(wide or "utf-8")


@pytest.mark.parametrize("title", [TITLE, "Plain ASCII title"])
@pytest.mark.parametrize("lead", ["\n", "\n ", ""])
@pytest.mark.parametrize("codec", ["utf-32-le", "utf-32-be", "utf-16-le", "utf-16-be"])
def test_wide_encodings_without_bom_or_declaration(codec: str, lead: str, title: str) -> None:
    # White space before the root (allowed without a declaration) must not hide the NUL pattern, and
    # an all-ASCII document in UTF-16 is valid UTF-8 too (NUL is a character there).
    doc = lead + rss(item(title)).split("?>", 1)[1].lstrip()
    if title.isascii():
        doc = doc.replace("Nội dung", "Noi dung")
    assert decode_feed(doc.encode(codec))[1] == codec
    assert titles(doc.encode(codec)) == [title]


def test_declaration_lies_about_encoding() -> None:
    doc = rss(item(), decl='<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert titles(doc.encode("utf-8"), "text/xml; charset=iso-8859-1") == [TITLE]


def test_legacy_windows_1258_feed_uses_declared_charset() -> None:
    body = to_cp1258(rss(item(), decl='<?xml version="1.0" encoding="windows-1258"?>'))
    assert decode_feed(body)[1] == "cp1258"
    assert [unicodedata.normalize("NFC", t) for t in titles(body)] == [TITLE]


def test_undeclared_windows_1252_feed_is_not_read_as_vietnamese() -> None:
    title = "Simulações mostram que a prisão preventiva não é a solução"
    doc = rss(f"<item><title>{title}</title><guid>p1</guid><description>Informação</description></item>",
              decl='<?xml version="1.0"?>')
    body = doc.encode("cp1252")
    assert decode_feed(body, "application/rss+xml")[1] == "cp1252"
    parsed = parse_feed(body, url=URL, content_type="application/rss+xml")
    assert [e["title"] for e in parsed.entries] == [title]
    assert parsed.warning == "no usable charset declared: guessed cp1252 (does not read as Vietnamese)"


def test_undeclared_windows_1258_feed_is_read_as_vietnamese_and_says_so() -> None:
    parsed = parse_feed(to_cp1258(rss(item(), decl='<?xml version="1.0"?>')), url=URL)
    assert [unicodedata.normalize("NFC", e["title"]) for e in parsed.entries] == [TITLE]
    assert parsed.warning == "no usable charset declared: guessed cp1258 (reads as Vietnamese)"


def test_nfd_stays_decodable() -> None:
    nfd = unicodedata.normalize("NFD", rss(item()))
    parsed = titles(nfd.encode())
    assert unicodedata.normalize("NFC", parsed[0]) == TITLE


def test_benign_malformation_keeps_items_with_warning() -> None:
    # Unescaped & in an image URL and an HTML entity XML does not know: what real feeds do.
    bad = item("Giá vàng &nbsp; tăng", "g2").replace(
        "<description>Nội dung</description>", '<description><img src="http://i.vn/a.jpg?w=1&h=2"></description>'
    )
    parsed = parse_feed(rss(item() + bad).encode(), url=URL)
    assert [e["id"] for e in parsed.entries] == ["g1", "g2"]
    assert parsed.warning is not None and "2 items recovered" in parsed.warning


def test_well_formed_feed_has_no_warning() -> None:
    assert parse_feed(rss(item()).encode(), url=URL).warning is None


ATOM = (
    '<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>'
    f'<entry><id>tag:e.vn,2026:1</id><title type="html">{TITLE}</title>'
    '<content type="html">&lt;p&gt;Nội dung&lt;/p&gt;</content><updated>2026-08-21T10:00:00+07:00</updated>'
    "</entry></feed>"
)


def test_atom() -> None:
    parsed = parse_feed(('<?xml version="1.0" encoding="utf-8"?>' + ATOM).encode(), url=URL)
    assert parsed.version == "atom10"
    assert parsed.entries[0]["id"] == "tag:e.vn,2026:1"


@pytest.mark.parametrize(
    "page",
    [
        '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Tin</title>'
        "</head><body>{feed}</body></html>",
        "<!DOCTYPE html><html><head><meta charset=utf-8><title>Tin&nbsp;mới</title></head>"
        "<body><div>{feed}</div></body></html>",
    ],
    ids=["xhtml", "html5"],
)
def test_atom_feed_wrapped_in_an_html_page_is_read(page: str) -> None:
    parsed = parse_feed(page.format(feed=ATOM).encode(), url=URL)
    assert [(e["id"], e["title"]) for e in parsed.entries] == [("tag:e.vn,2026:1", TITLE)]
    assert parsed.warning is not None and "wrapped in an HTML page" in parsed.warning


def test_html_page_that_only_links_to_a_feed_is_still_refused() -> None:
    page = (
        '<html><head><link rel="alternate" type="application/atom+xml" href="/feed.atom"/></head>'
        "<body><p>Đăng ký &lt;feed&gt; RSS của chúng tôi</p><code>&lt;rss version=\"2.0\"&gt;</code></body></html>"
    )
    with pytest.raises(FeedError, match="not a feed: got an HTML page"):
        parse_feed(page.encode(), url=URL)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty response body"),
        (b"  \n\t ", "empty response body"),
        (b"<!DOCTYPE html><html><head><title>Trang chu</title></head><body><p>Xin chao</p></body></html>",
         "not a feed: got an HTML page"),
        (b"<html><body>404</body></html>", "not a feed: got an HTML page"),
        (b'{"items": []}', "not a feed: no XML root element"),
        (b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'></svg>", "not a feed: root element is <svg>"),
        (rss(item() + item(guid="g2")).encode().split(b"</item>")[0],  # not one item arrived whole
         "truncated XML: the document ends before </rss>"),
        (rss("").encode(), "the feed has no entries"),
    ],
)
def test_refused(body: bytes, message: str) -> None:
    with pytest.raises(FeedError) as info:
        parse_feed(body, url=URL)
    assert info.value.reason.startswith(message)


THREE = rss(item(guid="g1") + item(guid="g2") + item("Tin thứ ba", guid="g3"))


@pytest.mark.parametrize(
    ("cut_at", "kept"),
    [
        (THREE.index("</channel>") + len("</channel></rss"), ["g1", "g2", "g3"]),  # only the last ">" missing
        (THREE.index("</channel>"), ["g1", "g2", "g3"]),
        (THREE.index("Tin thứ ba") + 3, ["g1", "g2"]),  # inside the third item's title
        (THREE.index("<guid>g3") + 7, ["g1", "g2"]),
        (THREE.index("<description>", THREE.index("g3")) + 16, ["g1", "g2"]),  # its text half there
    ],
)
def test_truncated_feed_keeps_the_items_that_arrived_whole(cut_at: int, kept: list[str]) -> None:
    # A half-arrived item is not kept: stored with a cut text, its key would make the whole one "seen".
    parsed = parse_feed(THREE[:cut_at].encode(), url=URL)
    assert [e["id"] for e in parsed.entries] == kept
    assert parsed.warning == f"truncated XML: the document ends before </rss>; {len(kept)} complete items kept"


def test_truncated_atom_feed_keeps_whole_entries() -> None:
    two = ATOM.replace("</entry>", "</entry>" + ATOM[ATOM.index("<entry>"):ATOM.index("</entry>")].replace(
        "2026:1", "2026:2") + "</entry>", 1)
    parsed = parse_feed(two[: two.rindex("</entry>") - 5].encode(), url=URL)
    assert [e["id"] for e in parsed.entries] == ["tag:e.vn,2026:1"]
    assert parsed.warning is not None and parsed.warning.startswith("truncated XML: the document ends before </feed>")


def test_billion_laughs_refused_fast() -> None:
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    ]
    doc = f'<?xml version="1.0"?><!DOCTYPE rss [{"".join(levels)}]>' + rss(item("&lol9;")).split("?>", 1)[1]
    started = time.monotonic()
    with pytest.raises(FeedError, match="declares XML entities"):
        parse_feed(doc.encode(), url=URL)
    assert time.monotonic() - started < 0.5


def test_rss091_doctype_without_entities_is_fine() -> None:
    decl = (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"'
        ' "http://my.netscape.com/publish/formats/rss-0.91.dtd">'
    )
    assert titles(rss(item(), decl=decl).encode()) == [TITLE]


def test_root_element_skips_prolog() -> None:
    text = (
        '<?xml version="1.0"?>\n<!-- generated --><?xml-stylesheet href="a.xsl"?>\n'
        "<!DOCTYPE x [<!ELEMENT x ANY>]><rss/>"
    )
    assert root_element(text) == "rss"
    assert root_element("   ") is None


def test_trailing_junk_after_root_is_not_truncation() -> None:
    doc = rss(item()) + "<!-- served in 0.02s -->\n<b>Warning</b>: deprecated"
    assert titles(doc.encode()) == [TITLE]

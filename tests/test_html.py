"""daemon.text.html: feed HTML → the article's own words (shapes taken from Vietnamese outlets' feeds)."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.text import normalize, normalize_body
from daemon.text.html import (
    _CAPTION,
    _CAPTION_MAX,
    _is_caption,
    _Node,
    _one_spaced,
    _parse,
    _parse_simple,
    _TreeBuilder,
    article_text,
    html_to_text,
    strip_outlet_prefix,
)

LEAD = "Chiều 25-12, Thành ủy tổ chức Hội nghị tổng kết công tác Văn phòng cấp ủy năm 2025."


def test_tags_entities_scripts_and_blocks() -> None:
    html = (
        "<div><p>Đoạn một &amp; &quot;trích dẫn&quot; &#7843;nh&nbsp;hưởng</p>"
        "<script>var x = '<p>không phải bài</p>';</script><style>p{color:red}</style>"
        "<p>Dòng A<br>Dòng B<br/>Dòng C</p><ul><li>Ý một</li><li>Ý hai</li></ul></div>"
    )
    assert html_to_text(html) == 'Đoạn một & "trích dẫn" ảnh hưởng\n\nDòng A\nDòng B\nDòng C\n\nÝ một\nÝ hai'


def test_plain_text_and_stray_angle_brackets_survive() -> None:
    assert html_to_text("Tăng trưởng 8% < kế hoạch & > năm trước") == "Tăng trưởng 8% < kế hoạch & > năm trước"
    assert html_to_text("  nhiều   khoảng\u00a0trắng ") == "nhiều khoảng trắng"


def test_double_escaped_title() -> None:
    # What feedparser leaves of "&amp;quot;" in a title: one more level of escaping to undo.
    assert html_to_text("Giá vàng &quot;nhảy múa&quot; &amp; USD") == 'Giá vàng "nhảy múa" & USD'


def test_output_is_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "<p>Đảng bộ Thành phố Huế</p>")
    out = article_text(nfd)
    assert out == "Đảng bộ Thành phố Huế"
    assert unicodedata.is_normalized("NFC", out)


def test_image_link_and_trailing_related_list_removed() -> None:
    html = (
        '<a href="https://e.vn/a.html"><img src="https://cdn.e.vn/a.jpg?w=1&h=2" /></a><br />'
        f"TTO - {LEAD}"
        '<ul><li><a href="/b.html">Bài khác một</a></li><li><a href="/c.html">Bài khác hai</a></li></ul>'
    )
    assert article_text(html) == LEAD


def test_trailing_inline_related_links_removed() -> None:
    html = f'{LEAD}<br/><a href="/x">Tin khác: Hà Nội ra mắt</a><br/><a href="/y">Tin khác nữa</a>'
    assert article_text(html) == LEAD


def test_related_box_in_the_middle_removed_but_prose_with_links_kept() -> None:
    html = (
        f'<p>{LEAD}</p><div class="box-related"><a href="/1">Một</a></div>'
        '<div><p><a href="/2">Tiêu đề khác A</a></p><p><a href="/3">Tiêu đề khác B</a></p></div>'
        '<p>Theo <a href="/nq">Nghị quyết 57-NQ/TW</a>, chuyển đổi số được đẩy mạnh.</p>'
    )
    assert article_text(html) == f"{LEAD}\n\nTheo Nghị quyết 57-NQ/TW, chuyển đổi số được đẩy mạnh."


SHOW_NOTES = (
    "<p>Trong tập này, nhà báo Minh Anh trò chuyện với TS. Nguyễn Văn Bình về chuyển đổi số ở cấp xã.</p>"
    "<p>Tài liệu nhắc đến trong tập:</p><ul>"
    '<li><a href="https://vanban.chinhphu.vn/?docid=212345">Nghị quyết 57-NQ/TW về khoa học, công nghệ</a></li>'
    '<li><a href="https://www.youtube.com/watch?v=abc">Video toàn văn buổi tọa đàm</a></li>'
    '<li><a href="https://www.facebook.com/podcast.x">Fanpage của chương trình</a></li></ul>'
)
SHOW_NOTES_TEXT = (
    "Trong tập này, nhà báo Minh Anh trò chuyện với TS. Nguyễn Văn Bình về chuyển đổi số ở cấp xã.\n\n"
    "Tài liệu nhắc đến trong tập:\n\nNghị quyết 57-NQ/TW về khoa học, công nghệ\n\n"
    "Video toàn văn buổi tọa đàm\n\nFanpage của chương trình"
)


def test_links_to_other_sites_are_content_not_related_articles() -> None:
    # A podcast's show notes: a trailing list of links, but none to the outlet's own articles.
    assert article_text(SHOW_NOTES, site=["https://podcast.e.vn/tap-12", "https://podcast.e.vn/feed.xml"]) == (
        SHOW_NOTES_TEXT
    )


def test_links_to_the_outlets_own_pages_are_still_related_articles() -> None:
    html = (
        f"<p>{LEAD}</p><ul><li><a href=\"https://www.e.vn/b.html\">Bài khác một</a></li>"
        '<li><a href="https://m.e.vn/c.html">Bài khác hai</a></li><li><a href="/d.html">Bài khác ba</a></li>'
        '<li><a href="https://tinhuy.e.vn/d.html">Bài khác bốn</a></li></ul>'
    )
    assert article_text(html, site=["https://e.vn/a.html"]) == LEAD
    assert article_text(SHOW_NOTES) != SHOW_NOTES_TEXT  # without a site, every link list looks related


@pytest.mark.parametrize("marker", ["Xem thêm:", "Tin liên quan:", ">> Đọc thêm", "Bài liên quan"])
def test_see_also_section_cut(marker: str) -> None:
    html = f'<p>{LEAD}</p><p>{marker}</p><p><a href="/x">Một bài khác</a></p><p>Câu chữ sau đó</p>'
    assert article_text(html) == LEAD


def test_see_also_as_first_line_is_not_cut() -> None:
    # Nothing before it: not a tail, so not removed (better keep too much than lose an article).
    assert article_text("<p>Xem thêm quy định mới về đất đai</p>") == "Xem thêm quy định mới về đất đai"


def test_captions_removed() -> None:
    html = (
        f"<p>{LEAD}</p><figure><img src='x.jpg'><figcaption>Quang cảnh hội nghị</figcaption></figure>"
        "<p><em>Phó Bí thư Thường trực Thành ủy phát biểu chỉ đạo. Ảnh: NGỌC PHÚ</em></p>"
        '<p class="PhotoCMS_Caption">Đại biểu dự hội nghị</p>'
        "<p>(Ảnh minh họa)</p><p>Đoạn cuối có nói về ảnh: không phải chú thích vì quá dài và là văn xuôi.</p>"
    )
    assert article_text(html) == (
        f"{LEAD}\n\nĐoạn cuối có nói về ảnh: không phải chú thích vì quá dài và là văn xuôi."
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(Chinhphu.vn) - Chiều nay, Thủ tướng chủ trì", "Chiều nay, Thủ tướng chủ trì"),
        ("VOV.VN - Sáng 21-8, Quốc hội", "Sáng 21-8, Quốc hội"),
        ("(PLO)- Tòa án tuyên", "Tòa án tuyên"),
        ("TTO - Sáng 22-8", "Sáng 22-8"),
        ("ĐNO - Chiều 18-10, Văn phòng Thành ủy", "Chiều 18-10, Văn phòng Thành ủy"),
        ("(Dân trí) - Sáng nay", "Sáng nay"),
        ("(NLĐO) – Chiều 3-9", "Chiều 3-9"),
        ("VTV.vn - Tin mới", "Tin mới"),
        ("(CLO) Chiều 18-10", "Chiều 18-10"),
        # left alone: datelines, ordinary sentences, a caption-like parenthesis
        ("TP.HCM - Chiều 25-12", "TP.HCM - Chiều 25-12"),
        ("Hà Nội - Sáng 1-9", "Hà Nội - Sáng 1-9"),
        ("Ông Nguyễn Văn A - Bí thư Thành ủy - phát biểu", "Ông Nguyễn Văn A - Bí thư Thành ủy - phát biểu"),
        ("(Ảnh minh họa) Nội dung", "(Ảnh minh họa) Nội dung"),
        ("TTO - ", "TTO - "),
    ],
)
def test_strip_outlet_prefix(raw: str, expected: str) -> None:
    assert strip_outlet_prefix(raw) == expected


def test_article_text_strips_prefix_after_image() -> None:
    html = '<a href="/a"><img src="/a.jpg"></a>(Dân trí) - ' + LEAD
    assert article_text(html) == LEAD


def test_unclosed_and_stray_tags_do_not_lose_text() -> None:
    html = "<p>Một<p>Hai</span></div><div>Ba"
    assert article_text(html) == "Một\n\nHai\n\nBa"


# -- the fast tokenizer (``_parse_simple``) builds exactly the tree HTMLParser builds, or declines ----------

def _reference(html: str) -> _Node:
    builder = _TreeBuilder()
    builder.feed(unicodedata.normalize("NFC", html))
    builder.close()
    return builder.root


_TEXT = st.text(alphabet="aăâđêôơưạảãáàÁĐ Nghị quyết5\u00a0\t\n;#&>\"'=/", max_size=12)
_ENTITY = st.sampled_from(["&amp;", "&nbsp;", "&#7843;", "&#x1EA1;", "&quot;", "&lt;p&gt;", "&amp", "& ", "&#",
                           "&xyz;"])
_NAME = st.sampled_from(["a", "p", "br", "img", "li", "UL", "Div", "h2", "span", "figcaption", "x1"])
_SPACE = st.sampled_from([" ", "  ", "\n", "\t", "\f"])
_QUOTED = st.one_of(
    st.builds(lambda t: f'"{t}"', st.text(alphabet="abc /:.-_&;#>='x\u00a0", max_size=10)),
    st.builds(lambda t: f"'{t}'", st.text(alphabet='abc /:.-_&;#>="x', max_size=10)),
)
_BARE = st.text(alphabet="abc123.:-_%&;#/", min_size=1, max_size=8)


def _tags(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    attribute = st.builds(lambda sp, name, eq, value: sp + name + (f"{eq}{value}" if value is not None else ""),
                          _SPACE, st.sampled_from(["href", "class", "SRC", "data-x", "alt", "x:y", "width"]),
                          st.sampled_from(["=", " = ", "=\n"]), st.none() | values)
    return st.one_of(
        st.builds(lambda name, attrs, sp, close: f"<{name}{''.join(attrs)}{sp}{close}>", _NAME,
                  st.lists(attribute, max_size=3), st.sampled_from(["", " ", "\n"]), st.sampled_from(["", "/"])),
        st.builds(lambda name, sp: f"</{name}{sp}>", _NAME, st.sampled_from(["", " ", "\t"])))


_PLAIN = st.one_of(_TEXT.filter(lambda t: "&" not in t), _ENTITY, _tags(_QUOTED))
# What HTMLParser must be left to (or what must come out the same either way).
_ODD = st.sampled_from([
    "<script>x = '<p>';</script>", "<style>p{}</style>", "<title>a<b>c</title>", "<textarea><p></textarea>",
    "<!-- c -->", "<!DOCTYPE html>", "<?xml x?>", "<![CDATA[x]]>", "<", "< p>", "<p", "a<b", "</>", "</ p>",
    "</a x>", "<a href=x/>", "<a href=>", '<a href="x"title="y">', "<a\u00a0href='x'>", "<a\vb>", "<p/ >",
    "<img src=x />", "<a href=\"x\"/>", "<br/>", "</br>", "<a b='1' b='2'>", "<p:x>", "<a =x>", "&", "&#x;",
])


@settings(max_examples=400, deadline=None)
@given(st.lists(_PLAIN, max_size=12))
def test_plain_fragments_take_the_fast_path_with_htmlparsers_tree(pieces: list[str]) -> None:
    html = unicodedata.normalize("NFC", "".join(pieces))
    simple = _parse_simple(html)
    assert simple is not None, html
    assert simple == _reference(html), html


@settings(max_examples=600, deadline=None)
@given(st.lists(st.one_of(_PLAIN, _tags(_QUOTED | _BARE), _TEXT, _ODD), max_size=12))
def test_any_fragment_gets_htmlparsers_tree_fast_or_not(pieces: list[str]) -> None:
    html = "".join(pieces)
    simple = _parse_simple(unicodedata.normalize("NFC", html))
    assert simple is None or simple == _reference(html), html
    assert _parse(html) == _reference(html), html


def test_feed_item_shapes_take_the_fast_path() -> None:
    description = ('<a href="https://baodanang.vn/bai-1.htm"><img src="https://baodanang.vn/anh/1.jpg" alt="Ảnh"'
                   ' width="180" height="108"/></a></br>' + LEAD + ' <ul class="related"><li><a href="/bai-2.htm">'
                   "Tin liên quan &amp; khác</a></li></ul>")
    simple = _parse_simple(description)
    assert simple is not None and simple == _reference(description)
    assert _parse_simple("<p>a</p><!-- quảng cáo -->") is None
    assert _parse_simple("<p>x</p><script>var a = '<b>';</script>") is None


# -- shortcuts that skip a regular expression must agree with it -------------------------------------------

_CAPTION_PIECES = st.sampled_from(["Ảnh", "ảnh", "ẢNH", "ảnh minh họa", "Ảnh minh họa", "Nguồn ảnh", "Nguồn",
                                   "Photo", "PHOTO", "(", ")", ":", " : ", " ", ".", "/", "TTXVN", "NGỌC PHÚ",
                                   "Hà Nam", "\u00a0", "\t", "phát biểu", "x"])


@settings(max_examples=600, deadline=None)
@given(st.lists(_CAPTION_PIECES, max_size=10).map("".join) | st.text(max_size=30)
       | st.tuples(st.sampled_from(["", "Lãnh đạo phát biểu. ", "x "]), _CAPTION_PIECES,
                   st.sampled_from([": TTXVN", ":NGỌC PHÚ)", "", ".", ")", " minh họa"])).map("".join))
def test_caption_shortcut_agrees_with_the_pattern(line: str) -> None:
    assert _is_caption(line) == (len(line) <= _CAPTION_MAX and bool(_CAPTION.search(line))), line


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=" \t\n\r\f\v\u00a0\u2028\u202f\x85ab ạ\ue000", max_size=16))
def test_one_spaced_is_the_space_rule(text: str) -> None:
    assert _one_spaced(text) == re.sub(r"[ \t\r\f\v\u00a0]+", " ", text.replace("\n", " ")), repr(text)


_PREFIX_PIECES = st.sampled_from([
    "TTO - ", "(Chinhphu.vn) - ", "(PLO)", "(PLO)- ", "VOV.VN - ", "(Dân trí) -", "ĐNO – ", "(CLO) ", "(Ảnh) ",
    "TP.HCM - ", "(Trực tiếp) ", "(", ")", "-", "—", ":", "|", " ", "\n", "\n\n", "\u00a0", "\u200b", "q", "Q", "u",
    "ý", "uỷ", "hoà", "\u0301", "o\u0300a", "VOV", ".VN", "Hà Nội", "Chiều 25-12, ",
])


@settings(max_examples=800, deadline=None)
@given(st.lists(_PREFIX_PIECES, max_size=10).map("".join))
def test_the_words_after_an_outlet_prefix_keep_the_canonical_form(raw: str) -> None:
    """``strip_outlet_prefix`` types what it keeps canonical when it was given canonical text: it must be."""
    body = strip_outlet_prefix(normalize_body(raw))
    assert normalize_body(str(body)) == body and isinstance(body, type(normalize_body(raw))), repr(raw)
    title = strip_outlet_prefix(normalize(raw), title=True)
    assert normalize(str(title)) == title and isinstance(title, type(normalize(raw))), repr(raw)

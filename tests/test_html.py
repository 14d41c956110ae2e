"""daemon.text.html: feed HTML → the article's own words (shapes taken from Vietnamese outlets' feeds)."""

from __future__ import annotations

import unicodedata

import pytest

from daemon.text.html import article_text, html_to_text, strip_outlet_prefix

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

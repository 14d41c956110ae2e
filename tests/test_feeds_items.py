"""Items → Documents: keys that survive tracking parameters, clean text, Vietnamese feed dates."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from typing import Any

import pytest

from daemon.sources.feeds.items import clean_url, feed_documents, item_key, to_document
from daemon.sources.feeds.parse import parse_feed
from daemon.text.dates import VN_TZ, parse_datetime

FETCHED = datetime(2026, 11, 23, 11, 0, tzinfo=VN_TZ)
FEED = "http://127.0.0.1:8000/rss/chinh-tri.rss"
LEAD = "Chiều 25-12, Thành ủy tổ chức Hội nghị tổng kết công tác Văn phòng cấp ủy năm 2025."


def entries(items: str) -> list[dict[str, Any]]:
    doc = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<channel><title>T</title>{items}</channel></rss>"
    )
    return parse_feed(doc.encode(), url=FEED).entries


def one(item: str) -> dict[str, Any]:
    return entries(f"<item>{item}</item>")[0]


def doc_of(item: str, **kw: Any) -> Any:
    return to_document(one(item), source="vptu", fetched_at=FETCHED, base=FEED, **kw)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://e.vn/a.html?utm_source=rss&utm_medium=feed", "https://e.vn/a.html"),
        ("https://e.vn/a.html?id=7&utm_campaign=x&page=2", "https://e.vn/a.html?id=7&page=2"),
        ("https://e.vn/a.html?at_medium=RSS&at_campaign=feed&fbclid=abc&gclid=z", "https://e.vn/a.html"),
        ("https://e.vn/a.html?zarsrc=30&gidzl=abc&q=%C4%91%E1%BA%A3ng", "https://e.vn/a.html?q=%C4%91%E1%BA%A3ng"),
        ("HTTPS://E.VN/Path/A.html#doan-2", "https://e.vn/Path/A.html#doan-2"),
        ("  https://e.vn/a  ", "https://e.vn/a"),
    ],
)
def test_clean_url(url: str, expected: str) -> None:
    assert clean_url(url) == expected


def test_key_prefers_guid() -> None:
    assert item_key(one("<guid isPermaLink='false'>vptu-001</guid><link>https://e.vn/a</link><title>x</title>")) == (
        "vptu-001"
    )


def test_key_from_guid_url_drops_tracking() -> None:
    entry = one("<guid>https://e.vn/a.html?utm_source=rss</guid><title>x</title>")
    assert item_key(entry) == "https://e.vn/a.html"


def test_key_from_link_when_no_guid() -> None:
    a = one("<link>https://e.vn/a.html?utm_source=rss&amp;at_medium=x</link><title>x</title>")
    b = one("<link>https://e.vn/a.html?utm_source=zalo</link><title>x</title>")
    assert item_key(a) == item_key(b) == "https://e.vn/a.html"


def test_key_from_text_hash_when_nothing_else() -> None:
    a = doc_of(f"<title>Tiêu đề</title><description>{LEAD}</description>")
    b = doc_of(f"<title>Tiêu đề</title><description>{LEAD}</description>")
    c = doc_of("<title>Tiêu đề</title><description>Khác</description>")
    assert a.locator.startswith("h:") and len(a.locator) == 34
    assert a.locator == b.locator != c.locator


def test_relative_link_resolved_against_feed() -> None:
    d = doc_of("<title>x</title><link>/chinh-tri/bai-1.html?utm_source=rss</link>")
    assert d.url == "http://127.0.0.1:8000/chinh-tri/bai-1.html"
    assert d.locator == d.url


def test_non_url_guid_is_not_a_url() -> None:
    d = doc_of("<title>x</title><guid>12345</guid><description>y</description>")
    assert d.url is None and d.locator == "12345"


@pytest.mark.parametrize("bad", ["http://[x/a", "//[x", "https://[2001:db8::1/bai"])
def test_a_link_that_is_no_url_costs_only_its_url_not_the_feed(bad: str) -> None:
    """A malformed guid or link (an unclosed IPv6 bracket: ``urlsplit`` raises) is no URL: the item is
    kept, keyed by its guid's text or its content, and the feed's other items are read as usual."""
    items = (f"<item><title>Một</title><guid>{bad}</guid><description>{LEAD}</description></item>"
             f"<item><title>Hai</title><link>{bad}</link><description>Nội dung thứ hai.</description></item>"
             "<item><title>Ba</title><link>https://e.vn/ba</link><description>Nội dung thứ ba.</description></item>")
    body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
            f"{items}</channel></rss>").encode()
    docs, _, keys = feed_documents(body, source="vptu", url=FEED, content_type=None, fetched_at=FETCHED)
    assert [d.title for d in docs] == ["Một", "Hai", "Ba"]
    assert [d.url for d in docs] == [None, None, "https://e.vn/ba"]
    assert keys[0] == bad and keys[1].startswith("h:") and keys[2] == "https://e.vn/ba"
    # the next poll skips the items its guid or link names, unread; one keyed by its text is read again,
    # as any item without a guid or link is (the store knows it by its content hash)
    again = feed_documents(body, source="vptu", url=FEED, content_type=None, fetched_at=FETCHED, known=keys)
    assert [d.title for d in again[0]] == ["Hai"] and again[2] == keys


def test_document_text_from_cdata_html() -> None:
    d = doc_of(
        "<title><![CDATA[Văn phòng Thành uỷ tổng kết &amp; khen thưởng]]></title>"
        "<link>https://e.vn/a.html?utm_source=rss</link><category>Chính trị</category><category>Xã hội</category>"
        f'<description><![CDATA[<a href="https://e.vn/a.html"><img src="https://cdn.e.vn/a.jpg"/></a>'
        f'<br/>(Chinhphu.vn) - {LEAD}<div><a href="/b">Bài khác</a><br/><a href="/c">Bài nữa</a></div>]]></description>'
    )
    assert d.title == "Văn phòng Thành ủy tổng kết & khen thưởng"  # new tone placement, entity decoded
    assert d.body == LEAD
    assert d.url == "https://e.vn/a.html"
    assert d.category == "Chính trị"
    assert d.source == "vptu"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("VOV.VN - Thành ủy Đà Nẵng triển khai nhiệm vụ năm 2026", "Thành ủy Đà Nẵng triển khai nhiệm vụ năm 2026"),
        ("(Chinhphu.vn) - Thủ tướng chủ trì phiên họp", "Thủ tướng chủ trì phiên họp"),
        ("(PLO) Tòa án tuyên án", "Tòa án tuyên án"),
        # a title is short and every word counts: only what is surely an outlet goes
        ("TP.HCM - Khai mạc hội nghị", "TP.HCM - Khai mạc hội nghị"),
        ("ASEAN - Trung Quốc thúc đẩy hợp tác", "ASEAN - Trung Quốc thúc đẩy hợp tác"),
        ("(Trực tiếp) Lễ khai mạc Đại hội", "(Trực tiếp) Lễ khai mạc Đại hội"),
        ("VOV.VN - ", "VOV.VN -"),
    ],
)
def test_title_loses_the_outlet_prefix_as_the_body_does(raw: str, expected: str) -> None:
    d = doc_of(f"<title>{raw}</title><description>VOV.VN - {LEAD}</description>")
    assert (d.title, d.body) == (expected, LEAD)


def test_show_notes_linking_elsewhere_are_kept_and_own_related_links_removed() -> None:
    notes = ('<ul><li><a href="https://www.youtube.com/watch?v=abc">Video toàn văn buổi tọa đàm</a></li>'
             '<li><a href="https://sach.vn/dac-nhan-tam">Sách Đắc nhân tâm</a></li></ul>')
    related = ('<ul><li><a href="http://127.0.0.1:8000/b.html">Bài khác một</a></li>'
               '<li><a href="https://podcast.e.vn/tap-11">Tập trước</a></li></ul>')
    d = doc_of(f"<title>Tập 12</title><link>https://podcast.e.vn/tap-12</link>"
               f"<description><![CDATA[<p>{LEAD}</p>{notes}{related}]]></description>")
    assert d.body == f"{LEAD}\n\nVideo toàn văn buổi tọa đàm\n\nSách Đắc nhân tâm"


def test_content_encoded_preferred_when_longer() -> None:
    full = f"<p>{LEAD}</p><p>Đoạn thứ hai của bài viết, dài hơn phần tóm tắt.</p>"
    d = doc_of(f"<title>x</title><description>Tóm tắt</description><content:encoded><![CDATA[{full}]]>"
               "</content:encoded>")
    assert d.body == f"{LEAD}\n\nĐoạn thứ hai của bài viết, dài hơn phần tóm tắt."


def test_summary_kept_when_content_is_shorter() -> None:
    d = doc_of(f"<title>x</title><description>{LEAD}</description><content:encoded>Ngắn</content:encoded>")
    assert d.body == LEAD


def test_nfd_item_becomes_nfc() -> None:
    d = doc_of(unicodedata.normalize("NFD", f"<title>Đảng ủy</title><description>{LEAD}</description>"))
    assert d.title == "Đảng ủy" and d.body == LEAD
    assert unicodedata.is_normalized("NFC", d.title + d.body)


def test_headline_only_item_uses_title_as_body_and_empty_item_is_skipped() -> None:
    assert doc_of("<title>Chỉ có tiêu đề</title>").body == "Chỉ có tiêu đề"
    assert doc_of("<guid>x</guid>") is None


@pytest.mark.parametrize(
    "item",
    [
        "<title/><description>No Description</description><guid>p1</guid>",
        "<title></title><description><![CDATA[<p>No description available.</p>]]></description>",
        "<title>(no title)</title><description>Không có mô tả</description>",
        "<title>Untitled</title><description>&lt;p&gt;&amp;nbsp;&lt;/p&gt;</description>",
    ],
)
def test_item_with_only_placeholders_is_skipped(item: str) -> None:
    # What a CMS writes into an empty field is not an article: stored, it would hash and match as one.
    assert doc_of(item) is None


def test_placeholder_body_leaves_a_headline_only_item_and_prose_is_not_a_placeholder() -> None:
    headline = doc_of("<title>Chỉ có tiêu đề</title><description>No Description</description>")
    assert (headline.title, headline.body) == ("Chỉ có tiêu đề", "Chỉ có tiêu đề")
    untitled = doc_of(f"<title>Untitled</title><description>{LEAD}</description>")
    assert (untitled.title, untitled.body) == (LEAD, LEAD)
    short = doc_of("<title>x</title><description>No Description</description><content:encoded>Ngắn</content:encoded>")
    assert short.body == "Ngắn"  # a placeholder summary does not win over a shorter real text
    prose = doc_of("<title>x</title><description>No description of the plan was given.</description>")
    assert prose.body == "No description of the plan was given."


def test_title_derived_from_body_when_missing() -> None:
    assert doc_of(f"<description>{LEAD}</description>").title == LEAD


def test_full_text_body_overrides_lead_but_not_key() -> None:
    lead_only = doc_of(f"<title>x</title><description>{LEAD}</description>")
    full = doc_of(f"<title>x</title><description>{LEAD}</description>", body="Toàn văn  bài\r\n\r\n\r\nĐoạn hai")
    assert full.body == "Toàn văn bài\n\nĐoạn hai"
    assert full.locator == lead_only.locator


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Fri, 21 Aug 2026 23:19:06 +07:00", datetime(2026, 8, 21, 23, 19, 6, tzinfo=VN_TZ)),
        ("Fri, 21 Aug 2026 23:19:06 +07", datetime(2026, 8, 21, 23, 19, 6, tzinfo=VN_TZ)),
        ("Fri, 21 Aug 2026 16:19:06 GMT", datetime(2026, 8, 21, 23, 19, 6, tzinfo=VN_TZ)),
        ("8/22/2026 9:50:00\u202fPM", datetime(2026, 8, 22, 21, 50, tzinfo=VN_TZ)),
        ("Sat, 22 Aug 26 09:50:00 +0700", datetime(2026, 8, 22, 9, 50, tzinfo=VN_TZ)),
        ("22/08/2026 10:00 GMT+7", datetime(2026, 8, 22, 10, 0, tzinfo=VN_TZ)),
    ],
)
def test_vietnamese_feed_dates(raw: str, expected: datetime) -> None:
    d = doc_of(f"<title>x</title><pubDate>{raw}</pubDate>")
    assert d.published_at == expected
    assert d.published_raw == raw
    assert not d.date_inferred


def test_atom_updated_and_dc_date() -> None:
    dc = doc_of("<title>x</title><dc:date>2026-08-21T08:00:00+07:00</dc:date>")
    assert dc.published_at == datetime(2026, 8, 21, 8, 0, tzinfo=VN_TZ) and not dc.date_inferred


@pytest.mark.parametrize(("items", "expected"), [
    ("<pubDate>Fri, 21 Aug 2026 04:36:40 +0700 (ICT)</pubDate>", datetime(2026, 8, 21, 4, 36, 40, tzinfo=VN_TZ)),
    ("<pubDate>Fri, 21 Aug 2026 4:6:40 GMT</pubDate>", datetime(2026, 8, 21, 11, 6, 40, tzinfo=VN_TZ)),
    ("<pubDate>not a date</pubDate><dc:date>Fri, 21 Aug 2026 04:36:40 CET</dc:date>",  # feedparser: CET is UTC
     datetime(2026, 8, 21, 11, 36, 40, tzinfo=VN_TZ)),
    ("<pubDate>not a date</pubDate>", None),
])
def test_a_date_only_feedparser_reads_is_read_by_it(items: str, expected: datetime | None) -> None:
    """The fallback: the struct feedparser makes of the date (computed on demand for RSS read by fastparse),
    of the first date element that has one."""
    d = doc_of(f"<title>x</title>{items}")
    assert parse_datetime(d.published_raw or "") is None
    assert (d.published_at, d.date_inferred) == ((expected, False) if expected else (FETCHED, True))


@pytest.mark.parametrize("raw", ["", "not a date", "Fri, 21 Aug 2031 10:00:00 +07:00", "Mon, 01 Jan 1979 00:00:00 GMT"])
def test_missing_or_implausible_date_falls_back_to_fetch_time(raw: str) -> None:
    d = doc_of(f"<title>x</title><pubDate>{raw}</pubDate>" if raw else "<title>x</title>")
    assert d.published_at == FETCHED
    assert d.date_inferred
    assert d.published_raw == (raw or None)


def test_published_at_in_configured_zone() -> None:
    d = doc_of("<title>x</title><pubDate>Fri, 21 Aug 2026 16:19:06 GMT</pubDate>")
    assert d.published_at is not None and d.published_at.utcoffset() == timedelta(hours=7)

"""FeedFetcher against a real HTTP server on 127.0.0.1: good feeds, broken servers, hostile bodies.

The acceptance test puts every failure mode in ONE ``fetch_all`` call next to good feeds: each broken
feed must come back with its own one-line ``error`` while the others are parsed normally, and the whole
call must finish near the (small) deadline.
"""

from __future__ import annotations

import gzip
import socket
import time
import tracemalloc
import unicodedata
import zlib
from typing import Any

import pytest

from daemon.config import FetchSettings
from daemon.models import FeedConfig
from daemon.sources.feeds.fetch import FeedFetcher
from daemon.sources.feeds.results import FeedState, FetchResult
from daemon.text.dates import VN_TZ
from tests.helpers import Exchange, LoopbackServer, Servers, drip, never_answers, redirect, streamed

TIMEOUT = 1.5
MAX_BYTES = 256 * 1024
LEAD = "Chiều 25-12, Thành ủy tổ chức Hội nghị tổng kết công tác Văn phòng cấp ủy năm 2025."
TITLE = "Văn phòng Thành ủy tổng kết công tác năm 2025"


@pytest.fixture
def server(loopback: Servers) -> LoopbackServer:
    return loopback(http11=True)


# ---------------------------------------------------------------------------------------------
# feed documents


def rss(items: str, decl: str = '<?xml version="1.0" encoding="UTF-8"?>') -> str:
    return (
        f'{decl}\n<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>Chính trị</title><link>http://e.vn/</link>{items}</channel></rss>\n"
    )


def item(guid: str, title: str = TITLE, desc: str = LEAD, date: str = "Fri, 21 Aug 2026 23:19:06 +07:00",
         link: str | None = None) -> str:
    link_xml = f"<link>{link}</link>" if link else ""
    return (f"<item><title><![CDATA[{title}]]></title>{link_xml}<guid isPermaLink=\"false\">{guid}</guid>"
            f"<description><![CDATA[{desc}]]></description><pubDate>{date}</pubDate></item>")


GOOD_RSS = rss(
    item("a1", desc=f'<a href="http://e.vn/a1.html"><img src="http://cdn.e.vn/a1.jpg" /></a><br />TTO - {LEAD}'
         '<ul><li><a href="http://e.vn/x.html">Bài khác một</a></li><li><a href="http://e.vn/y.html">Bài khác hai</a>'
         "</li></ul>", link="http://e.vn/a1.html?utm_source=rss&amp;utm_medium=feed")
    + item("a2", title="Hội nghị Ban Chấp hành Đảng bộ", desc="(Dân trí) - Sáng 22-8, hội nghị khai mạc.",
           date="8/22/2026 9:50:00\u202fPM")
    + item("a3", title="Tin thứ ba", desc="Nội dung thứ ba.", date="Sat, 22 Aug 2026 07:00:00 +07")
)
ATOM = (
    '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Atom</title>'
    '<entry><id>tag:e.vn,2026:atom-1</id><title type="html">Đại hội &amp;amp; bầu cử</title>'
    '<link href="http://e.vn/atom-1.html?at_medium=RSS&amp;at_campaign=x"/>'
    '<summary type="html">&lt;p&gt;Tóm tắt ngắn&lt;/p&gt;</summary>'
    f'<content type="html">&lt;p&gt;{LEAD}&lt;/p&gt;&lt;p&gt;Đoạn thứ hai, dài hơn.&lt;/p&gt;</content>'
    "<updated>2026-08-21T10:00:00+07:00</updated><category term=\"Thời sự\"/></entry></feed>"
)
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>" + rss(item("bl", title="&lol9;")).split("?>", 1)[1]
)


def gzip_bomb(decoded_size: int) -> bytes:
    """gzip of ``decoded_size`` zero bytes, built in pieces so the test itself stays small in memory."""
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    piece = b"\0" * (1024 * 1024)
    out = [z.compress(piece) for _ in range(decoded_size // len(piece))]
    return b"".join(out) + z.flush()


def settings(**kw: Any) -> FetchSettings:
    base: dict[str, Any] = {"concurrency": 16, "per_host": 16, "timeout": TIMEOUT, "max_bytes": MAX_BYTES,
                            "max_redirects": 3, "user_agent": "newswatch-test/1.0 (+feeds test)"}
    base.update(kw)
    return FetchSettings(**base)


def job(name: str, url: str, **kw: Any) -> tuple[FeedConfig, FeedState]:
    return FeedConfig(name=name, url=url, **kw), FeedState(url=url, etag=None, last_modified=None)


# ---------------------------------------------------------------------------------------------
# tests


def by_name(results: list[FetchResult]) -> dict[str, FetchResult]:
    return {r.feed: r for r in results}


def test_good_and_broken_feeds_in_one_pass(server: LoopbackServer) -> None:
    s = server
    refused = socket.socket()
    refused.bind(("127.0.0.1", 0))
    refused_port = refused.getsockname()[1]
    refused.close()  # nothing listens there any more

    s.static("/good.rss", GOOD_RSS.encode())
    s.static("/atom.xml", ATOM.encode(), ctype="application/atom+xml")
    s.static("/utf16.rss", rss(item("u1"), decl='<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16"))
    s.static("/utf16le.rss", rss(item("u2"), decl='<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16-le"))
    s.static("/nfd.rss", unicodedata.normalize("NFD", rss(item("n1"))).encode())
    s.static("/lying.rss", rss(item("l1"), decl='<?xml version="1.0" encoding="ISO-8859-1"?>').encode(),
             ctype="text/xml; charset=ISO-8859-1")
    s.static("/bozo.rss", rss(item("b1", desc='<img src="http://i.vn/a.jpg?w=1&h=2">' + LEAD)
                              .replace("<![CDATA[<img", "<img").replace(LEAD + "]]>", LEAD)).encode())
    s.static("/gz.rss", gzip.compress(GOOD_RSS.encode()), headers={"Content-Encoding": "gzip"})
    s.routes["/old.rss"] = redirect(301, "/good.rss")
    s.static("/500.rss", b"oops", status=500, ctype="text/plain")
    s.routes["/timeout.rss"] = never_answers
    s.routes["/drip.rss"] = drip(0.1)
    s.static("/big.rss", rss(item("big", desc="x" * (MAX_BYTES + 10))).encode())
    s.routes["/big-stream.rss"] = streamed(lambda: iter([b"<rss>" + b"x" * 65536] * 8),
                                           {"Content-Type": "application/rss+xml"})
    bomb = gzip_bomb(32 * 1024 * 1024)
    s.routes["/bomb.rss"] = streamed(lambda: iter([bomb]), {"Content-Type": "application/rss+xml",
                                                            "Content-Encoding": "gzip"})
    s.static("/page.html", b"<!DOCTYPE html><html><head><title>Trang chu</title></head><body>Hi</body></html>",
             ctype="text/html")
    s.static("/truncated.rss", GOOD_RSS.encode()[: len(GOOD_RSS.encode()) // 2])  # inside the first item
    s.static("/cut.rss", GOOD_RSS.encode()[: GOOD_RSS.encode().index(b"Tin th\xe1\xbb\xa9 ba")])  # inside the third
    s.static("/lol.rss", BILLION_LAUGHS.encode())
    s.static("/empty.rss", b"")
    s.static("/noentries.rss", rss("").encode())
    s.routes["/to-file.rss"] = redirect(302, "file:///etc/passwd")
    s.routes["/loop.rss"] = redirect(302, "/loop.rss")

    good = ["good", "atom", "utf16", "utf16le", "nfd", "lying", "bozo", "gz", "old", "cut"]
    broken = {
        "404": ("/missing.rss", "HTTP 404 Not Found"),
        "500": ("/500.rss", "HTTP 500 Internal Server Error"),
        "timeout": ("/timeout.rss", f"timed out after {TIMEOUT:g} s"),
        "drip": ("/drip.rss", f"timed out after {TIMEOUT:g} s (total deadline)"),
        "big": ("/big.rss", "body larger than 256 KB (Content-Length"),
        "big-stream": ("/big-stream.rss", "body larger than 256 KB"),
        "bomb": ("/bomb.rss", "body larger than 256 KB"),
        "html": ("/page.html", "not a feed: got an HTML page"),
        "truncated": ("/truncated.rss", "truncated XML"),
        "lol": ("/lol.rss", "refused: the document declares XML entities"),
        "empty": ("/empty.rss", "empty response body"),
        "noentries": ("/noentries.rss", "the feed has no entries"),
        "to-file": ("/to-file.rss", "refusing URL with scheme file:"),
        "loop": ("/loop.rss", "too many redirects (more than 3)"),
    }
    paths = {"good": "/good.rss", "atom": "/atom.xml", "utf16": "/utf16.rss", "utf16le": "/utf16le.rss",
             "nfd": "/nfd.rss", "lying": "/lying.rss", "bozo": "/bozo.rss", "gz": "/gz.rss", "old": "/old.rss",
             "cut": "/cut.rss"}
    jobs = [job(n, s.url(paths[n])) for n in good] + [job(n, s.url(p)) for n, (p, _) in broken.items()]
    jobs.append(job("refused", f"http://127.0.0.1:{refused_port}/feed.rss"))

    started = time.monotonic()
    with FeedFetcher(settings()) as fetcher:
        results = fetcher.fetch_all(jobs)
    elapsed = time.monotonic() - started

    assert [r.feed for r in results] == [j[0].name for j in jobs]  # order kept
    res = by_name(results)
    for name in good:
        assert res[name].error is None, (name, res[name].error)
        assert res[name].documents, name
    for name, (_, message) in broken.items():
        error = res[name].error or ""
        assert error.startswith(message), (name, error)
        assert "\n" not in error
        assert res[name].documents == []
    assert res["refused"].error is not None and res["refused"].error.startswith("connection failed")
    assert res["refused"].status is None and res["timeout"].status is None
    assert res["404"].status == 404 and res["500"].status == 500
    assert res["drip"].status == 200  # the server did answer; only the body never finished

    # everything ran concurrently: about one deadline, not the sum of them
    assert elapsed < TIMEOUT + 2.5, elapsed
    # (each cut off at its deadline: the servers would never finish; the slack is for a loaded machine)
    assert res["drip"].elapsed < TIMEOUT + 2.0 and res["timeout"].elapsed < TIMEOUT + 2.0

    # good feeds' content
    g = res["good"].documents
    assert [d.locator for d in g] == ["a1", "a2", "a3"]
    assert g[0].title == TITLE and g[0].body == LEAD  # image link, "TTO - " and related list gone
    assert g[0].url == "http://e.vn/a1.html"
    assert g[0].published_at is not None and g[0].published_at.isoformat() == "2026-08-21T23:19:06+07:00"
    assert g[1].body == "Sáng 22-8, hội nghị khai mạc."
    assert g[1].published_raw == "8/22/2026 9:50:00\u202fPM" and not g[1].date_inferred
    assert g[1].published_at is not None and g[1].published_at.isoformat() == "2026-08-22T21:50:00+07:00"
    assert g[2].published_at is not None and g[2].published_at.isoformat() == "2026-08-22T07:00:00+07:00"
    a = res["atom"].documents[0]
    assert (a.locator, a.title, a.category) == ("tag:e.vn,2026:atom-1", "Đại hội & bầu cử", "Thời sự")
    assert a.body == f"{LEAD}\n\nĐoạn thứ hai, dài hơn." and a.url == "http://e.vn/atom-1.html"
    for name in ("utf16", "utf16le", "nfd", "lying"):
        d = res[name].documents[0]
        assert (d.title, d.body) == (TITLE, LEAD), name
    assert res["bozo"].warning is not None and res["bozo"].documents[0].body == LEAD
    assert res["good"].warning is None
    assert [d.locator for d in res["cut"].documents] == ["a1", "a2"]
    assert res["cut"].warning == "truncated XML: the document ends before </rss>; 2 complete items kept"
    assert [d.body for d in res["gz"].documents] == [d.body for d in g]
    assert res["old"].moved_to == s.url("/good.rss") and res["old"].url == s.url("/good.rss")
    assert res["old"].status == 200
    assert all(r.documents == [] or r.error is None for r in results)


def test_conditional_get_and_304(server: LoopbackServer) -> None:
    def conditional(h: Exchange) -> None:
        if h.headers.get("If-None-Match") == '"v1"':
            h.reply(304, b"", {"ETag": '"v1"'})
        else:
            h.reply(200, GOOD_RSS.encode(), {"Content-Type": "application/rss+xml", "ETag": '"v1"',
                                             "Last-Modified": "Fri, 21 Aug 2026 16:00:00 GMT",
                                             "Cache-Control": "max-age=600"})

    server.routes["/c.rss"] = conditional
    feed, state = job("c", server.url("/c.rss"))
    with FeedFetcher(settings()) as fetcher:
        first = fetcher.fetch(feed, state)
        assert first.error is None and len(first.documents) == 3
        assert (first.etag, first.last_modified, first.max_age) == ('"v1"', "Fri, 21 Aug 2026 16:00:00 GMT", 600)
        second = fetcher.fetch(feed, FeedState(state.url, first.etag, first.last_modified))
    assert second.not_modified and second.status == 304 and second.documents == [] and second.error is None
    assert second.etag == '"v1"' and second.last_modified == "Fri, 21 Aug 2026 16:00:00 GMT"
    sent = server.hits[-1].headers
    assert sent["if-none-match"] == '"v1"' and sent["if-modified-since"] == "Fri, 21 Aug 2026 16:00:00 GMT"
    assert "if-none-match" not in server.hits[0].headers
    assert server.hits[0].headers["user-agent"] == "newswatch-test/1.0 (+feeds test)"


def test_temporary_redirect_is_followed_but_not_remembered(server: LoopbackServer) -> None:
    server.static("/good.rss", GOOD_RSS.encode())
    server.routes["/tmp.rss"] = redirect(302, server.url("/good.rss"))
    server.routes["/perm-then-tmp.rss"] = redirect(308, "/tmp.rss")
    with FeedFetcher(settings()) as fetcher:
        tmp = fetcher.fetch(*job("t", server.url("/tmp.rss")))
        chain = fetcher.fetch(*job("p", server.url("/perm-then-tmp.rss")))
    assert tmp.error is None and tmp.moved_to is None and tmp.url == server.url("/good.rss")
    assert chain.error is None and chain.moved_to == server.url("/tmp.rss")


def test_retry_after_reported_on_503(server: LoopbackServer) -> None:
    server.static("/busy.rss", b"busy", status=503, ctype="text/plain", headers={"Retry-After": "120"})
    with FeedFetcher(settings()) as fetcher:
        r = fetcher.fetch(*job("busy", server.url("/busy.rss")))
    assert r.error == "HTTP 503 Service Unavailable" and r.retry_after == 120


def test_deadline_holds_when_a_drip_stalls_just_before_it(server: LoopbackServer) -> None:
    # Bytes arrive until shortly before the deadline, then nothing: a per-read timeout alone would wait
    # a whole further timeout; the total deadline must cut it at TIMEOUT.
    server.routes["/stall.rss"] = drip(0.2, stall_after=TIMEOUT - 0.3)
    with FeedFetcher(settings()) as fetcher:
        r = fetcher.fetch(*job("stall", server.url("/stall.rss")))
    assert r.error == f"timed out after {TIMEOUT:g} s (total deadline)"
    assert r.elapsed < TIMEOUT + 0.6, r.elapsed  # without the watchdog: about TIMEOUT + 1.1
    assert r.status == 200  # what the server answered before it stalled, for the feed's last_status


@pytest.mark.parametrize("stall_after", [None, 0.3], ids=["drip", "stall"])
def test_deadline_with_a_content_length_keeps_the_status(server: LoopbackServer, stall_after: float | None) -> None:
    # With a Content-Length, the socket shut down at the deadline is a protocol error inside httpx (a body
    # cut short), not the end of the body: the 200 must survive that path too.
    server.routes["/cl.rss"] = drip(0.1, stall_after=stall_after, length=100_000)
    with FeedFetcher(settings()) as fetcher:
        r = fetcher.fetch(*job("cl", server.url("/cl.rss")))
    assert r.error == f"timed out after {TIMEOUT:g} s (total deadline)"
    assert r.status == 200


def test_gzip_bomb_costs_little_memory(server: LoopbackServer) -> None:
    bomb = gzip_bomb(64 * 1024 * 1024)  # ~64 KB on the wire, 64 MB decoded
    server.routes["/bomb.rss"] = streamed(lambda: iter([bomb]), {"Content-Type": "application/rss+xml",
                                                                 "Content-Encoding": "gzip"})
    with FeedFetcher(settings()) as fetcher:
        tracemalloc.start()
        try:
            r = fetcher.fetch(*job("bomb", server.url("/bomb.rss")))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert r.error == "body larger than 256 KB"
    print(f"peak traced memory while refusing a 64 MB gzip bomb: {peak / 1024:.0f} KB")
    assert peak < 4 * 1024 * 1024, peak  # a one-shot decompression of one read would be ~64 MB


def test_per_host_limit(server: LoopbackServer) -> None:
    def slow_good(h: Exchange) -> None:
        time.sleep(0.3)
        h.reply(200, GOOD_RSS.encode(), {"Content-Type": "application/rss+xml"})

    for i in range(6):
        server.routes[f"/s{i}.rss"] = slow_good
    jobs = [job(f"s{i}", server.url(f"/s{i}.rss")) for i in range(6)]
    with FeedFetcher(settings(per_host=2, concurrency=6)) as fetcher:
        results = fetcher.fetch_all(jobs)
    assert all(r.error is None for r in results)
    assert server.max_active == 2


def test_full_text_fetches_article_page_and_falls_back_to_lead(server: LoopbackServer) -> None:
    paragraphs = "".join(
        f"<p>Đoạn {i}: Văn phòng Thành ủy tham mưu tổ chức thành công Đại hội đại biểu Đảng bộ thành phố, "
        f"triển khai kịp thời các nhiệm vụ ngay sau Đại hội và vận hành ổn định chính quyền hai cấp.</p>"
        for i in range(1, 8)
    )
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Bài viết</title></head><body>"
        "<nav><a href='/'>Trang chủ</a> <a href='/chinh-tri'>Chính trị</a></nav>"
        f"<article><h1>{TITLE}</h1>{paragraphs}</article>"
        "<footer>Bản quyền thuộc về báo điện tử. Liên hệ quảng cáo.</footer></body></html>"
    )
    server.static("/bai-1.html", page.encode(), ctype="text/html; charset=utf-8")
    feed_xml = rss(item("f1", desc=LEAD, link=server.url("/bai-1.html"))
                   + item("f2", desc="Chỉ có phần mở đầu.", link=server.url("/mat-roi.html")))
    server.static("/ft.rss", feed_xml.encode())
    feed = FeedConfig(name="ft", url=server.url("/ft.rss"), full_text=True)
    with FeedFetcher(settings()) as fetcher:
        r = fetcher.fetch(feed, FeedState(feed.url))
        again = fetcher.fetch(feed, FeedState(feed.url))
    assert r.error is None
    full, lead_only = r.documents
    assert "Đoạn 1: Văn phòng Thành ủy tham mưu" in full.body and "Đoạn 7:" in full.body
    assert "Trang chủ" not in full.body and "quảng cáo" not in full.body
    assert lead_only.body == "Chỉ có phần mở đầu."  # the page is a 404: keep the lead
    assert again.documents[0].body == full.body
    page_requests = [x for x in server.hits if x.path == "/bai-1.html"]
    assert len(page_requests) == 1  # the second poll used the remembered text


def test_fetch_never_raises_on_bad_url() -> None:
    with FeedFetcher(settings()) as fetcher:
        r = fetcher.fetch(*job("bad", "ftp://127.0.0.1/feed.rss"))
        weird = fetcher.fetch(*job("weird", "http://[::1"))
    assert r.error is not None and r.error.startswith("refusing URL with scheme ftp:")
    assert weird.error is not None and weird.documents == []


def test_published_times_are_in_configured_zone(server: LoopbackServer) -> None:
    server.static("/good.rss", GOOD_RSS.encode())
    with FeedFetcher(settings(), tz=VN_TZ) as fetcher:
        r = fetcher.fetch(*job("g", server.url("/good.rss")))
    assert all(d.published_at is not None and d.published_at.tzinfo == VN_TZ for d in r.documents)

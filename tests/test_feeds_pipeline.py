"""Issue 4 acceptance at pipeline and CLI level: feeds served from 127.0.0.1, a real SQLite file.

Feeds are served by the loopback server of tests/helpers.py (threaded, 127.0.0.1 only) from routes the tests can
change between polls: body, ETag, status, delay, redirect. Slow checks go through the real CLI
(``run --once``, ``feeds --json``, ``fetch NAME``); scheduling checks use ``Pipeline`` in-process with
an explicit ``now`` so no test waits for a clock.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest

from daemon.config import Config, load
from daemon.pipeline import Pipeline
from daemon.store import Store
from tests.helpers import Exchange, LoopbackServer, Receiver, Servers, write_config

Run = Callable[..., subprocess.CompletedProcess[str]]

TABLES = ("articles", "sightings", "matches", "alerts", "seed_files", "delivery_attempts")
NQ57 = ("Sáng 12-3, Ban Thường vụ Tỉnh ủy quán triệt Nghị quyết 57-NQ/TW về đột phá phát triển khoa học, "
        "công nghệ, đổi mới sáng tạo và chuyển đổi số quốc gia tới cán bộ chủ chốt.")
PLAIN = [
    "Chiều 25-12, Văn phòng Thành ủy tổ chức hội nghị tổng kết công tác năm và triển khai nhiệm vụ năm tới.",
    "Đoàn công tác của Ban Tuyên giáo đã làm việc với Đảng ủy xã về công tác phát triển đảng viên mới.",
    "Hội nghị đã thống nhất các giải pháp nâng cao chất lượng tham mưu, tổng hợp phục vụ lãnh đạo.",
    "Ủy ban Kiểm tra Huyện ủy công bố kết luận kiểm tra việc thực hiện quy chế làm việc nhiệm kỳ.",
]
RULE = '[[rules]]\nname = "nq57"\nkeywords = ["Nghị quyết 57"]\n'


# ---------------------------------------------------------------------------------------------
# feeds served from 127.0.0.1


@dataclass
class Item:
    guid: str
    title: str
    body: str
    link: str | None = None


def rss(items: list[Item], title: str = "Tin tức") -> bytes:
    entries = "".join(
        f"<item><guid isPermaLink=\"false\">{escape(i.guid)}</guid><title>{escape(i.title)}</title>"
        f"<link>{escape(i.link or 'http://127.0.0.1/' + i.guid)}</link>"
        f"<description>{escape('<p>' + i.body + '</p>')}</description>"
        "<pubDate>Thu, 12 Mar 2026 08:00:00 +0700</pubDate></item>"
        for i in items
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
            f"<link>http://127.0.0.1/</link><description>d</description>{entries}</channel></rss>").encode()


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0
    location: str | None = None


@dataclass
class Feeds:
    """Mutable routes over one loopback server; every request is counted and its headers kept."""

    server: LoopbackServer
    routes: dict[str, Route] = field(default_factory=dict)
    hits: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.server.url(path)

    def set(self, path: str, route: Route) -> str:
        if path not in self.routes:
            self.hits[path] = []
            self.server.route(path, lambda ex: self._answer(path, ex))
        self.routes[path] = route
        return self.url(path)

    def count(self, path: str) -> int:
        with self.lock:
            return len(self.hits[path])

    def _answer(self, path: str, ex: Exchange) -> None:
        route = self.routes[path]
        with self.lock:
            self.hits[path].append(dict(ex.hit.headers))
        if route.delay:
            ex.stop.wait(route.delay)  # set at teardown, so no handler outlives its test for long
        if route.location:
            ex.reply(route.status, b"", {"Location": route.location})
        elif route.etag and ex.headers.get("If-None-Match") == route.etag:
            ex.reply(304, b"", {"ETag": route.etag})
        else:
            headers = {k: v for k, v in (("ETag", route.etag), ("Last-Modified", route.last_modified)) if v}
            ex.reply(route.status, route.body, {"Content-Type": route.content_type, **headers})


@pytest.fixture
def feeds(loopback: Servers) -> Feeds:
    return Feeds(loopback(http11=True))  # threaded: a slow feed delays no other


# ---------------------------------------------------------------------------------------------
# helpers


def feed_toml(name: str, url: str, extra: str = "") -> str:
    return f'[[feeds]]\nname = "{name}"\nurl = "{url}"\ninterval = "1m"\n{extra}'


FETCH = '[fetch]\ntimeout = "1s"\nmax_backoff = "1h"\n'


def configure(folder: Path, extra: str) -> Config:
    (folder / "seeds").mkdir(exist_ok=True)
    (folder / "state").mkdir(exist_ok=True)
    return load(write_config(folder, FETCH + extra))


@pytest.fixture
def open_pipeline() -> Iterator[Callable[[Config], Pipeline]]:
    opened: list[Pipeline] = []

    def make(config: Config) -> Pipeline:
        pipeline = Pipeline(config, Store(config.db_path, config.tz))
        opened.append(pipeline)
        return pipeline

    yield make
    for p in opened:
        p.close()
        p.store.close()


def db(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    return conn


def counts(path: Path) -> dict[str, int]:
    with db(path) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def feed_row(path: Path, name: str) -> dict[str, Any]:
    with db(path) as conn:
        return dict(conn.execute("SELECT * FROM feeds WHERE name = ?", (name,)).fetchone())


def lines_naming(stderr: str, name: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if f"feed {name}:" in ln or f"feed {name} " in ln]


# ---------------------------------------------------------------------------------------------
# run --once: three feeds beside the seeds, one of them broken


BROKEN = {
    "http500": (Route(b"oops", status=500, content_type="text/plain"), "HTTP 500"),
    "html": (Route("<!doctype html><html><head><title>Trang chủ</title></head><body><p>Xin chào</p>"
                   "</body></html>".encode(), content_type="text/html; charset=utf-8"), "not a feed"),
    "timeout": (Route(rss([Item("late", "Muộn", PLAIN[0])]), delay=4.0), "timed out"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_run_once_ingests_good_feeds_and_seeds_beside_a_broken_feed(
        kind: str, project: Path, run_cli: Run, feeds: Feeds) -> None:
    route, error_text = BROKEN[kind]
    a = feeds.set("/a.rss", Route(rss([Item("a-1", "Tin A1", PLAIN[0]), Item("a-2", "Tin A2", PLAIN[1])])))
    b = feeds.set("/b.rss", Route(rss([Item("b-1", "Tin B1", PLAIN[2]), Item("b-2", "Tin B2", PLAIN[3]),
                                       Item("b-3", "Tin B3", NQ57)])))
    c = feeds.set("/c.rss", route)
    write_config(project, FETCH + feed_toml("alpha", a) + feed_toml("beta", b) + feed_toml("gamma", c))

    proc = run_cli("run", "--once")
    dbfile = project / "state" / "news.db"
    with db(dbfile) as conn:
        by_source = dict(conn.execute("SELECT source, count(*) FROM sightings GROUP BY source").fetchall())
    assert by_source == {"seeds": 5, "alpha": 2, "beta": 3}
    assert counts(dbfile)["articles"] == 10

    health = {f["name"]: f for f in json.loads(run_cli("feeds", "--json").stdout)}
    assert set(health) == {"alpha", "beta", "gamma"}
    for name, n in (("alpha", 2), ("beta", 3)):
        assert health[name]["last_status"] == 200
        assert health[name]["last_error"] is None
        assert health[name]["items_seen"] == n
        assert health[name]["last_success_at"] and health[name]["first_fetch_done"] == 1
    broken = health["gamma"]
    assert broken["last_error"] and error_text in broken["last_error"]
    assert broken["consecutive_errors"] == 1
    assert broken["last_success_at"] is None and broken["items_seen"] == 0
    assert broken["stale"] is False and broken["failing_since"]  # failing, but only since this pass
    logged = lines_naming(proc.stderr, "gamma")
    assert len(logged) == 1, proc.stderr
    assert any("daemon.pipeline" in ln and "(attempt 1, next try in 60s)" in ln for ln in logged), proc.stderr
    assert not [ln for ln in proc.stderr.splitlines() if "WARNING" in ln and "gamma" not in ln], proc.stderr


def test_a_feed_failure_is_one_log_line(project: Path, run_cli: Run, feeds: Feeds) -> None:
    url = feeds.set("/gone.rss", Route(b"oops", status=500, content_type="text/plain"))
    write_config(project, FETCH + feed_toml("gone", url))
    proc = run_cli("run", "--once")
    assert len(lines_naming(proc.stderr, "gone")) == 1, proc.stderr


# ---------------------------------------------------------------------------------------------
# first fetch: stored and matched, no alerts; later items alert


def test_first_fetch_stores_and_matches_without_alerts_then_new_items_alert(
        tmp_path: Path, feeds: Feeds, receiver: Receiver, open_pipeline: Callable[[Config], Pipeline]) -> None:
    url = feeds.set("/moi.rss", Route(rss([Item("m-1", "Quán triệt nghị quyết", NQ57),
                                           Item("m-2", "Tổng kết", PLAIN[0])]), etag='"v1"'))
    config = configure(tmp_path, RULE + feed_toml("moi", url)
                       + f'[[webhooks]]\nname = "hook"\nurl = "{receiver.url}"\n')
    pipeline = open_pipeline(config)
    dbfile = config.db_path

    (first,) = pipeline.poll_feeds(force=True)
    assert (first.new, first.matches, first.alerts) == (2, 1, 0)
    with db(dbfile) as conn:
        assert conn.execute("SELECT rule FROM matches").fetchall()[0][0] == "nq57"
    assert counts(dbfile)["alerts"] == 0
    pipeline.deliver()
    assert receiver.requests == []

    later = NQ57.replace("Sáng 12-3", "Chiều 20-3").replace("cán bộ chủ chốt", "toàn thể đảng viên")
    feeds.set("/moi.rss", Route(rss([Item("m-3", "Tiếp tục quán triệt", later), Item("m-1", "x", NQ57),
                                     Item("m-2", "y", PLAIN[0])]), etag='"v2"'))
    (second,) = pipeline.poll_feeds(force=True)
    assert (second.new, second.alerts) == (1, 1)
    with db(dbfile) as conn:
        alert = dict(conn.execute("SELECT a.*, ar.title FROM alerts a JOIN articles ar ON ar.id = a.article_id"
                                  ).fetchone())
    assert alert["status"] == "pending" and alert["title"] == "Tiếp tục quán triệt"
    assert alert["rule"] == "nq57" and alert["webhook"] == "hook"

    pipeline.deliver()
    receiver.wait_for(lambda got: len(got) == 1)
    assert receiver.alert_ids() == [alert["id"]]
    with db(dbfile) as conn:
        status = conn.execute("SELECT status, delivered_at FROM alerts WHERE id = ?", (alert["id"],)).fetchone()
    assert status["status"] == "delivered" and status["delivered_at"]


def test_alert_on_first_fetch_overrides(tmp_path: Path, feeds: Feeds, receiver: Receiver,
                                        open_pipeline: Callable[[Config], Pipeline]) -> None:
    url = feeds.set("/ngay.rss", Route(rss([Item("n-1", "Quán triệt", NQ57), Item("n-2", "Khác", PLAIN[1])])))
    config = configure(tmp_path, RULE + feed_toml("ngay", url, "alert_on_first_fetch = true\n")
                       + f'[[webhooks]]\nname = "hook"\nurl = "{receiver.url}"\n')
    pipeline = open_pipeline(config)
    (report,) = pipeline.poll_feeds(force=True)
    assert (report.new, report.alerts) == (2, 1)
    pipeline.deliver()
    receiver.wait_for(lambda got: len(got) == 1)
    with db(config.db_path) as conn:
        assert [r[0] for r in conn.execute("SELECT status FROM alerts")] == ["delivered"]


# ---------------------------------------------------------------------------------------------
# one wire story, three outlets


def test_same_wire_story_from_three_outlets_is_one_article_with_three_sightings(
        tmp_path: Path, feeds: Feeds, open_pipeline: Callable[[Config], Pipeline]) -> None:
    story = ("Thủ tướng Chính phủ yêu cầu các bộ, ngành, địa phương khẩn trương hoàn thành việc sắp xếp tổ chức "
             "bộ máy, bảo đảm hoạt động thông suốt, không để gián đoạn công việc, ảnh hưởng đến người dân. "
             "Ủy ban nhân dân các tỉnh báo cáo kết quả trước ngày 30-6.")
    outlets = {
        "chinhphu": ("(Chinhphu.vn) - " + story, "http://127.0.0.1/chinhphu/tin-1.htm?utm_source=rss"),
        "vov": ("VOV.VN - " + unicodedata.normalize("NFD", story), "http://127.0.0.1/vov/bai-99.vov"),
        "tto": ("TTO - " + story.replace("hòa", "hoà").replace("Ủy", "Uỷ"), "http://127.0.0.1/tto/20260312.htm"),
    }
    extra = RULE
    for name, (body, link) in outlets.items():
        url = feeds.set(f"/{name}.rss", Route(rss([Item(f"{name}-1", "Khẩn trương sắp xếp bộ máy", body, link),
                                                   Item(f"{name}-own", f"Tin riêng của {name}", f"{name}: " +
                                                        PLAIN[0])])))
        extra += feed_toml(name, url)
    config = configure(tmp_path, extra)
    pipeline = open_pipeline(config)
    reports = pipeline.poll_feeds(force=True)
    assert sorted(r.new for r in reports) == [1, 1, 2] and sum(r.duplicates for r in reports) == 2
    with db(config.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 4
        rows = conn.execute("SELECT s.source, s.locator, a.body, a.id FROM sightings s"
                            " JOIN articles a ON a.id = s.article_id WHERE s.locator LIKE '%-1'").fetchall()
    assert {r["source"] for r in rows} == {"chinhphu", "vov", "tto"}
    assert len({r["id"] for r in rows}) == 1
    assert rows[0]["body"].startswith("Thủ tướng Chính phủ")
    assert unicodedata.is_normalized("NFC", rows[0]["body"])


def test_items_with_equal_bodies_but_different_titles_are_different_articles(
        tmp_path: Path, feeds: Feeds, open_pipeline: Callable[[Config], Pipeline]) -> None:
    """Identity is title and body: a Hacker News feed describes every story as "Comments", and two
    VnExpress stories can open with the same lead. Each is an article of its own, found by search."""
    hn = [Item(f"https://news.ycombinator.com/item?id={4000 + i}", f"Show HN: dự án số {i}", "Comments")
          for i in range(30)]
    lead = ("Sáng 12-3, Ban Thường vụ Tỉnh ủy họp phiên thường kỳ tháng 3, cho ý kiến về nhiều nội dung quan "
            "trọng của địa phương.")
    vne = [Item("vne-4870001", "Tỉnh ủy cho ý kiến về quy hoạch", lead),
           Item("vne-4870002", "Tỉnh ủy bàn công tác cán bộ", lead)]
    config = configure(tmp_path, feed_toml("hn", feeds.set("/hn.rss", Route(rss(hn))))
                       + feed_toml("vnexpress", feeds.set("/vne.rss", Route(rss(vne)))))
    pipeline = open_pipeline(config)
    reports = {r.source: r for r in pipeline.poll_feeds(force=True)}
    assert (reports["hn"].new, reports["hn"].duplicates) == (30, 0)
    assert (reports["vnexpress"].new, reports["vnexpress"].duplicates) == (2, 0)
    with db(config.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM articles WHERE source = 'hn'").fetchone()[0] == 30
        assert conn.execute("SELECT count(*) FROM articles WHERE source = 'vnexpress'").fetchone()[0] == 2
        assert conn.execute("SELECT count(*) FROM sightings WHERE is_first = 0").fetchone()[0] == 0
    assert [h.title for h in pipeline.store.search("du an so 17")] == ["Show HN: dự án số 17"]
    assert {h.title for h in pipeline.store.search("cong tac can bo")} == {"Tỉnh ủy bàn công tác cán bộ"}


# ---------------------------------------------------------------------------------------------
# conditional GET, identity within a feed


def test_second_poll_is_a_conditional_get_and_a_304_adds_no_rows(
        project: Path, run_cli: Run, feeds: Feeds, open_pipeline: Callable[[Config], Pipeline]) -> None:
    stamp = "Thu, 12 Mar 2026 01:00:00 GMT"
    url = feeds.set("/etag.rss", Route(rss([Item("e-1", "Một", PLAIN[0]), Item("e-2", "Hai", NQ57)]),
                                       etag='"abc"', last_modified=stamp))
    write_config(project, FETCH + RULE + feed_toml("etag", url))
    config = load(project / "config.toml")
    dbfile = config.db_path
    pipeline = open_pipeline(config)
    (first,) = pipeline.poll_feeds(force=True)
    assert first.new == 2 and not first.not_modified
    before, row_before = counts(dbfile), feed_row(dbfile, "etag")
    assert row_before["etag"] == '"abc"' and row_before["last_modified"] == stamp

    (second,) = pipeline.poll_feeds(force=True)
    assert second.not_modified and second.new == 0
    sent = feeds.hits["/etag.rss"][-1]
    assert sent["if-none-match"] == '"abc"' and sent["if-modified-since"] == stamp
    assert counts(dbfile) == before
    row = feed_row(dbfile, "etag")
    assert row["last_status"] == 304 and row["items_seen"] == row_before["items_seen"] == 2
    assert row["etag"] == '"abc"' and row["last_error"] is None

    proc = run_cli("fetch", "etag")
    assert "not modified" in proc.stdout
    assert counts(dbfile) == before
    assert feeds.count("/etag.rss") == 3


def test_each_poll_is_one_write_transaction(
        tmp_path: Path, feeds: Feeds, open_pipeline: Callable[[Config], Pipeline]) -> None:
    """Articles, sightings, matches, alerts and the feed's row of one poll commit together, whatever it brought."""
    url = feeds.set("/mot.rss", Route(rss([Item("t-1", "Một", PLAIN[0]), Item("t-2", "Hai", NQ57)]), etag='"t1"'))
    config = configure(tmp_path, RULE + feed_toml("mot", url))
    pipeline = open_pipeline(config)
    begins: list[str] = []

    def trace(sql: str) -> None:
        if sql.lstrip().upper().startswith("BEGIN"):
            begins.append(sql)

    pipeline.store.conn.set_trace_callback(trace)

    def poll() -> tuple[Any, int]:
        begins.clear()
        (report,) = pipeline.poll_feeds(force=True)
        return report, len(begins)

    first, n = poll()  # new articles, their matches, the row, the end of the first fetch
    assert (first.new, first.matches, n) == (2, 1, 1)
    again, n = poll()
    assert again.not_modified and n == 1
    feeds.set("/mot.rss", Route(b"down", status=500, content_type="text/plain"))
    failed, n = poll()
    assert failed.errors and n == 1
    row = feed_row(config.db_path, "mot")
    assert (row["consecutive_errors"], row["items_seen"], row["first_fetch_done"], row["etag"]) == (1, 2, 1, '"t1"')


def test_an_item_re_served_with_changed_text_is_not_re_ingested(
        tmp_path: Path, feeds: Feeds, open_pipeline: Callable[[Config], Pipeline]) -> None:
    url = feeds.set("/sua.rss", Route(rss([Item("s-1", "Bản đầu", PLAIN[0])])))
    config = configure(tmp_path, feed_toml("sua", url))
    pipeline = open_pipeline(config)
    assert pipeline.poll_feeds(force=True)[0].new == 1
    # The outlet edits the item (same guid, new title and text) and adds a really new one.
    feeds.set("/sua.rss", Route(rss([Item("s-1", "Bản đã sửa", PLAIN[0] + " Cập nhật lúc 10 giờ."),
                                     Item("s-2", "Tin mới", PLAIN[1])])))
    (again,) = pipeline.poll_feeds(force=True)
    assert (again.new, again.duplicates, again.titles) == (1, 0, ["Tin mới"])
    with db(config.db_path) as conn:
        assert [r[0] for r in conn.execute("SELECT title FROM articles ORDER BY id")] == ["Bản đầu", "Tin mới"]
        assert conn.execute("SELECT count(*) FROM sightings WHERE source = 'sua'").fetchone()[0] == 2


# ---------------------------------------------------------------------------------------------
# back-off for a failing feed; `fetch NAME` polls regardless


def test_failing_feed_backs_off_exponentially_and_fetch_polls_it_anyway(
        project: Path, run_cli: Run, feeds: Feeds, open_pipeline: Callable[[Config], Pipeline]) -> None:
    url = feeds.set("/down.rss", Route(b"down", status=503, content_type="text/plain"))
    write_config(project, FETCH + feed_toml("down", url))
    config = load(project / "config.toml")
    dbfile = config.db_path
    pipeline = open_pipeline(config)
    store = pipeline.store

    now = store.now().replace(microsecond=0)  # stored times are whole seconds
    delays: list[float] = []
    for _ in range(4):
        (report,) = pipeline.poll_feeds(now=now)
        assert report.errors and "HTTP 503" in report.errors[0]
        due = datetime.fromisoformat(feed_row(dbfile, "down")["next_fetch_at"])
        delays.append((due - now).total_seconds())
        hits = feeds.count("/down.rss")
        assert pipeline.poll_feeds(now=due - timedelta(seconds=1)) == []  # not due yet: no request
        assert feeds.count("/down.rss") == hits
        now = due
    assert delays == [60, 120, 240, 480]
    assert feed_row(dbfile, "down")["consecutive_errors"] == 4

    # The last poll was "at" now + 420 s, so the real-time `run --once` finds the feed not due.
    hits = feeds.count("/down.rss")
    run_cli("run", "--once")
    assert feeds.count("/down.rss") == hits

    proc = run_cli("fetch", "down", check=False)
    assert proc.returncode == 1 and "down: error: HTTP 503" in proc.stdout
    assert feeds.count("/down.rss") == hits + 1
    assert feed_row(dbfile, "down")["consecutive_errors"] == 5

    feeds.set("/down.rss", Route(rss([Item("d-1", "Đã hoạt động lại", PLAIN[2]),
                                      Item("d-2", "Tin thứ hai", PLAIN[3])])))
    proc = run_cli("fetch", "down")
    assert "down: 2 new" in proc.stdout
    assert "+ Đã hoạt động lại" in proc.stdout and "+ Tin thứ hai" in proc.stdout
    row = feed_row(dbfile, "down")
    assert row["consecutive_errors"] == 0 and row["last_error"] is None and row["last_status"] == 200
    assert datetime.fromisoformat(row["next_fetch_at"]) - datetime.fromisoformat(row["last_fetch_at"]) \
        == timedelta(minutes=1)


# ---------------------------------------------------------------------------------------------
# permanent redirect


def test_a_301_updates_the_stored_url_and_is_logged(
        tmp_path: Path, feeds: Feeds, open_pipeline: Callable[[Config], Pipeline],
        caplog: pytest.LogCaptureFixture) -> None:
    new_url = feeds.set("/moi/feed.rss", Route(rss([Item("r-1", "Địa chỉ mới", PLAIN[1])])))
    old_url = feeds.set("/cu.rss", Route(status=301, location=new_url))
    config = configure(tmp_path, feed_toml("doi", old_url))
    pipeline = open_pipeline(config)
    with caplog.at_level(logging.INFO):
        (report,) = pipeline.poll_feeds(force=True)
    assert report.new == 1
    row = feed_row(config.db_path, "doi")
    assert row["url"] == new_url and row["configured_url"] == old_url
    moved = [r.getMessage() for r in caplog.records if "moved permanently" in r.getMessage()]
    assert moved == [f"feed doi: moved permanently to {new_url}; using the new URL"]

    pipeline.poll_feeds(force=True)  # the next poll goes straight to the new address
    assert feeds.count("/cu.rss") == 1 and feeds.count("/moi/feed.rss") == 2


# ---------------------------------------------------------------------------------------------
# many feeds at once: the fetcher's threads share the text helpers


def test_many_feeds_polled_concurrently_all_ingest(
        tmp_path: Path, feeds: Feeds, open_pipeline: Callable[[Config], Pipeline]) -> None:
    n, per, rounds = 40, 25, 3

    def serve_round(r: int) -> str:
        extra = '[fetch]\nconcurrency = 8\nper_host = 8\n'
        for i in range(n):
            items = [Item(f"c{r}-{i}-{j}", f"Tin {j} của nguồn {i}, đợt {r}",
                          f"{PLAIN[j % 4]} Bài {j} của nguồn {i}, đợt {r}.") for j in range(per)]
            extra += feed_toml(f"nguon{i}", feeds.set(f"/n{i}.rss", Route(rss(items))))
        return extra

    (tmp_path / "seeds").mkdir()
    (tmp_path / "state").mkdir()
    pipeline = open_pipeline(load(write_config(tmp_path, serve_round(0))))
    errors: list[str] = []
    new = 0
    # Switch threads as often as possible, so shared state without a lock shows up here and not in production.
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for r in range(rounds):
            if r:
                serve_round(r)
            reports = pipeline.poll_feeds(force=True)
            errors += [e for rep in reports for e in rep.errors]
            new += sum(rep.new for rep in reports)
            if errors:
                break
    finally:
        sys.setswitchinterval(old)
    assert errors == []
    assert new == n * per * rounds


# ---------------------------------------------------------------------------------------------
# an undeclared legacy encoding: guessed, stored right, and said


def test_an_undeclared_windows_1252_feed_is_stored_as_written_and_the_guess_is_logged(
        tmp_path: Path, feeds: Feeds, open_pipeline: Callable[[Config], Pipeline],
        caplog: pytest.LogCaptureFixture) -> None:
    body = "As simulações mostram que a prisão preventiva não é a solução para a população."
    doc = rss([Item("pt-1", "Simulações da prisão", body)], title="Notícias").decode().replace(' encoding="utf-8"', "")
    url = feeds.set("/pt.rss", Route(doc.encode("cp1252"), content_type="application/rss+xml"))
    config = configure(tmp_path, feed_toml("pt", url))
    pipeline = open_pipeline(config)
    with caplog.at_level(logging.INFO):
        (report,) = pipeline.poll_feeds(force=True)
    assert report.new == 1
    with db(config.db_path) as conn:
        assert tuple(conn.execute("SELECT title, body FROM articles").fetchone()) == ("Simulações da prisão", body)
    guess = "no usable charset declared: guessed cp1252 (does not read as Vietnamese)"
    assert feed_row(config.db_path, "pt")["last_warning"] == guess
    assert any("feed pt:" in r.getMessage() and guess in r.getMessage() for r in caplog.records)

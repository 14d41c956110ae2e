"""Issue 14 item 1: feed passes near the 2-core limit.

* A feed that answers 200 with the very bytes parsed last time (no ETag, no Last-Modified, as many
  Vietnamese outlets) is recognised by their SHA-256 and not parsed again; the poll is still recorded.
* Feeds parsed and prepared in the worker processes store exactly the rows an in-process poll stores.
* A broken feed in a worker is one line naming it; the other feeds of the pass are stored.
* SIGTERM during a pass whose feeds are in the workers stops the service within ``shutdown_timeout``, and
  its worker processes with it.

Feeds come from the loopback server of tests/helpers.py, the database is a real SQLite file, the worker
processes are real (spawned) ones, and the stop test runs the service as a real process.
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import pytest

import daemon.pipeline
from daemon.config import Config, load
from daemon.pipeline import Pipeline
from daemon.prepare import Workers
from daemon.sources.feeds import items as feed_items
from daemon.store import Store
from tests.helpers import Background, LoopbackServer, Servers, write_config

RULE = '[[rules]]\nname = "nq57"\nkeywords = ["Nghị quyết 57"]\n'
SENTENCES = [
    "Sáng 12-3, Ban Thường vụ Tỉnh ủy quán triệt Nghị quyết 57-NQ/TW về đột phá phát triển khoa học, công nghệ.",
    "Chiều 25-12, Văn phòng Thành ủy tổ chức hội nghị tổng kết công tác năm và triển khai nhiệm vụ năm tới.",
    "Đoàn công tác của Ban Tuyên giáo đã làm việc với Đảng ủy xã về công tác phát triển đảng viên mới.",
    "Ủy ban Kiểm tra Huyện ủy công bố kết luận kiểm tra việc thực hiện quy chế làm việc nhiệm kỳ.",
]


def rss(feed: str, count: int, start: int = 0) -> bytes:
    """A feed in the shape outlets send: CDATA descriptions with an image link, a lead and related links."""
    items = []
    for j in range(start, start + count):
        site = f"http://127.0.0.1/{feed}"
        lead = f"{SENTENCES[j % 4]} {SENTENCES[(j + 1) % 4]} Tin {j} của {feed}."
        description = (f'<a href="{site}/bai-{j}.htm"><img src="{site}/anh-{j}.jpg"/></a></br>{escape(lead)}'
                       f'<ul><li><a href="{site}/lien-quan-{j}.htm">Tin liên quan {j}</a></li></ul>')
        items.append(f"<item><title><![CDATA[Tin số {j} của {feed}: hội nghị]]></title><link>{site}/bai-{j}.htm</link>"
                     f"<guid>{site}/bai-{j}.htm</guid><pubDate>Thu, 12 Mar 2026 0{j % 10}:00:00 +0700</pubDate>"
                     f"<category>Thời sự</category><description><![CDATA[{description}]]></description></item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{feed}</title>'
            f"<link>http://127.0.0.1/{feed}/</link>{''.join(items)}</channel></rss>").encode()


def feed_toml(name: str, url: str) -> str:
    return f'[[feeds]]\nname = "{name}"\nurl = "{url}"\ninterval = "1m"\n'


def configure(folder: Path, extra: str) -> Config:
    (folder / "seeds").mkdir(parents=True, exist_ok=True)
    (folder / "state").mkdir(exist_ok=True)
    return load(write_config(folder, '[fetch]\ntimeout = "5s"\n' + extra))


@pytest.fixture
def server(loopback: Servers) -> LoopbackServer:
    return loopback(http11=True)


@pytest.fixture
def open_pipeline() -> Iterator[Callable[[Config], Pipeline]]:
    opened: list[Pipeline] = []

    def make(config: Config) -> Pipeline:
        opened.append(Pipeline(config, Store(config.db_path, config.tz)))
        return opened[-1]

    yield make
    for p in opened:
        p.close()
        p.store.close()


def rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def test_the_same_bytes_again_are_not_parsed_and_the_poll_is_recorded(
        tmp_path: Path, server: LoopbackServer, open_pipeline: Callable[[Config], Pipeline],
        monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[int] = []
    real = feed_items.parse_feed
    monkeypatch.setattr(feed_items, "parse_feed", lambda body, **kw: parsed.append(len(body)) or real(body, **kw))
    url = server.static("/same.rss", rss("same", 3))  # a 200 with no ETag and no Last-Modified, every time
    config = configure(tmp_path, feed_toml("same", url))
    pipeline = open_pipeline(config)
    now = pipeline.store.now()
    (first,) = pipeline.poll_feeds(force=True, now=now)
    assert (first.new, first.unchanged, len(parsed)) == (3, False, 1)
    row = rows(config.db_path, "SELECT body_sha256, last_fetch_at, items_seen FROM feeds WHERE name = 'same'")[0]
    assert row[0] and len(row[0]) == 64 and row[2] == 3

    (second,) = pipeline.poll_feeds(force=True, now=now + timedelta(minutes=1))
    assert (second.new, second.unchanged, second.errors, len(parsed)) == (0, True, [], 1)  # not parsed again
    status = rows(config.db_path, "SELECT last_status, last_fetch_at, last_success_at, items_seen, body_sha256,"
                                  " consecutive_errors FROM feeds WHERE name = 'same'")[0]
    assert status[0] == 200 and status[1] > row[1] and status[2] == status[1]  # the poll is recorded as working
    assert status[3:] == (3, row[0], 0)
    assert len(server.hits) == 2

    server.static("/same.rss", rss("same", 4))  # one item more: other bytes, parsed, the new item stored
    (third,) = pipeline.poll_feeds(force=True, now=now + timedelta(minutes=2))
    assert (third.new, third.unchanged, len(parsed)) == (1, False, 2)
    assert rows(config.db_path, "SELECT body_sha256 FROM feeds WHERE name = 'same'")[0][0] not in (None, row[0])
    assert rows(config.db_path, "SELECT count(*) FROM articles")[0][0] == 3 + 1


def test_a_feed_with_one_new_item_reads_the_text_of_that_item_only(
        tmp_path: Path, server: LoopbackServer, open_pipeline: Callable[[Config], Pipeline],
        monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[str] = []
    real = feed_items.to_document
    monkeypatch.setattr(feed_items, "to_document", lambda entry, **kw: read.append(entry["id"]) or real(entry, **kw))
    url = server.static("/moi.rss", rss("moi", 5))
    pipeline = open_pipeline(configure(tmp_path, feed_toml("moi", url)))
    assert pipeline.poll_feeds(force=True)[0].new == 5 and len(read) == 5
    server.static("/moi.rss", rss("moi", 5, start=1))  # one item off the end, one new at the top
    read.clear()
    (report,) = pipeline.poll_feeds(force=True)
    assert (report.new, report.errors, read) == (1, [], ["http://127.0.0.1/moi/bai-5.htm"])
    assert pipeline.store.feed_row("moi").items_seen == 6


def test_fetch_says_when_a_feed_was_unchanged(project: Path, server: LoopbackServer,
                                              run_cli: Callable[..., Any]) -> None:
    url = server.static("/same.rss", rss("same", 2))
    write_config(project, feed_toml("same", url))
    assert "2 new" in run_cli("fetch", "same").stdout
    again = run_cli("fetch", "same").stdout
    assert "unchanged since the last fetch (the same bytes; not parsed again)" in again, again


def test_worker_prepared_items_store_the_same_rows_as_in_process_ones(
        tmp_path: Path, server: LoopbackServer, open_pipeline: Callable[[Config], Pipeline],
        monkeypatch: pytest.MonkeyPatch) -> None:
    feeds = "".join(feed_toml(f"nguon{i}", server.static(f"/n{i}.rss", rss(f"nguon{i}", 6 + i))) for i in range(3))
    # the same story in two feeds: a duplicate, a second sighting, one story
    feeds += feed_toml("chung", server.static("/chung.rss", rss("nguon0", 2)))
    tables = {
        "articles": "SELECT content_hash, title, body, url, source, category, published_at, published_raw,"
                    " date_inferred, folded, outlet FROM articles ORDER BY content_hash",
        "sightings": "SELECT a.content_hash, s.source, s.locator, s.is_first FROM sightings s"
                     " JOIN articles a ON a.id = s.article_id ORDER BY 1, 2, 3",
        "matches": "SELECT a.content_hash, m.rule, m.keyword, m.matched_text, m.field, m.snippet FROM matches m"
                   " JOIN articles a ON a.id = m.article_id ORDER BY 1, 2, 3, 4, 5",
        "stories": "SELECT title, article_count, source_count FROM stories ORDER BY title",
        "sketches": "SELECT a.content_hash, body_keys, lead_keys, short, numbers FROM story_sketches k"
                    " JOIN articles a ON a.id = k.article_id ORDER BY 1",
        "feeds": "SELECT name, last_status, items_seen, first_fetch_done, last_warning, last_error, body_sha256"
                 " FROM feeds ORDER BY name",
    }
    stored: dict[str, dict[str, list[tuple[Any, ...]]]] = {}
    for mode, least in (("in-process", 10**6), ("workers", 1)):
        monkeypatch.setattr(daemon.pipeline, "PARALLEL_MIN_FEEDS", least)
        config = configure(tmp_path / mode, RULE + feeds)
        pipeline = open_pipeline(config)
        # one feed at a time: feeds polled together are stored in the order they come, and which copy comes
        # first decides a story's title and an article's source
        names = ("nguon0", "nguon1", "nguon2", "chung")
        reports = [r for name in names for r in pipeline.poll_feeds([name], force=True)]
        assert [r.errors for r in reports] == [[]] * 4
        assert pipeline.workers.running == (mode == "workers")
        stored[mode] = {name: rows(config.db_path, sql) for name, sql in tables.items()}
    assert len(stored["workers"]["articles"]) == 6 + 7 + 8
    assert stored["workers"]["matches"] and len(stored["workers"]["sightings"]) == 6 + 7 + 8 + 2
    for name in tables:
        assert stored["workers"][name] == stored["in-process"][name], name


def test_a_broken_feed_in_a_worker_is_one_line_and_the_rest_is_stored(
        tmp_path: Path, server: LoopbackServer, open_pipeline: Callable[[Config], Pipeline],
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(daemon.pipeline, "PARALLEL_MIN_FEEDS", 1)
    html = "<!doctype html><html><body><p>Trang chủ</p></body></html>".encode()
    feeds = (feed_toml("tot1", server.static("/tot1.rss", rss("tot1", 3)))
             + feed_toml("hong", server.static("/hong.rss", html, ctype="text/html; charset=utf-8"))
             + feed_toml("cut", server.static("/cut.rss", rss("cut", 3)[:200]))
             + feed_toml("tot2", server.static("/tot2.rss", rss("tot2", 4))))
    pipeline = open_pipeline(configure(tmp_path, feeds))
    with caplog.at_level(logging.INFO, logger="daemon"):
        reports = {r.source: r for r in pipeline.poll_feeds(force=True)}
    assert pipeline.workers.running
    assert (reports["tot1"].new, reports["tot2"].new, reports["tot1"].errors, reports["tot2"].errors) == (3, 4, [], [])
    for name, reason in (("hong", "not a feed: got an HTML page"), ("cut", "truncated XML")):
        lines = [r.getMessage() for r in caplog.records if f"feed {name}" in r.getMessage()]
        assert len(lines) == 1 and reason in lines[0], lines
        assert "\n" not in lines[0] and reports[name].new == 0
    assert not [r for r in caplog.records if r.exc_info]


def alive(pid: int) -> bool:
    """Running, not a zombie: one that ended is reaped by whoever started it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_worker_processes_stop_when_idle_and_start_again_when_needed() -> None:
    workers = Workers(ZoneInfo("Asia/Ho_Chi_Minh"), (), idle=0.5)
    try:
        first = workers.submit(os.getpid).result(timeout=60)
        assert first != os.getpid() and workers.running
        for _ in range(4):  # used more often than the idle time: kept
            assert workers.submit(os.getpid).result(timeout=10) > 0
            time.sleep(0.2)
        assert workers.running
        deadline = time.monotonic() + 10
        while workers.running and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not workers.running
        while alive(first) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(first)
        assert workers.submit(os.getpid).result(timeout=60) != first  # new ones, when there is work again
    finally:
        workers.close()
    assert not workers.running
    with pytest.raises(RuntimeError):
        workers.submit(os.getpid)


def test_the_worker_processes_are_replaced_after_so_many_tasks() -> None:
    workers = Workers(ZoneInfo("Asia/Ho_Chi_Minh"), (), count=1, recycle=3)
    pids = []
    try:
        for _ in range(6):
            pids.append(workers.submit(os.getpid).result(timeout=60))
            time.sleep(0.1)  # the task's done-callback (which replaces the pool) runs just after its result
    finally:
        workers.close()
    assert pids[0] == pids[1] == pids[2] != pids[3] == pids[4] == pids[5]


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


@pytest.mark.service
def test_sigterm_during_a_worker_pass_stops_within_shutdown_timeout(
        project: Path, server: LoopbackServer, procs: list[Background]) -> None:
    n = daemon.pipeline.PARALLEL_MIN_FEEDS  # as many feeds as make the service parse in its workers
    feeds = "".join(feed_toml(f"f{i}", server.static(f"/f{i}.rss", rss(f"f{i}", 50))) for i in range(n))
    write_config(project, '[service]\nshutdown_timeout = "2s"\n' + feeds)
    d = Background(project, "run")
    procs.append(d)
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while not workers and time.monotonic() < deadline and d.proc.poll() is None:
        workers = {c for c in children(d.proc.pid) if "multiprocessing" in Path(f"/proc/{c}/cmdline").read_text()}
        time.sleep(0.01)
    assert workers, "the service never started its worker processes\n" + "\n".join(d.err)
    start = time.monotonic()
    d.proc.send_signal(signal.SIGTERM)
    try:
        code: int | None = d.proc.wait(2 + 1.5)
    except subprocess.TimeoutExpired:
        code = None
    took = time.monotonic() - start
    assert code == 0 and took < 2 + 1.5, f"exit {code} after {took:.1f} s\n" + "\n".join(d.err)
    assert "Traceback" not in "\n".join(d.err)
    gone = time.monotonic() + 3
    while any(alive(w) for w in workers) and time.monotonic() < gone:
        time.sleep(0.05)
    left = [w for w in workers if alive(w)]
    for w in left:
        os.kill(w, signal.SIGKILL)
    assert not left, "worker processes outlived the service"

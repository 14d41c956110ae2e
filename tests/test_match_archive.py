"""`newswatch match`'s fast path gives exactly what the plain matcher gives, article by article.

The fast path skips normalizing stored text its content hash vouches for, and shares the articles with a
worker process. Both are checked against ``Matcher.match`` on the text as stored (normalized again, as
the service would), on a real SQLite file holding diacritics, folded words, document references, lists,
titles the body repeats, and rows an operator edited by hand (NFD, old tone placement, odd spaces), with
the work in this process only, shared with a real worker, and left to this process when the worker dies.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest

from daemon import match_archive
from daemon.match import Matcher
from daemon.match.prefilter import fts_query
from daemon.match_archive import StoredText, match_stored
from daemon.models import Document, Match, Rule, Wire
from daemon.prepare import prepare
from daemon.store import Store
from daemon.store.articles import NewItem, StoredArticle
from daemon.text.dates import VN_TZ
from daemon.text.normalize import canonical_by_hash, normalize, normalize_body
from tests.helpers import cli_env, write_config

TEXTS = [
    ("Quán triệt Nghị quyết 57", "Quán triệt Nghị quyết 57. Ban Thường vụ quán triệt Nghị quyết số 57-NQ/TW."),
    ("Chuyển đổi số", "Thực hiện Nghị quyết số57-NQ/TW, tỉnh chuyển đổi số.\n\nTheo Nghị quyết 057 của Tỉnh ủy."),
    ("Ba nghị quyết", "Các Nghị quyết 57, 66 và 68 của Bộ Chính trị; Kế hoạch triển khai 57/NQ-TW trong quý IV."),
    ("Không phải", "Nghị quyết 570 về một việc khác; 57a không phải số hiệu; 57-NQ/TU của Tỉnh ủy."),
    ("VĂN PHÒNG TỈNH ỦY", "VĂN PHÒNG TỈNH ỦY tổ chức hội nghị về Nghị quyết 57."),
    ("Văn phòng Tỉnh uỷ", "Văn phòng Tỉnh uỷ (old tone) tổng kết công tác văn phòng cấp ủy."),
    ("NFD", unicodedata.normalize("NFD", "Văn phòng Tỉnh ủy, viết ở dạng NFD; Đảng bộ xã.")),
    ("Đà Nẵng", "Thành phố Đà Nẵng đón khách; sản lượng đã nâng lên; đang làm đa dạng."),
    ("Kỷ luật", "Kỷ luật khiển trách đồng chí Bí thư Đảng bộ phường theo Chỉ thị số 34-CT/TW."),
    ("Dòng\u00a0lạ", "Dòng  có hai dấu cách\u00a0và\tthẻ;\r\ndòng CRLF về Nghị quyết 57.\n\n\n\nHết."),
    ("Một bài", "Một bài không liên quan gì."),
]
# Rows an operator edited by hand after they were stored: their hash no longer vouches for their text.
EDITS = [
    ("body", unicodedata.normalize("NFD", "Văn phòng Tỉnh ủy quán triệt Nghị quyết số 57-NQ/TW, Đảng bộ xã.")),
    ("body", "Hoà bình: Văn phòng Tỉnh uỷ   và  Nghị quyết 57 ."),
    ("title", "Đảng bộ\nhai dòng về Nghị quyết 57"),
    ("title", " Tiêu đề có dấu cách đầu: Đà Nẵng "),
    ("body", "Nghị quyết 57 \n dòng có dấu cách quanh ngắt dòng\n\n\nvà ba ngắt dòng, Đà Nẵng"),
]
RULES = [
    Rule("nq57", ("Nghị quyết 57",)),
    Rule("nq66", ("Nghị quyết 66",)),
    Rule("vp", ("Văn phòng Tỉnh ủy",)),
    Rule("ascii", ("van phong cap uy", "dang bo")),
    Rule("danang", ("Đà Nẵng",)),
    Rule("mixed", ("Chỉ thị 34", "khiển trách"), all=("Đảng bộ",), exclude=("Quốc hội",)),
    Rule("feeds-only", ("Nghị quyết 57",), sources=("vnexpress",)),
    Rule("re", (r"regex:\bNQ/T[WU]\b",)),
]


COPIES = 4  # of each text, each with its own last line


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(tmp_path_factory.mktemp("archive") / "state" / "news.db", VN_TZ)
    docs = [Document("vnexpress" if n % 2 else "seeds", f"{n}-{i}.txt", title, f"{body}\n\nBản {n}.")
            for n in range(COPIES) for i, (title, body) in enumerate(TEXTS)]
    store.ingest([NewItem(prepare(doc)) for doc in docs])
    with store.tx() as conn:
        for article_id, (column, text) in enumerate(EDITS, start=1):
            conn.execute(f"UPDATE articles SET {column} = ? WHERE id = ?", (text, article_id))
    return store


def stored(store: Store) -> list[StoredArticle]:
    return store.articles_since(None)


def texts(articles: list[StoredArticle]) -> list[StoredText]:
    return [(a.title, a.body, a.content_hash, a.source) for a in articles]


def plain(rules: list[Rule], articles: list[StoredArticle]) -> list[list[Match]]:
    """What the service's matcher gives the stored text, normalizing it again."""
    matcher = Matcher(rules)
    return [matcher.match(str(a.title), str(a.body), a.source) for a in articles]


def test_the_archive_has_rows_the_hash_vouches_for_and_rows_edited_by_hand(archive: Store) -> None:
    articles = stored(archive)
    assert len(articles) == COPIES * len(TEXTS)
    vouched = {a.id for a in articles if canonical_by_hash(a.title, a.body, a.content_hash) is not None}
    assert vouched == {a.id for a in articles} - set(range(1, len(EDITS) + 1))
    for a in articles:
        if a.id in vouched:
            assert normalize(a.title) == a.title and normalize_body(a.body) == a.body
        else:  # what the fast path must not take as canonical: each edit needs normalizing
            assert (normalize(a.title), normalize_body(a.body)) != (a.title, a.body)
    edited = [m for a, m in zip(articles, plain(RULES, articles), strict=True) if a.id not in vouched]
    assert sum(1 for m in edited if m) >= 4, "the edited rows are among the matches"


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_one_process_gives_what_the_plain_matcher_gives(archive: Store, rule: Rule) -> None:
    articles = stored(archive)
    expected = plain([rule], articles)
    assert any(expected), "a rule that matches nothing proves nothing"
    assert match_archive.match_archive([rule], texts(articles), VN_TZ, workers=0) == expected


def slow_here(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make this process's matching slow (the worker's is not patched), so the worker surely takes chunks
    once it has started; returns the titles this process matched."""
    here: list[str] = []

    def slowly(matcher: Matcher, title: str, body: str, stored_hash: str, source: str) -> list[Match]:
        here.append(title)
        time.sleep(0.02)
        return match_stored(matcher, title, body, stored_hash, source)

    monkeypatch.setattr(match_archive, "match_stored", slowly)
    return here


def test_a_worker_process_and_this_one_share_the_articles_and_agree(archive: Store,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    articles = stored(archive)
    expected = plain(RULES, articles)
    here = slow_here(monkeypatch)
    got = match_archive.match_archive(RULES, texts(articles), VN_TZ, workers=1, parallel_min=0, chunk=2)
    assert got == expected
    assert 0 < len(here) < len(articles)


def test_nothing_waits_for_a_worker_that_has_not_started(archive: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A small job is done here before the worker is up (a spawned interpreter: 0.15 s or more): none of
    it was handed to that worker to wait for."""
    articles = stored(archive)
    here: list[str] = []

    def counted(matcher: Matcher, title: str, body: str, stored_hash: str, source: str) -> list[Match]:
        here.append(title)
        return match_stored(matcher, title, body, stored_hash, source)

    monkeypatch.setattr(match_archive, "match_stored", counted)
    got = match_archive.match_archive(RULES, texts(articles), VN_TZ, workers=1, parallel_min=0, chunk=2)
    assert got == plain(RULES, articles)
    assert len(here) == len(articles)


@pytest.mark.parametrize("workers", [1, 0], ids=["a core idled", "none did"])
def test_workers_started_before_the_read_take_chunks_only_if_a_core_idled(archive: Store, workers: int,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    articles = stored(archive)
    helpers = match_archive.start_workers(RULES, VN_TZ, 1)
    try:
        here = slow_here(monkeypatch)
        got = match_archive.match_archive(RULES, texts(articles), VN_TZ, workers=workers, helpers=helpers,
                                          parallel_min=0, chunk=2)
        assert got == plain(RULES, articles)
        assert (0 < len(here) < len(articles)) if workers else len(here) == len(articles)
        assert helpers.pool.running or not workers  # used, and left to the caller to close
    finally:
        helpers.close()


def _not_counted() -> int:
    raise AssertionError("counted though no worker could start")


def test_workers_start_early_only_for_many_articles_and_an_idle_core(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (1.5, 1.0, 1.0))
    assert match_archive.start_early(RULES, VN_TZ, _not_counted) is None  # the other core is busy: nothing counted
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert match_archive.start_early(RULES, VN_TZ, lambda: match_archive.PARALLEL_MIN_ARTICLES - 1) is None
    helpers = match_archive.start_early(RULES, VN_TZ, lambda: match_archive.PARALLEL_MIN_ARTICLES)
    assert helpers is not None
    try:
        assert helpers.ready.result(timeout=60) == ()
    finally:
        helpers.close()


def test_the_count_before_the_read_is_at_least_what_is_read(archive: Store) -> None:
    from daemon.store.candidates import count_candidates

    for rule in RULES:
        fts = fts_query(rule)
        assert count_candidates(archive, None, fts) >= len(archive.articles_since(None, fts)) > 0, rule.name
    assert count_candidates(archive, None, None) == len(archive.articles_since(None))
    for fts in (fts_query(RULES[0]), None):  # nothing dated after the window's start: nothing to count
        assert count_candidates(archive, "2999-01-01T00:00:00+07:00", fts) == 0


def test_a_worker_only_for_a_core_that_idles() -> None:
    assert match_archive.spare_workers(2, 1.0) == 1 and match_archive.spare_workers(2, 0.85) == 1
    assert match_archive.spare_workers(2, 0.7) == 0  # the other core is busy a third of the time: one process
    assert match_archive.spare_workers(2, -0.4) == 0 and match_archive.spare_workers(1, 0.0) == 0
    assert match_archive.spare_workers(8, 3.5) == 3 and match_archive.spare_workers(8, 9.0) == 7


class _Started(Exception):
    pass


class _Idle(match_archive.IdleMeter):
    def __init__(self, cores: float) -> None:
        self.cores = cores

    def idle_cores(self, cores: int) -> float:
        return self.cores


def _no_start(*_args: object) -> match_archive.Helpers:
    raise _Started


@pytest.mark.parametrize(("seen", "load", "started"), [(1.0, 0.0, True), (1.0, 1.5, False), (0.3, 0.0, False)],
                         ids=["both idle", "a core idled but the load is high", "the load is low but no core idled"])
def test_a_worker_needs_a_core_idle_while_reading_and_by_the_load_average(
        archive: Store, monkeypatch: pytest.MonkeyPatch, seen: float, load: float, started: bool) -> None:
    articles = stored(archive)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(match_archive, "start_workers", _no_start)
    if started:
        with pytest.raises(_Started):
            match_archive.match_archive(RULES, texts(articles), VN_TZ, idle=_Idle(seen), parallel_min=0)
    else:
        got = match_archive.match_archive(RULES, texts(articles), VN_TZ, idle=_Idle(seen), parallel_min=0)
        assert got == plain(RULES, articles)


def test_the_idle_meter_counts_the_cores_the_machine_left_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = iter([(100, 1000), (180, 1100)])  # (idle, all) from /proc/stat: 80 % idle in between
    monkeypatch.setattr(match_archive, "_cpu_ticks", lambda: next(ticks))
    assert match_archive.IdleMeter().idle_cores(2) == pytest.approx(1.6)
    # No /proc/stat (or too short a time to tell): the load average's idle cores, as before.
    monkeypatch.setattr(match_archive, "_cpu_ticks", lambda: None)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.5, 0.0, 0.0))
    assert match_archive.IdleMeter().idle_cores(4) == pytest.approx(2.5)


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="Linux's /proc/stat")
def test_the_idle_meter_sees_this_process_busy() -> None:
    cores = os.cpu_count() or 1
    meter = match_archive.IdleMeter()
    end = time.monotonic() + 0.2
    while time.monotonic() < end:
        pass  # one core busy: at most the others idled
    assert -0.5 <= meter.idle_cores(cores) <= cores - 0.5


def test_the_workers_of_match_run_at_its_priority_and_the_services_below_it() -> None:
    from daemon.prepare import Workers

    mine = os.nice(0)
    for nice, expected in ((0, mine), (10, min(19, mine + 10))):
        workers = Workers(VN_TZ, (), count=1, nice=nice)
        try:
            assert workers.submit(os.nice, 0).result(timeout=60) == expected
        finally:
            workers.close()


def _die(_texts: object) -> Wire:
    os._exit(3)  # a worker killed mid-task (out of memory, kill -9)


def test_a_worker_that_dies_leaves_its_articles_to_this_process(archive: Store, monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    articles = stored(archive)
    monkeypatch.setattr(match_archive, "_match_chunk", _die)
    here = slow_here(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="daemon.match_archive"):
        got = match_archive.match_archive(RULES, texts(articles), VN_TZ, workers=1, parallel_min=0, chunk=3)
    assert got == plain(RULES, articles)
    assert len(here) == len(articles)  # every article matched here, those sent to the worker too
    assert [r.message for r in caplog.records if "worker process failed" in r.message] != []


def test_match_as_a_real_process_lists_what_the_plain_matcher_finds(tmp_path: Path, archive: Store) -> None:
    rules = "".join(f'[[rules]]\nname = "{r.name}"\nkeywords = {json.dumps(list(r.keywords), ensure_ascii=False)}\n'
                    f"all = {json.dumps(list(r.all), ensure_ascii=False)}\n"
                    f"exclude = {json.dumps(list(r.exclude), ensure_ascii=False)}\n"
                    f"sources = {json.dumps(list(r.sources))}\n" for r in RULES)
    config = write_config(tmp_path, '[[feeds]]\nname = "vnexpress"\nurl = "http://127.0.0.1:9/feed.rss"\n' + rules)
    (tmp_path / "state").mkdir(exist_ok=True)
    archive.checkpoint()
    (tmp_path / "state" / "news.db").write_bytes(archive.path.read_bytes())
    assert fts_query(RULES[-1]) is None  # the regex rule reads every article; the others what the index finds
    # (Every rule's output through the process is tested in test_match_prefilter; these four read edited rows.)
    for rule in (RULES[0], RULES[2], RULES[3], RULES[-1]):
        proc = subprocess.run([sys.executable, "-m", "daemon", "--config", str(config), "match", rule.name, "--json"],
                              capture_output=True, text=True, timeout=60, env=cli_env(), cwd=tmp_path, check=True)
        got = [(a["id"], [tuple(m.values()) for m in a["matches"]]) for a in json.loads(proc.stdout)]
        # (The index holds an edited row's words as edited: "uỷ" is not the "ủy" a keyword looks for there.)
        candidates = archive.articles_since(None, fts_query(rule))
        expected = [(a.id, [(m.rule, m.keyword, m.text, m.field, m.snippet) for m in found])
                    for a, found in zip(candidates, plain([rule], candidates), strict=True) if found]
        assert got, rule.name
        assert got == expected, rule.name


def test_results_left_to_the_exit_are_one_commands_at_a_time() -> None:
    """`match` leaves its rows to the process's end (freeing them took 3 % of it); a process that runs
    commands again and again (these tests) holds only the last one's."""
    from daemon.cli import common

    first, second = [object()], [object()]
    common.keep_until_exit(first, "a")
    common.keep_until_exit(second)
    assert len(common._KEPT) == 1 and common._KEPT[0] is second
    common.keep_until_exit()
    assert not common._KEPT

"""Issue 11: copies of one report from many outlets are one story, and one alert.

Real parts: the five shipped samples ingested from a seed folder by the pipeline into a real SQLite file,
copies of them arriving as another outlet's feed items, the stored alerts read back; the commands run as
real processes.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from daemon.config import load
from daemon.models import Document, StorySettings
from daemon.pipeline import Pipeline
from daemon.sources.folder import read_seed, scan
from daemon.store import Store, db
from daemon.store.schema import MIGRATIONS
from daemon.text import docrefs
from daemon.text.dates import VN_TZ
from tests.helpers import cli_env, write_config

RULES = """
[[rules]]
name = "thanh-uy"
keywords = ["Thành ủy"]

[[rules]]
name = "copy-only"
keywords = ["Quang cảnh hội nghị"]

[[webhooks]]
name = "office"
url = "http://127.0.0.1:9/"
"""
CAPTION = "Quang cảnh hội nghị tại điểm cầu tỉnh. Ảnh: TTXVN"


def samples(project: Path) -> list[Document]:
    seeds = scan(project / "seeds", {}, time.time()).changed
    return [read_seed(s, VN_TZ)[0] for s in sorted(seeds, key=lambda s: s.relpath)]


def copy_of(doc: Document, outlet: str = "ttxvn") -> Document:
    """Another outlet's copy: an outlet prefix, a new title, a caption line added, the last paragraph dropped."""
    paragraphs = doc.body.split("\n\n")
    body = "\n\n".join([f"(TTXVN) - {paragraphs[0]}", CAPTION, *paragraphs[1:-1]])
    return Document(outlet, f"https://{outlet}.vn/{abs(hash(doc.title))}", f"Tin {outlet}: {doc.title[:40]}", body)


def lead_of(doc: Document) -> Document:
    """A feed item carrying only the title and the lead, as many RSS feeds do."""
    return Document("rss-lead", f"lead:{doc.title[:30]}", doc.title, doc.body.split("\n\n")[0])


def pipeline(project: Path, extra: str = "") -> Pipeline:
    write_config(project, RULES + extra)
    config = load(project / "config.toml")
    return Pipeline(config, Store(config.db_path, config.tz))


def stories(project: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(project / "state" / "news.db")
    conn.row_factory = sqlite3.Row
    try:
        return list(conn.execute("SELECT * FROM stories ORDER BY id"))
    finally:
        conn.close()


def query(project: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(project / "state" / "news.db")
    try:
        return [tuple(r) for r in conn.execute(sql)]
    finally:
        conn.close()


def test_each_sample_and_its_copy_are_one_story_with_one_alert(project: Path) -> None:
    p = pipeline(project)
    originals = samples(project)
    assert len(p.scan_seeds().titles) == 5
    report = p.ingest([copy_of(d) for d in originals])
    assert (len(report.new), report.joined) == (5, 5)
    rows = stories(project)
    assert [(r["article_count"], r["source_count"]) for r in rows] == [(2, 2)] * 5
    assert [r["title"] for r in rows] == [d.title for d in originals]  # the first article's title
    # Both copies match "Thành ủy" and both have their matches rows; the story alerted once, for the first.
    per_story = query(project, "SELECT a.story_id, count(DISTINCT m.article_id) FROM matches m"
                               " JOIN articles a ON a.id = m.article_id WHERE m.rule = 'thanh-uy' GROUP BY 1")
    assert sorted(n for _, n in per_story) == [2] * 5
    alerts = query(project, "SELECT r.story_id, r.source FROM alerts a JOIN articles r ON r.id = a.article_id"
                            " WHERE a.rule = 'thanh-uy'")
    assert sorted(s for s, _ in alerts) == [r["id"] for r in rows] and {src for _, src in alerts} == {"seeds"}
    # The copies added a caption no original has: that rule had not fired for these stories, so it fires once.
    assert len(query(project, "SELECT 1 FROM alerts WHERE rule = 'copy-only'")) == 5
    assert report.held == 5
    # The copies' sightings count as outlets; a third copy of one story is held back too.
    again = p.ingest([copy_of(originals[0], "vov")])
    assert (again.joined, again.alerts, again.held) == (1, 0, 2)
    first = stories(project)[0]
    assert (first["article_count"], first["source_count"]) == (3, 3)
    # The same copy from one more outlet is the same article, sighted again: one more outlet, no more articles.
    assert p.ingest([copy_of(originals[0], "vov")]).duplicates
    first = stories(project)[0]
    assert (first["article_count"], first["source_count"]) == (3, 3)


def test_alert_each_copy_restores_one_alert_per_article(project: Path) -> None:
    p = pipeline(project, "\n[stories]\nalert_each_copy = true\n")
    p.scan_seeds()
    report = p.ingest([copy_of(d) for d in samples(project)])
    assert report.joined == 5 and report.held == 0
    assert len(query(project, "SELECT 1 FROM alerts WHERE rule = 'thanh-uy'")) == 10


def test_a_lead_only_feed_item_joins_the_full_articles_story(project: Path) -> None:
    p = pipeline(project)
    originals = samples(project)
    p.scan_seeds()
    report = p.ingest([lead_of(d) for d in originals])
    assert report.joined == 5
    assert [r["article_count"] for r in stories(project)] == [2] * 5


def test_the_lead_only_item_first_then_the_full_article(project: Path) -> None:
    p = pipeline(project)
    originals = samples(project)
    p.ingest([lead_of(d) for d in originals])
    assert p.ingest(originals).joined == 5
    assert len(stories(project)) == 5


TEMPLATE = (
    "Sáng {day}, Ban Thường vụ Tỉnh ủy {province} tổ chức Hội nghị quán triệt, triển khai thực hiện Nghị quyết"
    " số 57-NQ/TW của Bộ Chính trị về đột phá phát triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số"
    " quốc gia.\n\n"
    "Dự hội nghị có đồng chí {secretary}, Ủy viên Trung ương Đảng, Bí thư Tỉnh ủy; đồng chí {deputy}, Phó Bí thư"
    " Thường trực Tỉnh ủy; các đồng chí trong Ban Thường vụ Tỉnh ủy, lãnh đạo các sở, ban, ngành, đoàn thể tỉnh.\n\n"
    "Phát biểu chỉ đạo, đồng chí {secretary} đề nghị các cấp ủy, tổ chức đảng quán triệt sâu sắc, triển khai thực"
    " hiện nghiêm túc Nghị quyết, xác định đây là nhiệm vụ trọng tâm, xuyên suốt. Năm {year}, tỉnh phấn đấu"
    " {percent}% thủ tục hành chính được giải quyết trực tuyến toàn trình, kinh tế số đạt {share}% GRDP.\n\n"
    "Hội nghị được tổ chức trực tiếp kết hợp trực tuyến đến {points} điểm cầu cấp xã với hơn {people} đại biểu"
    " tham dự. Tỉnh ủy {province} giao Ban Tuyên giáo và Dân vận Tỉnh ủy hướng dẫn, kiểm tra, đôn đốc việc thực"
    " hiện, định kỳ báo cáo Ban Thường vụ Tỉnh ủy."
)


def test_two_events_written_from_one_template_stay_apart(project: Path) -> None:
    p = pipeline(project)
    a = TEMPLATE.format(day="12-3", province="Nghệ An", secretary="Nguyễn Khắc Thận", deputy="Hoàng Nghĩa Hiếu",
                        year=2026, percent=80, share=20, points=130, people="8.000")
    b = TEMPLATE.format(day="14-3", province="Hà Tĩnh", secretary="Nguyễn Duy Lâm", deputy="Trần Thế Dũng",
                        year=2026, percent=85, share=25, points=69, people="5.000")
    report = p.ingest([Document("baonghean", "1", "Nghệ An quán triệt Nghị quyết 57", a),
                       Document("baohatinh", "2", "Hà Tĩnh quán triệt Nghị quyết 57", b)])
    assert (len(report.new), report.joined) == (2, 0)
    # ... while a copy of one of them still joins it
    copy = Document("vov", "3", "Quán triệt Nghị quyết 57 ở Nghệ An", "(VOV) - " + a.rsplit("\n\n", 1)[0])
    assert p.ingest([copy]).joined == 1
    assert [r["article_count"] for r in stories(project)] == [2, 1]


def test_a_copy_arriving_after_the_window_starts_a_new_story(project: Path) -> None:
    p = pipeline(project, '\n[stories]\nwindow = "3d"\n')
    original = samples(project)[3]
    start = datetime(2026, 3, 1, 9, tzinfo=VN_TZ)
    late = copy_of(original)
    p.store.ingest([_item(p, original)], now=start, stories=p.config.stories)
    assert p.store.ingest([_item(p, copy_of(original, "vov"))], now=start + timedelta(days=2),
                          stories=p.config.stories).joined == 1
    # Three days after the first copy but only one after the second: the second is within the window.
    assert p.store.ingest([_item(p, copy_of(original, "dantri"))], now=start + timedelta(days=3, hours=12),
                          stories=p.config.stories).joined == 1
    assert p.store.ingest([_item(p, late)], now=start + timedelta(days=7),
                          stories=p.config.stories).joined == 0
    assert [r["article_count"] for r in stories(project)] == [3, 1]


def _item(p: Pipeline, doc: Document):  # type: ignore[no-untyped-def]
    from daemon.prepare import prepare
    from daemon.store.articles import NewItem
    from daemon.stories.sketch import sketch

    prepared = prepare(doc)
    matches = p.matcher.match(prepared.doc.title, prepared.doc.body, prepared.doc.source)
    return NewItem(prepared, matches, p._alert_targets(matches), sketch(prepared.doc.title, prepared.doc.body))


def test_stories_off_keeps_one_alert_per_article(project: Path) -> None:
    p = pipeline(project, "\n[stories]\nenabled = false\n")
    p.scan_seeds()
    report = p.ingest([copy_of(d) for d in samples(project)])
    assert report.joined == 0 and stories(project) == []
    assert len(query(project, "SELECT 1 FROM alerts WHERE rule = 'thanh-uy'")) == 10
    assert query(project, "SELECT count(*) FROM articles WHERE story_id IS NULL") == [(10,)]


def test_a_database_from_before_stories_gets_them_on_first_start_and_no_alert_again(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(project, RULES)
    config = load(project / "config.toml")
    with monkeypatch.context() as m:  # the store as it was (migrations 1-5), and no stories to write
        m.setattr(db, "MIGRATIONS", MIGRATIONS[:5])
        m.setattr(docrefs, "document_codes", lambda _text: [])  # nor documents (document_refs came later)
        before_stories = replace(config, stories=StorySettings(enabled=False))
        old = Pipeline(before_stories, Store(config.db_path, config.tz))
        old.scan_seeds()
        old.ingest([copy_of(d) for d in samples(project)])
        old.store.mark_delivered([r[0] for r in query(project, "SELECT id FROM alerts")], old.store.now())
        old.store.close()
    before = query(project, "SELECT id, status FROM alerts ORDER BY id")
    assert len(before) == 15 and {s for _, s in before} == {"delivered"}
    new = Pipeline(config, Store(config.db_path, config.tz))  # the first start after the upgrade
    assert [r["article_count"] for r in stories(project)] == [2] * 5
    assert query(project, "SELECT id, status FROM alerts ORDER BY id") == before
    # A copy arriving now joins its story, and the story has alerted already: nothing is queued.
    report = new.ingest([copy_of(samples(project)[1], "vov")])
    assert (report.joined, report.alerts) == (1, 0)


def test_the_alert_payload_and_the_commands_show_the_story(project: Path) -> None:
    from daemon.deliver import formats, payload

    p = pipeline(project)
    p.scan_seeds()
    p.ingest([copy_of(d) for d in samples(project)])
    due = p.store.due_alerts("office", p.store.now() + timedelta(minutes=1))
    first = next(a for a in due if a.rule == "thanh-uy")
    data = payload.alert_data(first)
    assert data["story"] == {"id": first.article.id, "articles": 2, "sources": ["seeds", "ttxvn"]}
    hook = p.config.webhooks[0]
    text = json.loads(formats.render(type(hook)(hook.name, hook.url, format="slack"), due[:2], p.store.now(),
                                     digest=True))["text"]
    assert "2 báo cùng đưa" in text

    def cli(*args: str) -> str:
        return subprocess.run([sys.executable, "-m", "daemon", "--config", str(project / "config.toml"), *args],
                              capture_output=True, text=True, check=True, env=cli_env(), timeout=60).stdout

    listing = json.loads(cli("stories", "--since", "1d", "--rule", "copy-only", "--json"))
    assert len(listing) == 5 and all(s["article_count"] == 2 and len(s["articles"]) == 2 for s in listing)
    assert {a["source"] for s in listing for a in s["articles"]} == {"seeds", "ttxvn"}
    text = cli("stories")
    assert "2 articles, 2 outlets (seeds, ttxvn)" in text
    hits = cli("search", "thanh uy")
    assert hits.count("+1 copy") == 5 and hits.count("\n[") + hits.startswith("[") == 5
    assert len(json.loads(cli("search", "thanh uy", "--all", "--json"))) == 10
    assert "stories    5 (5 carried by more than one article)" in cli("status")


def halves(doc: Document) -> tuple[Document, Document]:
    """Two heavily cut copies of one report that share no sentence: the first half, and the second."""
    paragraphs = doc.body.split("\n\n")
    cut = len(paragraphs) // 2
    return (Document("vov", "half:1", f"VOV: {doc.title}", "\n\n".join(paragraphs[:cut])),
            Document("dantri", "half:2", f"Dân trí: {doc.title}", "\n\n".join(paragraphs[cut:])))


def test_a_report_split_in_two_is_merged_by_the_copy_that_matches_both(project: Path) -> None:
    p = pipeline(project)
    original = max(samples(project), key=lambda d: len(d.body))
    first, second = halves(original)
    report = p.ingest([first, second])
    assert (len(report.new), report.joined) == (2, 0)  # the two halves have nothing in common
    split = stories(project)
    assert [r["article_count"] for r in split] == [1, 1]
    alerts = query(project, "SELECT id, article_id FROM alerts ORDER BY id")
    # The whole report matches both: the later story is merged into the earlier, and the report joins it.
    assert p.ingest([original]).joined == 1
    merged = stories(project)
    assert [(r["id"], r["article_count"], r["source_count"]) for r in merged] == [(split[0]["id"], 3, 3)]
    assert query(project, "SELECT DISTINCT story_id FROM articles") == [(split[0]["id"],)]
    # Alerts already queued stay as they were (both halves alerted for their rules, before the merge).
    assert query(project, "SELECT id, article_id FROM alerts ORDER BY id") == alerts
    # A later copy is held back for the rules the merged story has alerted for; only its caption's rule fires.
    again = p.ingest([copy_of(original, "nhandan")])
    assert (again.joined, again.alerts) == (1, 1) and again.held >= 1
    assert query(project, "SELECT a.rule FROM alerts a JOIN articles r ON r.id = a.article_id"
                          " WHERE r.source = 'nhandan'") == [("copy-only",)]


def test_two_stores_on_one_database_see_each_others_stories(project: Path) -> None:
    """A second process (`newswatch fetch` while the service runs) writes the same file: each store's
    window takes in what the other committed."""
    one = pipeline(project)
    config = load(project / "config.toml")
    two = Pipeline(config, Store(config.db_path, config.tz))
    originals = samples(project)
    one.ingest(originals[:2])
    assert two.ingest([copy_of(originals[0])]).joined == 1  # built from the database: knows the first two
    two.ingest([originals[2]])
    assert one.ingest([copy_of(originals[2], "vov")]).joined == 1  # the first store learns of the third
    first, second = halves(originals[3])
    one.ingest([first])
    two.ingest([second])
    assert one.ingest([originals[3]]).joined == 1  # merges its own story with the other store's
    assert two.ingest([copy_of(originals[3], "nhandan")]).joined == 1  # ... and the other store follows
    counts = sorted(r["article_count"] for r in stories(project))
    assert counts == [1, 2, 2, 4]


def test_a_failed_ingest_drops_the_window_and_the_next_one_rebuilds_it(project: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The window may hold arrivals of a transaction that rolled back (their ids are given again): dropped."""
    import daemon.store.articles as articles_module

    p = pipeline(project)
    original = samples(project)[2]
    p.ingest([original])
    assert p.store.windows.window is not None

    def failing(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the disk went away")

    with monkeypatch.context() as m:
        m.setattr(articles_module, "refresh_stories", failing)
        with pytest.raises(RuntimeError):
            p.ingest([copy_of(original)])
    assert p.store.windows.window is None
    assert query(project, "SELECT count(*) FROM articles") == [(1,)]
    assert p.ingest([copy_of(original)]).joined == 1  # built again from the database
    assert [r["article_count"] for r in stories(project)] == [2]


def test_articles_are_written_with_their_stories_and_every_link_holds(project: Path) -> None:
    """The ingest inserts a new story before its first article (schema v15 checks that link at the commit)
    so that each article row is written once, with its story."""
    p = pipeline(project)
    originals = samples(project)
    first, second = halves(max(originals, key=lambda d: len(d.body)))
    p.ingest([*originals, first, second, copy_of(originals[0])])
    p.ingest([max(originals, key=lambda d: len(d.body)), lead_of(originals[1])])  # a merge, a lead-only copy
    conn = sqlite3.connect(project / "state" / "news.db")
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("SELECT count(*) FROM articles WHERE story_id IS NULL").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM stories WHERE id != first_article_id").fetchone() == (0,)
        plan = conn.execute("EXPLAIN QUERY PLAN SELECT id FROM stories WHERE first_article_id = 3").fetchall()
        assert "stories_first_article" in str(plan)
        # The link is still a foreign key, checked when the transaction ends: a story whose article never
        # comes is refused at the commit, not at the insert.
        conn.execute("BEGIN")
        conn.execute("INSERT INTO stories (id, title, first_article_id, first_seen_at, last_seen_at, article_count,"
                     " source_count) VALUES (999999, 't', 999999, '2026-01-01', '2026-01-01', 1, 1)")
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            conn.execute("COMMIT")
        conn.execute("ROLLBACK")
    finally:
        conn.close()

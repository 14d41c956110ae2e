"""Issue 13: the morning briefing (điểm báo), built from a real archive and read in every format.

The five samples plus copies from other outlets (as feed items) are ingested by the real pipeline into a
real SQLite file; the briefing is composed from it, its Markdown read back, its DOCX reopened with
python-docx, its HTML opened in Debian's headless Chromium. Periods and spikes are pure and tested
directly; the schedule (made once, caught up, never twice) against a real store with a moved clock.
"""

from __future__ import annotations

import io
import json
import sqlite3
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from daemon.brief import chat
from daemon.brief.build import spikes
from daemon.brief.make import compose
from daemon.brief.periods import latest_complete, period_of
from daemon.brief.schedule import tick
from daemon.config import load
from daemon.deliver.formats import LIMITS
from daemon.errors import ConfigError
from daemon.models import Document
from daemon.pipeline import Pipeline
from daemon.sources.folder import read_seed, scan
from daemon.store import Store
from daemon.text.dates import VN_TZ
from tests.helpers import BRIEF_RULES as RULES
from tests.helpers import CHROMIUM, chromium, write_config

BRIEFING = """
[[briefings]]
name = "sang"
title = "Văn phòng Thành ủy"
at = "07:00"
rules = ["nq57", "thanh-uy"]
formats = ["md", "html", "docx"]
min_sources = 1
"""


def outlet_copy(doc: Document, outlet: str) -> Document:
    """What another outlet prints: its prefix on the lead, its own headline, the closing paragraph cut."""
    paragraphs = doc.body.split("\n\n")
    body = "\n\n".join([f"({outlet.upper()}) - {paragraphs[0]}", *paragraphs[1:-1]])
    return Document(outlet, f"https://{outlet}.vn/{len(doc.body)}", f"{outlet.upper()}: {doc.title[:50]}", body,
                    url=f"https://{outlet}.vn/bai/{len(doc.body)}.html")


@pytest.fixture
def archive(project: Path) -> Pipeline:
    """The five samples, then the NQ 57 sample carried by two more outlets and another one by one more."""
    write_config(project, RULES + BRIEFING)
    config = load(project / "config.toml")
    pipeline = Pipeline(config, Store(config.db_path, config.tz))
    seeds = sorted(scan(project / "seeds", {}, time.time()).changed, key=lambda s: s.relpath)
    docs = [read_seed(s, VN_TZ)[0] for s in seeds]
    pipeline.ingest(docs)
    nq57 = next(d for d in docs if "57-NQ/TW" in d.body)
    other = next(d for d in docs if "57-NQ/TW" not in d.body and "Thành ủy" in d.body)
    pipeline.ingest([outlet_copy(nq57, "vov"), outlet_copy(nq57, "chinhphu"), outlet_copy(other, "ttxvn")])
    return pipeline


def today_period(p: Pipeline) -> object:
    return period_of("day", p.store.now().date(), None, p.config.tz)


def test_a_day_briefing_of_the_samples_and_their_copies(archive: Pipeline, tmp_path: Path) -> None:
    p = archive
    cfg = p.config.briefings[0]
    made = compose(p.store, name=cfg.name, title=cfg.title, period=today_period(p), rules=p.config.rules,  # type: ignore[arg-type]
                   formats=["md", "html", "docx"], tz=p.config.tz, now=p.store.now(), min_sources=3)
    b = made.briefing
    assert (b.articles, b.stories, b.outlets) == (8, 5, 4)  # 5 samples + 3 copies; seeds, vov, chinhphu, ttxvn
    nq57, thanh_uy = b.sections
    assert nq57.title == "Nghị quyết 57-NQ/TW về khoa học, công nghệ" and thanh_uy.title == "thanh-uy"
    (story,) = nq57.items  # the sample and its two copies are one story, shown once
    assert story.outlets == ("seeds", "vov", "chinhphu") and story.articles == 3
    assert "Nghị quyết số 57-NQ/TW" in story.summary and [link.outlet for link in story.links] == ["vov", "chinhphu"]
    assert len(thanh_uy.items) == 5 and [len(i.outlets) for i in thanh_uy.items] == [3, 2, 1, 1, 1]  # most first
    assert thanh_uy.mentions == 8
    # The first citation of each document in the archive: the sample, not its later copies.
    docs = {d.code: d for d in b.documents}
    assert set(docs) == {"NQ 57 (TW)", "CT 34 (TU)", "QĐ 13140 (TU)"}
    assert docs["NQ 57 (TW)"].cited == "Nghị quyết số 57-NQ/TW" and docs["NQ 57 (TW)"].outlet == "seeds"
    assert docs["NQ 57 (TW)"].title.startswith("Trao Bằng khen") and "57-NQ/TW" in docs["NQ 57 (TW)"].quote
    assert b.highlights == ()  # every story of the day matched a rule

    md = made.markdown
    assert md.startswith(f"# Điểm báo ngày {b.period.day.strftime('%d/%m/%Y')} — Văn phòng Thành ủy\n")
    assert "**8 tin bài · 5 sự kiện · 4 nguồn tin**" in md
    assert md.index("## Nghị quyết 57-NQ/TW") < md.index("## thanh-uy") < md.index("## Văn bản được nhắc đến lần đầu")
    assert "3 báo cùng đưa: seeds, vov, chinhphu" in md and "**Nghị quyết số 57-NQ/TW** (NQ 57 (TW))" in md
    assert "## Diễn biến 30 ngày qua" in md and "## Tin nổi bật" in md

    import docx

    word = docx.Document(io.BytesIO(made.outputs["docx"]))
    texts = [para.text for para in word.paragraphs]
    headings = [para.text for para in word.paragraphs if para.style.name.startswith("Heading")]
    assert headings == [nq57.title, "thanh-uy", "Văn bản được nhắc đến lần đầu", "Diễn biến 30 ngày qua", "Tin nổi bật"]
    for item in (*nq57.items, *thanh_uy.items):  # the same stories, in the same order
        assert item.title in texts and item.summary in texts
    assert len(word.inline_shapes) == 1  # the chart

    page = made.outputs["html"].decode()
    assert '<meta name="viewport"' in page and "@media print" in page and "data:image/png;base64," in page
    assert "http" not in page.replace('href="https://', "").split("<body>")[0]  # nothing fetched from elsewhere
    (tmp_path / "brief.html").write_bytes(made.outputs["html"])


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (Debian's chromium package) here")
def test_the_html_renders_in_chromium_on_a_phone_and_prints_on_a4(archive: Pipeline, tmp_path: Path) -> None:
    p = archive
    made = compose(p.store, name="sang", title="Văn phòng Thành ủy", period=today_period(p), rules=p.config.rules,  # type: ignore[arg-type]
                   formats=["html"], tz=p.config.tz, now=p.store.now(), min_sources=1)
    path = tmp_path / "sang.html"
    path.write_bytes(made.outputs["html"])
    with chromium(tmp_path / "profile") as browser:
        page = browser.new_page()
        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        errors: list[str] = []
        requests: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        assert errors == []
        assert [u for u in requests if not u.startswith(("file:", "data:"))] == []  # self-contained
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
        assert page.locator("h2").all_inner_texts()[:2] == ["Nghị quyết 57-NQ/TW về khoa học, công nghệ", "thanh-uy"]
        assert page.evaluate("document.querySelector('figure img').naturalWidth") > 0  # the chart decoded
        page.screenshot(path=str(tmp_path / "briefing-phone.png"), full_page=True)
        page.emulate_media(media="print")
        page.pdf(path=str(tmp_path / "briefing-a4.pdf"), format="A4")
    assert (tmp_path / "briefing-phone.png").stat().st_size > 10_000
    assert (tmp_path / "briefing-a4.pdf").read_bytes().startswith(b"%PDF")


def test_periods_follow_at_weekday_and_months() -> None:
    tz = VN_TZ
    day = period_of("day", date(2026, 12, 2), (7, 0, 0), tz)
    assert (day.start, day.end) == (datetime(2026, 12, 1, 7, tzinfo=tz), datetime(2026, 12, 2, 7, tzinfo=tz))
    plain = period_of("day", date(2026, 12, 2), None, tz)
    assert (plain.start, plain.end) == (datetime(2026, 12, 2, tzinfo=tz), datetime(2026, 12, 3, tzinfo=tz))
    month = period_of("month", date(2026, 2, 17), (7, 0, 0), tz)
    assert (month.start, month.end, month.key()) == (datetime(2026, 2, 1, 7, tzinfo=tz),
                                                     datetime(2026, 3, 1, 7, tzinfo=tz), "2026-02")
    now = datetime(2026, 12, 3, 6, 59, tzinfo=tz)  # a Thursday, a minute before seven
    assert latest_complete("day", now, (7, 0, 0), tz).day == date(2026, 12, 2)
    assert latest_complete("day", now + timedelta(minutes=1), (7, 0, 0), tz).day == date(2026, 12, 3)
    assert latest_complete("day", now, None, tz).day == date(2026, 12, 2)
    thursday = latest_complete("week", now + timedelta(minutes=1), (7, 0, 0), tz, weekday=3)
    assert (thursday.start, thursday.end) == (datetime(2026, 11, 26, 7, tzinfo=tz), datetime(2026, 12, 3, 7, tzinfo=tz))
    assert latest_complete("week", now, (7, 0, 0), tz, weekday=3).day == date(2026, 11, 26)
    assert latest_complete("month", now, (7, 0, 0), tz).key() == "2026-11"


def test_a_spike_needs_a_baseline_and_a_factor() -> None:
    days = [date(2026, 12, d) for d in range(1, 4)]
    quiet = {f"2026-11-{d:02d}": 1 for d in range(17, 31)}  # one a day for the 14 days before
    assert spikes({**quiet, "2026-12-01": 3}, days[:1], 3.0) == []  # 3 is not more than 3 × 1
    assert spikes({**quiet, "2026-12-01": 4}, days[:1], 3.0) == [(date(2026, 12, 1), 4, 1.0)]
    assert spikes({"2026-12-01": 50}, days[:1], 3.0) == []  # a rule never mentioned before: no baseline
    assert spikes({"2026-11-20": 1, "2026-12-01": 2}, days[:1], 3.0) == []  # fewer than 3 is never a spike


def test_the_schedule_makes_each_period_once_and_catches_up_after_a_downtime(project: Path) -> None:
    write_config(project, RULES + BRIEFING.replace('formats = ["md", "html", "docx"]', 'formats = ["md"]'))
    config = load(project / "config.toml")
    store = Store(config.db_path, config.tz)
    first = datetime(2026, 12, 2, 6, 0, tzinfo=VN_TZ)
    assert tick(store, config, now=first).made == []  # a new briefing has no backlog
    assert tick(store, config, now=first + timedelta(hours=1, seconds=1)).made == ["sang 2026-12-02"]
    assert tick(store, config, now=first + timedelta(hours=2)).made == []  # made once
    down = tick(store, config, now=first + timedelta(days=3, hours=2))  # down for three mornings
    assert down.made == ["sang 2026-12-03", "sang 2026-12-04", "sang 2026-12-05"]
    assert down.next_due == datetime(2026, 12, 6, 7, tzinfo=VN_TZ)
    rows = sqlite3.connect(config.db_path).execute("SELECT name, period, period_start, files FROM briefings"
                                                   " ORDER BY period_start").fetchall()
    assert [r[2] for r in rows] == [f"2026-12-0{d}T07:00:00+07:00" for d in (1, 2, 3, 4)]
    for *_, files in rows:
        (path,) = json.loads(files)
        assert Path(path).read_text(encoding="utf-8").startswith("# Điểm báo ngày")
    assert sorted(f.name for f in (project / "state" / "briefs").iterdir()) == [
        f"sang-2026-12-0{d}.md" for d in (2, 3, 4, 5)]  # no temporary file left behind


def test_chat_texts_fit_their_platforms(archive: Pipeline) -> None:
    p = archive
    made = compose(p.store, name="sang", title="Văn phòng Thành ủy " + "rất dài " * 30, period=today_period(p),  # type: ignore[arg-type]
                   rules=p.config.rules * 30, formats=["md"], tz=p.config.tz, now=p.store.now())
    for fmt, limit in LIMITS.items():
        text = chat.render(fmt, made.briefing, ("sang-2026-12-02.md",))
        assert len(text) <= limit and "… và" in text, fmt
        assert "3 báo cùng đưa" in text


def test_briefings_config_mistakes_are_one_line(project: Path) -> None:
    def refused(extra: str) -> str:
        write_config(project, RULES + extra)
        with pytest.raises(ConfigError) as err:
            load(project / "config.toml")
        return str(err.value)

    assert "line 25: briefings[0].perod: unknown key (did you mean 'period'?)" in refused(BRIEFING + 'perod = "week"\n')
    assert "line 21: briefings[0].at: expected a time of day like \"07:00\"" in refused(
        BRIEFING.replace('"07:00"', '"7h"'))
    assert "briefings[0].rules[1]: unknown rule 'thanh-u' (did you mean 'thanh-uy'?)" in refused(
        BRIEFING.replace('"thanh-uy"]', '"thanh-u"]'))
    assert "briefings[0].period: unknown value 'weekly' (did you mean 'week'" in refused(
        BRIEFING + 'period = "weekly"\n')
    assert "briefings[0].weekday: only a weekly briefing" in refused(BRIEFING + 'weekday = "thu"\n')
    assert "briefings[0].formats[0]: unknown value 'pdf'" in refused(BRIEFING.replace('["md", "html", "docx"]',
                                                                                      '["pdf"]'))
    assert "rules[2].spike_factor: expected a number above 1" in refused(
        RULES.replace('keywords = ["Nghị quyết 57"]', 'keywords = ["Nghị quyết 57"]\nspike_factor = 0.5'))
    write_config(project, RULES + BRIEFING + 'period = "week"\nweekday = "thu"\n')
    assert load(project / "config.toml").briefings[0].weekday == 3


def test_an_unwritable_folder_is_one_line_and_the_period_is_made_once_it_is_writable(
        project: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_config(project, RULES + BRIEFING.replace('formats = ["md", "html", "docx"]', 'formats = ["md"]')
                 + 'out = "briefs-file"\n')
    (project / "briefs-file").write_text("a file where the folder should be")
    config = load(project / "config.toml")
    store = Store(config.db_path, config.tz)
    first = datetime(2026, 12, 2, 6, 0, tzinfo=VN_TZ)
    tick(store, config, now=first)
    assert tick(store, config, now=first + timedelta(hours=2)).made == []
    (line,) = [r.getMessage() for r in caplog.records if "cannot write" in r.getMessage()]
    assert line.startswith("briefing sang (day 2026-12-02): cannot write its files in ") and "briefs-file" in line
    (project / "briefs-file").unlink()
    assert tick(store, config, now=first + timedelta(hours=3)).made == ["sang 2026-12-02"]


def test_a_feeds_script_link_never_reaches_the_briefing(archive: Pipeline) -> None:
    p = archive
    doc = Document("evil", "x-1", "Thành ủy họp", "Thành ủy họp bàn về chuyển đổi số trong tháng này.",
                   url="javascript:alert(1)")
    p.ingest([doc])
    made = compose(p.store, name="sang", title="VP", period=today_period(p), rules=p.config.rules,  # type: ignore[arg-type]
                   formats=["md", "html", "docx"], tz=p.config.tz, now=p.store.now())
    assert "javascript:" not in made.markdown and b"javascript:" not in made.outputs["html"]


def test_listen_prints_briefing_and_spike_events_readably(archive: Pipeline) -> None:
    from daemon.brief.events import ready_events, spike_events
    from daemon.deliver.receiver import describe
    from daemon.models import WebhookConfig

    p = archive
    made = compose(p.store, name="sang", title="Văn phòng Thành ủy", period=today_period(p), rules=p.config.rules,  # type: ignore[arg-type]
                   formats=["md"], tz=p.config.tz, now=p.store.now())
    hook = WebhookConfig("office", "http://127.0.0.1:9/")
    ((event_id, kind, _, webhook, body),) = ready_events(made.briefing, made.markdown, ["sang.md"], "/briefs", [hook])
    assert (kind, webhook) == ("briefing.ready", "office") and event_id.startswith("ev_")
    text = describe(json.loads(body), event_id)
    assert "Văn phòng Thành ủy (sang): day " in text and "8 articles, 5 stories, 4 outlets; files sang.md" in text
    ((spike_id, _, key, _, spike_body),) = spike_events(p.config.rules[1], date(2026, 12, 2), 9, 1.5, now=p.store.now(),
                                                        hooks=[hook])
    assert key == "thanh-uy@2026-12-02"
    assert "thanh-uy (thanh-uy): 9 articles on 2026-12-02, 14-day mean 1.5 (factor 3.0)" in describe(
        json.loads(spike_body), spike_id)

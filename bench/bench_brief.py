"""The briefing on a real-sized archive: a day's briefing over 1,000,000 articles in at most 3 s.

    .venv/bin/python bench/bench_brief.py [--articles 1000000] [--runs 7] [--data /work/benchdata/brief]

The archive is a year of a busy office's intake (about 2,740 articles a day, first seen spread over each
day) written by direct inserts into the real schema (migrations of ``daemon.store``): articles with
realistic text sizes (3-6 KB, recombined from the five samples' paragraphs), stories of 1-6 copies from
20 outlets with their counts, one sighting per article, about 2,700 matches a day over 10 rules with
snippets, and a few new documents a day in ``document_refs``. It is built once and cached under
``--data``, reused when present. The full-text index is left empty and ``folded`` is '' (the briefing
reads neither), which keeps the file at about 5 GB instead of 14.

It prints, for the day ending at the last midnight (the newest complete day), the first briefing made in
the process (it imports matplotlib and python-docx and loads fonts: what a service pays once), then over
``--runs`` runs alternating with the baseline, p50 and p95 of

* the whole briefing: the store's reads, the model, the chart, Markdown, HTML and DOCX (target ≤ 3 s);
* the baseline: the store's reads alone (``Store.brief_rows``: what no format can skip);
* the spike check a pass that stored matches runs (``queue_spikes``: 15 days of counts per rule);

and the cost of finding the documents an article cites at ingest (``document_codes``), per article and as
a share of a feed-like ingest (with and without it, alternating; ``--ingest-only`` runs just that).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DAYS = 365
RULES = [("nq57", "Nghị quyết 57-NQ/TW về khoa học, công nghệ"), ("ct34", "Chỉ thị 34-CT/TU"),
         ("chuyen-doi-so", "Chuyển đổi số"), ("dai-hoi", "Đại hội Đảng bộ"), ("van-phong", "Công tác văn phòng"),
         ("can-bo", "Công tác cán bộ"), ("kiem-tra", "Kiểm tra, giám sát"), ("kinh-te", "Kinh tế - xã hội"),
         ("quoc-phong", "Quốc phòng, an ninh"), ("cai-cach", "Cải cách hành chính")]
OUTLETS = [f"bao-{i:02d}" for i in range(20)]
VERSION = 1  # of the generated archive: a cache built by another version is rebuilt


def paragraphs() -> list[str]:
    found: list[str] = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        found += [p.strip() for p in path.read_text(encoding="utf-8").split("\n\n") if len(p.strip()) > 200]
    return found


def build(path: Path, n: int) -> None:
    from daemon.store import Store
    from daemon.text.dates import VN_TZ

    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    Store(tmp, VN_TZ).close()  # the real schema, every migration
    rng = random.Random(13)
    paras = paragraphs()
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -400000")
    conn.execute("DROP TRIGGER articles_ai")  # the FTS index stays empty: the briefing does not read it
    per_day = n / DAYS
    end = datetime.now(VN_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=DAYS)
    started = time.monotonic()
    conn.execute("BEGIN")
    aid = 0
    story_id = 0
    stories: list[tuple[object, ...]] = []
    for day in range(DAYS):
        count = int(per_day * (day + 1)) - int(per_day * day)
        base = start + timedelta(days=day)
        stamps = sorted(base + timedelta(seconds=rng.uniform(0, 86399)) for _ in range(count))
        articles, sightings, matches, refs = [], [], [], []
        i = 0
        while i < count:
            copies = min(count - i, rng.choice((1, 1, 1, 2, 2, 3, 4, 6)))
            story_id = aid + 1
            outlets = rng.sample(OUTLETS, copies)
            title = rng.choice(paras)[:rng.randint(60, 160)]
            body_parts = rng.sample(paras, rng.randint(4, 7))
            hit_rules = rng.sample(RULES, rng.choice((0, 1, 1, 1, 2)))
            for c in range(copies):
                aid += 1
                seen = stamps[i].isoformat(timespec="seconds")
                i += 1
                body = "\n\n".join(body_parts[c % 2:]) if c else "\n\n".join(body_parts)
                articles.append((aid, f"v2:{aid:064x}", f"{outlets[c].upper()}: {title}" if c else title, body,
                                 f"https://{outlets[c]}.vn/bai/{aid}.html", outlets[c], seen, seen, "", story_id))
                sightings.append((aid, outlets[c], f"item-{aid}", seen, 1))
                for rule, _ in hit_rules:
                    matches.append((aid, rule, rule, rule, "body", f"… «{rule}» {body[200:380]} …", seen))
            stories.append((story_id, title, story_id, articles[-copies][7], articles[-1][7], copies, copies))
            if rng.random() < 0.004:
                refs.append((f"NQ {aid} (TW)", story_id, articles[-copies][7]))
        conn.executemany("INSERT INTO articles (id, content_hash, title, body, url, source, published_at, ingested_at,"
                         " folded, story_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", articles)
        conn.executemany("INSERT INTO sightings (article_id, source, locator, seen_at, is_first)"
                         " VALUES (?, ?, ?, ?, ?)", sightings)
        conn.executemany("INSERT INTO matches (article_id, rule, keyword, matched_text, field, snippet, created_at)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?)", matches)
        conn.executemany("INSERT OR IGNORE INTO document_refs (code, article_id, first_seen) VALUES (?, ?, ?)", refs)
        if day % 30 == 29:
            print(f"  built {day + 1} days, {aid} articles, {time.monotonic() - started:.0f} s", flush=True)
    conn.executemany("INSERT INTO stories (id, title, first_article_id, first_seen_at, last_seen_at, article_count,"
                     " source_count) VALUES (?, ?, ?, ?, ?, ?, ?)", stories)
    conn.execute("CREATE TABLE bench_meta (version INTEGER, articles INTEGER, built_until TEXT)")
    conn.execute("INSERT INTO bench_meta VALUES (?, ?, ?)", (VERSION, aid, end.isoformat()))
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    tmp.rename(path)
    print(f"built {aid} articles in {time.monotonic() - started:.0f} s: {path} ({path.stat().st_size / 1e9:.1f} GB)")


def cached(path: Path, n: int) -> str:
    """The archive's last day (its end, ISO): builds it unless a build of this version and size is there."""
    if path.exists():
        with sqlite3.connect(path) as conn:
            try:
                row = conn.execute("SELECT version, articles, built_until FROM bench_meta").fetchone()
                version, articles, until = row
            except sqlite3.Error:
                version = articles = until = None
        if version == VERSION and articles == n:
            return str(until)
        path.unlink()
    build(path, n)
    return cached(path, n)


def ingest_cost(runs: int, n: int = 2000) -> None:
    """What writing ``document_refs`` costs a feed-like ingest: the same articles stored 100 per batch with the
    document scan and with it replaced by nothing, alternating, each run on a fresh database."""
    import tempfile

    from daemon.config import loads
    from daemon.models import Document
    from daemon.pipeline import Pipeline
    from daemon.store import Store
    from daemon.store import articles as store_articles

    rng = random.Random(7)
    paras = paragraphs()
    docs = [Document("feed", f"item-{i}", f"Tin {i}: {rng.choice(paras)[:80]}",
                     "\n\n".join(rng.sample(paras, rng.randint(4, 7))) + f"\n\nMã tin {i}.") for i in range(n)]
    scan = store_articles.document_codes
    times: dict[bool, list[float]] = {True: [], False: []}
    for run in range(2 * runs):
        with_scan = run % 2 == 0
        store_articles.document_codes = scan if with_scan else (lambda _text: [])  # type: ignore[assignment]
        with tempfile.TemporaryDirectory() as tmp:
            config = loads('[[rules]]\nname = "nq57"\nkeywords = ["Nghị quyết 57"]\n', Path(tmp) / "c.toml")
            p = Pipeline(config, Store(Path(tmp) / "news.db", config.tz))
            t = time.perf_counter()
            for i in range(0, n, 100):
                p.ingest(docs[i : i + 100])
            times[with_scan].append(time.perf_counter() - t)
            p.store.close()
    store_articles.document_codes = scan
    a, b = statistics.median(times[True]), statistics.median(times[False])
    print(f"ingest of {n} feed items (100 per batch, stories on), median of {runs} alternating runs: with the"
          f" document scan {a:.2f} s, without {b:.2f} s: +{(a / b - 1) * 100:.1f} %"
          f" (runs with {', '.join(f'{x:.2f}' for x in times[True])};"
          f" without {', '.join(f'{x:.2f}' for x in times[False])})")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--articles", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--data", type=Path, default=Path("/work/benchdata/brief"))
    ap.add_argument("--ingest-only", action="store_true", help="only the ingest cost of the document scan")
    args = ap.parse_args()
    if args.ingest_only:
        ingest_cost(5)
        return 0
    args.data.mkdir(parents=True, exist_ok=True)
    path = args.data / f"news-{args.articles}.db"
    until = datetime.fromisoformat(cached(path, args.articles))

    from daemon.brief.build import reads_from
    from daemon.brief.make import compose
    from daemon.brief.periods import period_of
    from daemon.brief.schedule import queue_spikes
    from daemon.config import loads
    from daemon.store import Store
    from daemon.text.docrefs import document_codes

    rules = "".join(f'[[rules]]\nname = "{n}"\ntitle = "{t}"\nkeywords = ["{t}"]\n' for n, t in RULES)
    config = loads(rules + '[[webhooks]]\nname = "office"\nurl = "http://127.0.0.1:9/"\n', path.parent / "c.toml")
    store = Store(path, config.tz)
    period = period_of("day", (until - timedelta(days=1)).date(), None, config.tz)
    full, reads, spikes = [], [], []
    t = time.perf_counter()
    compose(store, name="sang", title="Văn phòng Thành ủy", period=period, rules=config.rules,
            formats=["md", "html", "docx"], tz=config.tz, now=until, min_sources=5)
    first = time.perf_counter() - t
    made = None
    for _ in range(args.runs):
        t = time.perf_counter()
        store.brief_rows(period.start, period.end, [r.name for r in config.rules],
                         trend_from=reads_from(period, config.tz), min_sources=5)
        reads.append(time.perf_counter() - t)
        t = time.perf_counter()
        made = compose(store, name="sang", title="Văn phòng Thành ủy", period=period, rules=config.rules,
                       formats=["md", "html", "docx"], tz=config.tz, now=until, min_sources=5)
        full.append(time.perf_counter() - t)
        t = time.perf_counter()
        queue_spikes(store, config, until - timedelta(seconds=1))
        spikes.append(time.perf_counter() - t)
    assert made is not None
    b = made.briefing
    print(f"archive: {args.articles:,} articles over {DAYS} days; the day {period.key()}: {b.articles} articles,"
          f" {b.stories} stories, {b.outlets} outlets, {sum(len(s.items) for s in b.sections)} stories shown in"
          f" {len(b.sections)} sections, {len(b.documents)} new documents, {len(b.trend.spikes)} spikes;"
          f" files md {len(made.outputs['md']) / 1e3:.0f} KB, html {len(made.outputs['html']) / 1e3:.0f} KB,"
          f" docx {len(made.outputs['docx']) / 1e3:.0f} KB")
    p50, p95 = statistics.median(full), percentile(full, 0.95)
    r50 = statistics.median(reads)
    print(f"day briefing (reads, model, chart, md, html, docx): p50 {p50:.2f} s, p95 {p95:.2f} s"
          f" (target <= 3 s: {'met' if p95 <= 3 else 'NOT met'}); runs {', '.join(f'{x:.2f}' for x in full)}")
    print(f"the first briefing in a process (imports matplotlib and python-docx, loads fonts): {first:.2f} s"
          f" (target <= 3 s: {'met' if first <= 3 else 'NOT met'})")
    print(f"baseline, the store's reads alone: p50 {r50:.2f} s, p95 {percentile(reads, 0.95):.2f} s;"
          f" the briefing costs {p50 / r50:.1f}x its reads")
    print(f"spike check (15 days of counts, {len(RULES)} rules): p50 {statistics.median(spikes) * 1e3:.0f} ms")
    texts = [(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "seeds").glob("*.txt"))]
    t = time.perf_counter()
    for _ in range(200):
        for text in texts:
            document_codes(text)
    per = (time.perf_counter() - t) / (200 * len(texts))
    print(f"document_codes at ingest: {per * 1e6:.0f} us per article (the five samples, 2-5 KB);"
          f" {json.dumps([document_codes(x) for x in texts], ensure_ascii=False)}")
    ingest_cost(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())

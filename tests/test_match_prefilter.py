"""`newswatch match` reads only what the full-text index says a rule could match: never fewer articles.

For each rule, the articles the matcher fires on when it reads the whole archive must all be among those
the prefilter's FTS query finds, on a real SQLite file holding the citing forms and spellings the matcher
accepts; then `newswatch match` as a real process gives the same list with the prefilter as without.
"""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from daemon.match import Matcher
from daemon.match.prefilter import fts_query
from daemon.models import Document, Rule
from daemon.prepare import prepare
from daemon.store import Store
from daemon.store.articles import NewItem
from daemon.text.dates import VN_TZ
from tests.helpers import cli_env, write_config

TEXTS = [
    "Ban Thường vụ quán triệt Nghị quyết số 57-NQ/TW của Bộ Chính trị.",
    "Thực hiện Nghị quyết số57-NQ/TW, tỉnh chuyển đổi số.",  # glued to "số"
    "Theo Nghị quyết 057 của Tỉnh ủy.",  # leading zero
    "Kế hoạch triển khai 57/NQ-TW trong quý IV.",
    "Nghị quyết số: 57 được ban hành.",
    "Các Nghị quyết 57, 66 và 68 của Bộ Chính trị.",  # a list: 66 and 68 cite their type through 57's
    "Nghị quyết 570 về một việc khác; 57a không phải số hiệu.",  # 57 is not in 570 or 57a
    "NQ57 viết liền không phải trích dẫn.",
    "VĂN PHÒNG TỈNH ỦY tổ chức hội nghị.",
    "Văn phòng Tỉnh uỷ (old tone) tổng kết.",  # normalized to ủy when stored
    unicodedata.normalize("NFD", "Văn phòng Tỉnh ủy, viết ở dạng NFD."),
    "Văn phòng cấp ủy các cấp hoàn thành nhiệm vụ.",  # the ASCII keyword "van phong cap uy" finds it
    "Văn-phòng cấp-ủy viết có gạch nối.",
    "Thành phố Đà Nẵng đón khách; sản lượng đã nâng lên.",
    "Phòng chống COVID-19 tại xã.",
    "Chỉ thị số 34-CT/TW về công tác văn phòng.",
    "Kỷ luật khiển trách đồng chí Bí thư.",
    "Một bài không liên quan gì.",
]
RULES = [
    Rule("nq57", ("Nghị quyết 57",)),
    Rule("nq66", ("Nghị quyết 66",)),
    Rule("vp", ("Văn phòng Tỉnh ủy",)),
    Rule("ascii", ("van phong cap uy",)),
    Rule("danang", ("Đà Nẵng",)),
    Rule("covid", ("COVID-19",)),
    Rule("mixed", ("Chỉ thị 34", "khiển trách"), all=("văn phòng",)),
    Rule("two", ("Nghị quyết 57", "da nang")),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(tmp_path_factory.mktemp("prefilter") / "news.db", VN_TZ)
    store.ingest([NewItem(prepare(Document("seeds", f"{i}.txt", f"Tin {i}", text)))
                  for i, text in enumerate(TEXTS)])
    return store


def fired(store: Store, rule: Rule, fts: str | None) -> set[int]:
    matcher = Matcher([rule])
    return {r.id for r in store.articles_since(None, fts) if matcher.match(r.title, r.body, r.source)}


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_the_index_finds_every_article_the_rule_matches(store: Store, rule: Rule) -> None:
    query = fts_query(rule)
    assert query is not None
    everything = fired(store, rule, None)
    assert everything, "a rule that matches nothing proves nothing"
    assert fired(store, rule, query) == everything
    with store.read() as conn:
        candidates = {r[0] for r in conn.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?",
                                                 (query,))}
    assert len(candidates) < len(TEXTS)  # and it narrows


def test_a_rule_with_a_regex_keyword_reads_every_article() -> None:
    assert fts_query(Rule("re", ("Nghị quyết 57", r"regex:\bNQ\d+"))) is None
    assert fts_query(Rule("empty", ("   ",))) is None


def test_match_as_a_real_process_lists_what_the_matcher_finds(tmp_path: Path, store: Store) -> None:
    rules = "".join(f'[[rules]]\nname = "{r.name}"\nkeywords = {json.dumps(list(r.keywords), ensure_ascii=False)}\n'
                    + (f"all = {json.dumps(list(r.all), ensure_ascii=False)}\n" if r.all else "") for r in RULES)
    config = write_config(tmp_path, rules)
    (tmp_path / "state").mkdir(exist_ok=True)
    store.checkpoint()
    (tmp_path / "state" / "news.db").write_bytes(store.path.read_bytes())
    for rule in RULES:
        proc = subprocess.run([sys.executable, "-m", "daemon", "--config", str(config), "match", rule.name, "--json"],
                              capture_output=True, text=True, timeout=60, env=cli_env(), cwd=tmp_path, check=True)
        assert {a["id"] for a in json.loads(proc.stdout)} == fired(store, rule, None), rule.name


def test_since_reads_the_articles_dated_since_newest_first(tmp_path: Path) -> None:
    from datetime import datetime, timedelta

    store = Store(tmp_path / "news.db", VN_TZ)
    start = datetime(2026, 3, 1, tzinfo=VN_TZ)
    # Ids out of date order, and two undated articles (their date is when they were stored: `now` below).
    dates = [start + timedelta(days=d) for d in (5, 1, 9, 3, 7)] + [None, None]
    for i, when in enumerate(dates):
        store.ingest([NewItem(prepare(Document("seeds", f"{i}.txt", f"Nghị quyết 57 ({i})", f"Bài {i} về 57-NQ/TW.",
                                               published_at=when)))], now=start + timedelta(days=4 + i))
    nq57 = fts_query(RULES[0])
    for days in (0, 2, 6, 8, 10, 12):
        since = store.iso(start + timedelta(days=days))
        every = [(r.id, r.published_at or r.ingested_at) for r in store.articles_since(None)]
        # Newest first; a tie (article 2 published when undated article 5 was stored) goes to the higher id.
        assert every == sorted(every, key=lambda a: (a[1], a[0]), reverse=True)
        assert dict(every)[3] == dict(every)[6] and [i for i, _ in every].index(6) < [i for i, _ in every].index(3)
        expected = [i for i, d in every if d >= since]
        assert [r.id for r in store.articles_since(since)] == expected
        assert [r.id for r in store.articles_since(since, nq57)] == expected
    assert store.articles_since(store.iso(start + timedelta(days=30)), nq57) == []

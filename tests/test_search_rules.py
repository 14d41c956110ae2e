"""Search rules through `newswatch search` and `sqlite-utils search` (real processes, a real database).

Datasette's JSON API and the browser are in test_ui.py. The rules: a word given with diacritics matches
them, one without matches every spelling; phrases, prefix, OR, NOT/-word; tone placement and Unicode form
never matter; newest first; snippets never repeat the title; any input is safe.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import cli_env
from tests.search_corpus import ID, NFD_HOA, make_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("search")
    make_corpus(folder)
    return folder


def search(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "daemon", "--config", str(folder / "config.toml"), "search", *args],
                          capture_output=True, text=True, timeout=60, env=cli_env(), cwd=folder, check=False)


def ids(folder: Path, query: str, *args: str) -> list[int]:
    proc = search(folder, query, "--json", *args)
    assert proc.returncode == 0, proc.stderr
    return [hit["id"] for hit in json.loads(proc.stdout)]


RULES = [
    # a word with diacritics matches those diacritics: never «đã» for "Đà", never «đang» for "Đảng"
    ("Đà Nẵng", {"1-danang", "6-lead"}),
    ("Đảng", {"2-dauy", "3-dangbo"}),
    ("ĐẢNG BỘ", {"3-dangbo"}),
    ("đang", {"2-dauy", "4-nhamay"}),
    # without diacritics: every spelling, đ included
    ("dang", {"2-dauy", "3-dangbo", "4-nhamay"}),
    ("da nang", {"1-danang", "2-dauy", "6-lead"}),  # «đã … nâng» folds to it too
    ("Đảng bo", {"3-dangbo"}),  # mixed: each word by its own rule
    # phrases, with and without diacritics
    ('"da nang"', {"1-danang", "6-lead"}),
    ('"dang bo"', {"3-dangbo"}),
    ('"Đảng bộ"', {"3-dangbo"}),
    ('"Đảng bo"', {"3-dangbo"}),
    ('"tỉnh ủy quảng nam"', {"3-dangbo"}),
    ('"quảng nam tỉnh ủy"', set()),  # the words are there, not in that order
    # tone placement and Unicode form never matter
    ("hoà", {"5-hoabinh"}),
    ("hòa", {"5-hoabinh"}),
    (NFD_HOA, {"5-hoabinh"}),
    ("hoa binh", {"5-hoabinh"}),
    # prefix, OR, NOT, -word
    ("chuyển*", {"4-nhamay", "5-hoabinh"}),
    ("chuyen*", {"4-nhamay", "5-hoabinh"}),
    ("Đảng OR khách", {"1-danang", "2-dauy", "3-dangbo"}),
    ("Đảng -đã", {"3-dangbo"}),
    ("Đảng NOT đã", {"3-dangbo"}),
    ("dang -Đảng", {"4-nhamay"}),
    ('dang -"dang bo"', {"2-dauy", "4-nhamay"}),  # a phrase excluded whole, not its first word
    ('dang NOT "dang bo"', {"2-dauy", "4-nhamay"}),
]


@pytest.mark.parametrize(("query", "expected"), RULES, ids=[q for q, _ in RULES])
def test_search_rule_through_the_cli(corpus: Path, query: str, expected: set[str]) -> None:
    assert set(ids(corpus, query)) == {ID[n] for n in expected}


def test_results_are_newest_first_and_by_relevance_on_request(corpus: Path) -> None:
    assert ids(corpus, "dang") == [ID["2-dauy"], ID["3-dangbo"], ID["4-nhamay"]]
    ranked = json.loads(search(corpus, "dang", "--json", "--sort", "rank").stdout)
    assert sorted(h["id"] for h in ranked) == sorted(ids(corpus, "dang"))
    ranks = [h["rank"] for h in ranked]
    assert ranks == sorted(ranks) and ranks[0] < ranks[-1]  # bm25: lower is more relevant


def test_snippets_never_repeat_the_title_and_mark_only_what_matched(corpus: Path) -> None:
    hits = {h["id"]: h for h in json.loads(search(corpus, "Đà Nẵng", "--json").stdout)}
    lead = hits[ID["6-lead"]]
    assert lead["title"] == "Đà Nẵng mở rộng sân bay"
    assert lead["title_marked"] == "«Đà Nẵng» mở rộng sân bay"
    assert "sân bay" not in lead["snippet"] and "Công trình" in lead["snippet"]
    text = search(corpus, "Đảng").stdout
    assert "«Đảng» ủy «đã»" not in text and "«Đảng» ủy đã họp, đang" in text


@pytest.mark.parametrize("query", ['" OR 1=1 --', "NEAR(a b)", "title:x", "^đà", "a AND", "OR", "x'); DROP",
                                   '"unclosed phrase', "***", "-"])
def test_any_input_is_safe(corpus: Path, query: str) -> None:
    proc = search(corpus, query)
    assert proc.returncode in (0, 2), proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) <= 1


def test_a_query_that_only_excludes_is_refused_with_a_reason(corpus: Path) -> None:
    proc = search(corpus, "NOT đã -đang")
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("newswatch search: 'NOT đã -đang' only excludes words:"
                                   " give at least one word to look for")


SQLITE_UTILS = [  # the raw query as sqlite-utils passes it to SQLite: the index alone gives the same rules
    ("Đà Nẵng", {"1-danang", "6-lead"}),
    ("Đảng", {"2-dauy", "3-dangbo"}),
    ("dang", {"2-dauy", "3-dangbo", "4-nhamay"}),
    ('"dang bo"', {"3-dangbo"}),
    ('"Đảng bộ"', {"3-dangbo"}),
    ('"quảng nam tỉnh ủy"', set()),
    ("chuyển*", {"4-nhamay", "5-hoabinh"}),
    ("hòa", {"5-hoabinh"}),
    ("Đảng NOT đã", {"3-dangbo"}),
]


@pytest.mark.parametrize(("query", "expected"), SQLITE_UTILS, ids=[q for q, _ in SQLITE_UTILS])
def test_search_rule_through_sqlite_utils(corpus: Path, query: str, expected: set[str]) -> None:
    tool = Path(sys.executable).with_name("sqlite-utils")
    proc = subprocess.run([str(tool), "search", str(corpus / "state" / "news.db"), "articles", query, "-c", "id"],
                          capture_output=True, text=True, timeout=60, check=True)
    assert {row["id"] for row in json.loads(proc.stdout or "[]")} == {ID[n] for n in expected}

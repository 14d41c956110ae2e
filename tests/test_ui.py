"""`newswatch ui`: Datasette on a real database, its JSON API and a real headless Chromium.

The same search rules as test_search_rules.py, through ``/news/articles.json?_search=…`` (Datasette's
search box), the canned search and the configured pages. The browser test drives Debian's
/usr/bin/chromium through Playwright (nothing is downloaded) and is skipped where it is not installed.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import CHROMIUM, Background, chromium, free_port
from tests.search_corpus import ID, NFD_HOA, make_corpus

pytest.importorskip("datasette", reason="Datasette is not installed (make ui, or the test extra)")


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a running `newswatch ui` on the corpus."""
    folder = tmp_path_factory.mktemp("ui")
    make_corpus(folder)
    port = free_port()
    server = Background(folder, "ui", "--port", str(port))
    try:
        server.wait_line("Uvicorn running", stream="err", timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=30) as resp:  # loopback only
        return resp.status, resp.read().decode("utf-8")


def rows(base: str, path: str, **params: str) -> list[dict[str, object]]:
    status, body = get(f"{base}{path}?{urllib.parse.urlencode({**params, '_shape': 'array'})}")
    assert status == 200
    return list(json.loads(body))


RULES = [
    ("Đà Nẵng", ["1-danang", "6-lead"]),
    ("Đảng", ["2-dauy", "3-dangbo"]),
    ("dang", ["2-dauy", "3-dangbo", "4-nhamay"]),
    ("dang bo", ["3-dangbo"]),
    ('"dang bo"', ["3-dangbo"]),
    ('"Đảng bộ"', ["3-dangbo"]),
    ('"quảng nam tỉnh ủy"', []),
    ("hoà", ["5-hoabinh"]),
    (NFD_HOA, ["5-hoabinh"]),
    ("chuyển*", ["4-nhamay", "5-hoabinh"]),
    ("Đảng OR khách", ["1-danang", "2-dauy", "3-dangbo"]),
    ("Đảng -đã", ["3-dangbo"]),
    ("-đã", []),  # nothing to look for: no row (the CLI refuses it)
    ('" OR 1=1 --', []),
]


@pytest.mark.parametrize(("query", "expected"), RULES, ids=[q for q, _ in RULES])
def test_search_rule_through_datasettes_json_api(ui: str, query: str, expected: list[str]) -> None:
    found = rows(ui, "/news/articles.json", _search=query)
    assert [r["id"] for r in found] == [ID[n] for n in expected]  # newest first, as configured


def test_the_canned_search_applies_the_same_rules_with_snippets(ui: str) -> None:
    found = rows(ui, "/news/tim_kiem.json", q="Đà Nẵng")
    assert [r["id"] for r in found] == [ID["1-danang"], ID["6-lead"]]
    assert found[0]["trich_doan"] == "Thành phố «Đà Nẵng» đón khách quốc tế."
    assert found[1]["trich_doan"] == "…Công trình khởi công tháng sau."  # never the title again


def test_the_articles_page_shows_the_chosen_columns_and_json_keeps_them_all(ui: str) -> None:
    status, html = get(f"{ui}/news/articles")
    assert status == 200 and "Tin bài" in html
    assert 'class="col-title' in html and 'class="col-published_at' in html
    for hidden in ("body", "content_hash", "folded"):
        assert f'class="col-{hidden}' not in html
    assert "body" in rows(ui, "/news/articles.json", _search="Đảng")[0]


def test_views_and_canned_queries_answer(ui: str) -> None:
    for query in ("bai_hom_nay_theo_quy_tac", "canh_bao_chua_gui", "nguon_tin_loi", "van_ban_duoc_nhac_nhieu",
                  "su_kien_nhieu_bao_dua"):
        assert isinstance(rows(ui, f"/news/{query}.json"), list)  # status 200: the SQL runs
    carried = rows(ui, "/news/su_kien_nhieu_bao_dua.json")
    assert carried and {"su_kien", "so_bao", "so_bai", "cac_nguon"} <= carried[0].keys()
    assert [r["so_bao"] for r in carried] == sorted((r["so_bao"] for r in carried), reverse=True)
    overview = rows(ui, "/news/article_overview.json", _search="dang bo")
    assert [r["id"] for r in overview] == [ID["3-dangbo"]]
    assert overview[0]["alert_status"] == "none"
    _, html = get(f"{ui}/news")
    assert "_migrations" not in html and "Tin bài" in html


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (Debian's chromium package) here")
def test_in_a_real_browser(ui: str, tmp_path: Path) -> None:
    with chromium(tmp_path / "profile") as browser:
        page = browser.new_page()
        page.goto(f"{ui}/news/articles")
        headers = [h.strip() for h in page.locator("table.rows-and-columns th").all_inner_texts()]
        assert any("title" in h for h in headers) and not any(h.startswith("body") for h in headers)

        def search(query: str) -> list[str]:
            page.fill("input[name=_search]", query)
            page.press("input[name=_search]", "Enter")
            page.wait_for_load_state()
            return page.locator("table.rows-and-columns td.col-title").all_inner_texts()

        assert search("dang bo") == ["Đại hội Đảng bộ"]
        assert search("Đà Nẵng") == ["Du lịch Đà Nẵng", "Đà Nẵng mở rộng sân bay"]
        assert page.input_value("input[name=_search]") == "Đà Nẵng"  # the query shown as typed
        page.screenshot(path=str(tmp_path / "articles.png"), full_page=True)

        assert search("-đã") == []
        assert "only excludes words" in page.locator(".message-warning").inner_text()

        page.goto(f"{ui}/news/tim_kiem?" + urllib.parse.urlencode({"q": "Đảng -đã"}))
        assert page.locator("td.col-title").all_inner_texts() == ["Đại hội Đảng bộ"]
        page.screenshot(path=str(tmp_path / "tim_kiem.png"), full_page=True)
    assert (tmp_path / "articles.png").stat().st_size > 0


def test_documents_cited_are_counted_once_per_article_in_one_spelling() -> None:
    from daemon.ui.plugin import docrefs

    text = ("Theo Nghị quyết số 57-NQ/TW và Nghị quyết 57, Quyết định 1519/QĐ-TTg, "
            "Nghị định 13/2023/NĐ-CP và Chỉ thị 34.")
    assert json.loads(docrefs(text)) == ["CT 34", "NQ 57 (TW)", "NĐ 13/2023 (CP)", "QĐ 1519 (TTG)"]
    assert json.loads(docrefs(None)) == []


def test_ui_without_a_database_says_to_start_the_service(project: Path, run_cli: Callable[..., Any]) -> None:
    proc = run_cli("ui", "--port", str(free_port()), check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (f"newswatch: no database yet at {project / 'state' / 'news.db'}:"
                                   " start the service first (`newswatch run --once`)")

"""Issue 15 item 1: OPML in and out of config.toml, its comments kept; bad files change nothing.

The fixtures are small files written in the shapes two readers really export: Feedly (OPML 1.0, folders
with ``text`` and ``title``, ``type="rss"``) and Miniflux (OPML 2.0 with its own namespace, ``dateCreated``,
``description``, four-space indentation, feeds without ``type``), plus FreshRSS's tabs and ``frss:`` namespace.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from daemon.config import load
from daemon.config_edit import add_tables
from daemon.errors import ConfigError, OpmlError
from daemon.models import FeedConfig
from daemon.sources.feeds.opml import parse_opml, render_opml
from daemon.sources.feeds.subscribe import plan_import, slug, url_key
from tests.helpers import cli_env, write_config

Run = Callable[..., subprocess.CompletedProcess[str]]

FEEDLY = """<?xml version="1.0" encoding="UTF-8"?>

<opml version="1.0">
    <head>
        <title>Văn phòng subscriptions in feedly Cloud</title>
    </head>
    <body>
        <outline text="Thời sự" title="Thời sự">
            <outline type="rss" text="VnExpress - Tin mới nhất" title="VnExpress - Tin mới nhất" \
xmlUrl="https://vnexpress.net/rss/tin-moi-nhat.rss" htmlUrl="https://vnexpress.net"/>
            <outline type="rss" text="Tuổi Trẻ Online - Thời sự" title="Tuổi Trẻ Online - Thời sự" \
xmlUrl="https://tuoitre.vn/rss/thoi-su.rss" htmlUrl="https://tuoitre.vn/thoi-su.htm"/>
        </outline>
        <outline text="Chính sách" title="Chính sách">
            <outline type="rss" text="Báo Chính phủ &amp; Chính sách" title="Báo Chính phủ &amp; Chính sách" \
xmlUrl="https://baochinhphu.vn/rss/chinh-sach.rss" htmlUrl="https://baochinhphu.vn"/>
        </outline>
    </body>
</opml>
"""

MINIFLUX = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0" xmlns:miniflux="https://miniflux.app/opml">
    <head>
        <title>Miniflux</title>
        <dateCreated>Tue, 01 Dec 2026 10:00:00 UTC</dateCreated>
    </head>
    <body>
        <outline text="Đảng bộ">
            <outline title="Đảng Cộng sản Việt Nam - Thời sự" text="Đảng Cộng sản Việt Nam - Thời sự" \
xmlUrl="https://dangcongsan.vn/rss/thoi-su.rss" htmlUrl="https://dangcongsan.vn" description="Tin thời sự"></outline>
            <outline title="VnExpress" text="VnExpress" xmlUrl="http://VNEXPRESS.net:80/rss/tin-moi-nhat.rss/" \
htmlUrl="https://vnexpress.net" description=""></outline>
        </outline>
        <outline text="Địa phương">
            <outline title="Báo Đà Nẵng" text="Báo Đà Nẵng" xmlUrl="https://baodanang.vn/rss/chinhtri.rss" \
htmlUrl="https://baodanang.vn" description=""></outline>
        </outline>
    </body>
</opml>
"""

FRESHRSS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0" xmlns:frss="https://freshrss.org/opml">\n'
    "\t<head>\n\t\t<title>FreshRSS</title>\n\t</head>\n\t<body>\n\t\t<outline text=\"Uncategorized\">\n"
    '\t\t\t<outline text="Nhân Dân" type="rss" xmlUrl="https://nhandan.vn/rss/chinhtri.rss"'
    ' htmlUrl="https://nhandan.vn" description="" frss:cssFullContent="article"/>\n'
    "\t\t</outline>\n\t</body>\n</opml>\n"
)

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<opml version="2.0"><head><title>&lol3;</title></head><body>
<outline text="x" xmlUrl="https://example.vn/rss"/></body></opml>
"""

COMMENTED = """# Our office's newswatch. Keep these notes: they say why.
[service]
timezone = "Asia/Ho_Chi_Minh"   # all stored times in +07:00

[storage]
path = "state/news.db"
[seeds]
path = "seeds"
interval = "1s"
[delivery]
interval = "1s"

# Feeds the Secretary asked for (2026-11).
[[feeds]]
name = "chinhphu"   # the government portal
url = "https://xaydungchinhsach.chinhphu.vn/rss/home.rss"
interval = "15m"
# polled every 15 minutes since the elections

# What the office follows.
[[rules]]
name = "nq57"
keywords = ["Nghị quyết 57"]
"""


def feeds_of(opml: str) -> list[tuple[str, str, str | None]]:
    return [(f.url, f.title, f.category) for f in parse_opml(opml.encode("utf-8"), "x.opml").feeds]


def test_each_readers_shape_is_read_with_its_folders_as_categories() -> None:
    assert feeds_of(FEEDLY) == [
        ("https://vnexpress.net/rss/tin-moi-nhat.rss", "VnExpress - Tin mới nhất", "Thời sự"),
        ("https://tuoitre.vn/rss/thoi-su.rss", "Tuổi Trẻ Online - Thời sự", "Thời sự"),
        ("https://baochinhphu.vn/rss/chinh-sach.rss", "Báo Chính phủ & Chính sách", "Chính sách"),
    ]
    assert feeds_of(MINIFLUX)[0] == ("https://dangcongsan.vn/rss/thoi-su.rss", "Đảng Cộng sản Việt Nam - Thời sự",
                                     "Đảng bộ")
    assert feeds_of(FRESHRSS) == [("https://nhandan.vn/rss/chinhtri.rss", "Nhân Dân", "Uncategorized")]
    assert parse_opml(FEEDLY.encode(), "f").title == "Văn phòng subscriptions in feedly Cloud"
    # A Windows Vietnamese file that declares ISO-8859-1 reads the same: decoded as feeds are.
    nfd_cp = FRESHRSS.replace("UTF-8", "ISO-8859-1").encode("utf-8")
    assert feeds_of(FRESHRSS) == [(f.url, f.title, f.category) for f in parse_opml(nfd_cp, "x").feeds]


def test_same_feed_after_normalization_and_slug_names() -> None:
    assert url_key("http://VNEXPRESS.net:80/rss/tin-moi-nhat.rss/") == url_key(
        "https://vnexpress.net/rss/tin-moi-nhat.rss#top")
    assert url_key("https://a.vn/rss?utm_source=feedly&cat=2") == url_key("https://a.vn/rss?cat=2")
    assert url_key("https://a.vn/rss?cat=2") != url_key("https://a.vn/rss?cat=3")
    assert url_key("https://a.vn:8443/rss") != url_key("https://a.vn/rss")
    assert slug("Báo Đà Nẵng - Chính trị", "https://x.vn/") == "bao-da-nang-chinh-tri"
    assert slug("北京新闻", "https://www.bjnews.cn/rss") == "bjnews-cn"  # no Latin letter: the host
    assert len(slug("Tin " * 40, "https://x.vn/")) <= 40
    configured = [FeedConfig(name="vnexpress", url="https://vnexpress.net/rss/tin-moi-nhat.rss")]
    outlines = parse_opml(MINIFLUX.encode(), "m").feeds + parse_opml(MINIFLUX.encode(), "m").feeds[:1]
    plan = plan_import(outlines, configured)
    assert [f.name for f in plan.added] == ["dang-cong-san-viet-nam-thoi-su", "bao-da-nang"]
    assert [s.reason for s in plan.skipped] == ["already configured as 'vnexpress'",
                                                "listed twice in the file (first at line 9)"]
    twins = parse_opml(FRESHRSS.replace("chinhtri.rss", "a.rss").encode(), "a").feeds + parse_opml(
        FRESHRSS.encode(), "b").feeds
    assert [f.name for f in plan_import(twins, []).added] == ["nhan-dan", "nhan-dan-2"]


def test_two_readers_exports_import_keep_the_comments_and_round_trip(project: Path, run_cli: Run) -> None:
    cfg = project / "config.toml"
    cfg.write_text(COMMENTED, encoding="utf-8")
    (project / "feedly.opml").write_text(FEEDLY, encoding="utf-8")
    (project / "miniflux.opml").write_text(MINIFLUX, encoding="utf-8")

    dry = run_cli("feeds", "import", "feedly.opml", "--dry-run")
    assert "3 feed(s) would be added" in dry.stdout and cfg.read_text(encoding="utf-8") == COMMENTED
    out = run_cli("feeds", "import", "feedly.opml").stdout
    assert "+ vnexpress-tin-moi-nhat  https://vnexpress.net/rss/tin-moi-nhat.rss  [Thời sự]" in out
    assert "3 feed(s) added to" in out
    out = run_cli("feeds", "import", "miniflux.opml").stdout
    assert "= http://VNEXPRESS.net:80/rss/tin-moi-nhat.rss/  (line 10): already configured as " \
           "'vnexpress-tin-moi-nhat'" in out
    assert "2 feed(s) added to" in out and "(1 skipped)" in out

    text = cfg.read_text(encoding="utf-8")
    # Every line of the file is still there, in order, and the new entries sit after the last feed, under
    # its own comment, before the comment that introduces the rules.
    assert _is_subsequence(COMMENTED.splitlines(), text.splitlines())
    assert text.index("# polled every 15 minutes") < text.index('name = "vnexpress-tin-moi-nhat"')
    assert text.index('name = "bao-da-nang"') < text.index("# What the office follows.")
    config = load(cfg)
    assert [f.name for f in config.feeds] == ["chinhphu", "vnexpress-tin-moi-nhat", "tuoi-tre-online-thoi-su",
                                              "bao-chinh-phu-chinh-sach", "dang-cong-san-viet-nam-thoi-su",
                                              "bao-da-nang"]
    assert config.feeds[3].title == "Báo Chính phủ & Chính sách" and config.feeds[5].category == "Địa phương"

    exported = run_cli("feeds", "export").stdout
    back = feeds_of(exported)
    assert back == [(f.url, f.title or f.name, f.category) for f in config.feeds]
    assert back[1:4] == feeds_of(FEEDLY)
    # ...and the export imported into an empty config gives the same feeds back.
    (project / "again").mkdir()
    write_config(project / "again")
    run_cli("feeds", "export", str(project / "again" / "all.opml"))
    proc = subprocess.run([*run_cli_prefix(project / "again"), "feeds", "import", "all.opml"], capture_output=True,
                          text=True, cwd=project / "again", env=cli_env(), check=True, timeout=60)
    assert "6 feed(s) added" in proc.stdout
    again = load(project / "again" / "config.toml")
    assert [(f.url, f.title, f.category) for f in again.feeds] == [(f.url, f.title, f.category)
                                                                   for f in config.feeds]


def run_cli_prefix(folder: Path) -> list[str]:
    return [sys.executable, "-m", "daemon", "--config", str(folder / "config.toml")]


def _is_subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(line in it for line in small)


def test_the_original_lines_are_kept_exactly(project: Path, run_cli: Run) -> None:
    cfg = project / "config.toml"
    shipped = (Path(__file__).resolve().parents[1] / "config.toml").read_text(encoding="utf-8")
    cfg.write_text(shipped.replace('path = "seeds"', 'path = "seeds"\n# moved'), encoding="utf-8")
    before = cfg.read_text(encoding="utf-8")
    (project / "f.opml").write_text(FEEDLY, encoding="utf-8")
    run_cli("feeds", "import", "f.opml")
    after = cfg.read_text(encoding="utf-8")
    assert _is_subsequence(before.splitlines(), after.splitlines())
    assert len(after.splitlines()) == len(before.splitlines()) + 3 * 6  # 3 entries: a header, 4 keys, a blank line
    # The shipped file has only commented examples: the entries go right after them, before the rules.
    assert after.index("# headers = {") < after.index("[[feeds]]\nname") < after.index("# What the office follows")


BAD = [
    ("not-xml.opml", b"<opml><body><outline text='x' xmlUrl='https://a.vn/rss'></body>",
     "not valid XML: mismatched tag (line 1"),
    ("html.opml", b"<html><body>Sign in to export</body></html>", "not an OPML file: the root element is <html>"),
    ("empty.opml", b"", "the file is empty"),
    ("none.opml", b'<?xml version="1.0"?><opml version="2.0"><head><title>t</title></head><body/></opml>',
     "no feeds in it"),
    ("nourl.opml", ('<opml version="1.0"><body>\n<outline text="Tin" xmlUrl="https://a.vn/rss"/>\n'
                    '<outline text="Tuổi Trẻ" htmlUrl="https://tuoitre.vn"/>\n</body></opml>').encode(),
     "line 3: outline 'Tuổi Trẻ' has no xmlUrl"),
    ("ftp.opml", b'<opml version="1.0"><body><outline text="F" xmlUrl="ftp://a.vn/rss"/></body></opml>',
     "xmlUrl 'ftp://a.vn/rss' is not an http:// or https:// address"),
    ("bomb.opml", BILLION_LAUGHS.encode(), "refused: the file declares XML entities"),
]


@pytest.mark.parametrize(("name", "data", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_opml_is_one_line_and_changes_nothing(project: Path, run_cli: Run, name: str, data: bytes,
                                                  message: str) -> None:
    cfg = project / "config.toml"
    before = cfg.read_bytes()
    (project / name).write_bytes(data)
    proc = run_cli("feeds", "import", name, check=False)
    lines = proc.stderr.splitlines()
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"newswatch: {name}: ") and message in lines[0], lines[0]
    assert proc.stdout == "" and cfg.read_bytes() == before
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".")) == []  # no temporary file left


def test_parse_errors_are_opml_errors() -> None:
    with pytest.raises(OpmlError, match=r"x\.opml: not valid XML"):
        parse_opml(b"\x00garbage<", "x.opml")


def test_an_inline_feeds_array_is_refused_not_rewritten(tmp_path: Path) -> None:
    text = 'feeds = [{ name = "a", url = "https://a.vn/rss" }]\n'
    with pytest.raises(ConfigError, match="cannot add"):
        add_tables(text, tmp_path / "c.toml", "feeds", [{"name": "b", "url": "https://b.vn/rss"}])
    crlf = '[seeds]\r\npath = "s"\r\n'
    out = add_tables(crlf, tmp_path / "c.toml", "feeds", [{"name": "b", "url": 'https://b.vn/"q"\x7f'}])
    assert out.startswith(crlf) and "\n" not in out.replace("\r\n", "")
    assert tomllib.loads(out)["feeds"] == [{"name": "b", "url": 'https://b.vn/"q"\x7f'}]


def test_export_writes_categories_as_nested_folders() -> None:
    from datetime import UTC, datetime

    feeds = [FeedConfig(name="a", url="https://a.vn/rss?x=1&y=2", category="Tin tức/Trong nước"),
             FeedConfig(name="b", url="https://b.vn/rss", title='Báo "B" <mới>'),
             FeedConfig(name="c", url="https://c.vn/rss", category="Tin tức")]
    text = render_opml(feeds, title="t", created=datetime(2026, 12, 1, tzinfo=UTC))
    assert '<outline text="Tin tức" title="Tin tức">\n      <outline text="Trong nước"' in text
    # A folder holds its feeds where it first appears: c joins a's folder, ahead of b.
    assert feeds_of(text) == [("https://a.vn/rss?x=1&y=2", "a", "Tin tức/Trong nước"),
                              ("https://c.vn/rss", "c", "Tin tức"), ("https://b.vn/rss", 'Báo "B" <mới>', None)]


def test_standard_input_is_read_with_a_dash(project: Path) -> None:
    proc = subprocess.run([*run_cli_prefix(project), "feeds", "import", "-", "--dry-run"], input=FRESHRSS,
                          capture_output=True, text=True, env=cli_env(), cwd=project, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "+ nhan-dan  https://nhandan.vn/rss/chinhtri.rss  [Uncategorized]  Nhân Dân"

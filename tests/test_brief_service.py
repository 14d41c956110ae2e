"""Issue 13, the service: a briefing due a few seconds after start is made once, POSTed once (signed), and
not made again after a restart; a rule's spike posts `rule.spike` once. Real daemon processes, a real
receiver on 127.0.0.1, signatures checked with the ``standardwebhooks`` package.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from daemon.store import Store
from daemon.text.dates import VN_TZ
from tests.helpers import BRIEF_RULES as RULES
from tests.helpers import HOOK_SECRET, Background, Hit, Receiver, drop_renamed, hook, run_daemon, sql, write_config

pytestmark = pytest.mark.service



def of_type(hits: list[Hit], kind: str) -> list[Hit]:
    return [h for h in hits if h.json.get("type") == kind]


def history(project: Path) -> None:
    """One article matching "thanh-uy" three days ago: the baseline today's five samples spike against."""
    store = Store(project / "state" / "news.db", VN_TZ)
    old = (datetime.now(VN_TZ) - timedelta(days=3)).isoformat(timespec="seconds")
    with store.tx() as conn:
        conn.execute("INSERT INTO articles (content_hash, title, body, source, ingested_at, folded)"
                     " VALUES ('v2:old', 'Tin cũ', 'Thành ủy họp.', 'seeds', ?, '')", (old,))
        conn.execute("INSERT INTO matches (article_id, rule, keyword, matched_text, field, snippet, created_at)"
                     " VALUES (1, 'thanh-uy', 'Thành ủy', 'Thành ủy', 'body', '«Thành ủy» họp.', ?)", (old,))
    store.close()


def test_a_due_briefing_is_made_and_posted_once_and_a_spike_once(project: Path, receiver: Receiver,
                                                                  procs: list[Background], run_cli: Any) -> None:
    history(project)
    at = (datetime.now(VN_TZ) + timedelta(seconds=5)).strftime("%H:%M:%S")
    write_config(project, RULES + hook(receiver.url) + f"""
[[briefings]]
name = "sang"
title = "Văn phòng Thành ủy"
at = "{at}"
formats = ["md", "html"]
""")
    d = run_daemon(project)
    procs.append(d)
    got = receiver.wait_for(lambda r: of_type(r, "briefing.ready") and of_type(r, "rule.spike"), timeout=40)
    wh = Webhook(HOOK_SECRET)
    (ready,) = of_type(got, "briefing.ready")
    event = wh.verify(ready.body, ready.headers)  # signed as alerts are
    data = event["data"]
    assert data["name"] == "sang" and data["counts"]["articles"] == 5 and data["counts"]["sections"]["nq57"] == 1
    assert data["markdown"].startswith("# Điểm báo ngày ") and "## Nghị quyết 57-NQ/TW" in data["markdown"]
    assert data["files"] == [f"sang-{data['period']['end'][:10]}.md", f"sang-{data['period']['end'][:10]}.html"]
    for name in data["files"]:
        assert (project / "state" / "briefs" / name).stat().st_size > 0
    assert ready.headers["webhook-id"].startswith("ev_")
    (spike,) = of_type(got, "rule.spike")
    spiked = wh.verify(spike.body, spike.headers)["data"]
    assert (spiked["rule"], spiked["count"]) == ("thanh-uy", 5)
    d.wait_line("briefing sang (day", stream="err")
    assert d.stop() == 0

    again = run_daemon(project)  # the period is recorded: not made again, nothing sent twice
    procs.append(again)
    again.wait_line("newswatch running", stream="err")
    drop_renamed(project / "seeds", "moi.txt", "title: Tin mới\n\nThành ủy quán triệt Nghị quyết 57 hôm nay.\n")
    receiver.wait_for(lambda r: any(h.json.get("data", {}).get("article", {}).get("title") == "Tin mới" for h in r),
                      timeout=20)
    assert again.stop() == 0
    assert len(of_type(receiver.delivered(), "briefing.ready")) == 1
    assert len(of_type(receiver.delivered(), "rule.spike")) == 1  # six today now: still one spike for the day
    with sqlite3.connect(project / "state" / "news.db") as conn:
        rows = conn.execute("SELECT name, period, articles, files FROM briefings").fetchall()
        assert conn.execute("SELECT type, status FROM events ORDER BY type").fetchall() == [
            ("briefing.ready", "delivered"), ("rule.spike", "delivered")]
    assert [(n, p, a) for n, p, a, _ in rows] == [("sang", "day", 5)] and len(json.loads(rows[0][3])) == 2
    assert not any("Traceback" in line for line in d.err + again.err)
    # status counts the events as it counts alerts (and /metrics with it: newswatch_events{status=...})
    assert json.loads(run_cli("status", "--json").stdout)["events"] == {"pending": 0, "delivered": 2, "failed": 0}
    assert "0 pending, 2 delivered, 0 failed (briefing.ready, rule.spike)" in run_cli("status").stdout


def test_run_once_makes_a_due_briefing_and_brief_writes_one_now(project: Path, run_cli: Any) -> None:
    write_config(project, RULES + """
[[briefings]]
name = "sang"
title = "Văn phòng Thành ủy"
at = "00:00:01"
formats = ["docx"]
""")
    run_cli("run", "--once")  # stores the samples; the briefing is new: nothing due yet
    assert sql(project, "SELECT count(*) FROM briefings") == [(0,)]
    midnight = datetime.now(VN_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    sql(project, "UPDATE briefing_schedules SET since = ?", midnight.isoformat())  # as if known since midnight
    run_cli("run", "--once")  # the day that ended at 00:00:01 today is due: made now (and only that one)
    ((files,),) = sql(project, "SELECT files FROM briefings")
    (path,) = json.loads(files)
    assert Path(path).suffix == ".docx" and Path(path).stat().st_size > 10_000
    run_cli("run", "--once")
    assert sql(project, "SELECT count(*) FROM briefings") == [(1,)]

    today = datetime.now(VN_TZ).date().isoformat()
    out = run_cli("brief", "--name", "sang", "--date", today, "--period", "week").stdout  # ends at 00:00:01 today
    assert out.startswith("# Điểm báo tuần đến ") and "Văn phòng Thành ủy" in out
    plain = run_cli("brief", "--date", today).stdout  # the calendar day: today's samples are in it
    assert "**5 tin bài · 5 sự kiện · 1 nguồn tin**" in plain and "## Nghị quyết 57-NQ/TW" in plain
    proc = run_cli("brief", "--date", today, "--format", "html", "--out", str(project / "out" / "b.html"))
    assert proc.stdout.startswith(f"{project / 'out' / 'b.html'}: 5 articles, 5 stories, 1 outlets")
    assert (project / "out" / "b.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_check_lists_the_briefings_and_warns_of_a_folder_it_cannot_write(project: Path, run_cli: Any) -> None:
    (project / "taken").write_text("a file, not a folder")
    write_config(project, RULES + '[[briefings]]\nname = "sang"\ntitle = "VP"\nat = "07:00"\nout = "taken/briefs"\n')
    out = run_cli("check").stdout
    assert "briefings  1" in out and "sang  day     07:00:00  md,html" in out
    assert f"briefing 'sang': its folder {project / 'taken' / 'briefs'} cannot be written" in out

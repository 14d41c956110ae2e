"""Issue 5 acceptance: the real `python -m daemon run` process, as systemd or a person would run it."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import NQ57, RULE, Background, Receiver, cli_env, write_config
from tests.helpers import drop_renamed as drop
from tests.helpers import receiver_hook as hook
from tests.helpers import run_daemon as daemon

pytestmark = pytest.mark.service

def db_count(project: Path, sql: str) -> int:
    with sqlite3.connect(project / "state" / "news.db", timeout=10) as conn:
        return int(conn.execute(sql).fetchone()[0])


def test_dropped_file_reaches_the_webhook_within_two_seconds(project: Path, receiver: Receiver,
                                                              procs: list[Background]) -> None:
    write_config(project, RULE + hook(receiver))
    cfg = project / "config.toml"
    cfg.write_text(cfg.read_text().replace('interval = "1s"', 'interval = "1h"'))  # only the watcher can help
    d = daemon(project)
    procs.append(d)
    receiver.wait_for(lambda r: len(r) == 1, timeout=20)  # sample 000 cites Nghị quyết số 57-NQ/TW
    d.wait_line("newswatch running", stream="err")
    time.sleep(0.5)
    start = time.monotonic()
    drop(project / "seeds", "moi.txt", "title: Tin mới nhất\n\nSáng nay, Thành ủy quán triệt Nghị quyết 57 về"
                                         " khoa học, công nghệ và chuyển đổi số.\n")
    got = receiver.wait_for(lambda r: len(r) == 2, timeout=10)
    elapsed = got[1].at - start
    assert got[1].json["data"]["article"]["title"] == "Tin mới nhất"
    assert elapsed < 2.0, f"alert arrived after {elapsed:.2f}s"
    assert d.stop() == 0


def test_second_instance_is_refused_and_lock_survives_kill_9(project: Path, procs: list[Background]) -> None:
    first = daemon(project)
    procs.append(first)
    first.wait_line("newswatch running", stream="err")
    second = subprocess.run([sys.executable, "-m", "daemon", "--config", str(project / "config.toml"), "run"],
                            capture_output=True, text=True, timeout=30, env=cli_env(), cwd=project)
    assert second.returncode == 4
    assert "another newswatch" in second.stderr and str(first.proc.pid) in second.stderr
    assert "Traceback" not in second.stderr
    first.proc.kill()
    first.proc.wait(10)
    third = daemon(project)
    procs.append(third)
    third.wait_line("newswatch running", stream="err")
    assert third.stop() == 0


def test_sigterm_stops_cleanly_with_systemd_notifications(project: Path, receiver: Receiver, tmp_path: Path,
                                                          procs: list[Background]) -> None:
    write_config(project, RULE + hook(receiver))
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(15)
    env = cli_env() | {"NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "1000000"}
    d = daemon(project, env)
    procs.append(d)
    messages: list[str] = []
    while not any("READY=1" in m for m in messages):
        messages.append(sock.recv(4096).decode())
    while not any("WATCHDOG=1" in m for m in messages):
        messages.append(sock.recv(4096).decode())
    receiver.wait_for(lambda r: len(r) == 1, timeout=20)
    start = time.monotonic()
    code = d.stop(signal.SIGTERM)
    assert code == 0, "\n".join(d.err)
    assert time.monotonic() - start < 10
    sock.settimeout(0.5)
    try:
        while True:
            messages.append(sock.recv(4096).decode())
    except TimeoutError:
        pass
    assert any("STOPPING=1" in m for m in messages), messages
    with sqlite3.connect(project / "state" / "news.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 5
        assert conn.execute("SELECT status FROM alerts").fetchall() == [("delivered",)]


def test_kill_9_mid_pass_loses_nothing_and_duplicates_nothing(project: Path, receiver: Receiver,
                                                              procs: list[Background]) -> None:
    write_config(project, RULE + hook(receiver))
    seeds = project / "seeds"
    total, every = 2000, 10
    old = time.time() - 5
    for i in range(total):
        extra = f" Văn bản cần theo dõi: {NQ57}." if i % every == 0 else ""
        p = seeds / f"bulk_{i:05d}.txt"
        p.write_text(f"title: Bài {i}\n\nBài viết số {i} về công tác văn phòng cấp ủy.{extra}\n", encoding="utf-8")
        os.utime(p, (old, old))
    expected_alerts = total // every + 1  # + sample 000
    d = daemon(project)
    procs.append(d)
    deadline = time.monotonic() + 60
    count = 0
    while time.monotonic() < deadline:
        try:
            count = db_count(project, "SELECT count(*) FROM articles")
        except sqlite3.OperationalError:
            count = 0
        if count > 0:
            break
        time.sleep(0.005)
    d.proc.kill()
    d.proc.wait(10)
    assert 0 < count < total + 5, f"kill came too late to be mid-pass ({count} articles)"
    again = daemon(project)
    procs.append(again)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if db_count(project, "SELECT count(*) FROM alerts WHERE status = 'delivered'") == expected_alerts:
            break
        time.sleep(0.2)
    assert again.stop() == 0
    assert db_count(project, "SELECT count(*) FROM articles") == total + 5
    assert db_count(project, "SELECT count(*) FROM sightings") == total + 5
    assert db_count(project, "SELECT count(*) FROM alerts") == expected_alerts
    assert db_count(project, "SELECT count(*) FROM alerts WHERE status = 'delivered'") == expected_alerts
    ids = receiver.alert_ids()  # alone or in digests (more than max_alerts_per_pass at once)
    assert len(set(ids)) == expected_alerts  # every alert arrived; a repeat can only carry the same id
    with sqlite3.connect(project / "state" / "news.db") as conn:
        assert set(ids) == {r[0] for r in conn.execute("SELECT id FROM alerts")}


def test_sighup_adds_a_rule_that_then_fires(project: Path, receiver: Receiver, procs: list[Background]) -> None:
    no_watch = "[service]\nwatch_config = false\n"  # only the signal reloads (test_service_config_watch: without)
    write_config(project, no_watch + hook(receiver))
    d = daemon(project)
    procs.append(d)
    d.wait_line("newswatch running", stream="err")
    time.sleep(1.5)
    assert receiver.requests == []
    cfg = project / "config.toml"
    cfg.write_text(cfg.read_text() + "[[rules]\nbroken")  # invalid: refused, old config keeps running
    time.sleep(1.5)
    assert not any("reload" in line for line in d.err), d.err  # nobody watches the file: nothing happened yet
    d.proc.send_signal(signal.SIGHUP)
    d.wait_line("reload refused (SIGHUP)", stream="err")
    write_config(project, no_watch + hook(receiver) + RULE)
    d.proc.send_signal(signal.SIGHUP)
    d.wait_line("config reloaded", stream="err")
    drop(project / "seeds", "hup.txt", f"title: Sau khi nạp lại\n\nBài mới nhắc tới {NQ57}.\n")
    got = receiver.wait_for(lambda r: len(r) == 1, timeout=10)
    assert got[0].json["data"]["rule"] == "nq57"
    assert got[0].json["data"]["article"]["title"] == "Sau khi nạp lại"
    assert d.stop() == 0


def test_a_long_reader_does_not_make_a_pass_fail(project: Path, procs: list[Background]) -> None:
    d = daemon(project)
    procs.append(d)
    d.wait_line("newswatch running", stream="err")
    deadline = time.monotonic() + 15
    while db_count(project, "SELECT count(*) FROM articles") < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    reader = sqlite3.connect(project / "state" / "news.db", isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM articles").fetchone()[0] == 5
    held_from = time.monotonic()
    for i in range(20):
        drop(project / "seeds", f"during_{i}.txt", f"title: Trong lúc đọc {i}\n\nNội dung bài {i} trong lúc đọc.\n")
    ingested = 0
    while time.monotonic() - held_from < 10:
        ingested = db_count(project, "SELECT count(*) FROM articles")
        if ingested == 25:
            break
        time.sleep(0.1)
    assert ingested == 25
    assert reader.execute("SELECT count(*) FROM articles").fetchone()[0] == 5  # the snapshot is still open
    time.sleep(max(0.0, 10 - (time.monotonic() - held_from)))  # hold it the full 10 s
    reader.execute("COMMIT")
    reader.close()
    assert d.stop() == 0
    assert db_count(project, "SELECT coalesce(sum(errors), 0) FROM jobs") == 0
    assert not any("Traceback" in line for line in d.err), "\n".join(d.err)


def test_no_worker_process_outlives_a_killed_service(project: Path, procs: list[Background]) -> None:
    """A bulk import runs in worker processes; kill -9 of the service must not leave them behind."""
    seeds, old = project / "seeds", time.time() - 5
    for i in range(1500):
        p = seeds / f"bulk_{i:05d}.txt"
        p.write_text(f"title: Bài {i}\n\nBài viết số {i} về công tác văn phòng cấp ủy.\n", encoding="utf-8")
        os.utime(p, (old, old))
    d = daemon(project)
    procs.append(d)
    children: set[int] = set()
    deadline = time.monotonic() + 30
    while not children and time.monotonic() < deadline:
        children = {int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _ppid(p) == d.proc.pid}
        time.sleep(0.01)
    assert children, "the bulk import did not use worker processes"
    d.proc.kill()
    d.proc.wait(10)
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() and _ppid(Path(f"/proc/{pid}")) != 0 for pid in children):
        assert time.monotonic() < deadline, f"workers {children} still alive after the service was killed"
        time.sleep(0.1)


def _ppid(proc: Path) -> int:
    try:
        stat = (proc / "stat").read_text()
    except OSError:
        return 0
    return int(stat.rsplit(")", 1)[1].split()[1])

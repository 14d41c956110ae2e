"""Issue 15 item 2: `newswatch check`, `rules` and `webhooks`, as real processes on real files.

check starts nothing and writes nothing (no database created, none migrated), exits 0 or 3; the
listings show how each keyword will be matched and never a secret.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from daemon.cli.listing import redact_url
from tests.helpers import write_config

Run = Callable[..., subprocess.CompletedProcess[str]]

SECRET = "whsec_c2VjcmV0LW9mLXRoZS1vZmZpY2UtZG8tbm90LXNob3c="
ENV_SECRET = "whsec_ZW52aXJvbm1lbnQtc2VjcmV0LW5ldmVyLXByaW50ZWQ="
BOT_TOKEN = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
RULES = """
[[rules]]
name = "dang"
keywords = ["Đảng bộ", "dang uy", "Nghị quyết 57", "57-NQ/TW", 'regex:\\bđại\\s+hội\\b', "\\u200B"]
all = ["Thành ủy"]
exclude = ["quang cao"]

[[rules]]
name = "quiet"
keywords = ["Chỉ thị 34"]
webhooks = ["off"]
"""
OFFICE = f"""
[[webhooks]]
name = "office"
url = "http://127.0.0.1:9/hook"
secret = "{SECRET}"
headers = {{ Authorization = "Bearer tok-do-not-show" }}
"""
TELEGRAM = f"""
[[webhooks]]
name = "tg"
url = "https://api.telegram.org/bot{BOT_TOKEN}/sendMessage"
format = "telegram"
chat_id = -1001234
secret_env = "OFFICE_HOOK_SECRET"
"""
OFF = """
[[webhooks]]
name = "off"
url = "http://127.0.0.1:9/off"
enabled = false
"""
HOOKS = OFFICE + TELEGRAM + OFF


def config(project: Path, extra: str = RULES + HOOKS) -> None:
    write_config(project, extra)


@pytest.fixture(autouse=True)
def hook_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFICE_HOOK_SECRET", ENV_SECRET)  # the CLI processes inherit it


def dump(db: Path) -> list[str]:
    conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_check_a_good_config_creates_nothing_and_exits_0(project: Path, run_cli: Run) -> None:
    config(project, RULES + OFFICE + OFF)
    db = project / "state" / "news.db"
    proc = run_cli("check")
    out = proc.stdout
    assert proc.returncode == 0 and proc.stderr == ""
    assert "not created yet: the first `newswatch run` creates it" in out
    assert not db.exists() and list((project / "state").iterdir()) == []
    assert out.splitlines()[-1] == "result     ok: `newswatch run` would start"
    assert len(out.splitlines()) < 25  # one screen
    # The rule's line says how each term will be matched.
    line = next(line for line in out.splitlines() if "dang " in line)
    for expected in ('"Đảng bộ" (diacritics exact)', '"dang uy" (folded)',
                     '"Nghị quyết 57" (document reference Nghị quyết 57 (NQ), any year, any issuer)',
                     '"57-NQ/TW" (document reference Nghị quyết 57 (NQ), any year, issuer TW)',
                     '(regex)', '+ all of: "Thành ủy" (diacritics exact)', '− none of: "quang cao" (folded)'):
        assert expected in line, (expected, line)
    assert "warning    rule 'dang': '\\u200b' nothing is left of it once normalized: it never fires" in out
    assert "warning    rule 'quiet' alerts no webhook" in out

    run_cli("run", "--once")
    before = dump(db), sorted(p.name for p in (project / "state").iterdir())
    proc = run_cli("check", "--json")
    report = json.loads(proc.stdout)
    assert report["ok"] and report["database"]["schema_version"] == report["database"]["newswatch_schema"]
    assert (dump(db), sorted(p.name for p in (project / "state").iterdir())) == before  # read, never written


def test_check_refuses_a_bad_config_and_a_database_it_cannot_use(project: Path, run_cli: Run) -> None:
    (project / "config.toml").write_text('[seeds]\nintervl = "1s"\n', encoding="utf-8")
    proc = run_cli("check", check=False)
    assert proc.returncode == 3 and proc.stdout == ""
    assert proc.stderr.splitlines() == [f"newswatch: config error: {project / 'config.toml'} line 2: seeds.intervl:"
                                        " unknown key (did you mean 'interval'?)"]

    config(project, RULES + OFF)
    run_cli("run", "--once")
    with sqlite3.connect(project / "state" / "news.db") as conn:
        conn.execute("INSERT INTO _migrations VALUES (99, 'from the future', '2030-01-01')")
    proc = run_cli("check", check=False)
    assert proc.returncode == 3
    assert "PROBLEM    " in proc.stdout and "schema v99 is newer than this newswatch" in proc.stdout
    assert proc.stdout.splitlines()[-1].startswith("result     1 problem(s)")

    (project / "state" / "news.db").unlink()
    for extra in ("-wal", "-shm"):
        (project / "state" / f"news.db{extra}").unlink(missing_ok=True)
    (project / "state" / "news.db").write_bytes(b"this is not a database, it is a note" * 100)
    proc = run_cli("check", "--json", check=False)
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    assert any("not a database" in p or "damaged" in p for p in json.loads(proc.stdout)["problems"])


def test_webhooks_and_check_never_show_a_secret(project: Path, run_cli: Run) -> None:
    config(project)
    run_cli("run", "--once")
    with sqlite3.connect(project / "state" / "news.db") as conn:  # what a 410 Gone leaves
        conn.execute("INSERT OR REPLACE INTO webhooks (name, disabled_at, disabled_reason) VALUES"
                     " ('office', '2026-12-01T10:00:00+07:00', 'HTTP 410 Gone')")
    outputs = [run_cli(*args).stdout for args in
               (("webhooks",), ("webhooks", "--json"), ("check",), ("check", "--json"), ("rules", "--json"))]
    for out in outputs:
        for secret in (SECRET, SECRET.removeprefix("whsec_"), ENV_SECRET, BOT_TOKEN, BOT_TOKEN.split(":")[1],
                       "tok-do-not-show"):
            assert secret not in out
    table = outputs[0].splitlines()
    assert table[0].split() == ["NAME", "FORMAT", "URL", "SIGNING", "STATE", "RULES"]
    assert "signed (secret from config.toml)" in table[1] and "DISABLED (410 Gone)" in table[1]
    assert "https://api.telegram.org/…/sendMessage" in table[2] and "secret from $OFFICE_HOOK_SECRET" in table[2]
    assert "enabled = false" in table[3]
    hooks = {h["name"]: h for h in json.loads(outputs[1])}
    assert hooks["office"]["headers"] == ["Authorization"] and hooks["tg"]["rules"] == ["dang"]
    assert "warning    webhook 'office' is DISABLED after a 410 Gone" in outputs[2]


def test_rules_lists_how_each_keyword_matches(project: Path, run_cli: Run) -> None:
    config(project)
    rules = json.loads(run_cli("rules", "--json").stdout)
    kinds = {t["term"]: t["match"] for t in rules[0]["keywords"]}
    assert kinds == {"Đảng bộ": "exact", "dang uy": "folded", "Nghị quyết 57": "docref", "57-NQ/TW": "docref",
                     "regex:\\bđại\\s+hội\\b": "regex", "\u200b": "never"}
    assert rules[0]["keywords"][3]["document"] == {"type": "NQ", "number": "57", "year": None, "issuer": "TW"}
    assert rules[0]["delivers_to"] == ["office", "tg"] and rules[1]["delivers_to"] == []
    text = run_cli("rules").stdout.splitlines()
    assert text[0].split() == ["NAME", "SOURCES", "ALERTS", "TO", "MATCHES"]
    assert text[2].startswith("quiet") and "NONE (stored only)" in text[2]
    write_config(project)
    assert run_cli("rules").stdout == f"no rules configured ([[rules]] in {project / 'config.toml'})\n"
    assert "no webhooks configured" in run_cli("webhooks").stdout


def test_redacted_urls_keep_what_an_operator_recognizes() -> None:
    assert redact_url("http://127.0.0.1:8787/") == "http://127.0.0.1:8787/"
    assert redact_url("https://hooks.slack.com/services/T0001/B0002/XXXXYYYYZZZZ") == \
        "https://hooks.slack.com/services/…/…/…"
    assert redact_url("https://discord.com/api/webhooks/1234567/abcDEF-token") == \
        "https://discord.com/api/webhooks/…/…"
    assert redact_url("https://user:pw@hook.example.vn/in?key=s3cret&x") == "https://…@hook.example.vn/in?key=…&…"
